"""The produce experiment and its sweeps on the real session cluster: counts match the topic's offsets
exactly, compression ratios are real, a killed broker ends a run within its bound, cancel stops a run."""

from __future__ import annotations

import time

import pytest

from lab.cluster import LocalCluster
from lab.core import context as experiment
from lab.kafka import topics
from lab.kafka.tools import WARMUP_RECORDS_SINCE, version_at_least
from lab.producer import perftest, sweep
from lab.producer import run as produce
from lab.producer.perftest import CrossCheckSettings
from lab.producer.run import ProduceResult
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepProgress, SweepResult, SweepSettings

pytestmark = pytest.mark.integration


def run_one(cluster: LocalCluster, s: ProducerSettings, **kw: object) -> ProduceResult:
    return experiment.run_sync(lambda ctx: produce.run(cluster, s, ctx, **kw), time_limit_s=90)  # type: ignore[arg-type]


def sane(r: ProduceResult, count: int) -> None:
    assert r.stopped is None, r.stopped
    assert r.sent == r.delivered == count, (r.sent, r.delivered, r.errors)
    assert r.failed == 0 and r.unacknowledged == 0 and not r.errors
    assert r.topic_messages == count, "what was acknowledged is exactly what the topic holds"
    # the summary leaves the warm-up out (issue 8): summary and warm-up together hold every acknowledgement
    assert r.msgs_per_s > 0 and r.latency.count + (r.warmup.delivered if r.warmup else 0) == count
    assert 0 <= r.latency.p50_ms <= r.latency.p99_ms <= r.latency.max_ms
    assert r.stats.batches > 0 and r.stats.avg_msgs_per_batch >= 1


def test_single_run_matches_the_topic_offsets(cluster: LocalCluster) -> None:
    s = ProducerSettings(count=3000, key_spread=7, compression="lz4", linger_ms=5, partitions=3)
    r = run_one(cluster, s, keep_topic=True)
    sane(r, 3000)
    # count again, independently of the run, from the brokers' watermarks
    assert r.primed == 3 and topics.topic_message_count(cluster, r.topic, 3) == 3000 + r.primed
    assert r.samples and sum(x.acked for x in r.samples) == 3000
    ends = [0.0] + [x.t_s for x in r.samples]
    if len(r.samples) > 1:  # no last sliver of an interval (it would draw the flush's acks as a spike)
        assert ends[-1] - ends[-2] >= produce.sample_interval(ends[-2]) / 2
    assert r.stats.requests > 0 and r.stats.broker_rtt_avg_ms > 0
    topics.delete_topic(cluster, r.topic)


def test_a_run_deletes_its_topic(cluster: LocalCluster) -> None:
    r = run_one(cluster, ProducerSettings(count=100))
    sane(r, 100)
    # Each metadata request goes to any broker, and brokers apply the controller's deletion a moment apart:
    # gone means gone in several reads in a row, not in one broker's answer.
    deadline = time.monotonic() + 30
    gone_in_a_row = 0
    while gone_in_a_row < 5 and time.monotonic() < deadline:
        listed = r.topic in cluster.admin().list_topics(timeout=10).topics
        gone_in_a_row = 0 if listed else gone_in_a_row + 1
        time.sleep(0.2)
    assert gone_in_a_row >= 5, f"{r.topic} is still listed 30 s after the run"


def test_fixed_rate_reports_intended_time_latency_and_end_to_end(cluster: LocalCluster) -> None:
    s = ProducerSettings(count=400, rate=400, end_to_end=True, acks="1")
    r = run_one(cluster, s)
    sane(r, 400)
    assert r.elapsed_s >= 0.9, "400 messages at 400/s take about a second"
    assert r.intended_latency is not None and r.intended_latency.count == r.latency.count
    # each message's intended-time latency includes its service time, so every percentile is at least as big
    assert r.intended_latency.p50_ms >= r.latency.p50_ms - 1e-6
    assert r.intended_latency.p99_ms >= r.latency.p99_ms - 1e-6
    assert r.e2e_latency is not None and r.e2e_latency.count == 400


def test_codec_sweep_ratios(cluster: LocalCluster) -> None:
    base = ProducerSettings(count=2000, message_size=1000, payload="text", linger_ms=10, batch_size=65_536)
    codecs = SweepSettings("codec", base, at_fixed_rate=False)  # the ratios need no fixed-rate runs
    sw: SweepResult = experiment.run_sync(lambda ctx: sweep.run(cluster, codecs, ctx), time_limit_s=180)
    assert sw.stopped is None and [r.settings.compression for r in sw.runs] == ["none", "gzip", "snappy", "lz4", "zstd"]
    by = {r.settings.compression: r for r in sw.runs}
    for r in sw.runs:
        sane(r, 2000)
    assert 0.9 <= by["none"].stats.compression_ratio <= 1.1
    assert by["gzip"].stats.compression_ratio > 2.0
    assert by["zstd"].stats.compression_ratio > 2.0
    assert all(r.stats.compression_ratio > 1.3 for r in sw.runs if r.settings.compression != "none")
    assert len({r.topic for r in sw.runs}) == 5, "each run has its own topic"


def test_random_payload_does_not_compress(cluster: LocalCluster) -> None:
    s = ProducerSettings(count=1000, message_size=1000, payload="random", compression="gzip", linger_ms=10)
    r = run_one(cluster, s)
    sane(r, 1000)
    assert 0.9 <= r.stats.compression_ratio <= 1.1


def test_batch_sweep(cluster: LocalCluster) -> None:
    base = ProducerSettings(count=2000, message_size=200, acks="1")
    grid = SweepSettings("batch", base, lingers_ms=(0.0, 20.0), batch_sizes=(1_024, 65_536), at_fixed_rate=False)
    sw = experiment.run_sync(lambda ctx: sweep.run(cluster, grid, ctx), time_limit_s=180)
    assert len(sw.runs) == 4
    for r in sw.runs:
        sane(r, 2000)
    cell = {(r.settings.linger_ms, r.settings.batch_size): r for r in sw.runs}
    # a 1 KiB batch holds at most a few 200-byte records; a 64 KiB batch with linger holds many more
    assert cell[(0.0, 1_024)].stats.avg_msgs_per_batch <= 5
    assert cell[(20.0, 65_536)].stats.avg_msgs_per_batch > cell[(20.0, 1_024)].stats.avg_msgs_per_batch


def test_acks_and_preset_sweeps(cluster: LocalCluster) -> None:
    base = ProducerSettings(count=500, message_size=100)
    acks_only = SweepSettings("acks", base, at_fixed_rate=False)
    acks = experiment.run_sync(lambda ctx: sweep.run(cluster, acks_only, ctx), time_limit_s=120)
    assert [r.settings.acks for r in acks.runs] == ["0", "1", "all"]
    for r in acks.runs:
        sane(r, 500)
    with_fixed = SweepSettings("presets", base, fixed_rate_s=1.5)
    presets = experiment.run_sync(lambda ctx: sweep.run(cluster, with_fixed, ctx), time_limit_s=120)
    assert [r.settings.label for r in presets.runs] == ["default", "high throughput", "high reliability",
                                                        "low latency"]
    for r in presets.runs:
        sane(r, 500)
    assert [f.settings.label for f in presets.fixed] == [r.settings.label for r in presets.runs]


def test_perf_tool_cross_check(cluster: LocalCluster) -> None:
    # at a fixed rate both sides run 2 s, so the lab's run has its warm-up second to leave out
    s = ProducerSettings(count=5000, rate=2_500, acks="1", compression="lz4", linger_ms=10, batch_size=65_536)
    c = experiment.run_sync(lambda ctx: perftest.cross_check(cluster, CrossCheckSettings(s), ctx), time_limit_s=180)
    assert c.stopped is None and c.lab is not None and c.perf is not None and c.perf.summary is not None
    sane(c.lab, 5000)
    assert c.lab.warmup is not None and c.lab.warmup.delivered > 0
    version = cluster.status().kafka_version
    assert version and c.perf.kafka_version == version, "the tool of the cluster's own Kafka ran"
    assert c.perf.topic_messages == 5000
    if version_at_least(version, WARMUP_RECORDS_SINCE):  # both sides leave out the same first records
        assert c.perf.warmup_records == c.lab.warmup.delivered
        assert c.perf.whole is not None and c.perf.whole.records == 5000
        assert c.perf.summary.records == 5000 - c.perf.warmup_records, "the steady-state line is compared"
        assert "--warmup-records" in c.perf.command and "--command-property" in c.perf.command
    else:  # the tool counts its start; the result says so
        assert c.perf.warmup_records == 0 and c.perf.whole is None and c.perf.summary.records == 5000
        assert any("no --warmup-records" in n for n in c.perf.notes) and "--producer-props" in c.perf.command
    assert c.perf.summary.records_per_s > 0 and c.perf.summary.p99_ms >= c.perf.summary.p50_ms
    assert c.throughput_ratio > 0 and len(c.rows()) == 8


def test_cancel_returns_a_partial_result_quickly(cluster: LocalCluster) -> None:
    s = ProducerSettings(count=None, duration_s=60, rate=200)
    run = experiment.start(lambda ctx: produce.run(cluster, s, ctx), time_limit_s=120)
    deadline = time.monotonic() + 30
    while (run.progress().partial is None or not run.progress().partial.samples) and time.monotonic() < deadline:
        time.sleep(0.1)
    t0 = time.monotonic()
    run.cancel()
    r = run.wait(timeout_s=30)
    assert time.monotonic() - t0 < 15
    assert r.stopped and "cancelled by the user" in r.stopped
    # a message still in flight after the cancel's bound is taken back (not sent), never counted failed
    assert r.delivered > 0 and r.failed == 0 and r.sent == r.delivered + r.not_sent + r.unacknowledged
    assert r.topic_messages is not None and r.delivered <= r.topic_messages <= r.sent


def test_cancelled_large_messages_are_not_sent_not_failed(cluster: LocalCluster) -> None:
    """Issue 18: a flat-out run of 256 KiB messages holds a deep local queue; a cancel takes it back. Those
    messages were never sent: they count as not sent, and no delivery failed."""
    s = ProducerSettings(count=None, duration_s=60, message_size=262_144, acks="all", buffer_kbytes=65_536)
    # each message is a batch of its own (larger than batch.size): at most this many are in flight at once
    in_flight = s.max_in_flight * s.partitions
    run = experiment.start(lambda ctx: produce.run(cluster, s, ctx), time_limit_s=120)

    def backlog() -> bool:  # acknowledging, with more queued than could be in flight
        p = run.progress().partial
        return isinstance(p, produce.ProduceProgress) and p.delivered > 0 and p.sent - p.delivered > 2 * in_flight

    assert experiment.poll_until(backlog, 60, every_s=0.05), run.progress()
    run.cancel()
    r = run.wait()
    assert r.stopped and "cancelled by the user" in r.stopped
    assert r.failed == 0 and not r.errors, r.errors
    assert r.not_sent > 0, "the queued messages were taken back"
    assert r.sent == r.delivered + r.failed + r.not_sent + r.unacknowledged, r
    assert r.topic_messages is not None and r.delivered <= r.topic_messages <= r.sent


def test_killed_broker_ends_the_run_within_its_bound(whole_cluster: LocalCluster) -> None:
    c = whole_cluster
    s = ProducerSettings(count=None, duration_s=6, rate=500, acks="all", delivery_timeout_ms=5_000)
    bound = 20.0
    t0 = time.monotonic()
    run = experiment.start(lambda ctx: produce.run(c, s, ctx), time_limit_s=bound)
    deadline = time.monotonic() + 30
    while (run.progress().partial is None or run.progress().partial.delivered < 200) and time.monotonic() < deadline:
        time.sleep(0.1)
    c.broker("kill", 1)
    r = run.wait()
    took = time.monotonic() - t0
    assert took < bound + experiment.CANCEL_GRACE_S, f"the run took {took:.1f} s"
    assert r.sent == r.delivered + r.failed + r.unacknowledged
    assert r.client_errors or r.errors, "a dead broker shows up as errors, not silence"
    assert r.delivered > 0
    # acks=all on 3 replicas with min.insync.replicas=2: nothing acknowledged is lost with one broker gone
    assert r.topic_messages is not None and r.topic_messages >= r.delivered


@pytest.mark.alone_on_cluster  # compares every lab-produce-* topic before and after: another worker's runs make some
def test_cancelled_sweep_returns_the_runs_so_far(cluster: LocalCluster) -> None:
    settings = SweepSettings("acks", ProducerSettings(count=None, duration_s=1.0, rate=300))

    def run_topics() -> set[str]:
        return {t for t in cluster.admin().list_topics(timeout=10).topics if t.startswith(topics.FRESH_TOPIC_PREFIX)}

    before = run_topics()
    run = experiment.start(lambda ctx: sweep.run(cluster, settings, ctx), time_limit_s=120)

    def second_run_sending() -> bool:
        p = run.progress().partial
        return isinstance(p, SweepProgress) and len(p.finished) == 1 and p.current is not None and bool(
            p.current.samples)

    assert experiment.poll_until(second_run_sending, 60, every_s=0.05), run.progress()
    run.cancel()
    r = run.wait(timeout_s=30)
    assert r.stopped and "cancelled by the user" in r.stopped
    assert r.planned == 3 and 1 <= len(r.runs) <= 2
    assert r.runs[0].stopped is None and r.runs[0].delivered > 0
    if len(r.runs) == 2:  # cancelled while sending: the partial run is kept, marked stopped
        assert r.runs[1].stopped and r.runs[1].delivered == r.runs[1].topic_messages
    # the round's topics were made at once; the one never run is deleted with the others
    assert experiment.poll_until(lambda: run_topics() <= before, 15), run_topics() - before


def test_cancelled_perf_tool_returns_its_interval_lines(cluster: LocalCluster) -> None:
    s = ProducerSettings(count=100_000, rate=1_000)  # 100 s at full length; the tool prints a line every 5 s
    run = experiment.start(lambda ctx: perftest.cross_check(cluster, CrossCheckSettings(s, perf_only=True), ctx),
                           time_limit_s=120)
    assert experiment.poll_until(lambda: "records sent" in run.progress().message, 60, every_s=0.1), run.progress()
    t0 = time.monotonic()
    run.cancel()
    c = run.wait(timeout_s=30)
    assert time.monotonic() - t0 < 20
    assert c.lab is None and c.perf is not None and c.stopped and "cancelled by the user" in c.stopped
    assert c.perf.stopped == c.stopped and c.perf.summary is None and c.perf.intervals
    assert c.perf.topic_messages is not None and c.perf.topic_messages >= sum(i.records for i in c.perf.intervals)
    assert all(x != x for x in (c.throughput_ratio, c.p99_ratio)), "no ratio without both sides"
