"""Producer results as plain text for a terminal (phase 4): a produce run, a sweep, the cross-check with
Kafka's perf tool. Pure functions: a result in, a string out.
"""

from __future__ import annotations

from typing import Any

from lab.core.text import fmt, stopped_line, table, verdict_text, with_spread


# --- producer ------------------------------------------------------------------------------------
def produce(r: Any) -> str:
    s, lat, st = r.settings, r.latency, r.stats
    out = [
        f"settings:   {s.name}  (idempotence={s.enable_idempotence}, in-flight={s.max_in_flight}, "
        f"{s.message_size} B {s.payload} payload, keys={s.key_spread or 'none'}, partitions={s.partitions})",
        f"topic:      {r.topic} on {r.backend} ({r.bootstrap_servers})",
        f"messages:   {r.sent:,} sent, {r.delivered:,} acknowledged, {r.failed:,} failed, "
        + (f"{r.not_sent:,} not sent (taken back by the stop), " if getattr(r, "not_sent", 0) else "")
        + f"{r.unacknowledged:,} unacknowledged; topic holds "
        f"{r.topic_messages if r.topic_messages is not None else '?'}",
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
    lim = getattr(r, "broker_limits", None)
    if lim is not None:
        out.append(f"limits:     the run's topic max.message.bytes={s.topic_limit_bytes:,}; brokers "
                   f"message.max.bytes={lim.message_max_bytes:,}, "
                   f"replica.fetch.max.bytes={lim.replica_fetch_max_bytes:,}, "
                   f"socket.request.max.bytes={lim.socket_request_max_bytes:,}"
                   + ("" if lim.read_from_brokers else " (Kafka's defaults: the brokers did not say)"))
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


def sweep(r: Any) -> str:
    rows = [(x["label"], f"{x['delivered']:,}", with_spread(x, "msgs_per_s", 0), fmt(x["mb_per_s"], 2),
             fmt(x["p50_ms"], 2), with_spread(x, "p99_ms", 2), fmt(x["fixed_p50_ms"], 2),
             with_spread(x, "fixed_p99_ms", 2),
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
        if perf is not None and perf.warmup_records:
            body += f"\n(after its first {perf.warmup_records:,} records, left out as warm-up)"
        return "\n".join([body, *_tool_lines(perf), *stopped_line(c)])
    rows = [(name, fmt(a, 2), fmt(b, 2), fmt(q, 3)) for name, a, b, q in c.rows()]
    out = table(rows, ["figure", "lab", "perf tool", "lab/perf"])
    s = c.lab.settings
    out += f"\n\nsettings: {s.name}, {s.message_size} B records" + (
        f" at {s.rate:g} msg/s" if s.rate else " as fast as possible")
    if perf is not None and c.lab.warmup is not None:
        out += (f"\nwarm-up left out: the lab's first {c.lab.warmup.duration_s:.2f} s "
                f"({c.lab.warmup.delivered:,} records), the tool's first {perf.warmup_records:,} records")
    return "\n".join([out, *_tool_lines(perf), *stopped_line(c)])


def _tool_lines(perf: Any) -> list[str]:
    """Which tool ran, its arguments from --topic on, and where its run differs from the lab's."""
    if perf is None:
        return []
    out = [f"perf tool: Kafka {perf.kafka_version}'s ProducerPerformance"] if perf.kafka_version else []
    if "--topic" in perf.command:
        out.append("its arguments: " + " ".join(perf.command[perf.command.index("--topic"):]))
    return out + [f"note: {n}" for n in perf.notes]
