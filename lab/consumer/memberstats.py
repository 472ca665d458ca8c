"""Pure arithmetic of an N-process consumer run (``lab.consumer.members``): which partitions each member
reads, how many messages each reads, and the members' reports merged onto the run's one time axis.

Every member measures on the run's clock (``time.monotonic`` is the machine's, shared by its processes), so
their samples and statistics windows are already on one axis; merging puts them into common bins.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.consumer.loop import SAMPLE_S, ConsumeSample
from lab.consumer.stats import CONSUMER_STATS_INTERVAL_MS, FetchPoint, FetchStats
from lab.core.errors import SettingsError
from lab.core.stats import rate, ratio

#: At most this many member processes, whatever the topic (each is a Python process and a librdkafka client).
MAX_MEMBERS = 64


@dataclass(frozen=True)
class MemberResult:
    """One member process of an N-process run: what it read, when, with how many fetches and how much CPU."""

    index: int
    partitions: tuple[int, ...]
    consumed: int
    bytes: int
    #: its share of the run's target (the messages of its partitions, or its part of the count)
    expected: int
    #: seconds from the run's start to its first message (NaN: none), and from its first to its last
    first_message_s: float
    consume_s: float
    msgs_per_s: float
    mb_per_s: float
    fetch: FetchStats
    samples: tuple[ConsumeSample, ...]
    #: CPU seconds of the member process (all its threads, librdkafka's included) while it consumed
    cpu_s: float
    errors: dict[str, int] = field(default_factory=dict)
    #: why it ended without reporting (its exit code, or its error); "" when it reported
    died: str = ""
    pid: int = 0
    #: seconds its threads were ready to run but waited for a core while it consumed (Linux's schedstat; NaN
    #: elsewhere): high when the machine's CPU, not the member, ran out
    cpu_wait_s: float = float("nan")

    @property
    def cpu_per_s(self) -> float:
        """CPU seconds per wall second of consuming: about 1.0 means the member's Python loop was the limit."""
        return ratio(self.cpu_s, self.consume_s) if self.consume_s > 0 else float("nan")

    @property
    def cpu_wait_per_s(self) -> float:
        """Seconds waited for a core per wall second of consuming (summed over its threads)."""
        return ratio(self.cpu_wait_s, self.consume_s) if self.consume_s > 0 else float("nan")


def run_queue_wait_s(task_dir: str = "/proc/self/task") -> float:
    """Seconds this process's threads have waited on a run queue for a core, from each thread's
    ``schedstat`` (run ns, wait ns, slices); NaN where the kernel does not say (not Linux)."""
    total = 0
    try:
        for tid in os.listdir(task_dir):
            try:
                with open(os.path.join(task_dir, tid, "schedstat")) as f:
                    total += int(f.read().split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue  # a thread that ended meanwhile
    except OSError:
        return float("nan")
    return total / 1e9


def auto_members(partitions: int) -> int:
    """The default: one member per core (``os.cpu_count()``), at most one per partition."""
    return max(1, min(os.cpu_count() or 1, partitions, MAX_MEMBERS))


def resolve_members(members: int | None, partitions: int, topic: str) -> int:
    """The number of members for a topic of ``partitions``: as typed, or refused; None: ``auto_members``."""
    if members is None:
        return auto_members(partitions)
    if members > partitions:
        raise SettingsError(f"members={members} is more than the {partitions} partition(s) of {topic!r}: a member "
                            "without a partition would read nothing.",
                            hint=f"Use a whole number from 1 to {partitions} (or leave it unset: one per core, at "
                                 "most one per partition).")
    return members


def split_partitions(partitions: Sequence[int], members: int) -> list[tuple[int, ...]]:
    """Partitions dealt out in turn: member i gets partitions i, i+n, i+2n, … (sizes differ by at most one)."""
    if not 1 <= members <= len(partitions):
        raise ValueError(f"cannot split {len(partitions)} partitions between {members} members")
    return [tuple(partitions[i::members]) for i in range(members)]


def shares(total: int, sizes: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``sizes`` (largest remainders), each at most its size; sums to
    ``min(total, sum(sizes))``."""
    held = sum(sizes)
    total = min(total, held)
    if held == 0:
        return [0] * len(sizes)
    exact = [total * s / held for s in sizes]
    out = [math.floor(x) for x in exact]
    for i in sorted(range(len(sizes)), key=lambda i: exact[i] - out[i], reverse=True)[:total - sum(out)]:
        out[i] += 1
    return out


def merge_samples(members: Sequence[Sequence[ConsumeSample]], step_s: float = SAMPLE_S) -> tuple[ConsumeSample, ...]:
    """The members' throughput samples summed into bins of ``step_s`` on the run's axis (a sample counts in the
    bin its interval ends in); the messages add up to the members' exactly."""
    msgs: dict[int, int] = {}
    mbs: dict[int, float] = {}
    for samples in members:
        for s in samples:
            k = max(1, math.ceil(round(s.t_s / step_s, 9)))
            msgs[k] = msgs.get(k, 0) + s.msgs
            dt = s.msgs / s.msgs_per_s if s.msgs_per_s > 0 else 0.0
            mbs[k] = mbs.get(k, 0.0) + s.mb_per_s * dt
    return tuple(ConsumeSample(round(k * step_s, 3), msgs[k], msgs[k] / step_s, mbs[k] / step_s) for k in sorted(msgs))


def merge_points(members: Sequence[Sequence[FetchPoint]],
                 step_s: float = CONSUMER_STATS_INTERVAL_MS / 1000) -> tuple[FetchPoint, ...]:
    """The members' cumulative fetch counters summed on a grid of ``step_s``: at each grid time, each member's
    latest window at or before it (a member without one yet counts 0), up to the last window of any member."""
    ends = [p[-1].t for p in members if p]
    if not ends:
        return ()
    out = []
    for k in range(1, math.ceil(round(max(ends) / step_s, 9)) + 1):
        t = round(k * step_s, 3)
        req = rxb = rxm = 0
        for points in members:
            last = next((p for p in reversed(points) if p.t <= t), None)
            if last is not None:
                req, rxb, rxm = req + last.fetch_requests, rxb + last.rx_bytes, rxm + last.rx_msgs
        out.append(FetchPoint(t, req, rxb, rxm))
    return tuple(out)


def merge_fetch(members: Sequence[FetchStats], active_s: float) -> FetchStats:
    """The members' fetch figures as one: requests summed, per second of the run's consuming stretch."""
    req = sum(m.fetch_requests for m in members)
    rx_bytes = sum(m.bytes_per_fetch * m.fetch_requests for m in members if m.fetch_requests)
    rx_msgs = sum(m.msgs_per_fetch * m.fetch_requests for m in members if m.fetch_requests)
    return FetchStats(req, rate(req, active_s) if active_s > 0 else float("nan"), ratio(rx_bytes, req),
                      ratio(rx_msgs, req), max((m.windows for m in members), default=0))


__all__ = ["MAX_MEMBERS", "MemberResult", "auto_members", "merge_fetch", "merge_points", "merge_samples",
           "resolve_members", "run_queue_wait_s", "shares", "split_partitions"]
