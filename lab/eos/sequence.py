"""Numbered records and what a read-back says about them: duplicates, gaps, order violations.

A record of the exactly-once lab carries its partition's sequence number in its value (``b"7"``,
padded with spaces to the record size): record ``n`` of a partition is the ``n``-th one the producer
handed over for that partition, counted from 0. Reading the partition back and counting the numbers
tells what the producer's retries did to the log. These functions are pure (no Kafka): they are the
arithmetic the scenarios report and the unit tests check on crafted sequences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: How many sequence numbers a result lists by name (the counts are always complete).
SAMPLE_SIZE = 20


def encode(seq: int, size: int = 0) -> bytes:
    """The value of record ``seq``: its number, padded with spaces to ``size`` bytes."""
    return str(seq).encode().ljust(size)


def decode(value: bytes | None) -> int | None:
    """The sequence number in a value written by ``encode`` (None for any other value)."""
    if not value:
        return None
    try:
        return int(value.split(b" ", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class SequenceCount:
    """One partition read back: what is in the log against what the producer sent and had acknowledged."""

    partition: int
    #: records in the log (with numbers), in offset order
    records: int
    #: distinct sequence numbers among them
    distinct: int
    #: copies beyond the first, summed over every number (``records - distinct``)
    duplicates: int
    #: numbers found more than once -> how many times (the first ``SAMPLE_SIZE``, lowest first)
    duplicated: dict[int, int] = field(default_factory=dict)
    #: how many distinct numbers appear more than once
    duplicated_numbers: int = 0
    #: numbers below the highest one in the log that are missing from it
    gaps: int = 0
    gap_sample: tuple[int, ...] = ()
    #: acknowledged numbers that are not in the log (lost after the producer was told they were safe)
    lost: int = 0
    lost_sample: tuple[int, ...] = ()
    #: records whose number is lower than the record just before it in the log (a retried batch
    #: written after a later one, or a duplicate appended behind newer records)
    order_violations: int = 0


def count(seqs: Sequence[int], acked: Iterable[int] = (), partition: int = 0) -> SequenceCount:
    """Count ``seqs`` (the numbers of one partition in offset order) against the ``acked`` numbers."""
    seen = Counter(seqs)
    dup = {n: c for n, c in sorted(seen.items()) if c > 1}
    top = max(seen) if seen else -1
    gaps = [n for n in range(top + 1) if n not in seen]
    lost = sorted(set(acked) - seen.keys())
    violations = sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b < a)
    return SequenceCount(
        partition=partition, records=len(seqs), distinct=len(seen), duplicates=len(seqs) - len(seen),
        duplicated=dict(list(dup.items())[:SAMPLE_SIZE]), duplicated_numbers=len(dup),
        gaps=len(gaps), gap_sample=tuple(gaps[:SAMPLE_SIZE]), lost=len(lost), lost_sample=tuple(lost[:SAMPLE_SIZE]),
        order_violations=violations)


@dataclass(frozen=True)
class Totals:
    """The counts of several partitions added up."""

    records: int
    distinct: int
    duplicates: int
    gaps: int
    lost: int
    order_violations: int


def totals(counts: Iterable[SequenceCount]) -> Totals:
    cs = list(counts)
    return Totals(sum(c.records for c in cs), sum(c.distinct for c in cs), sum(c.duplicates for c in cs),
                  sum(c.gaps for c in cs), sum(c.lost for c in cs), sum(c.order_violations for c in cs))
