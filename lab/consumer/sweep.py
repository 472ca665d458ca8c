"""Consumer sweeps: several fetch benchmarks, one variant each, side by side.

- ``fetch-matrix``: ``fetch.min.bytes`` x ``fetch.wait.max.ms`` (live mode by default: a producer at a
  fixed rate, so a fetch that waits for bytes shows up as end-to-end latency and fewer requests);
- ``partition-fetch``: ``max.partition.fetch.bytes`` (bites per partition per fetch);
- ``profiles``: the course's low-latency and high-throughput profiles.

With ``members`` (backlog sweeps), every variant runs once per member count, e.g. ``(1, None)``: one
in-process consumer, then one process per core. Side by side they show where one Python consumer was the
limit (the variants read alike at 1, and faster at N) and where the fetch settings start to matter.

Each variant is ``lab.consumer.fetch.bench`` with the base's settings and the variant's knobs. A cancel returns
the runs that finished (and the one cut short).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from lab.cluster.base import Cluster
from lab.consumer.fetch import BenchProgress, BenchResult, BenchSettings, bench, time_limit_for
from lab.consumer.settings import PROFILES, ConsumerSettings
from lab.core.context import ChildContext, RunContext
from lab.core.results import Result
from lab.core.validate import require

KINDS = ("fetch-matrix", "partition-fetch", "profiles")
MATRIX_MIN_BYTES = (1, 10_240, 102_400)
MATRIX_WAIT_MS = (10, 100, 500)
PARTITION_FETCH_BYTES = (16_384, 131_072, 1_048_576, 4_194_304)
#: live sweeps: each variant runs this long at this rate unless the base says otherwise
DEFAULT_VARIANT_S = 4.0
DEFAULT_RATE = 500


def _default_base() -> BenchSettings:
    return BenchSettings(ConsumerSettings(duration_s=DEFAULT_VARIANT_S), produce_rate=DEFAULT_RATE)


@dataclass(frozen=True)
class ConsumerSweepSettings:
    kind: str = "fetch-matrix"
    base: BenchSettings = field(default_factory=_default_base)
    #: run every variant with each of these member counts (None: one per core); empty: the base's own
    members: tuple[int | None, ...] = ()

    def __post_init__(self) -> None:
        require(self.kind in KINDS, f"Sweep kind {self.kind!r} is not known.", f"Use one of: {', '.join(KINDS)}.")
        require(isinstance(self.base, BenchSettings), "The sweep needs BenchSettings as its base.",
                "Build it with BenchSettings(...).")
        require(isinstance(self.members, tuple) and len(set(self.members)) == len(self.members) <= 4,
                f"members={self.members!r} is not a list of up to 4 different member counts.",
                "Give each count once, e.g. (1, None): one in-process consumer, then one process per core.")
        for m in self.members:
            dataclasses.replace(self.base, members=m)  # refused as the benchmark refuses it

    def variants(self) -> list[BenchSettings]:
        c = self.base.consumer
        if self.kind == "fetch-matrix":
            cs = [c.replace(fetch_min_bytes=b, fetch_wait_max_ms=w, label=f"min={b:,}B wait={w}ms")
                  for b in MATRIX_MIN_BYTES for w in MATRIX_WAIT_MS]
        elif self.kind == "partition-fetch":
            cs = [c.replace(max_partition_fetch_bytes=b, label=f"max.partition.fetch.bytes={b:,}")
                  for b in PARTITION_FETCH_BYTES]
        else:
            cs = [c.replace(fetch_min_bytes=p.fetch_min_bytes, fetch_wait_max_ms=p.fetch_wait_max_ms,
                            max_partition_fetch_bytes=p.max_partition_fetch_bytes, label=name)
                  for name, p in PROFILES.items()]
        b = self.base
        if not self.members:
            return [BenchSettings(x, b.produce_rate, b.message_bytes, b.partitions, b.members) for x in cs]
        return [BenchSettings(x.replace(label=f"{x.name} · {_processes(m)}"), b.produce_rate, b.message_bytes,
                              b.partitions, m) for m in self.members for x in cs]


def _processes(members: int | None) -> str:
    return "one process per core" if members is None else f"{members} process{'es' if members > 1 else ''}"


@dataclass(frozen=True)
class ConsumerSweepProgress:
    settings: ConsumerSweepSettings
    finished: tuple[BenchResult, ...]
    current: BenchProgress | None


@dataclass(frozen=True)
class ConsumerSweepResult(Result):
    settings: ConsumerSweepSettings
    runs: tuple[BenchResult, ...]
    planned: int

    def rows(self) -> list[dict[str, object]]:
        return [r.row() for r in self.runs]


class _Part(ChildContext):
    def __init__(self, parent: RunContext, index: int, total: int, sweep: ConsumerSweepSettings,
                 done: list[BenchResult]) -> None:
        super().__init__(parent)
        self._i, self._n, self._sweep, self._done = index, total, sweep, done

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        cur = partial if isinstance(partial, BenchProgress) else None
        self.parent.report((self._i + (fraction or 0.0)) / self._n, f"run {self._i + 1}/{self._n}: {message}",
                           ConsumerSweepProgress(self._sweep, tuple(self._done), cur))


def sweep(cluster: Cluster, settings: ConsumerSweepSettings, ctx: RunContext) -> ConsumerSweepResult:
    variants = settings.variants()
    done: list[BenchResult] = []
    for i, v in enumerate(variants):
        if ctx.cancelled:
            break
        done.append(bench(cluster, v, _Part(ctx, i, len(variants), settings, done)))
    return ConsumerSweepResult(settings, tuple(done), len(variants),
                               stopped=ctx.stopped_text() if ctx.cancelled else None)


def sweep_time_limit(settings: ConsumerSweepSettings) -> float:
    return sum(time_limit_for(v) for v in settings.variants())


__all__ = ["KINDS", "ConsumerSweepProgress", "ConsumerSweepResult", "ConsumerSweepSettings", "sweep",
           "sweep_time_limit"]
