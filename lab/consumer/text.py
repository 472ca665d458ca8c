"""The consumer lab's results as terminal text (pure: a result in, a string out)."""

from __future__ import annotations

from typing import Any

from lab.consumer.protocols import BROKER_OVERRIDES, KAFKA_GROUP_DEFAULTS
from lab.consumer.settings import REMOTE_ASSIGNORS
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
        f"{c.name} on {r.topic} ({mode}, {r.processes} consumer process{'es' if r.processes > 1 else ''}), "
        f"group {r.group}",
        f"{read} ({r.bytes / 1e6:,.2f} MB): {r.msgs_per_s:,.0f} msg/s, "
        f"{r.mb_per_s:,.2f} MB/s from the first message ({r.consume_s:.2f} s); joined in {r.join_s:.2f} s.",
        f"Fetch requests: {r.fetch.fetch_requests:,} ({fmt(r.fetch.fetch_requests_per_s)}/s), "
        f"{fmt(r.fetch.bytes_per_fetch, 0)} bytes and {fmt(r.fetch.msgs_per_fetch)} messages per fetch.",
    ]
    if _lat(r):
        lines.append(_lat(r))
    if r.errors:
        lines.append("Errors: " + ", ".join(f"{k}x{v}" for k, v in r.errors.items()))
    if r.members:
        lines.append(f"{len(r.members)} member processes, partitions assigned; started in {r.join_s:.2f} s; "
                     "throughput from the first member's first message to the last one's last:")
        lines.append(table([(m.index, ",".join(map(str, m.partitions)), f"{m.consumed:,}", f"{m.expected:,}",
                             fmt(m.msgs_per_s, 0), fmt(m.first_message_s, 2), fmt(m.consume_s, 2),
                             fmt(m.cpu_per_s, 2), fmt(m.cpu_wait_per_s, 2), m.died or "-") for m in r.members],
                           ["member", "partitions", "consumed", "share", "msg/s", "first s", "read s", "CPU s/s",
                            "waited for a core s/s", "died"]))
    return "\n".join(lines + [verdict_text(r.verdict)] + stopped_line(r))


def sweep(r: Any) -> str:
    rows = [(x["label"], f"{x['msgs_per_s']:,.0f}", f"{x['mb_per_s']:,.2f}", fmt(x["fetch_requests_per_s"]),
             fmt(x["bytes_per_fetch"], 0), fmt(x["p50_ms"]), fmt(x["p99_ms"]), fmt(x["max_ms"]),
             x.get("doubts") or "-") for x in r.rows()]
    head = f"{r.settings.kind}: {len(r.runs)}/{r.planned} runs"
    return "\n".join([head, table(rows, ["variant", "msg/s", "MB/s", "fetch/s", "B/fetch", "p50 ms", "p99 ms",
                                         "max ms", "doubts"]), *stopped_line(r)])


def cross_check(r: Any) -> str:
    lab, perf, one = r.lab, r.perf, r.one_process
    n = lab.processes if lab else 1
    cols = [lab] + ([one] if one is not None and one is not lab else [])

    def row(name: str, get: Any, digits: int, tool: Any) -> tuple[str, ...]:
        return (name, *(fmt(get(x), digits) for x in cols), fmt(tool, digits))

    rows = [
        row("msg/s (from first message)", lambda x: x.msgs_per_s if x else None, 0,
            perf.fetch_records_per_s if perf else None),
        row("MB/s (from first message)", lambda x: x.mb_per_s if x else None, 2, perf.fetch_mb_per_s if perf else None),
        row("join / rebalance ms", lambda x: x.join_s * 1000 if x else None, 0, perf.rebalance_ms if perf else None),
        row("messages", lambda x: x.consumed if x else None, 0, perf.records if perf else None),
    ]
    heads = [f"lab ({n} process{'es' if n > 1 else ''})"] + (["lab (1 process)"] if len(cols) > 1 else [])
    ratios = [f"lab ({n}) / perf tool (msg/s): {fmt(r.throughput_ratio, 2)}"]
    if len(cols) > 1:
        ratios.append(f"lab (1) / perf tool (msg/s): {fmt(r.one_process_ratio, 2)}")
    return "\n".join([f"{r.count:,} messages of {r.settings.consumer.topic}: the lab vs kafka-consumer-perf-test",
                      table(rows, ["figure", *heads, "perf tool (1 JVM consumer)"]), *ratios,
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


def _lab_and_kafka(key: str) -> str:
    """``key``'s value on the lab's clusters and Kafka's default: "10000 ms on the lab's clusters (Kafka: 45000)"."""
    return f"{BROKER_OVERRIDES[key]} ms on the lab's clusters (Kafka: {KAFKA_GROUP_DEFAULTS[key]})"


def new_protocol_rows() -> list[tuple[str, str]]:
    """(classic consumer setting, what takes its place with group.protocol=consumer), KIP-848. The lab's values
    are the ones its clusters are started with (``lab.cluster`` broker settings), not copies."""
    sess, hb = "group.consumer.session.timeout.ms", "group.consumer.heartbeat.interval.ms"
    return [
        ("partition.assignment.strategy", f"the broker assigns; group.remote.assignor picks one of the broker's "
                                          f"group.consumer.assignors ({', '.join(REMOTE_ASSIGNORS)}; the first one "
                                          "when unset)"),
        ("session.timeout.ms", f"the broker's {sess}: {_lab_and_kafka(sess)}"),
        ("heartbeat.interval.ms", f"the broker's {hb}: {_lab_and_kafka(hb)}"),
        ("group.protocol.type", "refused: it names the classic protocol's group type"),
        ("max.poll.interval.ms", "unchanged: still the client's"),
    ]


#: What the new protocol changes beyond the settings (Kafka's consumer-rebalance-protocol page, KIP-848).
NEW_PROTOCOL_NOTE = (
    "librdkafka refuses to create a consumer with group.protocol=consumer and any of the first four set. "
    "Rebalances are incremental: the broker computes the target assignment, and each member, on its own "
    "heartbeats, gives up only the partitions that move and then takes the new ones; no JoinGroup/SyncGroup "
    "round stops the whole group. Needs brokers on Kafka 4.0+ (where it is GA) and librdkafka 2.12+.")


def new_protocol(markdown: bool = False) -> str:
    """The classic knobs group.protocol=consumer replaces or leaves, and why; a table for the terminal, or
    Markdown for the page."""
    rows = new_protocol_rows()
    if markdown:
        lines = ["| classic setting | with `group.protocol=consumer` |", "|---|---|"]
        lines += [f"| `{k}` | {v} |" for k, v in rows]
        return "\n".join([*lines, "", NEW_PROTOCOL_NOTE])
    return "\n".join([table(rows, ["classic setting", "with group.protocol=consumer"]), NEW_PROTOCOL_NOTE])


def protocols(r: Any) -> str:
    head = [f"Kafka {r.kafka_version}; the brokers' group settings: "
            + ", ".join(f"{k}={v}" for k, v in r.broker_configs.items())]
    return "\n".join(head + [strategies(r), "", new_protocol()])


def static(r: Any) -> str:
    rows = [(c.case, c.restarted, f"{c.back_t - c.closed_t:.1f}", c.others_callbacks,
             f"{fmt(c.generation_before)} -> {fmt(c.generation_after)}", "yes" if c.same_partitions else "no",
             f"{c.unowned_partition_s:.2f}", "yes" if c.rebalanced else "no") for c in r.cases]
    return "\n".join([table(rows, ["case", "member", "away s", "callbacks on the others", "generation",
                                    "same partitions", "unowned p*s", "rebalance"]), *stopped_line(r)])
