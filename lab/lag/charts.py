"""Lag charts: pure functions, a lag watch's frames in, Altair charts out (one time axis)."""

from __future__ import annotations

import altair as alt
import pandas as pd

#: Height of each lag chart (pixels): three stack on a projector screen.
HEIGHT = 220


def lag_per_partition(frame: pd.DataFrame, title: str = "Lag per partition (records)") -> alt.Chart:
    """Lag of each partition over time; partitions without a commit have no line (their lag is unknown)."""
    data = frame.dropna(subset=["lag"]) if not frame.empty else frame
    chart: alt.Chart = alt.Chart(data, title=title, height=HEIGHT).mark_line(
        point=True, interpolate="step-after").encode(
        x=alt.X("t:Q", title="seconds since the watch started"),
        y=alt.Y("lag:Q", title="lag (records)"),
        color=alt.Color("partition:N", legend=alt.Legend(orient="top", title=None)),
        tooltip=[alt.Tooltip("t:Q", format=".1f", title="t (s)"), "partition:N", "owner:N",
                 alt.Tooltip("end_offset:Q", format=",", title="end offset"),
                 alt.Tooltip("committed:Q", format=",", title="committed"), alt.Tooltip("lag:Q", format=",")],
    )
    return chart


def total_lag(frame: pd.DataFrame, title: str = "Total lag of the group (records)") -> alt.Chart:
    total = (frame.dropna(subset=["lag"]).groupby("t", as_index=False)["lag"].sum() if not frame.empty
             else pd.DataFrame(columns=["t", "lag"]))
    chart: alt.Chart = alt.Chart(total, title=title, height=HEIGHT).mark_area(opacity=0.5, line=True).encode(
        x=alt.X("t:Q", title="seconds since the watch started"),
        y=alt.Y("lag:Q", title="total lag (records)"),
        tooltip=[alt.Tooltip("t:Q", format=".1f", title="t (s)"), alt.Tooltip("lag:Q", format=",")],
    )
    return chart


def produce_vs_commit(rates: pd.DataFrame, title: str = "Produce rate vs commit rate (records/s)") -> alt.Chart:
    """When the committed line stays under the produced line, lag grows by the difference."""
    chart: alt.Chart = alt.Chart(rates, title=title, height=HEIGHT).mark_line(point=True).encode(
        x=alt.X("t:Q", title="seconds since the watch started"),
        y=alt.Y("rate:Q", title="records per second"),
        color=alt.Color("series:N", legend=alt.Legend(orient="top", title=None),
                        scale=alt.Scale(domain=["produced /s", "committed /s"], range=["#1565c0", "#2e7d32"])),
        tooltip=[alt.Tooltip("t:Q", format=".1f", title="t (s)"), "series:N", alt.Tooltip("rate:Q", format=",.0f")],
    )
    return chart


def rate_search(lags: pd.DataFrame, steps: pd.DataFrame,
                title: str = "Total lag while the producer steps up (records)") -> alt.LayerChart:
    """The group's total lag over time, each producer step a band labelled with its rate: green where the
    group kept up, red where it fell behind."""
    band = alt.Chart(steps).mark_rect(opacity=0.12).encode(
        x="start_s:Q", x2="end_s:Q",
        color=alt.Color("verdict:N", scale=alt.Scale(domain=["kept up", "fell behind"], range=["#2ca02c", "#d62728"]),
                        legend=alt.Legend(orient="top", title=None)),
        tooltip=[alt.Tooltip("rate:Q", format=",", title="producer records/s"), "verdict:N",
                 alt.Tooltip("growth_per_s:Q", format=",.1f", title="lag growth records/s")])
    label = alt.Chart(steps).mark_text(align="left", dx=3, dy=8, fontSize=11, baseline="top").encode(
        x="start_s:Q", y=alt.value(0), text=alt.Text("label:N"))
    line = alt.Chart(lags).mark_line(point=True).encode(
        x=alt.X("t:Q", title="seconds since the search started"),
        y=alt.Y("total_lag:Q", title="total lag (records)"),
        tooltip=[alt.Tooltip("t:Q", format=".1f", title="t (s)"), alt.Tooltip("total_lag:Q", format=",")])
    return alt.LayerChart(layer=[band, line, label], title=title, height=HEIGHT)
