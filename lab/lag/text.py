"""Lag results as terminal text (the lag lab's part of ``lab.text``)."""

from __future__ import annotations

from typing import Any

from lab.core.text import fmt, stopped_line, table


def seconds(v: Any) -> str:
    if v.time_lag_s is None:
        return "-"
    return (">" if v.time_lag_lower_bound else "") + f"{v.time_lag_s:.1f} s"


def lag_sample(s: Any, verdicts: Any = ()) -> str:
    """One sample as a table: per partition owner, end offset, committed offset, lag (and the verdicts)."""
    by_key = {(v.topic, v.partition): v for v in verdicts}
    rows = []
    for p in s.partitions:
        v = by_key.get((p.topic, p.partition))
        rows.append((f"{p.topic}[{p.partition}]", p.owner or "(unassigned)", f"{p.end_offset:,}",
                     "no commit" if p.committed is None else f"{p.committed:,}",
                     "-" if p.lag is None else f"{p.lag:,}", seconds(v) if v else "-",
                     v.status.value if v else "", v.reason if v else ""))
    end = "LSO" if s.isolation == "read_committed" else "HW"
    head = (f"group {s.group}: {s.state}, {s.members} member(s), protocol {s.protocol}; "
            f"total lag {s.total_lag:,} (end offset = {end}, {s.isolation})")
    return head + "\n" + table(rows, ["partition", "owner", f"end ({end})", "committed", "lag", "lag (time)",
                                      "status", "why"])


def lag_watch(r: Any) -> str:
    if not r.samples:
        return "\n".join(["no sample was taken", *stopped_line(r)])
    out = [lag_sample(r.samples[-1], r.verdicts),
           f"\ngroup status: {r.group_status.value} after {len(r.samples)} sample(s) over "
           f"{r.samples[-1].t_s - r.samples[0].t_s:.0f} s" + (f"; {r.failed_samples} sample(s) failed"
                                                              if r.failed_samples else "")]
    return "\n".join([*out, *stopped_line(r)])


def groups(summaries: Any) -> str:
    if not summaries:
        return "No consumer groups on this cluster yet."
    return table([(g.group, g.state, g.protocol, g.members, fmt(g.total_lag)) for g in summaries],
                 ["group", "state", "protocol", "members", "total lag"])


def lag_demo(r: Any) -> str:
    rows = [(p.name, p.members, f"{p.start_s:.0f}-{p.end_s:.0f} s", f"{p.lag_start:,}", f"{p.lag_end:,}",
             p.status.value, p.reason) for p in r.phases]
    s = r.settings
    head = (f"producer {s.rate_per_s} records/s; each member handles {s.member_capacity:.0f} records/s "
            f"({s.processing_delay_ms:g} ms per record); topic {r.topic} ({s.partitions} partitions), group {r.group}")
    return "\n".join([head, table(rows, ["phase", "members", "when", "lag at start", "lag at end", "status", "why"]),
                      *stopped_line(r)])


def sustainable_rate(r: Any) -> str:
    rows = [(f"{st.rate_per_s:,}", f"{st.start_s:.0f}-{st.end_s:.0f} s", f"{st.lag_start:,}", f"{st.lag_end:,}",
             fmt(st.growth_per_s, 1), "yes" if st.kept_up else "NO: fell behind") for st in r.steps]
    s = r.settings
    head = (f"{s.members} member(s), {s.processing_delay_ms:g} ms per record: by arithmetic about {s.capacity:,.0f} "
            f"records/s together; topic {r.topic} ({s.partitions} partitions), group {r.group}")
    best = r.sustainable_rate
    if best is None:
        found = "the group did not keep up even with the first rate"
    elif r.found_limit:
        found = f"sustainable rate: {best:,} records/s (the next step, {best + s.step:,}/s, fell behind)"
    else:
        found = f"sustainable rate: at least {best:,} records/s (kept up with every step up to max_rate)"
    return "\n".join([head, table(rows, ["rate/s", "when", "lag at start", "lag at end", "lag growth/s", "kept up"]),
                      found, *stopped_line(r)])
