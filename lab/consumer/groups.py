"""A consumer group run by the lab: N members, each a real consumer on its own thread, their rebalance
callbacks and the records they consume recorded on one clock.

    with GroupRunner(cluster, "my-group", ["orders"], ConsumerSettings(...), ctx) as group:
        group.add("m0"); group.add("m1")
        group.wait_stable()                  # every member on one generation, every partition owned once
        group.add("m2")                      # a join: a rebalance
        group.remove("m0")                   # a leave (a static member sends no LeaveGroup)
        timeline = group.timeline()          # callbacks, member spans, records per member per interval

The runner owns its members: ``close()`` (leaving the ``with`` block) always stops every thread and
closes every consumer, whatever happened. Reused by the strategy, static-membership and protocol
experiments and by the lag lab.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.consumer.pauses import ASSIGN, LOST, REVOKE, CallbackEvent, owned_by
from lab.consumer.settings import ConsumerSettings
from lab.core.context import RunContext, poll_until
from lab.core.errors import ClusterError
from lab.kafka.timeline import Step

#: Records per member are counted in buckets of this many seconds (the records/s line).
BUCKET_S = 0.5
#: A member's consume() waits at most this long, so a stop is seen quickly.
POLL_S = 0.1
#: A group is stable once nothing changed for this long (eager rebalances end with one assign round,
#: cooperative ones with two).
SETTLE_S = 0.6
STABLE_TIMEOUT_S = 60.0
#: How long closing one member may take (a leave is one request; a dead coordinator must not hang us).
CLOSE_JOIN_S = 15.0
#: librdkafka's serialized group metadata starts with this, then the generation (int32, host order).
CGMD_MAGIC = b"CGMDv2:"


def generation_of(metadata: object) -> int | None:
    """The generation in ``Consumer.consumer_group_metadata()`` (librdkafka's serialized form), or None."""
    if isinstance(metadata, bytes) and metadata.startswith(CGMD_MAGIC) and len(metadata) >= len(CGMD_MAGIC) + 4:
        return int(struct.unpack_from("=i", metadata, len(CGMD_MAGIC))[0])
    return None


def label(tp: TopicPartition) -> str:
    return f"{tp.topic}[{tp.partition}]"


@dataclass(frozen=True)
class MemberSpan:
    """When a member was in the group (``left`` None: still there when the recording ended)."""

    member: str
    joined: float
    left: float | None
    instance_id: str | None = None


@dataclass(frozen=True)
class RecordSample:
    """Records ``member`` consumed in the bucket starting at ``t``."""

    t: float
    member: str
    records: int


@dataclass(frozen=True)
class GroupTimeline:
    events: tuple[CallbackEvent, ...]
    spans: tuple[MemberSpan, ...]
    records: tuple[RecordSample, ...]
    steps: tuple[Step, ...]


class Member:
    """One consumer on its own thread; its callbacks go to the runner's shared list."""

    def __init__(self, runner: GroupRunner, name: str, instance_id: str | None) -> None:
        self.runner, self.name, self.instance_id = runner, name, instance_id
        cfg = runner.settings.replace(group_instance_id=instance_id).to_config() if instance_id else \
            runner.settings.to_config()
        # the settings decide whether members commit (the lag lab's STALL phase runs members that never do)
        self.consumer: Consumer = clients.consumer(runner.cluster, {
            **cfg, "group.id": runner.group_id, "enable.auto.commit": runner.settings.enable_auto_commit})
        self.generation: int | None = None
        self.records = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"lab-member-{name}", daemon=True)
        self.joined = runner.now()
        self.left: float | None = None

    def _record(self, kind: str, parts: list[TopicPartition]) -> None:
        gen = generation_of(self.consumer.consumer_group_metadata())
        self.generation = gen
        self.runner._add_event(CallbackEvent(round(self.runner.now(), 4), self.name, kind,
                                             tuple(sorted(label(p) for p in parts)), gen))

    def _main(self) -> None:
        c = self.consumer
        delay = self.runner.settings.processing_delay_ms / 1000.0
        try:
            c.subscribe(self.runner.topics, on_assign=lambda _c, ps: self._record(ASSIGN, ps),
                        on_revoke=lambda _c, ps: self._record(REVOKE, ps),
                        on_lost=lambda _c, ps: self._record(LOST, ps))
            while not self._stop.is_set():
                msgs = c.consume(500, POLL_S)
                n = sum(1 for m in msgs if m.error() is None)
                if n:
                    self.records += n
                    self.runner._count(self.name, n)
                    if delay:
                        self._stop.wait(delay * n)  # simulated work, woken at once by a stop
                self.generation = generation_of(c.consumer_group_metadata()) or self.generation
        except KafkaException as exc:
            self.error = str(exc)
        finally:
            try:
                c.close()  # a dynamic member leaves the group here; a static one does not (KIP-345)
            except (KafkaException, RuntimeError) as exc:
                self.error = self.error or str(exc)
            self.left = self.runner.now()

    def start(self) -> Member:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(CLOSE_JOIN_S)

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()


class GroupRunner:
    """Members of one group on one clock (see the module docstring). Owned with ``with``."""

    def __init__(self, cluster: Cluster, group_id: str, topics: Iterable[str], settings: ConsumerSettings,
                 ctx: RunContext, t0: float | None = None) -> None:
        self.cluster, self.group_id, self.topics = cluster, group_id, list(topics)
        self.settings, self.ctx = settings, ctx
        self.t0 = time.monotonic() if t0 is None else t0
        self.members: dict[str, Member] = {}
        self.retired: list[Member] = []
        self.steps: list[Step] = []
        self._events: list[CallbackEvent] = []
        self._buckets: dict[tuple[int, str], int] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> GroupRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> float:
        return time.monotonic() - self.t0

    # --- for members -------------------------------------------------------------------------------
    def _add_event(self, e: CallbackEvent) -> None:
        with self._lock:
            self._events.append(e)

    def _count(self, member: str, n: int) -> None:
        key = (int(self.now() / BUCKET_S), member)
        with self._lock:
            self._buckets[key] = self._buckets.get(key, 0) + n

    # --- for the experiment --------------------------------------------------------------------------
    def step(self, text: str) -> None:
        self.steps.append(Step(round(self.now(), 3), text))
        self.ctx.report(None, text, self.timeline())

    def add(self, name: str, instance_id: str | None = None) -> Member:
        """Start a member (a static one with ``instance_id``); it joins on its own thread."""
        m = Member(self, name, instance_id).start()
        self.members[name] = m
        return m

    def remove(self, name: str) -> Member:
        """Stop and close a member (returns once it is closed)."""
        m = self.members.pop(name)
        m.stop()
        self.retired.append(m)
        return m

    def events(self) -> list[CallbackEvent]:
        with self._lock:
            return list(self._events)

    def assignment(self) -> dict[str, frozenset[str]]:
        """member -> partitions, from the callbacks so far (running members only)."""
        owned = owned_by(self.events(), float("inf"))
        return {m: owned.get(m, frozenset()) for m in self.members}

    def partitions(self) -> set[str]:
        md = self.cluster.admin().list_topics(timeout=10).topics
        return {f"{t}[{p}]" for t in self.topics if t in md for p in md[t].partitions}

    def is_stable(self, all_parts: set[str], after_generation: int | None = None, since: float | None = None) -> bool:
        """Every partition owned by exactly one running member, no callback for ``SETTLE_S`` (and one at or
        after ``since``, when given); with the classic protocol also one generation for every member, newer
        than ``after_generation``, whose assign callback every member has had. (With group.protocol=consumer
        each member has its own epoch instead.)"""
        members = list(self.members.values())
        if not members:
            return False
        if self.settings.group_protocol == "classic":
            gens = {m.generation for m in members}
            if len(gens) != 1 or None in gens:
                return False
            gen = next(iter(gens))
            if after_generation is not None and gen is not None and gen <= after_generation:
                return False
            # a member's generation moves on with the JoinGroup answer, before its callbacks for it (a
            # cooperative revoke, then an assign): the generation is done once each member's last callback
            # is the assign of it (librdkafka calls it after every rebalance, with an empty list if need be)
            last: dict[str, CallbackEvent] = {e.member: e for e in self.events()}
            if any(m.name not in last or last[m.name].kind != ASSIGN or last[m.name].generation != gen
                   for m in members):
                return False
        else:  # no shared generation: ask that a balanced broker-side assignor gave every member something
            by_member = self.assignment()
            if (self.settings.group_remote_assignor in (None, "uniform") and len(members) <= len(all_parts)
                    and not all(by_member.values())):
                return False
        owned = [p for ps in self.assignment().values() for p in ps]
        evs = self.events()
        quiet = not evs or self.now() - evs[-1].t >= SETTLE_S
        fresh = since is None or any(e.t >= since for e in evs)
        return quiet and fresh and len(owned) == len(set(owned)) and set(owned) == all_parts

    def wait_stable(self, after_generation: int | None = None, timeout_s: float = STABLE_TIMEOUT_S,
                    since: float | None = None) -> float:
        """Wait for ``is_stable``; returns the group's time when it became stable (the last callback's time).
        Raises ``ClusterError`` on timeout and ``Cancelled`` on cancel."""
        parts = self.partitions()
        if not poll_until(lambda: self.is_stable(parts, after_generation, since), timeout_s, self.ctx, every_s=0.1):
            raise ClusterError(f"Group {self.group_id} did not settle within {timeout_s:.0f} s.",
                               hint="A member may have failed to join; `kafka-lab cluster status` shows the brokers.")
        evs = self.events()
        return evs[-1].t if evs else self.now()

    def generation(self) -> int | None:
        gens = {m.generation for m in self.members.values()}
        return next(iter(gens)) if len(gens) == 1 else None

    def timeline(self) -> GroupTimeline:
        everyone = [*self.retired, *self.members.values()]
        spans = tuple(MemberSpan(m.name, round(m.joined, 3), None if m.left is None else round(m.left, 3),
                                 m.instance_id) for m in everyone)
        with self._lock:
            recs = tuple(RecordSample(round(b * BUCKET_S, 3), m, n) for (b, m), n in sorted(self._buckets.items()))
            evs = tuple(self._events)
        return GroupTimeline(evs, spans, recs, tuple(self.steps))

    def close(self) -> None:
        """Stop and close every member (all at once: eager members would otherwise rebalance per leave)."""
        running = list(self.members.values())
        for m in running:
            m._stop.set()
        for m in running:
            m.stop()
        self.retired.extend(running)
        self.members.clear()


__all__ = ["BUCKET_S", "GroupRunner", "GroupTimeline", "Member", "MemberSpan", "RecordSample", "generation_of",
           "label"]
