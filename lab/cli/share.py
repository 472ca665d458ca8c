"""`kafka-lab share compare|acks|crash|describe`: share groups (KIP-932, Kafka 4.2+; phase 7)."""

from __future__ import annotations

import argparse
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.queues import state
from lab.queues import text as text_share
from lab.queues.settings import FAILURES, ShareAcksSettings, ShareCompareSettings, ShareCrashSettings


def cmd_compare(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = ShareCompareSettings(args.partitions, args.members, args.records, args.processing_delay_ms,
                                    args.max_poll_records)
    return runner.run(experiments.get("share.compare"), args, cluster, settings)


def cmd_acks(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = ShareAcksSettings(args.partitions, args.members, args.records, args.processing_delay_ms,
                                 args.max_poll_records, args.release_fraction, args.reject_fraction, not args.no_poison,
                                 args.delivery_count_limit, args.lock_ms)
    return runner.run(experiments.get("share.acks"), args, cluster, settings)


def cmd_crash(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = ShareCrashSettings(args.partitions, args.members, args.records, args.processing_delay_ms,
                                  args.max_poll_records, args.lock_ms, args.failure)
    return runner.run(experiments.get("share.crash"), args, cluster, settings)


def cmd_describe(args: argparse.Namespace, cluster: Cluster) -> Any:
    st = state.describe(cluster, args.share_group)
    return st if args.json else "\n".join(text_share.state_lines(st))


def _common(p: argparse.ArgumentParser, defaults: Any) -> None:
    p.add_argument("--partitions", type=int, default=defaults.partitions)
    p.add_argument("--members", type=int, default=defaults.members)
    p.add_argument("--records", type=int, default=defaults.records, help="records in the backlog")
    p.add_argument("--processing-delay-ms", type=float, default=defaults.processing_delay_ms,
                   help="time each member spends per record")
    p.add_argument("--max-poll-records", type=int, default=defaults.max_poll_records,
                   help="records one poll returns")


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    group = sub.add_parser("share", help="share groups (Kafka as a queue, KIP-932): compare, acks, crash, describe")
    verbs = group.add_subparsers(dest="verb", required=True)
    c = verbs.add_parser("compare", parents=[common],
                         help="more readers than partitions: a share group vs a consumer group on one backlog")
    _common(c, ShareCompareSettings())
    runner.time_limit_flag(c)
    a = verbs.add_parser("acks", parents=[common],
                         help="accept, release, reject: failing records come back, a poison record is archived")
    ad = ShareAcksSettings()
    _common(a, ad)
    a.add_argument("--release-fraction", type=float, default=ad.release_fraction,
                   help="records released on their first delivery (then accepted)")
    a.add_argument("--reject-fraction", type=float, default=ad.reject_fraction, help="records rejected (archived)")
    a.add_argument("--no-poison", action="store_true", help="no record that fails every time")
    a.add_argument("--delivery-count-limit", type=int, default=ad.delivery_count_limit,
                   help="the group's share.delivery.count.limit")
    a.add_argument("--lock-ms", type=int, default=ad.lock_duration_ms, help="the group's share.record.lock.duration.ms")
    runner.time_limit_flag(a)
    k = verbs.add_parser("crash", parents=[common],
                         help="a share consumer dies mid-record: how long until the others get its records")
    kd = ShareCrashSettings()
    _common(k, kd)
    k.add_argument("--lock-ms", type=int, default=kd.lock_duration_ms, help="the group's share.record.lock.duration.ms")
    k.add_argument("--failure", choices=FAILURES, default=kd.failure,
                   help="kill: SIGKILL (its connections close); freeze: SIGSTOP (hung, connections open)")
    runner.time_limit_flag(k)
    d = verbs.add_parser("describe", parents=[common],
                         help="a share group's members, assignment and start offsets (Kafka's kafka-share-groups)")
    d.add_argument("share_group", metavar="GROUP", help="share group id")
    return {("share", "compare"): cmd_compare, ("share", "acks"): cmd_acks, ("share", "crash"): cmd_crash,
            ("share", "describe"): cmd_describe}
