"""The verdict on a consumer benchmark run: the rules of ``lab.core.verdict`` that apply to its figures.
The result stores the tuple (``verdict``) so a stored run keeps the doubts it was measured with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lab.core.verdict import Doubt, concurrent, had_errors, too_short

if TYPE_CHECKING:
    from lab.consumer.fetch import BenchResult


def bench_verdict(r: BenchResult, others: Sequence[str] = ()) -> tuple[Doubt, ...]:
    """Every rule that applies to one benchmark run: its span from the first message to the last (the
    consumer has no warm-up of its own: the group join is left out already), errors, others alongside."""
    found = (
        too_short(r.consume_s, r.consumed),
        had_errors(0, r.errors, {}),
        concurrent(others),
    )
    return tuple(d for d in found if d is not None)
