"""The Consumer tuning page in a real browser: a strategy comparison run from the page (opened by a
link) draws its charts (the pause comparison and one timeline per strategy), with something drawn in each."""

from __future__ import annotations

from pathlib import Path

from lab.cluster import LocalCluster
from tests.browser.drawn import charts_drawn

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"



def test_strategy_comparison_draws_its_charts(page, app_url: str, cluster: LocalCluster) -> None:  # type: ignore[no-untyped-def]
    # two strategies (one eager, one cooperative) through a link: the run costs a third less than all three
    page.goto(f"{app_url}/consumer?mode=strategies&strategies=range&strategies=cooperative-sticky")
    page.get_by_text("Group size (members at the start)").first.wait_for()
    page.locator("[class*='st-key-consumer_run_btn'] button").first.click()
    try:
        page.get_by_text("assignment strategies and rebalances finished", exact=False).first.wait_for(timeout=180_000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "consumer-fail.png"))
        (SHOTS / "consumer-fail.txt").write_text(page.inner_text("body"))
        raise
    page.locator(".vega-embed").nth(2).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # let Vega paint
    drawn = charts_drawn(page)
    assert len(drawn) == 3, drawn  # the pause comparison + one timeline per strategy (2)
    assert all(n > 500 for n in drawn), f"a chart has (almost) nothing drawn: {drawn}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "consumer.png"), full_page=True)
