"""The consumer fetch benchmark (seeding its backlog is ``lab.consumer.seed``, re-exported here).

``bench(cluster, BenchSettings, ctx)`` consumes with one ``ConsumerSettings`` in a fresh group:

* backlog mode (``produce_rate=0``): the seeded topic from the beginning, as fast as the settings allow.
  With a ``count``, exactly that many messages; otherwise for the run's duration (``BACKLOG_S`` when none
  is given), which the verdict needs (a 50 000-message backlog lasted 30 ms, all of it one prefetch).
  The run seeds what it needs itself (``lab.consumer.seed.top_up``): a missing or short topic is topped
  up to the count, or to ``MIN_BACKLOG``; when a timed run reads all of it before its time is up, the
  topic is topped up to what the measured rate needs and the run is made again (once). A seed is reused.
* live mode (``produce_rate=N``): a producer writes N messages a second to a fresh topic
  (``lab.kafka.load.BackgroundProducer``) and the consumer tails it, so end-to-end latency (record
  CreateTime -> consumed, both on this machine's clock, ms resolution) shows what
  ``fetch.min.bytes`` x ``fetch.wait.max.ms`` cost in waiting.

Throughput per interval, and fetch requests per second and bytes per fetch from librdkafka's
statistics (``lab.consumer.stats``). Throughput counts from the first message (like Kafka's
``fetch.nMsg.sec``, without the group join); the join time is reported on its own. The verdict
(``lab.consumer.verdict``) says when the figures are too few to trust.

Sweeps are ``lab.consumer.sweep``; the cross-check with Kafka's ConsumerPerformance is ``lab.consumer.perftest``.
"""

from __future__ import annotations

import dataclasses
import math
import time
import uuid
from array import array
from dataclasses import dataclass, field

from confluent_kafka import Consumer, Message

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.consumer.seed import (
    MAX_MESSAGE_BYTES,
    MAX_SEED,
    SEED_PARTITIONS,
    SEED_TOPIC,
    SeedResult,
    SeedSettings,
    backlog_size,
    seed,
    top_up,
)
from lab.consumer.settings import PROFILES, STRATEGIES, ConsumerSettings
from lab.consumer.stats import CONSUMER_STATS_INTERVAL_MS, FetchPoint, FetchStats, FetchStatsRecorder, summary
from lab.consumer.verdict import bench_verdict
from lab.core.context import RunContext, poll_until
from lab.core.errors import ClusterError, SettingsError
from lab.core.results import Result
from lab.core.stats import LatencySummary, mb, rate
from lab.core.validate import is_whole, require
from lab.core.verdict import Doubt, merge, others_running
from lab.kafka import topics
from lab.kafka.load import MAX_BACKGROUND_RATE as MAX_LIVE_RATE
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings
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
#: Backlog mode reads this long when no duration or count is given (the verdict trusts 2 s and more).
BACKLOG_S = 3.0
#: A timed backlog run first tops its topic up to this many messages (100 MB at 100 B: about 5 s of reading
#: on a busy 2-core machine, where 50 000 were one prefetch)...
MIN_BACKLOG = 1_000_000
#: ... and, when a run read all of it before its time was up, to this many times what the run's time
#: needs at the rate it measured, at most ``MAX_BACKLOG``.
BACKLOG_MARGIN = 1.5
MAX_BACKLOG = 5_000_000
#: Seeding speed assumed for the time bound (messages/s; about 90 000 on a busy 2-core machine).
SEED_RATE_BOUND = 20_000
#: Fresh live-mode topics; ``kafka-lab producer cleanup --prefix lab-consume-`` removes leftovers.
LIVE_TOPIC_PREFIX = "lab-consume-"


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
    #: reasons to doubt these figures (``lab.consumer.verdict``); empty = no rule found one
    verdict: tuple[Doubt, ...] = ()

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
                "p99_ms": lat.p99_ms if lat else float("nan"), "max_ms": lat.max_ms if lat else float("nan"),
                "doubts": ", ".join(d.code for d in self.verdict)}


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
             end_at: float | None, live: bool, label: str, early: list[Message] | None = None,
             after_first_s: float | None = None) -> None:
    """The loop: consume until ``target`` messages, ``end_at`` (monotonic), ``after_first_s`` past the first
    message, idle too long, or cancel. ``early`` are messages polled before the loop (while joining): counted
    first."""
    delay = s.processing_delay_ms / 1000.0
    idle_since = reported = start = time.monotonic()
    while not ctx.cancelled:
        if end_at is None and after_first_s is not None and tally.first is not None:
            start, end_at = tally.first, tally.first + after_first_s
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
            by_time = (now - start) / (end_at - start) if end_at is not None and end_at > start else 0.0
            by_count = tally.n / target if target else 0.0
            ctx.report(min(1.0, max(by_time, by_count)) if target or end_at else None, f"{tally.n:,} consumed",
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
    if not settings.live:
        if s.count is None:
            return _timed_backlog(cluster, settings, ctx)
        held = top_up(cluster, s.topic, s.count, ctx)
        if held < s.count and not ctx.cancelled:
            raise SettingsError(f"count={s.count:,} is more than {s.topic!r} holds ({held:,}), even after seeding.",
                                hint=f"Use at most {held + MAX_SEED:,} (one seed writes at most {MAX_SEED:,}).")
        return _bench_on(cluster, settings, ctx, s.topic, s.count)
    ctx.report(0.0, "creating a fresh topic for the live producer")
    live_topic = topics.fresh_topic(cluster, settings.partitions, 3, prefix=LIVE_TOPIC_PREFIX,
                                    purpose="consumer benchmark", ctx=ctx)
    try:
        return _bench_on(cluster, settings, ctx, live_topic, s.count)
    finally:
        topics.delete_topic(cluster, live_topic)


def _timed_backlog(cluster: Cluster, settings: BenchSettings, ctx: RunContext) -> BenchResult:
    """Read the backlog for the run's duration (``BACKLOG_S`` when none is given), from a topic topped up to
    last that long: ``MIN_BACKLOG`` first; when the run read all of it before its time was up, to what its
    measured rate needs (``BACKLOG_MARGIN``, at most ``MAX_BACKLOG``), and the run is made again."""
    s = settings.consumer
    run_s = s.duration_s or BACKLOG_S
    timed = dataclasses.replace(settings, consumer=s.replace(duration_s=run_s))
    held = top_up(cluster, s.topic, MIN_BACKLOG, ctx)
    r = _bench_on(cluster, timed, ctx, s.topic, held)
    if r.consumed < held or held >= MAX_BACKLOG or ctx.cancelled or not r.msgs_per_s > 0:
        return r
    need = min(MAX_BACKLOG, math.ceil(r.msgs_per_s * run_s * BACKLOG_MARGIN))
    ctx.report(None, f"all {held:,} messages read in {r.consume_s:.2f} s at {r.msgs_per_s:,.0f} msg/s, less than "
                     f"the run's {run_s:g} s: seeding up to {need:,} and reading again")
    held = top_up(cluster, s.topic, need, ctx)
    return _bench_on(cluster, timed, ctx, s.topic, held)


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
    before = others_running(ctx, cluster.lock_holder())
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
            # timed from the first message, as the throughput is: a slow first fetch does not shorten the run
            _consume(consumer, s, ctx, tally, target, None, False, s.name, early, s.duration_s)
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
    r = BenchResult(settings, topic, group, tally.n, tally.nbytes, expected, join_s, first, span,
                    rate(tally.n, span), mb(rate(tally.nbytes, span)), summary(rec.points, active),
                    tuple(tally.samples), tuple(rec.points), e2e, tally.errors,
                    stopped=ctx.stopped_text() if ctx.cancelled else None)
    return dataclasses.replace(r, verdict=bench_verdict(r, merge(before, others_running(ctx, cluster.lock_holder()))))


def time_limit_for(settings: BenchSettings) -> float:
    """A generous bound: seeding what a backlog run may need, join, the run (its duration, or 20 µs per message
    plus the processing delay; a timed backlog run may run twice), drain."""
    s = settings.consumer
    if settings.live:
        return 120.0 + (s.duration_s or (s.count or 0) * 20e-6 or DEFAULT_LIVE_S) * 1.5 + DRAIN_S
    if s.count is not None:
        return 120.0 + s.count * (20e-6 + s.processing_delay_ms / 1000) * 1.5 + s.count / SEED_RATE_BOUND
    return 120.0 + 2 * (s.duration_s or BACKLOG_S) * 1.5 + MAX_BACKLOG / SEED_RATE_BOUND


__all__ = ["BACKLOG_S", "MAX_MESSAGE_BYTES", "MAX_SEED", "MIN_BACKLOG", "PROFILES", "SEED_PARTITIONS", "SEED_TOPIC",
           "STRATEGIES", "BenchProgress", "BenchResult", "BenchSettings", "ConsumeSample", "ConsumerSettings",
           "SeedResult", "SeedSettings", "backlog_size", "bench", "join", "seed", "time_limit_for", "top_up"]
