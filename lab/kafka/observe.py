"""Partition observation: what the cluster says about each replica, and what changed between two looks.

Where each number comes from (nothing is estimated):

- leader, replicas, ISR: cluster metadata (AdminClient ``list_topics``);
- high watermark and leader epoch: ``list_offsets(latest)`` answered by the partition's leader (the
  latest offset a ``read_uncommitted`` consumer may read *is* the HW, and the answer carries the
  leader's current epoch);
- each replica's LEO: the broker's own JMX MBean ``kafka.log:type=Log,name=LogEndOffset`` read
  through the Jolokia agent (local backend, and compose containers created with the agent jar mounted);
  other clusters show "not available" instead.

``PartitionState``/``Snapshot``/``detect_events`` are pure; ``Observer`` only reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from confluent_kafka import IsolationLevel, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from lab.cluster import clients, jmx
from lab.cluster.base import Cluster
from lab.core.context import poll_until
from lab.core.errors import KafkaOperationError, LabError, SettingsError
from lab.kafka import admin as lab_admin

#: Per-request bound for the observer's admin calls; a frozen broker must not stall a poll for long.
POLL_REQUEST_TIMEOUT_S = 2.0
#: ... and for a first try that is asked again on no answer: a broker that is up answers in milliseconds,
#: so a second wasted on a frozen one (the request went to any broker) is enough.
POLL_FIRST_TRY_S = 1.0
#: Threads reading the brokers' JMX agents at once (one per broker of the lab's cluster).
JMX_READERS = 3


class EventKind(StrEnum):
    ISR_SHRINK = "isr_shrink"
    ISR_EXPAND = "isr_expand"
    LEADER_CHANGE = "leader_change"
    EPOCH_CHANGE = "epoch_change"
    OFFLINE = "offline"  # no leader: no reads or writes
    ONLINE = "online"


def format_ids(xs: tuple[int, ...] | set[int]) -> str:
    """Broker ids as ``"1,2,3"`` (sorted), or ``"-"`` for none: how ISRs are written in events and tables."""
    return ",".join(map(str, sorted(xs))) or "-"


@dataclass(frozen=True)
class PartitionState:
    """One partition at one moment, as the cluster reports it."""

    topic: str
    partition: int
    leader: int  # -1: no leader (offline)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    #: The leader's current epoch (``list_offsets``); None while the partition has no leader.
    leader_epoch: int | None = None
    #: The leader's high watermark: consumers can read offsets below it. None while offline.
    high_watermark: int | None = None
    #: Each replica's log end offset (broker -> LEO) from the broker's JMX; None where unknown.
    log_end_offsets: dict[int, int | None] = field(default_factory=dict)
    #: Brokers whose LEO is the last value read before they stopped answering (e.g. paused).
    stale_leo: tuple[int, ...] = ()

    @property
    def offline(self) -> bool:
        return self.leader < 0

    @property
    def out_of_sync(self) -> tuple[int, ...]:
        return tuple(r for r in self.replicas if r not in self.isr)

    def behind(self, broker: int) -> int | None:
        """Messages ``broker``'s replica lacks compared to the leader's LEO (None if either is unknown, or
        the leader's is only the last value read: a busy leader whose agent timed out has moved on since)."""
        if self.leader in self.stale_leo:
            return None
        lead = self.log_end_offsets.get(self.leader)
        mine = self.log_end_offsets.get(broker)
        if lead is None or mine is None:
            return None
        return max(0, lead - mine)


@dataclass(frozen=True)
class Snapshot:
    """All watched partitions at time ``t`` (seconds since the recording started)."""

    t: float
    partitions: tuple[PartitionState, ...]

    def get(self, topic: str, partition: int) -> PartitionState | None:
        return next((p for p in self.partitions if p.topic == topic and p.partition == partition), None)


@dataclass(frozen=True)
class ReplicationEvent:
    t: float
    topic: str
    partition: int
    kind: EventKind
    detail: str
    leader: int
    isr: tuple[int, ...]
    leader_epoch: int | None


def detect_events(prev: Snapshot | None, cur: Snapshot,
                  known_epochs: dict[tuple[str, int], int] | None = None) -> list[ReplicationEvent]:
    """What changed from ``prev`` to ``cur``: ISR shrink/expand, leader change, epoch change, offline/online.

    Pure: partitions that appear for the first time produce no events. The epoch is unknown while a
    partition has no answering leader; ``known_epochs`` ((topic, partition) -> last epoch seen) lets an
    epoch change across such a gap still be reported.
    """
    if prev is None:
        return []
    out: list[ReplicationEvent] = []
    for p in cur.partitions:
        q = prev.get(p.topic, p.partition)
        if q is None:
            continue

        def ev(kind: EventKind, detail: str, p: PartitionState = p) -> None:
            out.append(ReplicationEvent(cur.t, p.topic, p.partition, kind, detail, p.leader, p.isr, p.leader_epoch))

        removed, added = set(q.isr) - set(p.isr), set(p.isr) - set(q.isr)
        if removed:
            ev(EventKind.ISR_SHRINK, f"ISR {format_ids(q.isr)} -> {format_ids(p.isr)} "
                                     f"(broker {format_ids(removed)} left)")
        if added:
            ev(EventKind.ISR_EXPAND, f"ISR {format_ids(q.isr)} -> {format_ids(p.isr)} "
                                     f"(broker {format_ids(added)} rejoined)")
        if p.leader != q.leader:
            if p.offline:
                ev(EventKind.OFFLINE, f"no leader (was {q.leader}): partition unavailable")
            elif q.offline:
                ev(EventKind.ONLINE, f"leader {p.leader} elected; partition available again")
            else:
                ev(EventKind.LEADER_CHANGE, f"leader {q.leader} -> {p.leader}")
        before = q.leader_epoch if q.leader_epoch is not None else (known_epochs or {}).get((p.topic, p.partition))
        if p.leader_epoch is not None and before is not None and p.leader_epoch != before:
            ev(EventKind.EPOCH_CHANGE, f"leader epoch {before} -> {p.leader_epoch}")
    return out


def in_isr(node: int) -> Callable[[Snapshot], bool]:
    """A test for ``Recorder.wait_until``: ``node`` is in the ISR of every watched partition."""
    return lambda s: all(node in p.isr for p in s.partitions)


def not_in_isr(node: int) -> Callable[[Snapshot], bool]:
    """A test for ``Recorder.wait_until``: ``node`` has left the ISR of every watched partition."""
    return lambda s: all(node not in p.isr for p in s.partitions)


class Observer:
    """Reads partition state from the cluster: metadata, HW and epoch from the leader, LEO from JMX.

    One long-lived AdminClient (cheap polls); ``close()`` (or ``with``) releases it.
    """

    def __init__(self, cluster: Cluster, topics: list[str]) -> None:
        self.cluster = cluster
        self.topics = list(topics)
        self._admin: AdminClient = clients.admin(
            cluster, {"socket.timeout.ms": str(int(POLL_REQUEST_TIMEOUT_S * 1000) + 1000)}
        )
        self._pool = ThreadPoolExecutor(max_workers=JMX_READERS, thread_name_prefix="lab-jmx")
        self._last_leo: dict[tuple[str, int, int], int] = {}
        self._jmx_urls: dict[int, str | None] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def leo_available(self) -> bool:
        return any(self.jmx_url(n) for n in self._brokers_seen())

    def leo_note(self) -> str:
        if self.leo_available:
            return "per-replica log end offsets read from each broker's JMX (Jolokia agent)"
        return (f"per-replica log end offsets are not available on the {self.cluster.backend} backend "
                "(they come from the brokers' JMX, which the lab reads through the Jolokia agent of the local "
                "backend or of compose containers created with it)")

    def _brokers_seen(self) -> list[int]:
        with contextlib.suppress(LabError):
            return list(self.cluster.node_ids())
        return []

    def jmx_url(self, node: int) -> str | None:
        """The broker's Jolokia endpoint (asked of the cluster once, then remembered)."""
        if node not in self._jmx_urls:
            self._jmx_urls[node] = self.cluster.jmx_url(node)
        return self._jmx_urls[node]

    def _metadata(self) -> Any:
        """Cluster metadata; asked twice before giving up, because each request goes to any broker and
        the one picked may be the frozen (paused) one, which never answers."""
        try:
            return self._admin.list_topics(timeout=POLL_FIRST_TRY_S)
        except KafkaException:
            pass  # asked again below, most likely of another broker
        try:
            return self._admin.list_topics(timeout=POLL_REQUEST_TIMEOUT_S)
        except KafkaException as exc:
            raise KafkaOperationError(f"Reading cluster metadata failed: {exc}") from exc

    def _metadata_with_topics(self) -> Any:
        """Metadata that knows every watched topic (one created a moment ago may take a moment to appear)."""
        latest: list[Any] = []

        def knows_all() -> bool:
            latest[:] = [self._metadata()]
            return all(name in latest[0].topics for name in self.topics)

        if not poll_until(knows_all, lab_admin.METADATA_SETTLE_S):
            missing = [name for name in self.topics if name not in latest[0].topics]
            raise SettingsError(f"No such topic(s): {', '.join(missing)}.",
                                hint="Create it first (`kafka-lab topics create` makes the lab's topics).")
        return latest[0]

    def _hw_and_epochs(self, tps: list[TopicPartition]) -> dict[tuple[str, int], tuple[int, int | None]]:
        """(topic, partition) -> (high watermark, leader epoch) for partitions whose leader answered;
        partitions without an answer are asked once more (the request's leader lookup may have gone to a
        frozen broker)."""
        out = self._list_latest(tps, POLL_FIRST_TRY_S)
        missing = [tp for tp in tps if (tp.topic, tp.partition) not in out]
        if missing:
            out.update(self._list_latest(missing, POLL_REQUEST_TIMEOUT_S))
        return out

    def _list_latest(self, tps: list[TopicPartition],
                     timeout_s: float) -> dict[tuple[str, int], tuple[int, int | None]]:
        if not tps:
            return {}
        try:
            futs = self._admin.list_offsets(
                {tp: OffsetSpec.latest() for tp in tps},  # type: ignore[no-untyped-call]
                isolation_level=IsolationLevel.READ_UNCOMMITTED,
                request_timeout=timeout_s,
            )
        except KafkaException:
            return {}
        out: dict[tuple[str, int], tuple[int, int | None]] = {}
        for tp, fut in futs.items():
            # a partition whose leader does not answer (down, frozen, just moved) has no HW this time
            with contextlib.suppress(Exception):
                res = fut.result(timeout=timeout_s + 1)
                if res.offset >= 0:
                    out[(tp.topic, tp.partition)] = (int(res.offset), res.leader_epoch)
        return out

    def _leos(self, nodes: list[int]) -> dict[int, dict[str, dict[int, int] | None]]:
        """broker -> topic -> {partition: LEO} (None when the broker's agent did not answer)."""
        jobs = {}
        for n in nodes:
            url = self.jmx_url(n)
            if url is None:
                continue
            for t in self.topics:
                jobs[(n, t)] = self._pool.submit(jmx.log_end_offsets, url, t)
        out: dict[int, dict[str, dict[int, int] | None]] = {}
        for (n, t), fut in jobs.items():
            out.setdefault(n, {})[t] = fut.result()
        return out

    def _replica_leos(self, topic: str, partition: int, replicas: list[int],
                      leos: dict[int, dict[str, dict[int, int] | None]]) -> tuple[dict[int, int | None], list[int]]:
        """Each replica's LEO for one partition, and which of them are the last value seen (agent silent)."""
        leo: dict[int, int | None] = {}
        stale: list[int] = []
        for r in replicas:
            by_topic = leos.get(r)
            if by_topic is None:  # no JMX for this backend
                leo[r] = None
                continue
            got = by_topic.get(topic)
            key = (topic, partition, r)
            if got is not None and partition in got:
                leo[r] = got[partition]
                self._last_leo[key] = got[partition]
            elif key in self._last_leo:  # agent silent (paused broker): its log cannot have moved
                leo[r] = self._last_leo[key]
                stale.append(r)
            else:
                leo[r] = None
        return leo, stale

    def snapshot(self, t: float) -> Snapshot:
        """Every partition of the watched topics now, stamped ``t``.

        Raises ``SettingsError`` for a topic that does not exist, ``KafkaOperationError`` when no broker
        answered for the metadata.
        """
        md = self._metadata_with_topics()
        parts = [(name, p) for name in self.topics for p in sorted(md.topics[name].partitions.values(),
                                                                     key=lambda p: p.id)]
        nodes = sorted({r for _, p in parts for r in p.replicas})
        hw = self._hw_and_epochs([TopicPartition(name, p.id) for name, p in parts if p.leader >= 0])
        leos = self._leos(nodes)
        states = []
        for name, p in parts:
            leo, stale = self._replica_leos(name, p.id, list(p.replicas), leos)
            h, e = hw.get((name, p.id), (None, None))
            states.append(PartitionState(name, p.id, p.leader, tuple(p.replicas), tuple(sorted(p.isrs)),
                                         e, h, leo, tuple(stale)))
        return Snapshot(round(t, 3), tuple(states))

    def active_controller(self) -> int | None:
        """The node whose JMX says it is the active KRaft controller (None when JMX is unavailable)."""
        urls = {n: u for n in self._brokers_seen() if (u := self.jmx_url(n)) is not None}
        return jmx.active_controller(urls)
