"""Charts of consumer groups on one time axis: partitions owned per member, records/s per member,
rebalance bands and the experiment's steps; and the pause comparison across strategies.

Pure functions: a ``GroupTimeline`` (or a result) in, frames and Altair charts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from lab.groups import BUCKET_S, GroupTimeline
from lab.pauses import owned_by

WIDTH = 560
STRIP_HEIGHT = 150


def owned_frame(tl: GroupTimeline) -> pd.DataFrame:
    """t, member, owned: partitions each member owned after each callback (a step line per member)."""
    rows: list[dict[str, Any]] = []
    evs = list(tl.events)
    members = sorted({s.member for s in tl.spans} | {e.member for e in evs})
    for e in sorted(evs, key=lambda x: x.t):
        owned = owned_by(evs, e.t)
        rows.extend({"t": e.t, "member": m, "owned": len(owned.get(m, ()))} for m in members if m == e.member)
    return pd.DataFrame(rows, columns=["t", "member", "owned"])


def records_frame(tl: GroupTimeline) -> pd.DataFrame:
    """t, member, records_per_s per bucket."""
    rows = [{"t": r.t, "member": r.member, "records_per_s": r.records / BUCKET_S} for r in tl.records]
    return pd.DataFrame(rows, columns=["t", "member", "records_per_s"])


def steps_frame(tl: GroupTimeline) -> pd.DataFrame:
    return pd.DataFrame([{"t": s.t, "step": s.label} for s in tl.steps], columns=["t", "step"])


def bands_frame(rebalances: Sequence[Any]) -> pd.DataFrame:
    """start, end, what: one band per measured rebalance (``RebalanceFigures``)."""
    rows = [{"start": f.started, "end": f.stable, "what": f.what} for f in rebalances]
    return pd.DataFrame(rows, columns=["start", "end", "what"])


def _layers(base: alt.Chart, bands: pd.DataFrame, steps: pd.DataFrame, scale: alt.Scale) -> list[Any]:
    out: list[Any] = []
    if not bands.empty:
        out.append(alt.Chart(bands).mark_rect(opacity=0.15, color="#e65100").encode(
            x=alt.X("start:Q", scale=scale), x2="end:Q", tooltip=["what:N", "start:Q", "end:Q"]))
    if not steps.empty:
        out.append(alt.Chart(steps).mark_rule(color="gray", strokeDash=[4, 3]).encode(
            x=alt.X("t:Q", scale=scale), tooltip=["step:N", alt.Tooltip("t:Q", format=".2f")]))
    out.append(base)
    return out


def group_chart(tl: GroupTimeline, rebalances: Sequence[Any] = (), title: str = "") -> alt.VConcatChart:
    """Partitions owned per member (steps) over records/s per member, rebalance bands shaded."""
    owned, recs, steps, bands = owned_frame(tl), records_frame(tl), steps_frame(tl), bands_frame(rebalances)
    ts = [f[c] for f, c in ((owned, "t"), (recs, "t"), (steps, "t"), (bands, "end")) if not f.empty]
    hi = max((float(t.max()) for t in ts), default=1.0) + BUCKET_S
    scale = alt.Scale(domain=[0.0, hi])
    x = alt.X("t:Q", title="seconds since the group started", scale=scale)
    own = alt.Chart(owned, width=WIDTH, height=STRIP_HEIGHT).mark_line(interpolate="step-after", point=True).encode(
        x=x, y=alt.Y("owned:Q", title="partitions owned"), color=alt.Color("member:N", title="member"),
        tooltip=["member:N", alt.Tooltip("t:Q", format=".2f"), "owned:Q"])
    rate = alt.Chart(recs, width=WIDTH, height=STRIP_HEIGHT).mark_line().encode(
        x=x, y=alt.Y("records_per_s:Q", title="records/s"), color=alt.Color("member:N", title="member"),
        tooltip=["member:N", alt.Tooltip("t:Q", format=".1f"), alt.Tooltip("records_per_s:Q", format=",.0f")])
    top = alt.layer(*_layers(own, bands, steps, scale))
    bottom = alt.layer(*_layers(rate, bands, steps, scale))
    chart: alt.VConcatChart = alt.vconcat(top, bottom, title=title).resolve_scale(color="shared")
    return chart


def pauses_frame(result: Any) -> pd.DataFrame:
    """strategy, rebalance, to_stable_s, unowned_partition_s, longest_s, revoked, revoked_unmoved, moved."""
    rows = [{"strategy": run.strategy, "rebalance": f.what, "to_stable_s": round(f.duration_s, 3),
             "unowned_partition_s": f.unowned_partition_s, "longest_s": f.unowned_max_s, "revoked": f.revoked,
             "revoked_unmoved": f.revoked_unmoved, "moved": f.moved,
             "members_stalled": sum(1 for v in f.member_empty_s.values() if v > 0)}
            for run in result.runs for f in run.rebalances]
    return pd.DataFrame(rows, columns=["strategy", "rebalance", "to_stable_s", "unowned_partition_s", "longest_s",
                                       "revoked", "revoked_unmoved", "moved", "members_stalled"])


def pauses_chart(frame: pd.DataFrame, value: str = "revoked_unmoved",
                 title: str = "Partitions revoked that did not move") -> alt.Chart:
    chart: alt.Chart = alt.Chart(frame, title=title, width=260, height=220).mark_bar().encode(
        x=alt.X("strategy:N", title=None), y=alt.Y(f"{value}:Q", title=value), color=alt.Color("strategy:N"),
        column=alt.Column("rebalance:N", title=None),
        tooltip=["strategy:N", "rebalance:N", f"{value}:Q", "to_stable_s:Q", "unowned_partition_s:Q"])
    return chart


def static_frame(result: Any) -> pd.DataFrame:
    rows = [{"case": c.case, "others_callbacks": c.others_callbacks, "generation_before": c.generation_before,
             "generation_after": c.generation_after, "rebalanced": c.rebalanced,
             "away_s": round(c.back_t - c.closed_t, 2),
             "unowned_partition_s": c.unowned_partition_s} for c in result.cases]
    return pd.DataFrame(rows, columns=["case", "others_callbacks", "generation_before", "generation_after",
                                       "rebalanced", "away_s", "unowned_partition_s"])
