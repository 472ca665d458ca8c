"""More readers than partitions: the same backlog read by a share group of N members, then by a consumer
group of N members, each member spending the same time per record.

A consumer group gives each partition to one member, so with 2 partitions and 6 members 4 members sit
idle and the group processes at most 2 records at a time, in offset order per partition. A share group
hands records out to every member (each acquired under a lock, acknowledged one by one), so all 6 work
at once — and a partition's records are no longer finished in offset order.

Both sides are counted from what each member reported, record by record (``lab.queues.tally``). Fresh
topic and groups per run; every member is owned and closed, the topic deleted. A cancelled run returns
what it counted.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from lab.cluster.base import Cluster
from lab.core.context import RunContext
from lab.core.results import Result
from lab.kafka import topics
from lab.queues import backlog, state, tally
from lab.queues.members import Delivery, Members
from lab.queues.settings import ShareCompareSettings
from lab.queues.state import ShareGroupState

#: Each side gets at least this long to finish, on top of what its members' work takes by arithmetic (s):
#: the members' join and first fetches.
JOIN_ALLOWANCE_S = 30.0


@dataclass(frozen=True)
class SideResult:
    """One group's read of the backlog."""

    #: "share" or "group"
    kind: str
    group: str
    members: tuple[str, ...]
    #: when the members were started (s on the run's clock)
    start_s: float
    deliveries: tuple[Delivery, ...]
    #: every record processed (accepted, for the share group) before the side ended
    complete: bool
    #: the share group's state as kafka-share-groups described it after the drain, its members still in the
    #: group (share side only)
    state: ShareGroupState | None = None

    @property
    def per_member(self) -> dict[str, int]:
        return tally.per_member(self.deliveries, self.members)

    @property
    def idle(self) -> list[str]:
        return tally.idle(self.deliveries, self.members)

    @property
    def records_per_s(self) -> float:
        return tally.throughput(self.deliveries, self.start_s)

    @property
    def drain_s(self) -> float:
        """From the members' start to the last record finished (s)."""
        ts = [d.t for d in tally.lab_records(self.deliveries)]
        return max(ts) - self.start_s if ts else 0.0

    @property
    def out_of_order(self) -> dict[int, int]:
        return tally.out_of_order(self.deliveries)


@dataclass(frozen=True)
class ShareCompareResult(Result):
    settings: ShareCompareSettings
    topic: str
    share: SideResult | None
    group: SideResult | None

    @property
    def speedup(self) -> float:
        """The share group's records/s over the consumer group's (nan when either is missing)."""
        if self.share is None or self.group is None or not self.group.records_per_s:
            return float("nan")
        return self.share.records_per_s / self.group.records_per_s


def time_limit_for(s: ShareCompareSettings) -> float:
    work = s.records * s.processing_delay_ms / 1000.0
    return 60.0 + work / s.members + work / min(s.members, s.partitions) + 2 * JOIN_ALLOWANCE_S


def run(cluster: Cluster, settings: ShareCompareSettings, ctx: RunContext) -> ShareCompareResult:
    """The share group's read, then the consumer group's, of one fresh backlog."""
    s = settings
    topic = backlog.fresh_backlog(cluster, s.partitions, s.records, ctx)
    t0 = time.monotonic()
    share: SideResult | None = None
    group: SideResult | None = None
    try:
        share = read(cluster, s, topic, "share", t0, ctx, lambda sh: ShareCompareResult(s, topic, sh, None))
        if not ctx.cancelled:
            group = read(cluster, s, topic, "group", t0, ctx, lambda g: ShareCompareResult(s, topic, share, g))
    finally:
        topics.delete_topics(cluster, [topic])
    return ShareCompareResult(s, topic, share, group, stopped=ctx.stopped_text() if ctx.cancelled else None)


def read(cluster: Cluster, s: ShareCompareSettings, topic: str, kind: str, t0: float, ctx: RunContext,
         partial: object) -> SideResult:
    """One side: ``s.members`` members of a fresh group of ``kind`` read the backlog to its end."""
    name = f"lab-{kind}-{uuid.uuid4().hex[:8]}"
    if kind == "share":
        backlog.configure_group(cluster, name)
    members = tuple(f"{kind}-{i}" for i in range(1, s.members + 1))
    work = s.records * s.processing_delay_ms / 1000.0
    bound = JOIN_ALLOWANCE_S + work / (s.members if kind == "share" else min(s.members, s.partitions))
    label = "share group" if kind == "share" else "consumer group"
    make = partial if callable(partial) else None
    with Members(cluster, topic, name, ctx, t0, kind=kind, processing_delay_ms=s.processing_delay_ms,
                 max_poll_records=s.max_poll_records) as team:
        start = team.now()
        for m in members:
            team.add(m)

        def finished(ds: list[Delivery]) -> bool:
            return len({d.seq for d in tally.lab_records(ds)}) >= s.records

        def report(ds: list[Delivery]) -> None:
            n = len({d.seq for d in tally.lab_records(ds)})
            side = SideResult(kind, name, members, start, tuple(ds), False)
            ctx.report(None, f"{label} of {s.members}: {n:,} of {s.records:,} records processed",
                       make(side) if make else None)

        complete = team.wait(finished, bound, report)
        seen: ShareGroupState | None = None
        if kind == "share" and not ctx.cancelled:
            # the group's state as Kafka's own tool describes it: after the drain, members still in the group (a
            # JVM started while they work would take CPU from them and slow what is measured)
            ctx.report(None, "asking kafka-share-groups for the group's members and start offsets")
            seen = state.describe_quietly(cluster, name, ctx)
    return SideResult(kind, name, members, round(start, 4), tuple(team.deliveries()), complete, seen)


__all__ = ["ShareCompareResult", "SideResult", "run", "time_limit_for"]
