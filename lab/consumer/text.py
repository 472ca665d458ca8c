"""The consumer lab's results as terminal text (pure: a result in, a string out)."""

from __future__ import annotations

from typing import Any

from lab.core.text import fmt, stopped_line, table, verdict_text


def seed(r: Any) -> str:
    s = r.settings
    return "\n".join([
        f"Topic {s.topic} ({r.topic_action}, {r.partitions} partitions): {r.written:,} of {s.messages:,} messages "
        f"of {s.message_bytes} B acknowledged, {r.failed:,} failed, in {r.elapsed_s:.2f} s "
        f"({r.msgs_per_s:,.0f} msg/s).",
        f"The topic now holds {fmt(r.topic_messages)} messages.", *stopped_line(r)])


def _lat(r: Any) -> str:
    e = r.e2e
    if e is None or not e.count:
        return ""
    return (f"End-to-end (CreateTime -> consumed): p50 {e.p50_ms:,.1f} ms, p95 {e.p95_ms:,.1f} ms, "
            f"p99 {e.p99_ms:,.1f} ms, max {e.max_ms:,.1f} ms over {e.count:,} messages.")


def bench(r: Any) -> str:
    c = r.settings.consumer
    mode = (f"live: a producer at {r.settings.produce_rate:,} msg/s" if r.settings.live else "backlog")
    timed = not r.settings.live and c.count is None and c.duration_s
    read = (f"Read for {c.duration_s:g} s: {r.consumed:,} of the {r.expected:,} messages in the topic" if timed
            else f"Consumed {r.consumed:,} of {r.expected:,} messages")
    lines = [
        f"{c.name} on {r.topic} ({mode}), group {r.group}",
        f"{read} ({r.bytes / 1e6:,.2f} MB): {r.msgs_per_s:,.0f} msg/s, "
        f"{r.mb_per_s:,.2f} MB/s from the first message ({r.consume_s:.2f} s); joined in {r.join_s:.2f} s.",
        f"Fetch requests: {r.fetch.fetch_requests:,} ({fmt(r.fetch.fetch_requests_per_s)}/s), "
        f"{fmt(r.fetch.bytes_per_fetch, 0)} bytes and {fmt(r.fetch.msgs_per_fetch)} messages per fetch.",
    ]
    if _lat(r):
        lines.append(_lat(r))
    if r.errors:
        lines.append("Errors: " + ", ".join(f"{k}x{v}" for k, v in r.errors.items()))
    return "\n".join(lines + [verdict_text(r.verdict)] + stopped_line(r))


def sweep(r: Any) -> str:
    rows = [(x["label"], f"{x['msgs_per_s']:,.0f}", f"{x['mb_per_s']:,.2f}", fmt(x["fetch_requests_per_s"]),
             fmt(x["bytes_per_fetch"], 0), fmt(x["p50_ms"]), fmt(x["p99_ms"]), fmt(x["max_ms"]),
             x.get("doubts") or "-") for x in r.rows()]
    head = f"{r.settings.kind}: {len(r.runs)}/{r.planned} runs"
    return "\n".join([head, table(rows, ["variant", "msg/s", "MB/s", "fetch/s", "B/fetch", "p50 ms", "p99 ms",
                                         "max ms", "doubts"]), *stopped_line(r)])


def cross_check(r: Any) -> str:
    lab, perf = r.lab, r.perf
    rows = [
        ("msg/s (from first message)", fmt(lab.msgs_per_s if lab else None, 0),
         fmt(perf.fetch_records_per_s if perf else None, 0)),
        ("MB/s (from first message)", fmt(lab.mb_per_s if lab else None, 2),
         fmt(perf.fetch_mb_per_s if perf else None, 2)),
        ("join / rebalance ms", fmt(lab.join_s * 1000 if lab else None, 0),
         fmt(perf.rebalance_ms if perf else None, 0)),
        ("messages", fmt(lab.consumed if lab else None), fmt(perf.records if perf else None)),
    ]
    return "\n".join([f"{r.count:,} messages of {r.settings.consumer.topic}: the lab vs kafka-consumer-perf-test",
                      table(rows, ["figure", "lab", "perf tool"]),
                      f"lab / perf tool (msg/s): {fmt(r.throughput_ratio, 2)}",
                      *([f"perf tool: Kafka {r.kafka_version}'s ConsumerPerformance"] if r.kafka_version else []),
                      *[f"note: {n}" for n in r.notes], *stopped_line(r)])


def _parts(ps: tuple[str, ...]) -> str:
    return ", ".join(ps) or "-"


def strategies(r: Any) -> str:
    out = []
    for run in r.runs:
        out.append(f"== {run.strategy} (topics {', '.join(run.topics)}; producer acknowledged {run.produced:,})")
        for stage, rows in run.tables.items():
            out.append(f"{stage}:")
            out.append(table([(a.member, len(a.partitions), _parts(a.partitions)) for a in rows],
                             ["member", "n", "partitions"]))
        out.append(table([(f.what, f"{f.duration_s:.2f}", f"{f.unowned_partition_s:.2f}", f"{f.unowned_max_s:.2f}",
                           ", ".join(f"{m} {v:.2f}" for m, v in f.member_empty_s.items()), f.revoked, f.moved,
                           f.revoked_unmoved, fmt(f.generation)) for f in run.rebalances],
                         ["rebalance", "to stable s", "unowned p*s", "longest s", "member owned nothing (s)",
                          "revoked", "moved", "revoked, not moved", "generation"]))
    return "\n".join(out + stopped_line(r))


def protocols(r: Any) -> str:
    head = [f"Kafka {r.kafka_version}; the brokers' group settings: "
            + ", ".join(f"{k}={v}" for k, v in r.broker_configs.items())]
    return "\n".join(head + [strategies(r)])


def static(r: Any) -> str:
    rows = [(c.case, c.restarted, f"{c.back_t - c.closed_t:.1f}", c.others_callbacks,
             f"{fmt(c.generation_before)} -> {fmt(c.generation_after)}", "yes" if c.same_partitions else "no",
             f"{c.unowned_partition_s:.2f}", "yes" if c.rebalanced else "no") for c in r.cases]
    return "\n".join([table(rows, ["case", "member", "away s", "callbacks on the others", "generation",
                                    "same partitions", "unowned p*s", "rebalance"]), *stopped_line(r)])
