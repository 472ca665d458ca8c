"""`kafka-lab cluster up|down|status`, `kafka-lab broker ACTION N`, `kafka-lab topics create|describe`."""

from __future__ import annotations

import argparse
from typing import Any

from lab.cli.base import Handler
from lab.cluster import DEFAULT_KAFKA_VERSION, BrokerAction, Cluster
from lab.cluster import text as cluster_text
from lab.cluster.secure import SECURITY_MODES
from lab.core import text as core_text
from lab.kafka import admin


def cmd_up(args: argparse.Namespace, cluster: Cluster) -> Any:
    report = cluster.up(timeout_s=args.timeout)
    if args.json:
        return report
    if report.already_running:
        msg = f"The {cluster.backend} cluster is already running (checked in {report.seconds:.1f} s)."
    else:
        msg = (f"Started broker(s) {', '.join(map(str, report.started_nodes))}; cluster ready "
               f"(3 brokers registered, produce/consume round trip ok) in {report.seconds:.1f} s.")
    notes = "".join(f"\nnote: {n}" for n in report.notes)
    return msg + notes + "\n\n" + cluster_text.status(report.status)


def cmd_down(args: argparse.Namespace, cluster: Cluster) -> Any:
    cluster.down(purge=args.purge)
    return {"stopped": True, "purged": args.purge} if args.json else (
        "Cluster stopped" + (" and its data deleted." if args.purge else "; data kept (use --purge to delete)."))


def cmd_status(args: argparse.Namespace, cluster: Cluster) -> Any:
    st = cluster.status()
    return st if args.json else cluster_text.status(st)


def cmd_broker(args: argparse.Namespace, cluster: Cluster) -> Any:
    info = cluster.broker(args.action, args.node, timeout_s=args.timeout, face="cli")
    return info if args.json else f"broker {info.node_id}: {info.state.value}"


def cmd_topics_create(args: argparse.Namespace, cluster: Cluster) -> Any:
    outcomes = admin.create_topics(cluster)
    if args.json:
        return outcomes
    return core_text.table([(o.name, o.action, o.partitions, o.note) for o in outcomes],
                      ["topic", "result", "partitions", "note"])


def cmd_topics_describe(args: argparse.Namespace, cluster: Cluster) -> Any:
    topics = admin.describe_topics(cluster, args.topics or None, include_internal=args.all, with_elr=args.elr)
    if args.json:
        return topics
    blocks = []
    for t in topics:
        elr = [(ids_or_na(p.elr), ids_or_na(p.last_known_elr)) if args.elr else () for p in t.partitions]
        rows = [(p.partition, p.leader if p.leader >= 0 else "none",
                 ",".join(map(str, p.replicas)), ",".join(map(str, p.isr)) or "-", *e,
                 "UNDER-REPLICATED" if p.under_replicated else "") for p, e in zip(t.partitions, elr, strict=True)]
        cfg = ", ".join(f"{k}={v}" for k, v in t.configs.items()) or "(broker defaults)"
        blocks.append(f"Topic: {t.name}   configs: {cfg}\n" + core_text.table(
            rows, ["partition", "leader", "replicas", "isr", *(("elr", "last known elr") if args.elr else ()), ""]))
    if args.elr and topics:
        t = topics[0]
        level = t.elr_feature_level
        blocks.append(f"eligible.leader.replicas.version={level}"
                      + (" — no ELR on this cluster (Kafka 3.9 keeps the ISR's last member instead)" if level == 0
                         else "") + f"\n(ELR from {t.elr_source})")
    return "\n\n".join(blocks) or "No topics yet: run `kafka-lab topics create`."


def ids_or_na(xs: tuple[int, ...] | None) -> str:
    return "n/a" if xs is None else (",".join(map(str, xs)) or "-")


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    cl = sub.add_parser("cluster", help="start, stop and inspect the cluster").add_subparsers(dest="verb",
                                                                                             required=True)
    up = cl.add_parser(
        "up", parents=[common], help="start the 3-broker cluster (no-op when running)",
        description="Start the lab's 3-broker KRaft cluster (a no-op when it runs). With --security sasl_ssl a new "
        "cluster is secured: TLS from a CA the lab makes (for 127.0.0.1/localhost), SCRAM-SHA-512 users 'admin' "
        "(super user) and 'student' (only topics, groups and transactional ids starting with 'lab-'), ACLs "
        "enforced, controllers on mutual TLS. Random passwords go to DIR/admin.properties and "
        "DIR/student.properties (mode 0600, DIR = --state-dir); run experiments as the student with "
        "KAFKA_LAB_CLIENT_CONFIG=DIR/student.properties kafka-lab COMMAND --bootstrap HOST:PORT.")
    up.add_argument("--version", help=f"Kafka version for a new local cluster (default {DEFAULT_KAFKA_VERSION})")
    up.add_argument("--security", choices=SECURITY_MODES,
                    help="a new local cluster's security: plaintext (default) or sasl_ssl (TLS + SCRAM + ACLs); "
                    "an existing cluster keeps its own (down --purge to change it)")
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
    d.add_argument("--elr", action="store_true", help="also ELR and last known ELR (KIP-966) from Kafka's own "
                   "kafka-topics --describe (a JVM start: a few seconds)")
    d.add_argument("topics", nargs="*", help="topic names (default: all)")
    d.add_argument("--all", action="store_true", help="include internal topics")
    return {
        ("cluster", "up"): cmd_up,
        ("cluster", "down"): cmd_down,
        ("cluster", "status"): cmd_status,
        ("broker",): cmd_broker,
        ("topics", "create"): cmd_topics_create,
        ("topics", "describe"): cmd_topics_describe,
    }
