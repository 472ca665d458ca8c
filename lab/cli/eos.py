"""`kafka-lab eos idempotent|transactional|fencing|pipeline`: the exactly-once lab (course phase 3).

Each command builds one settings object from its flags (validated there, saying what is allowed) and
runs the registry's experiment through the one CLI runner (``--json`` for the stamped result).
"""

from __future__ import annotations

import argparse
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.eos import settings as eos_settings


def cmd_idempotent(args: argparse.Namespace, cluster: Cluster) -> Any:
    s = eos_settings.DuplicateSettings(
        topic=args.topic, idempotence=args.idempotence, leader=args.leader, partitions=args.partitions,
        rate_per_s=args.rate, pause_ms=args.pause_ms, socket_timeout_ms=args.socket_timeout_ms,
        retries=args.retries, max_in_flight=args.max_in_flight, acks=args.acks)
    return runner.run(experiments.get("eos.idempotent"), args, cluster, s)


def cmd_transactional(args: argparse.Namespace, cluster: Cluster) -> Any:
    s = eos_settings.TransactionSettings(
        topic=args.topic, partitions=args.partitions, transactions=args.transactions,
        records_per_transaction=args.records, aborted=args.aborted, hold_open_s=args.hold)
    return runner.run(experiments.get("eos.transactional"), args, cluster, s)


def cmd_fencing(args: argparse.Namespace, cluster: Cluster) -> Any:
    s = eos_settings.FencingSettings(topic=args.topic, records=args.records)
    return runner.run(experiments.get("eos.fencing"), args, cluster, s)


def cmd_pipeline(args: argparse.Namespace, cluster: Cluster) -> Any:
    s = eos_settings.PipelineSettings(
        topic_prefix=args.prefix, modes=args.mode, records=args.records, rate_per_s=args.rate,
        partitions=args.partitions, commit_interval_ms=args.commit_interval_ms, kills=args.kills,
        restart_after_s=args.restart_after, kill_broker=not args.no_kill_broker)
    return runner.run(experiments.get("eos.pipeline"), args, cluster, s)


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    ep = sub.add_parser("eos", help="idempotence, transactions, fencing, an exactly-once pipeline through a crash")
    e = ep.add_subparsers(dest="verb", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = e.add_parser(name, parents=[common], help=help_)
        runner.time_limit_flag(p)
        return p

    d0 = eos_settings.DuplicateSettings()
    i = add("idempotent", "freeze the leader under numbered writes: duplicates without idempotence, none with it")
    i.add_argument("--topic", default=d0.topic, help="prefix: <topic>-plain and <topic>-idempotent")
    i.add_argument("--idempotence", choices=list(eos_settings.IDEMPOTENCE_MODES), default=d0.idempotence,
                   help="off, on, or both (off first, then on)")
    i.add_argument("--leader", type=int, default=d0.leader, help="broker that leads and is frozen")
    i.add_argument("--partitions", type=int, default=d0.partitions)
    i.add_argument("--rate", type=int, default=d0.rate_per_s, help="records/s")
    i.add_argument("--pause-ms", type=int, default=d0.pause_ms,
                   help="how long the leader is frozen: > socket.timeout.ms and < broker.session.timeout.ms")
    i.add_argument("--socket-timeout-ms", type=int, default=d0.socket_timeout_ms,
                   help="librdkafka's client-side request timeout")
    i.add_argument("--retries", type=int, default=d0.retries)
    i.add_argument("--max-in-flight", type=int, default=d0.max_in_flight)
    i.add_argument("--acks", choices=["1", "all"], default=d0.acks)
    t0 = eos_settings.TransactionSettings()
    t = add("transactional", "commit and abort across partitions; HW vs LSO while open; read_committed vs uncommitted")
    t.add_argument("--topic", default=t0.topic)
    t.add_argument("--partitions", type=int, default=t0.partitions)
    t.add_argument("--transactions", type=int, default=t0.transactions)
    t.add_argument("--records", type=int, default=t0.records_per_transaction, help="records per transaction")
    t.add_argument("--aborted", type=int, default=t0.aborted, help="how many of the transactions are aborted")
    t.add_argument("--hold", type=float, default=t0.hold_open_s, help="seconds the last transaction stays open")
    f0 = eos_settings.FencingSettings()
    f = add("fencing", "two producers with one transactional.id: the older one is fenced")
    f.add_argument("--topic", default=f0.topic)
    f.add_argument("--records", type=int, default=f0.records, help="records in each producer's transaction")
    p0 = eos_settings.PipelineSettings()
    p = add("pipeline", "consume-transform-produce process SIGKILLed and restarted: exactly-once vs at-least-once")
    p.add_argument("--prefix", default=p0.topic_prefix, help="topics <prefix>-eos-in/-out and <prefix>-alo-in/-out")
    p.add_argument("--mode", choices=list(eos_settings.PIPELINE_MODES), default=p0.modes)
    p.add_argument("--records", type=int, default=p0.records, help="input records")
    p.add_argument("--rate", type=int, default=p0.rate_per_s, help="input records/s")
    p.add_argument("--partitions", type=int, default=p0.partitions)
    p.add_argument("--commit-interval-ms", type=int, default=p0.commit_interval_ms,
                   help="one transaction (or one offset commit) per this many ms")
    p.add_argument("--kills", type=int, default=p0.kills, help="SIGKILLs of the pipeline process")
    p.add_argument("--restart-after", type=float, default=p0.restart_after_s, help="seconds before restarting it")
    p.add_argument("--no-kill-broker", action="store_true",
                   help="skip the second fault (SIGKILL of an output partition's leader broker)")
    return {
        ("eos", "idempotent"): cmd_idempotent,
        ("eos", "transactional"): cmd_transactional,
        ("eos", "fencing"): cmd_fencing,
        ("eos", "pipeline"): cmd_pipeline,
    }
