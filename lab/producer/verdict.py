"""The verdict on a produce run or a sweep: the rules of ``lab.core.verdict`` that apply to its figures.
The result stores the tuple (``verdict``) so a stored run keeps the doubts it was measured with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.core.verdict import Doubt, concurrent, cpu_bound, had_errors, rate_not_reached, spread, too_short

if TYPE_CHECKING:
    from lab.producer.run import ProduceResult
    from lab.producer.sweep import SweepResult


def produce_verdict(r: ProduceResult, others: Sequence[str] = ()) -> tuple[Doubt, ...]:
    """Every rule that applies to one produce run."""
    s = r.settings
    steady = [x.msgs_per_s for x in r.samples if r.warmup is not None and x.t_s > r.warmup.duration_s]
    found = (
        too_short(r.measured_s, r.latency.count),
        rate_not_reached(s.rate, r.msgs_per_s),
        cpu_bound(r.cpu_s, r.elapsed_s),
        had_errors(r.failed, r.errors, r.client_errors),
        concurrent(others),
        spread(steady[:-1], "the steady intervals' msg/s"),  # the last interval holds the flush
    )
    return tuple(d for d in found if d is not None)


def sweep_verdict(r: SweepResult, others: Sequence[str] = ()) -> tuple[Doubt, ...]:
    """The sweep's own doubts: cells with doubts (each keeps its own), cells whose repeats disagree, and
    experiments alongside."""
    found: list[Doubt] = []
    doubted = [x for x in r.runs if x.verdict]
    if doubted:
        codes = sorted({d.code for x in doubted for d in x.verdict})
        found.append(Doubt("cells", f"{len(doubted)} of {len(r.runs)} runs have doubts ({', '.join(codes)}): "
                                    "see each run's verdict"))
    for i, cell in enumerate(r.runs):
        reps = r.repeats_of(i)
        if len(reps) > 1 and (d := spread([x.msgs_per_s for x in reps], f"{cell.settings.name}: the repeats' msg/s",
                                        "repeat more, or find what else the machine was doing")):
            found.append(d)
    c = concurrent(others)
    if c is not None:
        found.append(c)
    return tuple(found)
