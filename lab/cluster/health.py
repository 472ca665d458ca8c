"""Proof that a cluster really works: produce one record with acks=all and read it back."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from lab import clients
from lab.errors import ClusterError

if TYPE_CHECKING:
    from lab.cluster.base import Cluster

HEALTH_TOPIC = "__kafka_lab_health"


def round_trip(cluster: Cluster, timeout_s: float = 30.0) -> float:
    """Produce one record (acks=all) and consume it back; returns seconds taken.

    Retries while the cluster settles (leaders being elected right after start) until ``timeout_s``.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout_s
    _create_health_topic(cluster, deadline)
    marker = uuid.uuid4().hex.encode()
    last_err: str | None = None
    while time.monotonic() < deadline:
        remaining_ms = int(max(1.0, deadline - time.monotonic()) * 1000)
        p = clients.producer(cluster, {"acks": "all", "message.timeout.ms": min(remaining_ms, 10_000)})
        errors: list[KafkaError] = []
        offsets: list[int] = []
        def on_delivery(err: KafkaError | None, msg: object, errors: list[KafkaError] = errors,
                        offsets: list[int] = offsets) -> None:
            errors.append(err) if err else offsets.append(msg.offset())  # type: ignore[attr-defined]

        p.produce(HEALTH_TOPIC, marker, partition=0, on_delivery=on_delivery)
        p.flush(min(remaining_ms, 10_000) / 1000)
        if offsets:
            c = clients.consumer(cluster, {"group.id": f"lab-health-{uuid.uuid4().hex[:8]}",
                                            "enable.auto.commit": False})
            try:
                c.assign([TopicPartition(HEALTH_TOPIC, 0, offsets[0])])
                while time.monotonic() < deadline:
                    msg = c.poll(0.5)
                    if msg is not None and not msg.error() and msg.value() == marker:
                        return time.monotonic() - t0
            finally:
                c.close()
        last_err = str(errors[0]) if errors else "no delivery report"
        time.sleep(0.3)
    raise ClusterError(f"The produce/consume round trip did not complete within {timeout_s:.0f} s ({last_err}).",
                       hint="The brokers started but are not serving; see `kafka-lab cluster status`.")


def _create_health_topic(cluster: Cluster, deadline: float) -> None:
    """Create the health-check topic, retrying while a just-started cluster settles.

    Right after start librdkafka may drop a request when it swaps its bootstrap connection for the real
    broker (``_DESTROY_BROKER``), or the controller may not be elected yet: those pass within seconds.
    """
    last: KafkaException | None = None
    while True:
        admin = clients.admin(cluster)
        try:
            replication = min(3, max(1, len(admin.list_topics(timeout=5).brokers)))
            fut = admin.create_topics(
                [NewTopic(HEALTH_TOPIC, 1, replication, config={"min.insync.replicas": "1"})],
                operation_timeout=10,
            )[HEALTH_TOPIC]
            fut.result(timeout=15)
            return
        except KafkaException as exc:
            if exc.args and isinstance(exc.args[0], KafkaError) and (
                exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS
            ):
                return
            last = exc
        if time.monotonic() >= deadline:
            raise ClusterError(f"Could not create the health-check topic: {last}",
                               hint="The brokers started but do not serve yet; see `kafka-lab cluster status` and "
                               "the broker logs.") from last
        time.sleep(0.5)
