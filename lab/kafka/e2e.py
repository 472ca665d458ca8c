"""End-to-end latency: a consumer reading a run's topic on a thread of this process, timing each record
from the send time its producer put in a header to the moment it was consumed, on the same clock
(``time.perf_counter_ns``)."""

from __future__ import annotations

import struct
import threading
import time
import uuid
from array import array

from confluent_kafka import OFFSET_BEGINNING, KafkaException, TopicPartition

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext

#: Header carrying the send time (``time.perf_counter_ns()``, 8 bytes big-endian).
E2E_HEADER = "lab-sent-ns"
#: Consumer fetch wait: small, so the measured latency is the pipeline's, not the broker holding a fetch
#: open (librdkafka's default is 500 ms).
E2E_FETCH_WAIT_MS = 10
#: How often ``wait_for`` looks at the consumer thread's count.
WAIT_EVERY_S = 0.05


class E2EConsumer:
    """Reads every partition of ``topic`` from the beginning on a thread; ``latencies`` (seconds) grows as
    records with the send-time header arrive. Owned with ``with`` (or ``start``/``stop``)."""

    def __init__(self, cluster: Cluster, topic: str, partitions: int) -> None:
        self.latencies = array("d")
        self.consumed = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._consumer = clients.consumer(cluster, {
            "group.id": f"lab-e2e-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
            "fetch.wait.max.ms": E2E_FETCH_WAIT_MS,
        })
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        self._thread = threading.Thread(target=self._main, name="lab-e2e-consumer", daemon=True)

    def __enter__(self) -> E2EConsumer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> E2EConsumer:
        self._thread.start()
        return self

    def _main(self) -> None:
        try:
            while not self._stop.is_set():
                for msg in self._consumer.consume(num_messages=1000, timeout=0.1):
                    now = time.perf_counter_ns()
                    if msg.error() is not None:
                        continue
                    for header in msg.headers() or ():
                        k, v = header[0], header[1]
                        if k == E2E_HEADER and isinstance(v, bytes):
                            self.latencies.append((now - int(struct.unpack(">q", v)[0])) / 1e9)
                    self.consumed += 1
        except KafkaException as exc:
            self.error = str(exc)

    def wait_for(self, count: int, timeout_s: float, ctx: RunContext) -> bool:
        """Wait until ``count`` records were consumed, the thread died, ``timeout_s`` passed or ``ctx`` was
        cancelled or ran out of time (a stopped run reports what was consumed by then); True if the count
        was reached."""
        deadline = time.monotonic() + timeout_s
        while self.consumed < count and self._thread.is_alive():
            left = deadline - time.monotonic()
            # waiting on another thread's progress: wakes at once on cancel
            if left <= 0 or ctx.wait(min(WAIT_EVERY_S, left)):
                break
        return self.consumed >= count

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._consumer.close()


__all__ = ["E2E_FETCH_WAIT_MS", "E2E_HEADER", "E2EConsumer"]
