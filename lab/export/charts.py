"""Charts as files: PNG at a projector size, self-contained SVG, the data behind a chart as CSV.

Rendered by vl-convert (Vega in an embedded engine) with ``allowed_base_urls=[]``: a chart's data is
inlined, so nothing is ever fetched and an export works offline.
"""

from __future__ import annotations

import struct
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc
from altair.utils.data import to_values

from lab.core.errors import LabError
from lab.runs.charts import frame_of

#: Chart width (px, before ``scale``) for PNG exports: at scale 2 about 1900 px wide, sharp on a 1080p projector.
PNG_WIDTH = 900
#: Pixel density of PNG exports (2 = retina/projector).
PNG_SCALE = 2


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


