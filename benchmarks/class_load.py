"""A class on one lab server: N students (Chromium sessions, 30 by default) join a class, each runs a light
lesson twice from its Lesson panel, and the run queue takes them in turn. A benchmark: it prints figures and
asserts nothing. Goals (issue 21; 2 cores, the cluster on the same machine): 0 runs lost, 0 errors, p95 page
ready while queued <= 2 s.

    uv run python benchmarks/class_load.py --state-dir /tmp/class-load      # starts (and stops) a cluster there
    uv run python benchmarks/class_load.py --use-cluster --students 10      # the cluster of KAFKA_LAB_STATE_DIR

Per student: open the EOS page, join with a name, press "Run the lesson" (read-committed: transactions, a
light experiment, four at a time), wait for the answer, press it again. Printed: runs completed / lost (ended
without a result, or never ended) / errors shown on a page; p50 / p95 time from the click to the answer;
p95 "page ready while queued" (from the click until the page shows the run's place in the queue or its live
view: the server answers a queued student); the Streamlit server's CPU (seconds, and per cent of one core).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page_ready import CHROMIUM_ARGS, cluster_for, server  # noqa: E402

import lab.registry  # noqa: E402,F401  (the run store reads results back into the registry's types)
from lab.classroom import session as classes  # noqa: E402
from lab.runs import store as runs_store  # noqa: E402

ANSWER = "This run shows"
NOT_SHOWN = "Not shown in this run"
QUEUED_OR_LIVE = "queued: place|Running…|its turn"
STEP_TIMEOUT_MS = 900_000


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


async def student(browser: Any, url: str, i: int, out: dict[str, Any]) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    name = f"student-{i:02d}"
    try:
        await page.goto(f"{url}/eos")
        await page.get_by_text("Idempotence & transactions").first.wait_for()
        await page.get_by_label("Your name").fill(name)
        await page.get_by_role("button", name="Join").click()
        await page.get_by_text(f"You are {name} in this class.").first.wait_for()
        for _ in range(2):
            t0 = time.perf_counter()
            await page.locator("[class*='st-key-lesson_eos_run_btn'] button").first.click()
            await page.get_by_text("queued: place", exact=False).or_(page.get_by_text("Running…")).first.wait_for()
            ready = time.perf_counter() - t0
            # (the click replaced the last answer by the run's place or live view: the answer that comes is this run's)
            answered = page.get_by_text(ANSWER, exact=False).or_(page.get_by_text(NOT_SHOWN, exact=False))
            await answered.first.wait_for()
            done = time.perf_counter() - t0
            errors = await page.locator("[data-testid='stAlertContentError'], [data-testid='stException']").count()
            out["ready"].append(ready)
            out["done"].append(done)
            out["errors"] += errors
    except Exception as exc:  # noqa: BLE001 - counted and printed: a benchmark reports, it does not stop
        out["failures"].append(f"{name}: {exc!r}"[:300])
    finally:
        await ctx.close()


async def class_of(url: str, students: int, out: dict[str, Any]) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=os.environ.get("KAFKA_LAB_CHROMIUM", "/usr/bin/chromium"),
                                           args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.gather(*(student(browser, url, i, out) for i in range(students)))
        finally:
            await browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--state-dir")
    ap.add_argument("--use-cluster", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="class-load-"))
    os.environ["KAFKA_LAB_CLASS_FILE"] = str(work / "class.json")
    os.environ["KAFKA_LAB_RUNS_DB"] = str(work / "runs.sqlite")
    with cluster_for(args) as _cluster, server(os.environ["KAFKA_LAB_STATE_DIR"], work / "streamlit.log") as (url, _):
        klass, _key = classes.open_class("class-load benchmark")
        proc = psutil.Process(next(p.pid for p in psutil.Process().children(recursive=True)
                                   if "streamlit" in " ".join(p.cmdline())))
        cpu0, t0 = sum(proc.cpu_times()[:2]), time.perf_counter()
        out: dict[str, Any] = {"ready": [], "done": [], "errors": 0, "failures": []}
        asyncio.run(class_of(url, args.students, out))
        wall = time.perf_counter() - t0
        cpu = sum(proc.cpu_times()[:2]) - cpu0
        store = runs_store.open_store()
        made = store.class_runs(klass.class_id)
        recs = [store.get(r) for r in made]
        completed = sum(1 for r in recs if r is not None and r.status == "finished" and r.result is not None)
        classes.end_class()
    expected = 2 * args.students
    print(f"students: {args.students}, runs expected: {expected}, made: {len(made)}, completed: {completed}, "
          f"lost: {expected - completed}, errors on pages: {out['errors']}, students that failed: "
          f"{len(out['failures'])}")
    for f in out["failures"][:5]:
        print("  ", f)
    print(f"click -> answer: p50 {statistics.median(out['done']) if out['done'] else float('nan'):.1f} s, "
          f"p95 {pct(out['done'], 0.95):.1f} s")
    ready50 = statistics.median(out["ready"]) if out["ready"] else float("nan")
    print(f"page ready while queued (click -> place in queue or live view): p50 {ready50:.2f} s, "
          f"p95 {pct(out['ready'], 0.95):.2f} s (goal <= 2 s)")
    print(f"server CPU: {cpu:.1f} s over {wall:.0f} s ({100 * cpu / wall:.0f} % of one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
