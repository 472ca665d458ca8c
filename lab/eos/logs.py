"""Reading a transactional topic both ways: end offsets (HW and LSO) and every record under either
isolation level.

- ``end_offsets``: per partition, the high watermark (``READ_UNCOMMITTED``) or the last stable offset
  (``READ_COMMITTED``: the first offset of the oldest open transaction, or the HW when none is open),
  from ``AdminClient.list_offsets``.
- ``read_all``: every data record of the partitions, in offset order, as a consumer with that isolation
  level sees them. Control markers (commit/abort) take an offset each but are never handed to the
  application; a ``read_committed`` consumer also skips aborted records and stops at the LSO.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import IsolationLevel, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.errors import KafkaOperationError
from lab.eos import sequence

#: Bound of one list_offsets request.
OFFSETS_TIMEOUT_S = 10.0
#: Bound of reading a topic back.
READ_TIMEOUT_S = 30.0
#: isolation level name (as librdkafka's ``isolation.level``) -> the admin API's enum
ISOLATION = {"read_committed": IsolationLevel.READ_COMMITTED, "read_uncommitted": IsolationLevel.READ_UNCOMMITTED}


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    #: the sequence number in its value (-1 for a value the lab did not write)
    seq: int


def end_offsets(adm: AdminClient, topic: str, partitions: int, isolation: str) -> dict[int, int]:
    """The HW (``read_uncommitted``) or LSO (``read_committed``) of each partition."""
    req = {TopicPartition(topic, p): OffsetSpec.latest() for p in range(partitions)}  # type: ignore[no-untyped-call]
    try:
        futs = adm.list_offsets(req, isolation_level=ISOLATION[isolation], request_timeout=OFFSETS_TIMEOUT_S)
        return {tp.partition: int(f.result(timeout=OFFSETS_TIMEOUT_S + 5).offset) for tp, f in futs.items()}
    except KafkaException as exc:
        raise KafkaOperationError(f"Listing the {isolation} end offsets of {topic} failed: {exc}") from exc


def read_all(cluster: Cluster, topic: str, partitions: int, isolation: str,
             timeout_s: float = READ_TIMEOUT_S) -> list[Record]:
    """Every data record of ``topic``'s partitions from the start, as an ``isolation`` consumer sees them."""
    cons = clients.consumer(cluster, {"group.id": f"lab-eos-read-{uuid.uuid4().hex[:8]}",
                                      "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                      "enable.partition.eof": True, "isolation.level": isolation})
    out: list[Record] = []
    try:
        cons.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        left = set(range(partitions))
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            msg = cons.poll(0.5)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    left.discard(msg.partition() or 0)
                continue
            n = sequence.decode(msg.value())
            out.append(Record(msg.partition() or 0, msg.offset() or 0, -1 if n is None else n))
        if left:
            raise KafkaOperationError(f"Reading {topic} ({isolation}) did not reach the end of partition(s) "
                                      f"{sorted(left)} within {timeout_s:.0f} s (got {len(out)} records).")
        return out
    finally:
        cons.close()
