"""Rebalance arithmetic on recorded callback timelines: pure functions, no Kafka, no clocks.

A timeline is a list of ``CallbackEvent`` (what each member's rebalance callbacks said, and when, on one
clock). From it:

- ``owners_at``: who owns each partition at a moment (assign adds, revoke and lost remove; this holds for
  eager strategies, whose revoke lists everything and whose assign gives the whole new set, and for
  cooperative ones, whose callbacks list only what moves);
- ``unowned_seconds``: per partition, how long inside a window nobody owned it (nobody could consume it);
- ``empty_seconds``: per member, how long inside a window it owned nothing while it was in the group;
- ``moved`` and ``revoked_count``: what a rebalance moved, and how many partitions were revoked on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ASSIGN, REVOKE, LOST = "assign", "revoke", "lost"


@dataclass(frozen=True)
class CallbackEvent:
    """One rebalance callback of one member, ``t`` seconds on the group's clock."""

    t: float
    member: str
    #: "assign", "revoke" or "lost"
    kind: str
    #: partitions as "topic[p]", sorted
    partitions: tuple[str, ...]
    #: the member's group generation read in the callback (None when librdkafka did not say)
    generation: int | None = None


def _apply(owned: dict[str, set[str]], e: CallbackEvent) -> None:
    mine = owned.setdefault(e.member, set())
    if e.kind == ASSIGN:
        mine.update(e.partitions)
    else:
        mine.difference_update(e.partitions)


def owned_by(events: Sequence[CallbackEvent], t: float) -> dict[str, frozenset[str]]:
    """member -> partitions it owned at ``t`` (events at exactly ``t`` included)."""
    owned: dict[str, set[str]] = {}
    for e in sorted(events, key=lambda x: x.t):
        if e.t > t:
            break
        _apply(owned, e)
    return {m: frozenset(p) for m, p in owned.items()}


def owners_at(events: Sequence[CallbackEvent], t: float) -> dict[str, tuple[str, ...]]:
    """partition -> the members that owned it at ``t`` (more than one only mid-way through an eager hand-over
    seen from two members' clocks)."""
    out: dict[str, list[str]] = {}
    for m, parts in owned_by(events, t).items():
        for p in parts:
            out.setdefault(p, []).append(m)
    return {p: tuple(sorted(ms)) for p, ms in out.items()}


def _intervals(events: Sequence[CallbackEvent], key: str, by_partition: bool) -> list[tuple[float, float | None]]:
    """Times (start, end or None) during which ``key`` (a partition, or a member) held / was held."""
    owned: dict[str, set[str]] = {}
    spans: list[tuple[float, float | None]] = []
    start: float | None = None
    for e in sorted(events, key=lambda x: x.t):
        _apply(owned, e)
        held = (any(key in ps for ps in owned.values()) if by_partition else bool(owned.get(key)))
        if held and start is None:
            start = e.t
        elif not held and start is not None:
            spans.append((start, e.t))
            start = None
    if start is not None:
        spans.append((start, None))
    return spans


def _covered(spans: Iterable[tuple[float, float | None]], t_from: float, t_to: float) -> float:
    total = 0.0
    for a, b in spans:
        lo, hi = max(a, t_from), min(t_to if b is None else b, t_to)
        total += max(0.0, hi - lo)
    return total


def unowned_seconds(events: Sequence[CallbackEvent], partitions: Iterable[str], t_from: float,
                    t_to: float) -> dict[str, float]:
    """partition -> seconds inside [t_from, t_to] that no member owned it."""
    span = max(0.0, t_to - t_from)
    return {p: round(span - _covered(_intervals(events, p, True), t_from, t_to), 6) for p in partitions}


def empty_seconds(events: Sequence[CallbackEvent], member: str, t_from: float, t_to: float,
                  present: tuple[float, float | None] | None = None) -> float:
    """Seconds inside [t_from, t_to] that ``member`` owned no partition while it was in the group
    (``present``: when it joined and left; default the whole window)."""
    lo, hi = t_from, t_to
    if present is not None:
        lo = max(lo, present[0])
        hi = min(hi, t_to if present[1] is None else present[1])
    if hi <= lo:
        return 0.0
    return round((hi - lo) - _covered(_intervals(events, member, False), lo, hi), 6)


def revoked_count(events: Sequence[CallbackEvent], t_from: float, t_to: float) -> int:
    """Partitions revoked (or lost) by any member inside [t_from, t_to]."""
    return sum(len(e.partitions) for e in events if e.kind != ASSIGN and t_from <= e.t <= t_to)


def callbacks_of(events: Sequence[CallbackEvent], members: Iterable[str], t_from: float,
                 t_to: float) -> list[CallbackEvent]:
    """The callbacks the given members got inside [t_from, t_to]."""
    ms = set(members)
    return [e for e in events if e.member in ms and t_from <= e.t <= t_to]


def moved(before: dict[str, frozenset[str]], after: dict[str, frozenset[str]]) -> set[str]:
    """Partitions whose owner differs between two assignments (member -> partitions)."""
    def owner_map(a: dict[str, frozenset[str]]) -> dict[str, str]:
        return {p: m for m, ps in a.items() for p in ps}
    b, a = owner_map(before), owner_map(after)
    return {p for p in set(b) | set(a) if b.get(p) != a.get(p)}


__all__ = ["ASSIGN", "LOST", "REVOKE", "CallbackEvent", "callbacks_of", "empty_seconds", "moved", "owned_by",
           "owners_at", "revoked_count", "unowned_seconds"]
