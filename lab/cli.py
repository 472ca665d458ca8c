"""`kafka-lab …`: the lab's functions from a terminal. Tables for people, ``--json`` for machines.

Every command takes ``--bootstrap`` (or ``KAFKA_LAB_BOOTSTRAP``) to use an external cluster. Errors are
``LabError``s printed as one message with its fix, exit status 2; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from lab import admin
from lab.cluster import BACKENDS, BrokerAction, Cluster, ClusterStatus, from_env
from lab.errors import LabError

Handler = Callable[[argparse.Namespace, Cluster], Any]
#: Registry of sub-command handlers; later modules add theirs with ``command(...)``.
COMMANDS: dict[tuple[str, ...], Handler] = {}


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, enums, tuples and dicts -> plain JSON types."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    return obj


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- human renderings ----------------------------------------------------------------------------
def render_status(st: ClusterStatus) -> str:
    head = [
        f"backend:     {st.backend}" + (f" (Kafka {st.kafka_version})" if st.kafka_version else ""),
        f"bootstrap:   {st.bootstrap_servers}",
        f"reachable:   {'yes' if st.reachable else 'NO'}",
        f"cluster id:  {st.cluster_id or '-'}",
        f"controller:  {st.controller_id if st.controller_id is not None else '-'}",
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


def cmd_cluster_up(args: argparse.Namespace, cluster: Cluster) -> Any:
    report = cluster.up(timeout_s=args.timeout)
    if args.json:
        return report
    if report.already_running:
        msg = f"The {cluster.backend} cluster is already running (checked in {report.seconds:.1f} s)."
    else:
        msg = (f"Started broker(s) {', '.join(map(str, report.started_nodes))}; cluster ready "
               f"(3 brokers registered, produce/consume round trip ok) in {report.seconds:.1f} s.")
    notes = "".join(f"\nnote: {n}" for n in report.notes)
    return msg + notes + "\n\n" + render_status(report.status)


def cmd_cluster_down(args: argparse.Namespace, cluster: Cluster) -> Any:
    cluster.down(purge=args.purge)
    return {"stopped": True, "purged": args.purge} if args.json else (
        "Cluster stopped" + (" and its data deleted." if args.purge else "; data kept (use --purge to delete)."))


def cmd_cluster_status(args: argparse.Namespace, cluster: Cluster) -> Any:
    st = cluster.status()
    return st if args.json else render_status(st)


def cmd_broker(args: argparse.Namespace, cluster: Cluster) -> Any:
    info = cluster.broker(args.action, args.node, timeout_s=args.timeout)
    return info if args.json else f"broker {info.node_id}: {info.state.value}"


def cmd_topics_create(args: argparse.Namespace, cluster: Cluster) -> Any:
    outcomes = admin.create_topics(cluster)
    if args.json:
        return outcomes
    return table([(o.name, o.action, o.partitions, o.note) for o in outcomes],
                 ["topic", "result", "partitions", "note"])


def cmd_topics_describe(args: argparse.Namespace, cluster: Cluster) -> Any:
    topics = admin.describe_topics(cluster, args.topics or None, include_internal=args.all)
    if args.json:
        return topics
    blocks = []
    for t in topics:
        rows = [(p.partition, p.leader if p.leader >= 0 else "none",
                 ",".join(map(str, p.replicas)), ",".join(map(str, p.isr)),
                 "UNDER-REPLICATED" if p.under_replicated else "") for p in t.partitions]
        cfg = ", ".join(f"{k}={v}" for k, v in t.configs.items()) or "(broker defaults)"
        blocks.append(f"Topic: {t.name}   configs: {cfg}\n"
                      + table(rows, ["partition", "leader", "replicas", "isr", ""]))
    return "\n\n".join(blocks) or "No topics yet: run `kafka-lab topics create`."


COMMANDS.update({
    ("cluster", "up"): cmd_cluster_up,
    ("cluster", "down"): cmd_cluster_down,
    ("cluster", "status"): cmd_cluster_status,
    ("broker",): cmd_broker,
    ("topics", "create"): cmd_topics_create,
    ("topics", "describe"): cmd_topics_describe,
})


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("--bootstrap", help="use an external cluster at host:port[,host:port] "
                        "(or set KAFKA_LAB_BOOTSTRAP; security settings come from KAFKA_LAB_* variables)")
    common.add_argument("--backend", choices=BACKENDS, help="local (default), compose or external")
    common.add_argument("--state-dir", help="local backend: where the cluster keeps its data "
                        "(default $KAFKA_LAB_STATE_DIR or ~/.local/state/kafka-lab/cluster)")

    p = argparse.ArgumentParser(prog="kafka-lab", description="Kafka Tuning Lab: experiments on a real cluster.")
    sub = p.add_subparsers(dest="group", required=True)

    cl_parser = sub.add_parser("cluster", help="start, stop and inspect the cluster")
    cl = cl_parser.add_subparsers(dest="verb", required=True)
    up = cl.add_parser("up", parents=[common], help="start the 3-broker cluster (no-op when running)")
    up.add_argument("--version", help="Kafka version for a new local cluster (default 3.9.2)")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness")
    down = cl.add_parser("down", parents=[common], help="stop all brokers")
    down.add_argument("--purge", action="store_true", help="also delete all data")
    cl.add_parser("status", parents=[common], help="backend, ids, each broker's state")

    br = sub.add_parser("broker", parents=[common], help="stop|kill|pause|resume|start one broker")
    br.add_argument("action", choices=[a.value for a in BrokerAction])
    br.add_argument("node", type=int, help="broker id (1, 2 or 3)")
    br.add_argument("--timeout", type=float, default=60.0)

    tp = sub.add_parser("topics", help="the lab's topics").add_subparsers(dest="verb", required=True)
    tp.add_parser("create", parents=[common], help="create the lab's topics (idempotent)")
    d = tp.add_parser("describe", parents=[common], help="partitions, leader, replicas, ISR, configs")
    d.add_argument("topics", nargs="*", help="topic names (default: all)")
    d.add_argument("--all", action="store_true", help="include internal topics")

    for register in EXTRA_PARSERS:
        register(sub, common)
    return p


#: Later modules add sub-parsers here: ``fn(subparsers, common_parent)``.
EXTRA_PARSERS: list[Callable[[Any, argparse.ArgumentParser], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # argparse would say "arguments are required: group"; the help says more
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    key = (args.group, args.verb) if getattr(args, "verb", None) else (args.group,)
    handler = COMMANDS[key]
    try:
        cluster = from_env(bootstrap=args.bootstrap, backend=args.backend, state_dir=args.state_dir,
                           version=getattr(args, "version", None))
        result = handler(args, cluster)
    except LabError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.message, "hint": exc.hint, "type": type(exc).__name__}), file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json and not isinstance(result, str):
        print(json.dumps(to_jsonable(result), indent=2))
    elif result is not None:
        print(result)
    return 0


# --- bench: producer tuning (acks, compression, batching, perf-tool cross-check) -----------------
def _producer_settings(args: argparse.Namespace) -> Any:
    """ProducerSettings from the bench flags (validation, with what is allowed, happens in the dataclass)."""
    from lab.settings import PRESETS, ProducerSettings, preset

    fields: dict[str, Any] = {}
    for flag, name in (("acks", "acks"), ("codec", "compression"), ("level", "compression_level"),
                       ("linger_ms", "linger_ms"), ("batch_size", "batch_size"), ("max_in_flight", "max_in_flight"),
                       ("buffer_kbytes", "buffer_kbytes"), ("message_size", "message_size"),
                       ("payload", "payload"), ("keys", "key_spread"), ("partitions", "partitions"),
                       ("replication_factor", "replication_factor"), ("rate", "rate"),
                       ("delivery_timeout_ms", "delivery_timeout_ms")):
        value = getattr(args, flag, None)
        if value is not None:
            fields[name] = value
    if args.idempotence is not None:
        fields["enable_idempotence"] = args.idempotence
    if args.end_to_end:
        fields["end_to_end"] = True
    if args.duration is not None:
        fields.update(duration_s=args.duration, count=args.count)
    elif args.count is not None:
        fields["count"] = args.count
    if args.preset:
        if args.preset not in PRESETS:
            from lab.errors import SettingsError

            raise SettingsError(f"Unknown preset {args.preset!r}.", hint=f"Use one of: {', '.join(PRESETS)}.")
        return preset(args.preset, **fields)
    return ProducerSettings(**fields)


def _bench_progress(args: argparse.Namespace) -> Callable[[Any], None]:
    last = [""]

    def show(p: Any) -> None:
        line = (f"[{p.fraction * 100:5.1f}%] " if p.fraction is not None else "[ ... ] ") + p.message
        if line != last[0] and not getattr(args, "quiet", False):
            print(line, file=sys.stderr, flush=True)
            last[0] = line
    return show


def _fmt(x: Any, digits: int = 1) -> str:
    if isinstance(x, float):
        return "-" if x != x else f"{x:,.{digits}f}"
    return str(x)


def render_produce(r: Any) -> str:
    s, lat, st = r.settings, r.latency, r.stats
    out = [
        f"settings:   {s.name}  (idempotence={s.enable_idempotence}, in-flight={s.max_in_flight}, "
        f"{s.message_size} B {s.payload} payload, keys={s.key_spread or 'none'}, partitions={s.partitions})",
        f"topic:      {r.topic} on {r.backend} ({r.bootstrap_servers})",
        f"messages:   {r.sent:,} sent, {r.delivered:,} acknowledged, {r.failed:,} failed, "
        f"{r.unacknowledged:,} unacknowledged; topic holds {r.topic_messages if r.topic_messages is not None else '?'}",
        f"throughput: {_fmt(r.msgs_per_s, 0)} msg/s, {_fmt(r.mb_per_s, 2)} MB/s over {r.elapsed_s:.2f} s "
        f"({r.cpu_s:.2f} s CPU of this process, {r.cpu_s / max(1, r.sent) * 1e6:.2f} us per message)",
    ]
    rows = [("send->ack", lat)]
    if r.intended_latency is not None:
        rows.append(("intended->ack", r.intended_latency))
    if r.e2e_latency is not None:
        rows.append(("send->consume", r.e2e_latency))
    out.append("")
    out.append(table([(n, x.count, _fmt(x.avg_ms, 2), _fmt(x.p50_ms, 2), _fmt(x.p95_ms, 2), _fmt(x.p99_ms, 2),
                       _fmt(x.p999_ms, 2), _fmt(x.max_ms, 2)) for n, x in rows],
                     ["latency (ms)", "count", "avg", "p50", "p95", "p99", "p99.9", "max"]))
    out.append("")
    out.append(f"librdkafka: {_fmt(st.avg_batch_bytes, 0)} B and {_fmt(st.avg_msgs_per_batch, 1)} msgs per batch, "
               f"{_fmt(st.requests_per_s, 0)} requests/s, broker rtt avg {_fmt(st.broker_rtt_avg_ms, 2)} ms "
               f"(p99 {_fmt(st.broker_rtt_p99_ms, 2)} ms), compression ratio {_fmt(st.compression_ratio, 2)}")
    if r.errors or r.client_errors or r.queue_full:
        out.append(f"errors:     delivery {r.errors or 'none'}; client {r.client_errors or 'none'}; "
                   f"queue full {r.queue_full} time(s)")
    out.extend(f"note: {n}" for n in r.notes())
    if r.stopped:
        out.append(f"NOTE: {r.stopped}")
    return "\n".join(out)


def render_sweep(r: Any) -> str:
    rows = [(x["label"], f"{x['delivered']:,}", _fmt(x["msgs_per_s"], 0), _fmt(x["mb_per_s"], 2),
             _fmt(x["p50_ms"], 2), _fmt(x["p99_ms"], 2), _fmt(x["compression_ratio"], 2),
             _fmt(x["msgs_per_batch"], 1), _fmt(x["requests_per_s"], 0)) for x in r.rows()]
    out = table(rows, ["run", "acked", "msg/s", "MB/s", "p50 ms", "p99 ms", "ratio", "msgs/batch", "req/s"])
    out += f"\n\n{len(r.runs)}/{r.planned} runs in {r.elapsed_s:.1f} s (each on its own fresh topic)"
    failed = [x for x in r.runs if x.failed or x.errors]
    if failed:
        out += "\nerrors: " + "; ".join(f"{x.settings.name}: {x.errors}" for x in failed)
    if r.stopped:
        out += f"\nNOTE: {r.stopped}"
    return out


def render_cross_check(c: Any) -> str:
    rows = [(name, _fmt(a, 2), _fmt(b, 2), _fmt(q, 3)) for name, a, b, q in c.rows()]
    out = table(rows, ["figure", "lab", "perf tool", "lab/perf"])
    out += (f"\n\nsettings: {c.lab.settings.name}, {c.lab.settings.message_size} B records"
            + (f" at {c.lab.settings.rate:g} msg/s" if c.lab.settings.rate else " as fast as possible"))
    out += "\nperf tool: " + " ".join(c.perf.command[c.perf.command.index("--topic"):])
    for n in c.perf.notes:
        out += f"\nnote: {n}"
    return out


def _time_limit(args: argparse.Namespace, settings: Any, runs: int) -> float:
    from lab.produce import time_limit_for

    return float(args.time_limit) if args.time_limit else time_limit_for(settings, runs)


def cmd_bench_produce(args: argparse.Namespace, cluster: Cluster) -> Any:
    from lab import experiment, produce

    s = _producer_settings(args)
    r = experiment.run_sync(lambda ctx: produce.run(cluster, s, ctx), time_limit_s=_time_limit(args, s, 1),
                            name="produce run", on_progress=_bench_progress(args), every_s=1.0)
    return r if args.json else render_produce(r)


def _cmd_sweep(kind: str) -> Handler:
    def handler(args: argparse.Namespace, cluster: Cluster) -> Any:
        from lab import experiment, produce
        from lab.settings import CODECS

        base = _producer_settings(args)
        if kind == "codec":
            variants = produce.codec_variants(base, _csv(args.codecs, str) if args.codecs else CODECS)
        elif kind == "batch":
            lingers = _csv(args.lingers, float) if args.lingers else produce.BATCH_LINGERS_MS
            sizes = _csv(args.sizes, int) if args.sizes else produce.BATCH_SIZES
            variants = produce.batch_variants(base, lingers, sizes)
        elif kind == "acks":
            variants = produce.acks_variants(base)
        else:
            variants = produce.preset_variants(base)
        r = experiment.run_sync(lambda ctx: produce.sweep(cluster, variants, ctx, kind),
                                time_limit_s=_time_limit(args, base, len(variants)), name=f"{kind} sweep",
                                on_progress=_bench_progress(args), every_s=1.0)
        return r if args.json else render_sweep(r)
    return handler


def _csv(text: str, kind: Callable[[str], Any]) -> list[Any]:
    from lab.errors import SettingsError

    try:
        return [kind(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise SettingsError(f"Could not read the list {text!r}: {exc}.",
                            hint="Give comma-separated values, e.g. 0,5,10.") from exc


def cmd_bench_perf_test(args: argparse.Namespace, cluster: Cluster) -> Any:
    from lab import experiment, perftest

    s = _producer_settings(args)
    if args.perf_only:
        r: Any = experiment.run_sync(lambda ctx: perftest.run(cluster, s, ctx), time_limit_s=_time_limit(args, s, 1),
                                     name="perf tool run", on_progress=_bench_progress(args), every_s=1.0)
        if args.json:
            return r
        p = r.summary
        return table([("records", p.records), ("records/s", _fmt(p.records_per_s, 0)), ("MB/s", _fmt(p.mb_per_s, 2)),
                      ("avg ms", p.avg_ms), ("p50 ms", p.p50_ms), ("p95 ms", p.p95_ms), ("p99 ms", p.p99_ms),
                      ("p99.9 ms", p.p999_ms), ("max ms", p.max_ms)], ["perf tool", "value"])
    c = experiment.run_sync(lambda ctx: perftest.cross_check(cluster, s, ctx), time_limit_s=_time_limit(args, s, 2),
                            name="cross-check", on_progress=_bench_progress(args), every_s=1.0)
    return c.to_dict() if args.json else render_cross_check(c)


def cmd_bench_cleanup(args: argparse.Namespace, cluster: Cluster) -> Any:
    from lab import produce

    names = produce.cleanup_topics(cluster)
    return {"deleted": names} if args.json else f"Deleted {len(names)} topic(s) left behind by produce runs."


COMMANDS.update({
    ("bench", "cleanup"): cmd_bench_cleanup,
    ("bench", "produce"): cmd_bench_produce,
    ("bench", "compression"): _cmd_sweep("codec"),
    ("bench", "batch"): _cmd_sweep("batch"),
    ("bench", "acks"): _cmd_sweep("acks"),
    ("bench", "presets"): _cmd_sweep("presets"),
    ("bench", "perf-test"): cmd_bench_perf_test,
})


def _register_bench(sub: Any, common: argparse.ArgumentParser) -> None:
    from lab.settings import ACKS, CODECS, PAYLOADS, PRESETS

    knobs = argparse.ArgumentParser(add_help=False)
    g = knobs.add_argument_group("producer settings (defaults: ProducerSettings / the preset)")
    g.add_argument("--preset", help=f"start from a preset: {', '.join(repr(p) for p in PRESETS)}")
    g.add_argument("--acks", choices=ACKS)
    g.add_argument("--codec", choices=CODECS, help="compression.type")
    g.add_argument("--level", type=int, help="compression.level (-1 = codec default)")
    g.add_argument("--linger-ms", type=float)
    g.add_argument("--batch-size", type=int, help="batch.size in bytes")
    g.add_argument("--idempotence", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--max-in-flight", type=int)
    g.add_argument("--buffer-kbytes", type=int, help="queue.buffering.max.kbytes")
    g.add_argument("--delivery-timeout-ms", type=int, help="message.timeout.ms")
    g.add_argument("--message-size", type=int, help="value size in bytes")
    g.add_argument("--payload", choices=PAYLOADS)
    g.add_argument("--keys", type=int, help="distinct keys (0 = no keys)")
    g.add_argument("--partitions", type=int)
    g.add_argument("--replication-factor", type=int)
    g.add_argument("--count", type=int, help="messages per run")
    g.add_argument("--duration", type=float, help="seconds per run (instead of --count)")
    g.add_argument("--rate", type=float, help="target messages/s (latency also from intended send time)")
    g.add_argument("--end-to-end", action="store_true", help="also consume and report send->consume latency")
    g.add_argument("--time-limit", type=float, help="seconds before the run is stopped (default: generous)")
    g.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    bench = sub.add_parser("bench", help="producer experiments: produce, compression, batch, acks, perf-test")
    b = bench.add_subparsers(dest="verb", required=True)
    b.add_parser("produce", parents=[common, knobs], help="one produce run: throughput, latency, librdkafka stats")
    c = b.add_parser("compression", parents=[common, knobs], help="the five codecs side by side")
    c.add_argument("--codecs", help="comma-separated subset, e.g. none,gzip,lz4")
    bt = b.add_parser("batch", parents=[common, knobs], help="linger.ms x batch.size matrix")
    bt.add_argument("--lingers", help="comma-separated linger.ms values (default 0,1,5,10,50)")
    bt.add_argument("--sizes", help="comma-separated batch.size values (default 1024,...,262144)")
    b.add_parser("acks", parents=[common, knobs], help="acks 0, 1 and all side by side")
    b.add_parser("presets", parents=[common, knobs], help="the seeds' four producer presets side by side")
    pt = b.add_parser("perf-test", parents=[common, knobs],
                      help="Kafka's own ProducerPerformance next to the lab's run, with ratios")
    pt.add_argument("--perf-only", action="store_true", help="run only Kafka's perf tool")
    b.add_parser("cleanup", parents=[common], help="delete topics that produce runs left behind (lab-produce-*)")


EXTRA_PARSERS.append(_register_bench)

# --- `kafka-lab replication …` (replication lab) -------------------------------------------------
from lab.cli_replication import install as _install_replication  # noqa: E402

_install_replication(COMMANDS, EXTRA_PARSERS)


if __name__ == "__main__":
    sys.exit(main())
