"""The produce experiment: how fast, how slow per message, and why — measured the Kafka way.

``run(cluster, settings, ctx)`` creates a fresh topic, produces ``settings.count`` messages (or for
``settings.duration_s`` seconds), and returns a ``ProduceResult``:

- throughput overall and per interval (messages/s, MB/s of key+value bytes),
- send->ack latency of every acknowledged message from its delivery report (``Message.latency()``,
  librdkafka's own clock from ``produce()`` to the broker's answer),
- with a target rate, a second latency measured from each message's *intended* send time, so a
  producer that stalls cannot hide its delay by sending late (coordinated omission),
- optionally produce->consume latency of a consumer reading the topic on the same clock (``lab.kafka.e2e``),
- errors by kind, and what librdkafka's statistics say about why (``lab.kafka.rdkstats``): bytes and messages
  per batch, requests per second, broker round-trip time, and the compression ratio actually achieved.

Sweeps of several runs are ``lab.producer.sweep``; the cross-check with Kafka's own perf tool is
``lab.producer.perftest``.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from confluent_kafka import KafkaError, KafkaException, Message

from lab.cluster import clients
from lab.cluster.base import Cluster
from lab.core.context import RunContext
from lab.core.results import Result
from lab.core.stats import LatencySummary, mb, percentiles, rate
from lab.core.verdict import Doubt, merge, others_running
from lab.kafka import topics
from lab.kafka.e2e import E2EConsumer
from lab.kafka.payloads import make_payloads
from lab.kafka.rdkstats import STATS_INTERVAL_MS, ClientStats, StatsAccumulator
from lab.kafka.specs import ClusterLimits
from lab.producer.sending import send_flat_out, send_paced
from lab.producer.settings import ProducerSettings, check_limits
from lab.producer.stopping import PURGED, drain
from lab.producer.verdict import produce_verdict

#: The first second of a run (connection set-up, metadata, the first batches) is its warm-up: excluded from
#: the summary figures and reported on its own (``ProduceResult.warmup``).
WARMUP_S = 1.0
#: Interval of the per-interval samples (throughput line, live chart).
SAMPLE_INTERVAL_S = 0.5
#: ... but finer during a run's first seconds, so a run that is over in a second still draws a curve.
FINE_SAMPLE_INTERVAL_S = 0.1
FINE_SAMPLING_S = 2.0
#: How long to wait for the last statistics window after the final ack.
STATS_WAIT_S = 4 * STATS_INTERVAL_MS / 1000
#: End-to-end mode: how long the consumer may trail the last ack before the run stops waiting.
E2E_DRAIN_S = 10.0


# --- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntervalSample:
    """What happened in one sampling interval ending ``t_s`` seconds after the first send."""

    t_s: float
    acked: int
    msgs_per_s: float
    mb_per_s: float
    #: send->ack latency percentiles of the messages acknowledged in this interval (NaN if none)
    p50_ms: float
    p99_ms: float
    errors: int
    #: messages handed to the producer but not yet acknowledged at the end of the interval
    in_flight: int
    #: with a target rate: how late the interval's acknowledged messages were *sent* against their schedule
    #: (actual - intended send time, ms; NaN without a rate or without an ack). Defaults: runs stored before.
    delay_p50_ms: float = math.nan
    delay_p99_ms: float = math.nan
    #: end-to-end mode: the run's messages the consumer read in this interval (None: no consumer) ...
    consumed: int | None = None
    #: ... and their send->consume latency (ms; NaN when it read none)
    e2e_avg_ms: float = math.nan
    e2e_p50_ms: float = math.nan
    e2e_p95_ms: float = math.nan
    e2e_p99_ms: float = math.nan


@dataclass(frozen=True)
class WarmupSummary:
    """The run's first ``duration_s`` seconds, left out of its summary figures."""

    duration_s: float
    delivered: int
    msgs_per_s: float
    latency: LatencySummary


@dataclass(frozen=True)
class ProduceProgress:
    """The live partial result a page draws while the run goes on."""

    topic: str
    sent: int
    delivered: int
    failed: int
    samples: tuple[IntervalSample, ...]
    label: str = ""


@dataclass(frozen=True)
class ProduceResult(Result):
    """One produce run: its settings, where it ran, what it measured (``stopped``: why it ended early, or
    None when it finished its count / duration)."""

    settings: ProducerSettings
    topic: str
    backend: str
    bootstrap_servers: str
    sent: int
    delivered: int
    #: delivery failures (the brokers or the client's timeout refused them) and produce() refusals
    failed: int
    #: still unacknowledged when the run ended (only after a cancel, time limit or a dead cluster)
    unacknowledged: int
    #: messages the run added to the topic (sum of high - low watermarks, read from the brokers, minus the
    #: ``primed`` records written before the run started)
    topic_messages: int | None
    elapsed_s: float
    msgs_per_s: float
    mb_per_s: float
    #: send->ack (service time) of every acknowledged message
    latency: LatencySummary
    #: with a target rate: intended send time -> ack (includes time the producer fell behind)
    intended_latency: LatencySummary | None
    #: end-to-end mode: send -> consumed by a consumer in this process
    e2e_latency: LatencySummary | None
    #: delivery failures by librdkafka error name
    errors: dict[str, int]
    #: client-level errors (error_cb) by name, e.g. _TRANSPORT while a broker is down
    client_errors: dict[str, int]
    #: times produce() found the local queue full and had to wait (back-pressure, not an error)
    queue_full: int
    stats: ClientStats
    samples: tuple[IntervalSample, ...]
    #: empty records written before the run (one per partition) to make sure every leader accepts writes
    primed: int = 0
    #: CPU seconds of this process (all threads, librdkafka's included) from the first send to the last ack
    cpu_s: float = 0.0
    #: the warm-up left out of msgs_per_s, mb_per_s and the latencies (None: the run ended within it, so the
    #: summary covers the whole run)
    warmup: WarmupSummary | None = None
    #: seconds the summary figures cover (elapsed_s minus the warm-up)
    measured_s: float = 0.0
    #: reasons to doubt these figures (``lab.verdict``); empty = no rule found one
    verdict: tuple[Doubt, ...] = ()
    #: messages a cancel took back (``_PURGE_QUEUE``: never sent; ``_PURGE_INFLIGHT``: sent, but their
    #: acknowledgement was no longer waited for): neither delivered nor failed.
    #: sent == delivered + failed + not_sent + unacknowledged
    not_sent: int = 0
    #: what the brokers allow (read before the run); the topic's own max.message.bytes is
    #: ``settings.topic_limit_bytes``. None: a run stored before the lab read them
    broker_limits: ClusterLimits | None = None
    #: with a target rate: how late each acknowledged message was *sent* against its schedule (actual -
    #: intended send time; OMB's "publish delay"), warm-up left out. None: no rate, or a run stored before.
    publish_delay: LatencySummary | None = None

    @property
    def complete(self) -> bool:
        return self.stopped is None and self.unacknowledged == 0 and self.not_sent == 0

    @property
    def written_but_not_acknowledged(self) -> int:
        """Messages the topic holds beyond the acknowledged ones: reported failed (e.g. timed out while a
        broker was down) yet written. An application that retries them without idempotence duplicates them."""
        return max(0, (self.topic_messages or 0) - self.delivered)

    def notes(self) -> list[str]:
        """Plain-language remarks on what the figures mean for this run."""
        out = []
        if self.not_sent:
            out.append(f"{self.not_sent:,} message(s) were not sent: the stop took them back from the producer's "
                       "queue (or stopped waiting for their acknowledgement). They are not failed deliveries.")
        if self.written_but_not_acknowledged:
            out.append(f"The topic holds {self.written_but_not_acknowledged:,} message(s) more than were acknowledged: "
                       "the producer reported them failed" + (" or not sent" if self.not_sent else "")
                       + ", yet they were written. Retrying them without idempotence would duplicate them.")
        if self.topic_messages is not None and self.topic_messages < self.delivered:
            out.append(f"{self.delivered - self.topic_messages:,} acknowledged message(s) are not in the topic"
                       + (" (acks=0 acknowledges without asking the broker)." if self.settings.acks == "0" else "."))
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> dict[str, Any]:
        """The figures a sweep table or chart needs, flat."""
        s = self.settings
        return {
            "label": s.name, "acks": s.acks, "codec": s.compression, "linger_ms": s.linger_ms,
            "batch_size": s.batch_size, "delivered": self.delivered, "failed": self.failed,
            "msgs_per_s": self.msgs_per_s, "mb_per_s": self.mb_per_s,
            "avg_ms": self.latency.avg_ms, "p50_ms": self.latency.p50_ms, "p95_ms": self.latency.p95_ms,
            "p99_ms": self.latency.p99_ms, "p999_ms": self.latency.p999_ms, "max_ms": self.latency.max_ms,
            "compression_ratio": self.stats.compression_ratio, "avg_batch_bytes": self.stats.avg_batch_bytes,
            "msgs_per_batch": self.stats.avg_msgs_per_batch, "requests_per_s": self.stats.requests_per_s,
            "rtt_ms": self.stats.broker_rtt_avg_ms, "doubts": ", ".join(d.code for d in self.verdict),
        }


def sample_interval(elapsed_s: float) -> float:
    """Seconds until the next throughput sample, ``elapsed_s`` seconds into a run."""
    return FINE_SAMPLE_INTERVAL_S if elapsed_s < FINE_SAMPLING_S else SAMPLE_INTERVAL_S


# --- the experiment -----------------------------------------------------------------------------
class _Recorder:
    """Delivery reports, statistics and client errors of one run (called on the producing thread)."""

    def __init__(self, topic: str) -> None:
        self.latencies = array("d")
        self.intended = array("d")
        #: with a target rate: actual - intended send time (s) per acknowledged message, aligned with latencies
        self.delays = array("d")
        self.failed = 0
        #: purged by a stop (``stopping.PURGED``): not counted as failed
        self.not_sent = 0
        self.errors: Counter[str] = Counter()
        self.client_errors: Counter[str] = Counter()
        self.stats = StatsAccumulator(topic)
        self.on_delivery = self._make_on_delivery()

    @property
    def delivered(self) -> int:
        """Acknowledged messages: one latency is recorded per acknowledgement."""
        return len(self.latencies)

    def _make_on_delivery(self) -> Callable[[KafkaError | None, Message], None]:
        # called once per message on the producing thread: keep it to one append (locals, no attributes)
        append = self.latencies.append
        nan = float("nan")

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                lat = msg.latency()
                append(nan if lat is None else lat)
            elif err.code() in PURGED:
                self.not_sent += 1
            else:
                self.failed += 1
                self.errors[err.name()] += 1
        return on_delivery

    def intended_cb(self, late_s: float) -> Callable[[KafkaError | None, Message], None]:
        def cb(err: KafkaError | None, msg: Message) -> None:
            self.on_delivery(err, msg)
            if err is None:
                self.intended.append(late_s + self.latencies[-1])
                self.delays.append(late_s)
        return cb

    def on_error(self, err: KafkaError) -> None:
        self.client_errors[err.name()] += 1

    def produce_failed(self, exc: KafkaException) -> None:
        """produce() itself refused a message (not a delivery report)."""
        self.errors[exc.args[0].name() if exc.args else "produce"] += 1


class _RunState:
    """What one run's loops share: counters, the clock, and the interval samples with their progress.

    The send loops keep their counters in locals (the hot loop must not touch attributes per message)
    and write them back here before each ``tick``/``sample``.
    """

    def __init__(self, settings: ProducerSettings, topic: str, ctx: RunContext, rec: _Recorder) -> None:
        self.settings, self.topic, self.ctx, self.rec = settings, topic, ctx, rec
        self.sent = 0
        self.produce_errors = 0
        self.queue_full = 0
        self.key_size = 0
        self.stopped: str | None = None
        self.samples: list[IntervalSample] = []
        #: the first send is now: built right before the send loop starts
        self.t0 = time.perf_counter()
        self.end_at = self.t0 + settings.duration_s if settings.duration_s is not None else float("inf")
        self.next_sample = self.t0 + sample_interval(0.0)
        # the previous sample (time since t0, delivered count, index into the latencies), and the one before
        self._prev = (0.0, 0, 0)
        self._before_prev = self._prev
        #: (seconds since t0, delivered, latencies recorded) when the warm-up ended; None while it lasts
        self.warm: tuple[float, int, int] | None = None
        #: end-to-end mode: the consumer, and how many of its latencies the previous two samples had seen
        self.e2e: E2EConsumer | None = None
        self._e2e_prev = self._e2e_before_prev = 0

    def outstanding(self) -> int:
        """Messages without a delivery report yet (len(producer) also counts queued events, e.g. stats)."""
        return self.sent - self.produce_errors - self.rec.delivered - self.rec.failed - self.rec.not_sent

    def tick(self, now: float) -> bool:
        """Sample when due; True when sending should stop (the duration is over, or the run was cancelled)."""
        if now >= self.next_sample:
            self.sample(now)
        if now >= self.end_at:
            return True
        if self.ctx.cancelled:
            self.stopped = self.ctx.stopped_text()
            return True
        return False

    def _delay_and_e2e(self, i_prev: int) -> dict[str, Any]:
        """The interval's send delays (paced runs) and what the end-to-end consumer read (its thread appends:
        copied by slicing, never viewed with ``np.frombuffer``, which would stop the array from growing)."""
        out: dict[str, Any] = {}
        if self.rec.delays:
            out["delay_p50_ms"], out["delay_p99_ms"] = percentiles(
                np.frombuffer(self.rec.delays, dtype=float)[i_prev:] * 1000.0, (0.5, 0.99))
        if self.e2e is not None:
            n = len(self.e2e.latencies)
            e2e = np.asarray(self.e2e.latencies[self._e2e_prev:n], dtype=float) * 1000.0
            self._e2e_prev = n
            out["consumed"] = int(e2e.size)
            out["e2e_avg_ms"] = float(e2e.mean()) if e2e.size else math.nan
            out["e2e_p50_ms"], out["e2e_p95_ms"], out["e2e_p99_ms"] = percentiles(e2e, (0.5, 0.95, 0.99))
        return out

    def sample(self, now: float, *, final: bool = False) -> None:
        """Close the interval ending ``now``: append its sample and report progress with the samples so far."""
        rec, s = self.rec, self.settings
        t_prev, d_prev, i_prev = self._prev
        dt = now - self.t0 - t_prev
        if final and self.samples and dt < sample_interval(t_prev) / 2:
            # a last sliver of interval holding the flush's acks would draw as a spike: fold it into the
            # interval before (the same messages over their real time)
            self.samples.pop()
            t_prev, d_prev, i_prev = self._prev = self._before_prev
            self._e2e_prev = self._e2e_before_prev
            dt = now - self.t0 - t_prev
        self.next_sample = now + sample_interval(now - self.t0)
        if dt <= 0:
            return
        self._before_prev, self._e2e_before_prev = self._prev, self._e2e_prev
        acked = rec.delivered - d_prev
        lat = np.frombuffer(rec.latencies, dtype=float)[i_prev:] * 1000.0
        p50, p99 = percentiles(lat, (0.5, 0.99))
        nbytes = acked * (s.message_size + self.key_size)
        self.samples.append(IntervalSample(round(now - self.t0, 3), acked, acked / dt, mb(nbytes) / dt, p50, p99,
                                           rec.failed + self.produce_errors, self.outstanding(),
                                           **self._delay_and_e2e(i_prev)))
        self._prev = (now - self.t0, rec.delivered, len(rec.latencies))
        if self.warm is None and not final and now - self.t0 >= WARMUP_S:
            self.warm = self._prev
        frac = (min(1.0, (rec.delivered + rec.failed) / s.count) if s.count
                else min(1.0, (now - self.t0) / s.duration_s) if s.duration_s else None)
        self.ctx.report(frac, f"{s.name}: {rec.delivered:,} acknowledged, {acked / dt:,.0f} msg/s",
                        ProduceProgress(self.topic, self.sent, rec.delivered, rec.failed + self.produce_errors,
                                        tuple(self.samples), s.name))


def run(cluster: Cluster, settings: ProducerSettings, ctx: RunContext, *, keep_topic: bool = False,
        topic: str | None = None) -> ProduceResult:
    """Run one produce experiment on a fresh topic; see the module docstring for what is measured.

    A cancel or the time limit stops sending (``lab.producer.stopping``: the queue is purged, messages in
    flight get a bounded moment), and the result comes back within about two seconds with ``stopped``
    set (a partial result, not an exception); unless ``keep_topic``
    the topic is deleted once counted. ``topic``: one made for it by ``topics.fresh_topics`` (as sweeps do)."""
    ctx.check()
    limits = topics.cluster_limits(cluster)
    check_limits(settings, limits)  # refuse before any topic is made
    before = others_running(ctx, cluster.lock_holder())
    if topic is None:
        ctx.report(0.0, "creating a fresh topic")
        topic = topics.fresh_topic(cluster, settings.partitions, settings.replication_factor, settings.topic_configs(),
                                   purpose="a produce experiment", ctx=ctx)
    try:
        result = _produce(cluster, settings, ctx, topic)
        others = merge(before, others_running(ctx, cluster.lock_holder()))
        return replace(result, verdict=produce_verdict(result, others), broker_limits=limits)
    finally:
        if not keep_topic:
            topics.delete_topic(cluster, topic)


def _produce(cluster: Cluster, settings: ProducerSettings, ctx: RunContext, topic: str) -> ProduceResult:
    rec = _Recorder(topic)
    cfg: dict[str, Any] = {
        **settings.to_config(),
        "statistics.interval.ms": STATS_INTERVAL_MS,
        "stats_cb": rec.stats.on_stats,
        "error_cb": rec.on_error,
    }
    flat_out = settings.rate is None and settings.key_spread == 0 and not settings.end_to_end
    if flat_out:
        cfg["on_delivery"] = rec.on_delivery  # one bound method for all: the cheapest callback path
    payloads = make_payloads(settings.payload, settings.message_size)
    producer = clients.producer(cluster, cfg)
    e2e: E2EConsumer | None = None
    try:
        if settings.end_to_end:
            e2e = E2EConsumer(cluster, topic, settings.partitions).start()
        cpu0 = time.process_time()
        state = _RunState(settings, topic, ctx, rec)
        state.e2e = e2e
        if flat_out:
            send_flat_out(state, producer, payloads)
        else:
            send_paced(state, producer, payloads, e2e is not None)
        drain(state, producer)
        t_end = time.perf_counter()
        cpu_s = time.process_time() - cpu0
        state.sample(t_end, final=True)
        unacked = state.outstanding()
        if unacked and state.stopped is None:
            state.stopped = f"{unacked} message(s) were still unacknowledged when the run's time ran out"
        # one more statistics window so the last batches are counted (poll serves the stats callback);
        # a stopped run waits at most one window
        windows = rec.stats.windows
        wait_end = time.monotonic() + (STATS_WAIT_S if state.stopped is None else STATS_INTERVAL_MS / 1000)
        while rec.stats.windows == windows and time.monotonic() < wait_end:
            producer.poll(0.05)
        if e2e is not None:  # the primed records are read too
            e2e.wait_for(rec.delivered + settings.partitions, E2E_DRAIN_S, ctx)
    finally:
        # purge whatever is still queued so close does not wait on a dead cluster
        producer.purge()
        producer.flush(0)
        if e2e is not None:
            e2e.stop()
    return _result(cluster, state, t_end - state.t0, cpu_s, unacked, e2e)


def _result(cluster: Cluster, state: _RunState, elapsed: float, cpu_s: float, unacked: int,
            e2e: E2EConsumer | None) -> ProduceResult:
    s, rec, primed = state.settings, state.rec, state.settings.partitions  # primed: one record per partition
    in_topic = topics.topic_message_count(cluster, state.topic, s.partitions, expect=rec.delivered + primed)
    lat = np.frombuffer(rec.latencies, dtype=float)
    warm = state.warm if state.warm and state.warm[1] < rec.delivered else None  # a run over by then: no cut
    warm_s, warm_d, warm_i = warm or (0.0, 0, 0)
    measured, steady = elapsed - warm_s, rec.delivered - warm_d
    warmup = (WarmupSummary(warm_s, warm_d, rate(warm_d, warm_s), LatencySummary.of_seconds(lat[:warm_i]))
              if warm else None)
    return ProduceResult(
        settings=s, topic=state.topic, backend=cluster.backend, bootstrap_servers=cluster.bootstrap_servers(),
        sent=state.sent, delivered=rec.delivered, failed=rec.failed + state.produce_errors, unacknowledged=unacked,
        not_sent=rec.not_sent,
        topic_messages=None if in_topic is None else in_topic - primed, elapsed_s=elapsed,
        msgs_per_s=rate(steady, measured),
        mb_per_s=rate(mb(steady * (s.message_size + state.key_size)), measured),
        latency=LatencySummary.of_seconds(lat[warm_i:]),
        # each acknowledgement of a paced run records both latencies, so one index cuts both
        intended_latency=(LatencySummary.of_seconds(np.frombuffer(rec.intended, dtype=float)[warm_i:])
                          if s.rate is not None else None),
        e2e_latency=LatencySummary.of_seconds(np.frombuffer(e2e.latencies, dtype=float)) if e2e else None,
        errors=dict(rec.errors), client_errors=dict(rec.client_errors), queue_full=state.queue_full,
        stats=rec.stats.summary(elapsed), samples=tuple(state.samples), stopped=state.stopped, primed=primed,
        cpu_s=cpu_s, warmup=warmup, measured_s=measured,
        publish_delay=(LatencySummary.of_seconds(np.frombuffer(rec.delays, dtype=float)[warm_i:])
                       if s.rate is not None else None),
    )


__all__ = ["IntervalSample", "ProduceProgress", "ProduceResult", "WarmupSummary", "run", "sample_interval"]
