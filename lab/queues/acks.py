"""Acknowledge, release, reject: a share group whose processing function fails some records on purpose
(``lab.queues.settings.fate``) — some once (released, delivered again with a higher delivery count, then
accepted), some for good (rejected: archived, never delivered again), and one poison record that fails
every time until the group's delivery-count limit archives it.

Every delivery is counted from what the members reported, and checked against the partitions: after the
members closed, Kafka's own tool must show each partition's share-partition start offset at the end of
the log (every record acknowledged or archived), and every offset of the log must have been delivered.
After the last expected acknowledgement the members keep polling for a quiet window: a record delivered
then was not archived as it should have been. Fresh topic and group per run; members owned and closed.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import TopicPartition

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext
from lab.core.results import Result
from lab.kafka import topics
from lab.queues import backlog, state, tally
from lab.queues.members import Delivery, Members
from lab.queues.sampler import LiveSampler
from lab.queues.settings import Fate, ShareAcksSettings, fate, outcome
from lab.queues.state import ShareGroupState

#: Members keep polling this long after the last expected acknowledgement (s): nothing may come back.
QUIET_S = 2.0
JOIN_ALLOWANCE_S = 30.0


@dataclass(frozen=True)
class ShareAcksResult(Result):
    settings: ShareAcksSettings
    topic: str
    group: str
    #: the group configs the run set (lock duration, delivery-count limit, earliest)
    group_configs: dict[str, str]
    members: tuple[str, ...]
    deliveries: tuple[Delivery, ...]
    #: every record reached its expected end (accepted, rejected, or the poison record archived)
    complete: bool
    #: deliveries of the lab's records during the quiet window after that (0: nothing came back)
    quiet_deliveries: int
    #: partition -> (low, high) watermark of the log after the run
    log_offsets: dict[int, tuple[int, int]]
    #: the group as kafka-share-groups described it after the members closed
    state_after: ShareGroupState | None
    #: the group sampled live while the members worked (``lab.queues.sampler``: members, start offsets, lag)
    samples: tuple[ShareGroupState, ...] = ()
    #: the run's start on the wall clock (s since the epoch): the samples' time axis starts there
    started_epoch: float = 0.0
    #: why there are no live samples, when there are none
    sampler_note: str = ""

    @property
    def fates(self) -> dict[int, tally.RecordFate]:
        return tally.fates(self.deliveries)

    @property
    def histogram(self) -> dict[int, int]:
        return tally.delivery_histogram(self.deliveries)

    def expected(self) -> dict[Fate, list[int]]:
        out: dict[Fate, list[int]] = {f: [] for f in Fate}
        for seq in range(self.settings.records):
            out[fate(seq, self.settings)].append(seq)
        return out

    @property
    def accepted_once(self) -> int:
        return sum(1 for n in tally.accepted_counts(self.deliveries).values() if n == 1)

    @property
    def accepted_twice(self) -> int:
        return sum(1 for n in tally.accepted_counts(self.deliveries).values() if n > 1)

    @property
    def released_then_accepted(self) -> int:
        """Records released on their first delivery and accepted on a later one."""
        return sum(1 for f in self.fates.values() if f.acks[:1] == ("release",) and "accept" in f.acks)

    @property
    def rejected(self) -> int:
        """Records rejected on their only delivery."""
        return sum(1 for f in self.fates.values() if f.acks == ("reject",))

    @property
    def undelivered_offsets(self) -> dict[int, int]:
        """partition -> offsets of the log no member ever received (0 everywhere is right)."""
        got: dict[int, set[int]] = {}
        for d in self.deliveries:
            got.setdefault(d.partition, set()).add(d.offset)
        return {p: max(0, hi - lo) - sum(1 for o in got.get(p, set()) if lo <= o < hi)
                for p, (lo, hi) in sorted(self.log_offsets.items())}


def time_limit_for(s: ShareAcksSettings) -> float:
    work = s.records * (1 + s.release_fraction) * s.processing_delay_ms / 1000.0 / s.members
    return 90.0 + work + JOIN_ALLOWANCE_S + s.delivery_count_limit * s.lock_duration_ms / 1000.0 + QUIET_S


def finished(s: ShareAcksSettings, ds: list[Delivery]) -> bool:
    """Every record has reached its end: accepted; rejected; the poison record delivered ``limit`` times."""
    ends: dict[int, str] = {}
    poison_deliveries = 0
    for d in tally.lab_records(ds):
        if d.seq == s.poison_seq:
            poison_deliveries += 1
        elif d.ack in ("accept", "reject"):
            ends[d.seq] = d.ack  # type: ignore[index]
    poison_done = s.poison_seq is None or poison_deliveries >= s.delivery_count_limit
    return poison_done and len(ends) >= s.records - (0 if s.poison_seq is None else 1)


def log_offsets(cluster: Cluster, topic: str, partitions: int) -> dict[int, tuple[int, int]]:
    c = clients.consumer(cluster, {"group.id": f"lab-share-offsets-{uuid.uuid4().hex[:8]}",
                                   "enable.auto.commit": False})
    try:
        return {p: tuple(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10))  # type: ignore[misc]
                for p in range(partitions)}
    finally:
        c.close()


def run(cluster: Cluster, settings: ShareAcksSettings, ctx: RunContext) -> ShareAcksResult:
    s = settings
    topic = backlog.fresh_backlog(cluster, s.partitions, s.records, ctx)
    group = f"lab-share-acks-{uuid.uuid4().hex[:8]}"
    names = tuple(f"share-{i}" for i in range(1, s.members + 1))

    def decide(seq: int | None, count: int) -> str:
        return "accept" if seq is None else outcome(fate(seq, s), count)

    def partial(ds: list[Delivery], complete: bool = False, quiet: int = 0,
                offsets: dict[int, tuple[int, int]] | None = None, after: ShareGroupState | None = None,
                stopped: str | None = None) -> ShareAcksResult:
        return ShareAcksResult(s, topic, group, configs, names, tuple(ds), complete, quiet, offsets or {}, after,
                               tuple(sampler.samples()), started_epoch, sampler.note, stopped=stopped)

    configs: dict[str, str] = {}
    # the group's state, live, from Kafka's Admin API (a record-by-record run, not a throughput measurement: the
    # sampler's small JVM beside the members changes no figure it reports)
    sampler = LiveSampler(cluster, group)
    started_epoch = time.time()
    try:
        configs = backlog.configure_group(cluster, group, lock_ms=s.lock_duration_ms,
                                          delivery_limit=s.delivery_count_limit)
        with contextlib.ExitStack() as owned:  # the sampler, then the members: both stopped however it ends
            owned.enter_context(sampler)
            # the sampler's JVM answers once before the members start, so the samples begin at the full backlog
            ctx.report(None, "starting the live sampler of the group's state (a small JVM)")
            sampler.wait_for_sample_after(0.0, ctx, settled=False)
            t0, started_epoch = time.monotonic(), time.time()
            team = owned.enter_context(Members(cluster, topic, group, ctx, t0,
                                               processing_delay_ms=s.processing_delay_ms,
                                               max_poll_records=s.max_poll_records, decide=decide))
            for m in names:
                team.add(m)

            def report(ds: list[Delivery]) -> None:
                done = len({d.seq for d in tally.lab_records(ds) if d.ack in ("accept", "reject")})
                ctx.report(None, f"{done:,} of {s.records:,} records accepted or rejected, "
                                 f"{len(tally.lab_records(ds)):,} deliveries", partial(ds))

            complete = team.wait(lambda ds: finished(s, ds), time_limit_for(s), report)
            before = len(tally.lab_records(team.deliveries()))
            if complete:
                ctx.report(None, f"all records at their end; watching {QUIET_S:g} s for anything delivered again")
                done_at = time.time()
                ctx.wait(QUIET_S)
                # and the group's state once more, members still in it, from after the last acknowledgement
                sampler.wait_for_sample_after(done_at, ctx)
            quiet = len(tally.lab_records(team.deliveries())) - before
        ds = team.deliveries()
        offsets = log_offsets(cluster, topic, s.partitions)
        ctx.report(None, "asking kafka-share-groups for the group's start offsets",
                   partial(ds, complete, quiet, offsets))
        after = state.describe_quietly(cluster, group, ctx)
    finally:
        topics.delete_topics(cluster, [topic])
    return partial(ds, complete, quiet, offsets, after, ctx.stopped_text() if ctx.cancelled else None)


__all__ = ["QUIET_S", "ShareAcksResult", "finished", "run", "time_limit_for"]
