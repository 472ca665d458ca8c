"""What every share-group run starts from: a fresh topic holding a backlog of numbered records, and a
share group configured for the run (its own lock duration and delivery-count limit, reading from the
earliest offset).

Records are written one per batch (``batch.num.messages=1``): a share fetch acquires whole record
batches (KIP-1206's batch-optimised mode, the default), so records batched by the producer would be
acquired hundreds at a time by one member while the others sit idle; one record per batch lets the
broker hand them out a few at a time. Record ``seq`` carries ``str(seq)`` as its value and goes to
partition ``seq % partitions``.
"""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION
from lab.core.context import RunContext, poll_until
from lab.core.errors import KafkaOperationError, LabError
from lab.kafka import topics

TOPIC_PREFIX = "lab-share-"
#: How long writing the backlog may take before the run gives up (s).
PRODUCE_TIMEOUT_S = 60.0
#: Share groups are generally available from this Kafka version on (KIP-932).
SHARE_GA_VERSION = "4.2"
ADMIN_TIMEOUT_S = 15.0


class ShareGroupsUnavailable(LabError):
    """The cluster cannot run share groups (a 3.x broker, or 4.x with the share.version feature off)."""


def unavailable(detail: str) -> ShareGroupsUnavailable:
    return ShareGroupsUnavailable(
        f"This cluster cannot run share groups ({detail}).",
        hint=(f"Share groups (KIP-932) need Kafka {SHARE_GA_VERSION} or later with the share.version feature on "
              f"(the default from {SHARE_GA_VERSION}). Start a lab cluster of the default version: `kafka-lab cluster "
              f"down --purge`, then `kafka-lab cluster up --version {DEFAULT_KAFKA_VERSION}`; on 4.0/4.1 turn the "
              "feature on with `kafka-features --bootstrap-server … upgrade --feature share.version=1`."))


def version_refusal(kafka_version: str | None) -> ShareGroupsUnavailable | None:
    """Why a cluster of ``kafka_version`` cannot run share groups, or None when it can (or the version is not
    known: an external cluster is then asked by the run itself)."""
    if not kafka_version:
        return None
    try:
        major, minor = (int(x) for x in kafka_version.split(".")[:2])
    except ValueError:
        return None
    ga_major, ga_minor = (int(x) for x in SHARE_GA_VERSION.split("."))
    if (major, minor) >= (ga_major, ga_minor):
        return None
    return unavailable(f"it runs Kafka {kafka_version}, and share groups came in {SHARE_GA_VERSION}")


def require_share_groups(cluster: Cluster) -> None:
    """``ShareGroupsUnavailable`` before anything is made when the cluster says it runs a Kafka without share
    groups (a cluster that cannot say is tried: its first refusal says it instead)."""
    try:
        version = cluster.status().kafka_version
    except Exception:  # noqa: BLE001 - an external cluster may not say; the run will find out
        return
    refusal = version_refusal(version)
    if refusal is not None:
        raise refusal


def fresh_backlog(cluster: Cluster, partitions: int, records: int, ctx: RunContext) -> str:
    """A fresh topic (replication factor 3) holding ``records`` numbered records (and the one priming record per
    partition ``fresh_topic`` writes, which has no number). The caller owns the topic. Refuses a cluster
    that cannot run share groups first (``require_share_groups``)."""
    require_share_groups(cluster)
    topic = topics.fresh_topic(cluster, partitions, 3, prefix=TOPIC_PREFIX,
                               purpose="a share-group run", ctx=ctx)
    try:
        write(cluster, topic, partitions, records, ctx)
    except BaseException:
        topics.delete_topics(cluster, [topic])
        raise
    return topic


def write(cluster: Cluster, topic: str, partitions: int, records: int, ctx: RunContext) -> None:
    p = clients.producer(cluster, {"acks": "all", "linger.ms": 0, "batch.num.messages": 1,
                                   "enable.idempotence": True})
    failed: list[str] = []

    def report(err: object, _msg: object) -> None:
        if err is not None:
            failed.append(str(err))

    for seq in range(records):
        while True:
            try:
                p.produce(topic, str(seq).encode(), partition=seq % partitions, on_delivery=report)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    if not poll_until(lambda: p.flush(0.1) == 0, PRODUCE_TIMEOUT_S, ctx, every_s=0.0):
        p.purge()
        raise KafkaOperationError(f"Writing {records} records to {topic} did not finish within "
                                  f"{PRODUCE_TIMEOUT_S:.0f} s.", hint=cluster.start_hint())
    if failed:
        raise KafkaOperationError(f"{len(failed)} of {records} records were not written: {failed[0]}",
                                  hint=cluster.start_hint())


def configure_group(cluster: Cluster, group: str, *, lock_ms: int | None = None,
                    delivery_limit: int | None = None) -> dict[str, str]:
    """Set the share group's own configs before its first member joins: read from the earliest offset (a share
    group starts at the latest by default), and the lock duration and delivery-count limit when given.
    Returns what was set. ``ShareGroupsUnavailable`` when the broker has no group configs (3.x);
    ``KafkaOperationError`` naming the broker's refusal otherwise (e.g. a value below its minimum)."""
    configs = {"share.auto.offset.reset": "earliest"}
    if lock_ms is not None:
        configs["share.record.lock.duration.ms"] = str(lock_ms)
    if delivery_limit is not None:
        configs["share.delivery.count.limit"] = str(delivery_limit)
    res = ConfigResource(ResourceType.GROUP, group, incremental_configs=[
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()])
    adm = clients.admin(cluster)
    try:
        adm.incremental_alter_configs([res], request_timeout=ADMIN_TIMEOUT_S)[res].result(timeout=ADMIN_TIMEOUT_S + 5)
    except KafkaException as exc:
        text = str(exc)
        low = text.lower()
        # 3.x: "Unknown resource type 32" (no group configs at all); a broker without share groups: unknown keys
        if "unknown resource type" in low or "unsupported" in low:
            raise unavailable("the broker takes no group configs") from exc
        if "share." in low and "unknown" in low:
            raise unavailable("the broker knows no share-group configs") from exc
        raise KafkaOperationError(f"The broker refused the share group's settings {configs}: {text}",
                                  hint="A lab cluster allows a lock of 1 s to 60 s and 2 to 10 deliveries; another "
                                       "cluster may bound them by its group.share.min.*/max.* settings.") from exc
    return configs


__all__ = ["SHARE_GA_VERSION", "TOPIC_PREFIX", "ShareGroupsUnavailable", "configure_group", "fresh_backlog",
           "require_share_groups", "unavailable", "version_refusal", "write"]
