"""Consumer lag, computed the right way, for any consumer group on the cluster.

Per partition: lag = end offset − committed offset, where the end offset is the high watermark for a
``read_uncommitted`` group and the last stable offset (LSO) for a ``read_committed`` one — the broker
does not know a group's isolation level, so the caller says which (and the result says which it used).
A partition the group consumes but has never committed is reported as such, not as zero lag.

Where the numbers come from: committed offsets from ``list_consumer_group_offsets``, end offsets from
``list_offsets(latest)`` with the isolation level, owners and the group's state and protocol from
``describe_consumer_groups`` (classic and consumer-protocol groups alike), partitions from metadata.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from lab.cluster.base import Cluster
from lab.core.errors import KafkaOperationError, SettingsError
from lab.kafka import acl

#: How long one admin request may take before the sample is reported as failed.
REQUEST_TIMEOUT_S = 10.0
ISOLATION_LEVELS = ("read_uncommitted", "read_committed")
#: What the end offset is called for each isolation level, shown next to the lag.
END_OFFSET_NAME = {"read_uncommitted": "high watermark", "read_committed": "last stable offset"}


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    #: high watermark (read_uncommitted) or last stable offset (read_committed)
    end_offset: int
    #: None: the group has never committed an offset here
    committed: int | None
    #: the member that owns the partition now ("client-id@host"), or None when unassigned
    owner: str | None

    @property
    def lag(self) -> int | None:
        return None if self.committed is None else max(0, self.end_offset - self.committed)


@dataclass(frozen=True)
class LagSample:
    """One look at a group: when, its state and members, and every partition's lag."""

    #: seconds since the start of the watch (monotonic clock)
    t_s: float
    #: wall-clock time of the sample (seconds since the epoch)
    wall: float
    group: str
    state: str
    protocol: str
    members: int
    isolation: str
    partitions: tuple[PartitionLag, ...]

    @property
    def total_lag(self) -> int:
        return sum(p.lag or 0 for p in self.partitions)

    @property
    def without_commit(self) -> int:
        return sum(1 for p in self.partitions if p.committed is None)


@dataclass(frozen=True)
class GroupSummary:
    group: str
    state: str
    protocol: str
    members: int
    total_lag: int | None


def _result(fut: Future[Any], what: str, cluster: Cluster, group: str | None = None) -> Any:
    """The future's result; an ACL refusal as ``AuthorizationError`` (Describe on ``group``), any other
    failure as ``KafkaOperationError`` saying what could not be done."""
    try:
        return fut.result(timeout=REQUEST_TIMEOUT_S)
    except KafkaException as exc:
        acl.raise_if_denied(exc, cluster, "Describe", group=group)
        raise KafkaOperationError(f"Could not {what}: {exc.args[0].str() if exc.args else exc}",
                                  hint=cluster.start_hint()) from exc
    except TimeoutError as exc:
        raise KafkaOperationError(f"Could not {what} within {REQUEST_TIMEOUT_S:.0f} s.",
                                  hint=cluster.start_hint()) from exc


def _name(v: Any) -> str:
    return str(getattr(v, "name", v)).lower()


def list_groups(cluster: Cluster) -> list[GroupSummary]:
    """Every consumer group on the cluster with its state, members and total lag (read_uncommitted; None when
    it could not be read). All groups in a few requests sent at once (describe, each group's committed
    offsets, one list of end offsets), so a cluster with a hundred groups lists as fast as one with three."""
    adm = cluster.admin()
    listing = _result(adm.list_consumer_groups(request_timeout=REQUEST_TIMEOUT_S), "list the consumer groups", cluster)
    listed = sorted(listing.valid, key=lambda x: x.group_id)
    if not listed:
        return []
    ids = [g.group_id for g in listed]
    described = adm.describe_consumer_groups(ids, request_timeout=REQUEST_TIMEOUT_S)
    offsets = {g: adm.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)],
                                                  request_timeout=REQUEST_TIMEOUT_S)[g] for g in ids}
    commits: dict[str, dict[tuple[str, int], int] | None] = {}
    for g in ids:
        try:
            got = _result(offsets[g], f"read the committed offsets of {g!r}", cluster, g)
            commits[g] = {(tp.topic, tp.partition): tp.offset for tp in got.topic_partitions or [] if tp.offset >= 0}
        except KafkaOperationError:
            commits[g] = None
    committed = {k for c in commits.values() if c for k in c}
    try:  # partitions of topics that still exist (a group keeps its commits on a deleted topic)
        keys = [k for k in _partitions(adm, sorted({t for t, _ in committed}), cluster) if k in committed]
        ends: dict[tuple[str, int], int] | None = _end_offsets(adm, keys, "read_uncommitted", cluster)
    except KafkaOperationError:
        ends = None
    out = []
    for g in listed:
        try:
            desc = _result(described[g.group_id], f"describe the group {g.group_id!r}", cluster, g.group_id)
            state, protocol, members = _name(desc.state), _name(getattr(desc, "type", "unknown")), len(desc.members)
        except KafkaOperationError:
            state, protocol, members = _name(g.state), _name(getattr(g, "type", "?")), 0
        c = commits[g.group_id]
        total = None if c is None or ends is None else sum(max(0, ends[k] - v) for k, v in c.items() if k in ends)
        out.append(GroupSummary(g.group_id, state, protocol, members, total))
    return out


def sample(cluster: Cluster, group: str, *, isolation: str = "read_uncommitted", admin: AdminClient | None = None,
           t0: float | None = None) -> LagSample:
    """One lag sample of ``group`` (see the module docstring); raises ``KafkaOperationError`` if the cluster
    does not answer, ``SettingsError`` for an unknown isolation level or an empty group name."""
    if not group:
        raise SettingsError("The group name is empty.", hint="Give a consumer group id; `kafka-lab lag` lists them.")
    if isolation not in ISOLATION_LEVELS:
        raise SettingsError(f"Isolation level {isolation!r} is not known.",
                            hint="Use read_uncommitted or read_committed.")
    adm = admin or cluster.admin()
    now = time.monotonic()
    desc = _result(adm.describe_consumer_groups([group], request_timeout=REQUEST_TIMEOUT_S)[group],
                   f"describe the group {group!r}", cluster, group)
    req = [ConsumerGroupTopicPartitions(group)]
    committed = _result(adm.list_consumer_group_offsets(req, request_timeout=REQUEST_TIMEOUT_S)[group],
                        f"read the committed offsets of {group!r}", cluster, group)
    owners: dict[tuple[str, int], str] = {}
    for m in desc.members:
        for tp in (m.assignment.topic_partitions if m.assignment else []):
            owners[(tp.topic, tp.partition)] = f"{m.client_id}@{m.host}"
    commits = {(tp.topic, tp.partition): tp.offset for tp in committed.topic_partitions or [] if tp.offset >= 0}
    topics = sorted({t for t, _ in owners} | {t for t, _ in commits})
    keys = _partitions(adm, topics, cluster)
    ends = _end_offsets(adm, keys, isolation, cluster)
    parts = tuple(PartitionLag(t, p, ends[(t, p)], commits.get((t, p)), owners.get((t, p))) for t, p in keys)
    return LagSample(now - (t0 if t0 is not None else now), time.time(), group, _name(desc.state),
                     _name(getattr(desc, "type", "unknown")), len(desc.members), isolation, parts)


def _partitions(adm: AdminClient, topics: list[str], cluster: Cluster) -> list[tuple[str, int]]:
    if not topics:
        return []
    try:
        md = adm.list_topics(timeout=REQUEST_TIMEOUT_S)
    except KafkaException as exc:
        raise KafkaOperationError(f"Could not read the cluster's metadata: {exc}", hint=cluster.start_hint()) from exc
    return [(t, p) for t in topics if t in md.topics for p in sorted(md.topics[t].partitions)]


def _end_offsets(adm: AdminClient, keys: list[tuple[str, int]], isolation: str,
                 cluster: Cluster) -> dict[tuple[str, int], int]:
    if not keys:
        return {}
    level = IsolationLevel.READ_COMMITTED if isolation == "read_committed" else IsolationLevel.READ_UNCOMMITTED
    futs = adm.list_offsets({TopicPartition(t, p): OffsetSpec.latest()  # type: ignore[no-untyped-call]
                            for t, p in keys}, isolation_level=level,
                            request_timeout=REQUEST_TIMEOUT_S)
    return {(tp.topic, tp.partition): _result(f, "read the end offsets", cluster).offset for tp, f in futs.items()}
