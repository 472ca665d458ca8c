"""The run history in a real browser: five browser sessions run the producer at once from links and every
run is saved (none lost, none mixed up); the Runs page overlays two of them in one chart; the chart's
PNG and data, and the comparison's HTML report, download and check out; the report opens with the
network cut off."""

from __future__ import annotations

import contextlib
import struct
import time
from pathlib import Path
from typing import Any

from lab.cluster import LocalCluster
from lab.runs import store as runs
from lab.runs.schema import default_path
from tests.browser.conftest import app_log_tail
from tests.browser.drawn import charts_drawn, wait_charts_painted

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"
SESSIONS = 5
#: How long the app may take, after a page says its run finished, for all the sessions' rows to read back.
SAVED_WITHIN_S = 30.0


def new_runs(before: set[str]) -> list[runs.RunSummary]:
    """The produce runs not in ``before``, read on a connection of its own (what the app's process wrote)."""
    with runs.RunStore(default_path(), repair=False) as store:
        return [s for s in store.list(experiment="produce", limit=10_000) if s.run_id not in before]


def all_saved(before: set[str]) -> list[runs.RunSummary]:
    """The sessions' runs once every one is saved as finished (a bounded wait on that condition)."""
    deadline = time.monotonic() + SAVED_WITHIN_S
    new = new_runs(before)
    while not (len(new) == SESSIONS and {s.status for s in new} == {"finished"}) and time.monotonic() < deadline:
        time.sleep(0.5)
        new = new_runs(before)
    return new


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def download(page: Any, button: Any, into: Path) -> Path:
    with page.expect_download(timeout=60_000) as d:
        button.click()
    path = into / d.value.suggested_filename
    d.value.save_as(str(path))
    return path


def test_five_sessions_save_their_runs_and_two_compare_in_one_chart(  # type: ignore[no-untyped-def]
        browser, app_url: str, cluster: LocalCluster, tmp_path: Path) -> None:
    before = {s.run_id for s in new_runs(set())}
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                for _ in range(SESSIONS)]
    pages = [c.new_page() for c in contexts]
    try:
        for i, p in enumerate(pages):
            p.set_default_timeout(60_000)
            p.goto(f"{app_url}/producer?duration_s=1.5&rate=500&linger_ms={5 * i}")
        for p in pages:
            p.locator("[class*='st-key-producer_run_btn'] button").first.click()
        for p in pages:
            p.get_by_text("produce run finished", exact=False).first.wait_for(timeout=180_000)

        new = all_saved(before)
        assert len(new) == SESSIONS and {s.status for s in new} == {"finished"} and {s.face for s in new} == {"app"}, (
            f"{len(new)} of {SESSIONS} runs saved in {default_path()} ({[(s.run_id, s.status) for s in new]}); "
            f"this process's own store connection sees {runs.open_store().count(experiment='produce')} produce runs; "
            f"the app's log ends:\n{app_log_tail(app_url)}")
        by_linger = {}
        for s in new:
            with runs.RunStore(default_path(), repair=False) as store:
                rec = store.get(s.run_id)
            assert rec is not None and rec.result is not None
            by_linger[rec.settings.linger_ms] = s.run_id
        assert sorted(by_linger) == [0.0, 5.0, 10.0, 15.0, 20.0], "each session's run kept its own settings"

        a, b = by_linger[0.0], by_linger[20.0]
        # the other sessions are done: close them. Every script run of any session (their badges refresh every
        # 5 s) sweeps Streamlit's generated downloads, and on a loaded machine a sweep can delete a file between
        # its URL reaching the browser and the browser fetching it ("Download.save_as: canceled")
        for c in contexts[1:]:
            c.close()
        page = pages[0]
        page.goto(f"{app_url}/runs?runs={a},{b}")
        page.get_by_text("2 runs of produce run").first.wait_for()
        wait_charts_painted(page)
        drawn = charts_drawn(page)
        assert drawn and all(n > 200 for n in drawn), drawn

        first = "[class*='st-key-runs_overlay_0_{}'] button"  # the first overlay chart's own buttons
        csv = download(page, page.locator(first.format("csv")).first, tmp_path).read_text()
        assert a in csv and b in csv, "the first overlay holds both runs' lines"
        png = download(page, page.locator(first.format("png")).first, tmp_path).read_bytes()
        assert png_size(png)[0] >= 1600, png_size(png)
        report = download(page, page.locator("[class*='st-key-runs_compare_html'] button").first, tmp_path)
        html = report.read_text()
        assert html.count("<svg") >= 1 and a in html and b in html and "<script" not in html

        offline = browser.new_context(offline=True)
        try:
            op = offline.new_page()
            asked: list[str] = []
            op.on("request", lambda r: asked.append(r.url))
            op.goto(report.as_uri())
            assert op.locator("svg").count() >= 1 and "linger_ms" in op.inner_text("body")
            assert all(u.startswith(("file:", "data:")) for u in asked), asked
        finally:
            offline.close()
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(pages):
            with contextlib.suppress(Exception):  # a closed session has nothing to show
                p.screenshot(path=str(SHOTS / f"runs-fail-{i}.png"), full_page=True)
        raise
    finally:
        for c in contexts:
            with contextlib.suppress(Exception):  # (closing twice is harmless)
                c.close()
