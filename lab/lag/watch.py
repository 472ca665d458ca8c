"""The lag watch: sample a group's lag about once a second, keep every sample, and judge it.

``watch(cluster, settings, ctx)`` returns a ``LagWatchResult``: the samples (per partition: end offset,
committed offset, lag, owner, time), and per partition the status over the window (``lab.lag.status``)
with its reason in words and the lag in seconds estimated from the end offsets' history. A cancelled
or timed-out watch returns what it sampled. Any group works: the lab's own, or one run by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from lab.cluster.base import Cluster
from lab.core.context import RunContext
from lab.core.errors import KafkaOperationError
from lab.core.results import Result
from lab.lag import sample as lag
from lab.lag import status as lagstatus
from lab.lag.settings import LagWatchSettings
from lab.lag.status import GroupStatus, PartitionStatus, Point, TimeLag


@dataclass(frozen=True)
class PartitionVerdict:
    topic: str
    partition: int
    status: PartitionStatus
    reason: str
    lag: int | None
    time_lag_s: float | None
    #: the committed offset is older than the whole history: the time lag is at least this much
    time_lag_lower_bound: bool = False


@dataclass(frozen=True)
class LagWatchResult(Result):
    settings: LagWatchSettings
    samples: tuple[lag.LagSample, ...]
    verdicts: tuple[PartitionVerdict, ...]
    group_status: GroupStatus
    #: samples that failed (the cluster did not answer in time)
    failed_samples: int = 0

    @property
    def end_offset_name(self) -> str:
        return lag.END_OFFSET_NAME[self.settings.isolation]

    def partitions_frame(self) -> pd.DataFrame:
        """One row per partition per sample: for the lag-over-time chart."""
        rows = [{"t": s.t_s, "partition": f"{p.topic}[{p.partition}]", "end_offset": p.end_offset,
                 "committed": p.committed, "lag": p.lag, "owner": p.owner or "(unassigned)"}
                for s in self.samples for p in s.partitions]
        return pd.DataFrame(rows, columns=["t", "partition", "end_offset", "committed", "lag", "owner"])

    def rates_frame(self) -> pd.DataFrame:
        """Produce rate (end offsets) and commit rate (committed offsets) per second between samples."""
        rows = []
        for a, b in zip(self.samples, self.samples[1:], strict=False):
            dt = b.t_s - a.t_s
            if dt <= 0:
                continue
            produced = sum(p.end_offset for p in b.partitions) - sum(p.end_offset for p in a.partitions)
            done = sum(p.committed or 0 for p in b.partitions) - sum(p.committed or 0 for p in a.partitions)
            rows += [{"t": b.t_s, "series": "produced /s", "rate": produced / dt},
                     {"t": b.t_s, "series": "committed /s", "rate": done / dt}]
        return pd.DataFrame(rows, columns=["t", "series", "rate"])


def judge(settings: LagWatchSettings, samples: tuple[lag.LagSample, ...]) -> tuple[tuple[PartitionVerdict, ...],
                                                                                   GroupStatus]:
    """Status and time lag of every partition of the newest sample, from all samples so far."""
    if not samples:
        return (), GroupStatus.OK
    now = samples[-1].t_s
    out = []
    for p in samples[-1].partitions:
        key = (p.topic, p.partition)
        points = [Point(s.t_s, q.end_offset, q.committed, q.owner) for s in samples for q in s.partitions
                  if (q.topic, q.partition) == key]
        v = lagstatus.evaluate(points, now, samples=settings.window_samples,
                               min_distance_s=settings.min_distance_s, allowed_lag=settings.allowed_lag)
        tl: TimeLag = lagstatus.time_lag([(pt.t_s, pt.end_offset) for pt in points], p.committed, now)
        out.append(PartitionVerdict(p.topic, p.partition, v.status, v.reason, p.lag, tl.seconds, tl.lower_bound))
    verdicts = tuple(out)
    status = lagstatus.group_status([lagstatus.Verdict(v.status, v.reason) for v in verdicts])
    trend = lagstatus.total_trend([(s.t_s, s.total_lag) for s in samples], samples=settings.window_samples,
                                  min_distance_s=settings.min_distance_s)
    if status is GroupStatus.OK and trend is not None:
        status = GroupStatus.WARN
    return verdicts, status


def group_reason(settings: LagWatchSettings, samples: tuple[lag.LagSample, ...],
                 verdicts: tuple[PartitionVerdict, ...]) -> str:
    """The group's status in words: the first partition in trouble, else the total's trend, else why it is OK."""
    bad = next((v for v in verdicts if v.status.value not in ("OK", "NO_COMMIT")), None)
    if bad is not None:
        return f"{bad.topic}[{bad.partition}] {bad.status.value}: {bad.reason}"
    trend = lagstatus.total_trend([(s.t_s, s.total_lag) for s in samples], samples=settings.window_samples,
                                  min_distance_s=settings.min_distance_s)
    if trend is not None:
        return trend.reason
    return verdicts[0].reason if verdicts else "no samples yet"


def watch(cluster: Cluster, settings: LagWatchSettings, ctx: RunContext) -> LagWatchResult:
    """Sample the group every ``interval_s`` for ``duration_s`` (see the module docstring)."""
    adm = cluster.admin()
    t0 = time.monotonic()
    samples: list[lag.LagSample] = []
    failed = 0
    first_error: KafkaOperationError | None = None

    def result(stopped: str | None = None) -> LagWatchResult:
        verdicts, status = judge(settings, tuple(samples))
        return LagWatchResult(settings, tuple(samples), verdicts, status, failed, stopped=stopped)

    next_at = t0
    while time.monotonic() - t0 < settings.duration_s:
        try:
            samples.append(lag.sample(cluster, settings.group, isolation=settings.isolation, admin=adm, t0=t0))
        except KafkaOperationError as exc:
            failed += 1
            first_error = first_error or exc
            if not samples and failed >= 3:
                raise
        elapsed = time.monotonic() - t0
        last = samples[-1] if samples else None
        ctx.report(min(1.0, elapsed / settings.duration_s),
                   f"{settings.group}: total lag {last.total_lag:,} over {len(last.partitions)} partition(s), "
                   f"{last.members} member(s), {last.state}" if last else "waiting for the first sample",
                   result())
        next_at += settings.interval_s
        if ctx.wait(max(0.0, next_at - time.monotonic())):
            return result(ctx.stopped_text())
    return result()
