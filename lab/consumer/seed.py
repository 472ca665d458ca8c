"""The consumer lab's backlog: ``seed`` writes numbered records to a topic (``lab-consumer-tuning`` by default,
created with 6 partitions if missing); ``top_up`` writes only what a run needs beyond what the topic already
holds, so a benchmark's first run seeds its own backlog (no terminal needed) and later runs reuse it.

(Its own module so ``lab.consumer.fetch`` — the benchmark — and the cross-check can both seed;
``lab.consumer.fetch`` re-exports it.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, Message

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import ChildContext, RunContext
from lab.core.results import Result
from lab.core.stats import rate
from lab.core.validate import is_whole, require
from lab.kafka import admin, topics
from lab.kafka.load import PURGE_ERRORS
from lab.kafka.specs import TopicSpec

SEED_TOPIC = "lab-consumer-tuning"
SEED_PARTITIONS = 6
MAX_SEED = 10_000_000
MAX_MESSAGE_BYTES = 100_000
#: Seeding reports progress and looks at cancel once per this many messages, or per this many bytes if fewer.
SEED_CHECK_EVERY = 5_000
SEED_CHECK_BYTES = 4 * 1024 * 1024
#: How long seeding waits for its last acknowledgements.
SEED_FLUSH_S = 60.0


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


def backlog_size(cluster: Cluster, topic: str) -> tuple[int, int]:
    """(partitions, messages) of ``topic`` from the brokers; (0, 0) when it does not exist."""
    md = cluster.admin().list_topics(topic, timeout=admin.ADMIN_TIMEOUT_S).topics.get(topic)
    if md is None or md.error is not None or not md.partitions:
        return 0, 0
    n = len(md.partitions)
    return n, topics.topic_message_count(cluster, topic, n) or 0


class _Seeding(ChildContext):
    """A top-up inside a run: its progress said as seeding, on the run's own bar."""

    def __init__(self, parent: RunContext, what: str) -> None:
        super().__init__(parent)
        self._what = what

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        self.parent.report(None, f"{self._what}: {message}")


def top_up(cluster: Cluster, topic: str, at_least: int, ctx: RunContext) -> int:
    """Make ``topic`` hold at least ``at_least`` messages (created if missing, seeded with what is missing);
    returns what it holds. Nothing is written when it already holds enough: the seed is reused."""
    partitions, held = backlog_size(cluster, topic)
    if held >= at_least or ctx.cancelled:
        return held
    missing = min(at_least - held, MAX_SEED)
    why = "it does not exist yet" if not partitions else "it is empty" if not held else f"it holds {held:,}"
    r = seed(cluster, SeedSettings(topic, missing), _Seeding(ctx, f"seeding {topic} to {at_least:,} messages ({why})"))
    return r.topic_messages if r.topic_messages is not None else held + r.written


__all__ = ["MAX_MESSAGE_BYTES", "MAX_SEED", "SEED_PARTITIONS", "SEED_TOPIC", "SeedResult", "SeedSettings",
           "backlog_size", "seed", "top_up"]
