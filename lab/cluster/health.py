"""Proof that a cluster really works: its brokers are registered, and one record produced with acks=all
is read back. Every backend waits for its brokers through these."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from lab.cluster import clients
from lab.core.context import poll_until
from lab.core.errors import ClusterError

if TYPE_CHECKING:
    from lab.cluster.base import Cluster

HEALTH_TOPIC = "__kafka_lab_health"
#: Bound on one metadata request while waiting for brokers: a starting broker answers or refuses fast.
METADATA_TIMEOUT_S = 2.0
#: Pause between readiness checks (a metadata request each) and between round-trip attempts.
READY_POLL_S = 0.3
#: Pause between attempts to create the health topic while the controller settles.
CREATE_RETRY_S = 0.5


def await_brokers(cluster: Cluster, nodes: Iterable[int], timeout_s: float, *,
                  check: Callable[[], None] | None = None, ask: str | None = None) -> set[int]:
    """Poll metadata until every broker in ``nodes`` is registered; returns those still missing (empty: all).

    ``check`` runs before each poll and may raise (e.g. a starting broker that exited); ``ask`` is a
    bootstrap to ask instead of the cluster's own, e.g. a restarted broker itself (the others keep listing
    a killed broker until its session times out).
    """
    want = set(nodes)
    missing = set(want)
    cfg: dict[str, object] = {"socket.connection.setup.timeout.ms": int(METADATA_TIMEOUT_S * 1000)}
    if ask is not None:
        cfg["bootstrap.servers"] = ask

    def all_registered() -> bool:
        if check is not None:
            check()
        try:
            listed = clients.admin(cluster, cfg).list_topics(timeout=METADATA_TIMEOUT_S).brokers
        except KafkaException:
            return False
        missing.clear()
        missing.update(want - set(listed))
        return not missing

    poll_until(all_registered, timeout_s, every_s=READY_POLL_S)
    return missing


def round_trip(cluster: Cluster, timeout_s: float = 30.0) -> float:
    """Produce one record (acks=all) and consume it back; returns seconds taken.

    Retries while the cluster settles (leaders being elected right after start) until ``timeout_s``.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout_s
    _create_health_topic(cluster, deadline)
    marker = uuid.uuid4().hex.encode()
    last_err: list[str] = ["no attempt"]

    def attempt() -> bool:
        remaining_ms = int(max(1.0, deadline - time.monotonic()) * 1000)
        p = clients.producer(cluster, {"acks": "all", "message.timeout.ms": min(remaining_ms, 10_000)})
        errors: list[KafkaError] = []
        offsets: list[int] = []

        def on_delivery(err: KafkaError | None, msg: object) -> None:
            errors.append(err) if err else offsets.append(msg.offset())  # type: ignore[attr-defined]

        p.produce(HEALTH_TOPIC, marker, partition=0, on_delivery=on_delivery)
        p.flush(min(remaining_ms, 10_000) / 1000)
        if offsets and _read_back(cluster, offsets[0], marker, deadline):
            return True
        last_err[0] = str(errors[0]) if errors else "no delivery report"
        return False

    if poll_until(attempt, max(0.0, deadline - time.monotonic()), every_s=READY_POLL_S):
        return time.monotonic() - t0
    raise ClusterError(f"The produce/consume round trip did not complete within {timeout_s:.0f} s ({last_err[0]}).",
                       hint="The brokers started but are not serving; see `kafka-lab cluster status`.")


def _read_back(cluster: Cluster, offset: int, marker: bytes, deadline: float) -> bool:
    """True once the record ``marker`` at ``offset`` of the health topic is read back before ``deadline``."""
    c = clients.consumer(cluster, {"group.id": f"lab-health-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False})
    try:
        c.assign([TopicPartition(HEALTH_TOPIC, 0, offset)])
        while time.monotonic() < deadline:
            msg = c.poll(0.5)  # blocks on the broker, not a sleep
            if msg is not None and not msg.error() and msg.value() == marker:
                return True
        return False
    finally:
        c.close()


def _create_health_topic(cluster: Cluster, deadline: float) -> None:
    """Create the health-check topic, retrying while a just-started cluster settles.

    Right after start librdkafka may drop a request when it swaps its bootstrap connection for the real
    broker (``_DESTROY_BROKER``), or the controller may not be elected yet: those pass within seconds.
    """
    last: list[KafkaException] = []

    def created() -> bool:
        admin = clients.admin(cluster)
        try:
            replication = min(3, max(1, len(admin.list_topics(timeout=5).brokers)))
            fut = admin.create_topics(
                [NewTopic(HEALTH_TOPIC, 1, replication, config={"min.insync.replicas": "1"})],
                operation_timeout=10,
            )[HEALTH_TOPIC]
            fut.result(timeout=15)
            return True
        except KafkaException as exc:
            if exc.args and isinstance(exc.args[0], KafkaError) and (
                exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS
            ):
                return True
            last[:] = [exc]
            return False

    if not poll_until(created, max(0.0, deadline - time.monotonic()), every_s=CREATE_RETRY_S):
        raise ClusterError(f"Could not create the health-check topic: {last[-1] if last else 'no answer'}",
                           hint="The brokers started but do not serve yet; see `kafka-lab cluster status` and "
                           "the broker logs.") from (last[-1] if last else None)
