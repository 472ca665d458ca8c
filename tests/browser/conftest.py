"""Browser tests: the real app served by `streamlit run` on a free port, driven by Debian's Chromium
through Playwright (no browser download: Playwright is pointed at /usr/bin/chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.cluster import LocalCluster
from lab.cluster.local_config import free_port
from tests.browser.app_state import wait_page_shown

ROOT = Path(__file__).resolve().parents[2]
#: Flags that keep Chromium from phoning home on a closed network (its connections are refused here).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
APP_START_TIMEOUT_S = 60
#: The app's first page, opened as a link straight to it (see ``warm_up``).
FIRST_LINK = "/producer"
#: The served app's log by its URL, for a failing test to quote.
APP_LOGS: dict[str, Path] = {}


def app_log_tail(url: str, lines: int = 40) -> str:
    """The last lines of the served app's log (what it warned about), for an assertion's message."""
    path = APP_LOGS.get(url)
    if path is None or not path.exists():
        return "(no app log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def chromium_path() -> str:
    path = os.environ.get("KAFKA_LAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Browser tests need Chromium: `apt-get install chromium` (./lab.sh test installs it as root), "
                    "or set KAFKA_LAB_CHROMIUM to a Chromium/Chrome binary.")
    return path


def warm_up(browser: Any, url: str) -> None:
    """Open every page of a freshly started app once, each until its first run has ended.

    A fresh server imports each page's modules (pandas, Altair, the lab's) on that page's first visit:
    15-30 s on a loaded 2-core machine, which a test's first wait would pay without meaning to. The
    first visit is a link straight to a page, as people open shared links: on a fresh server Streamlit
    then runs that page alone in its old pages-directory mode until the page switches to the app's
    navigation (``pages._shared._leave_pages_directory_mode``); the app's navigation must appear."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(APP_START_TIMEOUT_S * 1000)
        page.goto(url + FIRST_LINK)
        page.get_by_text("1 · Cluster & topics").first.wait_for()  # the app's navigation, not the pages folder
        wait_page_shown(page)
        hrefs = page.locator("[data-testid='stSidebarNav'] a").evaluate_all("els => els.map(e => e.href)")
        assert len(hrefs) >= 7, hrefs
        for href in hrefs:
            page.goto(href)
            wait_page_shown(page)
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def app_url(shared_cluster: LocalCluster, browser: Any, tmp_path_factory: pytest.TempPathFactory,
            runs_db: Path, class_file: Path) -> Iterator[str]:
    """The app served on a free port, on the session's cluster, saving runs in the session's run store and
    reading the session's class file (named outright, not inherited: the tests read back what the app saved,
    and open classes it must see)."""
    port = free_port()
    env = {**os.environ, "KAFKA_LAB_STATE_DIR": str(shared_cluster.state_dir), "KAFKA_LAB_RUNS_DB": str(runs_db),
           "KAFKA_LAB_CLASS_FILE": str(class_file)}
    env.pop("KAFKA_LAB_BOOTSTRAP", None)
    log = (tmp_path_factory.mktemp("app") / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    APP_LOGS[url] = Path(log.name)
    try:
        deadline = time.monotonic() + APP_START_TIMEOUT_S
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start (see {log.name})")
            time.sleep(0.3)
        warm_up(browser, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, app_url: str):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        ctx.close()
