"""The Consumer lag page in a real browser: watching a group whose lag changes while it is watched. The
page first shows the group's lag as committed by the fixture, then, once the test has produced more
records, the larger lag; the charts of the history are drawn."""

from __future__ import annotations

from pathlib import Path

from lab.cluster import LocalCluster
from tests.browser.drawn import charts_drawn
from tests.conftest import LAGGING_CONSUMED, LAGGING_PRODUCED, LaggingGroup, produce

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"
#: records the test adds to partition 0 while the page watches
MORE = 40


def _total_lag(extra: int) -> int:
    """Committed partitions only: a partition without a commit has no lag figure (it says "no commit")."""
    return sum(LAGGING_PRODUCED[p] + (extra if p == 0 else 0) - n for p, n in LAGGING_CONSUMED.items())


def test_watching_a_group_shows_its_lag_grow(page, app_url: str, cluster: LocalCluster,  # type: ignore[no-untyped-def]
                                              lagging_group: LaggingGroup) -> None:
    page.goto(app_url)
    page.get_by_text("6 · Consumer lag").first.click()
    page.get_by_text("Watch for (s)").first.wait_for()
    # type the name, as a person with many groups would: the picker draws only the options in view, and a
    # cluster shared with the whole suite has many groups
    picker = page.locator("[class*='st-key-lag_group'] input[role='combobox']").first
    picker.click()
    picker.fill(lagging_group.group)
    page.get_by_role("option", name=lagging_group.group).first.click()
    duration = page.locator("[class*='st-key-watch_s'] input").first
    duration.fill("12")
    duration.press("Enter")
    page.wait_for_timeout(500)
    page.locator("[class*='st-key-lag_run_btn'] button").first.click()
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Total lag (records)").first
    try:
        metric.get_by_text(f"{_total_lag(0):,}", exact=True).wait_for(timeout=60_000)
        produce(cluster, lagging_group.topic, {0: MORE})
        metric.get_by_text(f"{_total_lag(MORE):,}", exact=True).wait_for(timeout=30_000)
        page.get_by_text("lag watch finished", exact=False).first.wait_for(timeout=60_000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "lag-fail.png"), full_page=True)
        (SHOTS / "lag-fail.txt").write_text(page.inner_text("body"))
        raise
    # the finished run: the grown lag, and its history drawn (per partition, total, produce vs commit)
    assert metric.get_by_text(f"{_total_lag(MORE):,}", exact=True).count() == 1
    page.locator(".vega-embed").nth(2).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # let Vega paint
    drawn = charts_drawn(page)
    assert len(drawn) == 3 and all(n > 200 for n in drawn), drawn
