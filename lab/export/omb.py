"""Producer runs as OpenMessaging Benchmark result documents (``TestResult`` of openmessaging/benchmark), so
a lab run can be drawn by OMB's ``bin/create_charts.py`` and set beside OMB's published figures.

Field names and units are OMB's: rates in messages/s per interval, publish and end-to-end latencies in
milliseconds, publish *delay* (how late a message was sent against its schedule) in whole microseconds,
aggregated quantile maps keyed by percentile (``"99.0"``). What the lab does not measure is left out: per
interval it keeps p50/p99 of send->ack and of the send delay, and avg/p50/p95/p99 end to end, so OMB's
other per-interval percentiles (avg, 75, 95, 99.9, 99.99, max of publish latency …) and the aggregated
75pct/9999pct are not written; the quantile maps hold the lab's p50, p95, p99, p99.9 and max (as 100.0).

OMB's chart script draws ten series per document and takes the maximum of each time series, so those are
always written with one value per interval. Where the run has none of them (no target rate: no schedule
to be late against; no end-to-end consumer: nothing consumed; an interval without an acknowledgement) the
value is 0, as OMB writes an empty interval, and ``labNotes`` says which. The lab's intervals are 0.1 s
for the first 2 s, then 0.5 s (OMB's are 10 s; its script labels point i as 10·i s): ``labIntervalEndS``
gives their real end times. They include the warm-up, which the aggregated figures leave out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from lab.core.errors import LabError
from lab.core.stats import LatencySummary
from lab.producer.run import IntervalSample, ProduceResult
from lab.producer.sweep import SweepResult

#: OMB's ``driver`` field: the system under test.
DRIVER = "Kafka"
#: LatencySummary field -> OMB's suffix (its percentile names), in OMB's order.
SUFFIXES = (("avg_ms", "Avg"), ("p50_ms", "50pct"), ("p95_ms", "95pct"), ("p99_ms", "99pct"),
            ("p999_ms", "999pct"), ("max_ms", "Max"))
#: LatencySummary field -> the percentile OMB's quantile maps use as key (its script leaves out 100).
QUANTILES = (("p50_ms", 50.0), ("p95_ms", 95.0), ("p99_ms", 99.0), ("p999_ms", 99.9), ("max_ms", 100.0))
#: What OMB's ``bin/create_charts.py`` reads of every document (the time series it takes max() of, then the
#: quantile maps). Our tests check an export against this list; the script itself is not part of the lab.
CHART_SERIES = ("publishLatency99pct", "publishDelayLatency99pct", "publishRate", "publishErrorRate",
                "endToEndLatency95pct", "consumeRate", "endToEndLatencyAvg")
CHART_QUANTILES = ("aggregatedPublishLatencyQuantiles", "aggregatedPublishDelayLatencyQuantiles",
                   "aggregatedEndToEndLatencyQuantiles")
CHART_KEYS = ("workload", "driver", *CHART_SERIES, *CHART_QUANTILES)
#: ms -> OMB's publish-delay unit (microseconds, whole).
US_PER_MS = 1000.0


def _num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _or_zero(value: float | None) -> float:
    """An interval's figure, 0 where it has none (as OMB writes an empty interval's histogram)."""
    v = _num(value)
    return 0.0 if v is None else v


def _us(ms: float | None) -> int:
    return round(_or_zero(ms) * US_PER_MS)


def _aggregated(doc: dict[str, Any], prefix: str, lat: LatencySummary | None,
                unit: Callable[[float], float | int] = float) -> None:
    """OMB's aggregated figures for one latency summary, and its quantile map (empty if nothing measured)."""
    measured = lat is not None and lat.count > 0
    if lat is not None and measured:
        for field, suffix in SUFFIXES:
            value = _num(getattr(lat, field))
            if value is not None:
                doc[f"aggregated{prefix}{suffix}"] = unit(value)
    doc[f"aggregated{prefix}Quantiles"] = {} if lat is None or not measured else {
        str(q): unit(v) for field, q in QUANTILES if (v := _num(getattr(lat, field))) is not None}


def _series(samples: Sequence[IntervalSample], pick: Callable[[IntervalSample], float | None]) -> list[float]:
    return [_or_zero(pick(x)) for x in samples]


def _publish(doc: dict[str, Any], samples: Sequence[IntervalSample], notes: list[str]) -> None:
    doc["publishRate"] = [float(x.msgs_per_s) for x in samples]
    starts = [0.0, *(x.t_s for x in samples[:-1])]
    doc["publishErrorRate"] = [x.errors / (x.t_s - t0) if x.t_s > t0 else 0.0
                               for x, t0 in zip(samples, starts, strict=True)]
    doc["publishLatency50pct"] = _series(samples, lambda x: x.p50_ms)
    doc["publishLatency99pct"] = _series(samples, lambda x: x.p99_ms)
    empty = sum(1 for x in samples if _num(x.p99_ms) is None)
    if empty:
        notes.append(f"{empty} of {len(samples)} interval(s) had no acknowledgement: their publish latencies "
                     "are 0, as OMB writes an empty interval.")


def _delay(doc: dict[str, Any], r: ProduceResult, notes: list[str]) -> None:
    samples = r.samples
    if r.settings.rate is None:
        doc["publishDelayLatency50pct"], doc["publishDelayLatency99pct"] = [0] * len(samples), [0] * len(samples)
        doc["aggregatedPublishDelayLatencyQuantiles"] = {}
        notes.append("No target rate: every message was sent as soon as the producer took it, so there is no "
                     "schedule to be late against; publishDelayLatency* are 0. Run with a rate to measure it.")
        return
    if r.publish_delay is None:
        notes.append("Stored before the lab recorded send delays: publishDelayLatency* are 0 (not measured).")
    doc["publishDelayLatency50pct"] = [_us(x.delay_p50_ms) for x in samples]
    doc["publishDelayLatency99pct"] = [_us(x.delay_p99_ms) for x in samples]
    _aggregated(doc, "PublishDelayLatency", r.publish_delay, unit=lambda ms: round(ms * US_PER_MS))


def _consume(doc: dict[str, Any], r: ProduceResult, notes: list[str]) -> None:
    samples, n = r.samples, len(r.samples)
    measured = r.settings.end_to_end and any(x.consumed is not None for x in samples)
    if not measured:
        for key in ("consumeRate", "endToEndLatencyAvg", "endToEndLatency95pct"):
            doc[key] = [0.0] * n
        _aggregated(doc, "EndToEndLatency", r.e2e_latency)
        notes.append("No per-interval consumer figures: consumeRate and endToEndLatency* per interval are 0 ("
                     + ("the run had no end-to-end consumer; run with end_to_end to measure them)."
                        if not r.settings.end_to_end else "stored before the lab recorded them)."))
        return
    starts = [0.0, *(x.t_s for x in samples[:-1])]
    doc["consumeRate"] = [(x.consumed or 0) / (x.t_s - t0) if x.t_s > t0 else 0.0
                          for x, t0 in zip(samples, starts, strict=True)]
    doc["endToEndLatencyAvg"] = _series(samples, lambda x: x.e2e_avg_ms)
    doc["endToEndLatency50pct"] = _series(samples, lambda x: x.e2e_p50_ms)
    doc["endToEndLatency95pct"] = _series(samples, lambda x: x.e2e_p95_ms)
    doc["endToEndLatency99pct"] = _series(samples, lambda x: x.e2e_p99_ms)
    acked = consumed = 0
    backlog = []
    for x in samples:
        acked, consumed = acked + x.acked, consumed + (x.consumed or 0)
        backlog.append(max(0, acked - consumed))
    doc["backlog"] = backlog
    idle = sum(1 for x in samples if not x.consumed)
    if idle:
        notes.append(f"In {idle} of {n} interval(s) the consumer read none of the run's messages: their "
                     "end-to-end latencies are 0, as OMB writes an empty interval.")
    _aggregated(doc, "EndToEndLatency", r.e2e_latency)
    late = (r.e2e_latency.count if r.e2e_latency else 0) - consumed
    if late > 0:
        notes.append(f"{late:,} message(s) were consumed after the last interval: they are in the aggregated "
                     "end-to-end figures only.")


def omb_json(result: ProduceResult) -> dict[str, Any]:
    """One produce run as an OMB ``TestResult`` document (a JSON-ready dict; see the module docstring)."""
    if not isinstance(result, ProduceResult):
        raise LabError(f"An OMB document is made from a produce run, not a {type(result).__name__}.",
                       hint="Export producer runs or sweeps as omb; other runs as json or html.")
    if not result.samples:
        raise LabError("This produce run has no interval samples: OMB's charts need at least one interval.",
                       hint="Export it as json or html instead.")
    s = result.settings
    notes: list[str] = []
    doc: dict[str, Any] = {
        "workload": s.name,
        "driver": DRIVER,
        "messageSize": s.message_size,
        "topics": 1,
        "partitions": s.partitions,
        "producersPerTopic": 1,
        "consumersPerTopic": 1 if s.end_to_end else 0,
    }
    _publish(doc, result.samples, notes)
    _aggregated(doc, "PublishLatency", result.latency)
    _delay(doc, result, notes)
    _consume(doc, result, notes)
    notes.append("Intervals are the lab's (0.1 s for the first 2 s, then 0.5 s; OMB's are 10 s): "
                 "labIntervalEndS has their end times. They include the warm-up; the aggregated figures do not.")
    if result.stopped:
        notes.append(f"The run stopped early: {result.stopped}")
    doc["labIntervalEndS"] = [float(x.t_s) for x in result.samples]
    doc["labNotes"] = notes
    return doc


def omb_documents(result: Any) -> dict[str, dict[str, Any]]:
    """Name -> OMB document: one for a produce run, one per point of a sweep (its fixed-rate points too)."""
    if isinstance(result, SweepResult):
        docs: dict[str, dict[str, Any]] = {}
        for i, r in enumerate(result.runs):
            if r.samples:
                docs[f"{i + 1:02d}-{r.settings.name}"] = omb_json(r)
        for i, r in enumerate(result.fixed):
            if r.samples:
                docs[f"fixed-{i + 1:02d}-{r.settings.name}"] = omb_json(r)
        if not docs:
            raise LabError("The sweep has no finished point to export.", hint="Export it as json instead.")
        return docs
    return {result.settings.name if isinstance(result, ProduceResult) else "run": omb_json(result)}
