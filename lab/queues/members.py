"""Members run by the lab: share consumers (KIP-932) or consumer-group members, each a real client on its
own thread, every record they process written down on one clock.

    with Members(cluster, topic, group, ctx, t0, kind="share", decide=...) as team:
        team.add("m1"); team.add("m2")
        poll_until(lambda: team.done(...), …)
        deliveries = team.deliveries()       # what each member processed, with its delivery count and ack

The owner stops every thread and closes every client when it leaves the ``with`` block (a share consumer's
``close`` sends its pending acknowledgements and leaves the group), whatever happened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import AcknowledgeType, Consumer, KafkaError, KafkaException, ShareConsumer

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext
from lab.queues.backlog import unavailable

#: A member's poll waits at most this long, so a stop is seen quickly.
POLL_S = 0.1
#: How long closing one member may take (its acknowledgements and leave are a request or two).
CLOSE_JOIN_S = 15.0
#: How often a wait looks at what the members processed (s).
WAIT_EVERY_S = 0.2
#: Records/s per member are counted in buckets of this many seconds.
BUCKET_S = 0.5
ACK_TYPES = {"accept": AcknowledgeType.ACCEPT, "release": AcknowledgeType.RELEASE, "reject": AcknowledgeType.REJECT}
#: Error codes that mean the broker cannot run share groups at all (a 3.x broker, or share.version=0).
UNSUPPORTED = {KafkaError.UNSUPPORTED_VERSION, KafkaError.INVALID_REQUEST, KafkaError.GROUP_ID_NOT_FOUND}

#: ``decide(seq, delivery_count) -> "accept" | "release" | "reject"``; seq None for a record the lab did not write
Decide = Callable[[int | None, int], str]


def always_accept(_seq: int | None, _count: int) -> str:
    return "accept"


@dataclass(frozen=True)
class Delivery:
    """One record as one member processed it."""

    #: when processing ended (s on the run's clock)
    t: float
    member: str
    partition: int
    offset: int
    #: the lab's sequence number of the record (its value), None for a record the lab did not write
    seq: int | None
    #: 1 on the first delivery; a share group counts up on each redelivery (a consumer group: always 1)
    delivery_count: int
    #: "accept", "release" or "reject" (share group); "processed" (consumer group)
    ack: str


def seq_of(value: bytes | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class _Member:
    """One client on its own thread; writes to the team's ledger."""

    def __init__(self, team: Members, name: str) -> None:
        self.team, self.name = team, name
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"lab-share-{name}", daemon=True)

    def _main(self) -> None:
        try:
            if self.team.kind == "share":
                self._share()
            else:
                self._group()
        except KafkaException as exc:
            self.error = str(exc)
            self.team._fail(self.name, exc.args[0] if exc.args else None, str(exc))

    def _work(self) -> None:
        delay = self.team.delay_s
        if delay:
            self._stop.wait(delay)  # the simulated work, woken at once by a stop

    def _share(self) -> None:
        t = self.team
        c = ShareConsumer(clients.client_settings(t.cluster, {
            "group.id": t.group, "share.acknowledgement.mode": "explicit", "max.poll.records": t.max_poll_records}))
        try:
            c.subscribe([t.topic])
            while not self._stop.is_set():
                msgs = c.poll(POLL_S)
                for m in msgs:
                    err = m.error()
                    if err is not None:
                        t._fail(self.name, err, str(err))
                        continue
                    seq, count = seq_of(m.value()), int(m.delivery_count() or 1)
                    self._work()
                    ack = t.decide(seq, count)
                    c.acknowledge(m, ACK_TYPES[ack])
                    t._add(Delivery(round(t.now(), 4), self.name, int(m.partition() or 0), int(m.offset() or 0),
                                    seq, count, ack))
                if msgs:
                    c.commit_async()  # the acknowledgements go to the broker now, not with the next fetch
        finally:
            c.close()  # sends what is still pending and leaves the group

    def _group(self) -> None:
        t = self.team
        c: Consumer = clients.consumer(t.cluster, {
            "group.id": t.group, "group.protocol": "consumer", "auto.offset.reset": "earliest",
            "enable.auto.commit": True, "auto.commit.interval.ms": 500})
        try:
            c.subscribe([t.topic])
            while not self._stop.is_set():
                for m in c.consume(t.max_poll_records, POLL_S):
                    if m.error() is not None:
                        continue  # partition EOF and the like
                    self._work()
                    t._add(Delivery(round(t.now(), 4), self.name, int(m.partition() or 0), int(m.offset() or 0),
                                    seq_of(m.value()), 1, "processed"))
        finally:
            c.close()

    def start(self) -> _Member:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        self._thread.join(CLOSE_JOIN_S)


class Members:
    """The lab's members of one group on one clock (see the module docstring). Owned with ``with``."""

    def __init__(self, cluster: Cluster, topic: str, group: str, ctx: RunContext, t0: float, *, kind: str = "share",
                 processing_delay_ms: float = 0.0, max_poll_records: int = 5, decide: Decide = always_accept) -> None:
        if kind not in ("share", "group"):
            raise ValueError(f"kind {kind!r}")
        self.cluster, self.topic, self.group, self.ctx, self.t0, self.kind = cluster, topic, group, ctx, t0, kind
        self.delay_s = processing_delay_ms / 1000.0
        self.max_poll_records, self.decide = max_poll_records, decide
        self.members: dict[str, _Member] = {}
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._errors: list[tuple[str, Any, str]] = []

    def __enter__(self) -> Members:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _add(self, d: Delivery) -> None:
        with self._lock:
            self._deliveries.append(d)

    def _fail(self, member: str, err: Any, text: str) -> None:
        with self._lock:
            self._errors.append((member, err, text))

    def add(self, name: str) -> None:
        self.members[name] = _Member(self, name).start()

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def errors(self) -> list[tuple[str, Any, str]]:
        with self._lock:
            return list(self._errors)

    def unsupported(self) -> str | None:
        """The first error that says the broker cannot run share groups, else None."""
        for _m, err, text in self.errors():
            code = err.code() if isinstance(err, KafkaError) else None
            if code in UNSUPPORTED or "UNSUPPORTED" in text.upper():
                return text
        return None

    def wait(self, done: Callable[[list[Delivery]], bool], timeout_s: float,
             report: Callable[[list[Delivery]], None] | None = None) -> bool:
        """Wait until ``done(deliveries)`` (True), the timeout or a cancel (False); ``report`` is called on the
        way. ``ShareGroupsUnavailable`` when a member learns that the broker cannot run share groups."""
        deadline = time.monotonic() + timeout_s
        while True:
            ds = self.deliveries()
            if report is not None:
                report(ds)
            if done(ds):
                return True
            bad = self.unsupported()
            if bad is not None:
                raise unavailable(f"a share consumer was told: {bad}")
            if time.monotonic() >= deadline or self.ctx.wait(WAIT_EVERY_S):
                return False

    def close(self) -> None:
        """Stop every member, then wait for each to close its client (all at once: no leave-by-leave churn)."""
        for m in self.members.values():
            m.stop()
        for m in self.members.values():
            m.join()


__all__ = ["BUCKET_S", "Decide", "Delivery", "Members", "always_accept", "seq_of"]
