"""The duplicate problem, made to happen, and idempotence that removes it.

A producer writes numbered records (``lab.eos.sequence``) at a steady rate while the lab freezes the
partition leader with SIGSTOP. The frozen broker's kernel still accepts the bytes, so the produce
requests sit unread in its socket; after ``socket.timeout.ms`` librdkafka gives up on them, drops the
connection and (retries on) sends the same batches again. When the broker resumes (SIGCONT) it reads
the originals *and* the retries, and appends both: without idempotence every retried batch is in the
log twice, behind newer records. With ``enable.idempotence=true`` each batch carries the producer id
(PID), its epoch and a per-partition sequence number; the leader sees the retry's sequence already
written and acknowledges it without appending it again.

The window that makes it work: the pause must outlast the client's request timeout (``socket.timeout.ms``:
in librdkafka that is the in-flight timeout; ``request.timeout.ms`` only bounds the broker's wait for
acks) and stay below the broker session timeout (``broker.session.timeout.ms``), or the controller
fences the frozen broker, moves leadership, and the retries go to a new leader that never saw the
originals — that is a failover, not a duplicate.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, Message, Producer

from lab.cluster.base import BrokerAction, Cluster
from lab.core.errors import Cancelled, LabError, SettingsError
from lab.core.results import Result
from lab.eos import sequence
from lab.eos.eosstats import ClientTrace, ProducerIdentity
from lab.eos.sequence import SequenceCount
from lab.eos.settings import IDEMPOTENCE_MODES, DuplicateSettings
from lab.kafka import admin as lab_admin
from lab.kafka import faults
from lab.kafka.load import owned_producer

if TYPE_CHECKING:
    from collections.abc import Callable

    from lab.core.context import RunContext
#: What ``enable.idempotence=true`` requires of the other settings (librdkafka refuses a producer otherwise).
IDEMPOTENCE_REQUIRES = {"acks": "all", "max.in.flight": "≤ 5", "retries": "> 0"}
#: The broker setting the pause must stay under, and the value Kafka uses when the cluster does not say.
SESSION_TIMEOUT_KEY = "broker.session.timeout.ms"
DEFAULT_SESSION_TIMEOUT_MS = 9000
#: Margin under the session timeout: the last heartbeat may have been sent up to an interval before the pause.
SESSION_MARGIN_MS = 1000
#: How long the read-back of one partition may take.
READ_TIMEOUT_S = 30.0
#: How a person freezes a broker on a cluster the lab does not run.
FREEZE_HINT = "e.g. `docker pause <its container>` and `docker unpause`, or `kill -STOP <pid>` and `kill -CONT <pid>`"
#: Longest wait for the first acknowledgement of a run before the fault is applied anyway.
WARM_UP_S = 15.0
#: Longest wait, before the fault, for the broker to freeze to lead every partition with all replicas in sync.
LEADER_READY_S = 20.0


@dataclass(frozen=True)
class Second:
    """What the producer saw in the second starting at ``t`` (seconds since the scenario started)."""

    t: float
    run: str
    acked: int
    failed: int
    #: produce requests that timed out on the client (librdkafka statistics): each is sent again
    timeouts: int


@dataclass(frozen=True)
class FaultRun:
    """One producer run through the fault; counts are None where the run did not get that far."""

    idempotence: bool
    topic: str
    config: dict[str, str]
    sent: int = 0
    acked: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    #: client-side request timeouts over the run (librdkafka statistics); each one's batches are sent again
    timeouts: int = 0
    identity: ProducerIdentity | None = None
    #: when the leader was frozen and thawed (seconds on the scenario's clock)
    pause_from_s: float | None = None
    pause_to_s: float | None = None
    partitions: tuple[SequenceCount, ...] = ()
    #: False until the log was read back
    read_back: bool = False

    def total(self) -> sequence.Totals:
        return sequence.totals(self.partitions)

    @property
    def label(self) -> str:
        return "idempotent" if self.idempotence else "plain"


@dataclass(frozen=True)
class DuplicateResult(Result):
    settings: DuplicateSettings
    #: the cluster's broker.session.timeout.ms the pause was checked against
    session_timeout_ms: int
    runs: tuple[FaultRun, ...]
    seconds: tuple[Second, ...] = ()


class _Producing:
    """One producer run: numbered records at a fixed rate, per-second counts, the acked numbers per partition."""

    def __init__(self, prod: Producer, trace: ClientTrace, s: DuplicateSettings, topic: str, t0: float) -> None:
        self.prod, self.trace, self.s, self.topic, self.t0 = prod, trace, s, topic, t0
        self.next_seq = [0] * s.partitions
        self.acked: list[set[int]] = [set() for _ in range(s.partitions)]
        self.errors: dict[str, int] = {}
        self.buckets: dict[int, list[int]] = {}  # second -> [acked, failed]
        self.sent = 0
        self._due = time.monotonic()

    def on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        b = self.buckets.setdefault(int(time.monotonic() - self.t0), [0, 0])
        if err is None:
            b[0] += 1
            n = sequence.decode(msg.value())
            if n is not None and msg.partition() is not None:
                self.acked[msg.partition() or 0].add(n)
        else:
            b[1] += 1
            self.errors[err.name()] = self.errors.get(err.name(), 0) + 1

    def produce_for(self, seconds: float, ctx: RunContext) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not ctx.cancelled:
            p = self.sent % self.s.partitions
            try:
                self.prod.produce(self.topic, sequence.encode(self.next_seq[p], self.s.record_bytes), partition=p,
                                  on_delivery=self.on_delivery)
                self.next_seq[p] += 1
                self.sent += 1
            except BufferError:
                pass  # the local queue is full while the leader is frozen: wait for it to drain
            self.prod.poll(0)
            self._due += 1.0 / self.s.rate_per_s
            delay = self._due - time.monotonic()
            if delay > 0:
                ctx.wait(delay)
            elif delay < -1.0:
                self._due = time.monotonic()


def _node_ids(cluster: Cluster) -> tuple[int, ...]:
    """The brokers the cluster has (from the lab's state, or its metadata without broker controls)."""
    try:
        return tuple(cluster.node_ids()) if cluster.controls_enabled else tuple(sorted(cluster.probe()[2]))
    except LabError:
        return ()


def _session_timeout_ms(cluster: Cluster) -> int:
    try:
        raw = cluster.status().broker_settings.get(SESSION_TIMEOUT_KEY)
    except Exception:  # noqa: BLE001 - the status is advice here; Kafka's default applies without it
        raw = None
    return int(raw) if raw and raw.isdigit() else DEFAULT_SESSION_TIMEOUT_MS


def check_window(s: DuplicateSettings, session_timeout_ms: int) -> None:
    """``SettingsError`` when the pause would get the frozen broker fenced on this cluster."""
    limit = session_timeout_ms - SESSION_MARGIN_MS
    if s.pause_ms > limit:
        raise SettingsError(
            f"A pause of {s.pause_ms} ms is too long for this cluster ({SESSION_TIMEOUT_KEY}={session_timeout_ms}).",
            hint=f"Use {s.socket_timeout_ms + 1} to {limit} ms: longer and the controller fences the broker and "
                 "moves leadership, so the retries go to a new leader instead of being written twice.")


def _seconds(run: str, prod: _Producing, t_from: float) -> list[Second]:
    """Per-second counts of one run on the scenario's clock (``t_from``: when this run started on it)."""
    if not prod.buckets:
        return []
    n = max(prod.buckets) + 1
    trace = prod.trace.per_second(prod.t0, n)
    out = []
    for sec in range(n):
        acked, failed = prod.buckets.get(sec, [0, 0])
        out.append(Second(round(t_from + sec, 3), run, acked, failed, trace[sec]))
    return out


class _Scenario:
    """The scenario while it runs: the finished runs, the one in progress, and the per-second counts."""

    def __init__(self, cluster: Cluster, s: DuplicateSettings, session_ms: int, ctx: RunContext) -> None:
        self.cluster, self.s, self.session_ms, self.ctx = cluster, s, session_ms, ctx
        self.t0 = time.monotonic()
        self.runs: list[FaultRun] = []
        self.seconds: list[Second] = []
        self.current: FaultRun | None = None
        self.live: _Producing | None = None

    def result(self, stopped: str | None = None) -> DuplicateResult:
        runs = list(self.runs) + ([self.current] if self.current is not None else [])
        secs = list(self.seconds)
        if self.live is not None and self.current is not None:
            secs += _seconds(self.current.label, self.live, self.live.t0 - self.t0)
        return DuplicateResult(self.s, self.session_ms, tuple(runs), tuple(secs), stopped=stopped)

    def report(self, message: str) -> None:
        total = len(IDEMPOTENCE_MODES[self.s.idempotence])
        self.ctx.report(len(self.runs) / total, message, self.result())

    def _phase(self, prod: _Producing, seconds: float, message: str) -> None:
        """Produce for ``seconds``, reporting about twice a second."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.ctx.cancelled:
            prod.produce_for(min(0.5, end - time.monotonic()), self.ctx)
            self._update(prod)
            self.report(message)

    def _update(self, prod: _Producing, **changes: Any) -> None:
        assert self.current is not None
        ident = prod.trace.identity
        self.current = _replace(self.current, sent=prod.sent, acked=sum(len(a) for a in prod.acked),
                                failed=sum(b[1] for b in prod.buckets.values()), errors=dict(prod.errors),
                                timeouts=prod.trace.req_timeouts,
                                identity=ident, **changes)

    def one(self, idem: bool) -> None:
        s, cluster, ctx = self.s, self.cluster, self.ctx
        topic = s.topic_for(idem)
        cfg = s.to_config(idem)
        self.current = FaultRun(idem, topic, {k: str(v).lower() if isinstance(v, bool) else str(v)
                                              for k, v in cfg.items()})
        self.report(f"creating {topic} ({s.partitions} partition(s) led by broker {s.leader})")
        others = [b for b in _node_ids(cluster) if b != s.leader][:2]
        lab_admin.recreate_topic(cluster, topic, [[s.leader, *others]] * s.partitions,
                                 {"min.insync.replicas": "2"}, ctx)
        trace = ClientTrace()
        with owned_producer(cluster, {**cfg, **trace.config()}) as p:
            prod = _Producing(p, trace, s, topic, time.monotonic())
            self.live = prod
            self._warm_up(prod)
            self._phase(prod, s.before_s, f"{self.current.label}: producing before the fault")
            self._freeze(prod)
            self._phase(prod, s.after_s, f"{self.current.label}: producing after the fault")
            self._drain(prod)
        self.report(f"{self.current.label}: reading {topic} back")
        if not ctx.cancelled:
            counts = tuple(sequence.count([n for m in lab_admin.read_partition(cluster, topic, part, READ_TIMEOUT_S)
                                           if (n := sequence.decode(m.value())) is not None],
                                          prod.acked[part], part) for part in range(s.partitions))
            self.current = _replace(self.current, partitions=counts, read_back=True)
        self.seconds += _seconds(self.current.label, prod, prod.t0 - self.t0)
        self.runs.append(self.current)
        self.current, self.live = None, None

    def _warm_up(self, prod: _Producing) -> None:
        """Produce until the first acknowledgement (a new topic's metadata, the PID): the fault must hit a
        stream that is flowing."""
        end = time.monotonic() + WARM_UP_S
        while not any(prod.acked) and time.monotonic() < end and not self.ctx.cancelled:
            self._phase(prod, 0.2, "waiting for the first acknowledgement")

    def _freeze(self, prod: _Producing) -> None:
        s, ctx = self.s, self.ctx
        label = self.current.label if self.current else ""
        if ctx.cancelled:
            return
        if not self.cluster.controls_enabled:
            self._freeze_by_hand(prod, label)
            return
        self._leader_ready(prod, label)
        if ctx.cancelled:
            return
        # the broker call returns only after reading the cluster's status, which the frozen broker makes slow
        # (its metadata and JMX answers time out): the stream flows on meanwhile, and the freeze lasts
        # pause_ms from just before the signal, not pause_ms after that status (past the session timeout)
        start = time.monotonic()
        self._while_producing(prod, lambda: self.cluster.broker(BrokerAction.PAUSE, s.leader, lease=ctx.lease))
        self._update(prod, pause_from_s=round(start - self.t0, 3))
        try:
            self._phase(prod, start + s.pause_ms / 1000 - time.monotonic(),
                        f"{label}: broker {s.leader} frozen (SIGSTOP)")
        finally:
            end = time.monotonic()
            self._while_producing(prod, lambda: self.cluster.broker(BrokerAction.RESUME, s.leader, lease=ctx.lease))
        self._update(prod, pause_to_s=round(end - self.t0, 3))

    def _while_producing(self, prod: _Producing, action: Callable[[], object]) -> None:
        """Run ``action`` here while a helper thread keeps producing at the set rate (the producer is thread-safe)."""
        import threading

        done = threading.Event()

        def feed() -> None:
            while not done.is_set() and not self.ctx.cancelled:
                prod.produce_for(0.05, self.ctx)

        helper = threading.Thread(target=feed, name="lab-eos-feed", daemon=True)
        helper.start()
        try:
            action()
        finally:
            done.set()
            helper.join()

    def _leader_ready(self, prod: _Producing, label: str) -> None:
        """Before the fault: every partition led by the broker to freeze, with all its replicas in sync (a
        leader elected elsewhere at creation, or a follower still catching up, would make the freeze no
        duplicate at all). Asks once for the preferred leaders; ``LabError`` after ``LEADER_READY_S``."""
        s, ctx, topic = self.s, self.ctx, prod.topic
        asked = False

        def ready() -> bool:
            nonlocal asked
            parts = lab_admin.describe_topics(self.cluster, [topic], with_configs=False)[0].partitions
            if any(p.leader != s.leader for p in parts) and not asked:
                asked = True
                lab_admin.elect_preferred_leaders(self.cluster, topic, [p.partition for p in parts])
            return all(p.leader == s.leader and len(p.isr) == len(p.replicas) for p in parts)

        end = time.monotonic() + LEADER_READY_S
        while not ready():
            if time.monotonic() >= end:
                raise LabError(f"The partitions of {topic} were not all led by broker {s.leader} with every "
                               f"replica in sync within {LEADER_READY_S:.0f} s; the freeze would not hit the leader.",
                               hint="Check that every broker is running (`kafka-lab cluster status`) and run it again.")
            self._phase(prod, 0.2, f"{label}: waiting for broker {s.leader} to lead with every replica in sync")
            if ctx.cancelled:
                return

    def _freeze_by_hand(self, prod: _Producing, label: str) -> None:
        """No broker controls here: ask the person to freeze the leader, and see the fault from the client
        (its first request timeouts, ``socket.timeout.ms`` after the freeze); it is over once
        acknowledgements flow again. Bounded by ``faults.MANUAL_STEP_TIMEOUT_S`` per step."""
        s, ctx = self.s, self.ctx
        limit = self.session_ms - SESSION_MARGIN_MS
        before = prod.trace.req_timeouts
        end = time.monotonic() + faults.MANUAL_STEP_TIMEOUT_S
        ask = (f"{label}: please freeze broker {s.leader} now for {s.socket_timeout_ms + 500} to {limit} ms "
               f"({FREEZE_HINT}), then let it go; waiting for the producer's requests to time out")
        while prod.trace.req_timeouts == before and time.monotonic() < end and not ctx.cancelled:
            self._phase(prod, 0.5, ask)
        if ctx.cancelled:
            return
        if prod.trace.req_timeouts == before:
            raise LabError(f"No frozen leader was seen within {faults.MANUAL_STEP_TIMEOUT_S:.0f} s: the producer's "
                           "requests never timed out.",
                           hint=f"Freeze broker {s.leader} (the topic's leader) for longer than socket.timeout.ms "
                                f"({s.socket_timeout_ms} ms) while the scenario waits.")
        seen = time.monotonic() - self.t0
        self._update(prod, pause_from_s=round(max(0.0, seen - s.socket_timeout_ms / 1000), 3))
        acked = sum(len(a) for a in prod.acked)
        end = time.monotonic() + faults.MANUAL_STEP_TIMEOUT_S
        while sum(len(a) for a in prod.acked) == acked and time.monotonic() < end and not ctx.cancelled:
            self._phase(prod, 0.2, f"{label}: broker {s.leader} frozen (seen by the client); waiting for it to answer")
        self._update(prod, pause_to_s=round(time.monotonic() - self.t0, 3))

    def _drain(self, prod: _Producing) -> None:
        """Wait (bounded, cancellable) for every delivery report."""
        deadline = time.monotonic() + self.s.message_timeout_ms / 1000 + 5
        while prod.prod.flush(0.5) > 0 and time.monotonic() < deadline and not self.ctx.cancelled:
            self._update(prod)
            self.report("waiting for the last delivery reports")
        self._update(prod)


def _replace(run: FaultRun, **changes: Any) -> FaultRun:
    return dataclasses.replace(run, **changes)


def idempotent(cluster: Cluster, settings: DuplicateSettings, ctx: RunContext) -> DuplicateResult:
    """Freeze the leader under a numbered stream, without and then with idempotence; count the log.

    Returns every run it finished (and the one in progress, when stopped), with per-second acks, client
    timeouts and retries, the fault's start and end, and per partition: records, duplicates, gaps, lost
    acknowledged records and order violations. Every broker is running again however it ends.
    """
    nodes = _node_ids(cluster)
    if settings.leader not in nodes:
        raise SettingsError(f"Broker {settings.leader} is not in this cluster (its brokers: "
                            f"{', '.join(map(str, nodes)) or 'none answered'}).", hint="Pick one of its brokers.")
    session_ms = _session_timeout_ms(cluster)
    check_window(settings, session_ms)
    sc = _Scenario(cluster, settings, session_ms, ctx)
    stopped: str | None = None
    try:
        with faults.restoring(cluster, ctx):
            for idem in IDEMPOTENCE_MODES[settings.idempotence]:
                sc.one(idem)
                if ctx.cancelled:
                    raise Cancelled(ctx.stopped_text())
    except Cancelled:
        stopped = ctx.stopped_text()
    return sc.result(stopped)
