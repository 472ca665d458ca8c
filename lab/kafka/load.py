"""Load the other experiments run against: a steady background producer, and short probe bursts.

- ``BackgroundProducer`` writes ``rate_per_s`` messages a second to one topic in its own thread while a
  scenario breaks brokers (or a consumer, lag or exactly-once lab reads), and counts every delivery
  report per second (``ProduceSample``) on the caller's clock. It is owned with ``with``: leaving the
  block always stops the thread and closes the producer.
- ``probe`` writes a burst of ``n`` numbered messages with one producer and waits for every delivery
  report: how many were acknowledged, how many refused and with which Kafka error (``ProbeOutcome``).
- ``read_ids`` reads a partition back and gives the message ids it holds, to count what survived.

Message values start with the message's id (``b"17"``, padded with spaces to ``message_bytes``), so
what was acknowledged can be compared with what a consumer finds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext
from lab.core.validate import is_whole, require
from lab.kafka import admin as lab_admin

#: A probe write gives up after this long: long enough for a healthy acks=all round trip under load,
#: short enough that a partition without a leader shows up as failures within the demo.
PROBE_MESSAGE_TIMEOUT_MS = 6000
#: How long a probe waits for its last delivery reports beyond the message timeout.
PROBE_FLUSH_MARGIN_S = 5.0
#: How long stopping a background producer waits for its last deliveries (a cancel must not hang on them).
FLUSH_ON_STOP_S = 10.0
#: ... and after a cancel of its run: this long after the press at most (the partial result is due at once).
FLUSH_ON_CANCEL_S = 0.5
#: One flush slice while stopping (the run's cancel is looked at between).
STOP_FLUSH_SLICE_S = 0.05
#: How long stopping waits for the producing thread to leave its loop.
THREAD_JOIN_S = 5.0
#: A little batching keeps a steady stream cheap for the small machine the brokers share.
BACKGROUND_LINGER_MS = 5
#: Highest background rate: the lab's three brokers share a small machine with the app.
MAX_BACKGROUND_RATE = 5000
#: Largest background message (bytes): well under the brokers' default max.message.bytes.
MAX_BACKGROUND_MESSAGE_BYTES = 100_000
#: Most distinct keys a background producer cycles through.
MAX_BACKGROUND_KEYS = 100_000
#: Keys the background producer sets itself; overriding them would break what it measures.
OWNED_CONFIG_KEYS = frozenset({"bootstrap.servers", "on_delivery", "logger"})
#: The errors librdkafka reports for messages purged because their producer is being closed.
PURGE_ERRORS = frozenset({"_PURGE_QUEUE", "_PURGE_INFLIGHT"})


@dataclass(frozen=True)
class ProduceSample:
    """Deliveries that completed in the second starting at ``t`` (seconds since the recording started)."""

    t: float
    acked: int
    failed: int
    #: Kafka error name -> count, e.g. {"NOT_ENOUGH_REPLICAS": 12}.
    errors: dict[str, int] = field(default_factory=dict)
    #: Slowest send -> ack time in this second (ms), from ``Message.latency()``.
    max_latency_ms: float | None = None


@dataclass(frozen=True)
class BackgroundProducerSettings:
    """The shape of a steady background load: how fast, how durable, how large, keyed or not."""

    rate_per_s: int = 50
    acks: str = "all"
    #: librdkafka retries are off so each rejection is seen (and counted) instead of hidden by a retry.
    retries: int = 0
    message_timeout_ms: int = PROBE_MESSAGE_TIMEOUT_MS
    #: Each value is the message id padded with spaces to this many bytes (0: just the id).
    message_bytes: int = 0
    #: 0: no keys (librdkafka's sticky partitioner spreads the load); N: keys ``key-0`` … ``key-N-1`` in turn.
    keys: int = 0
    #: Extra librdkafka settings (dotted keys), applied last, e.g. {"compression.type": "lz4"}.
    config: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require(is_whole(self.rate_per_s) and 1 <= self.rate_per_s <= MAX_BACKGROUND_RATE,
                f"Background producer rate {self.rate_per_s!r} is out of range.",
                f"Use 1 to {MAX_BACKGROUND_RATE} messages per second (the lab's brokers share a small machine).")
        require(self.acks in ("0", "1", "all"), f"acks={self.acks!r} is not valid.", "Use 0, 1 or all.")
        require(is_whole(self.retries) and 0 <= self.retries <= 10, f"retries={self.retries!r} is out of range.",
                "Use 0 to 10.")
        require(is_whole(self.message_timeout_ms) and 1000 <= self.message_timeout_ms <= 120_000,
                f"message timeout {self.message_timeout_ms!r} ms is out of range.", "Use 1000 to 120000 ms.")
        require(is_whole(self.message_bytes) and 0 <= self.message_bytes <= MAX_BACKGROUND_MESSAGE_BYTES,
                f"message size {self.message_bytes!r} bytes is out of range.",
                f"Use 0 (just the id) to {MAX_BACKGROUND_MESSAGE_BYTES} bytes.")
        require(is_whole(self.keys) and 0 <= self.keys <= MAX_BACKGROUND_KEYS, f"keys={self.keys!r} is out of range.",
                f"Use 0 (no keys) to {MAX_BACKGROUND_KEYS} distinct keys.")
        for key, value in self.config.items():
            require(isinstance(key, str) and isinstance(value, str),
                    f"Producer setting {key!r}={value!r} must be text.", "Give librdkafka settings as strings.")
            require(key not in OWNED_CONFIG_KEYS, f"Producer setting {key!r} cannot be overridden here.",
                    f"The background producer sets {', '.join(sorted(OWNED_CONFIG_KEYS))} itself.")

    def to_config(self) -> dict[str, str | int | bool]:
        """The librdkafka properties, dotted keys, in one place (``config`` last, so it wins)."""
        return {"acks": self.acks, "retries": self.retries, "linger.ms": BACKGROUND_LINGER_MS,
                "message.timeout.ms": self.message_timeout_ms, "enable.idempotence": False, **self.config}

    def value(self, seq: int) -> bytes:
        """The value of message ``seq``: its id, padded to ``message_bytes``."""
        return str(seq).encode().ljust(self.message_bytes)

    def key(self, seq: int) -> bytes | None:
        return None if self.keys == 0 else f"key-{seq % self.keys}".encode()


class _Bucket:
    """Delivery reports of one second."""

    __slots__ = ("acked", "errors", "failed", "max_latency_ms")

    def __init__(self) -> None:
        self.acked = 0
        self.failed = 0
        self.errors: dict[str, int] = {}
        self.max_latency_ms: float | None = None


def message_id(value: bytes | None) -> int | None:
    """The id a lab producer wrote into a value (``b"17   "`` -> 17); None for other values."""
    if value is None:
        return None
    try:
        return int(value.split(b" ", 1)[0])
    except ValueError:
        return None


class BackgroundProducer:
    """Produces ``settings.rate_per_s`` messages a second to ``topic`` in its own thread; counts every delivery.

    Owned with ``with``: leaving the block stops the thread, waits (bounded) for outstanding deliveries,
    drops what is still pending and closes the producer. ``t0`` is the ``time.monotonic()`` the samples'
    ``t`` counts from (default: now); ``partition`` pins every message to one partition; ``ctx``: the run
    it serves, whose cancel cuts the wait for the last deliveries short (``FLUSH_ON_CANCEL_S``).
    """

    def __init__(self, cluster: Cluster, topic: str, settings: BackgroundProducerSettings,
                 t0: float | None = None, partition: int | None = None, ctx: RunContext | None = None) -> None:
        self.topic = topic
        self.settings = settings
        self.partition = partition
        self.ctx = ctx
        self._t0 = time.monotonic() if t0 is None else t0
        self._producer: Producer = clients.producer(cluster, settings.to_config())
        self._lock = threading.Lock()
        self._buckets: dict[int, _Bucket] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="lab-bg-producer", daemon=True)
        self._closed = False
        #: messages handed to the producer
        self.sent = 0
        #: ``produce()`` calls refused because the local queue was full (brokers refusing or slow)
        self.queue_full = 0
        #: messages still undelivered when the producer was closed (purged, never acknowledged)
        self.dropped_on_stop = 0
        self.acked_ids: set[int] = set()

    def __enter__(self) -> BackgroundProducer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop writing, wait (bounded) for outstanding deliveries, drop the rest, close. Idempotent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=THREAD_JOIN_S)
        if self._closed:
            return
        self._closed = True
        end = time.monotonic() + min(self.settings.message_timeout_ms / 1000 + 2, FLUSH_ON_STOP_S)
        while self._producer.flush(STOP_FLUSH_SLICE_S) > 0 and time.monotonic() < end:
            pressed = self.ctx.cancelled_at if self.ctx is not None else None
            if pressed is not None:  # a cancelled run's result is due now: what is still unanswered is dropped
                end = min(end, pressed + FLUSH_ON_CANCEL_S)
        # close() would wait for every message's own timeout: purge instead, so a stop is bounded
        self._producer.purge(in_queue=True, in_flight=True, blocking=False)
        self._producer.flush(0)  # hands out the purge reports (not counted as the brokers' refusals)
        self._producer.close()

    @property
    def acked(self) -> int:
        with self._lock:
            return sum(b.acked for b in self._buckets.values())

    @property
    def failed(self) -> int:
        with self._lock:
            return sum(b.failed for b in self._buckets.values())

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None and err.name() in PURGE_ERRORS:
            self.dropped_on_stop += 1
            return
        sec = int(time.monotonic() - self._t0)
        with self._lock:
            b = self._buckets.setdefault(sec, _Bucket())
            if err is None:
                b.acked += 1
                lat = msg.latency()
                if lat is not None:
                    b.max_latency_ms = max(b.max_latency_ms or 0.0, lat * 1000)
                mid = message_id(msg.value())
                if mid is not None:
                    self.acked_ids.add(mid)
            else:
                b.failed += 1
                b.errors[err.name()] = b.errors.get(err.name(), 0) + 1

    def _main(self) -> None:
        interval = 1.0 / self.settings.rate_per_s
        kwargs: dict[str, Any] = {} if self.partition is None else {"partition": self.partition}
        nxt = time.monotonic()
        while not self._stop.is_set():
            try:
                self._producer.produce(self.topic, value=self.settings.value(self.sent),
                                       key=self.settings.key(self.sent), on_delivery=self._on_delivery, **kwargs)
                self.sent += 1
            except BufferError:  # the local queue is full (brokers refusing): let deliveries drain it
                self.queue_full += 1
            self._producer.poll(0)
            nxt += interval
            delay = nxt - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -1.0:  # fell far behind (machine busy): do not burst to catch up
                nxt = time.monotonic()
        self._producer.poll(0)

    def samples(self) -> list[ProduceSample]:
        """One sample per second that saw a delivery report, in time order."""
        with self._lock:
            return [ProduceSample(float(s), b.acked, b.failed, dict(b.errors),
                                  None if b.max_latency_ms is None else round(b.max_latency_ms, 1))
                    for s, b in sorted(self._buckets.items())]


# =================================================================================================
# Probes: a burst of numbered writes, every delivery report awaited
# =================================================================================================
@dataclass(frozen=True)
class ProbeOutcome:
    """A burst of probe writes with one acks setting: how many were acknowledged, how many refused and why."""

    acks: str
    sent: int
    acked: int
    failed: int
    errors: dict[str, int] = field(default_factory=dict)
    acked_ids: tuple[int, ...] = ()


@contextlib.contextmanager
def owned_producer(cluster: Cluster, config: dict[str, Any]) -> Iterator[Producer]:
    """A producer that is closed on leaving the block, at once: what is still pending then is dropped
    (purged) rather than waited for, so a cancel or a failure never hangs on a broker that is down."""
    prod = clients.producer(cluster, config)
    try:
        yield prod
    finally:
        prod.purge(in_queue=True, in_flight=True, blocking=False)
        prod.flush(0)  # hands out the purge reports
        prod.close()


def probe_producer(cluster: Cluster, acks: str) -> contextlib.AbstractContextManager[Producer]:
    """A producer for ``probe``, owned with ``with`` (see ``owned_producer``).

    retries=0: a refused write is reported with the broker's own error instead of being retried away.
    """
    return owned_producer(cluster, {"acks": acks, "retries": 0, "enable.idempotence": False, "linger.ms": 0,
                                    "message.timeout.ms": PROBE_MESSAGE_TIMEOUT_MS})


def probe(producer: Producer, topic: str, acks: str, n: int, first_id: int = 0, partition: int = 0) -> ProbeOutcome:
    """Write ``n`` messages (ids ``first_id..``) and wait for every delivery report (bounded)."""
    acked: list[int] = []
    errors: dict[str, int] = {}

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            mid = message_id(msg.value())
            acked.append(-1 if mid is None else mid)
        else:
            errors[err.name()] = errors.get(err.name(), 0) + 1

    for i in range(n):
        producer.produce(topic, value=str(first_id + i).encode(), partition=partition, on_delivery=on_delivery)
        producer.poll(0)
    left = producer.flush(PROBE_MESSAGE_TIMEOUT_MS / 1000 + PROBE_FLUSH_MARGIN_S)
    if left:
        errors["NO_DELIVERY_REPORT"] = errors.get("NO_DELIVERY_REPORT", 0) + left
    return ProbeOutcome(acks, n, len(acked), n - len(acked), errors, tuple(sorted(acked)))


def probe_topics(producer: Producer, topics: list[str], acks: str, n: int,
                 first_id: int = 0) -> dict[str, ProbeOutcome]:
    """``probe`` several topics at once: a topic without a leader costs one message timeout, not one each."""
    out: dict[str, ProbeOutcome] = {}
    threads = [threading.Thread(target=lambda t=t: out.__setitem__(t, probe(producer, t, acks, n, first_id)),
                                name=f"lab-probe-{i}") for i, t in enumerate(topics)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def read_ids(cluster: Cluster, topic: str, partition: int = 0, timeout_s: float = 30.0) -> list[int]:
    """Every message id in the partition, in offset order, from the log start to the high watermark."""
    ids = (message_id(msg.value()) for msg in lab_admin.read_partition(cluster, topic, partition, timeout_s))
    return [i for i in ids if i is not None]
