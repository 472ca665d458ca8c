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
from dataclasses import dataclass, field

from confluent_kafka import Consumer, Message

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.consumer.loop import (
    CONSUME_TIMEOUT_S,
    BenchProgress,
    ConsumeSample,
    Tally,
    consume_loop,
    last_window,
    next_batch,
)
from lab.consumer.members import partition_sizes, run_members
from lab.consumer.memberstats import (
    MAX_MEMBERS,
    MemberResult,
    merge_fetch,
    merge_points,
    merge_samples,
    resolve_members,
)
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
from lab.core.context import RunContext
from lab.core.errors import ClusterError, SettingsError
from lab.core.results import Result
from lab.core.stats import LatencySummary, mb, rate
from lab.core.validate import is_whole, require
from lab.core.verdict import Doubt, merge, others_running
from lab.kafka import topics
from lab.kafka.load import MAX_BACKGROUND_RATE as MAX_LIVE_RATE
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings
from lab.kafka.specs import TopicSpec

#: How long a consumer may take to join its group and get partitions.
JOIN_TIMEOUT_S = 30.0
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
    """The fetch benchmark: one consumer's settings, and a live producer rate (0: read the backlog), read by
    ``members`` processes (``lab.consumer.members``)."""

    consumer: ConsumerSettings = field(default_factory=ConsumerSettings)
    #: 0: read ``consumer.topic`` from the beginning; N: a producer writes N msg/s to a fresh topic
    produce_rate: int = 0
    #: live mode: value bytes per message and partitions of the fresh topic
    message_bytes: int = 100
    partitions: int = SEED_PARTITIONS
    #: backlog mode: consumer processes sharing the topic's partitions. 1: one consumer in the run's own process
    #: (what a run stored before this setting was); None: one per core, at most one per partition
    members: int | None = 1

    def __post_init__(self) -> None:
        require(isinstance(self.consumer, ConsumerSettings), "The benchmark needs a ConsumerSettings.",
                "Build it with ConsumerSettings(...).")
        require(is_whole(self.produce_rate) and 0 <= self.produce_rate <= MAX_LIVE_RATE,
                f"producer rate {self.produce_rate!r} msg/s is out of range.",
                f"Use 0 (read the seeded backlog) or 1 to {MAX_LIVE_RATE:,} messages per second.")
        require(is_whole(self.message_bytes) and 8 <= self.message_bytes <= MAX_MESSAGE_BYTES,
                f"message size {self.message_bytes!r} bytes is out of range.", f"Use 8 to {MAX_MESSAGE_BYTES:,} bytes.")
        TopicSpec("x", self.partitions)
        m = self.members
        require(m is None or (is_whole(m) and 1 <= m <= MAX_MEMBERS), f"members={m!r} is out of range.",
                f"Use a whole number from 1 to the topic's partitions (at most {MAX_MEMBERS}), or leave it unset: one "
                "process per core, at most one per partition.")
        require(not self.live or m in (None, 1), f"members={m!r} needs the backlog mode (produce rate 0).",
                "The live mode measures end-to-end latency with one consumer: use members=1 (or unset), or a "
                "produce rate of 0.")

    @property
    def live(self) -> bool:
        return self.produce_rate > 0


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
    #: an N-process run: each member process (its figures add up to the ones above); empty: one consumer in
    #: the run's own process
    members: tuple[MemberResult, ...] = ()

    @property
    def processes(self) -> int:
        """Consumer processes that read the topic."""
        return len(self.members) or 1

    @property
    def label(self) -> str:
        return self.settings.consumer.name

    def row(self) -> dict[str, object]:
        c = self.settings.consumer
        lat = self.e2e
        return {"label": self.label, "fetch_min_bytes": c.fetch_min_bytes, "fetch_wait_max_ms": c.fetch_wait_max_ms,
                "max_partition_fetch_bytes": c.max_partition_fetch_bytes, "processes": self.processes,
                "consumed": self.consumed,
                "msgs_per_s": self.msgs_per_s, "mb_per_s": self.mb_per_s,
                "fetch_requests_per_s": self.fetch.fetch_requests_per_s, "bytes_per_fetch": self.fetch.bytes_per_fetch,
                "p50_ms": lat.p50_ms if lat else float("nan"), "p95_ms": lat.p95_ms if lat else float("nan"),
                "p99_ms": lat.p99_ms if lat else float("nan"), "max_ms": lat.max_ms if lat else float("nan"),
                "doubts": ", ".join(d.code for d in self.verdict)}


def wait_for_primers(consumer: Consumer, partitions: int, ctx: RunContext) -> list[Message]:
    """Live mode: consume the fresh topic's primer records (one empty record per partition) so every
    partition is being fetched before the producer starts; returns any other messages seen (none expected)."""
    seen, other = 0, []
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while seen < partitions and not ctx.cancelled and time.monotonic() < deadline:
        for m in next_batch(consumer, True):
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
    last that long: ``MIN_BACKLOG`` per consumer process first (N processes read about N times as fast); when
    the run read all of it before its time was up, to what its measured rate needs (``BACKLOG_MARGIN``, at most
    ``MAX_BACKLOG``), and the run is made again."""
    s = settings.consumer
    run_s = s.duration_s or BACKLOG_S
    timed = dataclasses.replace(settings, consumer=s.replace(duration_s=run_s))
    readers = 1
    if settings.members != 1:
        partitions, _ = backlog_size(cluster, s.topic)
        readers = resolve_members(settings.members, partitions or SEED_PARTITIONS, s.topic)
    held = top_up(cluster, s.topic, min(MAX_BACKLOG, MIN_BACKLOG * readers), ctx)
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
    if not settings.live and settings.members != 1:
        partitions, _ = backlog_size(cluster, topic)
        n = resolve_members(settings.members, partitions, topic)
        if n > 1:
            return _bench_members(cluster, settings, ctx, topic, target, n, partitions)
    s = settings.consumer
    group = f"lab-consume-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    rec = FetchStatsRecorder({topic}, t0)
    consumer = clients.consumer(cluster, {**s.to_config(), "group.id": group,
                                          "statistics.interval.ms": CONSUMER_STATS_INTERVAL_MS,
                                          "stats_cb": rec.on_stats})
    tally = Tally(t0)
    producer: BackgroundProducer | None = None
    expected = target or 0
    join_s = 0.0
    before = _others(ctx, cluster)
    try:
        ctx.report(0.0, "joining a fresh group")
        join_s, early = join(consumer, [topic], ctx)
        if settings.live:
            run_s = s.duration_s or (None if s.count else DEFAULT_LIVE_S)
            early += wait_for_primers(consumer, settings.partitions, ctx)
            producer = BackgroundProducer(cluster, topic, BackgroundProducerSettings(
                settings.produce_rate, message_bytes=settings.message_bytes), t0=t0, ctx=ctx).__enter__()
            consume_loop(consumer, s, ctx, tally, target, time.monotonic() + run_s if run_s else None, True, s.name,
                     early)
            producer.stop()
            expected = producer.acked
            if not ctx.cancelled:  # the tail: everything acknowledged should arrive
                consume_loop(consumer, s, ctx, tally, expected, time.monotonic() + DRAIN_S, True, s.name)
        else:
            # timed from the first message, as the throughput is: a slow first fetch does not shorten the run
            consume_loop(consumer, s, ctx, tally, target, None, False, s.name, early, s.duration_s)
        tally.sample(time.monotonic(), force=True)
        last_window(consumer, rec)
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
    return dataclasses.replace(r, verdict=bench_verdict(r, merge(before, _others(ctx, cluster))))


def _bench_members(cluster: Cluster, settings: BenchSettings, ctx: RunContext, topic: str, target: int | None,
                   members: int, partitions: int) -> BenchResult:
    """The backlog read by ``members`` processes (``lab.consumer.members``), their figures added up on one axis:
    throughput from the first member's first message to the last member's last."""
    s = settings.consumer
    group = f"lab-consume-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    config = clients.client_settings(cluster, {**s.to_config(), "group.id": group,
                                               "statistics.interval.ms": CONSUMER_STATS_INTERVAL_MS})
    sizes = partition_sizes(config, topic, partitions)
    goal = min(target, sum(sizes)) if target is not None else sum(sizes)
    before = _others(ctx, cluster)

    def progress(total: int, per_member: tuple[tuple[str, tuple[ConsumeSample, ...]], ...]) -> None:
        merged = merge_samples([x for _, x in per_member])
        ctx.report(min(1.0, total / goal) if goal else None, f"{total:,} consumed by {members} members",
                   BenchProgress(s.name, total, goal, merged, per_member))

    out = run_members(config, s, topic, sizes, members, goal, t0, ctx, progress)
    ms = out.members
    n, nbytes = sum(m.consumed for m in ms), sum(m.bytes for m in ms)
    read = [m for m in ms if m.consumed and math.isfinite(m.first_message_s)]
    first = min((m.first_message_s for m in read), default=float("nan"))
    span = max((m.first_message_s + m.consume_s for m in read), default=0.0) - first if read else 0.0
    errors: dict[str, int] = {}
    for m in ms:
        for k, v in m.errors.items():
            errors[k] = errors.get(k, 0) + v
    r = BenchResult(settings, topic, group, n, nbytes, goal, out.ready_s, first, span, rate(n, span),
                    mb(rate(nbytes, span)), merge_fetch([m.fetch for m in ms], span),
                    merge_samples([m.samples for m in ms]), merge_points(out.points), None, errors,
                    stopped=ctx.stopped_text() if ctx.cancelled else None, members=ms)
    return dataclasses.replace(r, verdict=bench_verdict(r, merge(before, _others(ctx, cluster))))


def _others(ctx: RunContext, cluster: Cluster) -> tuple[str, ...]:
    """Other experiments on the cluster now (the verdict's "concurrent" rule)."""
    return others_running(ctx, cluster.lock_holder())


def time_limit_for(settings: BenchSettings) -> float:
    """A generous bound: seeding what a backlog run may need, join, the run (its duration, or 20 µs per message
    plus the processing delay; a timed backlog run may run twice), drain."""
    s = settings.consumer
    if settings.members != 1:  # the member processes' start-up
        return 30.0 + time_limit_for(dataclasses.replace(settings, members=1))
    if settings.live:
        return 120.0 + (s.duration_s or (s.count or 0) * 20e-6 or DEFAULT_LIVE_S) * 1.5 + DRAIN_S
    if s.count is not None:
        return 120.0 + s.count * (20e-6 + s.processing_delay_ms / 1000) * 1.5 + s.count / SEED_RATE_BOUND
    return 120.0 + 2 * (s.duration_s or BACKLOG_S) * 1.5 + MAX_BACKLOG / SEED_RATE_BOUND


__all__ = ["BACKLOG_S", "MAX_MESSAGE_BYTES", "MAX_SEED", "MIN_BACKLOG", "PROFILES", "SEED_PARTITIONS", "SEED_TOPIC",
           "STRATEGIES", "BenchProgress", "BenchResult", "BenchSettings", "ConsumeSample", "ConsumerSettings",
           "MemberResult", "SeedResult", "SeedSettings", "backlog_size", "bench", "join", "seed", "time_limit_for",
           "top_up"]
