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


# --- `kafka-lab replication …` (replication lab) -------------------------------------------------
from lab.cli_replication import install as _install_replication  # noqa: E402

_install_replication(COMMANDS, EXTRA_PARSERS)


if __name__ == "__main__":
    sys.exit(main())
