"""What librdkafka's statistics say about an idempotent or transactional producer.

The statistics JSON (``statistics.interval.ms`` / ``stats_cb``) has an ``eos`` section for a producer
with ``enable.idempotence`` or a ``transactional.id``: the producer id (PID) and epoch the transaction
coordinator (or any broker, for plain idempotence) assigned, and the idempotence and transaction
states. Per broker it also counts requests that timed out on the client (``req_timeouts``) and
``req_timeouts``: the trace of a fault in the client. ``ClientTrace`` keeps the latest
of each; it is a ``stats_cb`` and runs on the thread that polls the producer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

#: Statistics window for the lab's producers: often enough to see the PID soon after init and to put the
#: retries of a 2-3 s fault into the right second.
EOS_STATS_INTERVAL_MS = 200


@dataclass(frozen=True)
class ProducerIdentity:
    """The PID and epoch a producer holds (-1 when it has none yet), and its states as librdkafka names them."""

    producer_id: int = -1
    producer_epoch: int = -1
    idemp_state: str = ""
    txn_state: str = ""


def identity(stats: dict[str, Any]) -> ProducerIdentity | None:
    """The ``eos`` section of one statistics document, or None when it has none (a plain producer)."""
    eos = stats.get("eos")
    if not isinstance(eos, dict):
        return None
    return ProducerIdentity(int(eos.get("producer_id", -1)), int(eos.get("producer_epoch", -1)),
                            str(eos.get("idemp_state", "")), str(eos.get("txn_state", "")))


def request_timeouts(stats: dict[str, Any]) -> int:
    """Requests that timed out on the client so far (``socket.timeout.ms``), summed over the brokers. Each
    one makes librdkafka drop the connection and send the requests' batches again (retries on)."""
    return sum(int(b.get("req_timeouts", 0)) for b in stats.get("brokers", {}).values())


class ClientTrace:
    """The latest identity and fault counters of one producer; pass ``on_stats`` as its ``stats_cb``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.windows = 0
        self.identity: ProducerIdentity | None = None
        self.req_timeouts = 0
        #: (time.monotonic(), timeouts so far) per window, to place them on a timeline
        self.history: list[tuple[float, int]] = []

    def on_stats(self, raw: str) -> None:
        s = json.loads(raw)
        ident = identity(s)
        timeouts = request_timeouts(s)
        with self._lock:
            self.windows += 1
            if ident is not None:
                self.identity = ident
            self.req_timeouts = timeouts
            self.history.append((time.monotonic(), timeouts))

    def per_second(self, t0: float, seconds: int) -> list[int]:
        """Request timeouts seen in each second ``0..seconds-1`` after ``t0``."""
        with self._lock:
            hist = list(self.history)
        out: list[int] = []
        prev = 0
        for sec in range(seconds):
            upto = [h for h in hist if h[0] - t0 < sec + 1]
            cur = upto[-1][1] if upto else prev
            out.append(cur - prev)
            prev = cur
        return out

    def config(self) -> dict[str, Any]:
        """The producer settings that make librdkafka call this trace."""
        return {"statistics.interval.ms": EOS_STATS_INTERVAL_MS, "stats_cb": self.on_stats}
