"""The verdict on a consumer benchmark run: the rules of ``lab.core.verdict`` that apply to its figures.
The result stores the tuple (``verdict``) so a stored run keeps the doubts it was measured with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.core.verdict import CPU_BOUND, Doubt, concurrent, had_errors, too_short

if TYPE_CHECKING:
    from lab.consumer.fetch import BenchResult


def bench_verdict(r: BenchResult, others: Sequence[str] = ()) -> tuple[Doubt, ...]:
    """Every rule that applies to one benchmark run: its span from the first message to the last (the
    consumer has no warm-up of its own: the group join is left out already), errors, others alongside."""
    found = (
        too_short(r.consume_s, r.consumed),
        had_errors(0, r.errors, {}),
        concurrent(others),
        members_died(r),
        members_cpu_bound(r),
    )
    return tuple(d for d in found if d is not None)


def members_died(r: BenchResult) -> Doubt | None:
    """An N-process run where a member process ended without its report: its partitions were not (all) read."""
    dead = [m for m in r.members if m.died]
    if not dead:
        return None
    return Doubt("member-died", "; ".join(f"member {m.index} (partitions {', '.join(map(str, m.partitions))}) died: "
                                          f"{m.died}" for m in dead) + ": its share was not read, the total is short")


def members_cpu_bound(r: BenchResult) -> Doubt | None:
    """Every member spent about a core on itself: the Python consumers, not the brokers, set the pace."""
    busy = [m.cpu_per_s for m in r.members if m.consume_s > 0]
    if not busy or len(busy) < len(r.members) or min(busy) < CPU_BOUND:
        return None
    return Doubt("client-bound", f"each of the {len(busy)} member processes used {min(busy):.2f}–{max(busy):.2f} CPU s "
                                 "per second of reading: the consumers themselves were the limit (more processes, "
                                 "if there are cores for them, read faster)")
