"""Share-group results as terminal text (pure: a result in, lines out)."""

from __future__ import annotations

from typing import Any

from lab.core.text import stopped_line, table


def _side(side: Any, label: str) -> list[str]:
    if side is None:
        return [f"{label}: not run"]
    per = side.per_member
    ooo = side.out_of_order
    head = (f"{label} {side.group}: {len(side.members)} members, {side.records_per_s:,.1f} records/s, "
            f"drained in {side.drain_s:.1f} s" + ("" if side.complete else " (not every record processed)"))
    rows = [(m, f"{n:,}", "idle" if n == 0 else "") for m, n in per.items()]
    order = ", ".join(f"p{p}: {n:,} late" for p, n in ooo.items()) or "-"
    return [head, table(rows, ["member", "records", ""]),
            f"idle members: {len(side.idle)} of {len(side.members)}; records finished after a later offset of "
            f"their partition: {order}"]


def state_lines(st: Any) -> list[str]:
    """A share group's state as kafka-share-groups described it."""
    if st is None:
        return ["share-group state: kafka-share-groups could not describe the group"]
    by_part: dict[str, int] = {}
    for m in st.members:
        for tp in m.assignment:
            by_part[tp] = by_part.get(tp, 0) + 1
    rows = [(f"{p.topic}:{p.partition}", by_part.get(f"{p.topic}:{p.partition}", 0),
             "-" if p.start_offset is None else f"{p.start_offset:,}", "-" if p.lag is None else f"{p.lag:,}")
            for p in st.partitions]
    out = [f"share-group state ({len(st.members)} member(s), from kafka-share-groups --describe):"]
    if rows:
        out.append(table(rows, ["partition", "members assigned", "start offset", "lag"]))
    if st.note:
        out.append(st.note)
    return out


def compare(r: Any) -> str:
    s = r.settings
    out = [f"{s.records:,} records on {s.partitions} partition(s), {s.processing_delay_ms:g} ms per record, "
           f"max.poll.records {s.max_poll_records}; topic {r.topic}",
           *_side(r.share, "share group"), "", *_side(r.group, "consumer group")]
    if r.share is not None and r.group is not None:
        out.append(f"\nshare group / consumer group: {r.speedup:.2f}x the records/s")
    if r.share is not None and r.share.state is not None:
        out += ["", *state_lines(r.share.state)]
    return "\n".join([*out, *stopped_line(r)])




def total_lag(x: Any) -> int:
    return sum(p.lag or 0 for p in x.partitions)


def acks(r: Any) -> str:
    s = r.settings
    exp = r.expected()
    out = [f"{s.records:,} records on {s.partitions} partition(s), {s.members} members; group {r.group} with "
           + ", ".join(f"{k}={v}" for k, v in r.group_configs.items()),
           "expected: " + ", ".join(f"{len(v):,} {f.value}" for f, v in exp.items() if v),
           f"accepted exactly once: {r.accepted_once:,}; accepted more than once: {r.accepted_twice:,}",
           "deliveries per record: " + ", ".join(f"{n}x: {c:,}" for n, c in r.histogram.items())]
    if s.poison_seq is not None:
        f = r.fates.get(s.poison_seq)
        out.append(f"poison record {s.poison_seq}: " + (
            f"{f.deliveries} deliveries, delivery counts up to {f.max_count}, then archived (limit "
            f"{s.delivery_count_limit})" if f else "never delivered"))
    out.append(f"deliveries after the last expected acknowledgement: {r.quiet_deliveries} (0: nothing came back)")
    out.append("log offsets never delivered: " + (", ".join(f"p{p}: {n}" for p, n in r.undelivered_offsets.items())
                                                  or "-"))
    live = [x for x in r.samples if x.partitions]
    if live:
        peak = max(live, key=total_lag)
        last = next((x for x in reversed(live) if x.members), live[-1])
        out.append(f"sampled live (Admin API): {len(r.samples)} samples; total lag {total_lag(peak):,} at "
                   f"{peak.at - r.started_epoch:.1f} s (the most), {total_lag(last):,} at "
                   f"{last.at - r.started_epoch:.1f} s with {len(last.members)} members in the group")
    elif r.sampler_note:
        out.append(r.sampler_note)
    out += ["", *state_lines(r.state_after)]
    if not r.complete:
        out.append("not every record reached its end before the run stopped")
    return "\n".join([*out, *stopped_line(r)])


def crash(r: Any) -> str:
    s = r.settings
    how = "killed (SIGKILL)" if s.failure == "kill" else "frozen (SIGSTOP)"
    out = [f"group {r.group}: share.record.lock.duration.ms={s.lock_duration_ms}; one member {how} "
           f"{r.killed_at - r.acquired_at:.2f} s after it acquired {len(r.victim_records)} record(s)"]
    rows = [(f"p{v.partition}", v.offset, "-" if v.seq is None else v.seq,
             "never" if v.redelivered_at is None else f"{v.redelivered_at - r.killed_at:.2f} s",
             "-" if v.redelivered_at is None else f"{v.redelivered_at - r.acquired_at:.2f} s",
             v.redelivery_count or "-") for v in r.victim_records]
    out.append(table(rows, ["partition", "offset", "seq", "after the failure", "after acquisition",
                            "delivery count"]))
    if r.after_acquire_s:
        out.append(f"redelivered {min(r.after_acquire_s):.2f}-{max(r.after_acquire_s):.2f} s after acquisition "
                   f"(lock {r.lock_s:g} s), {min(r.after_kill_s):.2f}-{max(r.after_kill_s):.2f} s after the failure")
    if not r.complete:
        out.append("not every record was accepted by a surviving member before the run stopped")
    return "\n".join([*out, *stopped_line(r)])


__all__ = ["acks", "compare", "crash", "state_lines"]
