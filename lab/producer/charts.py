"""Producer charts (phase 4): throughput over time, latency percentiles, the throughput/latency trade-off,
codecs side by side, the linger x batch heatmap. Pure: a result or frame in, an Altair chart out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

from lab.core.charts import CHART_HEIGHT, CHART_WIDTH

if TYPE_CHECKING:
    from lab.producer.run import IntervalSample, ProduceResult
    from lab.producer.sweep import SweepResult


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
    """One row per cell of a sweep (``SweepResult.rows()``), sorted by its numeric settings; ``latency_ms`` is
    the p99 at the common fixed rate when the sweep measured it, else the p99 of the maximum-throughput run."""
    frame = pd.DataFrame(sweep.rows())
    if frame.empty:
        return frame
    frame["latency_ms"] = frame["fixed_p99_ms"].where(frame["fixed_p99_ms"].notna(), frame["p99_ms"])
    src = "fixed_p99_ms" if frame["fixed_p99_ms"].notna().all() else "p99_ms"
    for end in ("lo", "hi"):  # the repeats' spread of that latency (whiskers), when the cells were repeated
        if f"{src}_{end}" in frame:
            frame[f"latency_ms_{end}"] = frame[f"{src}_{end}"]
    return frame.sort_values(["linger_ms", "batch_size"], kind="stable").reset_index(drop=True) \
        if sweep.kind == "batch" else frame


def latency_title(frame: pd.DataFrame) -> str:
    """What the sweep charts' latency is: at the fixed rate (named) or at full speed."""
    rate = frame["fixed_rate"].dropna() if "fixed_rate" in frame else pd.Series(dtype=float)
    return f"p99 send->ack at {rate.iloc[0]:,.0f} msg/s (ms)" if len(rate) else "p99 send->ack at full speed (ms)"


#: The sweep table's columns for people: (frame column, header, decimals).
TABLE_COLUMNS = (("label", "run", None), ("repeats", "repeats", None), ("msgs_per_s", "max msg/s", 0),
                 ("mb_per_s", "MB/s", 2),
                 ("p50_ms", "p50 ms (max)", 1), ("p99_ms", "p99 ms (max)", 1),
                 ("fixed_p50_ms", "p50 ms @rate", 1),
                 ("fixed_p99_ms", "p99 ms @rate", 1), ("compression_ratio", "compression ratio", 2),
                 ("msgs_per_batch", "msgs/batch", 1), ("doubts", "doubts", None),
                 ("fixed_doubts", "doubts @rate", None))


def readable_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The sweep frame with readable headers and rounding, only the columns a reader compares."""
    cols = [(c, h, d) for c, h, d in TABLE_COLUMNS if c in frame]
    out = pd.DataFrame({h: (frame[c].round(d) if d is not None else frame[c]) for c, h, d in cols})
    return out


def tradeoff_chart(frame: pd.DataFrame, title: str = "Throughput vs p99 latency") -> alt.LayerChart:
    """Each cell as a point: x its maximum throughput, y its p99 at the common fixed rate (``latency_ms``):
    further right batches better, lower waits less per message."""
    y = "latency_ms" if "latency_ms" in frame else "p99_ms"
    base = alt.Chart(frame, width=CHART_WIDTH, height=CHART_HEIGHT).encode(
        x=alt.X("msgs_per_s:Q", title="maximum messages/s"),
        y=alt.Y(f"{y}:Q", title=latency_title(frame), scale=alt.Scale(type="log")),
        tooltip=["label:N", alt.Tooltip("msgs_per_s:Q", format=",.0f", title="max msg/s"),
                 alt.Tooltip(f"{y}:Q", format=".1f", title="p99 ms"),
                 alt.Tooltip("compression_ratio:Q", format=".2f")],
    )
    layers: list[Any] = [
        base.mark_circle(size=90).encode(color=alt.Color("label:N", title="run", legend=None)),
        base.mark_text(align="left", dx=7, fontSize=11).encode(text="label:N"),
    ]
    if "msgs_per_s_lo" in frame:  # repeated cells: min..max of the repeats as whiskers, the point their median
        layers.append(base.mark_rule(opacity=0.6).encode(x="msgs_per_s_lo:Q", x2="msgs_per_s_hi:Q"))
    if f"{y}_lo" in frame:
        layers.append(base.mark_rule(opacity=0.6).encode(y=f"{y}_lo:Q", y2=f"{y}_hi:Q"))
    sub = "points: medians of the repeats; whiskers: their min to max" if "msgs_per_s_lo" in frame else None
    return alt.LayerChart(layer=layers, title=alt.Title(title, subtitle=sub) if sub else title)


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
    if "msgs_per_s_lo" in frame:  # repeated cells: the bar is the median, the whisker the repeats' min..max
        speed = speed + base.mark_rule(color="black").encode(y="msgs_per_s_lo:Q", y2="msgs_per_s_hi:Q")
    return alt.hconcat(speed, ratio_bars + labels, title=title)


def batch_heatmap(frame: pd.DataFrame, value: str = "msgs_per_s",
                  title: str = "linger.ms x batch.size") -> alt.LayerChart:
    """linger.ms (rows) x batch.size (columns), coloured by ``value``, each cell labelled with its p99 ms
    (``latency_ms``: at the fixed rate when measured); the title says which number is which."""
    base = alt.Chart(frame, width=CHART_WIDTH, height=CHART_HEIGHT).encode(
        x=alt.X("batch_size:O", title="batch.size (bytes)"),
        y=alt.Y("linger_ms:O", title="linger.ms", sort="ascending"),
    )
    label = "latency_ms" if "latency_ms" in frame else "p99_ms"
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title="max messages/s" if value == "msgs_per_s" else value.replace("_", " "),
                        scale=alt.Scale(scheme="viridis")),
        tooltip=["linger_ms:O", "batch_size:O", alt.Tooltip("msgs_per_s:Q", format=",.0f"),
                 alt.Tooltip("p99_ms:Q", format=".1f"), alt.Tooltip("msgs_per_batch:Q", format=".1f")],
    )
    text = base.mark_text(fontSize=12, fontWeight="bold", color="black", stroke="white", strokeWidth=0.3).encode(
        text=alt.Text(f"{label}:Q", format=".1f"))
    return alt.LayerChart(layer=[cells, text], title=alt.Title(
        title, subtitle=f"colour: maximum messages/s; number in each cell: {latency_title(frame)}"))


def runs_for(result: ProduceResult | SweepResult) -> list[ProduceResult]:
    """The produce runs inside a result (one for a single run)."""
    from lab.producer.sweep import SweepResult

    return list(result.runs) if isinstance(result, SweepResult) else [result]
