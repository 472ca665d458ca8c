"""Share groups (KIP-932) on the real default cluster: more share consumers than partitions all get
records while a consumer group leaves members idle; acknowledge/release/reject counted record by record
from the members' reports and against the partitions' offsets; a member that dies mid-record and its
records coming back (after the lock when it hangs, at once when its connections close)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lab import registry as experiments
from lab.cli import main
from lab.cluster import LocalCluster
from lab.core.context import poll_until
from lab.queues.acks import ShareAcksResult
from lab.queues.backlog import ShareGroupsUnavailable, version_refusal
from lab.queues.compare import ShareCompareResult
from lab.queues.crash import ShareCrashResult
from lab.queues.settings import Fate, ShareAcksSettings, ShareCompareSettings, ShareCrashSettings
from lab.runs import launcher
from tests.conftest import kafka_version_under_test

#: share groups need 4.2+: on an older test cluster only the refusal is tested
needs_share_groups = pytest.mark.skipif(version_refusal(kafka_version_under_test()) is not None,
                                        reason="the test cluster's Kafka has no share groups")

#: The survivors read the victim's line a moment after it acquired: a redelivery may look this much early (s).
CLOCK_SLACK_S = 0.5


def run(name: str, cluster: LocalCluster, settings: object) -> object:
    return launcher.run_sync(experiments.get(name), cluster, settings, face="cli")


@needs_share_groups
def test_more_share_consumers_than_partitions_all_receive_records(cluster: LocalCluster) -> None:
    s = ShareCompareSettings(partitions=2, members=6, records=300, processing_delay_ms=20.0, max_poll_records=5)
    r = run("share.compare", cluster, s)
    assert isinstance(r, ShareCompareResult) and r.stopped is None
    assert r.share is not None and r.group is not None and r.share.complete and r.group.complete
    assert r.share.idle == [] and all(n > 0 for n in r.share.per_member.values())
    assert len(r.group.idle) == s.members - s.partitions  # one member per partition, the rest idle
    assert r.group.out_of_order == {0: 0, 1: 0}  # a consumer group keeps each partition's order
    assert sum(r.share.out_of_order.values()) > 0  # several members on one partition finish out of order
    for side in (r.share, r.group):
        assert {d.seq for d in side.deliveries if d.seq is not None} == set(range(s.records))
    st = r.share.state
    assert st is not None and len(st.members) == s.members  # Kafka's own tool saw every member
    assert {tp for m in st.members for tp in m.assignment} == {f"{r.topic}:0", f"{r.topic}:1"}


@needs_share_groups
def test_every_record_is_accepted_once_except_the_archived_poison(cluster: LocalCluster) -> None:
    s = ShareAcksSettings(partitions=2, members=3, records=120, processing_delay_ms=2.0, release_fraction=0.2,
                          reject_fraction=0.1, delivery_count_limit=3, lock_duration_ms=5_000)
    r = run("share.acks", cluster, s)
    assert isinstance(r, ShareAcksResult) and r.stopped is None and r.complete
    exp = r.expected()
    fates = r.fates
    accepted = exp[Fate.ACCEPT] + exp[Fate.RELEASE_ONCE]
    # counted from the members' own reports
    assert {seq for seq, f in fates.items() if "accept" in f.acks} == set(accepted)
    assert r.accepted_once == len(accepted) and r.accepted_twice == 0
    for seq in exp[Fate.RELEASE_ONCE]:  # released once: back with a delivery count one higher, then accepted
        assert fates[seq].acks == ("release", "accept") and fates[seq].max_count == 2
    for seq in exp[Fate.REJECT]:  # rejected: never delivered again
        assert fates[seq].acks == ("reject",)
    poison = fates[s.records // 2]
    assert poison.acks == ("release",) * s.delivery_count_limit and poison.max_count == s.delivery_count_limit
    assert r.quiet_deliveries == 0  # nothing archived came back
    # against the partitions' offsets: every offset of the log delivered; the group has nothing left to hand out
    assert r.undelivered_offsets == {0: 0, 1: 0}
    assert all(hi - lo == s.records // 2 + 1 for lo, hi in r.log_offsets.values())  # + the priming record
    assert r.state_after is not None and len(r.state_after.partitions) == s.partitions
    for p in r.state_after.partitions:
        assert p.lag == 0 and p.start_offset is not None and p.start_offset <= r.log_offsets[p.partition][1]
    # sampled live from the Admin API, the last sample after the last acknowledgement, the members still in
    live = [x for x in r.samples if len(x.members) == s.members and {p.partition for p in x.partitions} == {0, 1}]
    assert live, r.sampler_note or [x.note for x in r.samples]
    assert all(p.start_offset is not None and p.start_offset <= r.log_offsets[p.partition][1]
               for x in live for p in x.partitions)


@needs_share_groups
def test_a_hung_members_records_come_back_after_the_lock(cluster: LocalCluster) -> None:
    s = ShareCrashSettings(partitions=2, members=2, records=60, processing_delay_ms=5.0, max_poll_records=5,
                           lock_duration_ms=2_000, failure="freeze")
    r = run("share.crash", cluster, s)
    assert isinstance(r, ShareCrashResult) and r.stopped is None and r.complete
    assert r.victim_records and all(v.redelivery_count == 2 for v in r.victim_records)
    assert min(r.after_acquire_s) >= r.lock_s - CLOCK_SLACK_S  # not before the lock ran out
    # …and soon after it (the survivors fetch every few hundred ms); well before the 10 s session timeout
    assert max(r.after_acquire_s) < r.lock_s + 3.0


@needs_share_groups
def test_a_killed_members_records_come_back_without_waiting_for_the_lock(cluster: LocalCluster) -> None:
    s = ShareCrashSettings(partitions=2, members=2, records=60, processing_delay_ms=5.0, max_poll_records=5,
                           lock_duration_ms=10_000, failure="kill")
    r = run("share.crash", cluster, s)
    assert isinstance(r, ShareCrashResult) and r.stopped is None and r.complete
    assert r.victim_records and all(v.redelivery_count == 2 for v in r.victim_records)
    assert max(r.after_acquire_s) < r.lock_s / 2  # its connections closed: the broker released its records


@needs_share_groups
def test_cli_share_compare_json(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["share", "compare", "--partitions", "1", "--members", "2", "--records", "40",
                 "--processing-delay-ms", "0", "--json", "--state-dir", str(cluster.state_dir)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["share"]["complete"] and out["group"]["complete"]
    assert {d["seq"] for d in out["share"]["deliveries"] if d["seq"] is not None} == set(range(40))


@pytest.mark.version_sensitive
def test_on_3_9_the_run_says_why_and_how(cluster: LocalCluster) -> None:
    if version_refusal(kafka_version_under_test()) is None:
        pytest.skip("the session's cluster runs share groups; run with KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2")
    with pytest.raises(ShareGroupsUnavailable) as info:
        run("share.acks", cluster, ShareAcksSettings())
    assert "cannot run share groups" in info.value.message and "--version" in (info.value.hint or "")


@needs_share_groups
@pytest.mark.parametrize("name", ["share.compare", "share.crash"])
def test_a_cancel_stops_every_member_and_the_victim(cluster: LocalCluster, name: str) -> None:
    """Cancelled while its members work (slowly: 200 ms a record), a run returns what it counted, and no member
    thread or member process of it is left."""
    import threading

    import psutil

    settings = (ShareCompareSettings(records=300, processing_delay_ms=200.0) if name == "share.compare"
                else ShareCrashSettings(records=300, processing_delay_ms=200.0, lock_duration_ms=60_000,
                                        failure="freeze"))
    busy = "records processed" if name == "share.compare" else "waiting for them"
    run_ = launcher.launch(experiments.get(name), cluster, settings, face="cli")
    assert poll_until(lambda: busy in run_.progress().message or run_.done, 120, every_s=0.1)
    assert not run_.done, run_.error
    run_.cancel()
    result = run_.wait()
    assert result.stopped and "cancelled" in result.stopped
    assert not [t.name for t in threading.enumerate() if t.name.startswith("lab-share-")]
    assert not [cmd for cmd in map(_cmdline, psutil.Process().children(recursive=True)) if "lab.queues.victim" in cmd]


def _cmdline(p: Any) -> list[str]:
    """A child's command line; none for a zombie or a process gone meanwhile (not running, so no victim): a
    broker this worker started and another worker's test killed stays a zombie until this one looks at it."""
    import psutil

    try:
        return list(p.cmdline())
    except psutil.Error:
        return []
