"""Static membership on the real cluster: a static member back within the session timeout causes no
callbacks on the other members and keeps the generation; a dynamic one causes rebalances."""

from __future__ import annotations

from lab.cluster import LocalCluster
from lab.consumer import static
from lab.consumer.static import StaticSettings
from lab.core.context import RunContext


def test_static_rejoin_is_silent_and_dynamic_is_not(cluster: LocalCluster) -> None:
    s = StaticSettings(cases=("static, back in time", "dynamic"), members=3, partitions=6, session_timeout_ms=6000,
                       away_s=1.0, after_s=0.5, produce_rate=50)
    r = static.compare(cluster, s, RunContext(150))
    assert r.stopped is None, r.stopped
    by = {c.case: c for c in r.cases}
    quiet = by["static, back in time"]
    assert quiet.others_callbacks == 0, quiet.timeline.events
    assert quiet.generation_before == quiet.generation_after is not None
    assert quiet.same_partitions and not quiet.rebalanced
    own = [e for e in quiet.timeline.events if e.member == quiet.restarted and e.t >= quiet.closed_t]
    assert {e.kind for e in own} >= {"revoke", "assign"}, "the restarted member itself sees revoke/assign"
    loud = by["dynamic"]
    assert loud.others_callbacks > 0 and loud.rebalanced
    assert loud.generation_after is not None and loud.generation_before is not None
    assert loud.generation_after >= loud.generation_before + 2, "one rebalance for the leave, one for the return"
