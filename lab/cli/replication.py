"""`kafka-lab replication describe|monitor|min-isr|hw-leo|unclean|elr|storage`: the replication lab."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import DEFAULT_KAFKA_VERSION, Cluster
from lab.kafka import load, timeline
from lab.replication import elr, text
from lab.replication import scenarios as replication
from lab.replication import settings as replication_settings


def cmd_describe(args: argparse.Namespace, cluster: Cluster) -> Any:
    res = replication.describe(cluster, args.topic, settle_s=replication.DESCRIBE_SETTLE_S)
    return res if args.json else text.describe(res)


def cmd_monitor(args: argparse.Namespace, cluster: Cluster) -> Any:
    prod = load.BackgroundProducerSettings(args.produce_rate, args.acks) if args.produce_rate else None
    settings = replication_settings.MonitorSettings(args.topic, args.duration, args.interval, prod)
    if not args.json:
        print(f"Watching {settings.topic} for {settings.duration_s:.0f} s (Ctrl-C stops). Stop or start a broker "
              "in another terminal, e.g. `kafka-lab broker stop 2`.", file=sys.stderr)
    return runner.run(experiments.get("replication.monitor"), args, cluster, settings)


def cmd_min_isr(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = replication_settings.MinIsrSettings(args.topic, args.min_isr, args.messages)
    return runner.run(experiments.get("replication.min-isr"), args, cluster, settings)


def cmd_hw_leo(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = replication_settings.HwLeoSettings(args.topic, args.rate, args.baseline, args.hold)
    return runner.run(experiments.get("replication.hw-leo"), args, cluster, settings)


def _unclean_settings(args: argparse.Namespace) -> replication.UncleanSettings:
    return replication.UncleanSettings(args.prefix, args.in_sync, args.lagging, args.before, args.while_lagging,
                                       args.after, election_wait_s=args.election_wait)


def cmd_unclean(args: argparse.Namespace, cluster: Cluster) -> Any:
    return runner.run(experiments.get("replication.unclean"), args, cluster, _unclean_settings(args))


def cmd_elr(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = elr.VersionsSettings(_unclean_settings(args), args.other_version or "", args.other_state_dir or "")
    if not args.json:
        print("The unclean-election fault on this cluster, then on a second lab cluster of "
              f"{settings.other_version or 'the other version (3.9.2 against 4.x, else ' + DEFAULT_KAFKA_VERSION + ')'}"
              ", started here and stopped (its data deleted) at the end.", file=sys.stderr)
    return runner.run(experiments.get("replication.elr"), args, cluster, settings)


def _unclean_flags(u: argparse.ArgumentParser) -> None:
    u.add_argument("--prefix", default="lab-unclean-demo", help="topics <prefix>-clean and <prefix>-unclean")
    u.add_argument("--in-sync", type=int, default=1, help="broker that leads and then crashes")
    u.add_argument("--lagging", type=int, default=2, help="broker that misses writes and is left alone")
    u.add_argument("--before", type=int, default=50)
    u.add_argument("--while-lagging", type=int, default=100)
    u.add_argument("--after", type=int, default=50)
    u.add_argument("--election-wait", type=float, default=replication.UncleanSettings().election_wait_s,
                   help="seconds to wait for the controller's own unclean election before asking for one")


def cmd_storage(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = replication_settings.StorageSettings(args.topic, args.segment_bytes, args.messages,
                                        compact_topic=args.compact_topic, keys=args.keys,
                                        updates_per_key=args.updates)
    return runner.run(experiments.get("replication.storage"), args, cluster, settings)


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    rp = sub.add_parser("replication", help="ISR, HW/LEO, leader epochs, min.insync.replicas, unclean election")
    r = rp.add_subparsers(dest="verb", required=True)

    def add(name: str, help_: str, runs: bool = True) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = r.add_parser(name, parents=[common], help=help_)
        if runs:
            runner.time_limit_flag(p)
        return p

    d = add("describe", "leader, epoch, replicas, ISR, high watermark and each replica's log end offset", runs=False)
    d.add_argument("topic", nargs="?", default="lab-replication-demo")
    m = add("monitor", "record ISR shrink/expand, leader and epoch changes (about once a second)")
    m.add_argument("topic", nargs="?", default="lab-replication-demo")
    m.add_argument("--duration", type=float, default=120.0, help="seconds to watch")
    m.add_argument("--interval", type=float, default=timeline.POLL_INTERVAL_S, help="seconds between polls")
    m.add_argument("--produce-rate", type=int, default=0, help="background producer messages/s (0: none)")
    m.add_argument("--acks", default="all", choices=["0", "1", "all"], help="background producer acks")
    mi = add("min-isr", "stop two followers: acks=all refused with NOT_ENOUGH_REPLICAS, then recovered")
    mi.add_argument("--topic", default="lab-min-isr-demo")
    mi.add_argument("--min-isr", type=int, default=2)
    mi.add_argument("--messages", type=int, default=20, help="probe writes per phase and acks setting")
    h = add("hw-leo", "pause a follower under acks=all: HW stalls, then races ahead; resume: it rejoins")
    h.add_argument("--topic", default="lab-hw-leo-demo")
    h.add_argument("--rate", type=int, default=100, help="producer messages/s")
    h.add_argument("--baseline", type=float, default=3.0, help="seconds recorded before the pause")
    h.add_argument("--hold", type=float, default=5.0, help="seconds paused after leaving the ISR")
    _unclean_flags(add("unclean", "unclean leader election off vs on: unavailable vs acknowledged messages lost"))
    e = add("elr", "the unclean-election fault on this cluster and on a second one of the other Kafka version "
                   "(3.9 vs 4.x): eligible leader replicas (KIP-966) side by side")
    _unclean_flags(e)
    e.add_argument("--other-version", help=f"the second cluster's Kafka version (default: 3.9.2 against a 4.x "
                   f"cluster, else {DEFAULT_KAFKA_VERSION})")
    e.add_argument("--other-state-dir", help=f"its state directory, deleted afterwards (default "
                   f"${elr.COMPARE_STATE_ENV} or {elr.DEFAULT_COMPARE_STATE_DIR})")
    s = add("storage", "segment files as they roll; compaction before/after (local backend)")
    s.add_argument("--topic", default="lab-storage-demo")
    s.add_argument("--segment-bytes", type=int, default=replication_settings.StorageSettings().segment_bytes,
                   help="at least 1048576 (1 MiB) on Kafka 4.x; 3.x takes smaller ones")
    s.add_argument("--messages", type=int, default=replication_settings.StorageSettings().messages,
                   help="messages of 1 KB")
    s.add_argument("--compact-topic", default="lab-compaction-demo")
    s.add_argument("--keys", type=int, default=20)
    s.add_argument("--updates", type=int, default=50, help="updates per key")
    return {
        ("replication", "describe"): cmd_describe,
        ("replication", "monitor"): cmd_monitor,
        ("replication", "min-isr"): cmd_min_isr,
        ("replication", "hw-leo"): cmd_hw_leo,
        ("replication", "unclean"): cmd_unclean,
        ("replication", "elr"): cmd_elr,
        ("replication", "storage"): cmd_storage,
    }
