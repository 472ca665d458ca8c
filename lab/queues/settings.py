"""The share-group experiments' settings (KIP-932, Kafka 4.2+): typed, self-validating dataclasses (each
refusal names the setting, the bad value and what is allowed), one per experiment, and the pure rule that
decides what the lab's processing function does with a record.

The broker bounds a group's own lock duration and delivery-count limit by its
``group.share.min.*``/``group.share.max.*`` settings; the lab's clusters lower the minimums to 1 s and 2
deliveries (``lab.cluster.local_config.LAB_BROKER_SETTINGS``), so the ranges here are the ones a lab
cluster accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from lab.core.validate import is_whole, require

#: The lowest lock duration and delivery-count limit a lab cluster lets a group set (its lowered minimums).
MIN_LOCK_MS = 1_000
MAX_LOCK_MS = 60_000
MIN_DELIVERY_LIMIT = 2
MAX_DELIVERY_LIMIT = 10
#: Kafka's own defaults, for the page's comparison (a cluster outside the lab has these unless changed).
KAFKA_DEFAULT_LOCK_MS = 30_000
KAFKA_DEFAULT_DELIVERY_LIMIT = 5
#: Spread of the failing records over the sequence: record ``seq`` fails when ``seq * SPREAD % 1000`` falls
#: below the fraction (a prime, so any run of records gets its share, and a run is reproducible).
SPREAD = 7919


class Fate(StrEnum):
    """What the lab's processing function does with a record, decided by its sequence number."""

    ACCEPT = "accept"
    #: fails on its first delivery (released, delivered again), succeeds on the next
    RELEASE_ONCE = "release once"
    #: cannot be processed: rejected (archived) on its first delivery, never delivered again
    REJECT = "reject"
    #: always fails: released on every delivery until the delivery-count limit archives it
    POISON = "poison"


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _common(partitions: object, members: object, records: object, delay_ms: object, max_poll: object) -> None:
    require(is_whole(partitions) and 1 <= partitions <= 12,  # type: ignore[operator]
            f"partitions={partitions!r} is out of range.", "Use 1 to 12.")
    require(is_whole(members) and 1 <= members <= 12,  # type: ignore[operator]
            f"members={members!r} is out of range.", "Use 1 to 12 members.")
    require(is_whole(records) and 10 <= records <= 20_000,  # type: ignore[operator]
            f"records={records!r} is out of range.", "Use 10 to 20 000 records.")
    require(_number(delay_ms) and 0 <= delay_ms <= 1000,  # type: ignore[operator]
            f"processing delay {delay_ms!r} ms is out of range.", "Use 0 to 1000 ms per record.")
    require(is_whole(max_poll) and 1 <= max_poll <= 500,  # type: ignore[operator]
            f"max_poll_records={max_poll!r} is out of range.", "Use 1 to 500 records per poll.")


def _lock(lock_ms: object) -> None:
    require(is_whole(lock_ms) and MIN_LOCK_MS <= lock_ms <= MAX_LOCK_MS,  # type: ignore[operator]
            f"lock duration {lock_ms!r} ms is out of range.",
            f"Use {MIN_LOCK_MS} to {MAX_LOCK_MS} ms (the lab's brokers allow down to {MIN_LOCK_MS} ms).")


@dataclass(frozen=True)
class ShareCompareSettings:
    """The same backlog read twice: by a share group of ``members``, then by a consumer group of as many."""

    partitions: int = 2
    members: int = 6
    records: int = 600
    #: time each member spends per record (ms)
    processing_delay_ms: float = 20.0
    #: records one poll returns (and, with the records in batches of one, about what one fetch acquires): fewer
    #: spread the records more evenly, more save round trips (measured: 5 -> ~120 records/s, 20 -> ~180 on a
    #: busy 2-core machine with 6 members at 20 ms)
    max_poll_records: int = 10

    def __post_init__(self) -> None:
        _common(self.partitions, self.members, self.records, self.processing_delay_ms, self.max_poll_records)

    @property
    def member_capacity(self) -> float:
        """Records per second one member processes (inf without a delay)."""
        return 1000.0 / self.processing_delay_ms if self.processing_delay_ms else math.inf


@dataclass(frozen=True)
class ShareAcksSettings:
    """A share group whose processing function fails some records (see ``fate``)."""

    partitions: int = 2
    members: int = 3
    records: int = 200
    processing_delay_ms: float = 5.0
    max_poll_records: int = 10
    #: fraction of records released on their first delivery (then accepted)
    release_fraction: float = 0.2
    #: fraction of records rejected on their first delivery (archived)
    reject_fraction: float = 0.05
    #: one record that fails every time, until the delivery-count limit archives it
    poison: bool = True
    #: the group's ``share.delivery.count.limit``
    delivery_count_limit: int = 3
    #: the group's ``share.record.lock.duration.ms``
    lock_duration_ms: int = 5_000

    def __post_init__(self) -> None:
        _common(self.partitions, self.members, self.records, self.processing_delay_ms, self.max_poll_records)
        for name in ("release_fraction", "reject_fraction"):
            v = getattr(self, name)
            require(_number(v) and 0 <= v <= 0.5, f"{name}={v!r} is out of range.", "Use 0 to 0.5.")
        require(self.release_fraction + self.reject_fraction <= 0.5,
                f"release {self.release_fraction} + reject {self.reject_fraction} fail more than half the records.",
                "Keep the two fractions at 0.5 or less together.")
        require(isinstance(self.poison, bool), f"poison={self.poison!r} is not true or false.", "Use true or false.")
        require(is_whole(self.delivery_count_limit)
                and MIN_DELIVERY_LIMIT <= self.delivery_count_limit <= MAX_DELIVERY_LIMIT,
                f"delivery count limit {self.delivery_count_limit!r} is out of range.",
                f"Use {MIN_DELIVERY_LIMIT} to {MAX_DELIVERY_LIMIT} (the broker's allowed range on a lab cluster).")
        _lock(self.lock_duration_ms)

    @property
    def poison_seq(self) -> int | None:
        """The poison record's sequence number (the middle of the run), or None without one."""
        return self.records // 2 if self.poison else None


def fate(seq: int, s: ShareAcksSettings) -> Fate:
    """What processing does with record ``seq`` (deterministic: a run can be checked against it)."""
    if seq == s.poison_seq:
        return Fate.POISON
    slot = seq * SPREAD % 1000
    if slot < s.reject_fraction * 1000:
        return Fate.REJECT
    if slot < (s.reject_fraction + s.release_fraction) * 1000:
        return Fate.RELEASE_ONCE
    return Fate.ACCEPT


def outcome(f: Fate, delivery_count: int) -> str:
    """The acknowledgement for a record of fate ``f`` on its ``delivery_count``-th delivery:
    "accept", "release" or "reject" (the names of ``AcknowledgeType``, lower case)."""
    if f is Fate.POISON or (f is Fate.RELEASE_ONCE and delivery_count <= 1):
        return "release"
    return "reject" if f is Fate.REJECT else "accept"


#: How the crash experiment's member fails: killed (SIGKILL: its connections close) or frozen (SIGSTOP: hung,
#: its connections stay open).
FAILURES = ("kill", "freeze")


@dataclass(frozen=True)
class ShareCrashSettings:
    """A member fails in the middle of a record it acquired; the others get its records again."""

    partitions: int = 2
    #: members that keep running (the killed one comes on top)
    members: int = 2
    records: int = 100
    processing_delay_ms: float = 10.0
    max_poll_records: int = 10
    #: the group's ``share.record.lock.duration.ms``
    lock_duration_ms: int = 3_000
    #: "kill" or "freeze" (see ``FAILURES``)
    failure: str = "kill"

    def __post_init__(self) -> None:
        _common(self.partitions, self.members, self.records, self.processing_delay_ms, self.max_poll_records)
        _lock(self.lock_duration_ms)
        require(self.failure in FAILURES, f"failure={self.failure!r} is not known.",
                f"Use one of: {', '.join(FAILURES)}.")


__all__ = ["FAILURES", "KAFKA_DEFAULT_DELIVERY_LIMIT", "KAFKA_DEFAULT_LOCK_MS", "MAX_DELIVERY_LIMIT", "MAX_LOCK_MS",
           "MIN_DELIVERY_LIMIT", "MIN_LOCK_MS", "Fate", "ShareAcksSettings", "ShareCompareSettings",
           "ShareCrashSettings", "fate", "outcome"]
