"""The consumer lab's charts: pure functions, a result (or frame) in, an Altair chart out: fetch benchmarks
and sweeps first, then consumer groups (a ``GroupTimeline``) on one time axis.

Frames first (``*_frame``: what a test checks), then charts built from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from lab.consumer.fetch import BenchResult, ConsumeSample
from lab.consumer.groups import BUCKET_S, GroupTimeline
from lab.consumer.pauses import owned_by
from lab.consumer.stats import series

CHART_WIDTH = 520
CHART_HEIGHT = 260


def throughput_frame(runs: Sequence[tuple[str, Sequence[ConsumeSample]]]) -> pd.DataFrame:
    """One row per sample: run, t_s, msgs_per_s, mb_per_s."""
    rows = [{"run": label, "t_s": s.t_s, "msgs_per_s": s.msgs_per_s, "mb_per_s": s.mb_per_s}
            for label, samples in runs for s in samples]
    return pd.DataFrame(rows, columns=["run", "t_s", "msgs_per_s", "mb_per_s"])


def throughput_chart(frame: pd.DataFrame, title: str = "Consumed per second") -> alt.Chart:
    chart: alt.Chart = (alt.Chart(frame, title=title, width=CHART_WIDTH, height=CHART_HEIGHT).mark_line(point=True)
            .encode(x=alt.X("t_s:Q", title="seconds since the run started"),
                    y=alt.Y("msgs_per_s:Q", title="messages/s"), color=alt.Color("run:N", title="run"),
                    tooltip=["run:N", "t_s:Q", alt.Tooltip("msgs_per_s:Q", format=",.0f"),
                             alt.Tooltip("mb_per_s:Q", format=".2f")]))
    return chart


def fetch_frame(results: Sequence[BenchResult]) -> pd.DataFrame:
    """One row per statistics window: run, t_s, fetch_requests_per_s, bytes_per_fetch."""
    rows = [{"run": r.label, "t_s": p.t, "fetch_requests_per_s": p.fetch_requests_per_s,
             "bytes_per_fetch": p.bytes_per_fetch} for r in results for p in series(r.stats_points)]
    return pd.DataFrame(rows, columns=["run", "t_s", "fetch_requests_per_s", "bytes_per_fetch"])


def fetch_chart(frame: pd.DataFrame, title: str = "Fetch requests per second") -> alt.Chart:
    chart: alt.Chart = (alt.Chart(frame, title=title, width=CHART_WIDTH, height=CHART_HEIGHT).mark_line()
            .encode(x=alt.X("t_s:Q", title="seconds since the run started"),
                    y=alt.Y("fetch_requests_per_s:Q", title="fetch requests/s (all brokers)"),
                    color=alt.Color("run:N", title="run"),
                    tooltip=["run:N", "t_s:Q", alt.Tooltip("fetch_requests_per_s:Q", format=",.1f"),
                             alt.Tooltip("bytes_per_fetch:Q", format=",.0f")]))
    return chart


def rows_frame(results: Sequence[BenchResult]) -> pd.DataFrame:
    return pd.DataFrame([r.row() for r in results])


def tradeoff_chart(frame: pd.DataFrame, title: str = "Fetch requests vs end-to-end p99") -> Any:
    """Each variant as a point: fewer requests to the right costs latency upwards (live runs)."""
    base = alt.Chart(frame, title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
    pts = base.mark_circle(size=120).encode(
        x=alt.X("fetch_requests_per_s:Q", title="fetch requests/s"), y=alt.Y("p99_ms:Q", title="end-to-end p99 (ms)"),
        color=alt.Color("label:N", title="variant"),
        tooltip=["label:N", alt.Tooltip("fetch_requests_per_s:Q", format=",.1f"),
                 alt.Tooltip("bytes_per_fetch:Q", format=",.0f"), alt.Tooltip("p50_ms:Q", format=",.1f"),
                 alt.Tooltip("p99_ms:Q", format=",.1f"), alt.Tooltip("msgs_per_s:Q", format=",.0f")])
    return pts


def matrix_heatmap(frame: pd.DataFrame, value: str = "p99_ms", title: str | None = None) -> alt.Chart:
    """fetch.min.bytes x fetch.wait.max.ms, coloured by ``value`` (p99_ms, fetch_requests_per_s, …)."""
    chart: alt.Chart = (
        alt.Chart(frame, title=title or f"fetch.min.bytes x fetch.wait.max.ms: {value}", width=320, height=220)
            .mark_rect().encode(x=alt.X("fetch_wait_max_ms:O", title="fetch.wait.max.ms"),
                                y=alt.Y("fetch_min_bytes:O", title="fetch.min.bytes"),
                                color=alt.Color(f"{value}:Q", title=value),
                                tooltip=["label:N", alt.Tooltip(f"{value}:Q", format=",.1f")]))
    return chart


def bars_chart(frame: pd.DataFrame, value: str = "msgs_per_s", title: str = "Throughput per variant") -> alt.Chart:
    chart: alt.Chart = (alt.Chart(frame, title=title, width=CHART_WIDTH, height=CHART_HEIGHT).mark_bar()
            .encode(x=alt.X("label:N", title=None, sort=None), y=alt.Y(f"{value}:Q", title=value),
                    tooltip=["label:N", alt.Tooltip(f"{value}:Q", format=",.1f")]))
    return chart


def scaling_chart(frame: pd.DataFrame, title: str = "Throughput at 1 and at N consumer processes") -> alt.Chart:
    """A sweep run at several process counts: each fetch variant's bars side by side. Where the bars of one
    process are all alike and N processes read faster, the client was the limit; where the fetch settings
    change the N bars, they matter."""
    f = frame.assign(variant=frame["label"].str.split(" · ").str[0], processes=frame["processes"].astype(str))
    chart: alt.Chart = (alt.Chart(f, title=title, width=CHART_WIDTH, height=CHART_HEIGHT).mark_bar()
            .encode(x=alt.X("variant:N", title=None, sort=None), xOffset=alt.XOffset("processes:N"),
                    y=alt.Y("msgs_per_s:Q", title="messages/s"),
                    color=alt.Color("processes:N", title="consumer processes"),
                    tooltip=["variant:N", "processes:N", alt.Tooltip("msgs_per_s:Q", format=",.0f"),
                             alt.Tooltip("fetch_requests_per_s:Q", format=",.1f")]))
    return chart


# --- consumer groups on one time axis: partitions owned per member, records/s per member, rebalance
# bands and the experiment's steps; and the pause comparison across strategies.

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
