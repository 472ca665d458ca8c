"""Lag on the real cluster: exact per-partition lag of a group that committed after N records, a partition
without a commit reported as such, the LSO as the end offset of a read_committed group while a
transaction is open, the lag watch and `kafka-lab lag`."""

from __future__ import annotations

import json
import uuid

import pytest

from lab import registry as experiments
from lab.cli import main
from lab.cluster import LocalCluster, clients
from lab.core.codec import from_jsonable
from lab.core.context import poll_until
from lab.lag import sample as lag
from lab.lag.rate import SustainableRateResult
from lab.lag.settings import LagWatchSettings
from lab.lag.status import PartitionStatus
from lab.runs import launcher

#: what the ``lagging_group`` fixture (tests/conftest.py) produced and committed per partition
PRODUCED = {0: 100, 1: 80, 2: 50}
CONSUMED = {0: 30, 1: 45}


@pytest.fixture
def group_on_topic(lagging_group) -> str:  # type: ignore[no-untyped-def]
    assert (lagging_group.produced, lagging_group.consumed) == (PRODUCED, CONSUMED)
    return str(lagging_group.group)


def test_lag_is_end_offset_minus_committed_exactly(cluster: LocalCluster, topic_name: str,
                                                   group_on_topic: str) -> None:
    s = lag.sample(cluster, group_on_topic)
    by = {p.partition: p for p in s.partitions if p.topic == topic_name}
    assert sorted(by) == [0, 1, 2]
    for part, n in CONSUMED.items():
        assert by[part].committed == n and by[part].end_offset == PRODUCED[part]
        assert by[part].lag == PRODUCED[part] - n
    assert by[2].committed is None and by[2].lag is None, "a partition without a commit is not zero lag"
    assert s.total_lag == sum(PRODUCED[p] - n for p, n in CONSUMED.items()) and s.without_commit == 1
    assert s.members == 0 and s.state == "empty"
    listed = {g.group: g for g in lag.list_groups(cluster)}
    assert listed[group_on_topic].total_lag == s.total_lag


def test_read_committed_lag_uses_the_last_stable_offset(cluster: LocalCluster, topic_name: str,
                                                        group_on_topic: str) -> None:
    tx = clients.producer(cluster, {"transactional.id": f"lag-tx-{uuid.uuid4().hex[:6]}", "acks": "all"})
    tx.init_transactions(30)
    tx.begin_transaction()
    for i in range(10):
        tx.produce(topic_name, f"open-{i}".encode(), partition=0)
    tx.flush(30)
    try:
        open_rc = lag.sample(cluster, group_on_topic, isolation="read_committed")
        open_ru = lag.sample(cluster, group_on_topic, isolation="read_uncommitted")
        rc = {p.partition: p for p in open_rc.partitions}
        ru = {p.partition: p for p in open_ru.partitions}
        assert ru[0].end_offset == PRODUCED[0] + 10, "the high watermark includes the open transaction's records"
        assert rc[0].end_offset == PRODUCED[0], "the LSO stops at the open transaction's first record"
        assert rc[0].lag == PRODUCED[0] - CONSUMED[0] and ru[0].lag == PRODUCED[0] + 10 - CONSUMED[0]
        assert rc[1].end_offset == ru[1].end_offset  # no transaction there
    finally:
        tx.commit_transaction(30)

    # The commit returns once the coordinator logged it; the markers reach the partitions a moment later,
    # and only then does the LSO move past them (10 records + the commit marker).
    def lso() -> int | None:
        parts = lag.sample(cluster, group_on_topic, isolation="read_committed").partitions
        return next(p.end_offset for p in parts if p.partition == 0)

    moved = poll_until(lambda: lso() == PRODUCED[0] + 11, timeout_s=30)
    assert moved, f"the LSO stayed at {lso()} after the commit"


def test_the_lag_watch_samples_and_judges(cluster: LocalCluster, topic_name: str, group_on_topic: str) -> None:
    res = launcher.run_sync(experiments.get("lag.watch"), cluster, LagWatchSettings(group_on_topic, 3.0, 0.5),
                            face="test")
    assert len(res.samples) >= 4 and res.stopped is None and res.run is not None
    verdicts = {v.partition: v for v in res.verdicts}
    assert verdicts[2].status is PartitionStatus.NO_COMMIT
    # nothing consumes: the committed offsets stand still while there is lag
    assert verdicts[0].status in (PartitionStatus.STALL, PartitionStatus.STOP)
    assert verdicts[0].lag == PRODUCED[0] - CONSUMED[0]
    frame = res.partitions_frame()
    assert set(frame["lag"].dropna()) == {PRODUCED[0] - CONSUMED[0], PRODUCED[1] - CONSUMED[1]}


def test_cli_lists_groups_and_prints_json_lines(cluster: LocalCluster, group_on_topic: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    sd = str(cluster.state_dir)
    assert main(["lag", "--json", "--state-dir", sd]) == 0
    groups = {g["group"]: g for g in json.loads(capsys.readouterr().out)}
    assert groups[group_on_topic]["total_lag"] == sum(PRODUCED[p] - n for p, n in CONSUMED.items())
    assert main(["lag", group_on_topic, "--duration", "2", "--interval", "0.5", "--json", "--state-dir", sd]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    samples = [json.loads(x) for x in lines[:-1] if x.startswith("{\"t_s\"")]
    assert len(samples) >= 3 and all(s["group"] == group_on_topic for s in samples)
    assert {p["partition"]: p["committed"] for p in samples[-1]["partitions"]} == {0: 30, 1: 45, 2: None}
    assert main(["lag", group_on_topic, "--duration", "1", "--state-dir", sd]) == 0
    text = capsys.readouterr().out
    assert "no commit" in text and "NO_COMMIT" in text and "group status" in text


def test_the_scenario_makes_lag_grow_then_drain(cluster: LocalCluster) -> None:
    from lab.lag.scenario import LagDemoResult
    from lab.lag.settings import LagDemoSettings

    settings = LagDemoSettings(partitions=4, rate_per_s=200, processing_delay_ms=10.0, phase_s=8.0,
                               phases=("slow", "scale-out"))
    res = launcher.run_sync(experiments.get("lag.scenario"), cluster, settings, face="test")
    assert isinstance(res, LagDemoResult) and res.stopped is None
    slow, scale = res.phases
    assert (slow.name, slow.members, scale.name, scale.members) == ("slow", 1, "scale-out", 4)
    totals = [s.total_lag for s in res.watch.samples]
    # one member handles 100 records/s against 200/s written: lag grows; four members (400/s) drain it
    assert slow.lag_end > slow.lag_start + 200, (slow, totals)
    assert scale.lag_end < max(totals), (scale, totals)
    assert {p.owner is not None for p in res.watch.samples[-1].partitions} == {True}, "every partition owned"


def test_the_sustainable_rate_search_stops_where_the_group_falls_behind(cluster: LocalCluster,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # one member at 10 ms a record: about 100 records/s by arithmetic; steps 50, 140, 230 records/s
    assert main(["lag", "rate", "--partitions", "2", "--members", "1", "--processing-delay-ms", "10",
                 "--start-rate", "50", "--step", "90", "--max-rate", "230", "--step-s", "8", "--json", "--quiet",
                 "--state-dir", str(cluster.state_dir)]) == 0
    r = from_jsonable(SustainableRateResult, json.loads(capsys.readouterr().out))
    assert r.stopped is None, r.stopped
    assert r.run is not None and r.run.experiment == "lag.sustainable-rate"
    assert r.found_limit, r.steps
    last = r.steps[-1]
    # the step it fell behind at is above what one member can do, and its lag really grew
    assert not last.kept_up and last.rate_per_s > r.settings.capacity and last.lag_end > last.lag_start
    assert all(s.kept_up for s in r.steps[:-1]) and r.sustainable_rate == r.steps[-2].rate_per_s
    assert r.steps[0].kept_up and r.steps[0].rate_per_s < r.settings.capacity
    # the samples are real: the lag at the end of the failing step is what the group left uncommitted
    assert r.samples and max(x.total_lag for x in r.samples) >= last.lag_end > 0
