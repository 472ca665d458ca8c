"""What a person sees of a chart: how much of each Vega chart on the page is drawn (not background)."""

from __future__ import annotations

#: JavaScript: for every Vega chart on the page, how many of its pixels are not background.
COUNT_DRAWN_JS = """() => Array.from(document.querySelectorAll('.vega-embed')).map(el => {
  const c = el.querySelector('canvas');
  if (!c) { return el.querySelectorAll('svg path, svg line, svg rect, svg symbol').length * 100; }
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) { n++; }
  }
  return n;
})"""


def charts_drawn(page) -> list[int]:  # type: ignore[no-untyped-def]
    """Per Vega chart (its ``vega-embed`` container), the count of drawn (non-background) pixels."""
    return list(page.evaluate(COUNT_DRAWN_JS))
