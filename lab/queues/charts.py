"""Share-group charts: pure functions, results in, Altair charts out."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from lab.queues import tally

#: Height of each chart (pixels).
HEIGHT = 220


def rates_frame(side: Any) -> pd.DataFrame:
    """Records/s per member per bucket of one side of a comparison (``compare.SideResult``)."""
    rows = [{"t": x.t - side.start_s, "member": x.member, "records/s": x.per_s}
            for x in tally.rates(side.deliveries, side.members)]
    return pd.DataFrame(rows, columns=["t", "member", "records/s"])


def member_rates(side: Any, title: str) -> alt.Chart:
    """Records/s of each member over time: an idle member is a flat line at 0."""
    chart: alt.Chart = alt.Chart(rates_frame(side), title=title, height=HEIGHT).mark_line(
        interpolate="step-after").encode(
        x=alt.X("t:Q", title="seconds since the members started"),
        y=alt.Y("records/s:Q", title="records/s"),
        color=alt.Color("member:N", legend=alt.Legend(orient="top", title=None)),
        tooltip=[alt.Tooltip("t:Q", format=".1f", title="t (s)"), "member:N",
                 alt.Tooltip("records/s:Q", format=",.0f")],
    )
    return chart


def records_per_member(r: Any) -> alt.Chart:
    """Records each member processed, share group next to consumer group."""
    rows = [{"group": label, "member": m.split("-")[-1], "records": n}
            for label, side in (("share group", r.share), ("consumer group", r.group)) if side is not None
            for m, n in side.per_member.items()]
    frame = pd.DataFrame(rows, columns=["group", "member", "records"])
    chart: alt.Chart = alt.Chart(frame, title="Records processed per member", height=HEIGHT).mark_bar().encode(
        x=alt.X("member:N", title="member"),
        xOffset="group:N",
        y=alt.Y("records:Q", title="records"),
        color=alt.Color("group:N", legend=alt.Legend(orient="top", title=None)),
        tooltip=["group:N", "member:N", alt.Tooltip("records:Q", format=",")],
    )
    return chart


ACK_COLOURS = alt.Scale(domain=["accept", "release", "reject"], range=["#4c78a8", "#f58518", "#e45756"])


def delivery_histogram(r: Any) -> alt.Chart:
    """How many records were delivered once, twice, … (an acks run)."""
    frame = pd.DataFrame([{"deliveries": str(n), "records": c} for n, c in r.histogram.items()],
                         columns=["deliveries", "records"])
    chart: alt.Chart = alt.Chart(frame, title="Deliveries per record", height=HEIGHT).mark_bar().encode(
        x=alt.X("deliveries:O", title="times delivered"),
        y=alt.Y("records:Q", title="records"),
        tooltip=[alt.Tooltip("deliveries:O", title="times delivered"), alt.Tooltip("records:Q", format=",")],
    )
    return chart


def deliveries_over_time(r: Any) -> alt.Chart:
    """Every delivery of an acks run: when (x), which record (y), how it was acknowledged (colour), with its
    delivery count in the tooltip."""
    rows = [{"t": d.t, "seq": d.seq, "ack": d.ack, "delivery count": d.delivery_count, "member": d.member,
             "partition": d.partition, "offset": d.offset} for d in tally.lab_records(r.deliveries)]
    frame = pd.DataFrame(rows, columns=["t", "seq", "ack", "delivery count", "member", "partition", "offset"])
    chart: alt.Chart = alt.Chart(frame, title="Every delivery: accepted, released, rejected", height=HEIGHT).mark_point(
        filled=True, size=25).encode(
        x=alt.X("t:Q", title="seconds since the members started"),
        y=alt.Y("seq:Q", title="record (sequence number)"),
        color=alt.Color("ack:N", scale=ACK_COLOURS, legend=alt.Legend(orient="top", title=None)),
        shape=alt.Shape("delivery count:N", legend=alt.Legend(orient="top")),
        tooltip=["seq:Q", "ack:N", "delivery count:Q", "member:N", "partition:Q", "offset:Q",
                 alt.Tooltip("t:Q", format=".2f", title="t (s)")],
    )
    return chart


def crash_timeline(r: Any) -> alt.Chart:
    """A crash run: each member's deliveries over time (redeliveries marked), with the victim's acquisition,
    its failure, and acquisition + lock as rules."""
    rows = [{"t": d.t, "member": d.member, "redelivery": d.delivery_count > 1, "seq": d.seq,
             "delivery count": d.delivery_count} for d in r.deliveries]
    rows += [{"t": r.acquired_at, "member": "victim", "redelivery": False, "seq": v.seq, "delivery count": 1}
             for v in r.victim_records]
    frame = pd.DataFrame(rows, columns=["t", "member", "redelivery", "seq", "delivery count"])
    points = alt.Chart(frame).mark_tick(thickness=2).encode(
        x=alt.X("t:Q", title="seconds since the run started"),
        y=alt.Y("member:N", title=None, sort=list(r.members)),
        color=alt.Color("redelivery:N", scale=alt.Scale(domain=[False, True], range=["#9ecae9", "#e45756"]),
                        legend=alt.Legend(orient="top", title="delivered again")),
        tooltip=["member:N", "seq:Q", "delivery count:Q", alt.Tooltip("t:Q", format=".2f", title="t (s)")],
    )
    marks = pd.DataFrame([{"t": r.acquired_at, "what": "victim acquired"},
                          {"t": r.killed_at, "what": "victim " + ("killed" if r.settings.failure == "kill"
                                                                   else "frozen")},
                          {"t": r.acquired_at + r.lock_s, "what": "acquisition + lock"}])
    rules = alt.Chart(marks).mark_rule(strokeDash=[4, 3]).encode(
        x="t:Q", color=alt.Color("what:N", legend=alt.Legend(orient="top", title=None)),
        tooltip=["what:N", alt.Tooltip("t:Q", format=".2f")])
    chart: alt.LayerChart = alt.layer(points, rules, title="Deliveries per member; the dead member's records come "
                                      "back", height=HEIGHT).resolve_scale(color="independent")
    return chart  # type: ignore[return-value]


__all__ = ["crash_timeline", "deliveries_over_time", "delivery_histogram", "member_rates", "rates_frame",
           "records_per_member"]


def state_frame(samples: Any, started_epoch: float) -> pd.DataFrame:
    """Per live sample and partition: seconds since the run started, start offset, lag, members assigned."""
    rows = [{"t": round(x.at - started_epoch, 2), "partition": f"p{p.partition}", "start offset": p.start_offset,
             "lag": p.lag, "members assigned": x.members_of(f"{p.topic}:{p.partition}")}
            for x in samples for p in x.partitions]
    return pd.DataFrame(rows, columns=["t", "partition", "start offset", "lag", "members assigned"])


def live_state(r: Any) -> alt.Chart:
    """The share group's lag per partition over time, as Kafka's Admin API reported it while the members
    worked: it falls as records are accepted or archived, and stalls while a released record waits."""
    df = state_frame(r.samples, r.started_epoch)
    chart: alt.Chart = alt.Chart(df, title="Share-partition lag, sampled live (Admin API)", height=HEIGHT).mark_line(
        point=True, interpolate="step-after").encode(
        x=alt.X("t:Q", title="seconds since the run started"),
        y=alt.Y("lag:Q", title="records still to deliver"),
        color=alt.Color("partition:N", legend=alt.Legend(orient="top", title=None)),
        tooltip=[alt.Tooltip("t:Q", format=".1f", title="t (s)"), "partition:N", "lag:Q", "start offset:Q",
                 "members assigned:Q"],
    )
    return chart
