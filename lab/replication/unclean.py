"""Unclean leader election, with numbers: availability against durability on two topics that differ in
one setting, ``unclean.leader.election.enable``.

The clean topic is unavailable while its only in-sync replica is down; the unclean one elects the
lagging replica and stays writable, but the writes that replica missed are gone for good, even after
the old leader returns. A lab experiment ``unclean(cluster, settings, ctx) -> UncleanResult`` like the
other replication scenarios (``lab.replication.scenarios`` re-exports it): a stopped run returns what it measured
so far, and every broker is up again however it ends.

Eligible leader replicas (KIP-966, Kafka 4.1+): the ISR may now shrink to empty. A replica that leaves the ISR
while the ISR is below ``min.insync.replicas`` joins the ELR: it has every acknowledged write, so the controller
may elect it cleanly. Here ``min.insync.replicas=1``: the lagging replica left while the in-sync one still made
the minimum, so it is not eligible and only an unclean election lets it lead (losing what it missed); the
in-sync replica was the last to leave (ISR 0 < 1), so it joins the ELR and is elected again, cleanly, when it
returns. On 3.9 there is no ELR: the ISR keeps its last member while it is down. The scenario samples ISR, ELR
and last known ELR from Kafka's own ``kafka-topics --describe`` (``lab.kafka.kafka_topics``) at the crash and
once healed, and reads the ELR feature level, so each run shows which of the two it met.

KRaft note: the lab's three nodes are each broker *and* controller, and the controller quorum needs two
of them; so the two topics live on two brokers and the third keeps the quorum alive for the election.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import ElectionType, KafkaException, Producer, TopicPartition

from lab.cluster import clients
from lab.cluster.base import BrokerAction, Cluster
from lab.core.errors import Cancelled, ClusterError, ControlsDisabled, KafkaOperationError, LabError
from lab.core.results import Result
from lab.kafka import admin as lab_admin
from lab.kafka import faults, kafka_topics, load
from lab.kafka.load import ProbeOutcome
from lab.kafka.observe import Snapshot, not_in_isr
from lab.kafka.timeline import CHANGE_TIMEOUT_S, Recorder, Timeline
from lab.replication.settings import UncleanSettings

if TYPE_CHECKING:
    from lab.core.context import RunContext

#: Acknowledged ids that are gone, listed in an outcome (the count is always complete).
LOST_IDS_SAMPLE = 20
#: How the lagging replica became leader of the unclean topic.
ELECTED_BY_CONTROLLER = "the controller, on its own (topic config unclean.leader.election.enable=true)"
ELECTED_BY_ADMIN = "AdminClient.elect_leaders(ElectionType.UNCLEAN), after the controller had not elected it"
#: The moments the scenario reads ISR, ELR and last known ELR with Kafka's tool.
MOMENT_CRASHED = "in-sync broker crashed"
MOMENT_HEALED = "both back in sync"


@dataclass(frozen=True)
class ReplicaSample:
    """One partition's replica sets as Kafka's tool printed them at one moment of the scenario."""

    moment: str
    #: seconds since the recording started
    t: float
    leader: int  # -1: none
    isr: tuple[int, ...]
    #: None: not reported (no ELR on the cluster's tool output)
    elr: tuple[int, ...] | None
    last_known_elr: tuple[int, ...] | None


@dataclass(frozen=True)
class UncleanTopicOutcome:
    """One topic's story; figures the run did not get to (it was stopped) are None."""

    topic: str
    unclean_enabled: bool
    #: Acknowledged while both replicas were in sync.
    acked_before: int | None
    #: Acknowledged by the in-sync leader alone while the other replica was stopped.
    acked_while_lagging: int | None
    #: Writes tried after the in-sync broker crashed (before it came back).
    after: ProbeOutcome | None
    #: Leader and epoch once the in-sync broker had crashed and the lagging one was back.
    leader_after_crash: int | None
    epoch_before: int | None
    epoch_after: int | None
    #: How the lagging replica became leader ("" when it did not).
    elected_by: str
    #: Messages read back at the end (after everything was restarted).
    consumed: int | None
    #: Acknowledged messages that are gone.
    lost_acked: int | None
    lost_ids_sample: tuple[int, ...] = ()
    #: Writes sent in total (acknowledged or not).
    written: int | None = None
    #: Leader once the crashed broker was back and both replicas in sync again.
    leader_after_restart: int | None = None
    #: ISR / ELR / last known ELR as sampled (``MOMENT_*``).
    samples: tuple[ReplicaSample, ...] = ()

    def sample(self, moment: str) -> ReplicaSample | None:
        return next((x for x in self.samples if x.moment == moment), None)

    @property
    def acknowledged(self) -> int:
        return sum(x or 0 for x in (self.acked_before, self.acked_while_lagging,
                                    self.after.acked if self.after else 0))

    @property
    def available_after_crash(self) -> bool:
        return self.leader_after_crash is not None and self.leader_after_crash >= 0


@dataclass(frozen=True)
class UncleanResult(Result):
    settings: UncleanSettings
    clean: UncleanTopicOutcome
    unclean: UncleanTopicOutcome
    timeline: Timeline
    kafka_version: str = ""
    #: finalized level of eligible.leader.replicas.version (0: no ELR); None when it could not be read
    elr_feature_level: int | None = None
    #: where ISR/ELR samples came from, or why there are none
    elr_source: str = ""


@dataclass
class _UncleanRun:
    """The unclean-election scenario while it runs: what it has measured so far, per topic."""

    rec: Recorder
    settings: UncleanSettings
    before: dict[str, ProbeOutcome] = field(default_factory=dict)
    epoch_before: dict[str, int | None] = field(default_factory=dict)
    lagging: dict[str, ProbeOutcome] = field(default_factory=dict)
    elected_by: str = ""
    #: the snapshot that showed the new leader answering (or the last one seen)
    crash: Snapshot | None = None
    after: dict[str, ProbeOutcome] = field(default_factory=dict)
    consumed: dict[str, set[int]] = field(default_factory=dict)
    samples: dict[str, list[ReplicaSample]] = field(default_factory=dict)
    leader_after_restart: dict[str, int] = field(default_factory=dict)
    elr_feature_level: int | None = None
    elr_source: str = ""

    def read_feature(self, cluster: Cluster) -> None:
        """The ELR feature level, once, before the faults (the tool needs a cluster that answers)."""
        try:
            self.elr_feature_level = kafka_topics.elr_feature_level(cluster, self.rec.ctx)
        except Cancelled:
            raise
        except LabError as exc:  # the figures are extra: the scenario goes on without them, and says why
            self.elr_source = f"ELR not read: {exc.message}"

    def sample_sets(self, cluster: Cluster, moment: str) -> None:
        """ISR, ELR and last known ELR of both topics now, from Kafka's own tool (skipped where it cannot run)."""
        if self.elr_source.startswith("ELR not read"):
            return
        t = round(self.rec.now(), 3)
        try:
            reading = kafka_topics.describe(cluster, self.topics, self.rec.ctx)
        except Cancelled:
            raise
        except LabError as exc:
            self.rec.step(f"could not read ISR/ELR with kafka-topics ({moment}): {exc.message}")
            return
        self.elr_source = reading.source
        for topic in self.topics:
            if (p := reading.get(topic)) is not None:
                self.samples.setdefault(topic, []).append(
                    ReplicaSample(moment, t, p.leader, p.isr, p.elr, p.last_known_elr))
        self.rec.step(f"read ISR/ELR with kafka-topics --describe ({moment})")

    @property
    def topics(self) -> list[str]:
        return [self.settings.clean_topic, self.settings.unclean_topic]

    def lag_and_crash(self, prod: Producer) -> None:
        """Write to both replicas, stop the lagging one, write more, crash the in-sync one, start the lagging."""
        s, rec = self.settings, self.rec
        both = {s.in_sync_broker, s.lagging_broker}
        rec.wait_until(lambda sn: all(set(p.isr) == both for p in sn.partitions), "both replicas in sync")
        self.before = {t: load.probe(prod, t, "all", s.messages_before, 0) for t in self.topics}
        rec.step(f"wrote {s.messages_before} messages to each topic (both replicas have them)")
        snap = rec.poll() or rec.last
        for t in self.topics:
            part = snap.get(t, 0) if snap is not None else None
            self.epoch_before[t] = part.leader_epoch if part is not None else None
        faults.act(rec, BrokerAction.STOP, s.lagging_broker, not_in_isr(s.lagging_broker),
                   f"broker {s.lagging_broker} has left both ISRs")
        self.lagging = {t: load.probe(prod, t, "all", s.messages_while_lagging, s.messages_before)
                        for t in self.topics}
        rec.step(f"wrote {s.messages_while_lagging} more; only broker {s.in_sync_broker} has them")
        faults.act(rec, BrokerAction.KILL, s.in_sync_broker)
        # Both replicas' nodes are down now: only the third node is up, so the KRaft quorum is gone
        # until the lagging node starts again (its controller makes two of three).
        faults.act(rec, BrokerAction.START, s.lagging_broker)
        rec.wait_until(lambda sn: (p := sn.get(s.clean_topic, 0)) is not None and p.offline,
                       f"{s.clean_topic} has no leader (broker {s.in_sync_broker} fenced)")
        self.sample_sets(rec.cluster, MOMENT_CRASHED)

    def elect(self, cluster: Cluster) -> None:
        """Wait for the controller to elect the lagging replica of the unclean topic; else ask for it."""
        s, rec = self.settings, self.rec
        if _wait_for_leader(rec, s.unclean_topic, s.lagging_broker, s.election_wait_s):
            self.elected_by = ELECTED_BY_CONTROLLER
        else:
            rec.step("controller did not elect the lagging replica; asking for an unclean election")
            _elect_unclean(cluster, s.unclean_topic)
            if _wait_for_leader(rec, s.unclean_topic, s.lagging_broker, CHANGE_TIMEOUT_S):
                self.elected_by = ELECTED_BY_ADMIN
        rec.step(f"unclean topic led by broker {s.lagging_broker}" if self.elected_by else "no unclean election")
        self.crash = rec.last

    def write_after_and_heal(self, cluster: Cluster, prod: Producer) -> None:
        s, rec = self.settings, self.rec
        self.after = load.probe_topics(prod, self.topics, "all", s.messages_after,
                                       s.messages_before + s.messages_while_lagging)
        rec.step(f"wrote {s.messages_after} more to each topic after the crash")
        both = {s.in_sync_broker, s.lagging_broker}
        faults.act(rec, BrokerAction.START, s.in_sync_broker,
                   lambda sn: all(set(p.isr) == both for p in sn.partitions),
                   f"broker {s.in_sync_broker} is back and both replicas are in sync again")
        if rec.last is not None:
            for t in self.topics:
                if (p := rec.last.get(t, 0)) is not None:
                    self.leader_after_restart[t] = p.leader
        self.sample_sets(cluster, MOMENT_HEALED)
        rec.step("everything back; reading both topics from the start")
        self.consumed = {t: set(load.read_ids(cluster, t)) for t in self.topics}

    def outcome(self, topic: str, enabled: bool) -> UncleanTopicOutcome:
        """The topic's outcome from what was measured (None where the run did not get that far)."""
        def acked(d: dict[str, ProbeOutcome]) -> int | None:
            return d[topic].acked if topic in d else None

        part = self.crash.get(topic, 0) if self.crash else None
        got = self.consumed.get(topic)
        lost: list[int] | None = None
        if got is not None:
            ids = [o.acked_ids for d in (self.before, self.lagging, self.after) if (o := d.get(topic))]
            lost = sorted({i for batch in ids for i in batch} - got)
        return UncleanTopicOutcome(
            topic, enabled, acked(self.before), acked(self.lagging), self.after.get(topic),
            part.leader if part else None, self.epoch_before.get(topic), part.leader_epoch if part else None,
            self.elected_by if enabled else "", len(got) if got is not None else None,
            len(lost) if lost is not None else None, tuple((lost or [])[:LOST_IDS_SAMPLE]),
            sum(o.sent for d in (self.before, self.lagging, self.after) if (o := d.get(topic))) or None,
            self.leader_after_restart.get(topic), tuple(self.samples.get(topic, ())))


def _wait_for_leader(rec: Recorder, topic: str, node: int, seconds: float) -> bool:
    try:
        # led by it in the metadata, and answering as leader (its epoch comes from the leader itself)
        rec.wait_until(lambda s: (p := s.get(topic, 0)) is not None and p.leader == node
                       and p.leader_epoch is not None, f"broker {node} leads {topic}", seconds)
        return True
    except ClusterError:
        return False


def _elect_unclean(cluster: Cluster, topic: str) -> None:
    adm = clients.admin(cluster)
    try:
        adm.elect_leaders(ElectionType.UNCLEAN, [TopicPartition(topic, 0)],
                          request_timeout=lab_admin.ADMIN_TIMEOUT_S).result(timeout=lab_admin.ADMIN_TIMEOUT_S + 5)
    except KafkaException as exc:
        raise KafkaOperationError(f"The unclean election for {topic} failed: {exc}") from exc


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
    assignment = [[s.in_sync_broker, s.lagging_broker]]
    base = {"min.insync.replicas": "1"}  # what lets one replica acknowledge acks=all writes alone
    stopped: str | None = None
    with Recorder(cluster, [s.clean_topic, s.unclean_topic], ctx) as rec:
        run = _UncleanRun(rec, s)
        try:
            for topic, enabled in ((s.clean_topic, "false"), (s.unclean_topic, "true")):
                lab_admin.recreate_topic(cluster, topic, assignment,
                                         {**base, "unclean.leader.election.enable": enabled}, ctx)
            with faults.restoring(cluster, ctx), load.probe_producer(cluster, "all") as prod:
                run.read_feature(cluster)
                run.lag_and_crash(prod)
                run.elect(cluster)
                run.write_after_and_heal(cluster, prod)
        except Cancelled:
            stopped = ctx.stopped_text()
        return UncleanResult(s, run.outcome(s.clean_topic, False), run.outcome(s.unclean_topic, True),
                             rec.timeline(), cluster.status().kafka_version or "", run.elr_feature_level,
                             run.elr_source, stopped=stopped)
