"""Replication made visible: ISR, high watermark (HW), log end offsets (LEO), leader epochs,
min.insync.replicas and unclean leader election, on the real cluster.

Where each number comes from (nothing is estimated):

- leader, replicas, ISR: cluster metadata (AdminClient ``list_topics``);
- high watermark and leader epoch: ``list_offsets(latest)`` answered by the partition's leader (the
  latest offset a ``read_uncommitted`` consumer may read *is* the HW, and the answer carries the
  leader's current epoch);
- each replica's LEO: the broker's own JMX MBean ``kafka.log:type=Log,name=LogEndOffset`` read
  through the Jolokia agent (local backend, and compose containers created with the agent jar mounted);
  other clusters show "not available" instead.

The observation part (``Observer``, ``detect_events``, ``Recorder``) is pure or read-only; the
scenarios (``monitor``, ``min_isr``, ``hw_leo``, ``unclean``) are lab experiments
``fn(cluster, settings, ctx)`` run through ``lab.experiment``. Every scenario that touches brokers
puts the cluster back to all-brokers-up in ``finally``, even when cancelled or failed.

KRaft note: the lab's three nodes are each broker *and* controller. The controller quorum needs two of
three nodes, so with two nodes down there are no leader elections and no ISR changes. The scenarios
are ordered around that (controlled shutdown one broker at a time; a third node that keeps the quorum).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from confluent_kafka import (
    ElectionType,
    IsolationLevel,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from lab import admin as lab_admin
from lab import clients, jmx
from lab.cluster.base import BrokerAction, Cluster
from lab.errors import ClusterError, ControlsDisabled, KafkaOperationError, LabError, SettingsError
from lab.settings import TopicSpec, check_topic_name, is_whole, require

if TYPE_CHECKING:
    import pandas as pd

    from lab.experiment import RunContext

#: The monitor's poll period: ISR changes take seconds (replica.lag.time.max.ms), so 1 s sees each one.
POLL_INTERVAL_S = 1.0
#: Per-request bound for the monitor's admin calls; a frozen broker must not stall a poll for long.
POLL_REQUEST_TIMEOUT_S = 2.0
#: ... and for a first try that is asked again on no answer: a broker that is up answers in milliseconds,
#: so a second wasted on a frozen one (the request went to any broker) is enough.
POLL_FIRST_TRY_S = 1.0
#: Pause between snapshots while a one-shot describe waits for a just-created topic's figures.
DESCRIBE_RETRY_S = 0.3
#: How long the CLI's describe waits for a just-created topic's epoch and every replica's LEO.
DESCRIBE_SETTLE_S = 5.0
#: How long a scenario waits for an ISR change, a leader election or a restarted broker to rejoin.
CHANGE_TIMEOUT_S = 60.0
#: A probe write gives up after this long: long enough for a healthy acks=all round trip under load,
#: short enough that a partition without a leader shows up as failures within the demo.
PROBE_MESSAGE_TIMEOUT_MS = 6000
#: How long stopping a background producer waits for its last deliveries (a cancel must not hang on them).
FLUSH_ON_STOP_S = 10.0
#: How long a cancelled scenario waits for a broker action in flight (a stop may take its full timeout).
ACTION_JOIN_S = 90.0
#: How long a scenario waits for a just-restarted broker to be registered before creating its topic.
BROKERS_SETTLE_S = 30.0
#: How long ``cluster.up()`` may take when a scenario restores the cluster in ``finally``.
RESTORE_TIMEOUT_S = 150.0
#: How long a scenario waits for the user to act on an external cluster (no broker controls there).
MANUAL_STEP_TIMEOUT_S = 180.0


# =================================================================================================
# Observation: snapshots of partition state, and the events between two snapshots
# =================================================================================================
class EventKind(StrEnum):
    ISR_SHRINK = "isr_shrink"
    ISR_EXPAND = "isr_expand"
    LEADER_CHANGE = "leader_change"
    EPOCH_CHANGE = "epoch_change"
    OFFLINE = "offline"  # no leader: no reads or writes
    ONLINE = "online"


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
        """Messages ``broker``'s replica lacks compared to the leader's LEO (None if either is unknown)."""
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


def _ids(xs: tuple[int, ...] | set[int]) -> str:
    return ",".join(map(str, sorted(xs))) or "-"


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
            ev(EventKind.ISR_SHRINK, f"ISR {_ids(q.isr)} -> {_ids(p.isr)} (broker {_ids(removed)} left)")
        if added:
            ev(EventKind.ISR_EXPAND, f"ISR {_ids(q.isr)} -> {_ids(p.isr)} (broker {_ids(added)} rejoined)")
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


def _kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


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
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="lab-jmx")
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
        return any(self._jmx_url(n) for n in self._brokers_seen())

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

    def _jmx_url(self, node: int) -> str | None:
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
            url = self._jmx_url(n)
            if url is None:
                continue
            for t in self.topics:
                jobs[(n, t)] = self._pool.submit(jmx.log_end_offsets, url, t)
        out: dict[int, dict[str, dict[int, int] | None]] = {}
        for (n, t), fut in jobs.items():
            out.setdefault(n, {})[t] = fut.result()
        return out

    def snapshot(self, t: float) -> Snapshot:
        md = self._metadata()
        missing = [name for name in self.topics if name not in md.topics]
        deadline = time.monotonic() + lab_admin.METADATA_SETTLE_S
        while missing and time.monotonic() < deadline:  # a topic created a moment ago may not be known yet
            time.sleep(0.2)
            md = self._metadata()
            missing = [name for name in self.topics if name not in md.topics]
        if missing:
            raise SettingsError(f"No such topic(s): {', '.join(missing)}.",
                                hint="Create it first (`kafka-lab topics create` makes the lab's topics).")
        parts = [(name, p) for name in self.topics for p in sorted(md.topics[name].partitions.values(),
                                                                     key=lambda p: p.id)]
        nodes = sorted({r for _, p in parts for r in p.replicas})
        hw = self._hw_and_epochs([TopicPartition(name, p.id) for name, p in parts if p.leader >= 0])
        leos = self._leos(nodes)
        states = []
        for name, p in parts:
            leo: dict[int, int | None] = {}
            stale: list[int] = []
            for r in p.replicas:
                by_topic = leos.get(r)
                if by_topic is None:  # no JMX for this backend
                    leo[r] = None
                    continue
                got = by_topic.get(name)
                key = (name, p.id, r)
                if got is not None and p.id in got:
                    leo[r] = got[p.id]
                    self._last_leo[key] = got[p.id]
                elif key in self._last_leo:  # agent silent (paused broker): its log cannot have moved
                    leo[r] = self._last_leo[key]
                    stale.append(r)
                else:
                    leo[r] = None
            h, e = hw.get((name, p.id), (None, None))
            states.append(PartitionState(name, p.id, p.leader, tuple(p.replicas), tuple(sorted(p.isrs)),
                                         e, h, leo, tuple(stale)))
        return Snapshot(round(t, 3), tuple(states))

    def active_controller(self) -> int | None:
        """The node whose JMX says it is the active KRaft controller (None when JMX is unavailable)."""
        for n in self._brokers_seen():
            url = self._jmx_url(n)
            if url is None:
                continue
            data = jmx.read(url, "kafka.controller:type=KafkaController,name=ActiveControllerCount")
            if data and isinstance(data.get("value"), dict) and data["value"].get("Value") == 1:
                return n
        return None


# =================================================================================================
# A small background producer: write throughput and errors on the monitor's time axis
# =================================================================================================
@dataclass(frozen=True)
class ProduceSample:
    """Deliveries that completed in the second starting at ``t`` (seconds since the recording started)."""

    t: float
    acked: int
    failed: int
    #: Kafka error name -> count, e.g. {"NOT_ENOUGH_REPLICAS": 12}.
    errors: dict[str, int] = field(default_factory=dict)
    #: Slowest send -> ack time in this second (ms), from ``Message.latency()``.
    max_latency_ms: float | None = None


@dataclass(frozen=True)
class BackgroundProducerSettings:
    """Writes a steady stream of small messages while the monitor or a scenario runs."""

    rate_per_s: int = 50
    acks: str = "all"
    #: librdkafka retries are off so each rejection is seen (and counted) instead of hidden by a retry.
    retries: int = 0
    message_timeout_ms: int = PROBE_MESSAGE_TIMEOUT_MS

    def __post_init__(self) -> None:
        require(is_whole(self.rate_per_s) and 1 <= self.rate_per_s <= 5000,
                f"Background producer rate {self.rate_per_s!r} is out of range.",
                "Use 1 to 5000 messages per second (the lab's brokers share a small machine).")
        require(self.acks in ("0", "1", "all"), f"acks={self.acks!r} is not valid.", "Use 0, 1 or all.")
        require(is_whole(self.retries) and 0 <= self.retries <= 10, f"retries={self.retries!r} is out of range.",
                "Use 0 to 10.")
        require(is_whole(self.message_timeout_ms) and 1000 <= self.message_timeout_ms <= 120_000,
                f"message timeout {self.message_timeout_ms!r} ms is out of range.", "Use 1000 to 120000 ms.")


class BackgroundProducer:
    """Produces ``rate_per_s`` messages a second to one topic in its own thread; counts every delivery.

    Owned with ``with``: leaving the block stops the thread and flushes (bounded) the producer.
    Values are ``"<seq>"`` so a consumer can tell exactly which acknowledged messages exist.
    """

    def __init__(self, cluster: Cluster, topic: str, settings: BackgroundProducerSettings, t0: float,
                 partition: int | None = None) -> None:
        self.topic = topic
        self.settings = settings
        self.partition = partition
        self._t0 = t0
        self._producer = clients.producer(cluster, {
            "acks": settings.acks, "retries": settings.retries, "linger.ms": 5,
            "message.timeout.ms": settings.message_timeout_ms, "enable.idempotence": False,
        })
        self._lock = threading.Lock()
        self._buckets: dict[int, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="lab-bg-producer", daemon=True)
        self.sent = 0
        self.acked_ids: set[int] = set()

    def __enter__(self) -> BackgroundProducer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop writing and wait (bounded) for outstanding deliveries; any still pending are dropped."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._producer.flush(min(self.settings.message_timeout_ms / 1000 + 2, FLUSH_ON_STOP_S))

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        sec = int(time.monotonic() - self._t0)
        with self._lock:
            b = self._buckets.setdefault(sec, {"acked": 0, "failed": 0, "errors": {}, "lat": None})
            if err is None:
                b["acked"] += 1
                lat = msg.latency()
                if lat is not None:
                    b["lat"] = max(b["lat"] or 0.0, lat * 1000)
                val = msg.value()
                if val is not None:
                    self.acked_ids.add(int(val))
            else:
                b["failed"] += 1
                b["errors"][err.name()] = b["errors"].get(err.name(), 0) + 1

    def _main(self) -> None:
        interval = 1.0 / self.settings.rate_per_s
        nxt = time.monotonic()
        while not self._stop.is_set():
            kwargs: dict[str, Any] = {} if self.partition is None else {"partition": self.partition}
            try:
                self._producer.produce(self.topic, value=str(self.sent).encode(), on_delivery=self._on_delivery,
                                       **kwargs)
                self.sent += 1
            except BufferError:
                pass  # the local queue is full (brokers refusing): wait for deliveries to drain it
            self._producer.poll(0)
            nxt += interval
            delay = nxt - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -1.0:  # fell far behind (machine busy): do not burst to catch up
                nxt = time.monotonic()
        self._producer.poll(0)

    def samples(self) -> list[ProduceSample]:
        with self._lock:
            return [ProduceSample(float(s), b["acked"], b["failed"], dict(b["errors"]),
                                  None if b["lat"] is None else round(b["lat"], 1))
                    for s, b in sorted(self._buckets.items())]


# =================================================================================================
# Recording: snapshots + events + producer samples + scenario steps, shared by every scenario
# =================================================================================================
@dataclass(frozen=True)
class Step:
    """Something the scenario did (or asked the user to do) at time ``t``: drawn as a rule on the charts."""

    t: float
    label: str


@dataclass(frozen=True)
class Timeline:
    """Everything recorded on one time axis (seconds since the recording started)."""

    snapshots: tuple[Snapshot, ...] = ()
    events: tuple[ReplicationEvent, ...] = ()
    produce: tuple[ProduceSample, ...] = ()
    steps: tuple[Step, ...] = ()
    leo_note: str = ""

    # --- frames for lab.charts -----------------------------------------------------------------
    def isr_frame(self) -> pd.DataFrame:
        """One row per (snapshot, partition): t, partition label, ISR size, replicas, leader, epoch."""
        import pandas as pd

        rows = [{"t": s.t, "partition": f"{p.topic}[{p.partition}]", "isr_size": len(p.isr),
                 "replicas": len(p.replicas), "isr": _ids(p.isr), "leader": p.leader,
                 "leader_epoch": p.leader_epoch} for s in self.snapshots for p in s.partitions]
        return pd.DataFrame(rows, columns=["t", "partition", "isr_size", "replicas", "isr", "leader", "leader_epoch"])

    def events_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{"t": e.t, "partition": f"{e.topic}[{e.partition}]", "event": e.kind.value, "detail": e.detail,
                 "leader": e.leader, "isr": _ids(e.isr), "leader_epoch": e.leader_epoch} for e in self.events]
        return pd.DataFrame(rows, columns=["t", "partition", "event", "detail", "leader", "isr", "leader_epoch"])

    def produce_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{"t": s.t, "acked": s.acked, "failed": s.failed,
                 "errors": ", ".join(f"{k}×{v}" for k, v in s.errors.items()),
                 "max_latency_ms": s.max_latency_ms} for s in self.produce]
        return pd.DataFrame(rows, columns=["t", "acked", "failed", "errors", "max_latency_ms"])

    def offsets_frame(self) -> pd.DataFrame:
        """Long form for HW-vs-LEO lines: t, partition, series ("HW" or "LEO broker N"), offset, stale."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for s in self.snapshots:
            for p in s.partitions:
                label = f"{p.topic}[{p.partition}]"
                if p.high_watermark is not None:
                    rows.append({"t": s.t, "partition": label, "series": "high watermark", "offset": p.high_watermark,
                                 "stale": False})
                for b, leo in sorted(p.log_end_offsets.items()):
                    if leo is not None:
                        role = "leader" if b == p.leader else "follower"
                        rows.append({"t": s.t, "partition": label, "series": f"LEO broker {b} ({role})",
                                     "offset": leo, "stale": b in p.stale_leo})
        return pd.DataFrame(rows, columns=["t", "partition", "series", "offset", "stale"])

    def steps_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"t": s.t, "step": s.label} for s in self.steps], columns=["t", "step"])


class Recorder:
    """Polls an ``Observer`` and keeps the timeline; scenarios wait on it for the changes they cause."""

    def __init__(self, cluster: Cluster, topics: list[str], ctx: RunContext,
                 interval_s: float = POLL_INTERVAL_S) -> None:
        self.cluster = cluster
        self.ctx = ctx
        self.interval_s = interval_s
        self.observer = Observer(cluster, topics)
        self.t0 = time.monotonic()
        self.snapshots: list[Snapshot] = []
        self.events: list[ReplicationEvent] = []
        self.steps: list[Step] = []
        self.producer: BackgroundProducer | None = None
        self.message = ""
        self.poll_errors = 0
        self._leo_note = self.observer.leo_note()
        self._epochs: dict[tuple[str, int], int] = {}
        self._poll_started = time.monotonic()

    def close(self) -> None:
        self.observer.close()

    def now(self) -> float:
        return time.monotonic() - self.t0

    @property
    def last(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def step(self, label: str) -> None:
        self.steps.append(Step(round(self.now(), 3), label))
        self.message = label
        self.report()

    def pause(self) -> None:
        """Sleep what is left of the poll interval since the last poll began (a slow poll eats into it)."""
        self.ctx.sleep(max(0.05, self.interval_s - (time.monotonic() - self._poll_started)))

    def poll(self) -> Snapshot | None:
        """One snapshot (None when the cluster did not answer this time: counted, not raised)."""
        self._poll_started = time.monotonic()
        try:
            snap = self.observer.snapshot(self.now())
        except SettingsError:
            raise
        except Exception:  # a poll that fails (cluster in flux) is a gap on the charts, not the end of the run
            self.poll_errors += 1
            return None
        self.events.extend(detect_events(self.last, snap, self._epochs))
        self.snapshots.append(snap)
        for p in snap.partitions:
            if p.leader_epoch is not None:
                self._epochs[(p.topic, p.partition)] = p.leader_epoch
        return snap

    def timeline(self) -> Timeline:
        return Timeline(tuple(self.snapshots), tuple(self.events),
                        tuple(self.producer.samples()) if self.producer else (), tuple(self.steps), self._leo_note)

    def report(self, fraction: float | None = None) -> None:
        self.ctx.report(fraction, self.message, self.timeline())

    def wait_until(self, pred: Callable[[Snapshot], bool], what: str, timeout_s: float = CHANGE_TIMEOUT_S) -> float:
        """Poll until ``pred(snapshot)`` holds; return the seconds it took. Raises ``ClusterError`` on timeout."""
        start = time.monotonic()
        self.message = f"waiting: {what}"
        while True:
            snap = self.poll()
            self.report()
            if snap is not None and pred(snap):
                return time.monotonic() - start
            if time.monotonic() - start > timeout_s:
                raise ClusterError(f"Gave up after {timeout_s:.0f} s waiting for: {what}.",
                                   hint="The cluster is slow or a broker did not come back; "
                                        "`kafka-lab cluster status` shows each broker.")
            self.pause()

    def hold(self, seconds: float, what: str) -> None:
        """Keep polling for ``seconds`` (to show a steady state on the charts)."""
        end = time.monotonic() + seconds
        self.message = what
        while time.monotonic() < end:
            self.poll()
            self.report()
            self.ctx.sleep(max(0.0, min(self.interval_s - (time.monotonic() - self._poll_started),
                                        end - time.monotonic())))


# =================================================================================================
# Describe
# =================================================================================================
@dataclass(frozen=True)
class DescribeResult:
    topic: str
    partitions: tuple[PartitionState, ...]
    #: Where the per-replica LEOs came from, or why they are not shown.
    leo_note: str
    active_controller: int | None = None


def describe(cluster: Cluster, topic: str, settle_s: float = 0.0) -> DescribeResult:
    """Per partition: leader, replicas, ISR, leader epoch, HW and each replica's LEO (where available).

    A topic created a moment ago may not yet have an epoch from its leader or a log on every follower;
    with ``settle_s`` > 0 (the CLI's one-shot answer) the snapshot is retried for up to that many seconds
    until every figure is there. The page, which refreshes itself, passes 0.
    """
    check_topic_name(topic)
    lab_admin.describe_topics(cluster, [topic], with_configs=False)  # one clear message for a missing topic
    deadline = time.monotonic() + settle_s
    with Observer(cluster, [topic]) as obs:
        while True:
            snap = obs.snapshot(0.0)
            complete = all(p.leader_epoch is not None and p.high_watermark is not None
                           and all(v is not None for b, v in p.log_end_offsets.items()
                                   if cluster.jmx_url(b) is not None)  # no JMX: LEOs are never known
                           for p in snap.partitions)
            if complete or time.monotonic() >= deadline:
                return DescribeResult(topic, snap.partitions, obs.leo_note(), obs.active_controller())
            time.sleep(DESCRIBE_RETRY_S)


# =================================================================================================
# Scenario plumbing: topics, broker actions (or instructions on external clusters), restore
# =================================================================================================
#: What to tell a person on a cluster the lab cannot control.
MANUAL_HINT = "e.g. `docker compose stop kafka-internals-N` or your platform's own controls"


def _wait_for_brokers(cluster: Cluster, count: int, timeout_s: float = BROKERS_SETTLE_S) -> None:
    """Give a broker that was just started or resumed a moment to be registered again (best effort:
    creating the topic then says clearly what is missing)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(LabError):
            if len(cluster.probe()[2]) >= count:
                return
        time.sleep(0.5)


def _ensure_topic(cluster: Cluster, spec: TopicSpec) -> None:
    _wait_for_brokers(cluster, spec.replication_factor)
    lab_admin.create_topics(cluster, [spec])


def _recreate_topic(cluster: Cluster, name: str, assignment: list[list[int]], configs: dict[str, str]) -> None:
    """Delete ``name`` if it exists and create it with exactly this replica assignment."""
    _wait_for_brokers(cluster, len({b for replicas in assignment for b in replicas}))
    adm = clients.admin(cluster)
    if name in adm.list_topics(timeout=lab_admin.ADMIN_TIMEOUT_S).topics:
        for fut in adm.delete_topics([name], operation_timeout=lab_admin.ADMIN_TIMEOUT_S).values():
            with contextlib.suppress(KafkaException):
                fut.result(timeout=lab_admin.ADMIN_TIMEOUT_S + 5)
        deadline = time.monotonic() + lab_admin.ADMIN_TIMEOUT_S
        while name in adm.list_topics(timeout=lab_admin.ADMIN_TIMEOUT_S).topics and time.monotonic() < deadline:
            time.sleep(0.3)
    for _ in range(20):  # a just-deleted name can be refused for a moment
        fut = adm.create_topics([NewTopic(name, len(assignment), replica_assignment=assignment, config=configs)],
                                operation_timeout=lab_admin.ADMIN_TIMEOUT_S)[name]
        try:
            fut.result(timeout=lab_admin.ADMIN_TIMEOUT_S + 5)
            break
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is None or err.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise KafkaOperationError(f"Creating topic {name!r} failed: {exc}") from exc
            time.sleep(0.5)
    lab_admin._wait_for_leaders(cluster, [name])


def _in_sync_leader_and_followers(rec: Recorder) -> tuple[int, list[int]]:
    """Wait until partition 0 has all three replicas in sync; return its leader and followers then."""
    rec.wait_until(lambda s: len(s.partitions[0].isr) == 3, "all three replicas in sync")
    first = rec.last
    assert first is not None
    leader = first.partitions[0].leader
    return leader, [r for r in first.partitions[0].replicas if r != leader]


def _broker_config(cluster: Cluster, node: int, key: str) -> str | None:
    """One broker config value as the broker reports it (None when it cannot be read)."""
    from confluent_kafka.admin import ConfigResource

    adm = clients.admin(cluster)
    res = ConfigResource(ConfigResource.Type.BROKER, str(node))
    with contextlib.suppress(Exception):
        entries = adm.describe_configs([res], request_timeout=POLL_REQUEST_TIMEOUT_S * 2)[res].result(timeout=10)
        if key in entries and entries[key].value is not None:
            return str(entries[key].value)
    return None


def _act(rec: Recorder, action: BrokerAction, node: int, confirm: Callable[[Snapshot], bool] | None,
         what: str) -> None:
    """Apply ``action`` to ``node`` while the recorder keeps polling; then wait for ``confirm``.

    On a cluster without broker controls the user is asked to do it, and the scenario waits (polls)
    until the cluster shows the change.
    """
    if not rec.cluster.controls_enabled:
        rec.step(f"Please {action.value} broker {node} now ({MANUAL_HINT}); waiting until {what}")
        if confirm is not None:
            rec.wait_until(confirm, what, MANUAL_STEP_TIMEOUT_S)
        return
    rec.step(f"{action.value} broker {node}")
    err: list[BaseException] = []

    def work() -> None:
        try:
            rec.cluster.broker(action, node)
        except BaseException as exc:  # handed back to the scenario thread below
            err.append(exc)

    th = threading.Thread(target=work, name=f"lab-broker-{action.value}-{node}", daemon=True)
    th.start()
    try:
        while th.is_alive():  # a restart takes seconds: keep the timeline (and the page) moving meanwhile
            rec.poll()
            rec.report()
            th.join(rec.interval_s)
            rec.ctx.check()
    finally:
        # on cancel, let the action finish first: restoring the cluster while a broker is still
        # shutting down would count it as running and then wait for it in vain
        th.join(ACTION_JOIN_S)
    if err:
        raise err[0]
    if confirm is not None:
        rec.wait_until(confirm, what)


def _restore(cluster: Cluster, failed: bool) -> None:
    """All brokers up again (local/compose). Raises only when the scenario itself succeeded."""
    if not cluster.controls_enabled:
        return
    try:
        cluster.up(timeout_s=RESTORE_TIMEOUT_S)
    except LabError:
        if not failed:
            raise


@contextlib.contextmanager
def _restoring(cluster: Cluster) -> Iterator[None]:
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        _restore(cluster, failed)


@dataclass(frozen=True)
class ProbeOutcome:
    """A burst of probe writes with one acks setting: how many were acknowledged, how many refused and why."""

    acks: str
    sent: int
    acked: int
    failed: int
    errors: dict[str, int] = field(default_factory=dict)
    acked_ids: tuple[int, ...] = ()


def _probe_producer(cluster: Cluster, acks: str) -> Any:
    # retries=0: a refused write is reported with the broker's own error instead of being retried away
    return clients.producer(cluster, {"acks": acks, "retries": 0, "enable.idempotence": False, "linger.ms": 0,
                                      "message.timeout.ms": PROBE_MESSAGE_TIMEOUT_MS})


def probe(producer: Any, topic: str, acks: str, n: int, first_id: int = 0, partition: int = 0) -> ProbeOutcome:
    """Write ``n`` messages (values ``first_id..``) and wait for every delivery report (bounded)."""
    acked: list[int] = []
    errors: dict[str, int] = {}

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            acked.append(int(msg.value() or b"-1"))
        else:
            errors[err.name()] = errors.get(err.name(), 0) + 1

    for i in range(n):
        producer.produce(topic, value=str(first_id + i).encode(), partition=partition, on_delivery=on_delivery)
        producer.poll(0)
    left = producer.flush(PROBE_MESSAGE_TIMEOUT_MS / 1000 + 5)
    if left:
        errors["NO_DELIVERY_REPORT"] = errors.get("NO_DELIVERY_REPORT", 0) + left
    return ProbeOutcome(acks, n, len(acked), n - len(acked), errors, tuple(sorted(acked)))


def consume_ids(cluster: Cluster, topic: str, partition: int = 0, timeout_s: float = 30.0) -> list[int]:
    """Every message value (as an int id) in the partition, from the start to the high watermark."""
    ids: list[int] = []
    for msg in lab_admin.read_partition(cluster, topic, partition, timeout_s):
        val = msg.value()
        if val is not None:
            with contextlib.suppress(ValueError):
                ids.append(int(val))
    return ids


def _check_broker(node: int, what: str) -> None:
    require(is_whole(node) and 1 <= node <= 3, f"{what} broker {node!r} is not a broker of the lab's cluster.",
            "Use 1, 2 or 3.")


# =================================================================================================
# Scenario: monitor
# =================================================================================================
@dataclass(frozen=True)
class MonitorSettings:
    """Watch one topic for ``duration_s`` seconds; optionally write to it with a background producer."""

    topic: str = "replication-demo"
    duration_s: float = 60.0
    interval_s: float = POLL_INTERVAL_S
    producer: BackgroundProducerSettings | None = None

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(isinstance(self.duration_s, (int, float)) and 2 <= self.duration_s <= 3600,
                f"Monitor duration {self.duration_s!r} s is out of range.", "Use 2 to 3600 seconds.")
        require(isinstance(self.interval_s, (int, float)) and 0.2 <= self.interval_s <= 10,
                f"Poll interval {self.interval_s!r} s is out of range.", "Use 0.2 to 10 seconds.")


@dataclass(frozen=True)
class MonitorResult:
    settings: MonitorSettings
    timeline: Timeline
    #: True when the user stopped it before ``duration_s``.
    stopped_early: bool = False
    poll_errors: int = 0


def monitor(cluster: Cluster, settings: MonitorSettings, ctx: RunContext) -> MonitorResult:
    """Poll about once a second and record every ISR, leader and epoch change until the duration ends
    or the user stops it (stopping is a normal end: the result holds what was seen)."""
    from lab.errors import Cancelled

    rec = Recorder(cluster, [settings.topic], ctx, settings.interval_s)
    stopped = False
    try:
        rec.poll()  # a missing topic is reported at once
        with contextlib.ExitStack() as stack:
            if settings.producer is not None:
                rec.producer = stack.enter_context(BackgroundProducer(cluster, settings.topic, settings.producer,
                                                                      rec.t0))
            try:
                while rec.now() < settings.duration_s:
                    rec.message = f"watching {settings.topic}: {len(rec.events)} event(s)"
                    rec.report(min(1.0, rec.now() / settings.duration_s))
                    rec.pause()
                    rec.poll()
            except Cancelled:
                stopped = True
        return MonitorResult(settings, rec.timeline(), stopped, rec.poll_errors)
    finally:
        rec.close()


# =================================================================================================
# Scenario: min.insync.replicas
# =================================================================================================
@dataclass(frozen=True)
class MinIsrSettings:
    """Stop the two followers of a replication-factor-3 partition one at a time and probe writes."""

    topic: str = "min-isr-demo"
    min_insync_replicas: int = 2
    #: Messages written with acks=all and with acks=1 in every phase.
    probe_messages: int = 20

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(is_whole(self.min_insync_replicas) and 1 <= self.min_insync_replicas <= 3,
                f"min.insync.replicas={self.min_insync_replicas!r} is out of range.",
                "Use 1, 2 or 3 (the topic has three replicas).")
        require(is_whole(self.probe_messages) and 1 <= self.probe_messages <= 10_000,
                f"probe_messages={self.probe_messages!r} is out of range.", "Use 1 to 10000.")


@dataclass(frozen=True)
class MinIsrPhase:
    name: str
    t: float
    brokers_down: tuple[int, ...]
    leader: int
    isr: tuple[int, ...]
    acks_all: ProbeOutcome
    acks_1: ProbeOutcome


@dataclass(frozen=True)
class MinIsrResult:
    settings: MinIsrSettings
    leader: int
    stopped: tuple[int, ...]
    phases: tuple[MinIsrPhase, ...]
    timeline: Timeline

    def phase(self, name: str) -> MinIsrPhase:
        return next(p for p in self.phases if p.name == name)


#: Phase names, in order (the CLI, the page and the tests use them).
PHASE_ALL_UP = "all 3 brokers up"
PHASE_ONE_DOWN = "1 follower stopped"
PHASE_TWO_DOWN = "2 followers stopped"
PHASE_ONE_BACK = "1 follower started again"
PHASE_ALL_BACK = "all 3 brokers up again"


def _in_isr(node: int) -> Callable[[Snapshot], bool]:
    return lambda s: all(node in p.isr for p in s.partitions)


def _not_in_isr(node: int) -> Callable[[Snapshot], bool]:
    return lambda s: all(node not in p.isr for p in s.partitions)


def min_isr(cluster: Cluster, settings: MinIsrSettings, ctx: RunContext) -> MinIsrResult:
    """acks=all with min.insync.replicas: writes go on with one broker down, are refused with
    NOT_ENOUGH_REPLICAS with two down (while acks=1 writes still succeed), and work again on restart.

    The followers are stopped with a controlled shutdown, one at a time: each leaves the ISR at once,
    while the controller quorum (two of the three nodes) can still record it. With two nodes down the
    quorum is gone, but the ISR it last recorded (the leader alone) stands, and that is what the
    leader checks min.insync.replicas against.
    """
    topic = settings.topic
    _ensure_topic(cluster, TopicSpec(topic, 1, 3, {"min.insync.replicas": str(settings.min_insync_replicas)},
                                     "min.insync.replicas demo"))
    rec = Recorder(cluster, [topic], ctx)
    phases: list[MinIsrPhase] = []
    down: list[int] = []
    p_all = _probe_producer(cluster, "all")
    p_one = _probe_producer(cluster, "1")
    next_id = [0]

    def phase(name: str, step: int) -> None:
        snap = rec.poll() or rec.last
        part = snap.get(topic, 0) if snap else None
        rec.message = f"{name}: probing acks=all and acks=1"
        rec.report(step / 5)
        a = probe(p_all, topic, "all", settings.probe_messages, next_id[0])
        next_id[0] += settings.probe_messages
        b = probe(p_one, topic, "1", settings.probe_messages, next_id[0])
        next_id[0] += settings.probe_messages
        phases.append(MinIsrPhase(name, round(rec.now(), 3), tuple(down), part.leader if part else -1,
                                  part.isr if part else (), a, b))
        rec.step(f"{name}: acks=all {a.acked}/{a.sent} ok, acks=1 {b.acked}/{b.sent} ok")

    try:
        with _restoring(cluster):
            leader, followers = _in_sync_leader_and_followers(rec)
            phase(PHASE_ALL_UP, 1)
            for i, node in enumerate(followers):
                _act(rec, BrokerAction.STOP, node, _not_in_isr(node), f"broker {node} has left the ISR")
                down.append(node)
                phase(PHASE_ONE_DOWN if i == 0 else PHASE_TWO_DOWN, 2 + i)
            for i, node in enumerate(followers):
                _act(rec, BrokerAction.START, node, _in_isr(node), f"broker {node} is back in the ISR")
                down.remove(node)
                phase(PHASE_ONE_BACK if i == 0 else PHASE_ALL_BACK, 4 + i)
            return MinIsrResult(settings, leader, tuple(followers), tuple(phases), rec.timeline())
    finally:
        p_all.flush(1)
        p_one.flush(1)
        rec.close()


# =================================================================================================
# Scenario: unclean leader election
# =================================================================================================
#: How the lagging replica became leader of the unclean topic.
ELECTED_BY_CONTROLLER = "the controller, on its own (topic config unclean.leader.election.enable=true)"
ELECTED_BY_ADMIN = "AdminClient.elect_leaders(ElectionType.UNCLEAN), after the controller had not elected it"


@dataclass(frozen=True)
class UncleanSettings:
    """Two topics on the same two brokers, one with unclean leader election and one without.

    ``in_sync_broker`` leads and receives every write; ``lagging_broker`` is stopped, misses
    ``messages_while_lagging`` acknowledged writes, and is the only replica left when the in-sync one
    crashes. Both topics (``<prefix>-clean``, ``<prefix>-unclean``) are deleted and created afresh on
    every run. The third broker holds no replica of these topics: it keeps the KRaft quorum (two of three
    nodes) alive so an election can happen at all.
    """

    topic_prefix: str = "unclean-demo"
    in_sync_broker: int = 1
    lagging_broker: int = 2
    messages_before: int = 50
    messages_while_lagging: int = 100
    messages_after: int = 50
    #: How long to wait for the controller to elect the lagging replica by itself before asking for
    #: an unclean election through the admin API.
    election_wait_s: float = 20.0

    def __post_init__(self) -> None:
        check_topic_name(self.topic_prefix + "-unclean")
        _check_broker(self.in_sync_broker, "The in-sync")
        _check_broker(self.lagging_broker, "The lagging")
        require(self.in_sync_broker != self.lagging_broker,
                f"The in-sync and lagging brokers are both {self.in_sync_broker}.", "Pick two different brokers.")
        for name in ("messages_before", "messages_while_lagging", "messages_after"):
            v = getattr(self, name)
            require(is_whole(v) and 1 <= v <= 100_000, f"{name}={v!r} is out of range.", "Use 1 to 100000.")
        require(isinstance(self.election_wait_s, (int, float)) and 0 <= self.election_wait_s <= 600,
                f"election_wait_s={self.election_wait_s!r} is out of range.", "Use 0 to 600 seconds.")

    @property
    def quorum_broker(self) -> int:
        return ({1, 2, 3} - {self.in_sync_broker, self.lagging_broker}).pop()

    @property
    def clean_topic(self) -> str:
        return f"{self.topic_prefix}-clean"

    @property
    def unclean_topic(self) -> str:
        return f"{self.topic_prefix}-unclean"


@dataclass(frozen=True)
class UncleanTopicOutcome:
    topic: str
    unclean_enabled: bool
    #: Acknowledged while both replicas were in sync.
    acked_before: int
    #: Acknowledged by the in-sync leader alone while the other replica was stopped.
    acked_while_lagging: int
    #: Writes tried after the in-sync broker crashed (before it came back).
    after: ProbeOutcome
    #: Leader and epoch once the in-sync broker had crashed and the lagging one was back.
    leader_after_crash: int
    epoch_before: int | None
    epoch_after: int | None
    #: How the lagging replica became leader ("" when it did not).
    elected_by: str
    #: Messages read back at the end (after everything was restarted).
    consumed: int
    #: Acknowledged messages that are gone.
    lost_acked: int
    lost_ids_sample: tuple[int, ...] = ()

    @property
    def available_after_crash(self) -> bool:
        return self.leader_after_crash >= 0


@dataclass(frozen=True)
class UncleanResult:
    settings: UncleanSettings
    clean: UncleanTopicOutcome
    unclean: UncleanTopicOutcome
    timeline: Timeline


def _wait_for_leader(rec: Recorder, topic: str, node: int, seconds: float) -> bool:
    try:
        # led by it in the metadata, and answering as leader (its epoch comes from the leader itself)
        rec.wait_until(lambda s: (p := s.get(topic, 0)) is not None and p.leader == node
                       and p.leader_epoch is not None, f"broker {node} leads {topic}", seconds)
        return True
    except ClusterError:
        return False


def unclean(cluster: Cluster, settings: UncleanSettings, ctx: RunContext) -> UncleanResult:
    """The availability-vs-durability trade-off with numbers: the clean topic is unavailable while its
    only in-sync replica is down; the unclean one elects the lagging replica and stays writable, but
    the writes that replica missed are gone for good, even after the old leader returns."""
    s = settings
    if not cluster.controls_enabled:
        raise ControlsDisabled(
            f"The unclean-election scenario needs broker controls, which the {cluster.backend} backend lacks.",
            hint="It must crash one broker and restart another in a precise order while a third keeps the KRaft "
                 "quorum; run it on the local backend (`kafka-lab cluster up`) or with KAFKA_LAB_BACKEND=compose.")
    topics = [s.clean_topic, s.unclean_topic]
    assignment = [[s.in_sync_broker, s.lagging_broker]]
    base = {"min.insync.replicas": "1"}  # what lets one replica acknowledge acks=all writes alone
    _recreate_topic(cluster, s.clean_topic, assignment, {**base, "unclean.leader.election.enable": "false"})
    _recreate_topic(cluster, s.unclean_topic, assignment, {**base, "unclean.leader.election.enable": "true"})
    rec = Recorder(cluster, topics, ctx)
    prod = _probe_producer(cluster, "all")
    try:
        with _restoring(cluster):
            both = set(assignment[0])
            rec.wait_until(lambda sn: all(set(p.isr) == both for p in sn.partitions), "both replicas in sync")
            before = {t: probe(prod, t, "all", s.messages_before, 0) for t in topics}
            rec.step(f"wrote {s.messages_before} messages to each topic (both replicas have them)")
            epoch0 = {t: (rec.poll() or rec.last).get(t, 0).leader_epoch for t in topics}  # type: ignore[union-attr]
            _act(rec, BrokerAction.STOP, s.lagging_broker,
                 lambda sn: all(s.lagging_broker not in p.isr for p in sn.partitions),
                 f"broker {s.lagging_broker} has left both ISRs")
            lagging = {t: probe(prod, t, "all", s.messages_while_lagging, s.messages_before) for t in topics}
            rec.step(f"wrote {s.messages_while_lagging} more; only broker {s.in_sync_broker} has them")
            _act(rec, BrokerAction.KILL, s.in_sync_broker, None, "")
            # Both replicas' nodes are down now: only the third node is up, so the KRaft quorum is gone
            # until the lagging node starts again (its controller makes two of three).
            _act(rec, BrokerAction.START, s.lagging_broker, None, "")
            rec.wait_until(lambda sn: (p := sn.get(s.clean_topic, 0)) is not None and p.offline,
                           f"{s.clean_topic} has no leader (broker {s.in_sync_broker} fenced)")
            elected_by = ""
            if _wait_for_leader(rec, s.unclean_topic, s.lagging_broker, s.election_wait_s):
                elected_by = ELECTED_BY_CONTROLLER
            else:
                rec.step("controller did not elect the lagging replica; asking for an unclean election")
                _elect_unclean(cluster, s.unclean_topic)
                if _wait_for_leader(rec, s.unclean_topic, s.lagging_broker, CHANGE_TIMEOUT_S):
                    elected_by = ELECTED_BY_ADMIN
            rec.step(f"unclean topic led by broker {s.lagging_broker}" if elected_by else "no unclean election")
            crash = rec.last  # the snapshot that showed the new leader answering (or the last one seen)
            assert crash is not None
            after = _probe_both(prod, topics, s.messages_after, s.messages_before + s.messages_while_lagging)
            rec.step(f"wrote {s.messages_after} more to each topic after the crash")
            _act(rec, BrokerAction.START, s.in_sync_broker,
                 lambda sn: all(set(p.isr) == both for p in sn.partitions),
                 f"broker {s.in_sync_broker} is back and both replicas are in sync again")
            rec.step("everything back; reading both topics from the start")
            outcomes = []
            for t, enabled in ((s.clean_topic, False), (s.unclean_topic, True)):
                got = set(consume_ids(cluster, t))
                acked = set(before[t].acked_ids) | set(lagging[t].acked_ids) | set(after[t].acked_ids)
                lost = sorted(acked - got)
                part = crash.get(t, 0)
                assert part is not None
                outcomes.append(UncleanTopicOutcome(
                    t, enabled, before[t].acked, lagging[t].acked, after[t], part.leader, epoch0[t],
                    part.leader_epoch, elected_by if enabled else "", len(got), len(lost), tuple(lost[:20])))
            return UncleanResult(s, outcomes[0], outcomes[1], rec.timeline())
    finally:
        prod.flush(1)
        rec.close()


def _probe_both(prod: Any, topics: list[str], n: int, first_id: int) -> dict[str, ProbeOutcome]:
    """Probe several topics at once (a topic without a leader costs one message timeout, not one each)."""
    out: dict[str, ProbeOutcome] = {}
    threads = [threading.Thread(target=lambda t=t: out.__setitem__(t, probe(prod, t, "all", n, first_id)))
               for t in topics]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def _elect_unclean(cluster: Cluster, topic: str) -> None:
    adm = clients.admin(cluster)
    try:
        adm.elect_leaders(ElectionType.UNCLEAN, [TopicPartition(topic, 0)],
                          request_timeout=lab_admin.ADMIN_TIMEOUT_S).result(timeout=lab_admin.ADMIN_TIMEOUT_S + 5)
    except KafkaException as exc:
        raise KafkaOperationError(f"The unclean election for {topic} failed: {exc}") from exc


# =================================================================================================
# Scenario: high watermark vs log end offset
# =================================================================================================
@dataclass(frozen=True)
class HwLeoSettings:
    """Pause (SIGSTOP) one follower while an acks=all producer writes; resume it after it left the ISR."""

    topic: str = "hw-leo-demo"
    rate_per_s: int = 100
    #: Steady state recorded before the pause (seconds).
    baseline_s: float = 3.0
    #: How long the follower stays paused after it has left the ISR (seconds): the HW races ahead meanwhile.
    hold_s: float = 5.0

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(is_whole(self.rate_per_s) and 1 <= self.rate_per_s <= 5000,
                f"rate_per_s={self.rate_per_s!r} is out of range.", "Use 1 to 5000 messages per second.")
        for name, hi in (("baseline_s", 60), ("hold_s", 300)):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and 0 <= v <= hi, f"{name}={v!r} is out of range.",
                    f"Use 0 to {hi} seconds.")


@dataclass(frozen=True)
class HwLeoResult:
    settings: HwLeoSettings
    leader: int
    follower: int
    #: The broker's replica.lag.time.max.ms as the leader reports it (None if it could not be read).
    replica_lag_time_max_ms: int | None
    paused_at: float
    left_isr_at: float
    resumed_at: float
    rejoined_at: float
    #: Longest time the HW did not move after the pause while messages were waiting (seconds).
    hw_stalled_s: float
    #: Most messages the paused follower was behind the leader's LEO.
    max_follower_behind: int | None
    timeline: Timeline

    @property
    def left_isr_after_s(self) -> float:
        return self.left_isr_at - self.paused_at

    @property
    def rejoined_after_s(self) -> float:
        return self.rejoined_at - self.resumed_at


def hw_stall_s(snapshots: tuple[Snapshot, ...] | list[Snapshot], topic: str, partition: int, since: float,
               until: float) -> float:
    """The longest time in [since, until] the partition's high watermark was seen not to move (seconds):
    from the first snapshot showing a value to the first one showing another (or the last one in range);
    the last value seen before ``since`` counts as seen at ``since``.

    Pure; snapshots without a known HW are skipped.
    """
    known = [(s.t, p.high_watermark) for s in snapshots
             if (p := s.get(topic, partition)) is not None and p.high_watermark is not None]
    seen = [(t, hw) for t, hw in known if since <= t <= until]
    before = [hw for t, hw in known if t < since]
    if before:  # the HW only grows: the same value after ``since`` as before it means flat from ``since`` on
        seen.insert(0, (since, before[-1]))
    best = 0.0
    i = 0
    while i < len(seen):
        j = i
        while j + 1 < len(seen) and seen[j + 1][1] == seen[i][1]:
            j += 1
        end = seen[j + 1][0] if j + 1 < len(seen) else seen[j][0]
        best = max(best, end - seen[i][0])
        i = j + 1
    return round(best, 3)


def hw_leo(cluster: Cluster, settings: HwLeoSettings, ctx: RunContext) -> HwLeoResult:
    """What acks=all waits for, on a chart: while a paused follower is still in the ISR the leader's
    high watermark (what consumers may read) stands still and acks wait; once the follower is dropped
    from the ISR (after replica.lag.time.max.ms) the HW races ahead with the leader's LEO; on resume the
    follower catches up and rejoins."""
    topic = settings.topic
    _ensure_topic(cluster, TopicSpec(topic, 1, 3, {"min.insync.replicas": "2"}, "HW vs LEO demo"))
    rec = Recorder(cluster, [topic], ctx)
    try:
        with _restoring(cluster):
            leader, followers = _in_sync_leader_and_followers(rec)
            ctrl = rec.observer.active_controller()
            # pausing the active controller as well would add a controller election to the picture
            follower = next((f for f in followers if f != ctrl), followers[0])
            lag_ms = _broker_config(cluster, leader, "replica.lag.time.max.ms")
            with BackgroundProducer(cluster, topic, BackgroundProducerSettings(settings.rate_per_s, "all",
                                                                               message_timeout_ms=60_000),
                                    rec.t0, partition=0) as bg:
                rec.producer = bg
                rec.hold(settings.baseline_s, "baseline: all replicas in sync")
                _act(rec, BrokerAction.PAUSE, follower, None, "")
                paused_at = rec.steps[-1].t
                rec.wait_until(_not_in_isr(follower), f"broker {follower} has left the ISR",
                               MANUAL_STEP_TIMEOUT_S if not cluster.controls_enabled else CHANGE_TIMEOUT_S)
                left_at = rec.events[-1].t if rec.events else rec.now()
                left_at = next((e.t for e in rec.events if e.kind is EventKind.ISR_SHRINK and e.t >= paused_at),
                               left_at)
                rec.step(f"broker {follower} left the ISR")
                rec.hold(settings.hold_s, "follower out of the ISR: the HW follows the leader alone")
                _act(rec, BrokerAction.RESUME, follower, None, "")
                resumed_at = rec.steps[-1].t
                rec.wait_until(_in_isr(follower), f"broker {follower} is back in the ISR",
                               MANUAL_STEP_TIMEOUT_S if not cluster.controls_enabled else CHANGE_TIMEOUT_S)
                rejoined_at = next((e.t for e in rec.events if e.kind is EventKind.ISR_EXPAND and e.t >= resumed_at),
                                   rec.now())
                rec.step(f"broker {follower} rejoined the ISR")
                rec.hold(2.0, "all in sync again")
            tl = rec.timeline()
            behind = [b for s in tl.snapshots if paused_at <= s.t <= rejoined_at
                      for p in s.partitions if (b := p.behind(follower)) is not None]
            return HwLeoResult(settings, leader, follower, int(lag_ms) if lag_ms and lag_ms.isdigit() else None,
                               paused_at, left_at, resumed_at, rejoined_at,
                               hw_stall_s(tl.snapshots, topic, 0, paused_at, left_at + 0.5),
                               max(behind) if behind else None, tl)
    finally:
        rec.close()
