"""Share groups, the pure parts: settings refuse what a lab cluster cannot run, the processing function's
fates, counting from members' reports, the kafka-share-groups output, and which Kafka can run them."""

from __future__ import annotations

import pytest

from lab.core.errors import SettingsError
from lab.queues import sampler, tally
from lab.queues.acks import finished
from lab.queues.backlog import ShareGroupsUnavailable, version_refusal
from lab.queues.members import Delivery
from lab.queues.settings import (
    Fate,
    ShareAcksSettings,
    ShareCompareSettings,
    ShareCrashSettings,
    fate,
    outcome,
)
from lab.queues.state import parse_members, parse_offsets


def d(t: float, member: str, partition: int, offset: int, seq: int | None, count: int = 1,
      ack: str = "accept") -> Delivery:
    return Delivery(t, member, partition, offset, seq, count, ack)


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"lock_duration_ms": 999}, "lock duration"), ({"lock_duration_ms": 60_001}, "lock duration"),
    ({"delivery_count_limit": 1}, "delivery count limit"), ({"delivery_count_limit": 11}, "delivery count limit"),
    ({"release_fraction": 0.4, "reject_fraction": 0.2}, "more than half"), ({"members": 0}, "members"),
    ({"records": 5}, "records"), ({"poison": 1}, "poison"), ({"partitions": True}, "partitions"),
])
def test_acks_settings_refuse_what_a_lab_cluster_cannot_run(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(SettingsError) as info:
        ShareAcksSettings(**kwargs)  # type: ignore[arg-type]
    assert word in info.value.message and info.value.hint


def test_other_settings_refuse_bad_values() -> None:
    with pytest.raises(SettingsError, match="failure"):
        ShareCrashSettings(failure="explode")
    with pytest.raises(SettingsError, match="max_poll_records"):
        ShareCompareSettings(max_poll_records=0)
    assert ShareCompareSettings().member_capacity == 50.0


def test_fates_follow_the_fractions_and_the_poison_is_in_the_middle() -> None:
    s = ShareAcksSettings(records=1000, release_fraction=0.2, reject_fraction=0.05)
    fates = [fate(i, s) for i in range(s.records)]
    assert fates[500] is Fate.POISON and fates.count(Fate.POISON) == 1
    assert fates.count(Fate.REJECT) == 50 and fates.count(Fate.RELEASE_ONCE) == 200
    assert [fate(i, ShareAcksSettings(poison=False)) for i in range(200)].count(Fate.POISON) == 0


def test_outcome_per_delivery() -> None:
    assert [outcome(Fate.RELEASE_ONCE, n) for n in (1, 2, 3)] == ["release", "accept", "accept"]
    assert [outcome(Fate.POISON, n) for n in (1, 2, 3)] == ["release"] * 3
    assert outcome(Fate.REJECT, 1) == "reject" and outcome(Fate.ACCEPT, 1) == "accept"


def test_counting_members_idle_ones_and_order() -> None:
    ds = [d(0.1, "a", 0, 1, 0), d(0.2, "b", 0, 0, 1), d(0.3, "a", 0, 2, 2), d(0.4, "a", 1, 0, 3),
          d(0.5, "a", 0, 0, None)]  # a priming record: not the lab's, not counted
    assert tally.per_member(ds, ["a", "b", "c"]) == {"a": 3, "b": 1, "c": 0}
    assert tally.idle(ds, ["a", "b", "c"]) == ["c"]
    assert tally.out_of_order(ds) == {0: 1, 1: 0}  # offset 0 of p0 finished after offset 1
    assert tally.throughput(ds, 0.0) == pytest.approx(4 / 0.4)
    rates = tally.rates(ds, ["a", "b"], bucket_s=0.25)
    assert {(r.t, r.member): r.per_s for r in rates}[(0.0, "a")] == 4.0
    assert {(r.t, r.member): r.per_s for r in rates}[(0.25, "b")] == 0.0


def test_fates_and_histogram_from_deliveries() -> None:
    ds = [d(0.1, "a", 0, 5, 7, 1, "release"), d(0.9, "b", 0, 5, 7, 2, "accept"), d(0.2, "a", 0, 6, 8, 1, "reject"),
          d(0.3, "b", 1, 0, 9, 1, "accept")]
    f = tally.fates(ds)
    assert f[7].acks == ("release", "accept") and f[7].max_count == 2 and f[8].deliveries == 1
    assert tally.delivery_histogram(ds) == {1: 2, 2: 1}
    assert tally.accepted_counts(ds) == {7: 1, 9: 1}


def test_an_acks_run_is_finished_only_when_every_record_reached_its_end() -> None:
    s = ShareAcksSettings(records=10, release_fraction=0.0, reject_fraction=0.0, delivery_count_limit=2)
    done = [d(0.1, "a", 0, i, i) for i in range(10) if i != 5]
    assert not finished(s, done)  # the poison record (5) not yet delivered to its limit
    poison = [d(0.2, "a", 0, 5, 5, 1, "release"), d(0.3, "b", 0, 5, 5, 2, "release")]
    assert not finished(s, done + poison[:1]) and finished(s, done + poison)


MEMBERS = """
GROUP           CONSUMER-ID            HOST            CLIENT-ID       #PARTITIONS  ASSIGNMENT
g-1             It9tisxhRZ2Vx0xdQy5x4g /127.0.0.1      rdkafka         1            t:1
g-1             JoWEy3brR4WSJ/yULx2t8A /127.0.0.1      rdkafka         2            t:0,1
"""
OFFSETS = """
GROUP           TOPIC           PARTITION  LEADER-EPOCH  START-OFFSET  LAG
g-1             t               1          0             165           0
g-1             t               0          0             119           3
"""


def test_parse_the_share_group_tool() -> None:
    ms = parse_members(MEMBERS)
    assert [m.assignment for m in ms] == [("t:1",), ("t:0", "t:1")] and ms[0].client_id == "rdkafka"
    ps = parse_offsets(OFFSETS)
    assert [(p.partition, p.start_offset, p.lag) for p in ps] == [(0, 119, 3), (1, 165, 0)]
    assert parse_members("\nShare group 'g' has no active members.\n") == ()
    assert parse_offsets("GROUP TOPIC PARTITION START-OFFSET LAG\ng t 0 - -\n")[0].start_offset is None


def test_which_kafka_can_run_share_groups() -> None:
    assert version_refusal("4.4.0") is None and version_refusal("4.2.0") is None and version_refusal(None) is None
    refusal = version_refusal("3.9.2")
    assert isinstance(refusal, ShareGroupsUnavailable)
    assert "3.9.2" in refusal.message and "--version 4.4.0" in (refusal.hint or "")
    assert version_refusal("4.1.1") is not None


def test_a_live_sample_reads_members_partitions_and_lag_and_an_error_is_a_note() -> None:
    line = ('{"at_ms":1796590000123,"members":[{"id":"m1","client":"share-1","assignment":["t:0","t:1"]},'
            '{"id":"m2","client":"share-2","assignment":["t:1"]}],"partitions":[{"topic":"t","partition":1,'
            '"start":40,"lag":3},{"topic":"t","partition":0,"start":38,"lag":null}]}')
    got = sampler.parse_sample("g", line)
    assert got is not None and got.at == 1796590000.123 and got.group == "g" and not got.note
    assert [m.client_id for m in got.members] == ["share-1", "share-2"] and got.members_of("t:1") == 2
    assert [(p.partition, p.start_offset, p.lag) for p in got.partitions] == [(0, 38, None), (1, 40, 3)]
    err = sampler.parse_sample("g", '{"at_ms":5000,"error":"GroupIdNotFoundException: g"}')
    assert err is not None and err.members == () and "GroupIdNotFound" in err.note
    assert sampler.parse_sample("g", "WARN something from the JVM") is None


def test_the_live_state_chart_draws_lag_per_partition_from_the_run_start() -> None:
    from lab.queues import charts
    from lab.queues.state import ShareGroupState, SharePartitionState

    p = SharePartitionState
    samples = (ShareGroupState("g", 100.5, (), (p("t", 0, 0, 50), p("t", 1, 0, 49))),
               ShareGroupState("g", 101.5, (), (p("t", 0, 30, 20), p("t", 1, 25, 24))))
    df = charts.state_frame(samples, 100.0)
    assert df[["t", "partition", "lag"]].values.tolist() == [[0.5, "p0", 50], [0.5, "p1", 49], [1.5, "p0", 20],
                                                             [1.5, "p1", 24]]
