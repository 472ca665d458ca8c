"""What a person sees of a chart: how much of each Vega chart on the page is drawn (not background)."""

from __future__ import annotations

from tests.browser.app_state import IDLE_JS

#: JavaScript: for every Vega chart on the page, how many of its pixels are not background.
COUNT_DRAWN_JS = """() => Array.from(document.querySelectorAll('.vega-embed')).map(el => {
  const c = el.querySelector('canvas');
  if (!c) { return el.querySelectorAll('svg path, svg line, svg rect, svg symbol').length * 100; }
  if (!c.width || !c.height) { return 0; }
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


def wait_charts_painted(page, timeout_ms: float | None = None) -> None:  # type: ignore[no-untyped-def]
    """Until the page's script run has ended (every chart it draws is on the page) and Vega has painted
    something in each of them. Charts arrive one by one while a run draws them, and Vega paints each a
    moment after it arrives, so a test that counts at the first chart counts too few."""
    js = f"() => ({IDLE_JS})() && (({COUNT_DRAWN_JS})()).length > 0 && (({COUNT_DRAWN_JS})()).every(n => n > 0)"
    kw = {"timeout": timeout_ms} if timeout_ms is not None else {}
    page.wait_for_function(js, polling="raf", **kw)
