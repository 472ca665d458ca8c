"""`kafka-lab lag [GROUP]`: without a group, every group with its state, members and total lag; with
one, a live table (refreshed in place on a terminal; one JSON line per sample with --json) until the
duration ends or Ctrl-C, then the statuses over the window."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.core.codec import to_jsonable
from lab.core.context import Progress
from lab.lag import sample as lag
from lab.lag import text as text_lag
from lab.lag.settings import PHASES, LagDemoSettings, LagWatchSettings, SustainableRateSettings
from lab.lag.watch import LagWatchResult
from lab.runs import launcher

CLEAR = "\x1b[H\x1b[J"


def cmd_lag(args: argparse.Namespace, cluster: Cluster) -> Any:
    if not args.consumer_group:
        summaries = lag.list_groups(cluster)
        return summaries if args.json else text_lag.groups(summaries)
    settings = LagWatchSettings(args.consumer_group, args.duration, args.interval, args.isolation, args.window,
                                args.min_distance, args.allowed_lag)
    live = sys.stdout.isatty() and not args.json
    shown = [0]

    def on_progress(p: Progress) -> None:
        r = p.partial
        if not isinstance(r, LagWatchResult) or len(r.samples) == shown[0]:
            return
        if args.json:
            for s in r.samples[shown[0]:]:
                print(json.dumps(to_jsonable(s), allow_nan=False), flush=True)
        elif live:
            print(CLEAR + text_lag.lag_sample(r.samples[-1], r.verdicts) + "\n(Ctrl-C stops)", flush=True)
        shown[0] = len(r.samples)

    result = launcher.run_sync(experiments.get("lag.watch"), cluster, settings, face="cli",
                               on_progress=on_progress, every_s=min(0.5, settings.interval_s / 2))
    if args.json:
        on_progress(Progress(partial=result))
        return {"group_status": result.group_status, "verdicts": result.verdicts, "stopped": result.stopped,
                "run": result.run}
    return text_lag.lag_watch(result)


def cmd_scenario(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = LagDemoSettings(args.partitions, args.rate, args.processing_delay_ms, args.phase,
                               tuple(x.strip() for x in args.phases.split(",") if x.strip()), args.window)
    return runner.run(experiments.get("lag.scenario"), args, cluster, settings)


def cmd_rate(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = SustainableRateSettings(args.partitions, args.members, args.processing_delay_ms, args.start_rate,
                                       args.step, args.max_rate, args.step_s)
    return runner.run(experiments.get("lag.sustainable-rate"), args, cluster, settings)


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    lag_group = sub.add_parser("lag", help="consumer lag: watch a group, make lag happen, find the sustainable rate")
    verbs = lag_group.add_subparsers(dest="verb", required=True)
    p = verbs.add_parser("watch", parents=[common], help="consumer lag per partition (any group), live, with a status")
    # (dest "group" is taken: the parser's command group)
    p.add_argument("consumer_group", nargs="?", metavar="GROUP", help="consumer group id (none: list the groups)")
    p.add_argument("--duration", type=float, default=3600.0, help="seconds to watch (Ctrl-C stops earlier)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--isolation", choices=lag.ISOLATION_LEVELS, default="read_uncommitted",
                   help="the group's isolation level: end offset = high watermark or last stable offset")
    p.add_argument("--window", type=int, default=10, help="samples in the status window")
    p.add_argument("--min-distance", type=float, default=0.0,
                   help="seconds: samples closer than this merge (e.g. the group's auto-commit interval)")
    p.add_argument("--allowed-lag", type=int, default=0, help="lag at or below this counts as caught up")
    d = verbs.add_parser("scenario", parents=[common],
                       help="make lag happen: a slow group falls behind, scales out, stalls, stops")
    d.add_argument("--partitions", type=int, default=4)
    d.add_argument("--rate", type=int, default=200, help="producer records/s")
    d.add_argument("--processing-delay-ms", type=float, default=10.0, help="time each member spends per record")
    d.add_argument("--phase", type=float, default=12.0, help="seconds per phase")
    d.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, from {', '.join(PHASES)}")
    d.add_argument("--window", type=int, default=5, help="samples in the status window")
    runner.time_limit_flag(d)
    r = verbs.add_parser("rate", parents=[common],
                       help="find the sustainable rate: step the producer up until the group falls behind")
    r.add_argument("--partitions", type=int, default=4)
    r.add_argument("--members", type=int, default=2)
    r.add_argument("--processing-delay-ms", type=float, default=10.0, help="time each member spends per record")
    r.add_argument("--start-rate", type=int, default=50, help="records/s of the first step")
    r.add_argument("--step", type=int, default=50, help="records/s added at each step")
    r.add_argument("--max-rate", type=int, default=500, help="the highest rate tried")
    r.add_argument("--step-s", type=float, default=15.0, help="seconds per step")
    runner.time_limit_flag(r)
    return {("lag", "watch"): cmd_lag, ("lag", "scenario"): cmd_scenario, ("lag", "rate"): cmd_rate}
