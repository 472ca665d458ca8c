"""Counting what members processed: pure functions of their deliveries (``lab.queues.members.Delivery``).

Everything here is read back from what each member reported, record by record: records per member, the
members that sat idle, records/s per member over time, how often a partition's records were finished out
of offset order, and every record's deliveries and final outcome.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lab.queues.members import BUCKET_S, Delivery


def lab_records(ds: Iterable[Delivery]) -> list[Delivery]:
    """The deliveries of the lab's numbered records (a topic's priming records left out)."""
    return [d for d in ds if d.seq is not None]


def per_member(ds: Iterable[Delivery], members: Sequence[str]) -> dict[str, int]:
    """member -> records it processed (every member named, idle ones with 0), in ``members`` order."""
    n = Counter(d.member for d in lab_records(ds))
    return {m: n.get(m, 0) for m in members}


def idle(ds: Iterable[Delivery], members: Sequence[str]) -> list[str]:
    """The members that processed nothing."""
    return [m for m, n in per_member(ds, members).items() if n == 0]


def out_of_order(ds: Iterable[Delivery]) -> dict[int, int]:
    """partition -> records finished after a record of a higher offset of the same partition (0: that
    partition's records were processed in offset order). First deliveries only, in the order they finished."""
    worst: dict[int, int] = {}
    late: dict[int, int] = defaultdict(int)
    for d in sorted((d for d in lab_records(ds) if d.delivery_count == 1), key=lambda d: d.t):
        top = worst.get(d.partition)
        if top is not None and d.offset < top:
            late[d.partition] += 1
        worst[d.partition] = max(d.offset, top if top is not None else d.offset)
    return {p: late.get(p, 0) for p in sorted(worst)}


@dataclass(frozen=True)
class RateSample:
    """Records ``member`` finished in the bucket starting at ``t`` (s), as records/s."""

    t: float
    member: str
    per_s: float


def rates(ds: Iterable[Delivery], members: Sequence[str], bucket_s: float = BUCKET_S) -> list[RateSample]:
    """Records/s per member per bucket, from the first bucket to the last anyone finished a record in (empty
    buckets as 0, so an idle member draws a flat line)."""
    recs = lab_records(ds)
    if not recs:
        return []
    counts = Counter((int(d.t / bucket_s), d.member) for d in recs)
    first, last = min(b for b, _ in counts), max(b for b, _ in counts)
    return [RateSample(round(b * bucket_s, 3), m, counts.get((b, m), 0) / bucket_s)
            for b in range(first, last + 1) for m in members]


def span_s(ds: Iterable[Delivery]) -> float:
    """Seconds from the first record finished to the last (0 with fewer than two)."""
    ts = [d.t for d in lab_records(ds)]
    return max(ts) - min(ts) if len(ts) > 1 else 0.0


def throughput(ds: Sequence[Delivery], since: float) -> float:
    """Distinct records finished per second, from ``since`` (the members' start) to the last one."""
    recs = lab_records(ds)
    if not recs:
        return 0.0
    end = max(d.t for d in recs)
    distinct = len({d.seq for d in recs})
    return distinct / (end - since) if end > since else 0.0


@dataclass(frozen=True)
class RecordFate:
    """Every delivery of one record, as the members saw it."""

    seq: int
    partition: int
    offset: int
    deliveries: int
    #: the acknowledgements in delivery order, e.g. ("release", "accept")
    acks: tuple[str, ...]
    #: the highest delivery count the broker gave it
    max_count: int


def fates(ds: Iterable[Delivery]) -> dict[int, RecordFate]:
    """seq -> what happened to the record, from every member's report."""
    by_seq: dict[int, list[Delivery]] = defaultdict(list)
    for d in lab_records(ds):
        by_seq[d.seq].append(d)  # type: ignore[index]
    out = {}
    for seq, rows in sorted(by_seq.items()):
        rows.sort(key=lambda d: (d.delivery_count, d.t))
        out[seq] = RecordFate(seq, rows[0].partition, rows[0].offset, len(rows), tuple(d.ack for d in rows),
                              max(d.delivery_count for d in rows))
    return out


def delivery_histogram(ds: Iterable[Delivery]) -> dict[int, int]:
    """deliveries per record -> how many records were delivered that often."""
    return dict(sorted(Counter(f.deliveries for f in fates(ds).values()).items()))


def accepted_counts(ds: Iterable[Delivery]) -> Counter[int]:
    """seq -> how many times it was accepted (exactly once is right)."""
    return Counter(d.seq for d in lab_records(ds) if d.ack == "accept")  # type: ignore[misc]


__all__ = ["RateSample", "RecordFate", "accepted_counts", "delivery_histogram", "fates", "idle", "lab_records",
           "out_of_order", "per_member", "rates", "span_s", "throughput"]
