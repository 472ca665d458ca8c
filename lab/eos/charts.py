"""Charts of the exactly-once lab: pure functions, a result (or a frame of it) in, an Altair chart out.

The fault (a frozen leader, an open transaction) is drawn as a shaded band on the time axis; the
frames are plain DataFrames so tests can check what is drawn.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from lab.core.charts import AnyChart
from lab.eos.duplicates import DuplicateResult
from lab.eos.pipeline_run import PipelineResult
from lab.eos.transactions import TransactionResult

CHART_HEIGHT = 240
#: What the result panel counts, per producer run.
COUNT_MEASURES = ("duplicates", "gaps", "lost", "order violations")


def seconds_frame(res: DuplicateResult) -> pd.DataFrame:
    """One row per (second, run, series): acknowledged records, failed records, client request timeouts."""
    rows = [{"t": s.t, "run": s.run, "series": name, "value": value}
            for s in res.seconds for name, value in (("acknowledged", s.acked), ("failed", s.failed),
                                                     ("request timeouts", s.timeouts))]
    return pd.DataFrame(rows, columns=["t", "run", "series", "value"])


def fault_bands(res: DuplicateResult) -> pd.DataFrame:
    """When the leader was frozen, per run."""
    rows = [{"run": r.label, "from": r.pause_from_s, "to": r.pause_to_s if r.pause_to_s is not None else r.pause_from_s,
             "label": f"broker {res.settings.leader} frozen"} for r in res.runs if r.pause_from_s is not None]
    return pd.DataFrame(rows, columns=["run", "from", "to", "label"])


def _band(bands: pd.DataFrame, color: str = "#d62728") -> alt.Chart:
    band: alt.Chart = alt.Chart(bands).mark_rect(opacity=0.15, color=color).encode(
        x="from:Q", x2="to:Q", tooltip=["label:N", alt.Tooltip("from:Q", format=".1f"),
                                        alt.Tooltip("to:Q", format=".1f")])
    return band


def acked_per_second(frame: pd.DataFrame, bands: pd.DataFrame) -> AnyChart:
    """Acknowledged records per second (bars, one colour per run) and client timeouts (red points), the
    frozen leader as a shaded band: the acks stop while it is frozen and arrive in a burst after."""
    acked = frame[frame["series"] == "acknowledged"]
    timeouts = frame[(frame["series"] == "request timeouts") & (frame["value"] > 0)]
    bars = alt.Chart(acked).mark_bar(opacity=0.8).encode(
        x=alt.X("t:Q", title="seconds since start"), y=alt.Y("value:Q", title="acknowledged records/s"),
        color=alt.Color("run:N", title="producer", legend=alt.Legend(orient="top")),
        tooltip=["run:N", "t:Q", "value:Q"])
    pts = alt.Chart(timeouts).mark_point(color="#d62728", shape="triangle-down", size=90, filled=True).encode(
        x="t:Q", y=alt.Y("value:Q"), tooltip=["run:N", "t:Q", alt.Tooltip("value:Q", title="request timeouts")])
    chart: AnyChart = alt.layer(_band(bands), bars, pts).properties(height=CHART_HEIGHT)
    return chart


def counts_frame(res: DuplicateResult) -> pd.DataFrame:
    """One row per (producer run, measure): duplicates, gaps, lost and order violations from the read-back."""
    rows = []
    for r in res.runs:
        if not r.read_back:
            continue
        t = r.total()
        for m, v in zip(COUNT_MEASURES, (t.duplicates, t.gaps, t.lost, t.order_violations), strict=True):
            rows.append({"run": r.label, "measure": m, "count": v})
    return pd.DataFrame(rows, columns=["run", "measure", "count"])


def counts_chart(frame: pd.DataFrame) -> AnyChart:
    """Grouped bars: what each producer left in the log."""
    chart: AnyChart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("measure:N", sort=list(COUNT_MEASURES), title=None, axis=alt.Axis(labelAngle=0)), xOffset="run:N",
        y=alt.Y("count:Q", title="records"), color=alt.Color("run:N", title="producer"),
        tooltip=["run:N", "measure:N", "count:Q"]).properties(height=CHART_HEIGHT)
    return chart


def offsets_frame(res: TransactionResult) -> pd.DataFrame:
    """One row per (sample, partition, series): high watermark, last stable offset, read_committed position."""
    rows = []
    for s in res.samples:
        for name, v in (("high watermark", s.high_watermark), ("last stable offset", s.last_stable_offset),
                        ("read_committed consumer", s.committed_position)):
            if v >= 0:
                rows.append({"t": s.t, "partition": f"p{s.partition}", "series": name, "offset": v})
    return pd.DataFrame(rows, columns=["t", "partition", "series", "offset"])


def open_band(res: TransactionResult) -> pd.DataFrame:
    rows = [] if res.open_from_s is None else [
        {"from": res.open_from_s, "to": res.open_to_s if res.open_to_s is not None else res.open_from_s,
         "label": "transaction open"}]
    return pd.DataFrame(rows, columns=["from", "to", "label"])


def hw_vs_lso(frame: pd.DataFrame, band: pd.DataFrame) -> AnyChart:
    """HW and LSO per partition over time: apart while a transaction is open (shaded), together after."""
    lines = alt.Chart(frame).mark_line(point=True, interpolate="step-after").encode(
        x=alt.X("t:Q", title="seconds since start"), y=alt.Y("offset:Q", title="offset"),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("partition:N", title="partition"),
        tooltip=["partition:N", "series:N", "t:Q", "offset:Q"])
    chart: AnyChart = alt.layer(_band(band, "#1f77b4"), lines).properties(height=CHART_HEIGHT)
    return chart


def pipeline_counts_frame(res: PipelineResult) -> pd.DataFrame:
    """One row per (mode, measure): input records, output records (read_committed), duplicates, missing."""
    rows = []
    for r in res.runs:
        for m, v in (("input", r.input_records), ("output", r.output_records), ("duplicates", r.duplicates),
                     ("missing", r.missing)):
            if v is not None:
                rows.append({"mode": r.mode, "measure": m, "count": v})
    return pd.DataFrame(rows, columns=["mode", "measure", "count"])


def pipeline_counts(frame: pd.DataFrame) -> AnyChart:
    """Input vs output per mode, with duplicates and losses: one group per measure."""
    chart: AnyChart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("measure:N", sort=["input", "output", "duplicates", "missing"], title=None,
                axis=alt.Axis(labelAngle=0)), xOffset="mode:N",
        y=alt.Y("count:Q", title="records"), color=alt.Color("mode:N", title="mode"),
        tooltip=["mode:N", "measure:N", "count:Q"]).properties(height=CHART_HEIGHT)
    return chart


def pipeline_timeline_frame(res: PipelineResult) -> pd.DataFrame:
    rows = [{"t": s.t, "mode": s.mode, "series": name, "offset": v}
            for s in res.samples for name, v in (("input end", s.input_end), ("output end", s.output_end),
                                                 ("output LSO", s.output_stable), ("committed input", s.committed))]
    return pd.DataFrame(rows, columns=["t", "mode", "series", "offset"])


def kills_frame(res: PipelineResult) -> pd.DataFrame:
    """When the pipeline process (and the output leader broker) were SIGKILLed."""
    rows = [{"t": t, "mode": r.mode, "label": "SIGKILL pipeline"} for r in res.runs for t in r.kills_at_s]
    rows += [{"t": r.broker_killed_at_s, "mode": r.mode, "label": f"SIGKILL broker {r.broker_killed}"}
             for r in res.runs if r.broker_killed_at_s is not None]
    return pd.DataFrame(rows, columns=["t", "mode", "label"])


def pipeline_timeline(frame: pd.DataFrame, kills: pd.DataFrame) -> AnyChart:
    """Offsets summed over partitions; red rules where the pipeline process was SIGKILLed."""
    lines = alt.Chart(frame).mark_line().encode(
        x=alt.X("t:Q", title="seconds since start"), y=alt.Y("offset:Q", title="offsets (all partitions)"),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")), strokeDash="mode:N",
        tooltip=["mode:N", "series:N", "t:Q", "offset:Q"])
    rules = alt.Chart(kills).mark_rule(color="#d62728", strokeWidth=2).encode(x="t:Q", tooltip=["mode:N", "label:N"])
    chart: AnyChart = alt.layer(lines, rules).properties(height=CHART_HEIGHT)
    return chart
