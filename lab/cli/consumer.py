"""`kafka-lab consumer seed|benchmark|sweep|perf-test|strategies|static-membership|protocols`: the consumer lab."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.consumer import fetch as consume
from lab.consumer import perftest as consume_perf
from lab.consumer import protocols, static, strategies
from lab.consumer import sweep as consume_sweep
from lab.consumer.settings import PROFILES, STRATEGIES, ConsumerSettings


def consumer_settings(args: argparse.Namespace, **extra: Any) -> ConsumerSettings:
    """The fetch flags -> one ConsumerSettings (a profile first, then any flag given)."""
    base = PROFILES[args.profile] if getattr(args, "profile", None) else ConsumerSettings()
    changes: dict[str, Any] = {"topic": args.topic}
    for flag, field in (("fetch_min_bytes", "fetch_min_bytes"), ("fetch_wait_max_ms", "fetch_wait_max_ms"),
                        ("fetch_max_bytes", "fetch_max_bytes"),
                        ("max_partition_fetch_bytes", "max_partition_fetch_bytes"),
                        ("queued_max_messages_kbytes", "queued_max_messages_kbytes"),
                        ("queued_min_messages", "queued_min_messages"),
                        ("fetch_queue_backoff_ms", "fetch_queue_backoff_ms"),
                        ("isolation_level", "isolation_level"), ("processing_delay_ms", "processing_delay_ms"),
                        ("count", "count"), ("duration", "duration_s")):
        value = getattr(args, flag, None)
        if value is not None:
            changes[field] = value
    return base.replace(**changes, **extra)


def cmd_seed(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = consume.SeedSettings(args.topic, args.messages, args.message_bytes, args.partitions)
    return runner.run(experiments.get("consumer.seed"), args, cluster, settings)


def cmd_benchmark(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = consume.BenchSettings(consumer_settings(args), args.produce_rate, args.message_bytes,
                                     members=_members(args.members, args.produce_rate))
    return runner.run(experiments.get("consumer.benchmark"), args, cluster, settings)


def _members(typed: int | None, produce_rate: int = 0) -> int | None:
    """``--members`` as typed; unset: one per core (None), or 1 in the live mode, which runs one consumer."""
    return typed if typed is not None else (1 if produce_rate else None)


def cmd_sweep(args: argparse.Namespace, cluster: Cluster) -> Any:
    c = consumer_settings(args)
    if args.produce_rate and c.duration_s is None and c.count is None:
        c = c.replace(duration_s=consume_sweep.DEFAULT_VARIANT_S)
    base = consume.BenchSettings(c, args.produce_rate, args.message_bytes, members=1)
    settings = consume_sweep.ConsumerSweepSettings(args.kind, base, members=tuple(args.members or ()))
    return runner.run(experiments.get("consumer.sweep"), args, cluster, settings)


def cmd_perf_test(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = consume_perf.ConsumerCrossCheckSettings(consumer_settings(args), members=_members(args.members))
    return runner.run(experiments.get("consumer.cross-check"), args, cluster, settings)


def cmd_strategies(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = strategies.StrategiesSettings(tuple(args.strategy or STRATEGIES), args.members,
                                             (args.partitions[0], args.partitions[1]), args.produce_rate, args.hold,
                                             args.processing_delay_ms)
    return runner.run(experiments.get("consumer.strategies"), args, cluster, settings)


def cmd_static(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = static.StaticSettings(tuple(args.case or static.CASES), args.members, args.partitions,
                                     args.session_timeout_ms, away_s=args.away, after_s=args.after,
                                     produce_rate=args.produce_rate)
    return runner.run(experiments.get("consumer.static-membership"), args, cluster, settings)


def cmd_protocols(args: argparse.Namespace, cluster: Cluster) -> Any:
    group = strategies.StrategiesSettings(("range",), args.members, (args.partitions[0], args.partitions[1]),
                                          args.produce_rate, args.hold)
    settings = protocols.ProtocolsSettings(group, args.classic_strategy, args.remote_assignor)
    if args.start_cluster:
        cluster = protocols.protocol_cluster(args.protocol_state_dir)
        if not args.json:
            print(f"starting the lab's Kafka {protocols.NEW_PROTOCOL_VERSION} cluster in {args.protocol_state_dir} "
                  "(stop it with `kafka-lab cluster down --state-dir …`)", file=sys.stderr)
        cluster.up(timeout_s=240)
    return runner.run(experiments.get("consumer.protocols"), args, cluster, settings)


def _member_count(text: str) -> int | None:
    """A typed member count: a whole number, or "auto" (None: one per core); anything else is refused."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a member count: use a whole number from 1 to the "
                                         "topic's partitions, or auto (one per core)") from None


MEMBERS_HELP = ("backlog mode: consumer processes sharing the topic's partitions (default: one per core, at most one "
                "per partition; 1: one consumer in the run's own process)")


def _fetch_flags(p: argparse.ArgumentParser, live_default: int) -> None:
    p.add_argument("--topic", default=consume.SEED_TOPIC, help="backlog mode: the seeded topic to read")
    p.add_argument("--profile", choices=list(PROFILES), help="start from one of the course's profiles")
    p.add_argument("--fetch-min-bytes", type=int)
    p.add_argument("--fetch-wait-max-ms", type=int, help="librdkafka's fetch.wait.max.ms (Java: fetch.max.wait.ms)")
    p.add_argument("--fetch-max-bytes", type=int)
    p.add_argument("--max-partition-fetch-bytes", type=int)
    p.add_argument("--queued-max-messages-kbytes", type=int)
    p.add_argument("--queued-min-messages", type=int, help="librdkafka prefetches a partition until its queue holds "
                   "this many messages (default 100000) ...")
    p.add_argument("--fetch-queue-backoff-ms", type=int, help="... then stops fetching it for this long (default 1000)")
    p.add_argument("--isolation-level", choices=["read_committed", "read_uncommitted"])
    p.add_argument("--processing-delay-ms", type=float, help="simulated work per message")
    p.add_argument("--count", type=int, help="messages to consume (the topic is seeded up to it when it holds fewer)")
    p.add_argument("--duration", type=float, help="seconds to consume (default for the backlog: "
                   f"{consume.BACKLOG_S:g} s; the topic is seeded to last that long)")
    p.add_argument("--produce-rate", type=int, default=live_default,
                   help="live mode: a producer writes this many msg/s to a fresh topic (0: read the backlog)")
    p.add_argument("--message-bytes", type=int, default=100, help="live mode: bytes per message")


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    cp = sub.add_parser("consumer", help="fetch tuning, assignment strategies, rebalances, static membership")
    c = cp.add_subparsers(dest="verb", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = c.add_parser(name, parents=[common], help=help_)
        runner.time_limit_flag(p)
        return p

    s = add("seed", "write numbered messages to the lab-consumer-tuning topic (created if missing)")
    s.add_argument("--topic", default=consume.SEED_TOPIC)
    s.add_argument("--messages", type=int, default=50_000)
    s.add_argument("--message-bytes", type=int, default=100)
    s.add_argument("--partitions", type=int, default=consume.SEED_PARTITIONS, help="when the topic is created")
    b = add("benchmark", "consume with one set of fetch settings: msg/s, fetch requests, latency")
    _fetch_flags(b, 0)
    b.add_argument("--members", type=int, help=MEMBERS_HELP)
    sw = add("sweep", "fetch.min.bytes x fetch.wait.max.ms, max.partition.fetch.bytes, or the two profiles")
    sw.add_argument("--kind", choices=consume_sweep.KINDS, default="fetch-matrix")
    _fetch_flags(sw, consume_sweep.DEFAULT_RATE)
    sw.add_argument("--members", action="append", type=_member_count, metavar="N|auto",
                    help="backlog sweeps: run every variant with N consumer processes (repeat to compare, e.g. "
                         "--members 1 --members auto; default: one in-process consumer)")
    pt = add("perf-test", "the lab's consumer next to Kafka's kafka-consumer-perf-test on the same topic")
    _fetch_flags(pt, 0)
    pt.add_argument("--members", type=int, help=MEMBERS_HELP + "; with more than one the lab also reads with one")
    st = add("strategies", "range, roundrobin, cooperative-sticky: assignment, then a join and a leave, measured")
    st.add_argument("--strategy", action="append", choices=STRATEGIES, help="repeat for several "
                    "(default: all three)")
    st.add_argument("--members", type=int, default=2, help="members at the start (one joins, then one leaves)")
    st.add_argument("--partitions", type=int, nargs=2, default=[5, 3], metavar=("A", "B"),
                    help="partitions of the two topics")
    st.add_argument("--produce-rate", type=int, default=200)
    st.add_argument("--hold", type=float, default=2.0, help="seconds between the steps")
    st.add_argument("--processing-delay-ms", type=float, default=0.0)
    sm = add("static-membership", "a member restarts: static within the session timeout, dynamic, static too late")
    sm.add_argument("--case", action="append", choices=static.CASES, help="repeat for several (default: all)")
    sm.add_argument("--members", type=int, default=3)
    sm.add_argument("--partitions", type=int, default=6)
    sm.add_argument("--session-timeout-ms", type=int, default=10_000)
    sm.add_argument("--away", type=float, default=2.0, help="seconds the member stays away (within the timeout)")
    sm.add_argument("--after", type=float, default=3.0, help="seconds watched after it is back")
    sm.add_argument("--produce-rate", type=int, default=100)
    pr = add("protocols", "group.protocol=classic vs consumer (KIP-848) on a Kafka 4.x cluster: join and leave")
    pr.add_argument("--start-cluster", action="store_true", help="on a 3.x app cluster: start (or "
                    "reuse) the lab's 4.x cluster in --protocol-state-dir and run there")
    pr.add_argument("--protocol-state-dir", default=protocols.protocol_state_dir(),
                    help=f"default ${protocols.PROTOCOL_STATE_ENV} or {protocols.DEFAULT_PROTOCOL_STATE_DIR}")
    pr.add_argument("--classic-strategy", choices=STRATEGIES, default="range")
    pr.add_argument("--remote-assignor", choices=["uniform", "range"], default="uniform")
    pr.add_argument("--members", type=int, default=2)
    pr.add_argument("--partitions", type=int, nargs=2, default=[5, 3], metavar=("A", "B"))
    pr.add_argument("--produce-rate", type=int, default=200)
    pr.add_argument("--hold", type=float, default=2.0)
    return {
        ("consumer", "protocols"): cmd_protocols,
        ("consumer", "strategies"): cmd_strategies,
        ("consumer", "static-membership"): cmd_static,
        ("consumer", "seed"): cmd_seed,
        ("consumer", "benchmark"): cmd_benchmark,
        ("consumer", "sweep"): cmd_sweep,
        ("consumer", "perf-test"): cmd_perf_test,
    }
