"""The Idempotence & transactions page in a real browser: the duplicate scenario run from the sidebar
finishes with its charts drawn and the cluster whole again."""

from __future__ import annotations

from pathlib import Path

from lab.cluster import LocalCluster
from tests.browser.drawn import charts_drawn
from tests.integration.test_replication import assert_whole

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"


def test_idempotence_scenario_draws_its_charts(page, app_url: str, whole_cluster: LocalCluster) -> None:
    whole_cluster.wait_until_ready(60)
    page.goto(app_url)
    page.get_by_text("3 · Idempotence & transactions").first.click()
    page.get_by_text("Fault window here", exact=False).first.wait_for(timeout=30_000)
    page.locator("[class*='st-key-eos_run_btn'] button").first.click()
    try:
        page.get_by_text("finished in", exact=False).first.wait_for(timeout=180_000)
        page.get_by_text("What each producer left in the log", exact=False).first.wait_for(timeout=30_000)
        page.locator(".vega-embed").nth(1).wait_for(timeout=30_000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "eos-fail.png"), full_page=True)
        (SHOTS / "eos-fail.txt").write_text(page.inner_text("body"))
        raise
    drawn = charts_drawn(page)
    assert len(drawn) >= 2, drawn  # acks per second with the fault band, and the counts per producer
    assert all(n > 500 for n in drawn), f"a chart has (almost) nothing drawn: {drawn}"
    body = page.inner_text("body")
    assert "PID" in body  # the idempotent producer's id from librdkafka's statistics
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "eos.png"), full_page=True)
    assert_whole(whole_cluster)
