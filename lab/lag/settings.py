"""The lag experiments' settings: typed, self-validating dataclasses (each refusal names the setting, the
bad value and what is allowed), one per experiment."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lab.core.errors import SettingsError
from lab.core.validate import is_choices, is_whole, require
from lab.lag import sample as lag

#: Default sampling interval (seconds): Burrow-like evaluation needs a few samples per window.
SAMPLE_INTERVAL_S = 1.0
MAX_DURATION_S = 24 * 3600.0


@dataclass(frozen=True)
class LagWatchSettings:
    group: str = ""
    duration_s: float = 60.0
    interval_s: float = SAMPLE_INTERVAL_S
    isolation: str = "read_uncommitted"
    #: samples in the evaluation window, and the minimum distance between them (seconds)
    window_samples: int = 10
    min_distance_s: float = 0.0
    #: lag at or below this counts as caught up
    allowed_lag: int = 0

    def __post_init__(self) -> None:
        def need(ok: bool, msg: str, hint: str) -> None:
            if not ok:
                raise SettingsError(msg, hint=hint)
        def number(name: str, kind: type = float) -> None:
            v = getattr(self, name)
            ok = (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                  and (kind is float or v == int(v)))
            need(ok, f"{name} must be a {'whole ' if kind is int else ''}number, not {v!r}.",
                 f"Give {name} as a {'whole ' if kind is int else ''}number.")
        need(isinstance(self.group, str), f"The group must be a name, not {self.group!r}.", "Give a consumer group id.")
        for name in ("duration_s", "interval_s", "min_distance_s"):
            number(name)
        for name in ("window_samples", "allowed_lag"):
            number(name, int)
        need(isinstance(self.isolation, str), f"Isolation level {self.isolation!r} is not known.",
             "Use read_uncommitted or read_committed.")
        need(bool(self.group.strip()), "The group name is empty.",
             "Give a consumer group id; `kafka-lab lag` lists them.")
        need(0 < self.duration_s <= MAX_DURATION_S, f"duration {self.duration_s!r} s is out of range.",
             f"Watch for more than 0 and at most {MAX_DURATION_S:.0f} s.")
        need(0.2 <= self.interval_s <= 60, f"interval {self.interval_s!r} s is out of range.", "Use 0.2 to 60 s.")
        need(self.isolation in lag.ISOLATION_LEVELS, f"Isolation level {self.isolation!r} is not known.",
             "Use read_uncommitted or read_committed.")
        need(2 <= self.window_samples <= 1000, f"window of {self.window_samples!r} samples is out of range.",
             "Use 2 to 1000 samples.")
        need(0 <= self.min_distance_s <= 3600, f"minimum distance {self.min_distance_s!r} s is out of range.",
             "Use 0 to 3600 s (e.g. the group's auto.commit.interval.ms).")
        need(self.allowed_lag >= 0, f"allowed lag {self.allowed_lag!r} is negative.", "Use 0 or more records.")

PHASES = ("slow", "scale-out", "stall", "stop")


@dataclass(frozen=True)
class LagDemoSettings:
    partitions: int = 4
    #: records per second the producer writes
    rate_per_s: int = 200
    #: time each member spends per record (ms): one member handles 1000 / this many records per second
    processing_delay_ms: float = 10.0
    phase_s: float = 12.0
    phases: tuple[str, ...] = PHASES
    #: samples in the status window
    window_samples: int = 5

    def __post_init__(self) -> None:
        require(is_whole(self.partitions) and 1 <= self.partitions <= 12, f"partitions={self.partitions!r} is out "
                "of range.", "Use 1 to 12 (the scale-out phase adds one member per partition).")
        require(is_whole(self.rate_per_s) and 1 <= self.rate_per_s <= 5000, f"rate {self.rate_per_s!r}/s is out of "
                "range.", "Use 1 to 5000 records per second.")
        d = self.processing_delay_ms
        require(isinstance(d, (int, float)) and not isinstance(d, bool) and 0.1 <= d <= 1000,
                f"processing delay {d!r} ms is out of range.", "Use 0.1 to 1000 ms per record.")
        require(isinstance(self.phase_s, (int, float)) and not isinstance(self.phase_s, bool)
                and 6 <= self.phase_s <= 600, f"phase length {self.phase_s!r} s is out of range.", "Use 6 to 600 s.")
        require(is_choices(self.phases, PHASES), f"phases={self.phases!r} is not valid.",
                f"Choose some of, in any order: {', '.join(PHASES)}.")
        object.__setattr__(self, "phases", tuple(self.phases))
        require(is_whole(self.window_samples) and 2 <= self.window_samples <= 60,
                f"window of {self.window_samples!r} samples is out of range.", "Use 2 to 60.")

    @property
    def member_capacity(self) -> float:
        """Records per second one member can process."""
        return 1000.0 / self.processing_delay_ms
#: Seconds at the start of each step left out of its trend (the producer's new rate taking hold).
SETTLE_S = 2.0
MAX_STEPS = 40


@dataclass(frozen=True)
class SustainableRateSettings:
    partitions: int = 4
    members: int = 2
    #: time each member spends per record (ms)
    processing_delay_ms: float = 10.0
    start_rate: int = 50
    step: int = 50
    max_rate: int = 500
    step_s: float = 15.0

    def __post_init__(self) -> None:
        require(is_whole(self.partitions) and 1 <= self.partitions <= 12, f"partitions={self.partitions!r} is out "
                "of range.", "Use 1 to 12.")
        require(is_whole(self.members) and 1 <= self.members <= self.partitions, f"members={self.members!r} is out "
                "of range.", f"Use 1 to {self.partitions} (more members than partitions would sit idle).")
        d = self.processing_delay_ms
        require(isinstance(d, (int, float)) and not isinstance(d, bool) and 0.1 <= d <= 1000,
                f"processing delay {d!r} ms is out of range.", "Use 0.1 to 1000 ms per record.")
        for name in ("start_rate", "step", "max_rate"):
            v = getattr(self, name)
            require(is_whole(v) and 1 <= v <= 5000, f"{name}={v!r} is out of range.", "Use 1 to 5000 records/s.")
        require(self.max_rate >= self.start_rate, f"max_rate {self.max_rate} is below start_rate {self.start_rate}.",
                "Give a max_rate at or above the start rate.")
        require(isinstance(self.step_s, (int, float)) and not isinstance(self.step_s, bool)
                and 8 <= self.step_s <= 300, f"step length {self.step_s!r} s is out of range.",
                f"Use 8 to 300 s (the first {SETTLE_S:g} s of each step are left out of its trend).")
        require(len(self.rates()) <= MAX_STEPS, f"The search plans {len(self.rates())} steps; at most {MAX_STEPS}.",
                "Use a larger step or a smaller range.")

    def rates(self) -> list[int]:
        return list(range(self.start_rate, self.max_rate + 1, self.step))

    @property
    def capacity(self) -> float:
        """What the members can process together, records/s (if the partitions spread evenly over them)."""
        return self.members * 1000.0 / self.processing_delay_ms
