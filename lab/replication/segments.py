"""A partition on disk (local backend): its segment files as they roll, and log compaction keeping only
the latest value per key.

Each partition is a directory ``<log.dirs>/<topic>-<partition>/`` of segments named by their first
offset: ``00000000000000001234.log`` (the records), ``.index`` (offset -> file position, sparse) and
``.timeindex`` (timestamp -> offset, sparse). The active (last) segment's two index files are
preallocated to ``segment.index.bytes`` (10 MiB by default, sparse on disk) and trimmed when it rolls,
which is why the newest ``.index`` looks large here.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, Producer

from lab.cluster.base import Cluster
from lab.core.errors import Cancelled, KafkaOperationError, LabError, SettingsError
from lab.core.results import Result
from lab.kafka import admin as lab_admin
from lab.kafka import load
from lab.replication.settings import MIN_SEGMENT_BYTES_4X, StorageSettings

if TYPE_CHECKING:
    import pandas as pd

    from lab.core.context import RunContext

#: ``<20-digit base offset>.<kind>`` — the segment file naming Kafka uses.
SEGMENT_RE = re.compile(r"^(\d{20})\.(log|index|timeindex|snapshot|txnindex)(\.deleted|\.cleaned|\.swap)?$")
#: The compaction demo's segments roll by time (``segment.ms``), not size: the smallest size Kafka 4.x allows
#: (1 MiB) would hold every update in the active segment, which the cleaner never touches.
COMPACT_SEGMENT_BYTES = MIN_SEGMENT_BYTES_4X
COMPACT_SEGMENT_MS = 100
#: Roll writes tried until broker 1's copy shows a closed segment (one is enough as a rule).
ROLL_ATTEMPTS = 5
#: The producer's batch.size cap: a record batch must fit inside one segment (else RECORD_LIST_TOO_LARGE).
MAX_BATCH_BYTES = 65536
#: Compaction is held back (min.compaction.lag.ms) while the "before" count is read, so it is exact.
HOLD_COMPACTION_MS = 3_600_000
#: How often the compaction wait re-reads the topic (the lab's brokers run the cleaner every 2 s).
COMPACTION_POLL_S = 2.0
#: How long the writes may take to be acknowledged before the scenario reports them as failed.
FLUSH_TIMEOUT_S = 30.0
#: How long a write waits for deliveries to make room when the producer's local queue is full.
QUEUE_FULL_WAIT_S = 0.1


@dataclass(frozen=True)
class SegmentFile:
    name: str
    base_offset: int
    kind: str  # log, index, timeindex, snapshot, txnindex
    size_bytes: int
    #: Bytes actually on disk (the active segment's index files are sparse, preallocated).
    disk_bytes: int


def parse_segment_name(name: str) -> tuple[int, str] | None:
    """``"00000000000000001234.log"`` -> ``(1234, "log")``; None for files that are not segment files."""
    m = SEGMENT_RE.match(name)
    if m is None or m.group(3):
        return None
    return int(m.group(1)), m.group(2)


def partition_dir(cluster: Cluster, node: int, topic: str, partition: int) -> Path:
    base = cluster.log_dir(node)
    if base is None:
        raise LabError(f"The {cluster.backend} backend does not let the lab read the brokers' data directories.",
                       hint="Segment files can be shown for the local backend (`kafka-lab cluster up`).")
    return base / f"{topic}-{partition}"


def list_segments(directory: Path) -> tuple[SegmentFile, ...]:
    """Segment files in one partition directory, by base offset then kind."""
    out = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            parsed = parse_segment_name(entry.name)
            if parsed is None:
                continue
            with contextlib.suppress(FileNotFoundError):  # the cleaner may delete it meanwhile
                st = entry.stat()
                out.append(SegmentFile(entry.name, parsed[0], parsed[1], st.st_size, st.st_blocks * 512))
    return tuple(sorted(out, key=lambda f: (f.base_offset, f.kind)))


@dataclass(frozen=True)
class SegmentSnapshot:
    t: float
    messages_written: int
    files: tuple[SegmentFile, ...]

    @property
    def log_segments(self) -> int:
        return sum(1 for f in self.files if f.kind == "log")


@dataclass(frozen=True)
class CompactionOutcome:
    topic: str
    keys: int
    produced: int
    #: Records read back right after writing, and after the cleaner ran.
    before: int
    after: int
    distinct_keys_after: int
    #: True when, for every key, the value read last is the one written last.
    latest_values_kept: bool
    waited_s: float
    segments_before: tuple[SegmentFile, ...]
    segments_after: tuple[SegmentFile, ...]


@dataclass(frozen=True)
class StorageResult(Result):
    settings: StorageSettings
    node: int
    directory: str
    snapshots: tuple[SegmentSnapshot, ...]
    #: None when the run was stopped before the compaction part.
    compaction: CompactionOutcome | None

    def segments_frame(self) -> pd.DataFrame:
        """One row per file per snapshot: for a stacked bar of segment sizes as they roll."""
        import pandas as pd

        rows = [{"t": s.t, "messages_written": s.messages_written, "file": f.name, "base_offset": f.base_offset,
                 "kind": f.kind, "size_bytes": f.size_bytes, "disk_bytes": f.disk_bytes}
                for s in self.snapshots for f in s.files]
        return pd.DataFrame(rows, columns=["t", "messages_written", "file", "base_offset", "kind", "size_bytes",
                                           "disk_bytes"])


def read_keyed(cluster: Cluster, topic: str, partition: int = 0, timeout_s: float = 30.0) -> list[tuple[str, str]]:
    """Every (key, value) in the partition, in offset order, from the log start to the end."""
    return [((m.key() or b"").decode(), (m.value() or b"").decode())
            for m in lab_admin.read_partition(cluster, topic, partition, timeout_s)]


def latest_per_key(records: list[tuple[str, str]]) -> dict[str, str]:
    """What a compacted topic promises to keep: the last value of each key."""
    out: dict[str, str] = {}
    for k, v in records:
        out[k] = v
    return out


class _Writer:
    """The storage scenario's writes to partition 0: ``flush`` raises if any write failed."""

    def __init__(self, producer: Producer) -> None:
        self.producer = producer
        self.failures: list[str] = []

    def _on_delivery(self, err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            self.failures.append(err.name())

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, partition=0, on_delivery=self._on_delivery)
                break
            except BufferError:  # the local queue is full: let deliveries drain it, then send again
                self.producer.poll(QUEUE_FULL_WAIT_S)
        self.producer.poll(0)

    def flush(self, topic: str) -> None:
        left = self.producer.flush(FLUSH_TIMEOUT_S)
        if left or self.failures:
            raise KafkaOperationError(f"Writing to {topic} failed: {len(self.failures)} error(s) "
                                      f"({', '.join(sorted(set(self.failures)))}), {left} not delivered in "
                                      f"{FLUSH_TIMEOUT_S:.0f} s.")


def _roll_segments(s: StorageSettings, w: _Writer, directory: Path, snaps: list[SegmentSnapshot],
                   ctx: RunContext) -> None:
    """Write ``s.messages`` in ``s.bursts`` bursts; after each, list the partition's files (into ``snaps``)."""
    t0 = time.monotonic()
    snaps.append(SegmentSnapshot(0.0, 0, list_segments(directory)))
    payload = b"x" * s.message_bytes
    written = 0
    per_burst = max(1, s.messages // s.bursts)
    for b in range(s.bursts):
        ctx.check()
        n = per_burst if b < s.bursts - 1 else s.messages - written
        for _ in range(n):
            w.send(s.topic, payload)
        w.flush(s.topic)
        written += n
        snaps.append(SegmentSnapshot(round(time.monotonic() - t0, 3), written, list_segments(directory)))
        ctx.report((b + 1) / (s.bursts + 2), f"wrote {written} messages: {snaps[-1].log_segments} segment(s)")


def _compact(cluster: Cluster, s: StorageSettings, w: _Writer, ctx: RunContext) -> tuple[CompactionOutcome, bool]:
    """Many updates of a few keys, counted before and after the log cleaner ran; True when a cancel cut the
    wait for the cleaner short (the outcome then holds the last count read)."""
    lab_admin.recreate_topic(cluster, s.compact_topic, [[1, 2, 3]], {
        "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "segment.ms": str(COMPACT_SEGMENT_MS),
        "segment.bytes": str(COMPACT_SEGMENT_BYTES), "delete.retention.ms": "1000",
        # held back until the "before" count is taken; then set to 0 so the cleaner may start
        "min.compaction.lag.ms": str(HOLD_COMPACTION_MS),
    }, ctx)
    cdir = partition_dir(cluster, 1, s.compact_topic, 0)
    expected: dict[str, str] = {}
    for j in range(s.updates_per_key):
        for i in range(s.keys):
            key, value = f"key-{i:04d}", f"key-{i:04d}=v{j}"
            w.send(s.compact_topic, value.encode(), key.encode())
            expected[key] = value
    w.flush(s.compact_topic)
    before_records = read_keyed(cluster, s.compact_topic)
    seg_before = list_segments(cdir)
    ctx.report(0.8, f"compaction: {len(before_records)} records; waiting for the log cleaner")
    lab_admin.set_topic_configs(cluster, s.compact_topic, {"min.compaction.lag.ms": "0"})
    # segment.ms is tiny, so one more write rolls the active segment and everything before it is cleanable
    for _ in range(ROLL_ATTEMPTS):  # the broker rolls on the first append segment.ms after the segment began
        w.send(s.compact_topic, b"roll", b"roll")
        w.flush(s.compact_topic)
        if sum(1 for f in list_segments(cdir) if f.kind == "log") > 1 or ctx.wait(COMPACT_SEGMENT_MS / 1000):
            break
    expected["roll"] = "roll"
    start = time.monotonic()
    after_records = before_records
    cut_short = False
    while time.monotonic() - start < s.compaction_wait_s:
        if ctx.wait(COMPACTION_POLL_S):
            cut_short = True
            break
        after_records = read_keyed(cluster, s.compact_topic)
        if len(after_records) <= len(expected) + 1:  # all duplicates gone (the active segment may keep one)
            break
        ctx.report(0.9, f"compaction: {len(after_records)} records so far")
    outcome = CompactionOutcome(
        s.compact_topic, s.keys, s.keys * s.updates_per_key, len(before_records), len(after_records),
        len({k for k, _ in after_records if k != "roll"}), latest_per_key(after_records) == expected,
        round(time.monotonic() - start, 1), seg_before, list_segments(cdir))
    return outcome, cut_short


def check_segment_bytes(cluster: Cluster, segment_bytes: int) -> None:
    """``SettingsError`` before any write when the cluster runs Kafka 4.x and the segment is under 1 MiB."""
    version = cluster.status().kafka_version or ""
    major = version.split(".")[0]
    if major.isdigit() and int(major) >= 4 and segment_bytes < MIN_SEGMENT_BYTES_4X:
        raise SettingsError(
            f"Kafka {version} refuses segment.bytes={segment_bytes}: since 4.0 a segment is at least "
            f"{MIN_SEGMENT_BYTES_4X} bytes (1 MiB).",
            hint=f"Use --segment-bytes {MIN_SEGMENT_BYTES_4X} or more (with enough messages to fill a few), or a "
                 "Kafka 3.9 cluster (`kafka-lab cluster up --version 3.9.2 --state-dir …`) for smaller segments.")


def storage(cluster: Cluster, settings: StorageSettings, ctx: RunContext) -> StorageResult:
    """Segments rolling on the leader's disk, then compaction before/after counts (local backend).

    Cancelled part-way, it returns the segment snapshots taken so far (and the compaction counts if it
    got to them) with ``stopped`` set.
    """
    s = settings
    if cluster.log_dir(1) is None:
        partition_dir(cluster, 1, s.topic, 0)  # raises the explanation
    directory = partition_dir(cluster, 1, s.topic, 0)
    check_segment_bytes(cluster, s.segment_bytes)
    # a record batch must fit inside one segment (else RECORD_LIST_TOO_LARGE): keep batches well below
    batch = max(512, min(s.segment_bytes // 2, MAX_BATCH_BYTES))
    snaps: list[SegmentSnapshot] = []
    compaction: CompactionOutcome | None = None
    stopped: str | None = None
    with load.owned_producer(cluster, {"acks": "all", "linger.ms": 5, "batch.size": batch}) as prod:
        w = _Writer(prod)
        try:
            lab_admin.recreate_topic(cluster, s.topic, [[1, 2, 3]], {"segment.bytes": str(s.segment_bytes)}, ctx)
            _roll_segments(s, w, directory, snaps, ctx)
            compaction, cut_short = _compact(cluster, s, w, ctx)
            if cut_short:
                stopped = ctx.stopped_text()
        except Cancelled:
            stopped = ctx.stopped_text()
    return StorageResult(s, 1, str(directory), tuple(snaps), compaction, stopped=stopped)


def parse_leader_epoch_checkpoint(text: str) -> list[tuple[int, int]]:
    """The ``leader-epoch-checkpoint`` file of a partition: ``[(epoch, start offset), ...]``.

    Format: a version line (0), a count line, then one ``"<epoch> <start offset>"`` line per entry.
    Each entry says from which offset on the records were written under that leader epoch; a follower
    uses it after a leader change to find where its log and the new leader's diverge.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2 or lines[0] != "0" or not lines[1].isdigit():
        raise ValueError("not a leader-epoch-checkpoint file (expected version 0 and an entry count)")
    out = []
    for ln in lines[2:2 + int(lines[1])]:
        epoch, offset = ln.split()
        out.append((int(epoch), int(offset)))
    return out


def leader_epochs(cluster: Cluster, node: int, topic: str, partition: int) -> list[tuple[int, int]] | None:
    """The epoch history a broker keeps for its replica (local backend); None when it cannot be read."""
    path = partition_dir(cluster, node, topic, partition) / "leader-epoch-checkpoint"
    try:
        return parse_leader_epoch_checkpoint(path.read_text())
    except (OSError, ValueError):
        return None
