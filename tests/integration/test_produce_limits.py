"""Settings at the limits through real runs: the 1 MB case runs (and fast), a setting the cluster cannot
take is refused before any topic is made, and a sample of fuzzed settings ends within its bound."""

from __future__ import annotations

import random
import time

import pytest

from lab.cluster import LocalCluster
from lab.core import context as experiment
from lab.core.errors import SettingsError
from lab.kafka import admin, topics
from lab.kafka.topics import FRESH_TOPIC_PREFIX
from lab.producer import run as produce
from lab.producer import sweep
from lab.producer.run import ProduceResult
from lab.producer.settings import ACKS, CODECS, PAYLOADS, ProducerSettings

pytestmark = pytest.mark.integration

#: How many fuzzed settings go through real runs (each a fresh topic and a few hundred messages).
FUZZ_RUNS = 3
#: The sample runs settings expected to end within this many seconds; validation checks all of them.
FUZZ_RUN_EXPECTED_S = 10.0


def expected_s(s: ProducerSettings) -> float:
    """A floor on a run's length: its rate, and linger.ms for each buffer-full of messages (a buffer that
    holds fewer messages than the run sends lets each group wait out linger.ms alone)."""
    count = s.count or 0
    waits = -(-count // max(1, min(count, s.buffer_messages))) * s.linger_ms / 1000
    return max(waits, count / s.rate if s.rate else 0.0)


def run_one(cluster: LocalCluster, s: ProducerSettings) -> ProduceResult:
    return experiment.run_sync(lambda ctx: produce.run(cluster, s, ctx), time_limit_s=sweep.time_limit_for(s))


def fresh_topics(cluster: LocalCluster, *, seen_in: str = "any", reads: int = 4) -> set[str]:
    """Run topics in the metadata. Each read may go to another broker, and brokers apply a deletion a moment
    apart, so a topic deleted by the test before can show up in one read: ``seen_in="any"`` is the union of
    the reads (what might exist), ``"every"`` the intersection (what surely exists)."""
    sets = [{t for t in cluster.admin().list_topics(timeout=10).topics if t.startswith(FRESH_TOPIC_PREFIX)}
            for _ in range(reads)]
    return set.union(*sets) if seen_in == "any" else set.intersection(*sets)


def test_one_megabyte_messages_in_one_megabyte_batches_simply_run(cluster: LocalCluster) -> None:
    t0 = time.monotonic()
    r = run_one(cluster, ProducerSettings(message_size=1_000_000, batch_size=1_000_000, count=30))
    took = time.monotonic() - t0
    assert r.stopped is None and r.delivered == 30 and r.failed == 0, (r.stopped, r.errors)
    assert r.topic_messages == 30
    assert took < 30, f"30 messages of 1 MB took {took:.1f} s"


def test_a_two_mebibyte_message_goes_through_a_topic_the_lab_sized_for_it(cluster: LocalCluster) -> None:
    """Issue 18: a 2 MiB message, twice Kafka's default limit, needs no setting: the lab raises its fresh topic's
    max.message.bytes (and librdkafka's message.max.bytes) to fit; acks=all means the followers have it too.
    It is read back whole, by the end-to-end consumer during the run and by a plain reader after it."""
    size = 2 * 1024 * 1024
    s = ProducerSettings(message_size=size, count=3, acks="all", payload="random", partitions=1, end_to_end=True)
    r = experiment.run_sync(lambda ctx: produce.run(cluster, s, ctx, keep_topic=True), time_limit_s=120)
    try:
        assert r.stopped is None and r.delivered == 3 and r.failed == 0, (r.stopped, r.errors, r.client_errors)
        assert r.topic_messages == 3
        lim = r.broker_limits
        assert lim is not None and lim.read_from_brokers and lim.message_max_bytes < size, lim
        assert int(admin.topic_configs(cluster, [r.topic])[r.topic]["max.message.bytes"]) == s.topic_limit_bytes > size
        assert r.e2e_latency is not None and r.e2e_latency.count == 3, "the e2e consumer read every large message"
        values = [m.value() for m in admin.read_partition(cluster, r.topic, 0)]
        assert sorted(len(v or b"") for v in values) == [0, size, size, size], "the primed record and 3 x 2 MiB"
    finally:
        topics.delete_topic(cluster, r.topic)


@pytest.mark.alone_on_cluster  # no new lab-produce-* topic at all: another worker's runs make some
def test_a_topic_larger_than_any_request_is_refused_before_a_topic_is_made(cluster: LocalCluster) -> None:
    before = fresh_topics(cluster)
    s = ProducerSettings(topic_max_message_bytes=104_857_600, message_size=100, count=10)
    with pytest.raises(SettingsError) as err:
        run_one(cluster, s)
    assert "socket.request.max.bytes=104857600" in err.value.message
    assert "104856576" in (err.value.hint or ""), "the refusal gives the allowed maximum"
    assert fresh_topics(cluster, seen_in="every") <= before, "no topic was made for a refused run"


def test_a_sample_of_fuzzed_settings_ends_within_its_bound(cluster: LocalCluster) -> None:
    rnd = random.Random(8)
    ran = refused = 0
    tries = 0
    while ran < FUZZ_RUNS or (refused == 0 and tries < 1000):  # the draws go on (unrun) until one is refused
        fields = {"acks": rnd.choice(ACKS), "compression": rnd.choice(CODECS), "payload": rnd.choice(PAYLOADS),
                  "linger_ms": rnd.choice([0.0, 1.0, 20.0, 1_000.0, 31_000.0]),
                  "batch_size": rnd.choice([1, 100, 16_384, 1_000_000]),
                  "message_size": rnd.choice([1, 100, 20_000, 300_000, 1_048_000]),
                  "buffer_kbytes": rnd.choice([1, 64, 1_048_576]), "buffer_messages": rnd.choice([1, 10, 100_000]),
                  "max_in_flight": rnd.choice([1, 5, 50]), "key_spread": rnd.choice([0, 3]),
                  "count": rnd.choice([1, 50, 300]), "rate": rnd.choice([None, None, 500.0])}
        tries += 1
        try:
            s = ProducerSettings(**fields)
        except SettingsError as exc:
            assert exc.hint, exc.message
            refused += 1
            continue
        if ran >= FUZZ_RUNS or expected_s(s) > FUZZ_RUN_EXPECTED_S:
            continue  # (slow but correct ones, e.g. a 1-message buffer with linger 1 s: a message a second)
        bound = sweep.time_limit_for(s)
        t0 = time.monotonic()
        r = run_one(cluster, s)
        assert time.monotonic() - t0 <= bound, f"{s.name} ran past its {bound:.0f} s bound"
        assert r.delivered + r.failed + r.unacknowledged == r.sent, (s, r.stopped)
        ran += 1
    assert refused > 0, "the sample includes settings that are refused"


def test_at_the_fixed_rate_lingering_costs_latency(cluster: LocalCluster) -> None:
    """The course's lesson, measured below saturation: linger.ms 50 waits for batches that linger 0 sends at once."""
    # a modest rate: well below what linger 0 sustains even on a busy 2-core machine (one request per record),
    # so what differs between the cells is the wait for a batch, not queueing in an overloaded broker
    base = ProducerSettings(acks="1", count=1000, message_size=100)
    # a cluster started a moment ago answers its first seconds of requests slowly (JIT, metadata): warm it
    experiment.run_sync(lambda ctx: produce.run(cluster, base.replace(rate=200.0, count=600), ctx), time_limit_s=60)
    settings = sweep.SweepSettings("batch", base, lingers_ms=(0.0, 50.0), batch_sizes=(262_144,), fixed_rate=200.0)
    r = experiment.run_sync(lambda ctx: sweep.run(cluster, settings, ctx), time_limit_s=sweep.time_limit_for(settings))
    assert r.stopped is None and r.fixed_rate == 200.0 and len(r.fixed) == 2
    rows = {x["linger_ms"]: x for x in r.rows()}
    assert all(f.settings.rate == 200.0 and f.delivered > 0 for f in r.fixed)
    assert rows[50.0]["fixed_p50_ms"] > rows[0.0]["fixed_p50_ms"] + 10, (rows[0.0]["fixed_p50_ms"],
                                                                          rows[50.0]["fixed_p50_ms"])
