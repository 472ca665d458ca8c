"""The consumer fetch benchmark on the real cluster: every seeded message is consumed exactly once, the
live mode consumes exactly what its producer had acknowledged, and the statistics saw fetch requests."""

from __future__ import annotations

import threading
import uuid

from lab.cluster import LocalCluster
from lab.consumer import fetch as consume
from lab.consumer.fetch import BenchSettings, ConsumerSettings, SeedSettings
from lab.core.context import RunContext
from lab.kafka import topics
from lab.kafka.tools import COMMON_FLAGS_SINCE, version_at_least


def test_backlog_consumed_count_equals_produced(cluster: LocalCluster) -> None:
    topic = f"t-consume-{uuid.uuid4().hex[:8]}"
    try:
        seeded = consume.seed(cluster, SeedSettings(topic, messages=3_000, partitions=3), RunContext(60))
        assert seeded.written == 3_000 and seeded.failed == 0 and seeded.topic_messages == 3_000
        r = consume.bench(cluster, BenchSettings(ConsumerSettings(topic=topic, count=3_000)), RunContext(60))
        assert r.stopped is None, r.stopped
        assert r.consumed == seeded.written == r.expected
        assert r.bytes == 3_000 * 100
        assert r.fetch.fetch_requests > 0 and r.fetch.bytes_per_fetch > 0
        assert sum(s.msgs for s in r.samples) == r.consumed
        part = consume.bench(cluster, BenchSettings(ConsumerSettings(topic=topic, count=1_000)), RunContext(60))
        assert part.consumed >= 1_000 and part.expected == 1_000
    finally:
        topics.delete_topic(cluster, topic)


def test_live_consumes_what_the_producer_acknowledged_with_latency(cluster: LocalCluster) -> None:
    s = BenchSettings(ConsumerSettings(fetch_wait_max_ms=50, duration_s=2.0), produce_rate=200, partitions=2)
    r = consume.bench(cluster, s, RunContext(60))
    assert r.stopped is None, r.stopped
    assert r.expected > 200, "the producer wrote for about 2 s"
    assert r.consumed == r.expected
    assert r.e2e is not None and r.e2e.count == r.consumed
    # CreateTime -> consumed: positive, and within the run (2 s of producing + the drain); on a busy machine
    # the tail includes the followers' lag, since a consumer reads only below the high watermark
    assert 0 <= r.e2e.p50_ms <= r.e2e.max_ms < (2.0 + consume.DRAIN_S) * 1000


def test_cancel_returns_what_was_measured(cluster: LocalCluster) -> None:
    ctx = RunContext(60)
    timer = threading.Timer(4.0, ctx.cancel)
    timer.start()
    try:
        s = BenchSettings(ConsumerSettings(duration_s=30.0), produce_rate=100, partitions=1)
        r = consume.bench(cluster, s, ctx)
    finally:
        timer.cancel()
    assert r.stopped is not None and "cancelled" in r.stopped
    assert 0 < r.consumed < 30 * 100, "what was consumed before the cancel is kept"


def test_cross_check_with_kafkas_consumer_perf_tool_reads_the_same_records(cluster: LocalCluster) -> None:
    from lab.consumer import perftest as consume_perf

    topic = f"t-consume-perf-{uuid.uuid4().hex[:8]}"
    try:
        seeded = consume.seed(cluster, SeedSettings(topic, messages=3_000, partitions=3), RunContext(60))
        assert seeded.topic_messages == 3_000
        s = consume_perf.ConsumerCrossCheckSettings(ConsumerSettings(topic=topic, count=3_000), members=2)
        r = consume_perf.cross_check(cluster, s, RunContext(consume_perf.time_limit_for(s)))
        assert r.stopped is None, r.stopped
        assert r.count == 3_000
        assert r.lab is not None and r.lab.consumed == 3_000 and r.lab.processes == 2
        # ... and with one in-process consumer, beside the tool's one JVM consumer
        assert r.lab_one is not None and r.lab_one.consumed >= 3_000 and r.lab_one.processes == 1
        assert r.one_process_ratio > 0 and any("one JVM consumer" in n for n in r.notes)
        # Kafka's ConsumerPerformance, from the provisioned jars, read the same backlog
        assert r.perf is not None and r.perf.records == 3_000 and r.perf.fetch_records_per_s > 0
        assert r.throughput_ratio > 0 and "ConsumerPerformance" in " ".join(r.command)
        version = cluster.status().kafka_version
        assert version and r.kafka_version == version, "the tool of the cluster's own Kafka ran"
        count_flag = "--num-records" if version_at_least(version, COMMON_FLAGS_SINCE) else "--messages"
        assert r.command[r.command.index(count_flag) + 1] == "3000"
    finally:
        topics.delete_topic(cluster, topic)
