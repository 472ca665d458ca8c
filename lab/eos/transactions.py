"""Transactions: batches that span several partitions, committed or aborted, read both ways.

A transactional producer (``transactional.id``; ``init_transactions`` registers it with its transaction
coordinator and fences any older producer with the same id) writes ``transactions`` batches of numbered
records round-robin over the topic's partitions, committing some and aborting others. Every commit or
abort leaves a *control marker* in each partition the transaction wrote to: it takes an offset but no
consumer ever receives it, so N records of one transaction in a partition take N+1 offsets. The last
transaction is held open for ``hold_open_s``: meanwhile the high watermark (HW) moves on with its records
but the last stable offset (LSO) stays at its first offset, and a ``read_committed`` consumer is held at
the LSO until the commit. At the end both isolation levels read the topic: aborted records are counted
by ``read_uncommitted`` and absent from ``read_committed``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.errors import Cancelled, KafkaOperationError
from lab.core.results import Result
from lab.eos import logs, sequence
from lab.eos.eosstats import ClientTrace, ProducerIdentity
from lab.eos.settings import TRANSACTION_TIMEOUT_MS, TransactionSettings
from lab.kafka import acl
from lab.kafka import admin as lab_admin
from lab.kafka.timeline import Step

if TYPE_CHECKING:
    from lab.core.context import RunContext

#: Bound of init_transactions / commit / abort (the coordinator may be electing a leader).
TXN_CALL_TIMEOUT_S = 30.0
#: How often HW, LSO and the read_committed consumer's position are sampled while a transaction is open.
SAMPLE_EVERY_S = 0.25


@dataclass(frozen=True)
class TxnOutcome:
    index: int
    committed: bool
    #: partition -> records of this transaction written there
    records: dict[int, int]
    #: partition -> offsets the transaction took there (its records + 1 control marker), from the log
    offsets_taken: dict[int, int] = field(default_factory=dict)
    #: how long commit_transaction / abort_transaction took (ms)
    end_ms: float = 0.0


@dataclass(frozen=True)
class OffsetSample:
    """HW and LSO of one partition at ``t`` (seconds since start), and where the read_committed consumer is."""

    t: float
    partition: int
    high_watermark: int
    last_stable_offset: int
    #: the read_committed consumer's position (next offset it would read); -1 before it has one
    committed_position: int


@dataclass(frozen=True)
class TransactionResult(Result):
    settings: TransactionSettings
    transactional_id: str
    identity: ProducerIdentity | None
    outcomes: tuple[TxnOutcome, ...]
    samples: tuple[OffsetSample, ...]
    steps: tuple[Step, ...]
    #: when the held transaction was open (seconds on the samples' clock)
    open_from_s: float | None = None
    open_to_s: float | None = None
    #: records each isolation level read back at the end (None: not read, the run was stopped)
    read_committed: int | None = None
    read_uncommitted: int | None = None
    #: records of aborted transactions each one saw (read_committed must see 0)
    aborted_seen_committed: int | None = None
    aborted_seen_uncommitted: int | None = None
    #: partition -> offsets holding no data record (control markers), and the markers expected there
    #: (one per transaction that wrote to the partition)
    marker_offsets: dict[int, int] = field(default_factory=dict)
    expected_markers: dict[int, int] = field(default_factory=dict)
    #: while the last transaction was open: per partition HW, LSO and the read_committed consumer's position
    held_hw: dict[int, int] = field(default_factory=dict)
    held_lso: dict[int, int] = field(default_factory=dict)
    held_position: dict[int, int] = field(default_factory=dict)
    #: per partition LSO once it was committed
    lso_after: dict[int, int] = field(default_factory=dict)

    @property
    def aborted_records(self) -> int:
        return sum(sum(o.records.values()) for o in self.outcomes if not o.committed)


def txn_call(what: str, fn: Any, *args: Any, cluster: Cluster | None = None, tid: str | None = None) -> float:
    """Call a transactional API (``commit_transaction`` …); its duration in ms; ``KafkaOperationError`` on
    failure (``AuthorizationError`` naming transactional id ``tid`` when the ACLs of ``cluster`` refused it)."""
    start = time.perf_counter()
    try:
        fn(*args)
    except KafkaException as exc:
        if cluster is not None:
            acl.raise_if_denied(exc, cluster, "Write", transactional_id=tid)
        raise KafkaOperationError(f"{what} failed: {exc}",
                                  hint="The transaction coordinator may be moving; run again once "
                                       "`kafka-lab cluster status` shows every broker.") from exc
    return (time.perf_counter() - start) * 1000


def transactional_producer(cluster: Cluster, transactional_id: str, trace: ClientTrace,
                           extra: dict[str, Any] | None = None) -> Producer:
    return clients.producer(cluster, {"transactional.id": transactional_id, "linger.ms": 5,
                                      "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS, **trace.config(),
                                      **(extra or {})})


class _TxnRun:
    """The transactions scenario while it runs."""

    def __init__(self, cluster: Cluster, s: TransactionSettings, ctx: RunContext) -> None:
        self.cluster, self.s, self.ctx = cluster, s, ctx
        self.t0 = time.monotonic()
        self.tid = f"lab-eos-txn-{uuid.uuid4().hex[:8]}"
        self.trace = ClientTrace()
        self.adm = clients.admin(cluster)
        self.outcomes: list[TxnOutcome] = []
        self.samples: list[OffsetSample] = []
        self.steps: list[Step] = []
        self.open_from: float | None = None
        self.open_to: float | None = None
        self.held: tuple[dict[int, int], dict[int, int], dict[int, int]] = ({}, {}, {})
        self.lso_after: dict[int, int] = {}
        self.final: dict[str, Any] = {}

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def step(self, label: str) -> None:
        self.steps.append(Step(self.now(), label))
        self.report(label)

    def result(self, stopped: str | None = None) -> TransactionResult:
        return TransactionResult(
            self.s, self.tid, self.trace.identity, tuple(self.outcomes), tuple(self.samples), tuple(self.steps),
            self.open_from, self.open_to, held_hw=self.held[0], held_lso=self.held[1],
            held_position=self.held[2], lso_after=self.lso_after, stopped=stopped, **self.final)

    def report(self, message: str) -> None:
        self.ctx.report(len(self.outcomes) / self.s.transactions, message, self.result())

    def sample(self, cons: Consumer) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """One sample of every partition: HW, LSO, and the read_committed consumer's position."""
        while cons.poll(0.05) is not None and not self.ctx.cancelled:
            pass  # the consumer reads what it may: up to the LSO
        s, t = self.s, self.now()
        # the LSO first: both only grow, so LSO read before HW can never show above it (markers are
        # written by the coordinator after a commit returns, possibly between the two requests)
        lso = logs.end_offsets(self.adm, s.topic, s.partitions, "read_committed")
        hw = logs.end_offsets(self.adm, s.topic, s.partitions, "read_uncommitted")
        tps = [TopicPartition(s.topic, p) for p in range(s.partitions)]
        pos = {tp.partition: tp.offset for tp in cons.position(tps)}
        self.samples += [OffsetSample(t, p, hw[p], lso[p], pos.get(p, -1)) for p in range(s.partitions)]
        return hw, lso, pos

    def transaction(self, prod: Producer, cons: Consumer, i: int) -> None:
        s = self.s
        last = i == s.transactions - 1
        commit = not s.is_aborted(i)
        txn_call("begin_transaction", prod.begin_transaction)
        first = i * s.records_per_transaction
        records: dict[int, int] = {}
        for seq in range(first, first + s.records_per_transaction):
            p = s.partition_of(seq)
            prod.produce(s.topic, sequence.encode(seq, s.record_bytes), partition=p)
            records[p] = records.get(p, 0) + 1
            prod.poll(0)
        prod.flush(TXN_CALL_TIMEOUT_S)  # in the log (above the LSO) before anything is decided
        if last:
            self.hold(cons)
        end_ms = txn_call("commit_transaction" if commit else "abort_transaction",
                          prod.commit_transaction if commit else prod.abort_transaction, TXN_CALL_TIMEOUT_S)
        self.outcomes.append(TxnOutcome(i, commit, records, end_ms=round(end_ms, 2)))
        self.step(f"transaction {i} {'committed' if commit else 'aborted'} ({s.records_per_transaction} records)")
        self.sample(cons)

    def hold(self, cons: Consumer) -> None:
        """Keep the last transaction open, sampling HW, LSO and the read_committed consumer's position."""
        self.open_from = self.now()
        self.step(f"last transaction open: holding it {self.s.hold_open_s:g} s")
        end = time.monotonic() + self.s.hold_open_s
        while time.monotonic() < end:
            self.held = self.sample(cons)
            self.report("transaction open: HW moves on, LSO and the read_committed consumer wait")
            if self.ctx.wait(max(0.0, min(SAMPLE_EVERY_S, end - time.monotonic()))):
                raise Cancelled(self.ctx.stopped_text())
        self.held = self.sample(cons)
        self.open_to = self.now()

    def after_commit(self, cons: Consumer) -> None:
        """Wait (bounded) until the LSO has caught up with the HW: the markers are written after the commit."""
        for _ in range(20):
            hw, lso, _pos = self.sample(cons)
            if lso == hw:
                break
            self.ctx.sleep(SAMPLE_EVERY_S)
        self.lso_after = lso

    def read_back(self) -> None:
        s = self.s
        rc = logs.read_all(self.cluster, s.topic, s.partitions, "read_committed")
        ru = logs.read_all(self.cluster, s.topic, s.partitions, "read_uncommitted")
        aborted = {o.index for o in self.outcomes if not o.committed}
        per_txn = s.records_per_transaction
        hw = logs.end_offsets(self.adm, s.topic, s.partitions, "read_uncommitted")
        data = {p: sum(1 for r in ru if r.partition == p) for p in range(s.partitions)}
        self.final = dict(
            read_committed=len(rc), read_uncommitted=len(ru),
            aborted_seen_committed=sum(1 for r in rc if r.seq // per_txn in aborted),
            aborted_seen_uncommitted=sum(1 for r in ru if r.seq // per_txn in aborted),
            marker_offsets={p: hw[p] - data[p] for p in range(s.partitions)},
            expected_markers={p: sum(1 for o in self.outcomes if p in o.records) for p in range(s.partitions)})
        self.outcomes = [_with_offsets(o, ru, hw, per_txn) for o in self.outcomes]


def _with_offsets(o: TxnOutcome, ru: list[logs.Record], hw: dict[int, int], per_txn: int) -> TxnOutcome:
    """The offsets transaction ``o`` took in each partition: from its first record to the next
    transaction's first record there (or the HW), its records and its marker."""
    taken: dict[int, int] = {}
    for p in o.records:
        mine = [r.offset for r in ru if r.partition == p and r.seq // per_txn == o.index]
        later = [r.offset for r in ru if r.partition == p and r.seq // per_txn > o.index]
        if mine:
            taken[p] = (min(later) if later else hw[p]) - min(mine)
    return dataclasses.replace(o, offsets_taken=taken)


def transactional(cluster: Cluster, settings: TransactionSettings, ctx: RunContext) -> TransactionResult:
    """Run the transactions (see the module docstring); a stopped run returns what it measured and
    aborts the transaction it had open."""
    s = settings
    run = _TxnRun(cluster, s, ctx)
    stopped: str | None = None
    try:
        run.step(f"creating {s.topic} ({s.partitions} partitions)")
        lab_admin.recreate_topic(cluster, s.topic, [[1 + (p + k) % 3 for k in range(3)] for p in range(s.partitions)],
                                 {"min.insync.replicas": "2"}, ctx)
        run.adm = clients.admin(cluster)  # made after the topic: an older client may keep its old metadata
        _transact(run)
        run.step("reading the topic back: read_committed and read_uncommitted")
        run.read_back()
    except Cancelled:
        stopped = ctx.stopped_text()
    return run.result(stopped)


def _transact(run: _TxnRun) -> None:
    s, ctx = run.s, run.ctx
    cons = clients.consumer(run.cluster, {"group.id": f"lab-eos-rc-{uuid.uuid4().hex[:8]}",
                                          "enable.auto.commit": False, "isolation.level": "read_committed"})
    prod = transactional_producer(run.cluster, run.tid, run.trace)
    open_txn = False
    try:
        cons.assign([TopicPartition(s.topic, p, 0) for p in range(s.partitions)])
        txn_call("init_transactions", prod.init_transactions, TXN_CALL_TIMEOUT_S, cluster=run.cluster, tid=run.tid)
        prod.poll(0.3)  # one statistics window: the PID and epoch
        run.step(f"init_transactions: {run.tid} registered")
        for i in range(s.transactions):
            ctx.check()
            open_txn = True
            run.transaction(prod, cons, i)
            open_txn = False
        run.after_commit(cons)
    finally:
        if open_txn:  # stopped part-way: leave nothing open behind (bounded)
            with contextlib.suppress(KafkaException):
                prod.abort_transaction(TXN_CALL_TIMEOUT_S)
        prod.poll(0)
        prod.flush(0)
        cons.close()
