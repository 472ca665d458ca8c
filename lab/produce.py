"""The produce experiment: how fast, how slow per message, and why — measured the Kafka way.

``run(cluster, settings, ctx)`` creates a fresh topic, produces ``settings.count`` messages (or for
``settings.duration_s`` seconds), and returns a ``ProduceResult``:

- throughput overall and per interval (messages/s, MB/s of key+value bytes),
- send->ack latency of every acknowledged message from its delivery report (``Message.latency()``,
  librdkafka's own clock from ``produce()`` to the broker's answer),
- with a target rate, a second latency measured from each message's *intended* send time, so a
  producer that stalls cannot hide its delay by sending late (coordinated omission),
- optionally produce->consume latency of a consumer reading the topic on the same clock,
- errors by kind, and what librdkafka's statistics say about why: bytes and messages per batch,
  requests per second, broker round-trip time, and the compression ratio actually achieved.

Sweeps (``codec_sweep``, ``batch_sweep``, ``acks_sweep``, ``preset_sweep``) run one experiment per
variant, each on its own fresh topic, reporting progress per run; a cancel stops the sweep and returns
the runs finished so far.
"""

from __future__ import annotations

import json
import logging
import random
import struct
import threading
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, Message, TopicPartition

from lab import admin, clients
from lab.cluster.base import Cluster
from lab.errors import KafkaOperationError, LabError
from lab.experiment import ChildContext, RunContext
from lab.settings import ACKS, CODECS, PRESETS, ProducerSettings, TopicSpec
from lab.stats import LatencySummary, mb, percentiles, rate, ratio

#: librdkafka emits its statistics this often. The run waits for one more window after its last ack
#: (so the last batches are counted), so shorter is quicker per run; parsing the ~10 KB JSON four times
#: a second costs well under 1 % of a core (measured: no throughput difference against statistics off).
STATS_INTERVAL_MS = 250
#: Interval of the per-interval samples (throughput line, live chart).
SAMPLE_INTERVAL_S = 0.5
#: ... but finer during a run's first seconds, so a run that is over in a second still draws a curve.
FINE_SAMPLE_INTERVAL_S = 0.1
FINE_SAMPLING_S = 2.0
#: Distinct payloads cycled through; enough that compression sees realistic variety, few enough to
#: build in milliseconds. A power of two so the index is a mask.
PAYLOAD_POOL = 256
#: In the unthrottled loop, look at the clock (samples, cancel, duration) once per this many sends.
CHECK_EVERY = 256
#: After a cancel or the time limit, the in-flight messages get this long to be acknowledged.
FLUSH_GRACE_S = 5.0
#: How long to wait for the last statistics window after the final ack.
STATS_WAIT_S = 4 * STATS_INTERVAL_MS / 1000
#: End-to-end mode: how long the consumer may trail the last ack before the run stops waiting.
E2E_DRAIN_S = 10.0
#: Consumer fetch wait in end-to-end mode: small, so the measured latency is the pipeline's, not the
#: broker holding a fetch open (librdkafka's default is 500 ms).
E2E_FETCH_WAIT_MS = 10
#: Header carrying the send time (time.perf_counter_ns) in end-to-end mode.
E2E_HEADER = "lab-sent-ns"
LOG = logging.getLogger(__name__)
TOPIC_PREFIX = "lab-produce-"
#: How long the topic's high watermarks may take to catch up with the acks (replication of the tail).
WATERMARK_SETTLE_S = 10.0
#: How long a run keeps asking for its topic's deletion until it is confirmed (retrying refusals and timeouts).
DELETE_WAIT_S = 10.0
#: Topics deleted per request when cleaning up leftovers.
CLEANUP_CHUNK = 50
#: How long priming a fresh topic (one record per partition) may take.
PRIME_TIMEOUT_MS = 15_000

_WORDS = tuple(" ".join((
    "kafka broker partition replica leader follower offset segment batch linger acks producer consumer",
    "topic record latency throughput compression snappy zstd gzip lz4 the a of to and in is on for with",
    "event user order payment click view cart",
)).split(" "))


# --- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntervalSample:
    """What happened in one sampling interval ending ``t_s`` seconds after the first send."""

    t_s: float
    acked: int
    msgs_per_s: float
    mb_per_s: float
    #: send->ack latency percentiles of the messages acknowledged in this interval (NaN if none)
    p50_ms: float
    p99_ms: float
    errors: int
    #: messages handed to the producer but not yet acknowledged at the end of the interval
    in_flight: int


@dataclass(frozen=True)
class ClientStats:
    """What librdkafka's statistics say about the run (``statistics.interval.ms``)."""

    #: bytes per batch as sent (after compression) and messages per batch
    avg_batch_bytes: float
    avg_msgs_per_batch: float
    batches: int
    #: produce (and other) requests sent to the brokers, and per second of the run
    requests: int
    requests_per_s: float
    #: broker round-trip time, averaged over the brokers and windows that had requests
    broker_rtt_avg_ms: float
    broker_rtt_p99_ms: float
    #: key+value bytes handed to the producer / bytes of record batches on the wire. Record framing
    #: (about 10 bytes per record, 61 per batch) keeps it slightly below 1 for "none" on small records.
    compression_ratio: float
    payload_bytes: int
    wire_bytes: int


@dataclass(frozen=True)
class ProduceProgress:
    """The live partial result a page draws while the run goes on."""

    topic: str
    sent: int
    delivered: int
    failed: int
    samples: tuple[IntervalSample, ...]
    label: str = ""


@dataclass(frozen=True)
class ProduceResult:
    """One produce run: its settings, where it ran, what it measured."""

    settings: ProducerSettings
    topic: str
    backend: str
    bootstrap_servers: str
    sent: int
    delivered: int
    failed: int
    #: still unacknowledged when the run ended (only after a cancel, time limit or a dead cluster)
    unacknowledged: int
    #: messages the run added to the topic (sum of high - low watermarks, read from the brokers, minus the
    #: ``primed`` records written before the run started)
    topic_messages: int | None
    elapsed_s: float
    msgs_per_s: float
    mb_per_s: float
    #: send->ack (service time) of every acknowledged message
    latency: LatencySummary
    #: with a target rate: intended send time -> ack (includes time the producer fell behind)
    intended_latency: LatencySummary | None
    #: end-to-end mode: send -> consumed by a consumer in this process
    e2e_latency: LatencySummary | None
    #: delivery failures by librdkafka error name
    errors: dict[str, int]
    #: client-level errors (error_cb) by name, e.g. _TRANSPORT while a broker is down
    client_errors: dict[str, int]
    #: times produce() found the local queue full and had to wait (back-pressure, not an error)
    queue_full: int
    stats: ClientStats
    samples: tuple[IntervalSample, ...]
    #: why the run ended early, or None when it finished its count / duration
    stopped: str | None = None
    #: empty records written before the run (one per partition) to make sure every leader accepts writes
    primed: int = 0
    #: CPU seconds of this process (all threads, librdkafka's included) from the first send to the last ack
    cpu_s: float = 0.0

    @property
    def complete(self) -> bool:
        return self.stopped is None and self.unacknowledged == 0

    @property
    def written_but_not_acknowledged(self) -> int:
        """Messages the topic holds beyond the acknowledged ones: reported failed (e.g. timed out while a
        broker was down) yet written. An application that retries them without idempotence duplicates them."""
        return max(0, (self.topic_messages or 0) - self.delivered)

    def notes(self) -> list[str]:
        """Plain-language remarks on what the figures mean for this run."""
        out = []
        if self.written_but_not_acknowledged:
            out.append(f"The topic holds {self.written_but_not_acknowledged:,} message(s) more than were acknowledged: "
                       "the producer reported them failed, yet they were written. Retrying them without "
                       "idempotence would duplicate them.")
        if self.topic_messages is not None and self.topic_messages < self.delivered:
            out.append(f"{self.delivered - self.topic_messages:,} acknowledged message(s) are not in the topic"
                       + (" (acks=0 acknowledges without asking the broker)." if self.settings.acks == "0" else "."))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> dict[str, Any]:
        """The figures a sweep table or chart needs, flat."""
        s = self.settings
        return {
            "label": s.name, "acks": s.acks, "codec": s.compression, "linger_ms": s.linger_ms,
            "batch_size": s.batch_size, "delivered": self.delivered, "failed": self.failed,
            "msgs_per_s": self.msgs_per_s, "mb_per_s": self.mb_per_s,
            "avg_ms": self.latency.avg_ms, "p50_ms": self.latency.p50_ms, "p95_ms": self.latency.p95_ms,
            "p99_ms": self.latency.p99_ms, "p999_ms": self.latency.p999_ms, "max_ms": self.latency.max_ms,
            "compression_ratio": self.stats.compression_ratio, "avg_batch_bytes": self.stats.avg_batch_bytes,
            "msgs_per_batch": self.stats.avg_msgs_per_batch, "requests_per_s": self.stats.requests_per_s,
            "rtt_ms": self.stats.broker_rtt_avg_ms,
        }


@dataclass(frozen=True)
class SweepProgress:
    kind: str
    finished: tuple[ProduceResult, ...]
    total: int
    current: ProduceProgress | None = None


@dataclass(frozen=True)
class SweepResult:
    """Several produce runs that differ in one or two knobs."""

    #: "codec", "batch", "acks", "presets" or "custom"
    kind: str
    runs: tuple[ProduceResult, ...]
    planned: int
    elapsed_s: float
    stopped: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.runs]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- payloads -----------------------------------------------------------------------------------
def make_payloads(kind: str, size: int, n: int = PAYLOAD_POOL, seed: int = 42) -> list[bytes]:
    """``n`` distinct values of exactly ``size`` bytes: compressible text, JSON-like events, or random."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        if kind == "random":
            out.append(rnd.randbytes(size))
            continue
        if kind == "json":
            parts: list[str] = []
            j = 0
            while sum(map(len, parts)) < size:
                parts.append(json.dumps({"event_id": i * 1000 + j, "user": f"user-{rnd.randrange(5000)}",
                                         "action": rnd.choice(("view", "click", "cart", "order", "pay")),
                                         "amount": round(rnd.uniform(1, 500), 2),
                                         "ts": 1_764_000_000_000 + rnd.randrange(10**7)}))
                j += 1
            text = " ".join(parts)
        else:
            words: list[str] = []
            while sum(map(len, words)) + len(words) < size:
                words.append(rnd.choice(_WORDS))
            text = " ".join(words)
        out.append(text.encode()[:size].ljust(size, b" "))
    return out


# --- the experiment -----------------------------------------------------------------------------
class _Recorder:
    """Delivery reports, statistics and client errors of one run (called on the producing thread)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.latencies = array("d")
        self.intended = array("d")
        self.failed = 0
        self.errors: Counter[str] = Counter()
        self.client_errors: Counter[str] = Counter()
        # statistics, accumulated over windows
        self.stats_windows = 0
        self.batch_bytes_sum = 0
        self.batch_cnt_sum = 0
        self.msgs_in_batches = 0
        self.payload_bytes = 0
        self.requests = 0
        self.rtt_weighted = 0.0
        self.rtt_p99_max = 0.0
        self.rtt_count = 0
        self.on_delivery = self._make_on_delivery()

    @property
    def delivered(self) -> int:
        """Acknowledged messages: one latency is recorded per acknowledgement."""
        return len(self.latencies)

    def _make_on_delivery(self) -> Callable[[KafkaError | None, Message], None]:
        # called once per message on the producing thread: keep it to one append (locals, no attributes)
        append = self.latencies.append
        nan = float("nan")

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                lat = msg.latency()
                append(nan if lat is None else lat)
            else:
                self.failed += 1
                self.errors[err.name()] += 1
        return on_delivery

    def intended_cb(self, late_s: float) -> Callable[[KafkaError | None, Message], None]:
        def cb(err: KafkaError | None, msg: Message) -> None:
            self.on_delivery(err, msg)
            if err is None:
                self.intended.append(late_s + self.latencies[-1])
        return cb

    def on_error(self, err: KafkaError) -> None:
        self.client_errors[err.name()] += 1

    def on_stats(self, raw: str) -> None:
        s = json.loads(raw)
        self.stats_windows += 1
        t = s.get("topics", {}).get(self.topic)
        if t:
            self.batch_bytes_sum += int(t["batchsize"]["sum"])
            self.batch_cnt_sum += int(t["batchsize"]["cnt"])
            self.msgs_in_batches += int(t["batchcnt"]["sum"])
            # cumulative key+value bytes the partitions transmitted (before compression)
            self.payload_bytes = sum(int(p["txbytes"]) for k, p in t["partitions"].items() if k != "-1")
        self.requests = sum(int(b["tx"]) for b in s.get("brokers", {}).values())
        for b in s.get("brokers", {}).values():
            rtt = b.get("rtt", {})
            if rtt.get("cnt", 0) > 0:
                self.rtt_weighted += rtt["avg"] * rtt["cnt"]
                self.rtt_count += rtt["cnt"]
                self.rtt_p99_max = max(self.rtt_p99_max, float(rtt["p99"]))


def _fresh_topic(cluster: Cluster, settings: ProducerSettings) -> str:
    """Create the run's topic and prime it: one acks=all record per partition, so every leader is known
    to accept writes before the clock starts. Without it an acks=0 run on a topic a few milliseconds old
    can lose its first batches to a broker that does not know yet that it leads the partition."""
    name = f"{TOPIC_PREFIX}{uuid.uuid4().hex[:10]}"
    try:
        admin.create_topics(cluster, [TopicSpec(name, settings.partitions, settings.replication_factor,
                                                settings.topic_configs(), "a produce experiment")])
    except KafkaException as exc:
        raise KafkaOperationError(f"Could not create the run's topic on {cluster.bootstrap_servers()}: {exc}",
                                  hint=cluster.start_hint()) from exc
    failures: list[str] = []
    primer = clients.producer(cluster, {"acks": "all", "linger.ms": 0, "message.timeout.ms": PRIME_TIMEOUT_MS})
    for p in range(settings.partitions):
        primer.produce(name, b"", partition=p,
                       on_delivery=lambda err, _msg: failures.append(err.str()) if err is not None else None)
    left = primer.flush(PRIME_TIMEOUT_MS / 1000 + 1)
    if failures or left:
        delete_topic(cluster, name)
        raise KafkaOperationError(
            f"The fresh topic {name!r} did not accept writes: {failures[0] if failures else 'no answer'}.",
            hint="Check the cluster (`kafka-lab cluster status`): every broker should be running.")
    return name


def sample_interval(elapsed_s: float) -> float:
    """Seconds until the next throughput sample, ``elapsed_s`` seconds into a run."""
    return FINE_SAMPLE_INTERVAL_S if elapsed_s < FINE_SAMPLING_S else SAMPLE_INTERVAL_S


def delete_topic(cluster: Cluster, topic: str) -> None:
    """Best effort: a run's topic is not needed after its figures were read."""
    delete_topics(cluster, [topic])


def delete_topics(cluster: Cluster, topics: Sequence[str]) -> int:
    """Delete topics, retrying refused or unanswered requests for up to ``DELETE_WAIT_S`` seconds in all;
    returns how many are confirmed gone. Never raises: a dead or slow broker must not turn a finished
    run into a failure (a busy controller can time a request out, or a broker that has not seen a
    seconds-old topic yet can answer UNKNOWN_TOPIC_OR_PART to a delete it forwards too early)."""
    left = list(dict.fromkeys(topics))
    done = 0
    deadline = time.monotonic() + DELETE_WAIT_S
    problems: dict[str, str] = {}
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0:
            break
        try:
            adm = cluster.admin()  # keep the client alive until its futures resolve, or the request is dropped
            futures = adm.delete_topics(left, operation_timeout=wait, request_timeout=wait)
        except (KafkaException, LabError) as exc:
            problems = dict.fromkeys(left, str(exc))
            break
        failed: list[str] = []
        for name, fut in futures.items():
            try:
                fut.result(timeout=wait + 1)
                done += 1
            except KafkaException as exc:
                if admin.is_unknown_topic(exc) and name not in _existing(cluster):
                    done += 1  # already gone
                else:
                    failed.append(name)
                    problems[name] = str(exc)
            except (LabError, TimeoutError) as exc:
                failed.append(name)
                problems[name] = repr(exc)
        left = failed
        if left:
            time.sleep(0.2)
    for name in left:
        LOG.warning("Topic %s was not deleted within %.0f s (%s); `kafka-lab bench cleanup` removes leftovers.",
                    name, DELETE_WAIT_S, problems.get(name, "no answer"))
    return done


def _existing(cluster: Cluster) -> set[str]:
    try:
        return set(cluster.admin().list_topics(timeout=admin.ADMIN_TIMEOUT_S).topics)
    except KafkaException:
        return set()


def cleanup_topics(cluster: Cluster) -> list[str]:
    """Delete every topic a produce run left behind (name starts with ``TOPIC_PREFIX``); returns their names."""
    try:
        names = sorted(t for t in cluster.admin().list_topics(timeout=admin.ADMIN_TIMEOUT_S).topics
                       if t.startswith(TOPIC_PREFIX))
    except KafkaException as exc:
        raise KafkaOperationError(f"Could not list the topics: {exc}", hint=cluster.start_hint()) from exc
    for i in range(0, len(names), CLEANUP_CHUNK):
        delete_topics(cluster, names[i:i + CLEANUP_CHUNK])
    return names


def topic_message_count(cluster: Cluster, topic: str, partitions: int, *, expect: int | None = None,
                        settle_s: float = WATERMARK_SETTLE_S, timeout_s: float = 5.0) -> int | None:
    """Sum of (high - low) watermark over the topic's partitions, asked from the brokers; None if unknown.

    The high watermark moves once the followers have the records, a moment after an acks=0/1 ack, so
    with ``expect`` the count is read again (for up to ``settle_s`` s) until it reaches ``expect``.
    """
    consumer = clients.consumer(cluster, {"group.id": f"lab-watermarks-{uuid.uuid4().hex[:8]}",
                                          "enable.auto.commit": False})
    deadline = time.monotonic() + settle_s
    try:
        while True:
            total = 0
            for p in range(partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
                total += high - low
            if expect is None or total >= expect or time.monotonic() >= deadline:
                return total
            time.sleep(0.1)  # the followers are still fetching; ask again
    except KafkaException:
        return None
    finally:
        consumer.close()


class _E2EConsumer:
    """Reads the run's topic on a thread and records send->consume latency from the header clock."""

    def __init__(self, cluster: Cluster, topic: str, partitions: int) -> None:
        self.latencies = array("d")
        self.consumed = 0
        self._stop = threading.Event()
        self._consumer = clients.consumer(cluster, {
            "group.id": f"lab-e2e-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
            "fetch.wait.max.ms": E2E_FETCH_WAIT_MS,
        })
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        self._thread = threading.Thread(target=self._main, name="lab-e2e-consumer", daemon=True)
        self.error: str | None = None

    def start(self) -> _E2EConsumer:
        self._thread.start()
        return self

    def _main(self) -> None:
        try:
            while not self._stop.is_set():
                for msg in self._consumer.consume(num_messages=1000, timeout=0.1):
                    now = time.perf_counter_ns()
                    if msg.error() is not None:
                        continue
                    for header in msg.headers() or ():
                        k, v = header[0], header[1]
                        if k == E2E_HEADER and isinstance(v, bytes):
                            self.latencies.append((now - int(struct.unpack(">q", v)[0])) / 1e9)
                    self.consumed += 1
        except KafkaException as exc:
            self.error = str(exc)

    def wait_for(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.consumed < count and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.05)  # waiting for another thread's progress, not pretending to work

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()


def run(cluster: Cluster, settings: ProducerSettings, ctx: RunContext, *, keep_topic: bool = False) -> ProduceResult:
    """Run one produce experiment on a fresh topic; see the module docstring for what is measured.

    A cancel or the time limit stops sending; messages in flight then get ``FLUSH_GRACE_S`` seconds, and
    the result comes back with ``stopped`` set (a partial result, not an exception). With
    ``keep_topic=False`` the topic is deleted after its offsets were counted.
    """
    ctx.check()
    ctx.report(0.0, "creating a fresh topic")
    topic = _fresh_topic(cluster, settings)
    try:
        return _produce(cluster, settings, ctx, topic)
    finally:
        if not keep_topic:
            delete_topic(cluster, topic)


def _produce(cluster: Cluster, settings: ProducerSettings, ctx: RunContext, topic: str) -> ProduceResult:
    rec = _Recorder(topic)
    cfg: dict[str, Any] = {
        **settings.to_config(),
        "statistics.interval.ms": STATS_INTERVAL_MS,
        "stats_cb": rec.on_stats,
        "error_cb": rec.on_error,
    }
    if settings.rate is None:
        cfg["on_delivery"] = rec.on_delivery  # one bound method for all: the cheapest callback path
    payloads = make_payloads(settings.payload, settings.message_size)
    mask = PAYLOAD_POOL - 1
    spread = settings.key_spread
    count = settings.count
    e2e = _E2EConsumer(cluster, topic, settings.partitions).start() if settings.end_to_end else None
    producer = clients.producer(cluster, cfg)
    samples: list[IntervalSample] = []
    stopped: str | None = None
    sent = 0
    queue_full = 0
    produce_errors = 0
    # the previous sample: time since t0, delivered count, index into the latencies
    t_prev, d_prev, i_prev = 0.0, 0, 0
    before_last = (t_prev, d_prev, i_prev)
    key_size = 0

    def sample(now: float, *, final: bool = False) -> None:
        nonlocal t_prev, d_prev, i_prev, before_last
        dt = now - t0 - t_prev
        if final and samples and dt < sample_interval(t_prev) / 2:
            # a last sliver of interval holding the flush's acks would draw as a spike: fold it into the
            # interval before (the same messages over their real time)
            samples.pop()
            t_prev, d_prev, i_prev = before_last
            dt = now - t0 - t_prev
        if dt <= 0:
            return
        before_last = (t_prev, d_prev, i_prev)
        acked = rec.delivered - d_prev
        lat = np.frombuffer(rec.latencies, dtype=float)[i_prev:] * 1000.0
        p50, p99 = percentiles(lat, (0.5, 0.99))
        nbytes = acked * (settings.message_size + key_size)
        samples.append(IntervalSample(round(now - t0, 3), acked, acked / dt, mb(nbytes) / dt, p50, p99,
                                      rec.failed + produce_errors, sent - produce_errors - rec.delivered - rec.failed))
        t_prev, d_prev, i_prev = now - t0, rec.delivered, len(rec.latencies)
        frac = (min(1.0, (rec.delivered + rec.failed) / count) if count
                else min(1.0, (now - t0) / settings.duration_s) if settings.duration_s else None)
        ctx.report(frac, f"{settings.name}: {rec.delivered:,} acknowledged, {acked / dt:,.0f} msg/s",
                   ProduceProgress(topic, sent, rec.delivered, rec.failed + produce_errors, tuple(samples),
                                   settings.name))

    produce = producer.produce
    poll = producer.poll
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    next_sample = t0 + sample_interval(0.0)
    end_at = t0 + settings.duration_s if settings.duration_s is not None else float("inf")
    limit = count if count is not None else 2**62
    try:
        if settings.rate is None and spread == 0 and e2e is None:
            # the hot loop: as fast as the producer takes messages
            while sent < limit:
                try:
                    produce(topic, payloads[sent & mask])
                except BufferError:
                    # the local queue is full: serve delivery reports, but stay cancellable (a dead
                    # cluster keeps the queue full until delivery_timeout_ms)
                    queue_full += 1
                    poll(0.005)
                    if ctx.cancelled:
                        stopped = _reason(ctx)
                        break
                    if time.perf_counter() >= end_at:
                        break
                    continue
                except KafkaException as exc:
                    produce_errors += 1
                    rec.errors[exc.args[0].name() if exc.args else "produce"] += 1
                sent += 1
                poll(0)
                if sent % CHECK_EVERY == 0:
                    now = time.perf_counter()
                    if now >= next_sample:
                        sample(now)
                        next_sample = now + sample_interval(now - t0)
                    if now >= end_at:
                        break
                    if ctx.cancelled:
                        stopped = _reason(ctx)
                        break
        else:
            interval = 1.0 / settings.rate if settings.rate else 0.0
            while sent < limit:
                now = time.perf_counter()
                if now >= next_sample:
                    sample(now)
                    next_sample = now + sample_interval(now - t0)
                if now >= end_at:
                    break
                if ctx.cancelled:
                    stopped = _reason(ctx)
                    break
                intended = t0 + sent * interval
                if interval and now < intended:
                    poll(min(intended - now, 0.05))  # serve delivery reports while waiting for the slot
                    continue
                key = b"key-%d" % (sent % spread) if spread else None
                key_size = len(key) if key else 0
                headers: list[tuple[str, str | bytes | None]] | None = (
                    [(E2E_HEADER, struct.pack(">q", time.perf_counter_ns()))] if e2e is not None else None)
                try:
                    if interval:
                        produce(topic, payloads[sent & mask], key, headers=headers,
                                on_delivery=rec.intended_cb(now - intended))
                    else:
                        produce(topic, payloads[sent & mask], key, headers=headers, on_delivery=rec.on_delivery)
                except BufferError:
                    queue_full += 1
                    poll(0.005)
                    continue
                except KafkaException as exc:
                    produce_errors += 1
                    rec.errors[exc.args[0].name() if exc.args else "produce"] += 1
                sent += 1
                poll(0)

        # wait for the acknowledgements: bounded by the time limit, or a short grace after a cancel
        grace_end = time.monotonic() + (FLUSH_GRACE_S if stopped else max(ctx.remaining_s(), 0.0))

        def outstanding() -> int:
            # messages without a delivery report yet (len(producer) also counts queued events, e.g. stats)
            return sent - produce_errors - rec.delivered - rec.failed

        while outstanding() > 0 and time.monotonic() < grace_end:
            producer.flush(0.05)  # unlike poll, flush sends lingering batches at once (as Java's close does)
            now = time.perf_counter()
            if now >= next_sample:
                sample(now)
                next_sample = now + sample_interval(now - t0)
            if stopped is None and ctx.cancelled:
                stopped = _reason(ctx)
                grace_end = min(grace_end, time.monotonic() + FLUSH_GRACE_S)
        t_end = time.perf_counter()
        cpu_s = time.process_time() - cpu0
        sample(t_end, final=True)
        unacked = outstanding()
        if unacked and stopped is None:
            stopped = f"{unacked} message(s) were still unacknowledged when the run's time ran out"
        # one more statistics window so the last batches are counted
        windows = rec.stats_windows
        wait_end = time.monotonic() + STATS_WAIT_S
        while rec.stats_windows == windows and time.monotonic() < wait_end:
            poll(0.05)
        if e2e is not None:
            e2e.wait_for(rec.delivered + settings.partitions,  # the primed records are read too
                         min(E2E_DRAIN_S, ctx.remaining_s() + FLUSH_GRACE_S))
    finally:
        # purge whatever is still queued so close does not wait on a dead cluster
        producer.purge()
        producer.flush(0)
        if e2e is not None:
            e2e.stop()

    elapsed = t_end - t0
    primed = settings.partitions
    in_topic = topic_message_count(cluster, topic, settings.partitions, expect=rec.delivered + primed)
    topic_messages = None if in_topic is None else in_topic - primed
    return ProduceResult(
        settings=settings, topic=topic, backend=cluster.backend, bootstrap_servers=cluster.bootstrap_servers(),
        sent=sent, delivered=rec.delivered, failed=rec.failed + produce_errors, unacknowledged=unacked,
        topic_messages=topic_messages, elapsed_s=elapsed,
        msgs_per_s=rate(rec.delivered, elapsed),
        mb_per_s=rate(mb(rec.delivered * (settings.message_size + key_size)), elapsed),
        latency=LatencySummary.of_seconds(np.frombuffer(rec.latencies, dtype=float)),
        intended_latency=(LatencySummary.of_seconds(np.frombuffer(rec.intended, dtype=float))
                          if settings.rate is not None else None),
        e2e_latency=LatencySummary.of_seconds(np.frombuffer(e2e.latencies, dtype=float)) if e2e else None,
        errors=dict(rec.errors), client_errors=dict(rec.client_errors), queue_full=queue_full,
        stats=ClientStats(
            avg_batch_bytes=ratio(rec.batch_bytes_sum, rec.batch_cnt_sum),
            avg_msgs_per_batch=ratio(rec.msgs_in_batches, rec.batch_cnt_sum),
            batches=rec.batch_cnt_sum, requests=rec.requests, requests_per_s=rate(rec.requests, elapsed),
            broker_rtt_avg_ms=ratio(rec.rtt_weighted, rec.rtt_count) / 1000.0,
            broker_rtt_p99_ms=rec.rtt_p99_max / 1000.0,
            compression_ratio=ratio(rec.payload_bytes, rec.batch_bytes_sum),
            payload_bytes=rec.payload_bytes, wire_bytes=rec.batch_bytes_sum,
        ),
        samples=tuple(samples), stopped=stopped, primed=primed, cpu_s=cpu_s,
    )


def _reason(ctx: RunContext) -> str:
    reason = ctx._reason or "cancelled"
    return f"stopped early: {reason}"


# --- sweeps -------------------------------------------------------------------------------------
class _Slice(ChildContext):
    """One run's view of a sweep's context: its progress becomes a slice of the sweep's bar."""

    def __init__(self, parent: RunContext, index: int, total: int, kind: str,
                 finished: list[ProduceResult]) -> None:
        super().__init__(parent)
        self._index, self._total, self._kind, self._finished = index, total, kind, finished

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        frac = (self._index + (fraction or 0.0)) / self._total
        self.parent.report(frac, f"run {self._index + 1}/{self._total} — {message}",
                           SweepProgress(self._kind, tuple(self._finished), self._total,
                                         partial if isinstance(partial, ProduceProgress) else None))


def sweep(cluster: Cluster, variants: Sequence[ProducerSettings], ctx: RunContext, kind: str = "custom") -> SweepResult:
    """Run each settings variant on its own fresh topic, one after another."""
    t0 = time.perf_counter()
    finished: list[ProduceResult] = []
    stopped: str | None = None
    for i, s in enumerate(variants):
        if ctx.cancelled:
            stopped = _reason(ctx)
            break
        sub = _Slice(ctx, i, len(variants), kind, finished)
        result = run(cluster, s, sub)
        finished.append(result)
        if result.stopped and ctx.cancelled:
            stopped = result.stopped
            break
    ctx.report(len(finished) / max(1, len(variants)), f"{len(finished)}/{len(variants)} runs done",
               SweepProgress(kind, tuple(finished), len(variants)))
    return SweepResult(kind, tuple(finished), len(variants), time.perf_counter() - t0, stopped)


def codec_variants(base: ProducerSettings, codecs: Sequence[str] = CODECS) -> list[ProducerSettings]:
    return [base.replace(compression=c, compression_level=-1, label=c) for c in codecs]


#: The default linger.ms x batch.size grid (5 x 5): from "send at once" to the seeds' 10 ms and
#: beyond, and from 1 KiB to 256 KiB batches around the seeds' 16 KiB and 64 KiB.
BATCH_LINGERS_MS = (0.0, 1.0, 5.0, 10.0, 50.0)
BATCH_SIZES = (1_024, 4_096, 16_384, 65_536, 262_144)


def batch_variants(base: ProducerSettings, lingers: Sequence[float] = BATCH_LINGERS_MS,
                   sizes: Sequence[int] = BATCH_SIZES) -> list[ProducerSettings]:
    return [base.replace(linger_ms=float(lg), batch_size=int(b), label=f"linger {lg:g} ms / batch {b}")
            for lg in lingers for b in sizes]


def acks_variants(base: ProducerSettings, acks: Sequence[str] = ACKS) -> list[ProducerSettings]:
    # idempotence needs acks=all: switch it off for the others so the comparison is about acks alone
    return [base.replace(acks=a, enable_idempotence=base.enable_idempotence and a == "all", label=f"acks={a}")
            for a in acks]


def preset_variants(base: ProducerSettings, names: Sequence[str] = tuple(PRESETS)) -> list[ProducerSettings]:
    """The seeds' presets, each with the base's workload (count/duration, size, payload, rate...)."""
    workload = {k: getattr(base, k) for k in ("message_size", "payload", "key_spread", "partitions",
                                              "replication_factor", "count", "duration_s", "rate",
                                              "end_to_end", "topic_max_message_bytes", "delivery_timeout_ms")}
    return [PRESETS[n].replace(**workload, label=n) for n in names]


def codec_sweep(cluster: Cluster, base: ProducerSettings, ctx: RunContext,
                codecs: Sequence[str] = CODECS) -> SweepResult:
    return sweep(cluster, codec_variants(base, codecs), ctx, "codec")


def batch_sweep(cluster: Cluster, base: ProducerSettings, ctx: RunContext,
                lingers: Sequence[float] = BATCH_LINGERS_MS, sizes: Sequence[int] = BATCH_SIZES) -> SweepResult:
    return sweep(cluster, batch_variants(base, lingers, sizes), ctx, "batch")


def acks_sweep(cluster: Cluster, base: ProducerSettings, ctx: RunContext, acks: Sequence[str] = ACKS) -> SweepResult:
    return sweep(cluster, acks_variants(base, acks), ctx, "acks")


def preset_sweep(cluster: Cluster, base: ProducerSettings, ctx: RunContext,
                 names: Sequence[str] = tuple(PRESETS)) -> SweepResult:
    return sweep(cluster, preset_variants(base, names), ctx, "presets")


def time_limit_for(settings: ProducerSettings, runs: int = 1) -> float:
    """A generous bound for a run (or sweep): the duration plus room, or a default for counts."""
    per_run = (settings.duration_s + 30.0) if settings.duration_s is not None else 120.0
    return per_run * runs + 30.0


__all__ = [
    "BATCH_LINGERS_MS", "BATCH_SIZES", "ClientStats", "IntervalSample", "ProduceProgress", "ProduceResult",
    "SweepProgress", "SweepResult", "acks_sweep", "acks_variants", "batch_sweep", "batch_variants", "cleanup_topics",
    "codec_sweep", "codec_variants", "delete_topic", "make_payloads", "preset_sweep", "preset_variants", "run",
    "sweep", "time_limit_for", "topic_message_count",
]
