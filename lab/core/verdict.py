"""The verdict on a result: a short, computed list of reasons to doubt its figures.

Each rule is a pure function of figures a result already holds and returns a ``Doubt`` (a stable code and
one sentence) or None. A phase's verdict (e.g. ``lab.producer.verdict``) applies them; the result stores the tuple
(``verdict``) so a stored run keeps the doubts it was measured with. An empty verdict means no rule found
a reason to doubt the figures — not that they are perfect.

``others_running`` is the one impure helper: which other experiments ran on the cluster at the same time
(the launcher hands this process's runs in through the run context; the cluster lock names the rest).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lab.core.context import ChildContext, RunContext

#: A measurement window shorter than this (seconds, warm-up excluded) has not settled on this machine.
MIN_MEASURED_S = 2.0
#: ... or with fewer acknowledged messages than this: a p99 needs at least a few values above it.
MIN_MEASURED_MESSAGES = 200
#: A target rate counts as reached at this fraction of it.
RATE_REACHED = 0.95
#: CPU seconds of the producing process per wall second from which the process itself is the bottleneck.
CPU_BOUND = 0.9
#: (max - min) / median of the steady intervals' throughput (or of repeats) above which they disagree.
MAX_SPREAD = 0.5


@dataclass(frozen=True)
class Doubt:
    """One reason to doubt a result: ``code`` for machines (stable), ``text`` for people."""

    code: str
    text: str


def too_short(measured_s: float, messages: int) -> Doubt | None:
    if measured_s < MIN_MEASURED_S or messages < MIN_MEASURED_MESSAGES:
        return Doubt("too-short", f"measured over {measured_s:.2f} s and {messages:,} messages after the warm-up: "
                                  f"figures settle only from about {MIN_MEASURED_S:g} s and "
                                  f"{MIN_MEASURED_MESSAGES} messages; run longer")
    return None


def rate_not_reached(target: float | None, achieved: float) -> Doubt | None:
    if target is not None and achieved < RATE_REACHED * target:
        return Doubt("rate-not-reached", f"target {target:,.0f} msg/s, reached {achieved:,.0f} msg/s: the latency is "
                                         "that of a saturated producer, not of the target load")
    return None


def cpu_bound(cpu_s: float, wall_s: float) -> Doubt | None:
    if wall_s > 0 and cpu_s / wall_s >= CPU_BOUND:
        return Doubt("cpu-bound", f"the producing process used {cpu_s:.2f} s of CPU in {wall_s:.2f} s: it is the "
                                  "bottleneck, so the figures measure this client more than Kafka")
    return None


def had_errors(failed: int, errors: dict[str, int], client_errors: dict[str, int]) -> Doubt | None:
    if failed or errors or client_errors:
        kinds = ", ".join(f"{k}×{v}" for k, v in {**errors, **client_errors}.items()) or "failures"
        return Doubt("errors", f"{failed:,} message(s) failed during the run ({kinds}): retries and timeouts "
                               "shape the figures")
    return None


def concurrent(others: Sequence[str]) -> Doubt | None:
    if others:
        return Doubt("concurrent", f"another experiment used the cluster at the same time ({'; '.join(others)}): "
                                   "they shared brokers, disks and CPU")
    return None


def spread(values: Sequence[float], what: str, meaning: str = "the run did not hold a steady state") -> Doubt | None:
    """Doubt when ``values`` (repeats, or steady intervals) disagree by more than ``MAX_SPREAD`` of their median."""
    finite = [v for v in values if v == v]
    if len(finite) < 3:
        return None
    mid = statistics.median(finite)
    width = (max(finite) - min(finite)) / mid if mid > 0 else 0.0
    if width > MAX_SPREAD:
        return Doubt("spread", f"{what} vary by {width:.0%} of their median ({min(finite):,.0f} to "
                               f"{max(finite):,.0f}): {meaning}")
    return None


class Holder(Protocol):
    """Who holds the cluster lock (``lab.cluster.lock.LockHolder``)."""

    pid: int

    def describe(self) -> str: ...


def others_running(ctx: RunContext, holder: Holder | None) -> tuple[str, ...]:
    """Other experiments running now: this process's runs other than ``ctx``'s, and whoever holds the
    cluster lock (a broker-changing experiment in any process)."""
    root = ctx
    while isinstance(root, ChildContext):
        root = root.parent
    out = list(root.others_running())
    if holder is not None and holder.pid != os.getpid():
        out.append(holder.describe())
    return tuple(out)


def merge(*groups: Sequence[str]) -> tuple[str, ...]:
    """The distinct entries of several ``others_running`` answers, in order."""
    return tuple(dict.fromkeys(x for g in groups for x in g))


def lines(verdict: Sequence[Doubt]) -> list[str]:
    """The verdict as text lines (empty when there is no doubt)."""
    return [f"doubt [{d.code}]: {d.text}" for d in verdict]


__all__ = ["Doubt", "lines", "merge", "others_running"]
