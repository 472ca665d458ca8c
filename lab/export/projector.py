"""Charts and slides for a projector: high contrast that survives a washed-out beamer, large type, sized for
1920 × 1080.

    big = for_projector(chart)                     # the presenter's charts (applied only in presenter mode)
    png = slide_png("The answer · …", heading, lines, [("20", "acks=all …")], chart)   # one slide, 1920 px wide

A slide is one SVG (its text drawn here, its chart rendered by vl-convert and nested), turned into a PNG by
vl-convert's own SVG renderer: nothing fetched, nothing started. Pure: no Streamlit.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Sequence

import altair as alt
import vl_convert as vlc

from lab.export.charts import chart_spec

#: A slide's size (px): a 1080p projector.
SLIDE_WIDTH = 1920
SLIDE_HEIGHT = 1080
#: Margin around a slide's content (px).
MARGIN = 40
#: A presenter's chart height on the page and on a slide (px): with the heading and the key figures above it,
#: the whole step fits one 1080 px screen.
CHART_HEIGHT = 440
#: Dark, saturated colours that stay apart when a projector washes everything out (Okabe-Ito, darkened);
#: no pale yellow or light grey, which vanish on a bright screen.
PALETTE = ("#0042a8", "#c0282d", "#00703c", "#6a1b9a", "#b35900", "#000000", "#00838f", "#ad1457")
#: Type sizes (px): chart axes and legends; slide heading, lines, key figure values and their labels.
AXIS_FONT = 22
TITLE_FONT = 28
HEADING_FONT = 48
LINE_FONT = 32
FIGURE_FONT = 96
FIGURE_LABEL_FONT = 26
#: The slide's type face (vl-convert finds it among the system fonts; a sans face falls back to another).
FONT = "DejaVu Sans, Liberation Sans, sans-serif"
#: Average glyph width as a share of the font size, to wrap lines before they run off the slide.
GLYPH_WIDTH = 0.56


def for_projector(chart: alt.TopLevelMixin, height: int | None = CHART_HEIGHT) -> alt.TopLevelMixin:
    """``chart`` restyled for a projector: black text and axes on white, large labels, thick lines, the
    ``PALETTE`` for categories, and ``height`` px tall (single and layered charts; others keep their own)."""
    c = chart.properties(height=height) if height and isinstance(chart, (alt.Chart, alt.LayerChart)) else chart
    black = "#000000"
    styled: alt.TopLevelMixin = (c.configure(background="#ffffff", font=FONT)
            .configure_axis(labelFontSize=AXIS_FONT, titleFontSize=AXIS_FONT + 2, labelColor=black, titleColor=black,
                            domainColor=black, tickColor=black, domainWidth=2, tickWidth=2, gridColor="#9e9e9e",
                            labelLimit=400)
            .configure_legend(labelFontSize=AXIS_FONT, titleFontSize=AXIS_FONT, labelColor=black, titleColor=black,
                              symbolSize=320, symbolStrokeWidth=4, labelLimit=800)
            .configure_title(fontSize=TITLE_FONT, color=black, subtitleFontSize=AXIS_FONT, subtitleColor=black,
                             limit=1800)
            .configure_header(labelFontSize=AXIS_FONT, titleFontSize=AXIS_FONT + 2, labelColor=black,
                              titleColor=black)
            .configure_range(category=list(PALETTE))
            .configure_line(strokeWidth=4)
            .configure_rule(strokeWidth=3)
            .configure_point(size=140, filled=True)
            .configure_text(fontSize=AXIS_FONT, color=black)
            .configure_view(stroke=black))
    return styled


# --- a slide -----------------------------------------------------------------------------------------------
def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _wrap(text: str, size: int, width: int) -> list[str]:
    return textwrap.wrap(text, max(10, int(width / (size * GLYPH_WIDTH)))) or [""]


def _text(x: float, y: float, text: str, size: int, *, bold: bool = False, colour: str = "#000000",
          anchor: str = "start") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-family="{FONT}" font-size="{size}"{weight} fill="{colour}" '
            f'text-anchor="{anchor}">{_e(text)}</text>')


def _chart_svg(chart: alt.TopLevelMixin, width: int) -> tuple[str, float, float]:
    """(svg, width, height) of ``chart`` restyled for the projector and ``width`` px wide (single/layered)."""
    c = chart.properties(width=width) if isinstance(chart, (alt.Chart, alt.LayerChart)) else chart
    svg: str = vlc.vegalite_to_svg(chart_spec(for_projector(c)), allowed_base_urls=[])
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    m = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    w, h = (float(m.group(1)), float(m.group(2))) if m else (float(width), float(CHART_HEIGHT))
    return svg, w, h


def slide_svg(kicker: str, heading: str, lines: Sequence[str], figures: Sequence[tuple[str, str]] = (),
              chart: alt.TopLevelMixin | None = None) -> str:
    """One slide as SVG, ``SLIDE_WIDTH`` wide: a small ``kicker`` (which step of which lesson), the ``heading``,
    its ``lines``, a row of key ``figures`` ((value, label) pairs, the values large) and the ``chart``
    (scaled down to fit the slide's width when it is wider). At least ``SLIDE_HEIGHT`` tall; taller when the
    chart needs the room, never cut."""
    inner = SLIDE_WIDTH - 2 * MARGIN
    parts: list[str] = []
    y: float = MARGIN + FIGURE_LABEL_FONT
    parts.append(_text(MARGIN, y, kicker, FIGURE_LABEL_FONT, colour="#333333"))
    y += 16
    for line in _wrap(heading, HEADING_FONT, inner):
        y += int(HEADING_FONT * 1.2)
        parts.append(_text(MARGIN, y, line, HEADING_FONT, bold=True))
    y += 12
    for text in lines:
        for line in _wrap(text, LINE_FONT, inner):
            y += int(LINE_FONT * 1.35)
            parts.append(_text(MARGIN, y, line, LINE_FONT))
    if figures:
        y += 24
        cell = inner / len(figures)
        top = y
        for i, (value, label) in enumerate(figures):
            x = MARGIN + i * cell
            parts.append(_text(x, top + FIGURE_FONT, value, FIGURE_FONT, bold=True, colour=PALETTE[0]))
            ly = top + FIGURE_FONT
            for line in _wrap(label, FIGURE_LABEL_FONT, int(cell) - 24)[:3]:
                ly += int(FIGURE_LABEL_FONT * 1.3)
                parts.append(_text(x, ly, line, FIGURE_LABEL_FONT, colour="#222222"))
            y = max(y, ly)
    if chart is not None:
        y += 24
        svg, w, h = _chart_svg(chart, inner - 40)
        scale = min(1.0, inner / w) if w else 1.0
        parts.append(f'<g transform="translate({MARGIN},{y:.0f}) scale({scale:.4f})">{svg}</g>')
        y += h * scale
    height = max(SLIDE_HEIGHT, int(y + MARGIN))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{SLIDE_WIDTH}" height="{height}" '
            f'viewBox="0 0 {SLIDE_WIDTH} {height}"><rect width="100%" height="100%" fill="#ffffff"/>'
            + "".join(parts) + "</svg>")


def slide_png(kicker: str, heading: str, lines: Sequence[str], figures: Sequence[tuple[str, str]] = (),
              chart: alt.TopLevelMixin | None = None) -> bytes:
    """``slide_svg`` as PNG bytes (``SLIDE_WIDTH`` px wide)."""
    png: bytes = vlc.svg_to_png(slide_svg(kicker, heading, lines, figures, chart))
    return png


__all__ = ["CHART_HEIGHT", "PALETTE", "SLIDE_HEIGHT", "SLIDE_WIDTH", "for_projector", "slide_png", "slide_svg"]
