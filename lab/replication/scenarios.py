"""Replication made visible: ISR, high watermark (HW), log end offsets (LEO), leader epochs,
min.insync.replicas and unclean leader election, on the real cluster.

``describe`` is a one-shot look at a topic's partitions. The four scenarios (``monitor``, ``min_isr``,
``hw_leo``, and ``unclean``, which lives in ``lab.replication.unclean`` for size and is re-exported here) are lab
experiments ``fn(cluster, settings, ctx) -> Result``: a scenario that is cancelled or reaches its time
limit returns what it measured so far with ``stopped`` set (fields it could not measure are None); real
failures raise ``LabError``. Every scenario that touches brokers puts the cluster back to
all-brokers-up however it ends (``lab.kafka.faults.restoring``).

Where the numbers come from: ``lab.kafka.observe`` (observation), ``lab.kafka.load`` (background and probe writes),
``lab.kafka.timeline`` (one clock for the charts), ``lab.kafka.faults`` (broker actions under the cluster lock).

KRaft note: the lab's three nodes are each broker *and* controller. The controller quorum needs two of
three nodes, so with two nodes down there are no leader elections and no ISR changes. The scenarios
are ordered around that (controlled shutdown one broker at a time; a third node that keeps the quorum).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import Producer

from lab.cluster.base import BrokerAction, Cluster
from lab.core.context import poll_until
from lab.core.errors import Cancelled
from lab.core.results import Result
from lab.kafka import admin as lab_admin
from lab.kafka import faults, load
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings, ProbeOutcome
from lab.kafka.observe import EventKind, Observer, PartitionState, Snapshot, in_isr, not_in_isr
from lab.kafka.specs import TopicSpec, check_topic_name
from lab.kafka.timeline import Recorder, Timeline
from lab.replication.settings import HwLeoSettings, MinIsrSettings, MonitorSettings, UncleanSettings
from lab.replication.unclean import ELECTED_BY_ADMIN, ELECTED_BY_CONTROLLER, UncleanResult, UncleanTopicOutcome, unclean

if TYPE_CHECKING:
    from lab.core.context import RunContext

__all__ = [
    "DESCRIBE_RETRY_S", "DESCRIBE_SETTLE_S", "ELECTED_BY_ADMIN", "ELECTED_BY_CONTROLLER", "MIN_ISR_PHASES",
    "PHASE_ALL_BACK", "PHASE_ALL_UP", "PHASE_ONE_BACK", "PHASE_ONE_DOWN", "PHASE_TWO_DOWN",
    "DescribeResult", "HwLeoResult", "HwLeoSettings", "MinIsrPhase", "MinIsrResult", "MinIsrSettings",
    "MonitorResult", "MonitorSettings", "UncleanResult", "UncleanSettings", "UncleanTopicOutcome",
    "describe", "hw_leo", "hw_stall_s", "min_isr", "monitor", "unclean",
]

#: Pause between snapshots while a one-shot describe waits for a just-created topic's figures.
DESCRIBE_RETRY_S = 0.3
#: How long the CLI's describe waits for a just-created topic's epoch and every replica's LEO.
DESCRIBE_SETTLE_S = 5.0
#: The hw_leo background producer's message timeout: its writes must outlast a paused follower.
HW_LEO_MESSAGE_TIMEOUT_MS = 60_000
#: The HW stall ends with the first snapshot after the follower left the ISR; this margin includes it.
HW_STALL_MARGIN_S = 0.5
#: How long hw_leo keeps recording once the follower is back, to show all replicas in sync again.
HW_LEO_SETTLE_S = 2.0


# =================================================================================================
# Describe
# =================================================================================================
@dataclass(frozen=True)
class DescribeResult(Result):
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
    with Observer(cluster, [topic]) as obs:
        seen: list[Snapshot] = []

        def complete() -> bool:
            seen[:] = [obs.snapshot(0.0)]
            return all(p.leader_epoch is not None and p.high_watermark is not None
                       and all(v is not None for b, v in p.log_end_offsets.items()
                               if obs.jmx_url(b) is not None)  # no JMX: LEOs are never known
                       for p in seen[0].partitions)

        poll_until(complete, settle_s, every_s=DESCRIBE_RETRY_S)
        return DescribeResult(topic, seen[0].partitions, obs.leo_note(), obs.active_controller())


# =================================================================================================
# Shared by the scenarios
# =================================================================================================
def _in_sync_leader_and_followers(rec: Recorder) -> tuple[int, list[int]]:
    """Wait until partition 0 has all three replicas in sync; return its leader and followers then."""
    rec.wait_until(lambda s: len(s.partitions[0].isr) == 3, "all three replicas in sync")
    first = rec.last
    assert first is not None
    leader = first.partitions[0].leader
    return leader, [r for r in first.partitions[0].replicas if r != leader]


def _first_event_at(rec: Recorder, kind: EventKind, since: float, default: float) -> float:
    """When the first ``kind`` event at or after ``since`` was seen (``default`` if none was)."""
    return next((e.t for e in rec.events if e.kind is kind and e.t >= since), default)


@dataclass(frozen=True)
class MonitorResult(Result):
    settings: MonitorSettings
    timeline: Timeline
    poll_errors: int = 0


def monitor(cluster: Cluster, settings: MonitorSettings, ctx: RunContext) -> MonitorResult:
    """Poll about once a second and record every ISR, leader and epoch change until the duration ends
    or the user stops it (stopping is a normal end: the result holds what was seen, ``stopped`` says why)."""
    stopped: str | None = None
    with Recorder(cluster, [settings.topic], ctx, settings.interval_s) as rec:
        rec.poll()  # a missing topic is reported at once
        with contextlib.ExitStack() as stack:
            if settings.producer is not None:
                rec.producer = stack.enter_context(BackgroundProducer(cluster, settings.topic, settings.producer,
                                                                      rec.t0, ctx=ctx))
            try:
                while rec.now() < settings.duration_s:
                    rec.message = f"watching {settings.topic}: {len(rec.events)} event(s)"
                    rec.report(min(1.0, rec.now() / settings.duration_s))
                    rec.pause()
                    rec.poll()
            except Cancelled:
                stopped = ctx.stopped_text()
        return MonitorResult(settings, rec.timeline(), rec.poll_errors, stopped=stopped)


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
class MinIsrResult(Result):
    settings: MinIsrSettings
    #: The partition's leader once all three replicas were in sync (None: stopped before that).
    leader: int | None
    #: The followers the scenario stopped, in that order.
    followers: tuple[int, ...]
    #: The phases done, in order (all five unless stopped).
    phases: tuple[MinIsrPhase, ...]
    timeline: Timeline

    def phase(self, name: str) -> MinIsrPhase:
        """The phase called ``name``; ``KeyError`` when the run stopped before it."""
        found = next((p for p in self.phases if p.name == name), None)
        if found is None:
            raise KeyError(name)
        return found


#: Phase names, in order (the CLI, the page and the tests use them).
PHASE_ALL_UP = "all 3 brokers up"
PHASE_ONE_DOWN = "1 follower stopped"
PHASE_TWO_DOWN = "2 followers stopped"
PHASE_ONE_BACK = "1 follower started again"
PHASE_ALL_BACK = "all 3 brokers up again"
MIN_ISR_PHASES = (PHASE_ALL_UP, PHASE_ONE_DOWN, PHASE_TWO_DOWN, PHASE_ONE_BACK, PHASE_ALL_BACK)


@dataclass
class _MinIsrRun:
    """The min.insync.replicas scenario while it runs: what it has measured so far."""

    rec: Recorder
    settings: MinIsrSettings
    p_all: Producer
    p_one: Producer
    leader: int | None = None
    followers: list[int] = field(default_factory=list)
    down: list[int] = field(default_factory=list)
    phases: list[MinIsrPhase] = field(default_factory=list)
    next_id: int = 0

    def probe(self, producer: Producer, acks: str) -> ProbeOutcome:
        n = self.settings.probe_messages
        out = load.probe(producer, self.settings.topic, acks, n, self.next_id)
        self.next_id += n
        return out

    def phase(self, name: str) -> None:
        """Probe acks=all and acks=1 writes in the cluster's current state; record the phase."""
        rec = self.rec
        rec.ctx.check()
        snap = rec.poll() or rec.last
        part = snap.get(self.settings.topic, 0) if snap else None
        rec.message = f"{name}: probing acks=all and acks=1"
        rec.report((MIN_ISR_PHASES.index(name) + 1) / len(MIN_ISR_PHASES))
        a, b = self.probe(self.p_all, "all"), self.probe(self.p_one, "1")
        self.phases.append(MinIsrPhase(name, round(rec.now(), 3), tuple(self.down), part.leader if part else -1,
                                       part.isr if part else (), a, b))
        rec.step(f"{name}: acks=all {a.acked}/{a.sent} ok, acks=1 {b.acked}/{b.sent} ok")

    def run(self) -> None:
        rec = self.rec
        self.leader, self.followers = _in_sync_leader_and_followers(rec)
        self.phase(PHASE_ALL_UP)
        for node, name in zip(self.followers, (PHASE_ONE_DOWN, PHASE_TWO_DOWN), strict=True):
            faults.act(rec, BrokerAction.STOP, node, not_in_isr(node), f"broker {node} has left the ISR")
            self.down.append(node)
            self.phase(name)
        for node, name in zip(self.followers, (PHASE_ONE_BACK, PHASE_ALL_BACK), strict=True):
            faults.act(rec, BrokerAction.START, node, in_isr(node), f"broker {node} is back in the ISR")
            self.down.remove(node)
            self.phase(name)


def min_isr(cluster: Cluster, settings: MinIsrSettings, ctx: RunContext) -> MinIsrResult:
    """acks=all with min.insync.replicas: writes go on with one broker down, are refused with
    NOT_ENOUGH_REPLICAS with two down (while acks=1 writes still succeed), and work again on restart.

    The followers are stopped with a controlled shutdown, one at a time: each leaves the ISR at once,
    while the controller quorum (two of the three nodes) can still record it. With two nodes down the
    quorum is gone, but the ISR it last recorded (the leader alone) stands, and that is what the
    leader checks min.insync.replicas against.
    """
    topic = settings.topic
    spec = TopicSpec(topic, 1, 3, {"min.insync.replicas": str(settings.min_insync_replicas)},
                     "min.insync.replicas demo")
    stopped: str | None = None
    run: _MinIsrRun | None = None
    with Recorder(cluster, [topic], ctx) as rec:
        try:
            lab_admin.ensure_topic(cluster, spec, ctx)
            with faults.restoring(cluster, ctx), load.probe_producer(cluster, "all") as p_all, \
                    load.probe_producer(cluster, "1") as p_one:
                run = _MinIsrRun(rec, settings, p_all, p_one)
                run.run()
        except Cancelled:
            stopped = ctx.stopped_text()
        if run is None:
            return MinIsrResult(settings, None, (), (), rec.timeline(), stopped=stopped)
        return MinIsrResult(settings, run.leader, tuple(run.followers), tuple(run.phases), rec.timeline(),
                            stopped=stopped)


@dataclass(frozen=True)
class HwLeoResult(Result):
    """Times are seconds on the timeline's clock; None where the run was stopped before measuring them."""

    settings: HwLeoSettings
    leader: int | None
    follower: int | None
    #: The broker's replica.lag.time.max.ms as the leader reports it (None if it could not be read).
    replica_lag_time_max_ms: int | None
    paused_at: float | None
    left_isr_at: float | None
    resumed_at: float | None
    rejoined_at: float | None
    #: Longest time the HW did not move after the pause while messages were waiting (seconds).
    hw_stalled_s: float | None
    #: Most messages the paused follower was behind the leader's LEO.
    max_follower_behind: int | None
    timeline: Timeline

    @property
    def left_isr_after_s(self) -> float | None:
        if self.left_isr_at is None or self.paused_at is None:
            return None
        return self.left_isr_at - self.paused_at

    @property
    def rejoined_after_s(self) -> float | None:
        if self.rejoined_at is None or self.resumed_at is None:
            return None
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


@dataclass
class _HwLeoRun:
    """The HW-vs-LEO scenario while it runs: what it has measured so far."""

    rec: Recorder
    settings: HwLeoSettings
    leader: int | None = None
    follower: int | None = None
    lag_ms: int | None = None
    paused_at: float | None = None
    left_at: float | None = None
    resumed_at: float | None = None
    rejoined_at: float | None = None

    def run(self, cluster: Cluster) -> None:
        s, rec = self.settings, self.rec
        leader, followers = _in_sync_leader_and_followers(rec)
        ctrl = rec.observer.active_controller()
        # pausing the active controller as well would add a controller election to the picture
        follower = next((f for f in followers if f != ctrl), followers[0])
        self.leader, self.follower = leader, follower
        lag = lab_admin.broker_config(cluster, leader, "replica.lag.time.max.ms")
        self.lag_ms = int(lag) if lag and lag.isdigit() else None
        bg_settings = BackgroundProducerSettings(s.rate_per_s, "all", message_timeout_ms=HW_LEO_MESSAGE_TIMEOUT_MS)
        with BackgroundProducer(cluster, s.topic, bg_settings, rec.t0, partition=0, ctx=rec.ctx) as bg:
            rec.producer = bg
            # the pause must find messages flowing, or the leader's LEO has nothing to run ahead with
            rec.wait_until(lambda _: bool(bg.acked_ids), "the first message is acknowledged",
                           faults.change_timeout(cluster))
            rec.hold(s.baseline_s, "baseline: all replicas in sync")
            faults.act(rec, BrokerAction.PAUSE, follower)
            self.paused_at = rec.steps[-1].t
            rec.wait_until(not_in_isr(follower), f"broker {follower} has left the ISR", faults.change_timeout(cluster))
            self.left_at = _first_event_at(rec, EventKind.ISR_SHRINK, self.paused_at,
                                           rec.events[-1].t if rec.events else rec.now())
            rec.step(f"broker {follower} left the ISR")
            rec.hold(s.hold_s, "follower out of the ISR: the HW follows the leader alone")
            faults.act(rec, BrokerAction.RESUME, follower)
            self.resumed_at = rec.steps[-1].t
            rec.wait_until(in_isr(follower), f"broker {follower} is back in the ISR", faults.change_timeout(cluster))
            self.rejoined_at = _first_event_at(rec, EventKind.ISR_EXPAND, self.resumed_at, rec.now())
            rec.step(f"broker {follower} rejoined the ISR")
            rec.hold(HW_LEO_SETTLE_S, "all in sync again")

    def result(self, tl: Timeline, stopped: str | None) -> HwLeoResult:
        """The figures from the timeline; a run stopped part-way gives those of the part it did."""
        stall: float | None = None
        behind: list[int] = []
        if self.paused_at is not None and self.follower is not None:
            last_t = tl.snapshots[-1].t if tl.snapshots else self.paused_at
            until = self.left_at + HW_STALL_MARGIN_S if self.left_at is not None else last_t
            stall = hw_stall_s(tl.snapshots, self.settings.topic, 0, self.paused_at, until)
            end = self.rejoined_at if self.rejoined_at is not None else math.inf
            behind = [b for sn in tl.snapshots if self.paused_at <= sn.t <= end
                      for p in sn.partitions if (b := p.behind(self.follower)) is not None]
        return HwLeoResult(self.settings, self.leader, self.follower, self.lag_ms, self.paused_at, self.left_at,
                           self.resumed_at, self.rejoined_at, stall, max(behind) if behind else None, tl,
                           stopped=stopped)


def hw_leo(cluster: Cluster, settings: HwLeoSettings, ctx: RunContext) -> HwLeoResult:
    """What acks=all waits for, on a chart: while a paused follower is still in the ISR the leader's
    high watermark (what consumers may read) stands still and acks wait; once the follower is dropped
    from the ISR (after replica.lag.time.max.ms) the HW races ahead with the leader's LEO; on resume the
    follower catches up and rejoins."""
    stopped: str | None = None
    with Recorder(cluster, [settings.topic], ctx) as rec:
        run = _HwLeoRun(rec, settings)
        try:
            lab_admin.ensure_topic(cluster, TopicSpec(settings.topic, 1, 3, {"min.insync.replicas": "2"},
                                                      "HW vs LEO demo"), ctx)
            with faults.restoring(cluster, ctx):
                run.run(cluster)
        except Cancelled:
            stopped = ctx.stopped_text()
        return run.result(rec.timeline(), stopped)
