"""How soon each page of the app is usable, as Chromium sees it (goals: <= 1 s on a warm server, <= 3 s for
the first page after a server start). A benchmark: it prints figures and ratios, asserts nothing.

    uv run python benchmarks/page_ready.py --state-dir /tmp/page-ready     # starts (and stops) a cluster there
    uv run python benchmarks/page_ready.py --use-cluster                    # the cluster of KAFKA_LAB_STATE_DIR

It starts a Streamlit server on a free port, opens the first page (the home page, or --first) right after
the server answers its health check (the "first page after a start"), visits every other page once (each
page's first visit imports its modules: printed as "first visit"), then measures --rounds rounds, the page
order reversed every other round. A round opens every page by address (``page.goto``: a new session, as a
reload or a link does) and then every page by a click in the sidebar navigation (the same session).

"Usable" per page, measured from the goto or the click until the page's title is drawn and:

    replication, eos, producer, consumer, lag   its primary Run button is drawn, enabled and not stale;
    cluster (home)                              the broker list and topic table are drawn (fresh) and the
                                                "Create the lab's topics" button is enabled;
    runs                                        the history table (or "No stored run matches") is drawn,
                                                and the page's script run has ended.

The lag page's Run needs a consumer group to watch: the benchmark commits one (``lab-page-ready``) on
``lab-consumer-tuning`` when the cluster has none. Figures are medians; one machine's load moves them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition

from lab.cluster import Cluster, clients, from_env
from lab.cluster.local_config import free_port
from lab.kafka import admin

ROOT = Path(__file__).resolve().parents[1]
WARM_GOAL_S = 1.0
FIRST_GOAL_S = 3.0
#: Flags that keep Chromium from phoning home on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT_S = 60.0
READY_TIMEOUT_MS = 60_000
BENCH_GROUP = "lab-page-ready"

#: JS helpers: a fresh (not stale) element, the page title, the script state.
_JS_LIB = """
const main = document.querySelector("[data-testid='stMain']");
const fresh = el => !el.closest("[data-stale='true']");
const titled = t => !!main && [...main.querySelectorAll('h1')]
  .some(h => fresh(h) && h.textContent.trim().startsWith(t));
const button = text => [...document.querySelectorAll('button')].find(b => fresh(b) && b.innerText.trim() === text);
const enabled = text => { const b = button(text); return !!b && !b.disabled; };
const idle = () => { const a = document.querySelector("[data-testid='stApp']");
                     return !!a && a.dataset.testScriptState === 'notRunning'; };
const shown = sel => !!main && [...main.querySelectorAll(sel)].some(fresh);
const says = t => !!main && [...main.querySelectorAll("[data-testid='stAlert']")]
  .some(e => fresh(e) && e.innerText.includes(t));
"""


@dataclass(frozen=True)
class PageSpec:
    name: str
    path: str  # URL path ("" for the home page)
    title: str  # the h1
    nav: str  # the sidebar navigation link
    ready: str  # JS expression: the page is usable


RUN = "enabled('Run')"
PAGES = [
    PageSpec("cluster", "", "Cluster & topics", "1 · Cluster & topics",
             "shown(\"[data-testid='stTable']\") && enabled(\"Create the lab's topics\")"),
    PageSpec("replication", "replication", "Replication & ISR", "2 · Replication & ISR", RUN),
    PageSpec("eos", "eos", "Idempotence & transactions", "3 · Idempotence & transactions", RUN),
    PageSpec("producer", "producer", "Producer tuning", "4 · Producer tuning", RUN),
    PageSpec("consumer", "consumer", "Consumer tuning", "5 · Consumer tuning", RUN),
    PageSpec("lag", "lag", "Consumer lag", "6 · Consumer lag", RUN),
    PageSpec("runs", "runs", "Runs", "Runs",
             "idle() && (shown(\"[data-testid='stDataFrame']\") || says('No stored run matches'))"),
]


def ready_js(p: PageSpec) -> str:
    return f"() => {{ {_JS_LIB} return titled({p.title!r}) && ({p.ready}); }}"


def wait_ready(page: Any, p: PageSpec) -> None:
    page.wait_for_function(ready_js(p), polling="raf", timeout=READY_TIMEOUT_MS)


def by_goto(page: Any, url: str, p: PageSpec) -> float:
    t0 = time.perf_counter()
    page.goto(f"{url}/{p.path}", wait_until="commit")
    wait_ready(page, p)
    return time.perf_counter() - t0


def by_click(page: Any, p: PageSpec) -> float:
    link = page.locator("[data-testid='stSidebarNav'] a").filter(has_text=p.nav).first
    link.wait_for()
    t0 = time.perf_counter()
    link.click()
    wait_ready(page, p)
    return time.perf_counter() - t0


# --- the cluster and the server ------------------------------------------------------------------------
@contextmanager
def cluster_for(args: argparse.Namespace) -> Iterator[Cluster]:
    """The cluster to serve: the running one (--use-cluster), else one started in --state-dir (and stopped)."""
    state = args.state_dir or os.environ.get("KAFKA_LAB_STATE_DIR") or tempfile.mkdtemp(prefix="page-ready-")
    os.environ["KAFKA_LAB_STATE_DIR"] = state
    c = from_env(state_dir=state)
    if args.use_cluster:
        c.wait_until_reachable(10)
        yield c
        return
    c.up(timeout_s=180)
    admin.create_topics(c)
    try:
        yield c
    finally:
        c.down()


def ensure_group(c: Cluster) -> None:
    """A consumer group for the lag page's watch (its Run is off while there is no group to choose)."""
    from lab.kafka import admin
    from lab.lag import sample as lag

    if lag.list_groups(c):
        return
    admin.create_topics(c)  # the lab's topics (as `kafka-lab topics create`; idempotent): the group commits on one
    consumer = clients.consumer(c, {"group.id": BENCH_GROUP, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition("lab-consumer-tuning", 0, 0)], asynchronous=False)
    finally:
        consumer.close()


@contextmanager
def server(state_dir: str, log: Path) -> Iterator[tuple[str, float]]:
    """A fresh Streamlit server: (its URL, seconds until its health check answered)."""
    port = free_port()
    env = {**os.environ, "KAFKA_LAB_STATE_DIR": state_dir}
    env.pop("KAFKA_LAB_BOOTSTRAP", None)
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.perf_counter() - t0 > SERVER_START_TIMEOUT_S:
                    raise RuntimeError(f"streamlit did not start (see {log})")
                time.sleep(0.05)
            yield url, time.perf_counter() - t0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def bytecode_cached() -> bool:
    """Whether imports load compiled bytecode (an ordinary install writes it on first import)."""
    import importlib.util

    spec = importlib.util.find_spec("pandas")
    origin = spec.origin if spec is not None else None
    return origin is None or Path(importlib.util.cache_from_source(origin)).exists()


# --- the measurement -------------------------------------------------------------------------------------
def measure(browser: Any, url: str, first: PageSpec, rounds: int) -> tuple[float, dict[str, float],
                                                                           dict[str, list[float]],
                                                                           dict[str, list[float]]]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    try:
        first_s = by_goto(page, url, first)
        first_visit = {p.name: by_goto(page, url, p) for p in PAGES if p is not first}
        goto: dict[str, list[float]] = {p.name: [] for p in PAGES}
        click: dict[str, list[float]] = {p.name: [] for p in PAGES}
        for r in range(rounds):
            order = PAGES if r % 2 == 0 else PAGES[::-1]
            for p in order:
                goto[p.name].append(by_goto(page, url, p))
            # start the clicks from a page other than the first one clicked
            for p in order[1:] + order[:1]:
                click[p.name].append(by_click(page, p))
        return first_s, first_visit, goto, click
    finally:
        ctx.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir", help="the cluster's state directory (default: KAFKA_LAB_STATE_DIR or a temp dir)")
    ap.add_argument("--use-cluster", action="store_true", help="use the cluster already running there")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--first", default="cluster", choices=[p.name for p in PAGES],
                    help="the page opened first after the server start")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    first = next(p for p in PAGES if p.name == args.first)
    with cluster_for(args) as c, sync_playwright() as pw:
        ensure_group(c)
        browser = pw.chromium.launch(executable_path=os.environ.get("KAFKA_LAB_CHROMIUM", "/usr/bin/chromium"),
                                     args=CHROMIUM_ARGS, headless=True)
        log = Path(tempfile.mkdtemp(prefix="page-ready-app-")) / "streamlit.log"
        try:
            with server(os.environ["KAFKA_LAB_STATE_DIR"], log) as (url, start_s):
                first_s, first_visit, goto, click = measure(browser, url, first, args.rounds)
        finally:
            browser.close()

    print(f"server start (health check answers): {start_s:.2f} s")
    if not bytecode_cached():
        print("note: pandas has no compiled bytecode here (PYTHONDONTWRITEBYTECODE?): each server start compiles "
              "every module it imports, which the first page pays; `python -m compileall -q <site-packages>` "
              "gives the figures of an ordinary install")
    print(f"first page after the start ({first.name}, goto): {first_s:.2f} s  (goal <= {FIRST_GOAL_S:g} s)")
    print(f"\nseconds until usable, median of {args.rounds} rounds (first visit: once, right after the start)")
    print(f"{'page':<12} {'first visit':>11} {'goto':>7} {'click':>7} {'goto max':>9} {'click max':>9}")
    for p in PAGES:
        fv = f"{first_visit[p.name]:.2f}" if p.name in first_visit else "(first)"
        print(f"{p.name:<12} {fv:>11} {statistics.median(goto[p.name]):>7.2f} {statistics.median(click[p.name]):>7.2f}"
              f" {max(goto[p.name]):>9.2f} {max(click[p.name]):>9.2f}")
    worst = max(statistics.median(v) for v in (*goto.values(), *click.values()))
    over = [f"{n} ({how})" for how, d in (("goto", goto), ("click", click)) for n, v in d.items()
            if statistics.median(v) > WARM_GOAL_S]
    print(f"\nsummary: warm worst median {worst:.2f} s vs goal <= {WARM_GOAL_S:g} s "
          f"({'met' if not over else 'missed: ' + ', '.join(over)}); first page {first_s:.2f} s vs goal <= "
          f"{FIRST_GOAL_S:g} s ({'met' if first_s <= FIRST_GOAL_S else 'missed'})")


if __name__ == "__main__":
    main()
