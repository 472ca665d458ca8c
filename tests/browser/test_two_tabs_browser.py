"""Two people, one cluster: a second browser tab cannot start a broker-changing scenario while the
first one runs. It is told which one runs (and from where), its broker buttons are off, and when the
first is cancelled every broker is running again and the lock is free."""

from __future__ import annotations

from pathlib import Path

from lab.cluster import BrokerState, LocalCluster

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"


def open_min_isr(browser, app_url: str):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.goto(app_url)
    page.get_by_text("2 · Replication & ISR").first.click()
    page.get_by_text("Brokers of this cluster").first.wait_for()
    # the scenario radio's option (the page's text mentions min.insync.replicas elsewhere too)
    page.locator("[class*='st-key-repl_kind'] label", has_text="min.insync.replicas").first.click()
    page.locator("[class*='st-key-mi_topic']").first.wait_for()
    return ctx, page


def test_second_tab_is_refused_while_the_first_breaks_brokers(browser, app_url: str,  # type: ignore[no-untyped-def]
                                                              whole_cluster: LocalCluster) -> None:
    whole_cluster.wait_until_ready(60)
    ctx_a, a = open_min_isr(browser, app_url)
    ctx_b, b = open_min_isr(browser, app_url)
    try:
        a.locator("[class*='st-key-repl_run_btn'] button").first.click()
        a.locator("[class*='st-key-repl_cancel_btn'] button:not([disabled])").first.wait_for()
        b.locator("[class*='st-key-repl_run_btn'] button").first.click()
        b.get_by_text("The cluster is busy", exact=False).first.wait_for()
        body = b.inner_text("body")
        assert "min.insync.replicas scenario" in body and "from the app" in body
        # tab B's broker buttons are off while A's scenario holds the cluster
        b.get_by_text("is changing brokers; the buttons come back when it ends", exact=False).first.wait_for()
        assert b.locator("[class*='st-key-repl_stop_'] button:not([disabled])").count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        b.screenshot(path=str(SHOTS / "two-tabs-busy.png"), full_page=True)
        a.locator("[class*='st-key-repl_cancel_btn'] button").first.click()
        a.get_by_text("stopped early: cancelled by the user", exact=False).first.wait_for(timeout=180_000)
    finally:
        ctx_a.close()
        ctx_b.close()
    whole_cluster.wait_until_ready(120)
    assert all(br.state is BrokerState.RUNNING for br in whole_cluster.status().brokers)
    assert whole_cluster.lock_holder() is None


def test_closing_the_tab_cancels_its_scenario(browser, app_url: str,  # type: ignore[no-untyped-def]
                                              whole_cluster: LocalCluster) -> None:
    from lab.core.context import poll_until

    whole_cluster.wait_until_ready(60)
    ctx, page = open_min_isr(browser, app_url)
    try:
        page.locator("[class*='st-key-repl_run_btn'] button").first.click()
        page.locator("[class*='st-key-repl_cancel_btn'] button:not([disabled])").first.wait_for()
        holder = poll_until(whole_cluster.lock_holder, 30, every_s=0.5)
        assert holder is not None and holder.face == "app"
    finally:
        ctx.close()  # the person closes the tab: the server notices the session is gone and cancels its run
    assert poll_until(lambda: whole_cluster.lock_holder() is None, 180, every_s=1.0), \
        f"the closed tab's scenario still holds the cluster: {whole_cluster.lock_holder()}"
    whole_cluster.wait_until_ready(120)
    assert all(br.state is BrokerState.RUNNING for br in whole_cluster.status().brokers)
    # the run's link (its id in the address bar) opens it again: cancelled for the closed tab, with what it measured
    ctx2 = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        again = ctx2.new_page()
        again.goto(f"{app_url}/replication?run={holder.run_id}")
        again.get_by_text("the browser session that started it ended", exact=False).first.wait_for(timeout=60_000)
    finally:
        ctx2.close()
