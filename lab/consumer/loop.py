"""The consume loop of the fetch benchmark, shared by the in-process consumer (``lab.consumer.fetch``) and
each member process of an N-process run (``lab.consumer.members``): one loop, so one member measures what
one in-process consumer measures."""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass

from confluent_kafka import Consumer, Message

from lab.consumer.settings import ConsumerSettings
from lab.consumer.stats import CONSUMER_STATS_INTERVAL_MS, FetchStatsRecorder
from lab.core.context import RunContext, poll_until
from lab.core.stats import mb

#: Messages handed over per ``consume()`` call: large enough that the harness costs little per message.
CONSUME_BATCH = 10_000
#: One ``consume()`` waits at most this long, so cancel, duration and samples are looked at often.
CONSUME_TIMEOUT_S = 0.1
#: Throughput sample interval.
SAMPLE_S = 0.5

#: Backlog mode: stop when nothing arrived for this long (the topic holds less than asked for).
IDLE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ConsumeSample:
    """Messages consumed in the interval ending ``t_s`` seconds after the run started."""

    t_s: float
    msgs: int
    msgs_per_s: float
    mb_per_s: float


@dataclass(frozen=True)
class BenchProgress:
    label: str
    consumed: int
    target: int | None
    samples: tuple[ConsumeSample, ...]
    #: an N-process run: each member's samples, by label, on the same time axis (empty: one consumer)
    members: tuple[tuple[str, tuple[ConsumeSample, ...]], ...] = ()


class Tally:
    """What the consume loop counted, and the throughput samples, on the run's clock."""

    def __init__(self, t0: float, start: float | None = None) -> None:
        """``t0``: the run's clock; ``start``: where the first interval begins (default ``t0``)."""
        self.t0 = t0
        self.n = 0
        self.nbytes = 0
        self.first: float | None = None
        self.last: float | None = None
        self.latencies = array("d")
        self.errors: dict[str, int] = {}
        self.samples: list[ConsumeSample] = []
        self._mark_t, self._mark_n, self._mark_b = (t0 if start is None else start), 0, 0

    def sample(self, now: float, force: bool = False) -> None:
        dt = now - self._mark_t
        if dt >= SAMPLE_S or (force and dt > 0):
            dn, db = self.n - self._mark_n, self.nbytes - self._mark_b
            self.samples.append(ConsumeSample(round(now - self.t0, 3), dn, dn / dt, mb(db) / dt))
            self._mark_t, self._mark_n, self._mark_b = now, self.n, self.nbytes


def consume_loop(consumer: Consumer, s: ConsumerSettings, ctx: RunContext, tally: Tally, target: int | None,
                 end_at: float | None, live: bool, label: str, early: list[Message] | None = None,
                 after_first_s: float | None = None) -> None:
    """The loop: consume until ``target`` messages, ``end_at`` (monotonic), ``after_first_s`` past the first
    message, idle too long, or cancel. ``early`` are messages polled before the loop (while joining): counted
    first."""
    delay = s.processing_delay_ms / 1000.0
    idle_since = reported = start = time.monotonic()

    def progress(now: float) -> None:
        nonlocal reported
        if now - reported >= SAMPLE_S:
            reported = now
            by_time = (now - start) / (end_at - start) if end_at is not None and end_at > start else 0.0
            by_count = tally.n / target if target else 0.0
            ctx.report(min(1.0, max(by_time, by_count)) if target or end_at else None, f"{tally.n:,} consumed",
                       BenchProgress(label, tally.n, target, tuple(tally.samples)))

    def over(now: float) -> bool:
        return (target is not None and tally.n >= target) or (end_at is not None and now >= end_at)

    while not ctx.cancelled:
        msgs = early or next_batch(consumer, live)
        early = None
        now = time.monotonic()
        if msgs:
            idle_since = now
            wall_ms = time.time() * 1000.0
            if tally.first is None:
                tally.first = now
            if end_at is None and after_first_s is not None:
                start, end_at = tally.first, tally.first + after_first_s
            if not live and not delay:
                count_batch(tally, msgs)
                msgs = []  # counted: the general loop below is for live mode and processing delays
            for m in msgs:
                err = m.error()
                if err is not None:
                    name = err.name()
                    tally.errors[name] = tally.errors.get(name, 0) + 1
                    continue
                size = len(m)
                if live:
                    if size == 0:
                        continue  # the fresh topic's primer records
                    tally.latencies.append(wall_ms - m.timestamp()[1])
                tally.n += 1
                tally.nbytes += size
                if delay:  # simulated work per message, on the run's clock; a long batch still reports and stops
                    if ctx.wait(delay):
                        break
                    t = tally.last = time.monotonic()
                    tally.sample(t)
                    progress(t)
                    if over(t):
                        break
            tally.last = time.monotonic()
        tally.sample(now)
        if over(now):
            break
        if not live and now - idle_since > IDLE_TIMEOUT_S:
            tally.errors["IDLE_TIMEOUT"] = tally.errors.get("IDLE_TIMEOUT", 0) + 1
            break
        progress(now)


def count_batch(tally: Tally, msgs: list[Message]) -> None:
    """The backlog's fast path: count a batch with as little Python per message as a bare loop."""
    good = [m for m in msgs if m.error() is None]
    if len(good) != len(msgs):
        for m in msgs:
            err = m.error()
            if err is not None:
                tally.errors[err.name()] = tally.errors.get(err.name(), 0) + 1
    tally.n += len(good)
    tally.nbytes += sum(map(len, good))


def last_window(consumer: Consumer, rec: FetchStatsRecorder) -> None:
    """Pause fetching and serve callbacks until one more statistics window arrives (bounded), so the last
    fetches are counted. Messages polled meanwhile are past the run's end and not counted."""
    seen = len(rec.points)
    consumer.pause(consumer.assignment())

    def arrived() -> bool:
        consumer.poll(0)  # serves stats_cb
        return len(rec.points) > seen

    poll_until(arrived, 4 * CONSUMER_STATS_INTERVAL_MS / 1000, every_s=0.05)


def next_batch(consumer: Consumer, live: bool) -> list[Message]:
    """The next messages. Backlog: up to ``CONSUME_BATCH`` at once. Live: back as soon as one message is
    there (``consume(n, timeout)`` would hold the first until n arrived or the timeout passed, and that
    wait would count as latency), plus whatever else is already queued."""
    if not live:
        return consumer.consume(CONSUME_BATCH, CONSUME_TIMEOUT_S)
    first = consumer.poll(CONSUME_TIMEOUT_S)
    return [] if first is None else [first, *consumer.consume(CONSUME_BATCH, 0)]


__all__ = ["CONSUME_BATCH", "CONSUME_TIMEOUT_S", "IDLE_TIMEOUT_S", "SAMPLE_S", "BenchProgress", "ConsumeSample",
           "Tally", "consume_loop", "count_batch", "last_window", "next_batch"]
