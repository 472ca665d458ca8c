"""A run (or several) as files: PNG/SVG charts, CSV data, the JSON record, a self-contained HTML report and
OpenMessaging-Benchmark-style JSON. Pure: no Streamlit, no network.

Charts are rendered by vl-convert (Vega in an embedded engine) with ``allowed_base_urls=[]``: a chart's
data is inlined, so nothing is ever fetched and an export works offline. ``export_run(result, fmt)`` is the
one entry point of the CLI (``kafka-lab runs export``); with several charts, png/svg/csv give a zip with
one file per chart, named by chart.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import struct
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc
from altair.utils.data import to_values

from lab.core import codec
from lab.core.errors import LabError
from lab.export.omb import omb_documents, omb_json
from lab.runs.charts import charts_for, experiment_name, frame_of
from lab.runs.compare import (
    check_comparable,
    differing_settings,
    figures_table,
    overlay_charts,
    run_labels,
    settings_of,
)

__all__ = ["FORMATS", "chart_csv", "file_stem", "chart_png", "chart_svg", "chart_spec", "export_run", "html_report",
           "omb_json", "png_size", "run_json"]

#: Chart width (px, before ``scale``) for PNG exports: at scale 2 about 1900 px wide, sharp on a 1080p projector.
PNG_WIDTH = 900
#: Pixel density of PNG exports (2 = retina/projector).
PNG_SCALE = 2
#: What ``export_run`` writes.
FORMATS = ("png", "svg", "html", "csv", "json", "omb")
#: Charts of a report are drawn this wide (px) in the SVG.
REPORT_WIDTH = 760


# --- charts -----------------------------------------------------------------------------------------
def _sized(chart: alt.TopLevelMixin, width: int | None) -> alt.TopLevelMixin:
    """The chart at ``width`` px when it is a single or layered chart (concatenations keep their own)."""
    if width is not None and isinstance(chart, (alt.Chart, alt.LayerChart)):
        return chart.properties(width=width)
    return chart


def _inline(node: Any) -> None:
    """Replace every DataFrame in the chart tree by its values (in place, on a copy)."""
    if isinstance(getattr(node, "data", None), pd.DataFrame):
        node.data = to_values(node.data)  # {"values": [...]}: a plain dict (an InlineData would validate each row)
    for attr in ("layer", "hconcat", "vconcat", "concat"):
        for sub in getattr(node, attr, None) or ():
            _inline(sub)
    spec = getattr(node, "spec", None)
    if spec is not None and not isinstance(spec, (str, dict)):
        _inline(spec)


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with its data inline and no row limit (an export takes the whole run).

    The data is inlined here rather than by Altair's data transformer: that is process-global state, which
    Streamlit switches (under its own lock) while it draws a chart in another session's thread."""
    copy = chart.copy(deep=True)  # type: ignore[attr-defined]  # every top-level chart is a SchemaBase
    _inline(copy)
    spec: dict[str, Any] = copy.to_dict()
    return spec


def chart_png(chart: alt.TopLevelMixin, scale: float = PNG_SCALE, width: int | None = PNG_WIDTH) -> bytes:
    """PNG bytes of the chart, ``width`` px wide (single/layered charts) times ``scale``."""
    data: bytes = vlc.vegalite_to_png(chart_spec(_sized(chart, width)), scale=scale, allowed_base_urls=[])
    return data


def chart_svg(chart: alt.TopLevelMixin, width: int | None = None) -> str:
    """SVG text of the chart (self-contained: text as SVG text, no fonts or images fetched)."""
    svg: str = vlc.vegalite_to_svg(chart_spec(_sized(chart, width)), allowed_base_urls=[])
    return svg


def chart_csv(chart: alt.TopLevelMixin | pd.DataFrame) -> str:
    """The data behind a chart (or a DataFrame) as CSV."""
    frame = chart if isinstance(chart, pd.DataFrame) else frame_of(chart)
    text: str = frame.to_csv(index=False)
    return text


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise LabError("Not a PNG.")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


# --- records ----------------------------------------------------------------------------------------
def run_json(result: Any) -> str:
    """The full record of the run (``lab.core.codec``: ``codec.loads`` gives it back)."""
    return codec.dumps(result, indent=2)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _table(frame: pd.DataFrame) -> str:
    text: str = frame.map(_fmt).to_html(escape=True, border=0, classes="t")
    return text


_CSS = """body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table.t{border-collapse:collapse;margin:.5em 0}table.t td,table.t th{padding:2px 10px;border-bottom:1px solid #eee;
text-align:right}table.t th{text-align:left}.stopped{background:#fff3e0;border-left:4px solid #e65100;padding:.5em 1em}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}.meta td{text-align:left}"""


def _facts(result: Any, label: str) -> str:
    run = getattr(result, "run", None)
    rows: list[tuple[str, Any]] = [("run", label), ("experiment", experiment_name(result) or type(result).__name__)]
    if run is not None:
        rows += [("run id", run.run_id), ("started", run.started_at), ("ended", run.ended_at),
                 ("elapsed", f"{run.elapsed_s:.1f} s"), ("started from", run.face),
                 ("cluster backend", run.cluster.backend), ("bootstrap servers", run.cluster.bootstrap_servers),
                 ("cluster id", run.cluster.cluster_id or "—"), ("Kafka version", run.cluster.kafka_version or "—"),
                 ("brokers", run.cluster.broker_count)]
    rows.append(("how it ended", result.stopped or "finished"))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows)
    return f'<table class="t meta">{body}</table>'


def _figures_html(charts: Mapping[str, alt.TopLevelMixin]) -> str:
    out = []
    for name, chart in charts.items():
        svg = chart_svg(chart, width=REPORT_WIDTH)
        svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
        out.append(f"<figure>{svg}<figcaption>{html.escape(name)}</figcaption></figure>")
    return "\n".join(out)


def html_report(results: Sequence[Any], title: str | None = None) -> str:
    """One run, or a comparison of runs of one experiment, as one HTML file that needs nothing else: charts
    as inline SVG (no scripts), settings, figures, cluster facts and how each run ended."""
    results = list(results)
    check_comparable(results)
    labels = run_labels(results)
    title = title or (f"Run {labels[0]}" if len(results) == 1 else f"Comparison of {len(results)} runs")
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for result, label in zip(results, labels, strict=True):
        if result.stopped:
            parts.append(f'<p class="stopped"><b>{html.escape(label)}</b> stopped early: '
                         f"{html.escape(result.stopped)}</p>")
    parts.append("<h2>Runs</h2>")
    parts += [_facts(r, label) for r, label in zip(results, labels, strict=True)]
    if len(results) == 1:
        flat = settings_of(results[0])
        settings = pd.DataFrame({"value": list(flat.values())}, index=pd.Index(list(flat), name="setting"))
        charts: Mapping[str, alt.TopLevelMixin] = charts_for(results[0])
    else:
        settings = differing_settings(results)
        settings = pd.concat([settings[settings["differs"]], settings[~settings["differs"]]])
        charts = overlay_charts(results)
    parts += ["<h2>Settings</h2>", _table(settings), "<h2>Figures</h2>", _table(figures_table(results))]
    if charts:
        parts += ["<h2>Charts</h2>", _figures_html(charts)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


# --- one entry point ----------------------------------------------------------------------------------
def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "-", name).strip("-") or "chart"


def zip_of(files: dict[str, bytes]) -> bytes:
    """One zip archive holding ``files`` (name -> content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _render(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    if fmt == "png":
        return chart_png(chart)
    return (chart_svg(chart) if fmt == "svg" else chart_csv(chart)).encode()


def file_stem(result: Any) -> str:
    """A file name stem for the run: ``produce-20261202T030112-ab12cd``."""
    run = getattr(result, "run", None)
    return _safe(f"{experiment_name(result) or type(result).__name__}-{run.run_id if run else 'run'}")


def export_files(result: Any, fmt: str, chart: str | None = None) -> dict[str, bytes]:
    """The run in ``fmt`` as files by name: one for json and html, one per chart for png/svg/csv (only
    ``chart`` when given), one OMB document per point for omb."""
    stem = file_stem(result)
    if fmt == "json":
        return {f"{stem}.json": run_json(result).encode()}
    if fmt == "html":
        return {f"{stem}.html": html_report([result]).encode()}
    if fmt == "omb":
        docs = omb_documents(result)
        if len(docs) == 1:
            return {f"{stem}-omb.json": json.dumps(next(iter(docs.values())), indent=2, allow_nan=False).encode()}
        return {f"{_safe(n)}.json": json.dumps(d, indent=2, allow_nan=False).encode() for n, d in docs.items()}
    if fmt not in ("png", "svg", "csv"):
        raise LabError(f"No export format {fmt!r}.", hint=f"Use one of: {', '.join(FORMATS)}.")
    charts = charts_for(result)
    if not charts:
        raise LabError("This run has nothing to chart (no time series).",
                       hint="Export it as json or html instead.")
    if chart is not None:
        if chart not in charts:
            raise LabError(f"This run has no chart {chart!r}.", hint=f"Its charts: {', '.join(charts)}.")
        return {f"{stem}-{_safe(chart)}.{fmt}": _render(charts[chart], fmt)}
    if len(charts) == 1:
        return {f"{stem}.{fmt}": _render(next(iter(charts.values())), fmt)}
    return {f"{_safe(name)}.{fmt}": _render(c, fmt) for name, c in charts.items()}


def export_run(result: Any, fmt: str, chart: str | None = None) -> tuple[bytes, str]:
    """(content, suggested file name) of one run in ``fmt`` (one of ``FORMATS``).

    png/svg/csv are the run's charts (``charts_for``; ``chart`` picks one): one chart gives one file,
    several a zip with one file per chart. omb is for producer runs (a sweep gives a zip, one OMB document
    per point).
    """
    files = export_files(result, fmt, chart)
    if len(files) == 1:
        return next(iter(files.items()))[::-1]
    return zip_of(files), f"{file_stem(result)}-{fmt}.zip"
