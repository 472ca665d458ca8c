"""The lesson of phase 6 from the lag scenario: consumer lag grows when the group is slower than the
producer, and adding members (up to the partition count) brings it back down."""

from __future__ import annotations

from lab.lag.scenario import LagDemoPhase, LagDemoResult
from lab.lag.settings import LagDemoSettings
from lab.lessons.base import Choice, Figure, Finding, Lesson, TryNext

#: One member handles 100 records/s (10 ms each) against 200/s produced: it falls behind by about 100/s.
PRESET = LagDemoSettings(partitions=4, rate_per_s=200, processing_delay_ms=10.0, phase_s=10.0,
                         phases=("slow", "scale-out"))
#: Lag must move by more than this many seconds of produced records to count: the members auto-commit once a
#: second, so a healthy group's lag saws by about one second of records.
MOVE_S = 2.0


def _phase(r: LagDemoResult, name: str) -> LagDemoPhase | None:
    return next((p for p in r.phases if p.name == name), None)


def find_lag(r: LagDemoResult) -> Finding:
    s = r.settings
    capacity = s.member_capacity
    threshold = MOVE_S * s.rate_per_s
    sentences = [f"A producer at {s.rate_per_s} records/s into {s.partitions} partitions; each member spends "
                 f"{s.processing_delay_ms:g} ms per record, so one member handles about {capacity:,.0f} records/s."]
    figures = [Figure("rate_per_s", "records produced per second", float(s.rate_per_s), "records/s"),
               Figure("member_capacity", "records one member handles per second", round(capacity, 1), "records/s")]
    for p in r.phases:
        figures += [Figure(f"{p.name}.members", f"members ({p.name})", float(p.members)),
                    Figure(f"{p.name}.lag_start", f"lag at the start ({p.name})", float(p.lag_start), "records"),
                    Figure(f"{p.name}.lag_end", f"lag at the end ({p.name})", float(p.lag_end), "records")]
        sentences.append(f"{p.name}: {p.members} member{'s' if p.members != 1 else ''}, lag {p.lag_start:,} → "
                         f"{p.lag_end:,} records in {p.end_s - p.start_s:.0f} s (status {p.status.value}).")
    slow, out = _phase(r, "slow"), _phase(r, "scale-out")
    if slow is None or out is None:
        return Finding(None, tuple(sentences), tuple(figures), ("the run needs both the slow and the scale-out phase",))
    grew = slow.lag_end - slow.lag_start
    drained = out.lag_start - out.lag_end
    if grew <= threshold:
        why = (f"one member handles {capacity:,.0f} records/s, not less than the {s.rate_per_s}/s produced: nothing to "
               "fall behind" if capacity >= s.rate_per_s else
               f"the lag grew by only {grew:,} records, within {MOVE_S:g} s of produced records")
        return Finding(None, tuple(sentences), tuple(figures), (why,))
    if drained > threshold:
        sentences.append(f"The lag grew by {grew:,} records while one member read, and fell by {drained:,} once "
                         f"{out.members} members shared the partitions.")
        return Finding("grows-then-drains", tuple(sentences), tuple(figures))
    if out.lag_end - out.lag_start > threshold:
        sentences.append(f"The lag grew by {grew:,} records with one member and by another "
                         f"{out.lag_end - out.lag_start:,} with {out.members}.")
        return Finding("keeps-growing", tuple(sentences), tuple(figures))
    return Finding(None, tuple(sentences), tuple(figures),
                   (f"after scaling out the lag moved by {out.lag_end - out.lag_start:+,} records, within "
                    f"{MOVE_S:g} s of produced records: the phase was too short to drain it",))


LAG_RECOVERY = Lesson(
    id="lag-recovery", phase=6, page="lag", title="Lag: falling behind and catching up",
    question=("Consumers that process more slowly than the producer writes: what happens to the lag, and what "
              "brings it back down?"),
    source="Practice 003e, phase 6 (lag monitoring: “increasing lag = consumers can't keep up”)",
    choices=(
        Choice("grows-then-drains", "Lag grows while the group is too slow, and drains once there is a member per "
                                    "partition"),
        Choice("flat", "Lag stays flat: Kafka slows the producer down to the consumer's pace"),
        Choice("keeps-growing", "Adding consumers does not help: the lag keeps growing"),
    ),
    experiment="lag.scenario", settings=PRESET, find=find_lag,
    why=("Why: Kafka never slows a producer for a consumer; the log just gets ahead, and lag = end offset − "
         "committed offset counts by how much. A partition is read by one member of a group, so more members (up "
         "to the partition count) add capacity and the backlog drains; past the partition count, extra members "
         "sit idle."),
    try_next=(
        TryNext("Faster processing (4 ms per record)", LagDemoSettings(
            partitions=4, rate_per_s=200, processing_delay_ms=4.0, phase_s=10.0, phases=("slow", "scale-out")),
            "one member now handles 250 records/s, more than the 200/s produced: the lag stays flat."),
        TryNext("Two partitions", LagDemoSettings(
            partitions=2, rate_per_s=200, processing_delay_ms=10.0, phase_s=10.0, phases=("slow", "scale-out")),
            "scale-out stops at two members (one per partition): 200 records/s of capacity, so the lag barely falls."),
    ),
    takes="about 25 s",
    key_figures=("*.lag_start", "*.lag_end"), chart="total-lag",
)

LESSONS = (LAG_RECOVERY,)
