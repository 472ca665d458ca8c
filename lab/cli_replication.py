"""`kafka-lab replication describe|monitor|min-isr|hw-leo|unclean|storage`: the replication lab from a
terminal. Tables for people, ``--json`` for machines; progress goes to stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from lab import experiment, replication, storage
from lab.cli import Handler, table
from lab.cluster import Cluster
from lab.experiment import Progress, RunContext

R = TypeVar("R")

#: Default time bounds (seconds) of the scenarios run from the CLI; each can be changed with --time-limit.
TIME_LIMITS = {"monitor": 3600.0, "min-isr": 300.0, "hw-leo": 300.0, "unclean": 400.0, "storage": 300.0}


def _run(name: str, fn: Callable[[RunContext], R], time_limit_s: float, quiet: bool) -> R:
    last = [""]
    seen_events = [0]

    def on_progress(p: Progress) -> None:
        if quiet:
            return
        tl = p.partial if isinstance(p.partial, replication.Timeline) else None
        if tl is not None:
            for e in tl.events[seen_events[0]:]:
                print(f"  [{e.t:7.1f} s] {e.topic}[{e.partition}] {e.kind.value}: {e.detail}", file=sys.stderr)
            seen_events[0] = len(tl.events)
        if p.message and p.message != last[0]:
            print(f"[{p.elapsed_s:6.1f} s] {p.message}", file=sys.stderr)
            last[0] = p.message

    return experiment.run_sync(fn, time_limit_s=time_limit_s, name=f"replication {name}", on_progress=on_progress)


def _ids(xs: tuple[int, ...]) -> str:
    return ",".join(map(str, xs)) or "-"


def render_partitions(parts: tuple[replication.PartitionState, ...]) -> str:
    rows = []
    for p in parts:
        leo = " ".join(f"{b}:{v if v is not None else '?'}" for b, v in sorted(p.log_end_offsets.items()))
        lag = " ".join(f"{b}(-{p.behind(b)})" if p.behind(b) is not None else str(b) for b in p.out_of_sync)
        rows.append((p.partition, p.leader if p.leader >= 0 else "none",
                     p.leader_epoch if p.leader_epoch is not None else "-", _ids(p.replicas), _ids(p.isr),
                     p.high_watermark if p.high_watermark is not None else "-", leo, lag))
    return table(rows, ["partition", "leader", "epoch", "replicas", "isr", "HW", "LEO per broker", "out of sync"])


def render_events(tl: replication.Timeline) -> str:
    if not tl.events:
        return "no ISR, leader or epoch changes were seen"
    return table([(f"{e.t:.1f}", f"{e.topic}[{e.partition}]", e.kind.value, e.detail) for e in tl.events],
                 ["t (s)", "partition", "event", "detail"])


def render_produce(tl: replication.Timeline) -> str:
    if not tl.produce:
        return ""
    acked = sum(s.acked for s in tl.produce)
    failed = sum(s.failed for s in tl.produce)
    errors: dict[str, int] = {}
    for s in tl.produce:
        for k, v in s.errors.items():
            errors[k] = errors.get(k, 0) + v
    err = ", ".join(f"{k}×{v}" for k, v in errors.items()) or "none"
    return f"background producer: {acked} acknowledged, {failed} failed ({err})"


# --- handlers ------------------------------------------------------------------------------------
def cmd_describe(args: argparse.Namespace, cluster: Cluster) -> Any:
    res = replication.describe(cluster, args.topic, settle_s=replication.DESCRIBE_SETTLE_S)
    if args.json:
        return res
    head = f"Topic: {res.topic}" + (f"   active controller: {res.active_controller}"
                                    if res.active_controller is not None else "")
    return f"{head}\n{render_partitions(res.partitions)}\n({res.leo_note})"


def cmd_monitor(args: argparse.Namespace, cluster: Cluster) -> Any:
    prod = (replication.BackgroundProducerSettings(args.produce_rate, args.acks) if args.produce_rate else None)
    settings = replication.MonitorSettings(args.topic, args.duration, args.interval, prod)
    if not args.json:
        print(f"Watching {settings.topic} for {settings.duration_s:.0f} s (Ctrl-C stops). Stop or start a broker "
              "in another terminal, e.g. `kafka-lab broker stop 2`.", file=sys.stderr)
    try:
        res = _run("monitor", lambda ctx: replication.monitor(cluster, settings, ctx), args.time_limit, args.json)
    except KeyboardInterrupt:
        return None
    if args.json:
        return res
    out = [render_events(res.timeline)]
    if res.timeline.snapshots:
        out.append("last state:\n" + render_partitions(res.timeline.snapshots[-1].partitions))
    out.append(render_produce(res.timeline))
    return "\n\n".join(x for x in out if x)


def cmd_min_isr(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = replication.MinIsrSettings(args.topic, args.min_isr, args.messages)
    res = _run("min-isr", lambda ctx: replication.min_isr(cluster, settings, ctx), args.time_limit, args.json)
    if args.json:
        return res

    def fmt(o: replication.ProbeOutcome) -> str:
        errs = ", ".join(f"{k}×{v}" for k, v in o.errors.items())
        return f"{o.acked}/{o.sent} ok" + (f" ({errs})" if errs else "")

    rows = [(p.name, _ids(p.brokers_down), _ids(p.isr), fmt(p.acks_all), fmt(p.acks_1)) for p in res.phases]
    return (f"Topic {settings.topic}: replication factor 3, min.insync.replicas={settings.min_insync_replicas}, "
            f"leader broker {res.leader}\n"
            + table(rows, ["phase", "stopped", "ISR", "acks=all", "acks=1"])
            + "\n\nacks=all needs the ISR to hold at least min.insync.replicas replicas; acks=1 only needs the leader.")


def cmd_hw_leo(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = replication.HwLeoSettings(args.topic, args.rate, args.baseline, args.hold)
    res = _run("hw-leo", lambda ctx: replication.hw_leo(cluster, settings, ctx), args.time_limit, args.json)
    if args.json:
        return res
    lag = f"{res.replica_lag_time_max_ms} ms" if res.replica_lag_time_max_ms is not None else "unknown"
    lines = [
        f"leader {res.leader}, paused follower {res.follower} (replica.lag.time.max.ms = {lag})",
        f"follower left the ISR {res.left_isr_after_s:.1f} s after the pause",
        f"high watermark stood still for {res.hw_stalled_s:.1f} s while acks=all waited for the paused follower",
        f"paused follower was at most {res.max_follower_behind} messages behind the leader"
        if res.max_follower_behind is not None else "per-replica LEO not available on this backend",
        f"after resume it caught up and rejoined the ISR in {res.rejoined_after_s:.1f} s",
    ]
    return "\n".join(lines) + "\n\n" + render_events(res.timeline) + "\n\n" + render_produce(res.timeline)


def cmd_unclean(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = replication.UncleanSettings(args.prefix, args.in_sync, args.lagging, args.before,
                                           args.while_lagging, args.after)
    res = _run("unclean", lambda ctx: replication.unclean(cluster, settings, ctx), args.time_limit, args.json)
    if args.json:
        return res
    rows = []
    for o in (res.clean, res.unclean):
        rows.append((o.topic, "on" if o.unclean_enabled else "off",
                     "yes" if o.available_after_crash else "NO (no leader)",
                     f"{o.after.acked}/{o.after.sent}", o.acked_before + o.acked_while_lagging + o.after.acked,
                     o.consumed, o.lost_acked))
    tbl = table(rows, ["topic", "unclean election", "available after crash", "writes after crash ok",
                       "acknowledged", "read back", "acknowledged but LOST"])
    how = f"\nThe lagging replica was elected by {res.unclean.elected_by}." if res.unclean.elected_by else ""
    return tbl + how


def cmd_storage(args: argparse.Namespace, cluster: Cluster) -> Any:
    settings = storage.StorageSettings(args.topic, args.segment_bytes, args.messages, compact_topic=args.compact_topic,
                                       keys=args.keys, updates_per_key=args.updates)
    res = _run("storage", lambda ctx: storage.storage(cluster, settings, ctx), args.time_limit, args.json)
    if args.json:
        return res
    last = res.snapshots[-1]
    files = table([(f.name, f.size_bytes, f.disk_bytes) for f in last.files], ["file", "size (bytes)", "on disk"])
    c = res.compaction
    return (f"{res.directory} on broker {res.node} after {last.messages_written} messages "
            f"({last.log_segments} segments of segment.bytes={settings.segment_bytes}):\n{files}\n\n"
            f"compaction of {c.topic}: {c.produced} writes to {c.keys} keys; {c.before} records before cleaning, "
            f"{c.after} after ({c.waited_s:.1f} s); latest value of every key kept: "
            f"{'yes' if c.latest_values_kept else 'NO'}")


HANDLERS: dict[tuple[str, ...], Handler] = {
    ("replication", "describe"): cmd_describe,
    ("replication", "monitor"): cmd_monitor,
    ("replication", "min-isr"): cmd_min_isr,
    ("replication", "hw-leo"): cmd_hw_leo,
    ("replication", "unclean"): cmd_unclean,
    ("replication", "storage"): cmd_storage,
}


def install(commands: dict[tuple[str, ...], Handler], extra_parsers: list[Any]) -> None:
    """Add the replication commands to a CLI's registries (called once by lab.cli)."""
    commands.update(HANDLERS)
    if register not in extra_parsers:
        extra_parsers.append(register)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    rp = sub.add_parser("replication", help="ISR, HW/LEO, leader epochs, min.insync.replicas, unclean election")
    r = rp.add_subparsers(dest="verb", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = r.add_parser(name, parents=[common], help=help_)
        if name in TIME_LIMITS:
            p.add_argument("--time-limit", type=float, default=TIME_LIMITS[name], help="seconds before it stops")
        return p

    d = add("describe", "leader, epoch, replicas, ISR, high watermark and each replica's log end offset")
    d.add_argument("topic", nargs="?", default="replication-demo")
    m = add("monitor", "record ISR shrink/expand, leader and epoch changes (about once a second)")
    m.add_argument("topic", nargs="?", default="replication-demo")
    m.add_argument("--duration", type=float, default=120.0, help="seconds to watch")
    m.add_argument("--interval", type=float, default=replication.POLL_INTERVAL_S, help="seconds between polls")
    m.add_argument("--produce-rate", type=int, default=0, help="background producer messages/s (0: none)")
    m.add_argument("--acks", default="all", choices=["0", "1", "all"], help="background producer acks")
    mi = add("min-isr", "stop two followers: acks=all refused with NOT_ENOUGH_REPLICAS, then recovered")
    mi.add_argument("--topic", default="min-isr-demo")
    mi.add_argument("--min-isr", type=int, default=2)
    mi.add_argument("--messages", type=int, default=20, help="probe writes per phase and acks setting")
    h = add("hw-leo", "pause a follower under acks=all: HW stalls, then races ahead; resume: it rejoins")
    h.add_argument("--topic", default="hw-leo-demo")
    h.add_argument("--rate", type=int, default=100, help="producer messages/s")
    h.add_argument("--baseline", type=float, default=3.0, help="seconds recorded before the pause")
    h.add_argument("--hold", type=float, default=5.0, help="seconds paused after leaving the ISR")
    u = add("unclean", "unclean leader election off vs on: unavailable vs acknowledged messages lost")
    u.add_argument("--prefix", default="unclean-demo", help="topics <prefix>-clean and <prefix>-unclean")
    u.add_argument("--in-sync", type=int, default=1, help="broker that leads and then crashes")
    u.add_argument("--lagging", type=int, default=2, help="broker that misses writes and is left alone")
    u.add_argument("--before", type=int, default=50)
    u.add_argument("--while-lagging", type=int, default=100)
    u.add_argument("--after", type=int, default=50)
    s = add("storage", "segment files as they roll; compaction before/after (local backend)")
    s.add_argument("--topic", default="storage-demo")
    s.add_argument("--segment-bytes", type=int, default=16 * 1024)
    s.add_argument("--messages", type=int, default=2000)
    s.add_argument("--compact-topic", default="compaction-demo")
    s.add_argument("--keys", type=int, default=20)
    s.add_argument("--updates", type=int, default=50, help="updates per key")

