"""Topics: the lab's catalogue (settings taken from the course seeds), creating them idempotently,
and describing partitions, leaders, replicas, ISR and non-default configs."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from confluent_kafka import ElectionType, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ClusterMetadata,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
)

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext, poll_until
from lab.core.errors import KafkaOperationError, LabError, SettingsError, UnreachableError
from lab.kafka import acl, kafka_topics
from lab.kafka.specs import TopicSpec

#: How long one admin request may take before the lab reports it instead of waiting on.
ADMIN_TIMEOUT_S = 15.0
#: How long a just-created topic may take to appear in every broker's metadata.
METADATA_SETTLE_S = 3.0
#: How long topic creation waits for enough brokers to be registered before saying which are missing
#: (a broker resumed or restarted a moment ago is fenced until it has caught up with the metadata).
BROKERS_SETTLE_S = 15.0
#: Pause between two looks at the registered brokers while waiting for them.
BROKERS_POLL_S = 0.5
#: Pause between two reads of the metadata while a just-created topic spreads to every broker.
METADATA_POLL_S = 0.2
#: Errors that cut a topic request off on the client, or that ask for it again, so it is sent again: the
#: broker handle it was in flight on was dropped (librdkafka drops a bootstrap connection once it knows
#: the brokers, and a broker a metadata reply leaves out, e.g. one fenced for a moment), the connection
#: broke, the request timed out, or the controller moved. Whether it reached the controller is unknown.
RESEND_ERRORS = frozenset({KafkaError._DESTROY_BROKER, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
                           KafkaError.REQUEST_TIMED_OUT, KafkaError.NOT_CONTROLLER})
#: How long topic creation sends a cut-off request again, and the pause between two sends.
CREATE_RESEND_S = 30.0
CREATE_RESEND_POLL_S = 0.5
#: Topics the lab itself uses internally; hidden from listings unless asked for.
HIDDEN_PREFIXES = ("__",)

MIB = 1024 * 1024
LAB_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("lab-replication-demo", 3, 3, {"min.insync.replicas": "2"},
              "Replication, ISR and min.insync.replicas under broker failure."),
    TopicSpec(
        "lab-deep-dive-topic", 3, 3,
        {"segment.bytes": str(10 * MIB), "segment.ms": "3600000", "retention.bytes": str(100 * MIB),
         "retention.ms": "604800000", "cleanup.policy": "delete", "compression.type": "gzip",
         "min.insync.replicas": "2"},
        "Log segments and retention: 10 MiB / 1 h segments, 100 MiB / 7 day retention, gzip on the broker.",
    ),
    TopicSpec("lab-compression-bench", 3, 3, {"compression.type": "producer"},
              "Codec comparison: the broker keeps whatever codec the producer used."),
    TopicSpec("lab-batch-bench", 3, 3, {}, "linger.ms x batch.size experiments."),
    TopicSpec("lab-consumer-tuning", 6, 3, {}, "Fetch tuning, assignment strategies and lag (6 partitions)."),
    TopicSpec(
        "lab-compacted-demo", 1, 3,
        {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "segment.ms": "10000",
         "segment.bytes": str(MIB), "delete.retention.ms": "1000", "min.compaction.lag.ms": "0"},
        "Log compaction: only the latest value per key survives cleaning.",
    ),
    TopicSpec("lab-transactions-demo", 3, 3, {"min.insync.replicas": "2"},
              "Idempotent and transactional producers."),
)


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    leader: int  # -1 when the partition has no leader (offline)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    #: eligible leader replicas and last known ELR (KIP-966) from Kafka's own tool; None: not read
    elr: tuple[int, ...] | None = None
    last_known_elr: tuple[int, ...] | None = None

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True)
class TopicInfo:
    name: str
    partitions: tuple[PartitionInfo, ...]
    #: Configs set on the topic itself (not broker or built-in defaults).
    configs: dict[str, str]
    #: where ``elr``/``last_known_elr`` came from ("" when not asked for), and the cluster's ELR feature level
    elr_source: str = ""
    elr_feature_level: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CreateOutcome:
    name: str
    #: "created" or "exists" (configs re-applied)
    action: str
    partitions: int
    note: str = ""


def _kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def create_topics(cluster: Cluster, specs: tuple[TopicSpec, ...] | list[TopicSpec] = LAB_TOPICS, *,
                  ctx: RunContext | None = None) -> list[CreateOutcome]:
    """Create each topic if missing; for existing ones, set the spec's configs again. Safe to repeat.

    A request cut off on the client (``RESEND_ERRORS``) is sent again for up to ``CREATE_RESEND_S``, then
    ``KafkaOperationError`` says so. With a run's ``ctx``, a cancel ends the waits (raising ``Cancelled``)."""
    admin = cluster.admin()
    wanted = max((s.replication_factor for s in specs), default=1)
    seen: list[ClusterMetadata] = []

    def enough_brokers() -> bool:
        seen.append(admin.list_topics(timeout=ADMIN_TIMEOUT_S))
        return len(seen[-1].brokers) >= wanted

    # a just-resumed broker may be re-registering
    poll_until(enough_brokers, BROKERS_SETTLE_S, ctx, every_s=BROKERS_POLL_S)
    brokers = len(seen[-1].brokers)
    for spec in specs:
        if spec.replication_factor > brokers:
            raise SettingsError(
                f"Topic {spec.name!r} wants replication factor {spec.replication_factor}, "
                f"but only {brokers} broker(s) are registered.",
                hint="Start the missing brokers (`kafka-lab cluster up`) or lower the replication factor.",
            )
    listed_before = set(seen[-1].topics)
    created: set[str] = set()
    existing: list[TopicSpec] = []
    pending = list(specs)
    #: topic -> the error that cut its last request off (it may or may not have reached the controller)
    cut_off: dict[str, KafkaException] = {}

    def send() -> bool:
        """Send CreateTopics for the topics still pending; True once every one has its answer."""
        nonlocal pending
        futures = admin.create_topics(
            [NewTopic(s.name, s.partitions, s.replication_factor, config=dict(s.configs)) for s in pending],
            operation_timeout=ADMIN_TIMEOUT_S,
            request_timeout=ADMIN_TIMEOUT_S,
        )
        again: list[TopicSpec] = []
        for spec in pending:
            try:
                futures[spec.name].result(timeout=ADMIN_TIMEOUT_S + 5)
                created.add(spec.name)
            except KafkaException as exc:
                err = _kafka_error(exc)
                code = err.code() if err is not None else None
                if code == KafkaError.TOPIC_ALREADY_EXISTS and spec.name in cut_off and spec.name not in listed_before:
                    created.add(spec.name)  # not there before: the cut-off request reached the controller
                elif code == KafkaError.TOPIC_ALREADY_EXISTS:
                    existing.append(spec)
                elif err is not None and code in (KafkaError.INVALID_CONFIG, KafkaError.POLICY_VIOLATION,
                                                  KafkaError.INVALID_REPLICATION_FACTOR, KafkaError.INVALID_PARTITIONS):
                    raise SettingsError(f"Kafka refused topic {spec.name!r}: {err.str()}",
                                        hint="Fix the topic setting named above.") from exc
                elif code in RESEND_ERRORS:
                    cut_off[spec.name] = exc
                    again.append(spec)
                else:
                    acl.raise_if_denied(exc, cluster, "Create", topic=spec.name)
                    raise KafkaOperationError(f"Creating topic {spec.name!r} failed: {exc}") from exc
        pending = again
        return not pending

    if pending and not poll_until(send, CREATE_RESEND_S, ctx, every_s=CREATE_RESEND_POLL_S):
        names = ", ".join(repr(s.name) for s in pending)
        raise KafkaOperationError(
            f"Creating topic(s) {names} failed: every request was cut off for {CREATE_RESEND_S:.0f} s "
            f"(last: {cut_off[pending[0].name]}).",
            hint="A broker is restarting or too slow to answer; check `kafka-lab cluster status` and try again.",
        ) from cut_off[pending[0].name]
    out = [CreateOutcome(s.name, "created", s.partitions) for s in specs if s.name in created]
    _wait_for_leaders(cluster, [o.name for o in out])
    if existing:
        md = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
        _apply_configs(cluster, existing)
        for spec in existing:
            have = len(md.topics[spec.name].partitions) if spec.name in md.topics else spec.partitions
            note = "" if have == spec.partitions else f"has {have} partitions (spec says {spec.partitions})"
            out.append(CreateOutcome(spec.name, "exists", have, note))
    return out



# --- topic plumbing for experiments: wait for brokers, make sure of a topic, recreate one exactly ---------
#: Bound of asking one broker whether it lists a just-created topic.
BROKER_METADATA_S = 2.0
#: How long an experiment waits for a just-restarted broker to be registered before creating its topic.
BROKERS_REGISTER_S = 30.0
#: How long a just-deleted topic's name may be refused for re-creation (TOPIC_ALREADY_EXISTS).
RECREATE_RETRY_S = 10.0
#: Bound for reading one broker config (best effort: the answer is shown, not relied on).
BROKER_CONFIG_TIMEOUT_S = 4.0


def wait_for_brokers(cluster: Cluster, count: int, timeout_s: float = BROKERS_REGISTER_S,
                     ctx: RunContext | None = None) -> bool:
    """Wait until at least ``count`` brokers are registered (a broker just started or resumed takes a moment).

    Best effort: returns False after ``timeout_s`` (creating a topic then says clearly what is missing).
    With ``ctx``, a cancel ends the wait with ``Cancelled``.
    """
    def enough() -> bool:
        with contextlib.suppress(LabError):
            return len(cluster.probe()[2]) >= count
        return False

    return bool(poll_until(enough, timeout_s, ctx, every_s=0.5))


def ensure_topic(cluster: Cluster, spec: TopicSpec, ctx: RunContext | None = None) -> CreateOutcome:
    """Create ``spec``'s topic if missing (configs set again if it exists), once its brokers are registered."""
    wait_for_brokers(cluster, spec.replication_factor, ctx=ctx)
    return create_topics(cluster, [spec])[0]


def recreate_topic(cluster: Cluster, name: str, assignment: list[list[int]], configs: dict[str, str],
                   ctx: RunContext | None = None) -> None:
    """Delete ``name`` if it exists and create it with exactly this replica assignment (partition i on
    brokers ``assignment[i]``, the first one preferred leader) and these topic configs; returns once every
    partition has a leader. With ``ctx``, a cancel ends the waits with ``Cancelled``."""
    wait_for_brokers(cluster, len({b for replicas in assignment for b in replicas}), ctx=ctx)
    adm = clients.admin(cluster)
    if name in _metadata(cluster, adm).topics:
        for fut in adm.delete_topics([name], operation_timeout=ADMIN_TIMEOUT_S).values():
            with contextlib.suppress(KafkaException):  # gone already, or deleted by someone else meanwhile
                fut.result(timeout=ADMIN_TIMEOUT_S + 5)
        poll_until(lambda: name not in _metadata(cluster, adm).topics, ADMIN_TIMEOUT_S, ctx, every_s=0.3)

    cut_off: list[KafkaException] = []

    def created() -> bool:
        fut = adm.create_topics([NewTopic(name, len(assignment), replica_assignment=assignment, config=configs)],
                                operation_timeout=ADMIN_TIMEOUT_S)[name]
        try:
            fut.result(timeout=ADMIN_TIMEOUT_S + 5)
            return True
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is not None and err.code() in RESEND_ERRORS:
                cut_off.append(exc)  # sent again; it may have reached the controller
                return False
            if err is None or err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                acl.raise_if_denied(exc, cluster, "Create", topic=name)
                raise KafkaOperationError(f"Creating topic {name!r} failed: {exc}") from exc
            # a just-deleted name is refused for a moment (not listed); listed: a cut-off request made it
            return bool(cut_off) and name in _metadata(cluster, adm).topics

    if not poll_until(created, RECREATE_RETRY_S, ctx, every_s=0.5):
        raise KafkaOperationError(f"Topic {name!r} still existed {RECREATE_RETRY_S:.0f} s after it was deleted.",
                                  hint="Another client may be re-creating it; delete it by hand and try again.")
    _wait_for_leaders(cluster, [name])


def elect_preferred_leaders(cluster: Cluster, topic: str, partitions: list[int]) -> None:
    """Ask the controller to move each partition's leadership to its preferred replica (best effort: the
    caller watches the metadata for the outcome)."""
    adm = clients.admin(cluster)  # keep the client alive until its future resolves
    with contextlib.suppress(KafkaException, TimeoutError):
        adm.elect_leaders(ElectionType.PREFERRED, [TopicPartition(topic, p) for p in partitions],
                          request_timeout=ADMIN_TIMEOUT_S).result(timeout=ADMIN_TIMEOUT_S + 5)


def set_topic_configs(cluster: Cluster, name: str, configs: dict[str, str]) -> None:
    """Set (incrementally) these configs on an existing topic; the others keep their values."""
    # the spec's partitions and replication factor are not used: only its name and configs
    _apply_configs(cluster, [TopicSpec(name, configs=dict(configs))])


def broker_config(cluster: Cluster, node: int, key: str) -> str | None:
    """One broker config value as the broker reports it (None when it cannot be read)."""
    return broker_configs(cluster, node, (key,)).get(key)


def broker_configs(cluster: Cluster, node: int, keys: Sequence[str]) -> dict[str, str]:
    """Broker config values as the broker reports them, in one request; a key that cannot be read is left out."""
    adm = clients.admin(cluster)
    res = ConfigResource(ConfigResource.Type.BROKER, str(node))
    with contextlib.suppress(Exception):  # best effort: the values are shown next to a measurement
        entries = adm.describe_configs([res], request_timeout=BROKER_CONFIG_TIMEOUT_S)[res].result(
            timeout=BROKER_CONFIG_TIMEOUT_S + 5)
        return {k: str(entries[k].value) for k in keys if k in entries and entries[k].value is not None}
    return {}

def _wait_for_leaders(cluster: Cluster, names: list[str]) -> None:
    """New topics reach each broker's metadata a moment after creation, one broker after another; wait
    until every broker lists them with leaders, so any client (a page, a consumer) can use them at once."""
    if not names:
        return
    admin = cluster.admin()

    def listed(md: Any) -> bool:
        return all(n in md.topics and bool(md.topics[n].partitions) and not md.topics[n].error
                   and all(p.leader >= 0 for p in md.topics[n].partitions.values()) for n in names)

    def every_broker_knows() -> bool:
        md = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
        if not listed(md):
            return False
        for b in md.brokers.values():  # a fresh client asks its one bootstrap broker first
            one = clients.admin(cluster, {"bootstrap.servers": f"{b.host}:{b.port}"})
            try:
                if not listed(one.list_topics(timeout=BROKER_METADATA_S)):
                    return False
            except KafkaException:  # that broker does not answer from here: nothing to wait for
                continue
        return True

    poll_until(every_broker_knows, ADMIN_TIMEOUT_S, every_s=METADATA_POLL_S)


def _apply_configs(cluster: Cluster, specs: list[TopicSpec]) -> None:
    resources = [
        ConfigResource(
            ConfigResource.Type.TOPIC, s.name,
            incremental_configs=[ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                                 for k, v in s.configs.items()],
        )
        for s in specs if s.configs
    ]
    if not resources:
        return
    admin = cluster.admin()  # keep the client alive until its futures resolve
    cut_off: list[KafkaException] = []

    def send() -> bool:
        """Set the configs still pending (setting them twice is harmless); True once all were answered."""
        nonlocal resources
        again = []
        for res, fut in admin.incremental_alter_configs(resources, request_timeout=ADMIN_TIMEOUT_S).items():
            try:
                fut.result(timeout=ADMIN_TIMEOUT_S + 5)
            except KafkaException as exc:
                err = _kafka_error(exc)
                if err is not None and err.code() in RESEND_ERRORS:  # cut off on the client: not a refusal
                    cut_off.append(exc)
                    again.append(res)
                    continue
                raise SettingsError(f"Kafka refused the configs of topic {res.name!r}: {exc}",
                                    hint="Fix the topic setting named above.") from exc
        resources = again
        return not resources

    if not poll_until(send, CREATE_RESEND_S, every_s=CREATE_RESEND_POLL_S):
        raise KafkaOperationError(
            f"Setting the configs of topic {resources[0].name!r} failed: every request was cut off for "
            f"{CREATE_RESEND_S:.0f} s (last: {cut_off[-1]}).",
            hint="A broker is restarting or too slow to answer; check `kafka-lab cluster status` and try again.",
        ) from cut_off[-1]


def topic_configs(cluster: Cluster, names: list[str]) -> dict[str, dict[str, str]]:
    """Configs set on each topic itself (source DYNAMIC_TOPIC_CONFIG), read back from the brokers.

    A topic the answering broker does not know is asked for again for up to ``METADATA_SETTLE_S`` (one
    created a moment ago may not have reached it yet); one still unknown then is left out of the result:
    it was deleted meanwhile (a run's topic, listed a moment before it went)."""
    out: dict[str, dict[str, str]] = {}
    left = list(names)

    def all_read() -> bool:
        """Read the configs of the topics left; True when none is unknown to the answering broker."""
        nonlocal left
        unknown: list[str] = []
        admin = cluster.admin()  # keep the client alive until its futures resolve
        resources = [ConfigResource(ConfigResource.Type.TOPIC, n) for n in left]
        for res, fut in admin.describe_configs(resources, request_timeout=ADMIN_TIMEOUT_S).items():
            try:
                entries = fut.result(timeout=ADMIN_TIMEOUT_S + 5)
            except KafkaException as exc:
                if is_unknown_topic(exc):
                    unknown.append(res.name)
                    continue
                raise KafkaOperationError(f"Reading the configs of topic {res.name!r} failed: {exc}") from exc
            out[res.name] = {
                k: str(e.value) for k, e in sorted(entries.items())
                if e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
            }
        left = unknown
        return not left

    if left:  # unknown topics are asked for again while they reach the broker's metadata
        poll_until(all_read, METADATA_SETTLE_S, every_s=METADATA_POLL_S)
    return out


def is_unknown_topic(exc: KafkaException) -> bool:
    """The request failed because the answering broker does not know the topic (UNKNOWN_TOPIC_OR_PART)."""
    err = exc.args[0] if exc.args else None
    return isinstance(err, KafkaError) and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def _metadata(cluster: Cluster, admin: AdminClient) -> ClusterMetadata:
    try:
        return admin.list_topics(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as exc:
        raise UnreachableError(
            f"Could not read the cluster's metadata from {cluster.bootstrap_servers()} within {ADMIN_TIMEOUT_S:.0f} s.",
            hint=cluster.start_hint(),
        ) from exc


def describe_topics(
    cluster: Cluster, names: list[str] | None = None, *, include_internal: bool = False, with_configs: bool = True,
    with_elr: bool = False,
) -> list[TopicInfo]:
    """Partitions, leader, replicas, ISR (from metadata) and the topic-level configs of each topic.

    ``with_elr``: also the ELR and last known ELR of each partition and the cluster's ELR feature level, from
    Kafka's own ``kafka-topics --describe`` (``lab.kafka.kafka_topics``: a JVM start, seconds). ``LabError``
    when that tool cannot run here."""
    admin = cluster.admin()
    md = _metadata(cluster, admin)
    wanted = names or sorted(t for t in md.topics if include_internal or not t.startswith(HIDDEN_PREFIXES))

    def all_listed() -> bool:
        nonlocal md
        if all(n in md.topics for n in wanted):
            return True
        md = _metadata(cluster, admin)  # a topic created a moment ago may not have reached this broker yet
        return all(n in md.topics for n in wanted)

    poll_until(all_listed, METADATA_SETTLE_S, every_s=METADATA_POLL_S)
    missing = [n for n in wanted if n not in md.topics]
    if missing:
        raise SettingsError(f"No such topic(s): {', '.join(missing)}.",
                            hint="Create the lab's topics with `kafka-lab topics create`, or check the name.")
    configs = topic_configs(cluster, wanted) if with_configs else {}
    if with_configs:
        gone = [n for n in wanted if n not in configs]
        if gone and names:
            raise SettingsError(f"No such topic(s): {', '.join(gone)} (deleted a moment ago).",
                                hint="Create the lab's topics with `kafka-lab topics create`, or check the name.")
        wanted = [n for n in wanted if n in configs]  # listed, then deleted before its configs were read
    out = []
    for name in wanted:
        t = md.topics[name]
        parts = tuple(
            PartitionInfo(p.id, p.leader, tuple(p.replicas), tuple(sorted(p.isrs)))
            for p in sorted(t.partitions.values(), key=lambda p: p.id)
        )
        out.append(TopicInfo(name, parts, configs.get(name, {})))
    return with_elr_from_tool(cluster, out) if with_elr and out else out


def with_elr_from_tool(cluster: Cluster, topics: list[TopicInfo]) -> list[TopicInfo]:
    """``topics`` with each partition's ELR and last known ELR as Kafka's own tool reports them."""
    reading = kafka_topics.describe(cluster, [t.name for t in topics], with_feature=True)
    out = []
    for t in topics:
        parts = []
        for p in t.partitions:
            tp = reading.get(t.name, p.partition)
            parts.append(replace(p, elr=tp.elr, last_known_elr=tp.last_known_elr) if tp else p)
        out.append(replace(t, partitions=tuple(parts), elr_source=reading.source,
                           elr_feature_level=reading.elr_feature_level))
    return out


def read_partition(cluster: Cluster, topic: str, partition: int = 0, timeout_s: float = 30.0) -> list[Message]:
    """Every record of one partition, in offset order, from the log start to the high watermark as it was
    when reading began. Used to count what really survived (unclean election, compaction).

    Raises ``KafkaOperationError`` when the end is not reached within ``timeout_s`` seconds.
    """
    cons = clients.consumer(cluster, {"group.id": f"lab-read-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
                                      "auto.offset.reset": "earliest", "enable.partition.eof": True})
    out: list[Message] = []
    try:
        low, high = cons.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        if high <= low:
            return out
        cons.assign([TopicPartition(topic, partition, low)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            msg = cons.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    return out
                continue
            out.append(msg)
            off = msg.offset()
            if off is not None and off >= high - 1:
                return out
        raise KafkaOperationError(f"Reading {topic}[{partition}] back did not reach offset {high} within "
                                  f"{timeout_s:.0f} s (got {len(out)} records).")
    finally:
        cons.close()
