"""A run (or several) as files: PNG/SVG charts, CSV data, the JSON record, a self-contained HTML report and
OpenMessaging-Benchmark-style JSON. Pure: no Streamlit, no network.

``export_run(result, fmt)`` is the one entry point of the CLI (``kafka-lab runs export``); with several
charts, png/svg/csv give a zip with one file per chart, named by chart. Charts are drawn by
``lab.export.charts``, the report by ``lab.export.report``, OMB documents by ``lab.export.omb``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import altair as alt

from lab.core import codec
from lab.core.errors import LabError
from lab.export.charts import PNG_SCALE, PNG_WIDTH, chart_csv, chart_png, chart_spec, chart_svg, png_size
from lab.export.omb import omb_documents, omb_json
from lab.export.report import html_report
from lab.runs.charts import charts_for, experiment_name

__all__ = ["FORMATS", "PNG_SCALE", "PNG_WIDTH", "chart_csv", "file_stem", "chart_png", "chart_svg", "chart_spec",
           "export_run", "html_report", "omb_json", "png_size", "run_json"]

#: What ``export_run`` writes.
FORMATS = ("png", "svg", "html", "csv", "json", "omb")


# --- records ----------------------------------------------------------------------------------------
def run_json(result: Any) -> str:
    """The full record of the run (``lab.core.codec``: ``codec.loads`` gives it back)."""
    return codec.dumps(result, indent=2)


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
