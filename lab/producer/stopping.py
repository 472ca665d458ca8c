"""How a produce run ends: waiting for the last acknowledgements, and the bounded stop after a cancel.

A run that finishes its count or duration waits for every acknowledgement (within its time limit). A
cancelled one must give its partial result back at once, whatever the message size: what is still queued
was never sent, so it is purged (reported as *not sent*, never as a failed delivery); what is in flight
gets what is left of ``CANCEL_FLUSH_S`` after the press to be acknowledged; then it is purged too.
Without this a large-message run spent seconds flushing a queue of hundreds of megabytes, and counted
every purged message as a failure.
"""

from __future__ import annotations

import time
from typing import Protocol

from confluent_kafka import KafkaError, Producer

from lab.core.context import RunContext

#: A cancel's clean-up on the producer (purge, the in-flight messages' last acknowledgements, purge again)
#: ends this long after the press; the result then needs a few hundred ms more (the topic's count, deleting
#: it, the run store) to be back within 2 s.
CANCEL_FLUSH_S = 1.0
#: After the last purge its delivery reports are already queued: serving them takes milliseconds.
PURGE_REPORTS_S = 0.25
#: One flush slice while waiting for the last acknowledgements (samples and cancel are looked at between).
DRAIN_FLUSH_S = 0.05
#: Delivery-report errors of messages a purge took back: not sent (or no longer waited for), not failed.
PURGED = frozenset({KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT})


class Draining(Protocol):
    """What the stop needs of a run's state (``lab.producer.run._RunState``)."""

    ctx: RunContext
    stopped: str | None
    next_sample: float

    def outstanding(self) -> int: ...

    def sample(self, now: float, *, final: bool = False) -> None: ...


def drain(state: Draining, producer: Producer) -> None:
    """Wait for the acknowledgements: until the time limit for a run that ended by itself; after a cancel
    (before or during the wait) the bounded ``cut_short``."""
    ctx = state.ctx
    end = time.monotonic() + ctx.remaining_s()
    while state.stopped is None and state.outstanding() > 0 and time.monotonic() < end:
        producer.flush(DRAIN_FLUSH_S)  # unlike poll, flush sends lingering batches at once (as Java's close does)
        _sample_if_due(state)
        if ctx.cancelled:
            state.stopped = ctx.stopped_text()
    if state.stopped is not None and ctx.cancelled:
        cut_short(state, producer)


def cut_short(state: Draining, producer: Producer) -> None:
    """After a cancel: purge what was never sent, give the in-flight messages until ``CANCEL_FLUSH_S``
    after the press, purge what is still unanswered and serve the purge reports."""
    if state.outstanding() <= 0:
        return
    producer.purge(in_queue=True, in_flight=False)  # queued, never sent: nothing to wait for
    pressed = state.ctx.cancelled_at
    deadline = (time.monotonic() if pressed is None else pressed) + CANCEL_FLUSH_S
    while state.outstanding() > 0 and (left := deadline - time.monotonic()) > 0:
        producer.flush(min(DRAIN_FLUSH_S, left))
        _sample_if_due(state)
    if state.outstanding() <= 0:
        return
    # librdkafka voids the brokers' answers to these: they may be written, but no ack will say so
    producer.purge(in_queue=True, in_flight=True)
    end = time.monotonic() + PURGE_REPORTS_S
    while state.outstanding() > 0 and time.monotonic() < end:
        producer.poll(DRAIN_FLUSH_S / 5)


def _sample_if_due(state: Draining) -> None:
    now = time.perf_counter()
    if now >= state.next_sample:
        state.sample(now)


__all__ = ["CANCEL_FLUSH_S", "DRAIN_FLUSH_S", "PURGED", "Draining", "cut_short", "drain"]
