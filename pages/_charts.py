"""Every chart of every page with its downloads: ``show_chart(chart, name, key=...)`` draws it and offers
PNG, SVG and CSV. The files are made only when a button is clicked (``data=`` a callable), so a page
that is never exported pays nothing, and a click does not rerun the page (``on_click="ignore"``)."""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import streamlit as st

from lab.core.results import Result
from lab.export import files as export


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "-", name).strip("-") or "chart"


def show_chart(chart: alt.TopLevelMixin, name: str, *, key: str, where: Any = None,
               width: str | None = "stretch") -> None:
    """Draw ``chart`` (in ``where``, a column or container; default the page) with PNG/SVG/CSV downloads.

    ``name`` is the file name stem; ``key`` makes the buttons' keys unique on the page."""
    box = where if where is not None else st.container()
    box.altair_chart(chart, width=width)
    row = box.container(horizontal=True, gap="small")
    stem = _safe(name)
    row.download_button("PNG", data=lambda: export.chart_png(chart), file_name=f"{stem}.png", mime="image/png",
                        key=f"{key}_png", on_click="ignore", icon=":material/download:", type="tertiary")
    row.download_button("SVG", data=lambda: export.chart_svg(chart), file_name=f"{stem}.svg",
                        mime="image/svg+xml", key=f"{key}_svg", on_click="ignore", type="tertiary")
    row.download_button("CSV", data=lambda: export.chart_csv(chart), file_name=f"{stem}.csv", mime="text/csv",
                        key=f"{key}_csv", on_click="ignore", type="tertiary")


def run_downloads(result: Result, *, key: str) -> None:
    """The whole run: the HTML report (charts inline, opens anywhere offline) and the JSON record."""
    row = st.container(horizontal=True, gap="small")
    stem = export.file_stem(result)
    row.download_button("Download report (HTML)", data=lambda: export.html_report([result]), file_name=f"{stem}.html",
                        mime="text/html", key=f"{key}_report_html", on_click="ignore",
                        icon=":material/description:")
    row.download_button("Download run (JSON)", data=lambda: export.run_json(result), file_name=f"{stem}.json",
                        mime="application/json", key=f"{key}_run_json", on_click="ignore",
                        icon=":material/data_object:")
