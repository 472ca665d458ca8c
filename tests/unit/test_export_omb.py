"""OMB exports: every field OpenMessaging Benchmark's chart script reads, in OMB's names and units, with a
value per interval wherever the script takes a maximum; zeros only where the run has none, and said so.

The list of what the script reads is written here from reading openmessaging/benchmark's
``bin/create_charts.py`` (commit 85599891) and ``TestResult.java``; with an OMB checkout
(``KAFKA_LAB_OMB_DIR``) the last test runs that script itself on lab exports."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from sample_runs import monitor, produce

from lab.core.errors import LabError
from lab.core.stats import LatencySummary
from lab.export import omb
from lab.producer.sweep import SweepResult, SweepSettings
from tests.omb_charts import CHARTS_PER_WORKLOAD, draw

#: create_charts.py: the time series it draws (x = 10·index) and takes max() of, all documents together
SCRIPT_SERIES = ("publishLatency99pct", "publishDelayLatency99pct", "publishRate", "publishErrorRate",
                 "endToEndLatency95pct", "consumeRate", "endToEndLatencyAvg")
#: ... the aggregated quantile maps it draws (percentile -> latency, keys parsed with float())
SCRIPT_QUANTILES = ("aggregatedPublishLatencyQuantiles", "aggregatedPublishDelayLatencyQuantiles",
                    "aggregatedEndToEndLatencyQuantiles")
#: ... and the strings it groups and labels by
SCRIPT_LABELS = ("workload", "driver")


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def assert_chartable(doc: dict[str, Any]) -> None:
    """What the chart script needs of one document, checked key by key."""
    json.dumps(doc, allow_nan=False)
    for key in SCRIPT_LABELS:
        assert isinstance(doc[key], str) and doc[key], key
    n = len(doc["publishRate"])
    assert n > 0
    for key in SCRIPT_SERIES:
        series = doc[key]
        assert isinstance(series, list) and len(series) == n, (key, series)
        assert all(is_number(v) for v in series), (key, series)
        max(series)
    for key in SCRIPT_QUANTILES:
        quantiles = doc[key]
        assert isinstance(quantiles, dict), key
        assert all(0 < float(q) <= 100 and is_number(v) for q, v in quantiles.items()), (key, quantiles)
    assert isinstance(doc["labNotes"], list) and len(doc["labIntervalEndS"]) == n


def test_the_lab_names_what_the_script_reads() -> None:
    assert set(omb.CHART_KEYS) == {*SCRIPT_LABELS, *SCRIPT_SERIES, *SCRIPT_QUANTILES}


def test_every_kind_of_produce_run_is_chartable() -> None:
    for r in (produce("r1", paced=True, e2e=True), produce("r2", paced=True), produce("r3", e2e=True),
              produce("r4"), produce("r5", n=1)):
        assert_chartable(omb.omb_json(r))


def test_fixed_rate_end_to_end_names_and_units() -> None:
    r = produce("r1", n=3, paced=True, e2e=True)
    doc = omb.omb_json(r)
    assert doc["workload"] == r.settings.name and doc["driver"] == "Kafka"
    assert (doc["messageSize"], doc["topics"], doc["partitions"], doc["producersPerTopic"],
            doc["consumersPerTopic"]) == (100, 1, 3, 1, 1)
    assert doc["publishRate"] == [1000.0, 1001.0, 1002.0]  # msg/s per interval
    assert doc["publishLatency50pct"] == [4.0, 5.0, 6.0] and doc["publishLatency99pct"] == [10.0, 11.0, 12.0]  # ms
    assert doc["publishErrorRate"] == [0.0, 2.0, 0.0]  # 1 error in the 0.5 s interval -> 2 errors/s
    assert (doc["aggregatedPublishLatencyAvg"], doc["aggregatedPublishLatency50pct"],
            doc["aggregatedPublishLatency95pct"], doc["aggregatedPublishLatency99pct"],
            doc["aggregatedPublishLatency999pct"], doc["aggregatedPublishLatencyMax"]) == (5.0, 4.0, 9.0, 12.5, 20.0,
                                                                                           31.0)
    assert doc["aggregatedPublishLatencyQuantiles"] == {"50.0": 4.0, "95.0": 9.0, "99.0": 12.5, "99.9": 20.0,
                                                        "100.0": 31.0}
    # publish delay in whole microseconds, as OMB writes it (Long)
    assert doc["publishDelayLatency50pct"] == [100, 1100, 2100] and doc["publishDelayLatency99pct"] == [500, 1500, 2500]
    assert all(type(v) is int for v in doc["publishDelayLatency99pct"])
    assert (doc["aggregatedPublishDelayLatencyAvg"], doc["aggregatedPublishDelayLatency99pct"],
            doc["aggregatedPublishDelayLatencyMax"]) == (300, 2250, 9000)
    assert doc["aggregatedPublishDelayLatencyQuantiles"]["99.0"] == 2250
    # end to end: the consumer read 490 messages per 0.5 s interval
    assert doc["consumeRate"] == [980.0, 980.0, 980.0] and doc["backlog"] == [10, 20, 30]
    assert doc["endToEndLatencyAvg"] == [8.0, 9.0, 10.0] and doc["endToEndLatency95pct"] == [20.0, 21.0, 22.0]
    assert doc["endToEndLatency50pct"] == [7.0, 8.0, 9.0] and doc["endToEndLatency99pct"] == [30.0, 31.0, 32.0]
    assert doc["aggregatedEndToEndLatency99pct"] == 15.0 and doc["aggregatedEndToEndLatencyMax"] == 40.0
    assert doc["aggregatedEndToEndLatencyQuantiles"]["95.0"] == 11.0
    assert doc["labIntervalEndS"] == [0.5, 1.0, 1.5]
    # the lab keeps no p75/p99.99 and no per-interval avg/max of publish latency: omitted, never invented
    for name in ("publishLatency75pct", "publishLatencyAvg", "publishLatencyMax", "aggregatedPublishLatency75pct",
                 "aggregatedPublishLatency9999pct", "publishDelayLatencyAvg", "endToEndLatency9999pct"):
        assert name not in doc


def test_zeros_only_where_the_run_has_none_and_said_so() -> None:
    doc = omb.omb_json(produce("r1", n=3))  # as fast as possible, no consumer
    assert doc["consumersPerTopic"] == 0
    assert doc["publishDelayLatency99pct"] == [0, 0, 0] and doc["aggregatedPublishDelayLatencyQuantiles"] == {}
    assert doc["consumeRate"] == doc["endToEndLatencyAvg"] == doc["endToEndLatency95pct"] == [0.0, 0.0, 0.0]
    assert "backlog" not in doc and not any(k.startswith("aggregatedEndToEndLatency") and k[-1] != "s" for k in doc)
    notes = " ".join(doc["labNotes"])
    assert "no schedule to be late against" in notes and "no end-to-end consumer" in notes
    assert omb.omb_json(produce("r2", paced=True, e2e=True))["publishDelayLatency99pct"] != [0, 0, 0, 0]


def test_an_interval_without_an_acknowledgement() -> None:
    import dataclasses

    r = produce("r1", n=3)
    quiet = dataclasses.replace(r.samples[1], acked=0, msgs_per_s=0.0, p50_ms=math.nan, p99_ms=math.nan)
    doc = omb.omb_json(dataclasses.replace(r, samples=(r.samples[0], quiet, r.samples[2])))
    assert doc["publishLatency99pct"] == [10.0, 0.0, 12.0]
    assert any("1 of 3 interval(s) had no acknowledgement" in n for n in doc["labNotes"])


def test_a_run_stored_before_send_delays_were_recorded() -> None:
    import dataclasses

    r = produce("r1", n=2, paced=True)
    old = dataclasses.replace(r, publish_delay=None, samples=tuple(
        dataclasses.replace(x, delay_p50_ms=math.nan, delay_p99_ms=math.nan) for x in r.samples))
    doc = omb.omb_json(old)
    assert_chartable(doc)
    assert doc["publishDelayLatency99pct"] == [0, 0] and any("Stored before" in n for n in doc["labNotes"])


def test_refusals() -> None:
    with pytest.raises(LabError, match="produce run"):
        omb.omb_json(monitor())  # type: ignore[arg-type]
    import dataclasses

    with pytest.raises(LabError, match="no interval samples"):
        omb.omb_json(dataclasses.replace(produce("r1"), samples=(), latency=LatencySummary.of_seconds([])))


def test_a_sweep_gives_one_chartable_document_per_point() -> None:
    a, b = produce("r-a", linger_ms=0), produce("r-b", linger_ms=20)
    f = produce("r-f", paced=True)
    docs = omb.omb_documents(SweepResult(SweepSettings("batch", a.settings), (a, b), 2, 4.0, fixed=(f,)))
    assert len(docs) == 3 and [n.startswith("fixed-") for n in docs] == [False, False, True]
    for doc in docs.values():
        assert_chartable(doc)


def test_omb_chart_script_draws_lab_exports(tmp_path: Path) -> None:
    """OMB's own bin/create_charts.py (skipped without a checkout) draws every chart of a lab export."""
    r = produce("r1", n=6, paced=True, e2e=True)
    docs = {"fixed-rate-e2e": omb.omb_json(r)}
    svgs = draw(docs, tmp_path)
    assert len(svgs) == CHARTS_PER_WORKLOAD, [p.name for p in svgs]
    assert all(p.stat().st_size > 1000 for p in svgs)
