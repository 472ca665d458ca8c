"""Pure maths for measurements: percentiles, latency summaries and rates. No Kafka, no clocks.

Percentiles use the nearest-rank definition (the value at rank ceil(q * n) of the sorted sample), the
one Kafka's own ProducerPerformance uses, so the lab's p99 and the perf tool's p99 mean the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: The percentiles every latency summary reports (fractions of 1).
SUMMARY_QUANTILES = (0.5, 0.95, 0.99, 0.999)


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """Nearest-rank percentile of ``values`` for ``q`` in [0, 1]; NaN for an empty sample."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q!r} is outside 0..1")
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return math.nan
    return float(np.percentile(arr, q * 100.0, method="inverted_cdf"))


def percentiles(values: Sequence[float] | np.ndarray, qs: Iterable[float]) -> list[float]:
    """Several nearest-rank percentiles with one partial sort (selection, not a full sort: this runs
    inside a produce run every sampling interval)."""
    arr = np.asarray(values, dtype=float)
    qs = list(qs)
    for q in qs:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q!r} is outside 0..1")
    if arr.size == 0:
        return [math.nan for _ in qs]
    ranks = sorted({max(0, math.ceil(q * arr.size) - 1) for q in qs})
    part = np.partition(arr, ranks)
    return [float(part[max(0, math.ceil(q * arr.size) - 1)]) for q in qs]


@dataclass(frozen=True)
class LatencySummary:
    """Latency of ``count`` messages, in milliseconds."""

    count: int
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @classmethod
    def of_seconds(cls, values: Sequence[float] | np.ndarray) -> LatencySummary:
        """Summarise latencies given in seconds (what ``Message.latency()`` returns)."""
        arr = np.asarray(values, dtype=float) * 1000.0
        if arr.size == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
        p50, p95, p99, p999 = percentiles(arr, SUMMARY_QUANTILES)
        return cls(int(arr.size), float(arr.mean()), p50, p95, p99, p999, float(arr.max()))


def rate(amount: float, seconds: float) -> float:
    """``amount`` per second; 0 when no time passed (a run that did nothing has no rate)."""
    return amount / seconds if seconds > 0 else 0.0


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is 0 (a ratio against nothing is undefined, not infinite)."""
    return a / b if b else math.nan


def mb(nbytes: float) -> float:
    """Bytes -> MB (10^6, as Kafka's perf tool prints MB/sec)."""
    return nbytes / 1_000_000.0
