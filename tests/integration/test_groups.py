"""Assignment strategies on the real cluster: range is contiguous per topic, roundrobin spreads evenly,
cooperative-sticky keeps unmoved partitions without revoking them (eager ones revoke everything); the
group runner closes every member."""

from __future__ import annotations

from lab.cluster import LocalCluster
from lab.consumer import strategies
from lab.consumer.strategies import StrategiesSettings, StrategyRun
from lab.core.context import RunContext


def _by_topic(parts: tuple[str, ...]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for p in parts:
        topic, _, rest = p.rpartition("[")
        out.setdefault(topic, []).append(int(rest.rstrip("]")))
    return out


def _run(cluster: LocalCluster, strategy: str) -> StrategyRun:
    s = StrategiesSettings(strategies=(strategy,), members=2, partitions=(5, 3), produce_rate=50, hold_s=0.3)
    r = strategies.compare(cluster, s, RunContext(120))
    assert r.stopped is None and len(r.runs) == 1, r.stopped
    run = r.runs[0]
    assert set(run.tables) == {"start", "after join", "after leave"}
    for rows in run.tables.values():
        owned = [p for a in rows for p in a.partitions]
        assert len(owned) == len(set(owned)) == 8, "every partition owned exactly once"
    assert all(s.left is not None for s in run.timeline.spans), "the runner closed every member"
    return run


def test_range_is_contiguous_per_topic_and_eager(cluster: LocalCluster) -> None:
    run = _run(cluster, "range")
    for rows in run.tables.values():
        for a in rows:
            for nums in _by_topic(a.partitions).values():
                assert sorted(nums) == list(range(min(nums), max(nums) + 1)), a
    start = {a.member: len(a.partitions) for a in run.tables["start"]}
    assert sorted(start.values()) == [3, 5], "range per topic: 3+2 vs 2+1 on 5 and 3 partitions"
    join = run.rebalances[0]
    assert join.revoked == 8 and join.revoked_unmoved > 0, "eager: everything revoked, even what stays"
    assert join.unowned_partition_s > 0


def test_roundrobin_spreads_evenly(cluster: LocalCluster) -> None:
    run = _run(cluster, "roundrobin")
    for rows in run.tables.values():
        counts = [len(a.partitions) for a in rows]
        assert max(counts) - min(counts) <= 1, rows
    assert run.rebalances[0].revoked == 8


def test_cooperative_keeps_unmoved_partitions(cluster: LocalCluster) -> None:
    run = _run(cluster, "cooperative-sticky")
    for f in run.rebalances:
        assert f.revoked_unmoved == 0, f
        assert f.revoked <= f.moved
    join = run.rebalances[0]
    # guaranteed to keep consuming through the join: a member that keeps some of what it owned (its unmoved
    # partitions are never revoked); one that gives everything up, or owned nothing, may stand still
    before = {a.member: set(a.partitions) for a in run.tables["start"]}
    after = {a.member: set(a.partitions) for a in run.tables["after join"]}
    staying = [m for m in before if before[m] & after.get(m, set())]
    assert staying, run.tables
    assert all(join.member_empty_s[m] == 0.0 for m in staying), (staying, join.member_empty_s)
