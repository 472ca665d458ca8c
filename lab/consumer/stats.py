"""librdkafka's statistics for a consumer: fetch requests and the bytes and messages they brought.

Each ``stats_cb`` window (JSON) holds, per broker, the requests sent so far by type (``req.Fetch``) and,
per partition, the bytes and messages received so far (``rxbytes``, ``rxmsgs``): cumulative counters,
so the figures of a stretch of time are the differences between two windows. ``FetchStatsRecorder`` keeps
one point per window on the run's clock; ``summary`` and ``series`` are pure arithmetic on those points.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from lab.core.stats import rate, ratio

#: A window every 250 ms: the fetch-rate line gets four points a second; parsing costs well under 1 %.
CONSUMER_STATS_INTERVAL_MS = 250


@dataclass(frozen=True)
class FetchPoint:
    """Cumulative counters of one statistics window, ``t`` seconds after the run started."""

    t: float
    fetch_requests: int
    rx_bytes: int
    rx_msgs: int


@dataclass(frozen=True)
class FetchStats:
    """Fetch figures over the consuming stretch of a run (from the first window to the last)."""

    fetch_requests: int
    fetch_requests_per_s: float
    #: record bytes received per fetch request (NaN without requests)
    bytes_per_fetch: float
    msgs_per_fetch: float
    windows: int


@dataclass(frozen=True)
class FetchRateSample:
    """Fetch requests per second and bytes per fetch in the window ending ``t``."""

    t: float
    fetch_requests_per_s: float
    bytes_per_fetch: float


def point_of(doc: dict[str, Any], topics: set[str], t: float) -> FetchPoint:
    """The counters of one parsed window for the given topics (the ``-1`` internal partition left out)."""
    fetches = sum(int(b.get("req", {}).get("Fetch", 0)) for b in doc.get("brokers", {}).values())
    rx_bytes = rx_msgs = 0
    for name, tp in doc.get("topics", {}).items():
        if name not in topics:
            continue
        for key, p in tp.get("partitions", {}).items():
            if key != "-1":
                rx_bytes += int(p.get("rxbytes", 0))
                rx_msgs += int(p.get("rxmsgs", 0))
    return FetchPoint(round(t, 3), fetches, rx_bytes, rx_msgs)


def summary(points: list[FetchPoint] | tuple[FetchPoint, ...], active_s: float) -> FetchStats:
    """The last window's totals: requests per second of ``active_s`` (the time the consumer had partitions
    to fetch), bytes and messages per request."""
    if not points:
        nan = float("nan")
        return FetchStats(0, nan, nan, nan, 0)
    last = points[-1]
    req = last.fetch_requests
    return FetchStats(req, rate(req, active_s) if active_s > 0 else float("nan"), ratio(last.rx_bytes, req),
                      ratio(last.rx_msgs, req), len(points))


def series(points: list[FetchPoint] | tuple[FetchPoint, ...]) -> list[FetchRateSample]:
    """One sample per window after the first: the window's requests per second and bytes per request."""
    out = []
    for a, b in zip(points, points[1:], strict=False):
        dt = b.t - a.t
        n = b.fetch_requests - a.fetch_requests
        if dt > 0:
            out.append(FetchRateSample(b.t, n / dt, ratio(b.rx_bytes - a.rx_bytes, n)))
    return out


class FetchStatsRecorder:
    """``on_stats`` is a consumer's ``stats_cb``: one ``FetchPoint`` per window, times from ``t0``."""

    def __init__(self, topics: set[str], t0: float) -> None:
        self.topics = topics
        self.t0 = t0
        self.points: list[FetchPoint] = []

    def on_stats(self, raw: str) -> None:
        self.points.append(point_of(json.loads(raw), self.topics, time.monotonic() - self.t0))


__all__ = ["CONSUMER_STATS_INTERVAL_MS", "FetchPoint", "FetchRateSample", "FetchStats", "FetchStatsRecorder",
           "point_of", "series", "summary"]
