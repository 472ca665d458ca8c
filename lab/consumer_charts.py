"""The consumer lab's charts: pure functions, a result (or frame) in, an Altair chart out.

Frames first (``*_frame``: what a test checks), then charts built from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from lab.consume import BenchResult, ConsumeSample
from lab.consume_stats import series

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
