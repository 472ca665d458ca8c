"""The Replication & ISR page in a real browser: a scenario run from the page draws its live charts,
and a broker button in the sidebar shows up as an ISR change on the monitor."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from lab.cluster import LocalCluster
from lab.kafka import admin
from lab.kafka.specs import TopicSpec
from tests.browser.drawn import charts_drawn, wait_charts_painted

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"


def test_monitor_sees_a_broker_button_press(page, app_url: str, whole_cluster: LocalCluster) -> None:
    # its own RF-3 topic (sorted first, so the monitor picks it unless the lab's lab-replication-demo exists);
    # the lab's catalogue topics are created by the Cluster page's own test
    whole_cluster.wait_until_ready(60)  # a broker resumed by an earlier test may still be re-registering
    admin.create_topics(whole_cluster, [TopicSpec(f"a-browser-{uuid.uuid4().hex[:8]}", 3, 3)])
    # the monitor watches for its longest (it would end by itself after the default 120 s, before a loaded
    # machine gets through stop, ISR shrink, start and rejoin); the test cancels it when it has seen both
    try:
        page.goto(f"{app_url}/replication?mon_s=600")
        page.get_by_text("Brokers of this cluster").first.wait_for()
        page.locator("[class*='st-key-repl_run_btn'] button").first.click()
        page.get_by_text(re.compile(r"watching \S+: \d+ event")).first.wait_for(timeout=30_000)
        page.locator("[class*='st-key-repl_stop_3'] button").first.click()
        page.get_by_text("Broker 3: stop done", exact=False).first.wait_for(timeout=60_000)
        # the monitor records the shrink within a poll or two; the events table shows it
        page.get_by_text("broker 3 left", exact=False).first.wait_for(timeout=30_000)
        page.locator("[class*='st-key-repl_start_3'] button").first.click()
        page.get_by_text("broker 3 rejoined", exact=False).first.wait_for(timeout=90_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "replication.png"), full_page=True)
        page.locator("[class*='st-key-repl_cancel_btn'] button").first.click()
        page.get_by_text("stopped early: cancelled by the user", exact=False).first.wait_for(timeout=30_000)
        # the cancelled monitor keeps what it measured: its charts are drawn, not empty frames
        wait_charts_painted(page, timeout_ms=30_000)
        drawn = charts_drawn(page)
        assert len(drawn) >= 3, drawn  # ISR per partition, background producer, events (and HW vs LEO)
        assert all(n > 500 for n in drawn), f"a chart has (almost) nothing drawn: {drawn}"
    except Exception:  # what the page showed, whichever step failed
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "replication-fail.png"), full_page=True)
        (SHOTS / "replication-fail.txt").write_text(page.url + "\n" + page.inner_text("body"))
        raise
