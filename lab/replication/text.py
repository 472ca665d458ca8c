"""Replication results as plain text for a terminal (phase 2): partitions, events, the background
producer, and each scenario (monitor, min-isr, hw-leo, unclean, storage). Pure: a result in, a string out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.core.text import fmt, ids, stopped_line, table
from lab.replication.elr import version_verdict


# --- replication ---------------------------------------------------------------------------------
def partitions(parts: Sequence[Any]) -> str:
    rows = []
    for p in parts:
        leo = " ".join(f"{b}:{v if v is not None else '?'}" for b, v in sorted(p.log_end_offsets.items()))
        lag = " ".join(f"{b}(-{p.behind(b)})" if p.behind(b) is not None else str(b) for b in p.out_of_sync)
        rows.append((p.partition, p.leader if p.leader >= 0 else "none",
                     p.leader_epoch if p.leader_epoch is not None else "-", ids(p.replicas), ids(p.isr),
                     p.high_watermark if p.high_watermark is not None else "-", leo, lag))
    return table(rows, ["partition", "leader", "epoch", "replicas", "isr", "HW", "LEO per broker", "out of sync"])


def describe(res: Any) -> str:
    head = f"Topic: {res.topic}" + (f"   active controller: {res.active_controller}"
                                    if res.active_controller is not None else "")
    return f"{head}\n{partitions(res.partitions)}\n({res.leo_note})"


def event_lines(partial: Any) -> list[str]:
    """Every event of a live timeline so far, one line each (the CLI prints the new ones)."""
    events = getattr(partial, "events", None) or ()
    return [f"  [{e.t:7.1f} s] {e.topic}[{e.partition}] {e.kind.value}: {e.detail}" for e in events]


def events(tl: Any) -> str:
    if not tl.events:
        return "no ISR, leader or epoch changes were seen"
    return table([(f"{e.t:.1f}", f"{e.topic}[{e.partition}]", e.kind.value, e.detail) for e in tl.events],
                 ["t (s)", "partition", "event", "detail"])


def background_producer(tl: Any) -> str:
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


def monitor(res: Any) -> str:
    out = [events(res.timeline)]
    if res.timeline.snapshots:
        out.append("last state:\n" + partitions(res.timeline.snapshots[-1].partitions))
    out.append(background_producer(res.timeline))
    out.extend(stopped_line(res))
    return "\n\n".join(x for x in out if x)


def probe(o: Any) -> str:
    if o is None:
        return "-"
    errs = ", ".join(f"{k}×{v}" for k, v in o.errors.items())
    return f"{o.acked}/{o.sent} ok" + (f" ({errs})" if errs else "")


def min_isr(res: Any) -> str:
    s = res.settings
    rows = [(p.name, ids(p.brokers_down), ids(p.isr), probe(p.acks_all), probe(p.acks_1)) for p in res.phases]
    out = (f"Topic {s.topic}: replication factor 3, min.insync.replicas={s.min_insync_replicas}, "
           f"leader broker {res.leader}\n"
           + table(rows, ["phase", "stopped", "ISR", "acks=all", "acks=1"])
           + "\n\nacks=all needs the ISR to hold at least min.insync.replicas replicas; acks=1 only needs the leader.")
    return "\n".join([out, *stopped_line(res)])


def _secs(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x:.1f} s"


def hw_leo(res: Any) -> str:
    lag = f"{res.replica_lag_time_max_ms} ms" if res.replica_lag_time_max_ms is not None else "unknown"
    lines = [
        f"leader {res.leader}, paused follower {res.follower} (replica.lag.time.max.ms = {lag})",
        f"follower left the ISR {_secs(res.left_isr_after_s)} after the pause",
        f"high watermark stood still for {_secs(res.hw_stalled_s)} while acks=all waited for the paused follower",
        f"paused follower was at most {res.max_follower_behind} messages behind the leader"
        if res.max_follower_behind is not None else "per-replica LEO not available on this backend",
        f"after resume it caught up and rejoined the ISR in {_secs(res.rejoined_after_s)}",
    ]
    tail = [x for x in (events(res.timeline), background_producer(res.timeline)) if x]
    return "\n".join(lines + stopped_line(res)) + "\n\n" + "\n\n".join(tail)


def unclean(res: Any) -> str:
    rows = []
    for o in (res.clean, res.unclean):
        if o is None:
            continue
        rows.append((o.topic, "on" if o.unclean_enabled else "off",
                     "yes" if o.available_after_crash else "NO (no leader)",
                     probe(o.after),
                     sum(x or 0 for x in (o.acked_before, o.acked_while_lagging, o.after.acked if o.after else 0)),
                     fmt(o.consumed), fmt(o.lost_acked)))
    out = table(rows, ["topic", "unclean election", "available after crash", "writes after crash ok",
                       "acknowledged", "read back", "acknowledged but LOST"])
    if res.unclean is not None and res.unclean.elected_by:
        out += f"\nThe lagging replica was elected by {res.unclean.elected_by}."
    sets = replica_sets(res)
    if sets:
        out += "\n\n" + sets
    return "\n".join([out, *stopped_line(res)])


def _ids(xs: Any) -> str:
    return "n/a" if xs is None else (",".join(map(str, xs)) or "-")


def replica_sets(res: Any) -> str:
    """ISR / ELR / last known ELR as sampled, the ELR feature, where they came from, and each topic's verdict."""
    level = getattr(res, "elr_feature_level", None)
    head = (f"Kafka {res.kafka_version or '?'}; eligible.leader.replicas.version="
            f"{level if level is not None else '?'}" + (" (no ELR on this cluster)" if level == 0 else ""))
    rows = [(o.topic, x.moment, f"{x.t:.1f} s", x.leader if x.leader >= 0 else "none", _ids(x.isr), _ids(x.elr),
             _ids(x.last_known_elr)) for o in (res.clean, res.unclean) if o is not None for x in o.samples]
    out = [head]
    if rows:
        out.append(table(rows, ["topic", "moment", "t", "leader", "ISR", "ELR", "last known ELR"]))
    if res.elr_source:
        out.append(f"(from {res.elr_source})" if rows else f"({res.elr_source})")
    v = version_verdict(res)
    out += [f"{t.topic}: {t.text}" for t in (v.clean, v.unclean)]
    return "\n".join(out)


def elr_versions(res: Any) -> str:
    """The same fault on two Kafka versions: one verdict table, then each run's replica sets."""
    verdicts = res.verdicts()
    rows = [(v.kafka_version, {True: "yes", False: "no", None: "?"}[v.elr], t.topic.rsplit("-", 1)[-1], t.via,
             _ids(t.leader and (t.leader,)), t.acknowledged, fmt(t.read_back), fmt(t.lost))
            for v in verdicts for t in (v.clean, v.unclean)]
    out = [table(rows, ["Kafka", "ELR", "topic", "leader by", "leader", "acknowledged", "read back", "lost"])]
    out += [v.text for v in verdicts]
    for r in res.runs:
        out.append("\n" + replica_sets(r))
    if res.other_cluster:
        out.append(f"\nsecond cluster (Kafka {res.other_version}): {res.other_cluster}, stopped and deleted")
    return "\n".join([*out, *stopped_line(res)])


def storage(res: Any) -> str:
    if not res.snapshots:
        return "\n".join(["no segment snapshot was taken", *stopped_line(res)])
    s = res.settings
    last = res.snapshots[-1]
    files = table([(f.name, f.size_bytes, f.disk_bytes) for f in last.files], ["file", "size (bytes)", "on disk"])
    out = (f"{res.directory} on broker {res.node} after {last.messages_written} messages "
           f"({last.log_segments} segments of segment.bytes={s.segment_bytes}):\n{files}")
    c = res.compaction
    if c is not None:
        out += (f"\n\ncompaction of {c.topic}: {c.produced} writes to {c.keys} keys; {c.before} records before "
                f"cleaning, {c.after} after ({c.waited_s:.1f} s); latest value of every key kept: "
                f"{'yes' if c.latest_values_kept else 'NO'}")
    return "\n".join([out, *stopped_line(res)])
