"""Results as plain text for a terminal: one function per result type, used by the registry.

Pure functions (no printing, no Kafka): a result in, a string out. Tables are aligned columns, so
they read in a terminal, in a log and in a CI transcript alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.cluster.base import BrokerState, ClusterStatus
from lab.verdict import lines as doubt_lines


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(x: Any, digits: int = 1) -> str:
    """A figure for a table: NaN as "-", floats with thousands separators."""
    if isinstance(x, float):
        return "-" if x != x else f"{x:,.{digits}f}"
    return "-" if x is None else str(x)


def ids(xs: Sequence[int]) -> str:
    return ",".join(map(str, xs)) or "-"


def stopped_line(result: Any) -> list[str]:
    return [f"NOTE: {result.stopped}"] if getattr(result, "stopped", None) else []


# --- cluster -------------------------------------------------------------------------------------
def broker_counts(st: ClusterStatus) -> str:
    """"2 of 3 running, 3 registered": what the processes do and what the cluster's metadata lists differ
    for a while after a crash (a killed broker stays registered until its session times out)."""
    registered = sum(b.registered for b in st.brokers)
    if st.backend == "external":
        return f"{registered} registered"
    running = sum(b.state is BrokerState.RUNNING for b in st.brokers)
    return f"{running} of {len(st.brokers)} running, {registered} registered"


def status(st: ClusterStatus) -> str:
    head = [
        f"backend:     {st.backend}" + (f" (Kafka {st.kafka_version})" if st.kafka_version else ""),
        f"bootstrap:   {st.bootstrap_servers}",
        f"reachable:   {'yes' if st.reachable else 'NO'}",
        f"cluster id:  {st.cluster_id or '-'}",
        f"controller:  {st.controller_id if st.controller_id is not None else '- (not known: no JMX)'}"
        + (" (the KRaft quorum's active controller)" if st.controller_id is not None else ""),
        f"brokers:     {broker_counts(st)}",
    ]
    if st.state_dir:
        head.append(f"state dir:   {st.state_dir}")
    if not st.controls_enabled:
        head.append(f"controls:    off — {st.controls_disabled_reason}")
    rows = [(b.node_id, f"{b.host}:{b.port}", b.state.value, "yes" if b.registered else "no", b.pid or "")
            for b in st.brokers]
    out = "\n".join(head) + "\n\n" + table(rows, ["broker", "address", "state", "registered", "pid"])
    if st.broker_settings:
        out += "\n\nbroker settings chosen for the lab:\n" + "\n".join(
            f"  {k}={v}" for k, v in st.broker_settings.items()
        )
    return out


# --- producer ------------------------------------------------------------------------------------
def produce(r: Any) -> str:
    s, lat, st = r.settings, r.latency, r.stats
    out = [
        f"settings:   {s.name}  (idempotence={s.enable_idempotence}, in-flight={s.max_in_flight}, "
        f"{s.message_size} B {s.payload} payload, keys={s.key_spread or 'none'}, partitions={s.partitions})",
        f"topic:      {r.topic} on {r.backend} ({r.bootstrap_servers})",
        f"messages:   {r.sent:,} sent, {r.delivered:,} acknowledged, {r.failed:,} failed, "
        f"{r.unacknowledged:,} unacknowledged; topic holds {r.topic_messages if r.topic_messages is not None else '?'}",
        f"throughput: {fmt(r.msgs_per_s, 0)} msg/s, {fmt(r.mb_per_s, 2)} MB/s over {r.elapsed_s:.2f} s "
        f"({r.cpu_s:.2f} s CPU of this process, {r.cpu_s / max(1, r.sent) * 1e6:.2f} us per message)",
    ]
    rows = [("send->ack", lat)]
    if r.intended_latency is not None:
        rows.append(("intended->ack", r.intended_latency))
    if r.e2e_latency is not None:
        rows.append(("send->consume", r.e2e_latency))
    out.append("")
    out.append(table([(n, x.count, fmt(x.avg_ms, 2), fmt(x.p50_ms, 2), fmt(x.p95_ms, 2), fmt(x.p99_ms, 2),
                       fmt(x.p999_ms, 2), fmt(x.max_ms, 2)) for n, x in rows],
                     ["latency (ms)", "count", "avg", "p50", "p95", "p99", "p99.9", "max"]))
    out.append("")
    out.append(f"librdkafka: {fmt(st.avg_batch_bytes, 0)} B and {fmt(st.avg_msgs_per_batch, 1)} msgs per batch, "
               f"{fmt(st.requests_per_s, 0)} requests/s, broker rtt avg {fmt(st.broker_rtt_avg_ms, 2)} ms "
               f"(p99 {fmt(st.broker_rtt_p99_ms, 2)} ms), compression ratio {fmt(st.compression_ratio, 2)}")
    if r.errors or r.client_errors or r.queue_full:
        out.append(f"errors:     delivery {r.errors or 'none'}; client {r.client_errors or 'none'}; "
                   f"queue full {r.queue_full} time(s)")
    if r.warmup is not None:
        w = r.warmup
        out.append(f"warm-up:    first {w.duration_s:.2f} s left out of the figures above: {w.delivered:,} "
                   f"acknowledged, {fmt(w.msgs_per_s, 0)} msg/s, p50 {fmt(w.latency.p50_ms, 2)} ms, "
                   f"p99 {fmt(w.latency.p99_ms, 2)} ms")
    else:
        out.append("warm-up:    the run ended within its warm-up, so the figures include it")
    out.extend(f"note: {n}" for n in r.notes())
    out.append(verdict_text(r.verdict))
    out.extend(stopped_line(r))
    return "\n".join(out)


def verdict_text(verdict: Sequence[Any]) -> str:
    """``verdict: no doubt found`` or one line per doubt."""
    return "\n".join(["verdict:    " + ("no doubt found" if not verdict else f"{len(verdict)} reason(s) to doubt"),
                      *doubt_lines(verdict)])


def _with_spread(x: dict[str, Any], key: str, digits: int) -> str:
    """A figure, and with repeats the min..max of them: ``1,000 (900..1,300)``."""
    if f"{key}_lo" not in x:
        return fmt(x[key], digits)
    return f"{fmt(x[key], digits)} ({fmt(x[key + '_lo'], digits)}..{fmt(x[key + '_hi'], digits)})"


def sweep(r: Any) -> str:
    rows = [(x["label"], f"{x['delivered']:,}", _with_spread(x, "msgs_per_s", 0), fmt(x["mb_per_s"], 2),
             fmt(x["p50_ms"], 2), _with_spread(x, "p99_ms", 2), fmt(x["fixed_p50_ms"], 2),
             _with_spread(x, "fixed_p99_ms", 2),
             fmt(x["compression_ratio"], 2), fmt(x["msgs_per_batch"], 1),
             ", ".join(c for c in (x["doubts"], x["fixed_doubts"]) if c) or "-") for x in r.rows()]
    out = table(rows, ["run", "acked", "max msg/s", "MB/s", "p50 ms", "p99 ms", "p50 @rate", "p99 @rate", "ratio",
                       "msgs/batch", "doubts"])
    out += ("\n\nmax msg/s, MB/s, p50/p99: each cell as fast as it goes (latency there is queueing); "
            + (f"p50/p99 @rate: each cell again at a common {r.fixed_rate:,.0f} msg/s, below saturation"
               if r.fixed_rate else "no fixed-rate latency was measured"))
    reps = r.settings.repeats
    if reps > 1:
        out += (f"\n\neach cell ran {reps} times (every other round in reverse order): medians, with the "
                "repeats' min..max in brackets")
    out += f"\n\n{len(r.runs)}/{r.planned} cells in {r.elapsed_s:.1f} s (each run on its own fresh topic)"
    failed = [x for x in r.runs if x.failed or x.errors]
    if failed:
        out += "\nerrors: " + "; ".join(f"{x.settings.name}: {x.errors}" for x in failed)
    return "\n".join([out, verdict_text(r.verdict), *stopped_line(r)])


def perf_summary(p: Any) -> str:
    return table([("records", p.records), ("records/s", fmt(p.records_per_s, 0)), ("MB/s", fmt(p.mb_per_s, 2)),
                  ("avg ms", p.avg_ms), ("p50 ms", p.p50_ms), ("p95 ms", p.p95_ms), ("p99 ms", p.p99_ms),
                  ("p99.9 ms", p.p999_ms), ("max ms", p.max_ms)], ["perf tool", "value"])


def cross_check(c: Any) -> str:
    perf = c.perf
    if c.lab is None:  # the perf tool alone
        body = perf_summary(perf.summary) if perf is not None and perf.summary is not None else \
            "the perf tool stopped before its summary"
        return "\n".join([body, *stopped_line(c)])
    rows = [(name, fmt(a, 2), fmt(b, 2), fmt(q, 3)) for name, a, b, q in c.rows()]
    out = table(rows, ["figure", "lab", "perf tool", "lab/perf"])
    s = c.lab.settings
    out += f"\n\nsettings: {s.name}, {s.message_size} B records" + (
        f" at {s.rate:g} msg/s" if s.rate else " as fast as possible")
    if perf is not None:
        if "--topic" in perf.command:
            out += "\nperf tool: " + " ".join(perf.command[perf.command.index("--topic"):])
        for n in perf.notes:
            out += f"\nnote: {n}"
    return "\n".join([out, *stopped_line(c)])


# --- replication ---------------------------------------------------------------------------------
def partitions(parts: Sequence[Any]) -> str:
    rows = []
    for p in parts:
        leo = " ".join(f"{b}:{v if v is not None else '?'}" for b, v in sorted(p.log_end_offsets.items()))
        lag = " ".join(f"{b}(-{p.behind(b)})" if p.behind(b) is not None else str(b) for b in p.out_of_sync)
        rows.append((p.partition, p.leader if p.leader >= 0 else "none",
                     p.leader_epoch if p.leader_epoch is not None else "-", ids(p.replicas), ids(p.isr),
                     p.high_watermark if p.high_watermark is not None else "-", leo, lag))
    return table(rows, ["partition", "leader", "epoch", "replicas", "isr", "HW", "LEO per broker", "out of sync"])


def describe(res: Any) -> str:
    head = f"Topic: {res.topic}" + (f"   active controller: {res.active_controller}"
                                    if res.active_controller is not None else "")
    return f"{head}\n{partitions(res.partitions)}\n({res.leo_note})"


def event_lines(partial: Any) -> list[str]:
    """Every event of a live timeline so far, one line each (the CLI prints the new ones)."""
    events = getattr(partial, "events", None) or ()
    return [f"  [{e.t:7.1f} s] {e.topic}[{e.partition}] {e.kind.value}: {e.detail}" for e in events]


def events(tl: Any) -> str:
    if not tl.events:
        return "no ISR, leader or epoch changes were seen"
    return table([(f"{e.t:.1f}", f"{e.topic}[{e.partition}]", e.kind.value, e.detail) for e in tl.events],
                 ["t (s)", "partition", "event", "detail"])


def background_producer(tl: Any) -> str:
    if not tl.produce:
        return ""
    acked = sum(s.acked for s in tl.produce)
    failed = sum(s.failed for s in tl.produce)
    errors: dict[str, int] = {}
    for s in tl.produce:
        for k, v in s.errors.items():
            errors[k] = errors.get(k, 0) + v
    err = ", ".join(f"{k}×{v}" for k, v in errors.items()) or "none"
    return f"background producer: {acked} acknowledged, {failed} failed ({err})"


def monitor(res: Any) -> str:
    out = [events(res.timeline)]
    if res.timeline.snapshots:
        out.append("last state:\n" + partitions(res.timeline.snapshots[-1].partitions))
    out.append(background_producer(res.timeline))
    out.extend(stopped_line(res))
    return "\n\n".join(x for x in out if x)


def probe(o: Any) -> str:
    if o is None:
        return "-"
    errs = ", ".join(f"{k}×{v}" for k, v in o.errors.items())
    return f"{o.acked}/{o.sent} ok" + (f" ({errs})" if errs else "")


def min_isr(res: Any) -> str:
    s = res.settings
    rows = [(p.name, ids(p.brokers_down), ids(p.isr), probe(p.acks_all), probe(p.acks_1)) for p in res.phases]
    out = (f"Topic {s.topic}: replication factor 3, min.insync.replicas={s.min_insync_replicas}, "
           f"leader broker {res.leader}\n"
           + table(rows, ["phase", "stopped", "ISR", "acks=all", "acks=1"])
           + "\n\nacks=all needs the ISR to hold at least min.insync.replicas replicas; acks=1 only needs the leader.")
    return "\n".join([out, *stopped_line(res)])


def _secs(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x:.1f} s"


def hw_leo(res: Any) -> str:
    lag = f"{res.replica_lag_time_max_ms} ms" if res.replica_lag_time_max_ms is not None else "unknown"
    lines = [
        f"leader {res.leader}, paused follower {res.follower} (replica.lag.time.max.ms = {lag})",
        f"follower left the ISR {_secs(res.left_isr_after_s)} after the pause",
        f"high watermark stood still for {_secs(res.hw_stalled_s)} while acks=all waited for the paused follower",
        f"paused follower was at most {res.max_follower_behind} messages behind the leader"
        if res.max_follower_behind is not None else "per-replica LEO not available on this backend",
        f"after resume it caught up and rejoined the ISR in {_secs(res.rejoined_after_s)}",
    ]
    tail = [x for x in (events(res.timeline), background_producer(res.timeline)) if x]
    return "\n".join(lines + stopped_line(res)) + "\n\n" + "\n\n".join(tail)


def unclean(res: Any) -> str:
    rows = []
    for o in (res.clean, res.unclean):
        if o is None:
            continue
        rows.append((o.topic, "on" if o.unclean_enabled else "off",
                     "yes" if o.available_after_crash else "NO (no leader)",
                     probe(o.after),
                     sum(x or 0 for x in (o.acked_before, o.acked_while_lagging, o.after.acked if o.after else 0)),
                     fmt(o.consumed), fmt(o.lost_acked)))
    out = table(rows, ["topic", "unclean election", "available after crash", "writes after crash ok",
                       "acknowledged", "read back", "acknowledged but LOST"])
    if res.unclean is not None and res.unclean.elected_by:
        out += f"\nThe lagging replica was elected by {res.unclean.elected_by}."
    return "\n".join([out, *stopped_line(res)])


def storage(res: Any) -> str:
    if not res.snapshots:
        return "\n".join(["no segment snapshot was taken", *stopped_line(res)])
    s = res.settings
    last = res.snapshots[-1]
    files = table([(f.name, f.size_bytes, f.disk_bytes) for f in last.files], ["file", "size (bytes)", "on disk"])
    out = (f"{res.directory} on broker {res.node} after {last.messages_written} messages "
           f"({last.log_segments} segments of segment.bytes={s.segment_bytes}):\n{files}")
    c = res.compaction
    if c is not None:
        out += (f"\n\ncompaction of {c.topic}: {c.produced} writes to {c.keys} keys; {c.before} records before "
                f"cleaning, {c.after} after ({c.waited_s:.1f} s); latest value of every key kept: "
                f"{'yes' if c.latest_values_kept else 'NO'}")
    return "\n".join([out, *stopped_line(res)])
