"""Topic lifecycle for experiment runs: a fresh, primed topic per run, deleted (with retries) once its
figures were read, leftovers cleaned up, and what a topic holds counted from the brokers' watermarks.

(Kept out of ``admin.py`` so that module stays under ~500 lines; it builds on ``admin.create_topics``.)
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext, poll_until
from lab.core.errors import Cancelled, KafkaOperationError, LabError
from lab.kafka import acl
from lab.kafka.admin import ADMIN_TIMEOUT_S, broker_configs, create_topics, is_unknown_topic
from lab.kafka.specs import ClusterLimits, TopicSpec

LOG = logging.getLogger(__name__)

#: Prefix of the fresh topics experiments create for one run (produce runs, the perf tool);
#: ``cleanup_topics`` (``kafka-lab producer cleanup``) deletes what crashed runs left behind.
FRESH_TOPIC_PREFIX = "lab-produce-"
#: How long priming a fresh topic (one record per partition) may take.
PRIME_TIMEOUT_MS = 15_000
#: How long deleting topics keeps asking until the deletion is confirmed (retrying refusals and timeouts).
DELETE_WAIT_S = 10.0
#: Pause between two rounds of delete requests.
DELETE_RETRY_S = 0.2
#: Topics deleted per request when cleaning up leftovers.
CLEANUP_CHUNK = 50
#: How long the topic's high watermarks may take to catch up with the acks (replication of the tail).
WATERMARK_SETTLE_S = 10.0
#: Pause between two reads of the watermarks while the followers are still fetching.
WATERMARK_POLL_S = 0.1


def fresh_topic(cluster: Cluster, partitions: int, replication_factor: int, configs: dict[str, str] | None = None,
                *, prefix: str = FRESH_TOPIC_PREFIX, purpose: str = "one experiment run",
                ctx: RunContext | None = None) -> str:
    """Create a topic named ``prefix`` + a random suffix and prime it: one acks=all record per partition,
    so every leader is known to accept writes before a run's clock starts (without it an acks=0 run on a
    topic a few milliseconds old can lose its first batches to a broker that does not know yet that it
    leads the partition). Returns the name; the caller owns the topic (``delete_topic``).

    Subtract ``partitions`` primed records from what the topic holds to count a run's own. A cancel of
    ``ctx`` while waiting deletes the topic and raises ``Cancelled``.
    """
    return fresh_topics(cluster, [(partitions, replication_factor, configs)], prefix=prefix, purpose=purpose,
                        ctx=ctx)[0]


def fresh_topics(cluster: Cluster, shapes: Sequence[tuple[int, int, dict[str, str] | None]], *,
                 prefix: str = FRESH_TOPIC_PREFIX, purpose: str = "one experiment run",
                 ctx: RunContext | None = None) -> list[str]:
    """``fresh_topic`` for several runs at once — (partitions, replication factor, configs) each — in one
    create request and one priming: a sweep pays the wait for new leaders and followers (about a second on
    this machine) once, not once per cell. If priming fails or is cancelled, all of them are deleted."""
    specs = [TopicSpec(f"{prefix}{uuid.uuid4().hex[:10]}", parts, rf, dict(configs or {}), purpose)
             for parts, rf, configs in shapes]
    names = [sp.name for sp in specs]
    if not specs:
        return names
    try:
        create_topics(cluster, specs, ctx=ctx)
    except KafkaException as exc:
        raise KafkaOperationError(f"Could not create the run's topic on {cluster.bootstrap_servers()}: {exc}",
                                  hint=cluster.start_hint()) from exc
    failures: list[tuple[KafkaError, str | None]] = []
    primer = clients.producer(cluster, {"acks": "all", "linger.ms": 0, "message.timeout.ms": PRIME_TIMEOUT_MS})
    for sp in specs:
        for p in range(sp.partitions):
            primer.produce(sp.name, b"", partition=p,
                           on_delivery=lambda err, m: failures.append((err, m.topic())) if err is not None else None)
    try:
        # flush in short slices so a cancel is seen while a slow leader is still answering
        poll_until(lambda: primer.flush(0.1) == 0, PRIME_TIMEOUT_MS / 1000 + 1, ctx, every_s=0.0)
    except Cancelled:
        primer.purge()
        delete_topics(cluster, names)
        raise
    if failures or len(primer):
        primer.purge()
        delete_topics(cluster, names)
        if failures:
            acl.raise_if_denied(failures[0][0], cluster, "Write", topic=failures[0][1])
        what = f"The fresh topic {names[0]!r}" if len(names) == 1 else f"One of {len(names)} fresh topics"
        raise KafkaOperationError(
            f"{what} did not accept writes: "
            + (failures[0][0].str() if failures else f"no acknowledgement of its priming record(s) within "
               f"{PRIME_TIMEOUT_MS / 1000:.0f} s") + ".",
            hint="Check the cluster (`kafka-lab cluster status`): every broker should be running.")
    return names


def cluster_limits(cluster: Cluster) -> ClusterLimits:
    """The brokers' message.max.bytes, socket.request.max.bytes and replica.fetch.max.bytes as one broker
    reports them (Admin API, describe_configs); Kafka's defaults for what cannot be read (a limit is a guard,
    never a reason to fail a run by itself)."""
    default = ClusterLimits()
    try:
        brokers = sorted(cluster.admin().list_topics(timeout=ADMIN_TIMEOUT_S).brokers)
    except (KafkaException, LabError):
        return default
    if not brokers:
        return default
    got = broker_configs(cluster, brokers[0], ("message.max.bytes", "socket.request.max.bytes",
                                               "replica.fetch.max.bytes"))

    def read(key: str, fallback: int) -> int:
        value = got.get(key)
        return int(value) if value is not None and value.isdigit() else fallback

    return ClusterLimits(read("message.max.bytes", default.message_max_bytes),
                         read("socket.request.max.bytes", default.socket_request_max_bytes),
                         read("replica.fetch.max.bytes", default.replica_fetch_max_bytes), read_from_brokers=bool(got))


def delete_topic(cluster: Cluster, topic: str) -> None:
    """Best effort: a run's topic is not needed after its figures were read (see ``delete_topics``)."""
    delete_topics(cluster, [topic])


def delete_topics(cluster: Cluster, topics: Sequence[str]) -> int:
    """Delete topics, retrying refused or unanswered requests for up to ``DELETE_WAIT_S`` seconds in all;
    returns how many are confirmed gone. Never raises: a dead or slow broker must not turn a finished
    run into a failure (a busy controller can time a request out, or a broker that has not seen a
    seconds-old topic yet can answer UNKNOWN_TOPIC_OR_PART to a delete it forwards too early).

    Takes no run context on purpose: it cleans up after a cancel, so a cancel must not cut it short.
    """
    left = list(dict.fromkeys(topics))
    done = 0
    deadline = time.monotonic() + DELETE_WAIT_S
    problems: dict[str, str] = {}

    def attempt() -> bool:
        """One round of requests for what is left; True when nothing is left (or asking is pointless)."""
        nonlocal left, done, problems
        wait = max(0.1, deadline - time.monotonic())
        try:
            adm = cluster.admin()  # keep the client alive until its futures resolve, or the request is dropped
            futures = adm.delete_topics(left, operation_timeout=wait, request_timeout=wait)
        except (KafkaException, LabError) as exc:
            problems = dict.fromkeys(left, str(exc))
            return True
        failed: list[str] = []
        for name, fut in futures.items():
            try:
                fut.result(timeout=wait + 1)
                done += 1
            except KafkaException as exc:
                if is_unknown_topic(exc) and name not in _existing_topics(cluster):
                    done += 1  # already gone
                else:
                    failed.append(name)
                    problems[name] = str(exc)
            except (LabError, TimeoutError) as exc:
                failed.append(name)
                problems[name] = repr(exc)
        left = failed
        return not left

    if left and not poll_until(attempt, DELETE_WAIT_S, every_s=DELETE_RETRY_S):
        for name in left:
            LOG.warning("Topic %s was not deleted within %.0f s (%s); `kafka-lab producer cleanup` removes leftovers.",
                        name, DELETE_WAIT_S, problems.get(name, "no answer"))
    return done


def _existing_topics(cluster: Cluster) -> set[str]:
    try:
        return set(cluster.admin().list_topics(timeout=ADMIN_TIMEOUT_S).topics)
    except KafkaException:
        return set()


def cleanup_topics(cluster: Cluster, prefix: str = FRESH_TOPIC_PREFIX) -> list[str]:
    """Delete every topic whose name starts with ``prefix`` (what runs left behind); returns their names."""
    try:
        names = sorted(t for t in cluster.admin().list_topics(timeout=ADMIN_TIMEOUT_S).topics if t.startswith(prefix))
    except KafkaException as exc:
        raise KafkaOperationError(f"Could not list the topics: {exc}", hint=cluster.start_hint()) from exc
    for i in range(0, len(names), CLEANUP_CHUNK):
        delete_topics(cluster, names[i:i + CLEANUP_CHUNK])
    return names


def topic_message_count(cluster: Cluster, topic: str, partitions: int, *, expect: int | None = None,
                        settle_s: float = WATERMARK_SETTLE_S, timeout_s: float = 5.0) -> int | None:
    """Sum of (high - low) watermark over the topic's partitions, asked from the brokers; None if unknown.

    The high watermark moves once the followers have the records, a moment after an acks=0/1 ack, so
    with ``expect`` the count is read again (for up to ``settle_s`` s) until it reaches ``expect``; then
    the last count read is returned even if it is short. A partition whose leader is gone (a broker was
    just killed) cannot answer until the controller has elected another, so a read that fails is tried
    again within the same bound; None only when no read of every partition succeeded. Takes no run
    context: a stopped run counts too.
    """
    consumer = clients.consumer(cluster, {"group.id": f"lab-watermarks-{uuid.uuid4().hex[:8]}",
                                          "enable.auto.commit": False})
    total: int | None = None

    def settled() -> bool:
        nonlocal total
        try:
            count = 0
            for p in range(partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)
                count += high - low
        except KafkaException:
            return False  # e.g. a partition without a leader yet: ask again
        total = count
        return expect is None or count >= expect

    try:
        poll_until(settled, settle_s, every_s=WATERMARK_POLL_S)
        return total
    finally:
        consumer.close()


__all__ = [
    "CLEANUP_CHUNK", "DELETE_WAIT_S", "FRESH_TOPIC_PREFIX", "PRIME_TIMEOUT_MS", "WATERMARK_SETTLE_S", "cleanup_topics",
    "cluster_limits",
    "delete_topic", "delete_topics", "fresh_topic", "fresh_topics", "topic_message_count",
]
