"""Pure functions: results / DataFrames -> Altair charts. No Streamlit, no Kafka; pages show what these
return, and tests check their encodings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

if TYPE_CHECKING:
    from lab.produce import IntervalSample, ProduceResult, SweepResult

# --- producer tuning -----------------------------------------------------------------------------
#: Chart width in pixels when a page does not stretch it.
CHART_WIDTH = 520
CHART_HEIGHT = 280


def samples_frame(runs: Sequence[tuple[str, Sequence[IntervalSample]]]) -> pd.DataFrame:
    """One row per interval sample: run, t_s, msgs_per_s, mb_per_s, p50_ms, p99_ms, errors, in_flight."""
    rows = [{"run": label, "t_s": s.t_s, "msgs_per_s": s.msgs_per_s, "mb_per_s": s.mb_per_s, "p50_ms": s.p50_ms,
             "p99_ms": s.p99_ms, "errors": s.errors, "in_flight": s.in_flight}
            for label, samples in runs for s in samples]
    return pd.DataFrame(rows, columns=["run", "t_s", "msgs_per_s", "mb_per_s", "p50_ms", "p99_ms", "errors",
                                       "in_flight"])


def throughput_chart(frame: pd.DataFrame, title: str = "Throughput over time") -> alt.Chart:
    """Messages/s per sampling interval, one line per run."""
    chart: alt.Chart = (
        alt.Chart(frame, title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
        .mark_line(point=True)
        .encode(
            x=alt.X("t_s:Q", title="seconds since the first send"),
            y=alt.Y("msgs_per_s:Q", title="acknowledged messages/s"),
            color=alt.Color("run:N", title="run"),
            tooltip=["run:N", "t_s:Q", alt.Tooltip("msgs_per_s:Q", format=",.0f"),
                     alt.Tooltip("mb_per_s:Q", format=".2f"), alt.Tooltip("p99_ms:Q", format=".1f"),
                     "errors:Q", "in_flight:Q"],
        )
    )
    return chart


def latency_frame(results: Sequence[ProduceResult]) -> pd.DataFrame:
    """One row per (run, measure, percentile): measure is send->ack, intended->ack or send->consume."""
    rows = []
    for r in results:
        measures = [("send->ack", r.latency), ("intended->ack", r.intended_latency), ("send->consume", r.e2e_latency)]
        for measure, lat in measures:
            if lat is None or lat.count == 0:
                continue
            for pct, value in (("p50", lat.p50_ms), ("p95", lat.p95_ms), ("p99", lat.p99_ms),
                               ("p99.9", lat.p999_ms), ("max", lat.max_ms)):
                rows.append({"run": r.settings.name, "measure": measure, "percentile": pct, "ms": value})
    return pd.DataFrame(rows, columns=["run", "measure", "percentile", "ms"])


PERCENTILE_ORDER = ["p50", "p95", "p99", "p99.9", "max"]


def latency_chart(frame: pd.DataFrame, title: str = "Latency percentiles") -> alt.Chart:
    """Latency (ms, log scale) at each percentile; one line per run and measure."""
    chart: alt.Chart = (
        alt.Chart(frame, title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
        .mark_line(point=True)
        .encode(
            x=alt.X("percentile:N", sort=PERCENTILE_ORDER, title="percentile"),
            y=alt.Y("ms:Q", scale=alt.Scale(type="log"), title="latency (ms, log scale)"),
            color=alt.Color("run:N", title="run"),
            strokeDash=alt.StrokeDash("measure:N", title="measured from"),
            tooltip=["run:N", "measure:N", "percentile:N", alt.Tooltip("ms:Q", format=".2f")],
        )
    )
    return chart


def sweep_frame(sweep: SweepResult) -> pd.DataFrame:
    """One row per run of a sweep (``ProduceResult.row()``)."""
    return pd.DataFrame(sweep.rows())


def tradeoff_chart(frame: pd.DataFrame, title: str = "Throughput vs p99 latency") -> alt.LayerChart:
    """Each run as a point: further right is faster, lower is quicker per message."""
    base = alt.Chart(frame, width=CHART_WIDTH, height=CHART_HEIGHT).encode(
        x=alt.X("msgs_per_s:Q", title="messages/s"),
        y=alt.Y("p99_ms:Q", title="p99 send->ack latency (ms)", scale=alt.Scale(type="log")),
        tooltip=["label:N", alt.Tooltip("msgs_per_s:Q", format=",.0f"), alt.Tooltip("p99_ms:Q", format=".1f"),
                 alt.Tooltip("compression_ratio:Q", format=".2f")],
    )
    return alt.LayerChart(layer=[
        base.mark_circle(size=90).encode(color=alt.Color("label:N", title="run", legend=None)),
        base.mark_text(align="left", dx=7, fontSize=11).encode(text="label:N"),
    ], title=title)


def codec_chart(frame: pd.DataFrame, title: str = "Codecs: throughput and compression ratio") -> alt.HConcatChart:
    """Bars of messages/s per codec, next to bars of the compression ratio achieved."""
    base = alt.Chart(frame, width=CHART_WIDTH // 2, height=CHART_HEIGHT).encode(
        x=alt.X("codec:N", title="codec", sort=None), color=alt.Color("codec:N", legend=None))
    speed = base.mark_bar().encode(y=alt.Y("msgs_per_s:Q", title="messages/s"),
                                   tooltip=["codec:N", alt.Tooltip("msgs_per_s:Q", format=",.0f"),
                                            alt.Tooltip("p99_ms:Q", format=".1f")])
    ratio_bars = base.mark_bar().encode(y=alt.Y("compression_ratio:Q", title="compression ratio (x)"),
                                        tooltip=["codec:N", alt.Tooltip("compression_ratio:Q", format=".2f")])
    labels = base.mark_text(dy=-6).encode(y="compression_ratio:Q", text=alt.Text("compression_ratio:Q", format=".2f"))
    return alt.hconcat(speed, ratio_bars + labels, title=title)


def batch_heatmap(frame: pd.DataFrame, value: str = "msgs_per_s",
                  title: str = "linger.ms x batch.size") -> alt.LayerChart:
    """linger.ms (rows) x batch.size (columns), coloured by ``value``, each cell labelled with p99 ms."""
    base = alt.Chart(frame, width=CHART_WIDTH, height=CHART_HEIGHT).encode(
        x=alt.X("batch_size:O", title="batch.size (bytes)"),
        y=alt.Y("linger_ms:O", title="linger.ms", sort="ascending"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=value.replace("_", " "), scale=alt.Scale(scheme="viridis")),
        tooltip=["linger_ms:O", "batch_size:O", alt.Tooltip("msgs_per_s:Q", format=",.0f"),
                 alt.Tooltip("p99_ms:Q", format=".1f"), alt.Tooltip("msgs_per_batch:Q", format=".1f")],
    )
    text = base.mark_text(fontSize=10, color="white").encode(text=alt.Text("p99_ms:Q", format=".0f"))
    return alt.LayerChart(layer=[cells, text], title=title)


def runs_for(result: ProduceResult | SweepResult) -> list[ProduceResult]:
    """The produce runs inside a result (one for a single run)."""
    from lab.produce import SweepResult

    return list(result.runs) if isinstance(result, SweepResult) else [result]
