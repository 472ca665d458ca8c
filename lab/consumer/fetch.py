"""Consumer fetch experiments: seed the course's topic, and the fetch benchmark.

- ``seed(cluster, SeedSettings, ctx)`` writes numbered 100-byte messages to ``consumer-tuning``
  (50 000 by default, 6 partitions, as in the course) and counts what the topic holds afterwards.
- ``bench(cluster, BenchSettings, ctx)`` consumes with one ``ConsumerSettings`` in a fresh group:
  * backlog mode (``produce_rate=0``): the seeded topic from the beginning, as fast as the settings allow;
  * live mode (``produce_rate=N``): a producer writes N messages a second to a fresh topic
    (``lab.kafka.load.BackgroundProducer``) and the consumer tails it, so end-to-end latency (record
    CreateTime -> consumed, both on this machine's clock, ms resolution) shows what
    ``fetch.min.bytes`` x ``fetch.wait.max.ms`` cost in waiting.
  Throughput per interval, and fetch requests per second and bytes per fetch from librdkafka's
  statistics (``lab.consumer.stats``). Throughput counts from the first message (like Kafka's
  ``fetch.nMsg.sec``, without the group join); the join time is reported on its own.

Sweeps are ``lab.consumer.sweep``; the cross-check with Kafka's ConsumerPerformance is ``lab.consumer.perftest``.
"""

from __future__ import annotations

import time
import uuid
from array import array
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, Message

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.consumer.settings import PROFILES, STRATEGIES, ConsumerSettings
from lab.consumer.stats import CONSUMER_STATS_INTERVAL_MS, FetchPoint, FetchStats, FetchStatsRecorder, summary
from lab.core.context import RunContext, poll_until
from lab.core.errors import ClusterError, SettingsError
from lab.core.results import Result
from lab.core.stats import LatencySummary, mb, rate
from lab.core.validate import is_whole, require
from lab.kafka import admin, topics
from lab.kafka.load import MAX_BACKGROUND_RATE as MAX_LIVE_RATE
from lab.kafka.load import PURGE_ERRORS, BackgroundProducer, BackgroundProducerSettings
from lab.kafka.specs import TopicSpec

#: Messages handed over per ``consume()`` call: large enough that the harness costs little per message.
CONSUME_BATCH = 10_000
#: One ``consume()`` waits at most this long, so cancel, duration and samples are looked at often.
CONSUME_TIMEOUT_S = 0.1
#: Throughput sample interval.
SAMPLE_S = 0.5
#: How long a consumer may take to join its group and get partitions.
JOIN_TIMEOUT_S = 30.0
#: Backlog mode: stop when nothing arrived for this long (the topic holds less than asked for).
IDLE_TIMEOUT_S = 10.0
#: Live mode: how long the consumer may trail the producer's last acknowledgement.
DRAIN_S = 10.0
#: Live mode runs this long when no duration or count is given.
DEFAULT_LIVE_S = 10.0
SEED_TOPIC = "consumer-tuning"
SEED_PARTITIONS = 6
MAX_SEED = 10_000_000
#: Seeding reports progress and looks at cancel once per this many messages, or per this many bytes if fewer.
SEED_CHECK_EVERY = 5_000
SEED_CHECK_BYTES = 4 * 1024 * 1024
#: How long seeding waits for its last acknowledgements.
SEED_FLUSH_S = 60.0
MAX_MESSAGE_BYTES = 100_000
#: Fresh live-mode topics; ``kafka-lab producer cleanup --prefix lab-consume-`` removes leftovers.
LIVE_TOPIC_PREFIX = "lab-consume-"


# --- seed ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedSettings:
    topic: str = SEED_TOPIC
    messages: int = 50_000
    message_bytes: int = 100
    #: used when the topic has to be created
    partitions: int = SEED_PARTITIONS

    def __post_init__(self) -> None:
        TopicSpec(self.topic, self.partitions)  # name and partition count checked there
        require(is_whole(self.messages) and 1 <= self.messages <= MAX_SEED, f"messages={self.messages!r} is out of "
                "range.", f"Use 1 to {MAX_SEED:,} messages.")
        require(is_whole(self.message_bytes) and 8 <= self.message_bytes <= MAX_MESSAGE_BYTES,
                f"message size {self.message_bytes!r} bytes is out of range.", f"Use 8 to {MAX_MESSAGE_BYTES:,} bytes.")


@dataclass(frozen=True)
class SeedResult(Result):
    settings: SeedSettings
    #: "created" or "exists"
    topic_action: str
    partitions: int
    written: int
    failed: int
    #: what the topic holds afterwards (sum of high - low watermarks), None if the brokers did not say
    topic_messages: int | None
    elapsed_s: float
    msgs_per_s: float


def seed(cluster: Cluster, settings: SeedSettings, ctx: RunContext) -> SeedResult:
    """Create the topic if missing and write ``messages`` numbered records (acks=all); a cancel stops the
    writing and returns what was acknowledged."""
    ctx.report(0.0, f"creating {settings.topic}")
    out = admin.ensure_topic(cluster, TopicSpec(settings.topic, settings.partitions, 3, {},
                                                "Fetch tuning, assignment strategies and lag."), ctx=ctx)
    prod = clients.producer(cluster, {"acks": "all", "linger.ms": 10, "batch.size": 262_144})
    acked, failed = [0], [0]

    def on_delivery(err: KafkaError | None, _msg: Message) -> None:
        if err is None:
            acked[0] += 1
        elif err.name() not in PURGE_ERRORS:  # taken back by a cancel: not written, not failed
            failed[0] += 1

    check_every = max(1, min(SEED_CHECK_EVERY, SEED_CHECK_BYTES // settings.message_bytes))
    t0 = time.perf_counter()
    try:
        for i in range(settings.messages):
            value = str(i).encode().ljust(settings.message_bytes)
            full = False
            while True:
                try:
                    prod.produce(settings.topic, value, on_delivery=on_delivery)
                    break
                except BufferError:  # the queue is full (slow or missing brokers): stay cancellable
                    prod.poll(0.05)
                    full = True
                    if ctx.cancelled:
                        break
            if full or i % check_every == 0:
                prod.poll(0)
                ctx.report(i / settings.messages, f"{i:,} of {settings.messages:,} written")
                if ctx.cancelled:
                    break
        # the last acknowledgements; a cancel drops what is still queued (purged below) instead of waiting for it
        end = time.monotonic() + SEED_FLUSH_S
        while not ctx.cancelled and prod.flush(0.1) > 0 and time.monotonic() < end:
            pass
    finally:
        prod.purge(in_queue=True, in_flight=True, blocking=False)
        prod.flush(0)
    elapsed = time.perf_counter() - t0
    count = topics.topic_message_count(cluster, settings.topic, out.partitions)
    return SeedResult(settings, out.action, out.partitions, acked[0], failed[0], count, elapsed,
                      rate(acked[0], elapsed), stopped=ctx.stopped_text() if ctx.cancelled else None)


# --- the fetch benchmark ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchSettings:
    """The fetch benchmark: one consumer's settings, and a live producer rate (0: read the backlog)."""

    consumer: ConsumerSettings = field(default_factory=ConsumerSettings)
    #: 0: read ``consumer.topic`` from the beginning; N: a producer writes N msg/s to a fresh topic
    produce_rate: int = 0
    #: live mode: value bytes per message and partitions of the fresh topic
    message_bytes: int = 100
    partitions: int = SEED_PARTITIONS

    def __post_init__(self) -> None:
        require(isinstance(self.consumer, ConsumerSettings), "The benchmark needs a ConsumerSettings.",
                "Build it with ConsumerSettings(...).")
        require(is_whole(self.produce_rate) and 0 <= self.produce_rate <= MAX_LIVE_RATE,
                f"producer rate {self.produce_rate!r} msg/s is out of range.",
                f"Use 0 (read the seeded backlog) or 1 to {MAX_LIVE_RATE:,} messages per second.")
        require(is_whole(self.message_bytes) and 8 <= self.message_bytes <= MAX_MESSAGE_BYTES,
                f"message size {self.message_bytes!r} bytes is out of range.", f"Use 8 to {MAX_MESSAGE_BYTES:,} bytes.")
        TopicSpec("x", self.partitions)

    @property
    def live(self) -> bool:
        return self.produce_rate > 0


@dataclass(frozen=True)
class ConsumeSample:
    """Messages consumed in the interval ending ``t_s`` seconds after the run started."""

    t_s: float
    msgs: int
    msgs_per_s: float
    mb_per_s: float


@dataclass(frozen=True)
class BenchProgress:
    label: str
    consumed: int
    target: int | None
    samples: tuple[ConsumeSample, ...]


@dataclass(frozen=True)
class BenchResult(Result):
    settings: BenchSettings
    topic: str
    group: str
    consumed: int
    #: key+value bytes consumed
    bytes: int
    #: live mode: messages the producer had acknowledged (consumed should equal it); backlog: the target
    expected: int
    #: seconds from subscribe to the first partitions assigned (the group join), and to the first message
    join_s: float
    first_message_s: float
    #: seconds from the first message to the last
    consume_s: float
    msgs_per_s: float
    mb_per_s: float
    fetch: FetchStats
    samples: tuple[ConsumeSample, ...]
    stats_points: tuple[FetchPoint, ...]
    #: live mode: CreateTime -> consumed (ms resolution); None in backlog mode
    e2e: LatencySummary | None = None
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.settings.consumer.name

    def row(self) -> dict[str, object]:
        c = self.settings.consumer
        lat = self.e2e
        return {"label": self.label, "fetch_min_bytes": c.fetch_min_bytes, "fetch_wait_max_ms": c.fetch_wait_max_ms,
                "max_partition_fetch_bytes": c.max_partition_fetch_bytes, "consumed": self.consumed,
                "msgs_per_s": self.msgs_per_s, "mb_per_s": self.mb_per_s,
                "fetch_requests_per_s": self.fetch.fetch_requests_per_s, "bytes_per_fetch": self.fetch.bytes_per_fetch,
                "p50_ms": lat.p50_ms if lat else float("nan"), "p95_ms": lat.p95_ms if lat else float("nan"),
                "p99_ms": lat.p99_ms if lat else float("nan"), "max_ms": lat.max_ms if lat else float("nan")}


class _Tally:
    """What the consume loop counted, and the throughput samples, on the run's clock."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.n = 0
        self.nbytes = 0
        self.first: float | None = None
        self.last: float | None = None
        self.latencies = array("d")
        self.errors: dict[str, int] = {}
        self.samples: list[ConsumeSample] = []
        self._mark_t, self._mark_n, self._mark_b = t0, 0, 0

    def sample(self, now: float, force: bool = False) -> None:
        dt = now - self._mark_t
        if dt >= SAMPLE_S or (force and dt > 0):
            dn, db = self.n - self._mark_n, self.nbytes - self._mark_b
            self.samples.append(ConsumeSample(round(now - self.t0, 3), dn, dn / dt, mb(db) / dt))
            self._mark_t, self._mark_n, self._mark_b = now, self.n, self.nbytes


def _consume(consumer: Consumer, s: ConsumerSettings, ctx: RunContext, tally: _Tally, target: int | None,
             end_at: float | None, live: bool, label: str, early: list[Message] | None = None) -> None:
    """The loop: consume until ``target`` messages, ``end_at`` (monotonic), idle too long, or cancel.
    ``early`` are messages polled before the loop (while joining): counted first."""
    delay = s.processing_delay_ms / 1000.0
    idle_since = reported = time.monotonic()
    while not ctx.cancelled:
        msgs = early or _next_batch(consumer, live)
        early = None
        now = time.monotonic()
        if msgs:
            idle_since = now
            wall_ms = time.time() * 1000.0
            if not live and not delay:
                _count_batch(tally, msgs)
                msgs = []  # counted: the general loop below is for live mode and processing delays
            for m in msgs:
                err = m.error()
                if err is not None:
                    name = err.name()
                    tally.errors[name] = tally.errors.get(name, 0) + 1
                    continue
                size = len(m)
                if live:
                    if size == 0:
                        continue  # the fresh topic's primer records
                    tally.latencies.append(wall_ms - m.timestamp()[1])
                tally.n += 1
                tally.nbytes += size
                if delay and ctx.wait(delay):  # simulated work per message, on the run's clock
                    break
            if tally.first is None:
                tally.first = now
            tally.last = time.monotonic()
        tally.sample(now)
        if target is not None and tally.n >= target:
            break
        if end_at is not None and now >= end_at:
            break
        if not live and now - idle_since > IDLE_TIMEOUT_S:
            tally.errors["IDLE_TIMEOUT"] = tally.errors.get("IDLE_TIMEOUT", 0) + 1
            break
        if now - reported >= SAMPLE_S:
            reported = now
            ctx.report(min(1.0, tally.n / target) if target else None, f"{tally.n:,} consumed",
                       BenchProgress(label, tally.n, target, tuple(tally.samples)))


def _count_batch(tally: _Tally, msgs: list[Message]) -> None:
    """The backlog's fast path: count a batch with as little Python per message as a bare loop."""
    good = [m for m in msgs if m.error() is None]
    if len(good) != len(msgs):
        for m in msgs:
            err = m.error()
            if err is not None:
                tally.errors[err.name()] = tally.errors.get(err.name(), 0) + 1
    tally.n += len(good)
    tally.nbytes += sum(map(len, good))


def _last_window(consumer: Consumer, rec: FetchStatsRecorder) -> None:
    """Pause fetching and serve callbacks until one more statistics window arrives (bounded), so the last
    fetches are counted. Messages polled meanwhile are past the run's end and not counted."""
    seen = len(rec.points)
    consumer.pause(consumer.assignment())

    def arrived() -> bool:
        consumer.poll(0)  # serves stats_cb
        return len(rec.points) > seen

    poll_until(arrived, 4 * CONSUMER_STATS_INTERVAL_MS / 1000, every_s=0.05)


def _next_batch(consumer: Consumer, live: bool) -> list[Message]:
    """The next messages. Backlog: up to ``CONSUME_BATCH`` at once. Live: back as soon as one message is
    there (``consume(n, timeout)`` would hold the first until n arrived or the timeout passed, and that
    wait would count as latency), plus whatever else is already queued."""
    if not live:
        return consumer.consume(CONSUME_BATCH, CONSUME_TIMEOUT_S)
    first = consumer.poll(CONSUME_TIMEOUT_S)
    return [] if first is None else [first, *consumer.consume(CONSUME_BATCH, 0)]


def wait_for_primers(consumer: Consumer, partitions: int, ctx: RunContext) -> list[Message]:
    """Live mode: consume the fresh topic's primer records (one empty record per partition) so every
    partition is being fetched before the producer starts; returns any other messages seen (none expected)."""
    seen, other = 0, []
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while seen < partitions and not ctx.cancelled and time.monotonic() < deadline:
        for m in _next_batch(consumer, True):
            if m.error() is None and len(m) == 0:
                seen += 1
            else:
                other.append(m)
    return other


def backlog_size(cluster: Cluster, topic: str) -> tuple[int, int]:
    """(partitions, messages) of ``topic`` from the brokers; SettingsError when it does not exist."""
    md = cluster.admin().list_topics(topic, timeout=admin.ADMIN_TIMEOUT_S).topics.get(topic)
    if md is None or md.error is not None or not md.partitions:
        raise SettingsError(f"Topic {topic!r} does not exist.", hint="Seed it first: `kafka-lab consumer seed`.")
    n = len(md.partitions)
    return n, topics.topic_message_count(cluster, topic, n) or 0


def join(consumer: Consumer, topic_names: list[str], ctx: RunContext) -> tuple[float, list[Message]]:
    """Subscribe and wait for the first assignment: (the seconds it took, any messages polled meanwhile)."""
    t0 = time.monotonic()
    assigned: list[bool] = []
    early: list[Message] = []
    consumer.subscribe(topic_names, on_assign=lambda _c, ps: assigned.append(bool(ps)))
    while not any(assigned) and not ctx.cancelled:
        if time.monotonic() - t0 > JOIN_TIMEOUT_S:
            raise ClusterError(f"The consumer got no partitions of {', '.join(topic_names)} within "
                               f"{JOIN_TIMEOUT_S:.0f} s.", hint="Check the cluster (`kafka-lab cluster status`).")
        msg = consumer.poll(CONSUME_TIMEOUT_S / 2)  # drives the group protocol; wakes for cancel twice per 0.1 s
        if msg is not None:
            early.append(msg)
    return time.monotonic() - t0, early


def bench(cluster: Cluster, settings: BenchSettings, ctx: RunContext) -> BenchResult:
    """One benchmark run (see the module docstring); a cancel returns what was measured."""
    s = settings.consumer
    live_topic = None
    if settings.live:
        ctx.report(0.0, "creating a fresh topic for the live producer")
        live_topic = topics.fresh_topic(cluster, settings.partitions, 3, prefix=LIVE_TOPIC_PREFIX,
                                        purpose="consumer benchmark", ctx=ctx)
        topic, target = live_topic, s.count
    else:
        topic = s.topic
        _, held = backlog_size(cluster, topic)
        if held == 0:
            raise SettingsError(f"Topic {topic!r} is empty.", hint="Seed it first: `kafka-lab consumer seed`.")
        if s.count is not None and s.count > held:
            raise SettingsError(f"count={s.count:,} is more than {topic!r} holds ({held:,}).",
                                hint=f"Use at most {held:,}, or seed more: `kafka-lab consumer seed --messages N`.")
        target = s.count or held
    try:
        return _bench_on(cluster, settings, ctx, topic, target)
    finally:
        if live_topic is not None:
            topics.delete_topic(cluster, live_topic)


def _bench_on(cluster: Cluster, settings: BenchSettings, ctx: RunContext, topic: str,
              target: int | None) -> BenchResult:
    s = settings.consumer
    group = f"lab-consume-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    rec = FetchStatsRecorder({topic}, t0)
    consumer = clients.consumer(cluster, {**s.to_config(), "group.id": group,
                                          "statistics.interval.ms": CONSUMER_STATS_INTERVAL_MS,
                                          "stats_cb": rec.on_stats})
    tally = _Tally(t0)
    producer: BackgroundProducer | None = None
    expected = target or 0
    join_s = 0.0
    try:
        ctx.report(0.0, "joining a fresh group")
        join_s, early = join(consumer, [topic], ctx)
        if settings.live:
            run_s = s.duration_s or (None if s.count else DEFAULT_LIVE_S)
            early += wait_for_primers(consumer, settings.partitions, ctx)
            producer = BackgroundProducer(cluster, topic, BackgroundProducerSettings(
                settings.produce_rate, message_bytes=settings.message_bytes), t0=t0, ctx=ctx).__enter__()
            _consume(consumer, s, ctx, tally, target, time.monotonic() + run_s if run_s else None, True, s.name,
                     early)
            producer.stop()
            expected = producer.acked
            if not ctx.cancelled:  # the tail: everything acknowledged should arrive
                _consume(consumer, s, ctx, tally, expected, time.monotonic() + DRAIN_S, True, s.name)
        else:
            end_at = time.monotonic() + s.duration_s if s.duration_s else None
            _consume(consumer, s, ctx, tally, target, end_at, False, s.name, early)
        tally.sample(time.monotonic(), force=True)
        _last_window(consumer, rec)
    finally:
        if producer is not None:
            producer.stop()
        consumer.close()
    first = (tally.first - t0) if tally.first is not None else float("nan")
    active = ((tally.last or time.monotonic()) - t0) - join_s
    span = (tally.last - tally.first) if tally.first is not None and tally.last is not None else 0.0
    e2e = LatencySummary.of_seconds([x / 1000.0 for x in tally.latencies]) if settings.live else None
    return BenchResult(settings, topic, group, tally.n, tally.nbytes, expected, join_s, first, span,
                       rate(tally.n, span), mb(rate(tally.nbytes, span)), summary(rec.points, active),
                       tuple(tally.samples), tuple(rec.points), e2e, tally.errors,
                       stopped=ctx.stopped_text() if ctx.cancelled else None)


def time_limit_for(settings: BenchSettings) -> float:
    """A generous bound: join, the run (its duration, or 20 µs per message plus the processing delay), drain."""
    s = settings.consumer
    per_msg = 20e-6 + s.processing_delay_ms / 1000
    body = s.duration_s or ((s.count or 1_000_000) * per_msg if not settings.live else DEFAULT_LIVE_S)
    return 120.0 + body * 1.5 + DRAIN_S


__all__ = ["PROFILES", "STRATEGIES", "BenchProgress", "BenchResult", "BenchSettings", "ConsumeSample",
           "ConsumerSettings", "SeedResult", "SeedSettings", "backlog_size", "bench", "join", "seed", "time_limit_for"]
