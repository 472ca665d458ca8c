"""The replication lab against the real session cluster (replica.lag.time.max.ms=3000 there).

Every scenario restores all brokers in its own ``finally``; each test also checks the cluster is whole
afterwards, and ``whole_cluster`` makes it whole again should an assertion fail half-way.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from lab.cluster import BrokerState, ExternalCluster, LocalCluster
from lab.core import context as experiment
from lab.core.context import poll_until
from lab.core.errors import ClusterBusy
from lab.kafka import admin
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings, read_ids
from lab.kafka.observe import EventKind
from lab.kafka.specs import TopicSpec
from lab.kafka.timeline import Timeline
from lab.replication import elr, segments
from lab.replication import scenarios as replication
from lab.replication.settings import HwLeoSettings, MinIsrSettings, MonitorSettings, StorageSettings
from lab.replication.unclean import MOMENT_CRASHED
from tests.conftest import TEST_BROKER_OVERRIDES

LAG_S = int(TEST_BROKER_OVERRIDES["replica.lag.time.max.ms"]) / 1000
#: The leader checks its followers every lag/2 and the monitor polls about once a second (slower while
#: a broker is frozen): a follower is out at most 1.5 x lag after it stopped, plus polling and a loaded machine.
SHRINK_BOUND_S = 1.5 * LAG_S + 5.0


def assert_whole(c: LocalCluster, settle_s: float = 30.0) -> None:
    """All three brokers running and registered (a just-restarted one may take a moment to appear in
    the metadata of the broker that answers)."""
    want = [(n, BrokerState.RUNNING, True) for n in (1, 2, 3)]
    got: list[tuple[int, BrokerState, bool]] = []

    def whole() -> bool:
        got[:] = [(b.node_id, b.state, b.registered) for b in c.status().brokers]
        return got == want

    poll_until(whole, settle_s, every_s=0.5)
    assert got == want


def run(fn, limit: float = 240.0):
    return experiment.run_sync(fn, time_limit_s=limit)


def test_describe_reads_epoch_hw_and_every_replicas_leo(cluster: LocalCluster, topic_name: str) -> None:
    admin.create_topics(cluster, [TopicSpec(topic_name, 2, 3)])
    with BackgroundProducer(cluster, topic_name, BackgroundProducerSettings(200), time.monotonic()) as bg:
        poll_until(lambda: len(bg.acked_ids) >= 100, 30)
    res = replication.describe(cluster, topic_name)
    assert len(res.partitions) == 2
    total = 0
    for p in res.partitions:
        assert p.leader_epoch == 0 and p.high_watermark is not None
        assert set(p.log_end_offsets) == {1, 2, 3}
        # all in sync and idle: every replica's LEO equals the leader's high watermark
        assert all(v == p.high_watermark for v in p.log_end_offsets.values()), p
        total += p.high_watermark
    # the high watermarks count every record in the log: each acknowledged one, and (retries off) each
    # whose ack was lost, timed out under load or purged in flight on stop, though the leader had written it
    logged = [i for part in (0, 1) for i in read_ids(cluster, topic_name, part)]
    assert total == len(logged) >= len(bg.acked_ids) >= 100
    assert bg.acked_ids <= set(logged) and len(set(logged)) == len(logged), "every ack in the log, once"
    assert len(logged) - len(bg.acked_ids) <= bg.failed + bg.dropped_on_stop, (bg.failed, bg.dropped_on_stop)


def test_hw_leo_isr_shrinks_within_lag_time_and_expands(whole_cluster: LocalCluster, topic_name: str) -> None:
    res = run(lambda ctx: replication.hw_leo(whole_cluster, HwLeoSettings(
        topic_name, rate_per_s=50, baseline_s=1.0, hold_s=2.0), ctx))
    assert res.replica_lag_time_max_ms == 3000
    # not before the lag time (it is the lag time that drops it), and not long after it
    assert 0.8 * LAG_S <= res.left_isr_after_s <= SHRINK_BOUND_S, res.left_isr_after_s
    kinds = [(e.kind, res.follower) for e in res.timeline.events]
    assert (EventKind.ISR_SHRINK, res.follower) in kinds
    assert (EventKind.ISR_EXPAND, res.follower) in kinds
    assert res.rejoined_at > res.resumed_at
    # acks=all: the HW waited for the paused follower while it was still in the ISR
    assert res.hw_stalled_s >= 0.5 * LAG_S
    leos = [(sn.t, p.leader, p.log_end_offsets, p.stale_leo) for sn in res.timeline.snapshots for p in sn.partitions]
    assert res.max_follower_behind is not None and res.max_follower_behind > 0, (res.paused_at, res.rejoined_at, leos)
    assert any(s.acked for s in res.timeline.produce)
    assert_whole(whole_cluster)


def test_leader_epoch_increases_after_the_leader_is_killed(whole_cluster: LocalCluster, topic_name: str) -> None:
    c = whole_cluster
    admin.create_topics(c, [TopicSpec(topic_name, 1, 3)])
    # a leader elected a moment ago may not answer ListOffsets yet: let describe settle, as the CLI does
    before = replication.describe(c, topic_name, settle_s=replication.DESCRIBE_SETTLE_S).partitions[0]
    assert before.leader_epoch is not None
    c.broker("kill", before.leader)
    seen = [before]

    def new_leader_answers() -> bool:
        seen[0] = replication.describe(c, topic_name).partitions[0]
        return seen[0].leader not in (-1, before.leader) and seen[0].leader_epoch is not None

    poll_until(new_leader_answers, 60, every_s=0.5)
    after = seen[0]
    assert after.leader not in (-1, before.leader)
    assert after.leader_epoch is not None and after.leader_epoch > before.leader_epoch
    # the new leader's own epoch history on disk agrees
    history = segments.leader_epochs(c, after.leader, topic_name, 0)
    assert history is not None and history[-1][0] == after.leader_epoch
    c.broker("start", before.leader)
    assert_whole(c)


def test_min_isr_rejects_with_not_enough_replicas_and_recovers(whole_cluster: LocalCluster, topic_name: str) -> None:
    n = 10
    res = run(lambda ctx: replication.min_isr(whole_cluster, MinIsrSettings(topic_name, 2, n), ctx))
    assert [p.name for p in res.phases] == [replication.PHASE_ALL_UP, replication.PHASE_ONE_DOWN,
                                            replication.PHASE_TWO_DOWN, replication.PHASE_ONE_BACK,
                                            replication.PHASE_ALL_BACK]
    one, two = res.phase(replication.PHASE_ONE_DOWN), res.phase(replication.PHASE_TWO_DOWN)
    assert one.acks_all.acked == n and len(one.isr) == 2  # three brokers: one may fail, writes go on
    assert two.isr == (res.leader,)
    assert two.acks_all.acked == 0 and two.acks_all.errors == {"NOT_ENOUGH_REPLICAS": n}
    assert two.acks_1.acked == n  # the leader alone is enough for acks=1
    for name in (replication.PHASE_ALL_UP, replication.PHASE_ONE_BACK, replication.PHASE_ALL_BACK):
        assert res.phase(name).acks_all.acked == n, res.phase(name)
    assert_whole(whole_cluster)


@pytest.mark.version_sensitive  # ELR (4.1+) empties the ISR; 4.x segments are at least 1 MiB
def test_unclean_election_loses_acknowledged_messages_only_when_enabled(
    whole_cluster: LocalCluster, topic_name: str
) -> None:
    s = replication.UncleanSettings(topic_name[:200], 1, 2, messages_before=20, messages_while_lagging=30,
                                    messages_after=10)
    res = run(lambda ctx: replication.unclean(whole_cluster, s, ctx), 300)
    clean, dirty = res.clean, res.unclean
    assert clean.acked_while_lagging == dirty.acked_while_lagging == 30
    # unclean election off: unavailable after the crash, but nothing acknowledged was lost
    assert not clean.available_after_crash and clean.after.acked == 0
    assert clean.lost_acked == 0 and clean.consumed == 20 + 30
    # unclean election on: available at once, but exactly the 30 writes the lagging replica missed are gone
    assert dirty.available_after_crash and dirty.leader_after_crash == 2 and dirty.after.acked == 10
    assert dirty.lost_acked == 30 and dirty.consumed == 20 + 10
    assert set(dirty.lost_ids_sample) <= set(range(20, 50))
    assert dirty.elected_by
    assert dirty.epoch_after is not None and dirty.epoch_before is not None and dirty.epoch_after > dirty.epoch_before
    # ELR (KIP-966), as Kafka's own kafka-topics printed it at the crash, and who led again
    crash = clean.sample(MOMENT_CRASHED)
    assert crash is not None and crash.leader == -1
    assert clean.leader_after_restart == 1 and clean.written == 20 + 30 + 10
    verdict = elr.version_verdict(res)
    assert verdict.unclean.via == elr.VIA_UNCLEAN and verdict.unclean.lost == 30
    if res.kafka_version.startswith("3."):  # no ELR: the ISR keeps its last member while it is down
        assert res.elr_feature_level == 0 and crash.isr == (1,)
        assert verdict.clean.via == elr.VIA_ISR and verdict.clean.lost == 0
    else:  # 4.1+: the ISR empties; the last to leave (ISR below min.insync.replicas=1) is eligible
        assert res.elr_feature_level == 1 and crash.isr == () and crash.elr == (1,)
        assert verdict.clean.via == elr.VIA_ELR and verdict.clean.lost == 0 and verdict.clean.isr_emptied
    assert "kafka-topics --describe" in res.elr_source
    assert_whole(whole_cluster)


@pytest.mark.version_sensitive  # ELR (4.1+) empties the ISR; 4.x segments are at least 1 MiB
def test_storage_segments_roll_and_compaction_keeps_latest(cluster: LocalCluster, topic_name: str) -> None:
    """1 MiB segments (the least Kafka 4.x accepts) filled by ~4 MB of 1 KB messages."""
    s = StorageSettings(topic_name, segment_bytes=1024 * 1024, messages=4000, message_bytes=1000, bursts=3,
                        compact_topic=topic_name + "-c", keys=10, updates_per_key=20)
    res = run(lambda ctx: segments.storage(cluster, s, ctx))
    counts = [snap.log_segments for snap in res.snapshots]
    assert counts == sorted(counts) and counts[-1] > 3
    assert {f.kind for f in res.snapshots[-1].files} >= {"log", "index", "timeindex"}
    c = res.compaction
    assert c.produced == c.before == 200
    assert c.after < c.before and c.latest_values_kept and c.distinct_keys_after == 10


def test_monitor_stops_on_cancel_with_what_it_saw(cluster: LocalCluster, topic_name: str) -> None:
    admin.create_topics(cluster, [TopicSpec(topic_name, 1, 3)])
    settings = MonitorSettings(topic_name, 60, 0.5, BackgroundProducerSettings(20))
    r = experiment.start(lambda ctx: replication.monitor(cluster, settings, ctx), time_limit_s=90)

    def seen_enough() -> bool:  # two snapshots and an acknowledged write, in the run's live partial timeline
        tl = r.progress().partial
        return r.done or (isinstance(tl, Timeline) and len(tl.snapshots) >= 2
                          and sum(s.acked for s in tl.produce) > 0)

    assert poll_until(seen_enough, 30)
    r.cancel()
    res = r.wait(20)
    assert res.stopped and "cancelled by the user" in res.stopped and len(res.timeline.snapshots) >= 2
    assert not res.timeline.events
    assert sum(s.acked for s in res.timeline.produce) > 0


def test_min_isr_on_a_cluster_without_controls_asks_and_waits(whole_cluster: LocalCluster, topic_name: str) -> None:
    """External clusters: the scenario names the broker to stop or start and waits until the cluster shows it.
    Here the 'user' is this test, acting on the same brokers through the local backend."""
    import re

    ext = ExternalCluster(whole_cluster.bootstrap_servers())
    r = experiment.start(lambda ctx: replication.min_isr(ext, MinIsrSettings(topic_name, 2, 5), ctx),
                         time_limit_s=300)
    handled = 0
    try:
        while not r.done:
            tl = r.progress().partial
            steps = tl.steps if isinstance(tl, Timeline) else ()
            for step in steps[handled:]:
                m = re.match(r"Please (stop|start) broker (\d) now", step.label)
                if m:
                    whole_cluster.broker(m.group(1), int(m.group(2)))
            handled = len(steps)
            time.sleep(0.5)
        res = r.wait(5)
    finally:
        r.cancel()
    assert sum(1 for s in res.timeline.steps if s.label.startswith("Please")) == 4
    two = res.phase(replication.PHASE_TWO_DOWN)
    # not acknowledged; refused outright as a rule (once in several runs the leader instead held the
    # writes until the probe's timeout, when the test stopped the second follower right after the first)
    assert two.acks_all.acked == 0 and set(two.acks_all.errors) <= {"NOT_ENOUGH_REPLICAS", "_MSG_TIMED_OUT"}
    assert two.acks_1.acked == 5
    assert res.phase(replication.PHASE_ALL_BACK).acks_all.acked == 5
    assert_whole(whole_cluster)


def test_unclean_needs_broker_controls(cluster: LocalCluster) -> None:
    from lab.core.errors import ControlsDisabled

    with pytest.raises(ControlsDisabled, match="needs broker controls"):
        run(lambda ctx: replication.unclean(ExternalCluster(cluster.bootstrap_servers()),
                                            replication.UncleanSettings(), ctx))


def test_cli_describe_json(cluster: LocalCluster, topic_name: str, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from lab.cli import main

    admin.create_topics(cluster, [TopicSpec(topic_name, 2, 3)])
    assert main(["replication", "describe", topic_name, "--json", "--state-dir", str(cluster.state_dir)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["topic"] == topic_name and len(got["partitions"]) == 2
    assert all(p["leader_epoch"] == 0 and set(p["log_end_offsets"]) == {"1", "2", "3"} for p in got["partitions"])
    assert main(["replication", "describe", "no-such-topic", "--state-dir", str(cluster.state_dir)]) == 2
    assert "No such topic" in capsys.readouterr().err


def has_step(r: experiment.Run[Any], prefix: str) -> bool:
    """The run has finished, or its live timeline shows a step starting with ``prefix``."""
    tl = r.progress().partial
    return r.done or (isinstance(tl, Timeline) and any(s.label.startswith(prefix) for s in tl.steps))


def test_cancelled_scenario_still_restores_every_broker(whole_cluster: LocalCluster, topic_name: str) -> None:
    r = experiment.start(lambda ctx: replication.hw_leo(whole_cluster, HwLeoSettings(
        topic_name, rate_per_s=20, baseline_s=0.5, hold_s=30.0), ctx), time_limit_s=120)
    poll_until(lambda: has_step(r, "pause broker"), 60, every_s=0.3)
    assert any(b.state is BrokerState.PAUSED for b in whole_cluster.status().brokers)
    r.cancel()
    res = r.wait(60)  # a cancelled scenario returns what it measured; it does not raise
    assert res.stopped == "stopped early: cancelled by the user"
    assert res.timeline.snapshots and res.follower is not None and res.leader is not None
    assert res.rejoined_at is None  # cancelled while the follower was paused: it never rejoined in the run
    assert_whole(whole_cluster)  # restored by the scenario itself, before the fixture's own safety net


def test_min_isr_cancelled_part_way_returns_what_it_measured(whole_cluster: LocalCluster, topic_name: str) -> None:
    """Cancelled with one follower down, under a held cluster lock (as the runner does for experiments that
    change brokers): the result has the phases done and the timeline so far, and every broker is back up."""
    c = whole_cluster

    def scenario(ctx: experiment.RunContext) -> replication.MinIsrResult:
        with c.exclusive("min.insync.replicas test", face="test") as lease:
            ctx.lease = lease
            return replication.min_isr(c, MinIsrSettings(topic_name, 2, 5), ctx)

    r = experiment.start(scenario, time_limit_s=240)
    poll_until(lambda: has_step(r, replication.PHASE_ONE_DOWN), 120, every_s=0.2)
    assert not r.done
    with pytest.raises(ClusterBusy):  # nothing else may break brokers while the scenario holds the lock
        c.broker("stop", 3)
    r.cancel()
    res = r.wait(120)
    assert res.stopped is not None and res.stopped.startswith("stopped early")
    names = [p.name for p in res.phases]
    assert names[:2] == [replication.PHASE_ALL_UP, replication.PHASE_ONE_DOWN]
    assert replication.PHASE_ALL_BACK not in names
    assert res.phase(replication.PHASE_ONE_DOWN).acks_all.acked == 5
    assert res.leader is not None and len(res.followers) == 2
    assert res.timeline.snapshots and res.timeline.steps
    assert any(s.label.startswith("stop broker") for s in res.timeline.steps)
    assert_whole(c)
    assert c.lock_holder() is None
