"""The send loops of a produce run: flat out (the hot loop), and paced (a target rate, keys or end-to-end
headers). Both keep their counters in locals and write them back to the run's state (``lab.producer.run``)
before it samples or decides to stop; neither waits by spinning.
"""

from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING

from confluent_kafka import KafkaException, Producer

from lab.kafka.e2e import E2E_HEADER

if TYPE_CHECKING:
    from lab.producer.run import _RunState

#: In the unthrottled loop, look at the clock (samples, cancel, duration) once per this many sends ...
CHECK_EVERY = 256
#: ... or once per this many bytes of values, if fewer: a cancel is seen within milliseconds at any size.
CHECK_EVERY_BYTES = 1024 * 1024
#: How long produce() waits for room when the local queue is full (serving delivery reports meanwhile).
QUEUE_FULL_POLL_S = 0.005
#: Longest wait for a paced message's send slot in one poll (delivery reports are served meanwhile).
PACE_POLL_S = 0.05
#: The shortest wait ``Producer.poll`` can do (it takes whole milliseconds); a shorter one is a real sleep.
MIN_POLL_S = 0.001


def send_flat_out(state: _RunState, producer: Producer, payloads: list[bytes]) -> None:
    """The hot loop: as fast as the producer takes messages, no keys, no rate. Everything per message is a
    local; the clock (samples, duration, cancel) is looked at once per ``CHECK_EVERY`` sends (fewer for
    large messages: once per ``CHECK_EVERY_BYTES``)."""
    produce, poll, topic, ctx = producer.produce, producer.poll, state.topic, state.ctx
    mask = len(payloads) - 1
    check_every = max(1, min(CHECK_EVERY, CHECK_EVERY_BYTES // state.settings.message_size))
    limit = state.settings.count if state.settings.count is not None else 2**62
    sent = produce_errors = queue_full = 0
    try:
        while sent < limit:
            try:
                produce(topic, payloads[sent & mask])
            except BufferError:
                # the local queue is full: serve delivery reports, but stay cancellable (a dead
                # cluster keeps the queue full until delivery_timeout_ms)
                queue_full += 1
                poll(QUEUE_FULL_POLL_S)
                if ctx.cancelled:
                    state.stopped = ctx.stopped_text()
                    break
                if time.perf_counter() >= state.end_at:
                    break
                continue
            except KafkaException as exc:
                produce_errors += 1
                state.rec.produce_failed(exc)
            sent += 1
            poll(0)
            if sent % check_every == 0:
                state.sent, state.produce_errors, state.queue_full = sent, produce_errors, queue_full
                if state.tick(time.perf_counter()):
                    break
    finally:
        state.sent, state.produce_errors, state.queue_full = sent, produce_errors, queue_full


def send_paced(state: _RunState, producer: Producer, payloads: list[bytes], e2e: bool) -> None:
    """At a target rate, and/or with keys or end-to-end headers: the clock is read per message (a paced
    message waits for its slot), and the tick only runs when a sample, the end or a cancel is due."""
    s, ctx, rec, topic = state.settings, state.ctx, state.rec, state.topic
    produce, poll, perf_counter, pack, sleep = (producer.produce, producer.poll, time.perf_counter, struct.pack,
                                                time.sleep)
    mask, spread, t0 = len(payloads) - 1, s.key_spread, state.t0
    interval = 1.0 / s.rate if s.rate else 0.0
    limit = s.count if s.count is not None else 2**62
    sent = produce_errors = queue_full = key_size = 0
    next_sample, end_at = state.next_sample, state.end_at
    try:
        while sent < limit:
            now = perf_counter()
            if now >= next_sample or now >= end_at or ctx.cancelled:
                state.sent, state.produce_errors, state.queue_full, state.key_size = (sent, produce_errors,
                                                                                      queue_full, key_size)
                if state.tick(now):
                    break
                next_sample = state.next_sample
            intended = t0 + sent * interval
            if interval and now < intended:
                wait = intended - now
                if wait >= MIN_POLL_S:
                    poll(min(wait, PACE_POLL_S))  # serve delivery reports while waiting for the slot
                else:  # poll() counts whole milliseconds: a shorter wait would be poll(0), a spinning loop
                    sleep(wait)
                continue
            key = b"key-%d" % (sent % spread) if spread else None
            key_size = len(key) if key else 0
            headers: list[tuple[str, str | bytes | None]] | None = (
                [(E2E_HEADER, pack(">q", time.perf_counter_ns()))] if e2e else None)
            try:
                produce(topic, payloads[sent & mask], key, headers=headers,
                        on_delivery=rec.intended_cb(now - intended) if interval else rec.on_delivery)
            except BufferError:
                queue_full += 1
                poll(QUEUE_FULL_POLL_S)
                continue
            except KafkaException as exc:
                produce_errors += 1
                rec.produce_failed(exc)
            sent += 1
            poll(0)
    finally:
        state.sent, state.produce_errors, state.queue_full, state.key_size = sent, produce_errors, queue_full, key_size


__all__ = ["send_flat_out", "send_paced"]
