"""Lessons of phase 5: from the assignment-strategies experiment, why cooperative rebalancing matters for large
consumer groups (the course's third reflection question); from the static-membership one, a restart without a
rebalance."""

from __future__ import annotations

from lab.consumer.static import StaticCase, StaticResult, StaticSettings
from lab.consumer.strategies import StrategiesResult, StrategiesSettings, StrategyRun
from lab.lessons.base import Choice, Figure, Finding, Lesson, TryNext, pct

EAGER, COOPERATIVE = "range", "cooperative-sticky"
PRESET = StrategiesSettings(strategies=(EAGER, COOPERATIVE), members=3)
#: Cooperative rebalances count as "faster" only when they settle this much sooner than eager ones.
FASTER_MARGIN = 0.10


def _stalled(run: StrategyRun) -> int:
    """Member-stops over the run's rebalances: members that owned nothing for a moment while in the group."""
    return sum(1 for f in run.rebalances for v in f.member_empty_s.values() if v > 0)


def _revoked(run: StrategyRun) -> int:
    return sum(f.revoked for f in run.rebalances)


def _settle_s(run: StrategyRun) -> float:
    return sum(f.duration_s for f in run.rebalances)


def _run_sentence(run: StrategyRun) -> str:
    parts = [f"{f.what}: {sum(1 for v in f.member_empty_s.values() if v > 0)} of {len(f.member_empty_s)} members "
             f"stood still, {f.revoked} partitions revoked ({f.revoked_unmoved} of them only to be given back), "
             f"{f.moved} moved, stable after {f.duration_s:.2f} s" for f in run.rebalances]
    return f"{run.strategy} — " + "; ".join(parts) + "." if parts else f"{run.strategy}: no rebalance was measured."


def find_cooperative(r: StrategiesResult) -> Finding:
    by = {run.strategy: run for run in r.runs}
    eager, coop = by.get(EAGER), by.get(COOPERATIVE)
    sentences = [f"A group of {r.settings.members} members on two topics of {r.settings.partitions[0]} and "
                 f"{r.settings.partitions[1]} partitions; one member joins, later one leaves, with each strategy."]
    sentences += [_run_sentence(run) for run in r.runs]
    figures: list[Figure] = []
    for run in r.runs:
        figures += [Figure(f"{run.strategy}.member_stops", f"{run.strategy}: member stops over its rebalances",
                           float(_stalled(run))),
                    Figure(f"{run.strategy}.revoked", f"{run.strategy}: partitions revoked over its rebalances",
                           float(_revoked(run))),
                    Figure(f"{run.strategy}.settle_s", f"{run.strategy}: seconds to a stable assignment, summed",
                           round(_settle_s(run), 3), "s")]
    if eager is None or coop is None or not eager.rebalances or not coop.rebalances:
        return Finding(None, tuple(sentences), tuple(figures),
                       (f"the run needs rebalances of both {EAGER} and {COOPERATIVE} to compare",))
    e_stop, c_stop, e_rev, c_rev = _stalled(eager), _stalled(coop), _revoked(eager), _revoked(coop)
    also: tuple[str, ...] = ()
    faster = pct(_settle_s(coop), _settle_s(eager))
    if faster >= FASTER_MARGIN:
        also = ("faster",)
    sentences.append(f"Over its rebalances {EAGER} stopped members {e_stop} times and revoked {e_rev} partitions; "
                     f"{COOPERATIVE} stopped members {c_stop} times and revoked {c_rev}. {COOPERATIVE} settled in "
                     f"{_settle_s(coop):.2f} s in all against {_settle_s(eager):.2f} s"
                     + (" (faster)." if also else " (not faster: its join takes a second round)."))
    if c_stop < e_stop and c_rev < e_rev:
        return Finding("fewer-stop", tuple(sentences), tuple(figures), also=also)
    if c_stop >= e_stop and c_rev >= e_rev:
        return Finding("no-difference", tuple(sentences), tuple(figures), also=also)
    return Finding(None, tuple(sentences), tuple(figures),
                   (f"{COOPERATIVE} revoked {c_rev} vs {e_rev} but stopped members {c_stop} vs {e_stop} times: "
                    "the two measures disagree",))


COOPERATIVE_REBALANCE = Lesson(
    id="cooperative-rebalance", phase=5, page="consumer", title="Why cooperative rebalancing",
    question="Why is cooperative rebalancing important for large consumer groups?",
    source="Practice 003e, phase 6 reflection (phase 5's assignment strategies answer it)",
    choices=(
        Choice("fewer-stop", "Only the members whose partitions move stop; eager rebalancing stops every member "
                             "on every join or leave"),
        Choice("faster", "Cooperative rebalances finish sooner"),
        Choice("no-difference", "No difference: every rebalance stops the whole group"),
    ),
    experiment="consumer.strategies", settings=PRESET, find=find_cooperative,
    why=("Why: eager strategies (range, roundrobin) revoke every partition from every member, then hand them out "
         "again, so the whole group stops on each join, leave or deploy step. Cooperative-sticky (KIP-429) revokes "
         "only what must move. In a large group rebalances are frequent (scaling, rolling deploys) and every "
         "member is one more that would stand still."),
    try_next=(
        TryNext("6 members", StrategiesSettings(strategies=(EAGER, COOPERATIVE), members=6),
                "eager stops all six (and the joiner) on every rebalance; cooperative still stops about one."),
        TryNext("Add roundrobin", StrategiesSettings(strategies=(EAGER, "roundrobin", COOPERATIVE), members=3),
                "roundrobin spreads partitions more evenly than range, yet is eager too: it revokes everything."),
    ),
    takes="about 40 s (two strategies, each with a join and a leave)",
    key_figures=("*.member_stops",), chart="pauses",
)


# --- static membership (KIP-345) ---------------------------------------------------------------------------
STATIC, DYNAMIC = "static, back in time", "dynamic"
STATIC_PRESET = StaticSettings(cases=(STATIC, DYNAMIC), members=3)


def _case_sentence(c: StaticCase) -> str:
    gen = f"generation {c.generation_before} → {c.generation_after}"
    return (f"{c.case}: {c.restarted} closed and came back after {c.back_t - c.closed_t:.1f} s; the other members got "
            f"{c.others_callbacks} rebalance callbacks, {gen}, "
            f"{'the same' if c.same_partitions else 'other'} partitions back, {c.unowned_partition_s:.2f} "
            "partition-seconds owned by nobody.")


def find_static(r: StaticResult) -> Finding:
    by = {c.case: c for c in r.cases}
    s = r.settings
    sentences = [f"A group of {s.members} members on {s.partitions} partitions, session.timeout.ms="
                 f"{s.session_timeout_ms}; one member restarts, once with a group.instance.id and once without."]
    sentences += [_case_sentence(c) for c in r.cases]
    figures: list[Figure] = []
    for c in r.cases:
        key = "static" if c.case == STATIC else "dynamic" if c.case == DYNAMIC else c.case
        figures += [Figure(f"{key}.others_callbacks", f"{c.case}: callbacks on the other members",
                           float(c.others_callbacks)),
                    Figure(f"{key}.generation_change", f"{c.case}: generations the group went through",
                           float((c.generation_after or 0) - (c.generation_before or 0))),
                    Figure(f"{key}.unowned_partition_s", f"{c.case}: partition-seconds owned by nobody",
                           round(c.unowned_partition_s, 3), "s")]
    sm, dy = by.get(STATIC), by.get(DYNAMIC)
    if sm is None or dy is None:
        return Finding(None, tuple(sentences), tuple(figures), ("the run needs both the static and the dynamic case",))
    if not sm.rebalanced and sm.same_partitions and dy.rebalanced:
        return Finding("static-no-rebalance", tuple(sentences), tuple(figures))
    if sm.rebalanced and dy.rebalanced:
        return Finding("both-rebalance", tuple(sentences), tuple(figures))
    if not sm.rebalanced and not dy.rebalanced:
        return Finding("neither", tuple(sentences), tuple(figures))
    return Finding(None, tuple(sentences), tuple(figures),
                   (f"the static member rebalanced={sm.rebalanced} (same partitions: {sm.same_partitions}), the "
                    f"dynamic one rebalanced={dy.rebalanced}: no choice fits",))


STATIC_MEMBERSHIP = Lesson(
    id="static-membership", phase=5, page="consumer", title="Static membership: a restart without a rebalance",
    question="A consumer restarts quickly (a rolling deploy): does a static group.instance.id avoid a rebalance?",
    source="Practice 003e, phase 5 (static group membership, KIP-345)",
    choices=(
        Choice("static-no-rebalance", "The static member gets its partitions back with no rebalance; a dynamic one "
                                      "makes the group rebalance"),
        Choice("both-rebalance", "Both make the group rebalance: any restart does"),
        Choice("neither", "Neither: a quick restart never makes the group rebalance"),
    ),
    experiment="consumer.static-membership", settings=STATIC_PRESET, find=find_static,
    why=("Why: a dynamic member gets a new member id on every start, so its leaving and its joining are two "
         "membership changes, each a rebalance. A static member (group.instance.id) keeps its identity: the "
         "coordinator holds its partitions for session.timeout.ms and hands them back when it returns, without "
         "touching the others. The cost: its partitions wait for it while it is away."),
    try_next=(
        TryNext("5 members", StaticSettings(cases=(STATIC, DYNAMIC), members=5),
                "the dynamic restart disturbs more members (more callbacks); the static one still none."),
    ),
    takes="about 30 s (two restarts)",
    key_figures=("*.others_callbacks",),
)

LESSONS = (COOPERATIVE_REBALANCE, STATIC_MEMBERSHIP)
