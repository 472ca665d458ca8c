"""Fencing: two producers with one ``transactional.id``, and what becomes of the older one.

The first producer ("the zombie": think of an instance that froze and was replaced) calls
``init_transactions``, gets its producer id (PID) and epoch, opens a transaction and writes records. A
second producer with the same ``transactional.id`` calls ``init_transactions``: the transaction
coordinator bumps the epoch, aborts the zombie's open transaction (its records stay in the log, marked
aborted) and from now on refuses the old epoch. The zombie's next produce or commit fails with
``_FENCED``, a fatal error: that producer instance can never be used again. ``read_committed`` never
shows the zombie's records; ``read_uncommitted`` does.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException, Producer

from lab.cluster.base import Cluster
from lab.core.context import poll_until
from lab.core.errors import Cancelled
from lab.core.results import Result
from lab.eos import logs, sequence
from lab.eos.eosstats import ClientTrace, ProducerIdentity
from lab.eos.settings import FencingSettings
from lab.eos.transactions import TXN_CALL_TIMEOUT_S, transactional_producer, txn_call
from lab.kafka import admin as lab_admin
from lab.kafka.timeline import Step

if TYPE_CHECKING:
    from lab.core.context import RunContext

#: How long to wait for a statistics window that shows a producer's PID and epoch.
IDENTITY_WAIT_S = 5.0
#: The successor's records are numbered from here, so the read-back tells the two producers apart.
SUCCESSOR_FIRST_SEQ = 1_000_000


@dataclass(frozen=True)
class FencingResult(Result):
    settings: FencingSettings
    transactional_id: str
    zombie: ProducerIdentity | None = None
    successor: ProducerIdentity | None = None
    #: the error the zombie got ("_FENCED"), on which call, and whether librdkafka called it fatal
    fenced_error: str = ""
    fenced_on: str = ""
    fenced_fatal: bool = False
    fenced_message: str = ""
    #: records of each producer as read_committed and read_uncommitted see them (None: not read)
    zombie_committed: int | None = None
    zombie_uncommitted: int | None = None
    successor_committed: int | None = None
    successor_uncommitted: int | None = None
    steps: tuple[Step, ...] = ()

    @property
    def fenced(self) -> bool:
        return self.fenced_error != ""


def _identity(prod: Producer, trace: ClientTrace, ctx: RunContext) -> ProducerIdentity | None:
    """The PID and epoch from the first statistics window that has them (bounded)."""
    def known() -> ProducerIdentity | None:
        prod.poll(0.05)
        ident = trace.identity
        return ident if ident is not None and ident.producer_epoch >= 0 else None

    return poll_until(known, IDENTITY_WAIT_S, ctx, every_s=0.05)


class _Fence:
    def __init__(self, cluster: Cluster, s: FencingSettings, ctx: RunContext) -> None:
        self.cluster, self.s, self.ctx = cluster, s, ctx
        self.t0 = time.monotonic()
        self.tid = f"lab-eos-fence-{uuid.uuid4().hex[:8]}"
        self.steps: list[Step] = []
        self.fields: dict[str, object] = {}

    def step(self, label: str, fraction: float) -> None:
        self.steps.append(Step(round(time.monotonic() - self.t0, 3), label))
        self.ctx.report(fraction, label, self.result())

    def result(self, stopped: str | None = None) -> FencingResult:
        return FencingResult(self.s, self.tid, steps=tuple(self.steps), stopped=stopped, **self.fields)  # type: ignore[arg-type]

    def write(self, prod: Producer, first: int) -> None:
        """Write ``records`` numbered records in the open transaction and wait for them (no delivery
        callback: confluent-kafka raises a fenced producer's fatal error out of ``flush`` itself)."""
        for seq in range(first, first + self.s.records):
            prod.produce(self.s.topic, sequence.encode(seq), partition=0)
        prod.flush(TXN_CALL_TIMEOUT_S)

    def zombie_tries_again(self, zombie: Producer, client_errors: list[KafkaError]) -> None:
        """The zombie writes once more and commits: the broker refuses its old epoch on the first request
        (librdkafka's error callback gets the fatal ``_FENCED``), and the commit raises it again."""
        raised: KafkaError | None = None
        try:
            self.write(zombie, self.s.records)
        except KafkaException as exc:
            raised = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
        fatal = next((e for e in client_errors if e.fatal()), raised)
        if fatal is not None:
            self.fields.update(fenced_error=fatal.name(), fenced_on="produce (the broker refused the old epoch)",
                               fenced_fatal=True, fenced_message=fatal.str())
        try:
            zombie.commit_transaction(TXN_CALL_TIMEOUT_S)
        except KafkaException as exc:
            err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            if err is not None and fatal is None:
                self.fields.update(fenced_error=err.name(), fenced_on="commit_transaction", fenced_fatal=err.fatal(),
                                   fenced_message=err.str())

    def read_back(self) -> None:
        s = self.s
        for iso, key in (("read_committed", "committed"), ("read_uncommitted", "uncommitted")):
            recs = logs.read_all(self.cluster, s.topic, 1, iso)
            self.fields[f"zombie_{key}"] = sum(1 for r in recs if 0 <= r.seq < SUCCESSOR_FIRST_SEQ)
            self.fields[f"successor_{key}"] = sum(1 for r in recs if r.seq >= SUCCESSOR_FIRST_SEQ)


def fencing(cluster: Cluster, settings: FencingSettings, ctx: RunContext) -> FencingResult:
    """Zombie and successor with one ``transactional.id`` (see the module docstring)."""
    s = settings
    f = _Fence(cluster, s, ctx)
    stopped: str | None = None
    try:
        f.step(f"creating {s.topic}", 0.0)
        lab_admin.recreate_topic(cluster, s.topic, [[1, 2, 3]], {"min.insync.replicas": "2"}, ctx)
        _zombie_and_successor(f)
        f.step("reading the topic back: read_committed and read_uncommitted", 0.9)
        f.read_back()
    except Cancelled:
        stopped = ctx.stopped_text()
    return f.result(stopped)


def _zombie_and_successor(f: _Fence) -> None:
    s, ctx = f.s, f.ctx
    zt, st = ClientTrace(), ClientTrace()
    client_errors: list[KafkaError] = []
    zombie = transactional_producer(f.cluster, f.tid, zt, {"error_cb": client_errors.append})
    successor: Producer | None = None
    try:
        txn_call("init_transactions (zombie)", zombie.init_transactions, TXN_CALL_TIMEOUT_S, cluster=f.cluster,
                 tid=f.tid)
        f.fields["zombie"] = _identity(zombie, zt, ctx)
        f.step(f"zombie: init_transactions, epoch {_epoch(f.fields['zombie'])}", 0.2)
        txn_call("begin_transaction (zombie)", zombie.begin_transaction)
        f.write(zombie, 0)
        f.step(f"zombie: transaction open with {s.records} records in the log", 0.35)
        successor = transactional_producer(f.cluster, f.tid, st)
        txn_call("init_transactions (successor)", successor.init_transactions, TXN_CALL_TIMEOUT_S)
        f.fields["successor"] = _identity(successor, st, ctx)
        f.step(f"successor: init_transactions with the same id, epoch {_epoch(f.fields['successor'])}", 0.5)
        f.zombie_tries_again(zombie, client_errors)
        f.step(f"zombie: {f.fields.get('fenced_error') or 'not fenced'} on {f.fields.get('fenced_on', '-')}", 0.65)
        txn_call("begin_transaction (successor)", successor.begin_transaction)
        f.write(successor, SUCCESSOR_FIRST_SEQ)
        txn_call("commit_transaction (successor)", successor.commit_transaction, TXN_CALL_TIMEOUT_S)
        f.step(f"successor: committed {s.records} records", 0.8)
    finally:
        for prod in (zombie, successor):
            if prod is not None:
                with contextlib.suppress(KafkaException):
                    prod.purge(in_queue=True, in_flight=True, blocking=False)
                prod.flush(0)


def _epoch(ident: object) -> str:
    return str(ident.producer_epoch) if isinstance(ident, ProducerIdentity) else "?"
