"""Find the sustainable rate: the highest producer rate a consumer group keeps up with, measured.

A group of ``members`` members that each spend ``processing_delay_ms`` per record (so together about
members x 1000 / delay records/s when the partitions spread evenly) reads a fresh topic. A producer
writes at ``start_rate`` until every partition has a committed offset (the group has joined; not judged),
then at ``start_rate``, ``start_rate + step``, … up to ``max_rate``, ``step_s`` seconds each, while the
group's total lag is sampled once a second. A step is *kept up with* unless the lag grows through it: its
least-squares slope after the first ``SETTLE_S`` exceeds ``GROWTH_SHARE`` of the rate **and** it ends
more than ``COMMIT_SLACK`` commit intervals' worth of records above where it started (the members
auto-commit every second, so a healthy group's lag saws up and down by about one second of records).
The run stops at the first step the group falls behind at; the sustainable rate is the step before.

Fresh topic and group per run; the producer and every member are owned and always stopped, the topic
deleted. A cancelled run returns the steps it finished.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.cluster.base import Cluster
from lab.consumer.groups import GroupRunner
from lab.consumer.settings import ConsumerSettings
from lab.core.context import RunContext
from lab.core.results import Result
from lab.kafka import topics
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings
from lab.lag import sample as lag
from lab.lag.settings import SETTLE_S, SustainableRateSettings

if TYPE_CHECKING:
    import pandas as pd

TOPIC_PREFIX = "lab-lag-rate-"
#: Keys the producer cycles through, so records spread evenly over the partitions.
KEYS = 64
#: The members' auto-commit interval (seconds): the lag a healthy group shows saws by this much time.
COMMIT_INTERVAL_S = 1.0
#: A step falls behind when its lag grows faster than this share of its rate …
GROWTH_SHARE = 0.1
#: … and ends more than this many commit intervals' worth of records above where it started.
COMMIT_SLACK = 2.0
#: Longest wait for the group to join and commit on every partition before the steps start.
JOIN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RateStep:
    rate_per_s: int
    start_s: float
    end_s: float
    lag_start: int
    lag_end: int
    #: least-squares slope of the total lag over the step after its first SETTLE_S (records/s; NaN: too few)
    growth_per_s: float
    kept_up: bool


@dataclass(frozen=True)
class SustainableRateResult(Result):
    settings: SustainableRateSettings
    topic: str
    group: str
    steps: tuple[RateStep, ...]
    samples: tuple[lag.LagSample, ...]

    @property
    def sustainable_rate(self) -> int | None:
        """The highest rate kept up with before the first step that fell behind (None: not even the first)."""
        best = None
        for s in self.steps:
            if not s.kept_up:
                break
            best = s.rate_per_s
        return best

    def lag_frame(self) -> pd.DataFrame:
        """t, total_lag: one row per sample."""
        import pandas as pd

        return pd.DataFrame([{"t": x.t_s, "total_lag": x.total_lag} for x in self.samples], columns=["t", "total_lag"])

    def steps_frame(self) -> pd.DataFrame:
        """One row per step: its time span, rate, verdict and a label for the chart."""
        import pandas as pd

        return pd.DataFrame([{"start_s": x.start_s, "end_s": x.end_s, "rate": x.rate_per_s,
                              "growth_per_s": x.growth_per_s, "verdict": "kept up" if x.kept_up else "fell behind",
                              "label": f"{x.rate_per_s:,}/s"} for x in self.steps],
                            columns=["start_s", "end_s", "rate", "growth_per_s", "verdict", "label"])

    @property
    def found_limit(self) -> bool:
        """True when a step fell behind; else the sustainable rate is only a lower bound (max_rate reached)."""
        return any(not s.kept_up for s in self.steps)


def slope(points: Sequence[tuple[float, int]]) -> float:
    """Least-squares slope of (t, lag) points, records/s; NaN for fewer than two distinct times."""
    n = len(points)
    if n < 2:
        return math.nan
    mt = sum(t for t, _ in points) / n
    ml = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return math.nan
    return sum((t - mt) * (v - ml) for t, v in points) / var


def judge_step(points: Sequence[tuple[float, int]], rate: int, start_s: float) -> tuple[float, bool]:
    """(growth records/s, kept up) of one step from its (t, total lag) samples (see the module docstring).

    Pure. With too few samples after the settling time the step counts as kept up only when its lag did not
    end more than the slack above its start."""
    settled = [(t, v) for t, v in points if t >= start_s + SETTLE_S]
    growth = slope(settled)
    if not points:
        return growth, True
    grew = points[-1][1] - points[0][1] > COMMIT_SLACK * COMMIT_INTERVAL_S * rate
    fast = math.isnan(growth) or growth > GROWTH_SHARE * rate
    return growth, not (grew and fast)


def time_limit_for(s: SustainableRateSettings) -> float:
    return JOIN_TIMEOUT_S + s.step_s * len(s.rates()) + 60.0


def find_rate(cluster: Cluster, settings: SustainableRateSettings, ctx: RunContext) -> SustainableRateResult:
    """Step the producer's rate up until the group falls behind (see the module docstring)."""
    s = settings
    topic = topics.fresh_topic(cluster, s.partitions, 3, prefix=TOPIC_PREFIX, purpose="the sustainable-rate search",
                               ctx=ctx)
    group = f"lab-lag-rate-{uuid.uuid4().hex[:8]}"
    search = _Search(cluster, s, topic, group, ctx)
    try:
        search.run()
    finally:
        topics.delete_topics(cluster, [topic])
    return search.result(ctx.stopped_text() if ctx.cancelled else None)


class _Search:
    def __init__(self, cluster: Cluster, s: SustainableRateSettings, topic: str, group: str, ctx: RunContext) -> None:
        self.cluster, self.s, self.topic, self.group, self.ctx = cluster, s, topic, group, ctx
        self.adm = cluster.admin()
        self.samples: list[lag.LagSample] = []
        self.steps: list[RateStep] = []
        self.t0 = time.monotonic()

    def result(self, stopped: str | None = None) -> SustainableRateResult:
        return SustainableRateResult(self.s, self.topic, self.group, tuple(self.steps), tuple(self.samples),
                                     stopped=stopped)

    def run(self) -> None:
        s = self.s
        consumer = ConsumerSettings(topic=self.topic, processing_delay_ms=float(s.processing_delay_ms),
                                    enable_auto_commit=True, auto_commit_interval_ms=int(COMMIT_INTERVAL_S * 1000),
                                    auto_offset_reset="earliest", fetch_wait_max_ms=100)
        with GroupRunner(self.cluster, self.group, [self.topic], consumer, self.ctx, self.t0) as members:
            for i in range(s.members):
                members.add(f"member-{i + 1}")
            with self._producing(s.start_rate):
                joined = self._sample_until(lambda smp: smp.without_commit == 0, JOIN_TIMEOUT_S,
                                            f"waiting for the {s.members} member(s) to join and commit")
            if not joined or self.ctx.cancelled:
                return
            for rate in s.rates():
                step = self._step(rate)
                if step is None:
                    return
                self.steps.append(step)
                if not step.kept_up:
                    return

    def _producing(self, rate: int) -> BackgroundProducer:
        return BackgroundProducer(self.cluster, self.topic, BackgroundProducerSettings(rate, acks="1", keys=KEYS),
                                  self.t0, ctx=self.ctx)

    def _sample(self, message: str) -> lag.LagSample | None:
        try:
            smp = lag.sample(self.cluster, self.group, admin=self.adm, t0=self.t0)
        except Exception:  # noqa: BLE001 - a slow answer costs one sample, not the run
            return None
        self.samples.append(smp)
        done = len(self.steps) / max(1, len(self.s.rates()))
        self.ctx.report(done, f"{message}; total lag {smp.total_lag:,}", self.result())
        return smp

    def _sample_until(self, pred: Callable[[lag.LagSample], bool], timeout_s: float, message: str) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            smp = self._sample(message)
            if smp is not None and pred(smp):
                return True
            if self.ctx.wait(1.0):
                return False
        return False

    def _step(self, rate: int) -> RateStep | None:
        """One step at ``rate``: sample once a second for ``step_s``; None when cancelled part-way."""
        start = time.monotonic() - self.t0
        points: list[tuple[float, int]] = []
        next_at = time.monotonic()
        with self._producing(rate):
            while time.monotonic() - self.t0 - start < self.s.step_s:
                smp = self._sample(f"{rate:,} records/s ({len(self.steps) + 1}/{len(self.s.rates())})")
                if smp is not None:
                    points.append((smp.t_s, smp.total_lag))
                next_at += 1.0
                if self.ctx.wait(max(0.0, next_at - time.monotonic())):
                    return None
        growth, kept = judge_step(points, rate, start)
        return RateStep(rate, round(start, 2), round(time.monotonic() - self.t0, 2),
                        points[0][1] if points else 0, points[-1][1] if points else 0,
                        round(growth, 2) if not math.isnan(growth) else growth, kept)
