"""Assignment strategies and rebalances: range, roundrobin and cooperative-sticky on the same group shape.

For each strategy: two fresh topics whose partition counts do not divide evenly among the members (so
range's per-topic unevenness shows), a producer on each at a fixed rate, ``members`` consumers
(``lab.consumer.groups``); the assignment table once stable; then a member joins, later one leaves, each measured
from the callbacks (``lab.pauses``): time to the new stable assignment, partition-seconds owned by
nobody, the longest a partition waited, how long each member owned nothing, what was revoked and what
moved. Eager strategies revoke everything on each rebalance; cooperative-sticky revokes only what moves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from lab.cluster.base import Cluster
from lab.consumer.groups import GroupRunner, GroupTimeline
from lab.consumer.pauses import empty_seconds, moved, owned_by, revoked_count, unowned_seconds
from lab.consumer.settings import STRATEGIES, ConsumerSettings
from lab.core.context import RunContext
from lab.core.errors import Cancelled
from lab.core.results import Result
from lab.core.validate import is_choices, is_whole, require
from lab.kafka import topics
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings

GROUP_TOPIC_PREFIX = "lab-groups-"
MAX_MEMBERS = 12
#: Short group timeouts for the lab (the brokers' floor, group.min.session.timeout.ms, is 6 s by default).
LAB_SESSION_TIMEOUT_MS = 6_000
LAB_HEARTBEAT_MS = 1_000


@dataclass(frozen=True)
class StrategiesSettings:
    strategies: tuple[str, ...] = STRATEGIES
    #: members at the start (one more joins, then one leaves)
    members: int = 2
    #: partitions of the two topics: uneven on purpose
    partitions: tuple[int, int] = (5, 3)
    produce_rate: int = 200
    #: seconds to hold between the steps (steady consumption on the chart)
    hold_s: float = 2.0
    processing_delay_ms: float = 0.0
    session_timeout_ms: int = LAB_SESSION_TIMEOUT_MS
    heartbeat_interval_ms: int = LAB_HEARTBEAT_MS

    def __post_init__(self) -> None:
        require(is_choices(self.strategies, STRATEGIES),
                f"strategies={self.strategies!r} is not valid.", f"Choose some of: {', '.join(STRATEGIES)}.")
        require(is_whole(self.members) and 1 <= self.members <= MAX_MEMBERS,
                f"members={self.members!r} is out of range.", f"Use 1 to {MAX_MEMBERS} members.")
        require(isinstance(self.partitions, (tuple, list)) and len(self.partitions) == 2
                and all(is_whole(p) and 1 <= p <= 100 for p in self.partitions),
                f"partitions={self.partitions!r} is not valid.", "Give two partition counts from 1 to 100.")
        require(is_whole(self.produce_rate) and 0 <= self.produce_rate <= 5000,
                f"producer rate {self.produce_rate!r} is out of range.", "Use 0 to 5000 messages per second.")
        require(isinstance(self.hold_s, (int, float)) and 0 <= self.hold_s <= 60,
                f"hold {self.hold_s!r} s is out of range.", "Use 0 to 60 seconds.")
        self.consumer("range")  # the group knobs are checked by ConsumerSettings

    def consumer(self, strategy: str, instance_id: str | None = None) -> ConsumerSettings:
        return ConsumerSettings(assignment_strategy=strategy, session_timeout_ms=self.session_timeout_ms,
                                heartbeat_interval_ms=self.heartbeat_interval_ms,
                                processing_delay_ms=self.processing_delay_ms, fetch_wait_max_ms=100,
                                auto_offset_reset="latest", group_instance_id=instance_id)


@dataclass(frozen=True)
class MemberAssignment:
    member: str
    partitions: tuple[str, ...]


@dataclass(frozen=True)
class RebalanceFigures:
    """One rebalance (a join or a leave), measured from the callbacks."""

    what: str
    #: group clock: the step, and when the last callback of the new stable assignment came
    started: float
    stable: float
    #: partition-seconds no member owned, and the longest one partition waited
    unowned_partition_s: float
    unowned_max_s: float
    #: member -> seconds it owned nothing while in the group
    member_empty_s: dict[str, float]
    revoked: int
    moved: int
    #: partitions that kept their owner yet were revoked on the way (eager: all of them)
    revoked_unmoved: int
    generation: int | None

    @property
    def duration_s(self) -> float:
        return self.stable - self.started


@dataclass(frozen=True)
class StrategyRun:
    strategy: str
    topics: tuple[str, ...]
    #: stage ("start", "after join", "after leave") -> the assignment table
    tables: dict[str, tuple[MemberAssignment, ...]]
    rebalances: tuple[RebalanceFigures, ...]
    timeline: GroupTimeline
    produced: int


@dataclass(frozen=True)
class StrategiesProgress:
    finished: tuple[StrategyRun, ...]
    strategy: str
    timeline: GroupTimeline


@dataclass(frozen=True)
class StrategiesResult(Result):
    settings: StrategiesSettings
    runs: tuple[StrategyRun, ...] = field(default_factory=tuple)


def table(assignment: dict[str, frozenset[str]]) -> tuple[MemberAssignment, ...]:
    return tuple(MemberAssignment(m, tuple(sorted(ps, key=_part_key))) for m, ps in sorted(assignment.items()))


def _part_key(p: str) -> tuple[str, int]:
    topic, _, rest = p.rpartition("[")
    return topic, int(rest.rstrip("]"))


def figures(group: GroupRunner, what: str, started: float, stable: float,
            before: dict[str, frozenset[str]]) -> RebalanceFigures:
    """The rebalance between ``started`` and ``stable`` on the group's recorded callbacks."""
    tl = group.timeline()
    evs = list(tl.events)
    parts = group.partitions()
    un = unowned_seconds(evs, parts, started, stable)
    spans = {s.member: (s.joined, s.left) for s in tl.spans}
    empty = {m: round(empty_seconds(evs, m, started, stable, (joined, left)), 3)
             for m, (joined, left) in spans.items() if left is None or left > started}
    after = owned_by(evs, stable)
    mv = moved({m: p for m, p in before.items() if p}, {m: p for m, p in after.items() if p})
    revoked_parts = {p for e in evs if e.kind != "assign" and started <= e.t <= stable for p in e.partitions}
    return RebalanceFigures(what, round(started, 3), round(stable, 3), round(sum(un.values()), 3),
                            round(max(un.values(), default=0.0), 3), empty, revoked_count(evs, started, stable),
                            len(mv), len(revoked_parts - mv), group.generation())


def run_strategy(cluster: Cluster, s: StrategiesSettings, strategy: str, ctx: RunContext,
                 done: tuple[StrategyRun, ...], consumer: ConsumerSettings | None = None) -> StrategyRun:
    """One group through start, a join and a leave. ``strategy`` labels the run; ``consumer`` (default: the
    settings' group knobs with that strategy) lets the protocol lab run group.protocol=consumer the same way."""
    names: list[str] = []
    producers: list[BackgroundProducer] = []
    tables: dict[str, tuple[MemberAssignment, ...]] = {}
    rebalances: list[RebalanceFigures] = []
    cs = consumer or s.consumer(strategy)
    group_id = f"lab-strategy-{strategy.replace('/', '-')}-{uuid.uuid4().hex[:6]}"
    group: GroupRunner | None = None
    try:
        for n in s.partitions:  # created one by one inside the try: a failure deletes the ones made
            names.append(topics.fresh_topic(cluster, n, 3, prefix=GROUP_TOPIC_PREFIX, purpose="assignment strategies",
                                            ctx=ctx))
        group = GroupRunner(cluster, group_id, names, cs, ctx)
        if s.produce_rate:
            per_topic = max(1, s.produce_rate // 2)
            producers = [BackgroundProducer(cluster, t, BackgroundProducerSettings(per_topic), t0=group.t0,
                                           ctx=ctx).__enter__()
                         for t in names]
        for i in range(s.members):
            group.add(f"m{i}")
        group.step(f"{strategy}: {s.members} member(s) joining")
        group.wait_stable()
        tables["start"] = table(group.assignment())
        ctx.report(None, f"{strategy}: stable", StrategiesProgress(done, strategy, group.timeline()))
        ctx.sleep(s.hold_s)
        for what in ("join", "leave"):
            before, gen = group.assignment(), group.generation()
            group.step(f"{strategy}: a member {'joins' if what == 'join' else 'leaves'}")
            started = group.now()
            if what == "join":
                group.add(f"m{s.members}")
            else:
                group.remove("m0")
            stable = group.wait_stable(after_generation=gen, since=started)
            rebalances.append(figures(group, what, started, stable, before))
            tables[f"after {what}"] = table(group.assignment())
            ctx.report(None, f"{strategy}: stable after the {what}", StrategiesProgress(done, strategy,
                                                                                         group.timeline()))
            ctx.sleep(s.hold_s)
    finally:
        if group is not None:
            group.close()
        for p in producers:
            p.stop()
        if names:
            topics.delete_topics(cluster, names)
    return StrategyRun(strategy, tuple(names), tables, tuple(rebalances), group.timeline(),
                       sum(p.acked for p in producers))


def compare(cluster: Cluster, settings: StrategiesSettings, ctx: RunContext) -> StrategiesResult:
    """Each strategy in turn; a cancel returns the strategies that finished."""

    runs: list[StrategyRun] = []
    for strategy in settings.strategies:
        try:
            runs.append(run_strategy(cluster, settings, strategy, ctx, tuple(runs)))
        except Cancelled:
            break
    return StrategiesResult(settings, tuple(runs), stopped=ctx.stopped_text() if ctx.cancelled else None)


def time_limit_for(settings: StrategiesSettings) -> float:
    return len(settings.strategies) * (90.0 + 4 * settings.hold_s)


__all__ = ["MemberAssignment", "RebalanceFigures", "StrategiesProgress", "StrategiesResult", "StrategiesSettings",
           "StrategyRun", "compare", "figures", "run_strategy", "table", "time_limit_for"]
