"""The exactly-once lab against the real session cluster (broker.session.timeout.ms from TEST_BROKER_OVERRIDES).

Each scenario that breaks a broker heals the cluster itself; each test checks it is whole afterwards,
and ``whole_cluster`` makes it whole again should an assertion fail half-way.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from lab.cli import main
from lab.cluster import BrokerAction, LocalCluster
from lab.cluster.external import ExternalCluster
from lab.core import context as experiment
from lab.core.codec import from_jsonable
from lab.core.context import poll_until
from lab.eos import duplicates, fencing, pipeline_run, sequence, transactions
from lab.eos import settings as eos_settings
from lab.kafka import admin
from tests.conftest import TEST_BROKER_OVERRIDES
from tests.integration.test_replication import assert_whole

#: The test cluster's broker session: the frozen-leader window must stay under it (less a margin).
SESSION_MS = int(TEST_BROKER_OVERRIDES["broker.session.timeout.ms"])
#: The longest pause the lab allows on this cluster.
PAUSE_LIMIT_MS = SESSION_MS - duplicates.SESSION_MARGIN_MS
#: librdkafka looks for timed-out requests once a second: a request times out up to this long after socket.timeout.ms.
TIMEOUT_SCAN_MS = 1000


def run(fn, limit: float = 240.0):
    return experiment.run_sync(fn, time_limit_s=limit)


def test_a_frozen_leader_duplicates_without_idempotence_and_not_with_it(whole_cluster: LocalCluster,
                                                                         topic_name: str) -> None:
    s = eos_settings.DuplicateSettings(topic=topic_name, idempotence="both")
    # the window, checked before the fault: outlast the client's request timeout plus librdkafka's once-a-second
    # timeout scan, stay under the broker session (less the lab's margin)
    assert s.socket_timeout_ms + TIMEOUT_SCAN_MS <= s.pause_ms <= PAUSE_LIMIT_MS, (s, SESSION_MS)
    res = run(lambda ctx: duplicates.idempotent(whole_cluster, s, ctx))
    assert res.stopped is None and res.session_timeout_ms == SESSION_MS
    plain, idem = res.runs
    assert not plain.idempotence and idem.idempotence
    for r in res.runs:
        assert r.read_back and r.failed == 0 and r.acked == r.sent > 0
        assert r.timeouts > 0, "the pause must make requests time out on the client"
        assert r.pause_from_s is not None and r.pause_to_s is not None
        assert r.pause_to_s - r.pause_from_s >= s.pause_ms / 1000
    # the lab's count is what the log holds: read it again here and count independently
    log = [sequence.decode(m.value()) for m in admin.read_partition(whole_cluster, plain.topic, 0)]
    extra = sum(c - 1 for c in Counter(log).values())
    t = plain.total()
    assert t.duplicates > 0, plain
    assert t.duplicates == extra == len(log) - len(set(log)) == t.records - plain.acked
    assert t.lost == 0
    ti = idem.total()
    assert (ti.duplicates, ti.lost, ti.gaps, ti.order_violations) == (0, 0, 0, 0)
    assert ti.records == idem.acked
    assert idem.identity is not None and idem.identity.producer_id >= 0 and idem.identity.producer_epoch >= 0
    assert plain.identity is None  # a plain producer has no PID
    assert any(x.timeouts for x in res.seconds) and sum(x.acked for x in res.seconds) == plain.acked + idem.acked
    assert_whole(whole_cluster)


def test_transactions_aborted_records_counted_by_read_uncommitted_only_and_markers_take_offsets(
        cluster: LocalCluster, topic_name: str) -> None:
    s = eos_settings.TransactionSettings(topic=topic_name, partitions=3, transactions=5, records_per_transaction=6,
                                         aborted=2, hold_open_s=2.0)
    res = run(lambda ctx: transactions.transactional(cluster, s, ctx))
    assert res.stopped is None
    assert [o.committed for o in res.outcomes] == [True, False, True, False, True]
    assert res.aborted_records == 12
    assert res.read_uncommitted == 30 and res.read_committed == 18
    assert res.aborted_seen_committed == 0 and res.aborted_seen_uncommitted == 12
    # one control marker per transaction in each partition it wrote to: 2 records + 1 marker = 3 offsets
    assert res.marker_offsets == res.expected_markers == {0: 5, 1: 5, 2: 5}
    for o in res.outcomes:
        assert o.offsets_taken == {p: n + 1 for p, n in o.records.items()}, o
    # while the last transaction was open: the HW had its records, the LSO and read_committed consumer did not
    for p in range(3):
        assert res.held_hw[p] - res.held_lso[p] == 2, (res.held_hw, res.held_lso)
        assert res.held_position[p] == res.held_lso[p]
        assert res.lso_after[p] == res.held_hw[p] + 1  # its records + its commit marker
    assert res.open_from_s is not None and res.open_to_s is not None and res.open_to_s - res.open_from_s >= 2.0
    held = [x for x in res.samples if res.open_from_s <= x.t <= res.open_to_s]
    assert held and all(x.last_stable_offset < x.high_watermark for x in held)
    assert res.identity is not None and res.identity.producer_id >= 0


def test_fencing_the_older_producer_gets_fenced_and_its_transaction_is_aborted(cluster: LocalCluster,
                                                                               topic_name: str) -> None:
    res = run(lambda ctx: fencing.fencing(cluster, eos_settings.FencingSettings(topic=topic_name, records=4), ctx))
    assert res.stopped is None
    assert res.fenced_error == "_FENCED" and res.fenced_fatal
    assert res.zombie is not None and res.successor is not None
    assert res.zombie.producer_id == res.successor.producer_id  # same transactional.id, same PID
    assert res.successor.producer_epoch > res.zombie.producer_epoch
    assert (res.zombie_committed, res.zombie_uncommitted) == (0, 4)
    assert (res.successor_committed, res.successor_uncommitted) == (4, 4)


def test_pipeline_sigkilled_and_restarted_is_exactly_once_and_at_least_once_duplicates(
        whole_cluster: LocalCluster, topic_name: str) -> None:
    cluster = whole_cluster
    s = eos_settings.PipelineSettings(topic_prefix=topic_name[:150], modes="both", records=1500, rate_per_s=300,
                                      commit_interval_ms=1000, kills=1)
    res = run(lambda ctx: pipeline_run.pipeline_scenario(cluster, s, ctx), limit=300)
    assert res.stopped is None, (res.stopped, [r.log_tail for r in res.runs], res.steps, res.samples[-8:])
    eos, alo = res.runs
    assert (eos.mode, alo.mode) == ("exactly-once", "at-least-once")
    for r in res.runs:
        assert len(r.kills_at_s) == 1 and r.processes >= 2
        # killed by the scenario, then stopped by it: none left running (a process that failed while the
        # broker was down exited with 3 and was started again)
        assert r.exit_codes[0] == -9 and r.exit_codes[-1] == 0 and len(r.exit_codes) == r.processes, r.log_tail
        assert r.broker_killed in (1, 2, 3) and r.broker_killed_at_s is not None
        assert r.input_records == 1500
        assert r.missing == 0
    assert eos.output_records == eos.distinct == eos.input_records and eos.duplicates == 0
    assert alo.duplicates is not None and alo.duplicates > 0, (alo, [x for x in res.samples if x.mode == alo.mode])
    assert alo.output_records == alo.input_records + alo.duplicates
    assert any(x.mode == "exactly-once" and x.output_stable > 0 for x in res.samples)
    assert_whole(cluster)


def test_cli_eos_fencing_json_is_a_stamped_result_that_reads_back(cluster: LocalCluster, topic_name: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eos", "fencing", "--topic", topic_name, "--records", "3", "--json",
                 "--state-dir", str(cluster.state_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["run"]["experiment"] == "eos.fencing" and data["run"]["face"] == "cli"
    back = from_jsonable(fencing.FencingResult, data)
    assert back.fenced_error == "_FENCED" and back.zombie_committed == 0 and back.successor_committed == 3


def test_without_broker_controls_a_person_freezes_the_leader_and_the_duplicates_are_counted(
        whole_cluster: LocalCluster, topic_name: str) -> None:
    # the same brokers reached as an external cluster: the lab asks for the fault instead of causing it
    ext = ExternalCluster(whole_cluster.bootstrap_servers(), security={})
    assert not ext.controls_enabled
    s = eos_settings.DuplicateSettings(topic=topic_name, idempotence="off")
    run_ = experiment.start(lambda ctx: duplicates.idempotent(ext, s, ctx), time_limit_s=300)
    try:
        asked = poll_until(lambda: "please freeze broker" in run_.progress().message, 60, every_s=0.1)
        assert asked, run_.progress().message
        # the person: freeze the leader for the window the page asked for, then let it go
        whole_cluster.broker(BrokerAction.PAUSE, s.leader)
        time.sleep(s.pause_ms / 1000)  # a person's hand on the broker, not the lab's work
        whole_cluster.broker(BrokerAction.RESUME, s.leader)
    except BaseException:
        run_.cancel()
        raise
    res = run_.wait(300)
    assert res.stopped is None, res.stopped
    (plain,) = res.runs
    assert plain.read_back and plain.timeouts > 0
    assert plain.pause_from_s is not None and plain.pause_to_s is not None and plain.pause_to_s > plain.pause_from_s
    assert plain.total().duplicates > 0, plain
    assert_whole(whole_cluster)


@pytest.mark.breaks_brokers  # the launcher takes the lab's cluster lock for eos.idempotent before the refusal
def test_cli_eos_idempotent_refuses_a_pause_the_cluster_would_fence(cluster: LocalCluster,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # past broker.session.timeout.ms less the margin: refused before any broker is touched
    too_long = PAUSE_LIMIT_MS + 500
    assert main(["eos", "idempotent", "--pause-ms", str(too_long), "--state-dir", str(cluster.state_dir)]) == 2
    err = capsys.readouterr().err
    assert f"broker.session.timeout.ms={SESSION_MS}" in err and f"Use 1001 to {PAUSE_LIMIT_MS} ms" in err
    assert main(["eos", "idempotent", "--acks", "1", "--state-dir", str(cluster.state_dir)]) == 2
    assert "needs acks=all" in capsys.readouterr().err


def test_a_cancel_while_the_leader_is_frozen_returns_what_was_measured_and_heals(whole_cluster: LocalCluster,
                                                                                topic_name: str) -> None:
    s = eos_settings.DuplicateSettings(topic=topic_name, idempotence="both")
    run_ = experiment.start(lambda ctx: duplicates.idempotent(whole_cluster, s, ctx), time_limit_s=240)
    try:
        frozen = poll_until(lambda: "(SIGSTOP)" in run_.progress().message, 60, every_s=0.05)
        assert frozen, run_.progress().message
    finally:
        run_.cancel()
    res = run_.wait()
    assert res.stopped is not None and "cancelled" in res.stopped
    assert len(res.runs) == 1 and not res.runs[0].read_back  # the plain run, stopped before its read-back
    assert res.runs[0].sent > 0 and res.runs[0].pause_from_s is not None
    assert_whole(whole_cluster)  # resumed by the scenario itself
