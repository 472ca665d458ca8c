"""Hand-made results of real types with known values, for the compare and export tests (no Kafka)."""

from __future__ import annotations

import math

from lab.core.results import ClusterFacts, RunInfo
from lab.core.stats import LatencySummary
from lab.kafka.load import ProduceSample
from lab.kafka.observe import EventKind, PartitionState, ReplicationEvent, Snapshot
from lab.kafka.rdkstats import ClientStats
from lab.kafka.timeline import Step, Timeline
from lab.lag.sample import LagSample, PartitionLag
from lab.lag.settings import LagWatchSettings
from lab.lag.status import GroupStatus
from lab.lag.watch import LagWatchResult
from lab.producer.run import IntervalSample, ProduceResult
from lab.producer.settings import ProducerSettings
from lab.replication.scenarios import MonitorResult
from lab.replication.settings import MonitorSettings

NAN = math.nan
CLUSTER = ClusterFacts("local", "127.0.0.1:9092", "abc", "3.9.2", 3)


def info(run_id: str, experiment: str = "produce") -> RunInfo:
    return RunInfo(run_id, experiment, "2026-12-02T03:01:00.000+00:00", "2026-12-02T03:01:10.000+00:00", CLUSTER,
                   face="test", elapsed_s=10.0)


def produce(run_id: str, linger_ms: float = 5.0, rate: float = 1000.0, n: int = 4, *, e2e: bool = False,
            stopped: str | None = None, paced: bool = False) -> ProduceResult:
    """A produce run whose i-th sample (t = 0.5 (i+1) s) has msgs_per_s = rate + i and p99 = 10 + i ms.

    ``paced``: run at ``rate`` (settings.rate), with send delays p50 = 0.1 + i, p99 = 0.5 + i ms per sample;
    with ``e2e`` the samples also carry what the consumer read (rate / 2 - 10 each, p95 = 20 + i ms)."""
    settings = ProducerSettings(linger_ms=linger_ms, end_to_end=e2e, rate=rate if paced else None)
    lat = LatencySummary(1000, 5.0, 4.0, 9.0, 12.5, 20.0, 31.0)
    extra = [({"delay_p50_ms": 0.1 + i, "delay_p99_ms": 0.5 + i} if paced else {})
             | ({"consumed": int(rate / 2) - 10, "e2e_avg_ms": 8.0 + i, "e2e_p50_ms": 7.0 + i,
                 "e2e_p95_ms": 20.0 + i, "e2e_p99_ms": 30.0 + i} if paced and e2e else {}) for i in range(n)]
    samples = tuple(IntervalSample(0.5 * (i + 1), int(rate / 2), rate + i, (rate + i) / 10_000, 4.0 + i, 10.0 + i,
                                   i % 2, 3, **extra[i]) for i in range(n))
    return ProduceResult(settings, "lab-produce-t", "local", "127.0.0.1:9092", 1000, 1000, 0, 0, 1000, 2.0, rate,
                         rate / 10_000, lat, None, LatencySummary(900, 7.0, 6.0, 11.0, 15.0, 25.0, 40.0) if e2e
                         else None, {}, {}, 0, ClientStats(900.0, 9.0, 111, 120, 60.0, 1.5, 3.0, 0.95, 100_000,
                                                            105_000),
                         samples, stopped=stopped, run=info(run_id), measured_s=1.0,
                         publish_delay=LatencySummary(1000, 0.3, 0.2, 1.5, 2.25, 4.0, 9.0) if paced else None)


def timeline() -> Timeline:
    snaps = tuple(Snapshot(float(t), (PartitionState("t", 0, 1, (1, 2, 3), isr, 0, hw, {1: hw + 1, 2: 5, 3: hw},
                                                     (2,) if t > 1 else ()),))
                  for t, isr, hw in [(0, (1, 2, 3), 5), (1, (1, 2, 3), 5), (2, (1, 3), 40)])
    ev = (ReplicationEvent(2.0, "t", 0, EventKind.ISR_SHRINK, "ISR 1,2,3 -> 1,3", 1, (1, 3), 0),)
    prod = (ProduceSample(0.0, 10, 0), ProduceSample(1.0, 0, 3, {"NOT_ENOUGH_REPLICAS": 3}, 5000.0))
    return Timeline(snaps, ev, prod, (Step(0.5, "pause broker 2"),), "note")


def monitor(run_id: str = "20261202T030000-aaaaaa") -> MonitorResult:
    return MonitorResult(MonitorSettings(), timeline(), 0, run=info(run_id, "replication.monitor"))


def lag_watch(run_id: str = "20261202T030000-bbbbbb", lags: tuple[int, ...] = (0, 50, 120)) -> LagWatchResult:
    """Partition 0's lag goes through ``lags``; partition 1 has no commit."""
    samples = tuple(LagSample(float(i), 1.7e9 + i, "g", "Stable", "classic", 2, "read_uncommitted",
                              (PartitionLag("orders", 0, 1000 + lag, 1000, "m1"),
                               PartitionLag("orders", 1, 500, None, None)))
                    for i, lag in enumerate(lags))
    return LagWatchResult(LagWatchSettings(group="g"), samples, (), GroupStatus.OK, run=info(run_id, "lag.watch"))
