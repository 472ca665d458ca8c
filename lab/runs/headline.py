"""A run's headline: the few figures that answer its experiment's question, in words with units
(``throughput 332,700 msg/s``, ``send→ack latency (p99) 3.7 s``, ``fastest ÷ slowest 2.1×``). Pure.

``headline(result)`` picks them per result type (produce, producer sweep, cross-checks, consumer benchmark
and sweep, lag, replication scenarios, exactly-once); any other result gets its top-level figures with
readable labels. A report leads with them, and a page can show the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lab.consumer.fetch import BenchResult, SeedResult
from lab.consumer.perftest import ConsumerCrossCheckResult
from lab.consumer.static import StaticResult
from lab.consumer.sweep import ConsumerSweepResult
from lab.core.stats import LatencySummary
from lab.eos.duplicates import DuplicateResult
from lab.eos.fencing import FencingResult
from lab.eos.pipeline_run import PipelineResult
from lab.eos.transactions import TransactionResult
from lab.kafka.load import ProbeOutcome
from lab.lag.rate import SustainableRateResult
from lab.lag.scenario import LagDemoResult
from lab.lag.watch import LagWatchResult
from lab.producer.perftest import CrossCheckResult
from lab.producer.run import ProduceResult
from lab.producer.sweep import SweepResult
from lab.queues.acks import ShareAcksResult
from lab.queues.compare import ShareCompareResult
from lab.queues.crash import ShareCrashResult
from lab.replication.elr import VersionsResult
from lab.replication.scenarios import HwLeoResult, MinIsrResult, MonitorResult, UncleanResult
from lab.replication.segments import StorageResult
from lab.runs.compare import figures
from lab.runs.readable import label, quantity

#: At most this many figures in a generic headline (the full table has the rest).
GENERIC_MAX = 8


@dataclass(frozen=True)
class Figure:
    """One headline figure: what it is, its value and unit, and a few words after it (``of 20,000 sent``)."""

    label: str
    value: float | int | str | bool | None
    unit: str = ""
    note: str = ""

    @property
    def text(self) -> str:
        """The value as a person reads it, with its unit and note: ``332,700 msg/s``."""
        return " ".join(x for x in (quantity(self.value, self.unit), self.note) if x)


Headline = tuple[Figure, ...]


def _latency(name: str, lat: LatencySummary | None, stats: Iterable[str] = ("p50", "p99")) -> list[Figure]:
    if lat is None or lat.count == 0:
        return []
    fields = {"avg": lat.avg_ms, "p50": lat.p50_ms, "p95": lat.p95_ms, "p99": lat.p99_ms, "p99.9": lat.p999_ms,
              "max": lat.max_ms}
    return [Figure(f"{name} ({s})", fields[s], "ms") for s in stats]


def _yes(flag: bool | None, yes: str = "yes", no: str = "no") -> str:
    return "—" if flag is None else yes if flag else no


# --- producer ------------------------------------------------------------------------------------------
def produce(r: ProduceResult) -> Headline:
    s = r.settings
    out = [Figure("throughput", r.msgs_per_s, "msg/s", f"({quantity(r.mb_per_s, 'MB/s')})"),
           *_latency("send→ack latency", r.latency)]
    if s.rate is not None:
        out.append(Figure("target rate", s.rate, "msg/s"))
        out += _latency("intended→ack latency", r.intended_latency, ("p99",))
        out += _latency("send delay", r.publish_delay, ("p99",))
    out += _latency("end-to-end latency", r.e2e_latency, ("p99",))
    out.append(Figure("acknowledged", r.delivered, note=f"of {r.sent:,} sent"
                      + (f", {r.failed:,} failed" if r.failed else "")
                      + (f", {r.not_sent:,} not sent (cancelled)" if r.not_sent else "")))
    if s.compression != "none":
        out.append(Figure("compression ratio", r.stats.compression_ratio, "×"))
    out.append(Figure("messages per batch", r.stats.avg_msgs_per_batch))
    return tuple(out)


def sweep(r: SweepResult) -> Headline:
    rows = [x for x in r.rows() if not math.isnan(x["msgs_per_s"])]
    if not rows:
        return (Figure("finished cells", 0, note=f"of {r.planned}"),)
    fast, slow = max(rows, key=lambda x: x["msgs_per_s"]), min(rows, key=lambda x: x["msgs_per_s"])
    out = [Figure("cells run", len(r.runs), note=f"of {r.planned}"),
           Figure("fastest", fast["msgs_per_s"], "msg/s", f"with {fast['label']}"),
           Figure("slowest", slow["msgs_per_s"], "msg/s", f"with {slow['label']}"),
           Figure("fastest ÷ slowest", fast["msgs_per_s"] / slow["msgs_per_s"] if slow["msgs_per_s"] else math.nan,
                  "×")]
    fixed = [x for x in rows if not math.isnan(x.get("fixed_p99_ms", math.nan))]
    if fixed and r.fixed_rate:
        best = min(fixed, key=lambda x: x["fixed_p99_ms"])
        worst = max(fixed, key=lambda x: x["fixed_p99_ms"])
        out += [Figure(f"lowest p99 at {r.fixed_rate:,.0f} msg/s", best["fixed_p99_ms"], "ms", f"with {best['label']}"),
                Figure(f"highest p99 at {r.fixed_rate:,.0f} msg/s", worst["fixed_p99_ms"], "ms",
                       f"with {worst['label']}")]
    return tuple(out)


def cross_check(r: CrossCheckResult) -> Headline:
    out = []
    if r.lab is not None:
        out.append(Figure("lab throughput", r.lab.msgs_per_s, "msg/s"))
    if r.perf is not None and r.perf.summary is not None:
        out.append(Figure("perf tool throughput", r.perf.summary.records_per_s, "msg/s"))
    out += [Figure("throughput, lab ÷ perf tool", r.throughput_ratio, "×"),
            Figure("p99 latency, lab ÷ perf tool", r.p99_ratio, "×")]
    return tuple(out)


# --- consumer ------------------------------------------------------------------------------------------
def bench(r: BenchResult) -> Headline:
    out = [Figure("throughput", r.msgs_per_s, "msg/s", f"({quantity(r.mb_per_s, 'MB/s')}"
                  + (f", {r.processes} processes)" if r.members else ")")),
           Figure("consumed", r.consumed, note=f"of {r.expected:,} expected"),
           Figure("joined the group in", r.join_s, "s"),
           Figure("fetch requests", r.fetch.fetch_requests_per_s, "/s"),
           Figure("messages per fetch", r.fetch.msgs_per_fetch)]
    return tuple(out + _latency("end-to-end latency", r.e2e, ("p99",)))


def consumer_sweep(r: ConsumerSweepResult) -> Headline:
    if not r.runs:
        return (Figure("finished runs", 0, note=f"of {r.planned}"),)
    fast, slow = max(r.runs, key=lambda x: x.msgs_per_s), min(r.runs, key=lambda x: x.msgs_per_s)
    return (Figure("runs", len(r.runs), note=f"of {r.planned}"),
            Figure("fastest", fast.msgs_per_s, "msg/s", f"with {fast.label}"),
            Figure("slowest", slow.msgs_per_s, "msg/s", f"with {slow.label}"),
            Figure("fastest ÷ slowest", fast.msgs_per_s / slow.msgs_per_s if slow.msgs_per_s else math.nan, "×"))


def consumer_cross_check(r: ConsumerCrossCheckResult) -> Headline:
    n = r.lab.processes if r.lab is not None else 1
    out = [Figure("lab throughput", r.lab.msgs_per_s, "msg/s", f"({n} process{'es' if n > 1 else ''})")] \
        if r.lab is not None else []
    one = [Figure("throughput, lab (1 process) ÷ perf tool", r.one_process_ratio, "×")] if r.lab_one else []
    return (*out, Figure("throughput, lab ÷ perf tool", r.throughput_ratio, "×"), *one)


def seed(r: SeedResult) -> Headline:
    return (Figure("written", r.written, note=f"({r.failed:,} failed)" if r.failed else ""),
            Figure("messages in the topic", r.topic_messages), Figure("throughput", r.msgs_per_s, "msg/s"))


def static(r: StaticResult) -> Headline:
    return tuple(Figure(f"{c.case}: rebalanced", _yes(c.rebalanced),
                        note=f"(a partition unowned for {quantity(c.unowned_partition_s, 's')})")
                 for c in r.cases)


# --- lag -----------------------------------------------------------------------------------------------
def lag_watch(r: LagWatchResult) -> Headline:
    if not r.samples:
        return (Figure("samples", 0),)
    lags = [s.total_lag for s in r.samples]
    return (Figure("group status", r.group_status.value),
            Figure("total lag at the end", lags[-1], "messages"),
            Figure("largest total lag", max(lags), "messages"),
            Figure("watched for", r.samples[-1].t_s - r.samples[0].t_s, "s", f"({len(r.samples):,} samples)"))


def lag_demo(r: LagDemoResult) -> Headline:
    out = [Figure(f"lag in phase “{p.name}”", p.lag_end, "messages",
                  f"(from {p.lag_start:,}, {p.members} member(s), {p.status.value})") for p in r.phases]
    return (*out, Figure("group status", r.watch.group_status.value))


def _capacity(r: SustainableRateResult) -> float:
    try:
        return float(r.settings.capacity)
    except ZeroDivisionError:  # no members or no processing time: no arithmetic to do
        return math.nan


def sustainable_rate(r: SustainableRateResult) -> Headline:
    best = r.sustainable_rate
    note = ("(the next step fell behind)" if r.found_limit else "at least: it kept up with every step")
    return (Figure("sustainable rate", best if best is not None else "not even the first step", "records/s",
                   note if best is not None else ""),
            Figure("capacity by arithmetic", _capacity(r), "records/s"),
            Figure("steps tried", len(r.steps)))


# --- replication ---------------------------------------------------------------------------------------
def monitor(r: MonitorResult) -> Headline:
    tl = r.timeline
    kinds: dict[str, int] = {}
    for e in tl.events:
        kinds[e.kind.value] = kinds.get(e.kind.value, 0) + 1
    said = ", ".join(f"{n} {label(k)[0]}" for k, n in kinds.items())
    out = [Figure("replication events", len(tl.events), note=f"({said})" if said else "")]
    if tl.produce:
        out += [Figure("writes acknowledged", sum(p.acked for p in tl.produce)),
                Figure("writes failed", sum(p.failed for p in tl.produce))]
    return tuple(out)


def _probe(o: ProbeOutcome | None) -> tuple[int | str, str]:
    if o is None:
        return "—", ""
    errors = ", ".join(f"{k} ×{v}" for k, v in o.errors.items())
    return o.acked, f"of {o.sent:,} acknowledged" + (f" ({errors})" if errors else "")


def min_isr(r: MinIsrResult) -> Headline:
    out = []
    for p in r.phases:
        for name, o in (("acks=all", p.acks_all), ("acks=1", p.acks_1)):
            value, note = _probe(o)
            out.append(Figure(f"{p.name}: {name}", value, note=note))
    return tuple(out)


def hw_leo(r: HwLeoResult) -> Headline:
    return (Figure("follower left the ISR after", r.left_isr_after_s, "s"),
            Figure("high watermark stood still for", r.hw_stalled_s, "s"),
            Figure("paused follower behind the leader (max)", r.max_follower_behind, "messages"),
            Figure("rejoined the ISR after", r.rejoined_after_s, "s"))


def unclean(r: UncleanResult) -> Headline:
    out = []
    for o in (r.clean, r.unclean):
        if o is None:
            continue
        name = "unclean election on" if o.unclean_enabled else "unclean election off"
        out += [Figure(f"{name}: available after the crash", _yes(o.available_after_crash, "yes", "no leader")),
                Figure(f"{name}: acknowledged but lost", o.lost_acked, "messages")]
    return tuple(out)


def elr_versions(r: VersionsResult) -> Headline:
    out = []
    for v in r.verdicts():
        for t in (v.clean, v.unclean):
            name = f"Kafka {v.kafka_version}, unclean election {'on' if t.unclean_enabled else 'off'}"
            out += [Figure(f"{name}: leader by", t.via), Figure(f"{name}: acknowledged but lost", t.lost, "messages")]
    return tuple(out)


def storage(r: StorageResult) -> Headline:
    out = []
    if r.snapshots:
        last = r.snapshots[-1]
        out += [Figure("log segments", last.log_segments, note=f"after {last.messages_written:,} messages")]
    c = r.compaction
    if c is not None:
        out += [Figure("records before compaction", c.before), Figure("records after compaction", c.after),
                Figure("latest value of every key kept", _yes(c.latest_values_kept))]
    return tuple(out)


# --- exactly once --------------------------------------------------------------------------------------
def duplicates(r: DuplicateResult) -> Headline:
    out = []
    for run in r.runs:
        t = run.total() if run.read_back else None
        out += [Figure(f"{run.label} producer: duplicates in the log", t.duplicates if t else None),
                Figure(f"{run.label} producer: lost", t.lost if t else None,
                       note=f"({t.order_violations:,} out of order)" if t and t.order_violations else "")]
    return tuple(out)


def transactions(r: TransactionResult) -> Headline:
    return (Figure("records a read_committed consumer sees", r.read_committed),
            Figure("records a read_uncommitted consumer sees", r.read_uncommitted),
            Figure("aborted records seen by read_committed", r.aborted_seen_committed,
                   note=f"of {r.aborted_records:,} aborted"),
            Figure("aborted records seen by read_uncommitted", r.aborted_seen_uncommitted))


def fencing(r: FencingResult) -> Headline:
    return (Figure("zombie fenced", _yes(r.fenced), note=f"({r.fenced_error} on {r.fenced_on})" if r.fenced else ""),
            Figure("zombie's records read_committed", r.zombie_committed),
            Figure("successor's records read_committed", r.successor_committed))


def pipeline(r: PipelineResult) -> Headline:
    out = []
    for run in r.runs:
        out += [Figure(f"{run.mode}: duplicates", run.duplicates, note=f"in {run.output_records or 0:,} outputs"),
                Figure(f"{run.mode}: missing", run.missing)]
    return tuple(out)


# --- any result ----------------------------------------------------------------------------------------
def generic(result: Any) -> Headline:
    """The result's own numeric fields (not nested ones), readable: the fallback for any other type."""
    out = []
    for name, value in figures(result).items():
        if "." not in name:
            text, unit = label(name)
            out.append(Figure(text, int(value) if value.is_integer() and not unit else value, unit))
    return tuple(out[:GENERIC_MAX])


#: Result type -> its headline.
# --- share groups --------------------------------------------------------------------------------------
def share_compare(r: ShareCompareResult) -> Headline:
    out = []
    for who, side in (("share group", r.share), ("consumer group", r.group)):
        if side is not None:
            out.append(Figure(f"{who}: throughput", side.records_per_s, "records/s",
                              f"({len(side.members) - len(side.idle)} of {len(side.members)} members busy)"))
    return (*out, Figure("share ÷ consumer group", r.speedup, "×"))


def share_acks(r: ShareAcksResult) -> Headline:
    poison = r.fates.get(r.settings.poison_seq) if r.settings.poison_seq is not None else None
    return (Figure("accepted exactly once", r.accepted_once, "records", f"(more than once: {r.accepted_twice})"),
            Figure("deliveries per record", ", ".join(f"{n}×: {c:,}" for n, c in r.histogram.items())),
            Figure("poison record deliveries", poison.deliveries if poison else None, "",
                   f"(limit {r.settings.delivery_count_limit})"),
            Figure("delivered after the end", r.quiet_deliveries, "records"))


def share_crash(r: ShareCrashResult) -> Headline:
    after = r.after_kill_s
    return (Figure("records the dead member held", len(r.victim_records), "records"),
            Figure(f"redelivered after the {'kill' if r.settings.failure == 'kill' else 'freeze'}",
                   max(after) if after else None, "s", f"(lock {r.lock_s:g} s)"),
            Figure("every record accepted", _yes(r.complete)))


PICKERS: dict[type, Callable[[Any], Headline]] = {
    ProduceResult: produce, SweepResult: sweep, CrossCheckResult: cross_check, BenchResult: bench,
    ConsumerSweepResult: consumer_sweep, ConsumerCrossCheckResult: consumer_cross_check, SeedResult: seed,
    StaticResult: static, LagWatchResult: lag_watch, LagDemoResult: lag_demo, SustainableRateResult: sustainable_rate,
    MonitorResult: monitor, MinIsrResult: min_isr, HwLeoResult: hw_leo, UncleanResult: unclean, StorageResult: storage,
    VersionsResult: elr_versions,
    DuplicateResult: duplicates, TransactionResult: transactions, FencingResult: fencing, PipelineResult: pipeline,
    ShareCompareResult: share_compare, ShareAcksResult: share_acks, ShareCrashResult: share_crash,
}


def headline(result: Any) -> Headline:
    """The figures that answer the run's question (see the module docstring); never raises for a partial
    run: a figure the run did not get to reads ``—``."""
    pick = PICKERS.get(type(result), generic)
    try:
        return pick(result)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):  # a stored run of an older shape
        return generic(result)


def headline_table(results: Sequence[Any]) -> list[tuple[str, list[str]]]:
    """Several runs' headlines side by side: (label, one text per run), labels in first-seen order."""
    per_run = [{f.label: f.text for f in headline(r)} for r in results]
    labels = list(dict.fromkeys(k for h in per_run for k in h))
    return [(k, [h.get(k, "—") for h in per_run]) for k in labels]


__all__ = ["Figure", "Headline", "PICKERS", "generic", "headline", "headline_table"]
