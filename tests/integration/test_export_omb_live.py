"""A real fixed-rate, end-to-end produce run exported for OpenMessaging Benchmark: the send delays and the
consumer's intervals are measured, every series OMB's chart script draws has real values, and (with an OMB
checkout in KAFKA_LAB_OMB_DIR) OMB's own bin/create_charts.py draws all its charts from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cluster import LocalCluster
from lab.core import context as experiment
from lab.export import omb
from lab.producer import run as produce
from lab.producer.run import ProduceResult
from lab.producer.settings import ProducerSettings
from tests.omb_charts import CHARTS_PER_WORKLOAD, chart_script, draw

pytestmark = pytest.mark.integration

#: 3 s at 500 msg/s: past the 1 s warm-up, with 0.5 s intervals after the first 2 s.
SETTINGS = ProducerSettings(count=1500, rate=500, end_to_end=True, acks="1")


def fixed_rate_e2e(cluster: LocalCluster) -> ProduceResult:
    return experiment.run_sync(lambda ctx: produce.run(cluster, SETTINGS, ctx), time_limit_s=90)


def test_a_fixed_rate_end_to_end_run_measures_what_omb_charts(cluster: LocalCluster) -> None:
    r = fixed_rate_e2e(cluster)
    assert r.stopped is None and r.delivered == 1500
    delay = r.publish_delay
    assert delay is not None and delay.count == r.latency.count and 0 <= delay.p50_ms <= delay.p99_ms
    # the intended-time latency is the send delay plus the service time, message by message
    assert r.intended_latency is not None and r.intended_latency.max_ms >= delay.max_ms
    consumed = sum(x.consumed or 0 for x in r.samples)
    assert r.e2e_latency is not None and 0 < consumed <= r.e2e_latency.count == 1500
    doc = omb.omb_json(r)
    for key in omb.CHART_SERIES:
        assert len(doc[key]) == len(r.samples) and max(doc[key]) >= 0, key
    assert max(doc["consumeRate"]) > 0 and max(doc["endToEndLatency95pct"]) > 0 and max(doc["publishRate"]) > 0
    assert doc["aggregatedPublishDelayLatencyQuantiles"] and doc["aggregatedEndToEndLatencyQuantiles"]


def test_omb_chart_script_draws_a_real_run(cluster: LocalCluster, tmp_path: Path) -> None:
    chart_script()  # skips before the run when there is no OMB checkout
    svgs = draw({"fixed-rate-e2e": omb.omb_json(fixed_rate_e2e(cluster))}, tmp_path)
    assert len(svgs) == CHARTS_PER_WORKLOAD, [p.name for p in svgs]
