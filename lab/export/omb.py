"""Producer runs as OpenMessaging Benchmark result documents (``TestResult`` of openmessaging/benchmark), so
a lab run can be read by OMB's tooling and set beside OMB's published figures.

Field names and units are OMB's: rates in messages/s per interval, publish and end-to-end latencies in
milliseconds, publish *delay* latencies in microseconds. Only what the lab measured is written: per
interval the lab keeps p50 and p99 send->ack latency (not p75/p95/p99.9/max), so the other per-interval
lists are left out; ``backlog`` and ``consumeRate`` are not measured per interval and are left out; OMB's
``publishDelayLatency`` (how late a message was *sent* against its schedule) is not what the lab's
intended->ack latency is, so it is left out too. An interval without an acknowledgement has ``null``
latency. The lab's intervals are 0.1 s for the first 2 s, then 0.5 s (OMB's are 10 s), and include the
warm-up, which the aggregated figures leave out.
"""

from __future__ import annotations

import math
from typing import Any

from lab.core.errors import LabError
from lab.core.stats import LatencySummary
from lab.producer.run import ProduceResult
from lab.producer.sweep import SweepResult

#: OMB's ``driver`` field: the system under test.
DRIVER = "Kafka"
#: LatencySummary field -> OMB's suffix (its percentile names), in OMB's order.
SUFFIXES = (("avg_ms", "Avg"), ("p50_ms", "50pct"), ("p95_ms", "95pct"), ("p99_ms", "99pct"),
            ("p999_ms", "999pct"), ("max_ms", "Max"))
#: LatencySummary field -> the percentile OMB's quantile maps use as key.
QUANTILES = (("p50_ms", 50.0), ("p95_ms", 95.0), ("p99_ms", 99.0), ("p999_ms", 99.9), ("max_ms", 100.0))


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _aggregated(doc: dict[str, Any], prefix: str, lat: LatencySummary | None) -> None:
    """OMB's aggregated figures for one latency summary (ms), and its quantile map; nothing if none measured."""
    if lat is None or lat.count == 0:
        return
    for field, suffix in SUFFIXES:
        value = _num(getattr(lat, field))
        if value is not None:
            doc[f"aggregated{prefix}{suffix}"] = value
    doc[f"aggregated{prefix}Quantiles"] = {str(q): v for field, q in QUANTILES
                                           if (v := _num(getattr(lat, field))) is not None}


def omb_json(result: ProduceResult) -> dict[str, Any]:
    """One produce run as an OMB ``TestResult`` document (a JSON-ready dict; see the module docstring)."""
    if not isinstance(result, ProduceResult):
        raise LabError(f"An OMB document is made from a produce run, not a {type(result).__name__}.",
                       hint="Export producer runs or sweeps as omb; other runs as json or html.")
    s = result.settings
    doc: dict[str, Any] = {
        "workload": s.name,
        "driver": DRIVER,
        "messageSize": s.message_size,
        "topics": 1,
        "partitions": s.partitions,
        "producersPerTopic": 1,
        "consumersPerTopic": 1 if s.end_to_end else 0,
    }
    samples = result.samples
    if samples:
        doc["publishRate"] = [float(x.msgs_per_s) for x in samples]
        starts = [0.0, *(x.t_s for x in samples[:-1])]
        doc["publishErrorRate"] = [x.errors / (x.t_s - t0) if x.t_s > t0 else 0.0
                                   for x, t0 in zip(samples, starts, strict=True)]
        doc["publishLatency50pct"] = [_num(x.p50_ms) for x in samples]
        doc["publishLatency99pct"] = [_num(x.p99_ms) for x in samples]
    _aggregated(doc, "PublishLatency", result.latency)
    _aggregated(doc, "EndToEndLatency", result.e2e_latency)
    return doc


def omb_documents(result: Any) -> dict[str, dict[str, Any]]:
    """Name -> OMB document: one for a produce run, one per point of a sweep (its fixed-rate points too)."""
    if isinstance(result, SweepResult):
        docs: dict[str, dict[str, Any]] = {}
        for i, r in enumerate(result.runs):
            docs[f"{i + 1:02d}-{r.settings.name}"] = omb_json(r)
        for i, r in enumerate(result.fixed):
            docs[f"fixed-{i + 1:02d}-{r.settings.name}"] = omb_json(r)
        if not docs:
            raise LabError("The sweep has no finished point to export.", hint="Export it as json instead.")
        return docs
    return {result.settings.name if isinstance(result, ProduceResult) else "run": omb_json(result)}
