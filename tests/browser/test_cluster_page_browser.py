"""What a person sees on the Cluster page in a real browser, and a broker button doing real work."""

from __future__ import annotations

import re
from pathlib import Path

from lab.cluster import BrokerState, LocalCluster

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"


def test_cluster_page_shows_brokers_and_topics(page, app_url: str, cluster: LocalCluster) -> None:
    page.goto(app_url)
    page.get_by_text("Broker 3", exact=False).first.wait_for()
    page.get_by_text("reachable", exact=False).first.wait_for()
    page.locator("[class*='st-key-cluster_create_topics'] button").first.click()
    # "created" on a fresh cluster, "exists" when an earlier test of the session made it first
    page.get_by_text(re.compile(r"lab-replication-demo: (created|exists)")).first.wait_for()
    page.locator("table").get_by_text("lab-replication-demo").first.wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "cluster.png"), full_page=True)
    body = page.inner_text("body")
    assert "Cluster & topics" in body
    assert body.count("running") >= 3
    assert str(cluster.status().cluster_id) in body


def test_pause_and_resume_buttons_change_the_broker(page, app_url: str, whole_cluster: LocalCluster) -> None:
    page.goto(app_url)
    page.get_by_text("Broker 3", exact=False).first.wait_for()
    page.locator("[class*='st-key-cluster_pause_3'] button").first.click()
    page.get_by_text("paused", exact=False).first.wait_for()
    assert whole_cluster.status().brokers[2].state is BrokerState.PAUSED
    page.locator("[class*='st-key-cluster_resume_3'] button").first.click()
    page.get_by_text("Broker 3: resume done", exact=False).first.wait_for()
    assert whole_cluster.status().brokers[2].state is BrokerState.RUNNING
