"""Replication charts (phase 2): ISR size per partition, events, acknowledged/failed writes, HW vs each
replica's LEO, segment sizes. Pure: a frame in, an Altair chart out.

Charts that share a time axis take the same ``x_domain`` and a fixed y-axis width, so they line up
(e.g. ``Timeline.isr_frame()`` beside the producer strip).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

from lab.core.charts import FAIL_COLOUR, OK_COLOUR, AnyChart

if TYPE_CHECKING:
    pass

#: Chart height for timeline strips (px): several stack on one page. Titles are left to the page: Streamlit
#: fits a chart's title, legends and axes into this height too, which squashes a short plot.
STRIP_HEIGHT = 230
HW_HEIGHT = 340
#: The series name of the leader's high watermark in ``Timeline.offsets_frame()`` (drawn black, thick).
HW_SERIES = "high watermark"
#: Width of the y axis (labels + title) of every chart on a shared time axis, and their legends on top:
#: stacked one under another, their plots then start and end at the same pixel, so one second is in
#: the same place on all of them.
Y_AXIS_PX = 150
#: One row of the events strip. Its height is a step per row: a fixed height is shared with the legend
#: and axis by Streamlit and squashed the rows into one.
EVENT_ROW_PX = 26
#: How far apart overlapping ISR lines of different partitions are drawn (in replicas): equal lines would
#: hide each other.
ISR_NUDGE = 0.06


# --- replication: ISR, events, write throughput, HW vs LEO, segments ---------------------------------
def _x(domain: tuple[float, float] | None, title: str = "seconds since start") -> alt.X:
    scale = alt.Scale(domain=list(domain)) if domain else alt.Undefined
    return alt.X("t:Q", title=title, scale=scale)


def _y(field: str, title: str | None, *, axis: dict[str, Any] | None = None, **kw: Any) -> alt.Y:
    """A y encoding whose axis takes exactly ``Y_AXIS_PX`` (labels cut to fit), for charts that stack;
    ``axis`` adds axis options, ``kw`` encoding options (scale, stack)."""
    return alt.Y(field, title=title, axis=alt.Axis(minExtent=Y_AXIS_PX, maxExtent=Y_AXIS_PX,
                                                   labelLimit=Y_AXIS_PX - 25, **(axis or {})), **kw)


def _top_legend(title: str | None = None, **kw: Any) -> alt.Legend:
    return alt.Legend(orient="top", title=title, **kw)


def _steps_layer(steps: pd.DataFrame | None, domain: tuple[float, float] | None) -> list[alt.Chart]:
    if steps is None or steps.empty:
        return []
    return [alt.Chart(steps).mark_rule(color="gray", strokeDash=[4, 3]).encode(
        x=_x(domain), tooltip=[alt.Tooltip("t:Q", format=".1f"), "step:N"])]


def time_domain(*frames: pd.DataFrame) -> tuple[float, float] | None:
    """The common time range of several frames with a ``t`` column (None when all are empty)."""
    ts = [f["t"] for f in frames if f is not None and not f.empty and "t" in f]
    if not ts:
        return None
    lo = min(float(t.min()) for t in ts)
    hi = max(float(t.max()) for t in ts)
    return (lo, max(hi, lo + 1.0))


def isr_timeline(isr: pd.DataFrame, steps: pd.DataFrame | None = None,
                 x_domain: tuple[float, float] | None = None) -> AnyChart:
    """ISR size per partition over time (a step line), with the scenario's steps as dashed rules. Lines of
    different partitions are nudged apart by ``ISR_NUDGE`` so equal ones stay visible (tooltips are exact)."""
    top = int(isr["replicas"].max()) if not isr.empty else 3
    frame = isr.copy()
    if not frame.empty:
        order = {p: i for i, p in enumerate(sorted(frame["partition"].unique()))}
        mid = (len(order) - 1) / 2
        frame["drawn"] = frame["isr_size"] + frame["partition"].map(lambda p: (order[p] - mid) * ISR_NUDGE)
    else:
        frame["drawn"] = frame.get("isr_size", pd.Series(dtype=float))
    line = alt.Chart(frame).mark_line(interpolate="step-after", point=True).encode(
        x=_x(x_domain),
        y=_y("drawn:Q", "in-sync replicas", scale=alt.Scale(domain=[0, top + 0.3], nice=False),
             axis={"tickMinStep": 1, "values": list(range(top + 1))}),
        color=alt.Color("partition:N", legend=_top_legend()),
        tooltip=[alt.Tooltip("t:Q", format=".1f"), "partition:N", alt.Tooltip("isr_size:Q", title="ISR size"),
                 "isr:N", "leader:Q", "leader_epoch:Q"],
    )
    chart: AnyChart = alt.layer(line, *_steps_layer(steps, x_domain)).properties(height=STRIP_HEIGHT)
    return chart


def replication_events(events: pd.DataFrame, x_domain: tuple[float, float] | None = None) -> AnyChart:
    """Each ISR/leader/epoch event as a point on its partition's row (one ``EVENT_ROW_PX`` row each)."""
    chart: AnyChart = alt.Chart(events).mark_point(filled=True, size=90).encode(
        x=_x(x_domain),
        y=_y("partition:N", "partition"),
        color=alt.Color("event:N", scale=alt.Scale(
            domain=["isr_shrink", "isr_expand", "leader_change", "epoch_change", "offline", "online"],
            range=["#e65100", "#2e7d32", "#1565c0", "#6a1b9a", "#c62828", "#00838f"]),
            legend=_top_legend(columns=6)),
        shape=alt.Shape("event:N", legend=None),
        tooltip=[alt.Tooltip("t:Q", format=".1f"), "partition:N", "event:N", "detail:N"],
    ).properties(height=alt.Step(EVENT_ROW_PX))
    return chart


def produce_timeline(produce: pd.DataFrame, steps: pd.DataFrame | None = None,
                     x_domain: tuple[float, float] | None = None) -> AnyChart:
    """Acknowledged and failed writes per second (bars), on the same time axis as the ISR chart."""
    long = produce.melt(id_vars=["t", "errors", "max_latency_ms"], value_vars=["acked", "failed"],
                        var_name="outcome", value_name="messages")
    bars = alt.Chart(long).mark_bar(opacity=0.85).encode(
        x=_x(x_domain),
        y=_y("messages:Q", "writes per second", stack=True),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=["acked", "failed"], range=[OK_COLOUR, FAIL_COLOUR]),
                        legend=_top_legend()),
        tooltip=[alt.Tooltip("t:Q", format=".0f"), "outcome:N", "messages:Q", "errors:N",
                 alt.Tooltip("max_latency_ms:Q", title="slowest ack (ms)")],
    )
    chart: AnyChart = alt.layer(bars, *_steps_layer(steps, x_domain)).properties(height=STRIP_HEIGHT)
    return chart


def hw_vs_leo(offsets: pd.DataFrame, steps: pd.DataFrame | None = None,
              x_domain: tuple[float, float] | None = None) -> AnyChart:
    """The leader's high watermark (thick black) against every replica's log end offset (coloured; dashed
    where a frozen broker's last value is carried forward)."""
    hw = offsets[offsets["series"] == HW_SERIES] if not offsets.empty else offsets
    leo = offsets[offsets["series"] != HW_SERIES] if not offsets.empty else offsets
    tip = [alt.Tooltip("t:Q", format=".1f"), "partition:N", "series:N", "offset:Q", "stale:N"]
    leo_lines = alt.Chart(leo).mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=_x(x_domain),
        y=_y("offset:Q", "offset", scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title="log end offset (LEO)", scale=alt.Scale(scheme="tableau10"),
                        legend=_top_legend("log end offset (LEO)", columns=3)),
        strokeDash=alt.StrokeDash("stale:N", title="frozen broker's last value",
                                  scale=alt.Scale(domain=[False, True], range=[[1, 0], [5, 4]]),
                                  legend=_top_legend("frozen broker's last value")),
        detail="partition:N",  # one line per partition and series, never joined across partitions
        tooltip=tip,
    )
    hw_line = alt.Chart(hw).mark_line(interpolate="step-after", color="black", strokeWidth=3, opacity=0.6).encode(
        x=_x(x_domain), y=alt.Y("offset:Q"), detail="partition:N", tooltip=tip)
    lines = alt.layer(leo_lines, hw_line)
    chart: AnyChart = alt.layer(lines, *_steps_layer(steps, x_domain)).properties(height=HW_HEIGHT)
    return chart


def segment_sizes(segments: pd.DataFrame) -> AnyChart:
    """Stacked .log segment sizes after each burst of writes: the active segment fills, then rolls."""
    logs = segments[segments["kind"] == "log"] if not segments.empty else segments
    chart: AnyChart = alt.Chart(logs).mark_bar().encode(
        x=alt.X("messages_written:O", title="messages written so far"),
        y=alt.Y("size_bytes:Q", title=".log bytes", stack=True),
        color=alt.Color("base_offset:O", title="segment (base offset)", legend=None),
        order=alt.Order("base_offset:Q"),
        tooltip=["file:N", "size_bytes:Q", "base_offset:Q"],
    ).properties(height=HW_HEIGHT)
    return chart


# --- ELR: the same fault on two Kafka versions -------------------------------------------------------
#: The three counts per topic, in the order drawn (lost in the failure colour).
ELR_MEASURES = ("acknowledged", "read back", "lost")


def versions_frame(verdicts: Any) -> pd.DataFrame:
    """One row per (Kafka version, topic, measure): counts from ``elr.version_verdict`` (None -> left out)."""
    rows = []
    for v in verdicts:
        for t in (v.clean, v.unclean):
            side = "unclean election on" if t.unclean_enabled else "unclean election off"
            for measure, n in zip(ELR_MEASURES, (t.acknowledged, t.read_back, t.lost), strict=True):
                if n is not None:
                    rows.append({"Kafka": v.kafka_version, "topic": side, "measure": measure, "messages": n,
                                 "leader by": t.via, "ELR": {True: "yes", False: "no", None: "?"}[v.elr]})
    return pd.DataFrame(rows, columns=["Kafka", "topic", "measure", "messages", "leader by", "ELR"])


def versions_chart(frame: pd.DataFrame) -> AnyChart:
    """Acknowledged, read back and lost writes per topic, one panel per Kafka version side by side."""
    colours = alt.Scale(domain=list(ELR_MEASURES), range=[OK_COLOUR, "#4c78a8", FAIL_COLOUR])
    bars = alt.Chart(frame).mark_bar().encode(
        x=alt.X("topic:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("measure:N", sort=list(ELR_MEASURES)),
        y=alt.Y("messages:Q", title="messages"),
        color=alt.Color("measure:N", scale=colours, legend=_top_legend()),
        tooltip=["Kafka", "ELR", "topic", "measure", "messages", "leader by"],
    ).properties(width=260, height=STRIP_HEIGHT)
    faceted: AnyChart = bars.facet(column=alt.Column("Kafka:N", title="Kafka version"))
    return faceted
