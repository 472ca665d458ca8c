"""A class on one lab server: N students (30 by default) join a class, each runs a light lesson twice from its
Lesson panel, and the run queue takes them in turn. A benchmark: it prints figures and asserts nothing. Goals
(issue 21; 2 cores, the cluster on the same machine): 0 runs lost, 0 errors, p95 page ready while queued <= 2 s.

    uv run python benchmarks/class_load.py --state-dir /tmp/class-load      # starts (and stops) a cluster there
    uv run python benchmarks/class_load.py --use-cluster --students 10      # the cluster of KAFKA_LAB_STATE_DIR
    uv run python benchmarks/class_load.py --clients chromium --students 10 # real browsers (see below)

Students are websocket sessions speaking Streamlit's own protocol (``st_protocol.py``: widget values, clicks as
triggers, the fragments' timed reruns, as the frontend sends them) by default, so the figures are the server's;
``--clients chromium`` makes each a Chromium context instead (on two cores, thirty renderers measure mostly
themselves). Per student: open the EOS page, join with a name, press "Run the lesson" (read-committed:
transactions, a light experiment, four at a time), wait for the answer naming a run it has not answered yet,
press it again. Printed: runs completed / lost (ended without a result, or never made) / errors shown on a
page; p50 / p95 time from the click to the answer; p95 "page ready while queued" (from the click until the page
shows the run's place in the queue or its live view: the server answers a queued student); the Streamlit
server's CPU (seconds, and per cent of one core).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page_ready import CHROMIUM_ARGS, cluster_for, server  # noqa: E402
from st_protocol import ProtocolSession  # noqa: E402

import lab.registry  # noqa: E402,F401  (the run store reads results back into the registry's types)
from lab.classroom import session as classes  # noqa: E402
from lab.lessons import board  # noqa: E402
from lab.runs import store as runs_store  # noqa: E402

#: A fresh (not stale) answer on the page whose run id is not among those already answered: this click's answer.
NEW_ANSWER_JS = """(answered) => {
  const main = document.querySelector("[data-testid='stMain']");
  if (!main) return null;
  for (const p of main.querySelectorAll("p")) {
    if (p.closest("[data-stale='true']")) continue;
    const m = p.innerText.match(/^Run (\\d{8}T\\d{6}-[0-9a-f]+), kept in the run store/);
    if (m && !answered.includes(m[1])) return m[1];
  }
  return null;
}"""
#: How long one step of a student may take before it counts as failed (and its page is kept for a look).
STEP_TIMEOUT_MS = 300_000


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


async def student(browser: Any, url: str, i: int, out: dict[str, Any], work: Path) -> None:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await ctx.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    name = f"student-{i:02d}"
    step = "open the page"
    try:
        await page.goto(f"{url}/eos")
        await page.get_by_text("Idempotence & transactions").first.wait_for()
        step = "join"
        await page.get_by_label("Your name").fill(name)
        await page.get_by_role("button", name="Join").click()
        await page.get_by_text(f"You are {name} in this class.").first.wait_for()
        answered: list[str] = []
        for n in range(2):
            step = f"run {n + 1}: click"
            t0 = time.perf_counter()
            await page.locator("[class*='st-key-lesson_eos_run_btn'] button").first.click()
            await page.get_by_text("queued: place", exact=False).or_(page.get_by_text("Running…")).first.wait_for()
            ready = time.perf_counter() - t0
            step = f"run {n + 1}: answer"
            handle = await page.wait_for_function(NEW_ANSWER_JS, arg=answered, polling=250)
            answered.append(await handle.json_value())
            done = time.perf_counter() - t0
            errors = await page.locator("[data-testid='stAlertContentError'], [data-testid='stException']").count()
            out["ready"].append(ready)
            out["done"].append(done)
            out["errors"] += errors
    except Exception as exc:  # noqa: BLE001 - counted and printed: a benchmark reports, it does not stop
        out["failures"].append(f"{name} at {step}: {exc!r}"[:300])
        try:  # what the student saw when it failed, for a look afterwards
            await page.screenshot(path=str(work / f"{name}.png"), full_page=True)
            (work / f"{name}.txt").write_text(await page.inner_text("body"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        await ctx.close()


#: The answer's last line names its run: a new id there is this click's answer (nothing stale counts).
RUN_CAPTION = re.compile(r"^Run `([0-9]{8}T[0-9]{6}-[0-9a-f]+)`, kept in the run store")


Seen = list[tuple[float, str, str]]


def queued_or_live(seen: Seen, since: float) -> bool:
    """The page shows the run's place in the queue or its live view (the button reads "Running…")."""
    return any(t >= since and ("queued: place" in x or (k == "button" and x == "Running…")) for t, k, x in seen)


def new_answer(seen: Seen, since: float, answered: set[str]) -> str | None:
    """The id of a run answered on the page after ``since`` and not among ``answered``."""
    for t, _k, x in seen:
        m = RUN_CAPTION.match(x) if t >= since else None
        if m and m.group(1) not in answered:
            return m.group(1)
    return None


async def protocol_student(url: str, i: int, out: dict[str, Any]) -> None:
    """The same student over Streamlit's websocket protocol (``st_protocol``): what the server answers, without
    a browser's rendering on the same two cores."""
    name = f"student-{i:02d}"
    step = "open the page"
    limit = STEP_TIMEOUT_MS / 1000
    try:
        async with ProtocolSession(url, "eos") as s:
            await s.rerun()
            await s.wait_finished(limit)
            step = "join"
            s.type_into("Your name", name)
            await s.click("Join")
            await s.wait_for(lambda seen: any(f"You are **{name}**" in t for _, _, t in seen), limit)
            await s.wait_finished(limit)
            answered: set[str] = set()
            for n in range(2):
                step = f"run {n + 1}: click"
                t0 = time.monotonic()
                await s.click("Run the lesson", key="lesson_eos_run_btn")
                await s.wait_for(functools.partial(queued_or_live, since=t0), limit)
                ready = time.monotonic() - t0
                step = f"run {n + 1}: answer"
                answered.add(await s.wait_for(functools.partial(new_answer, since=t0, answered=answered), limit))
                out["ready"].append(ready)
                out["done"].append(time.monotonic() - t0)
            out["errors"] += len(s.errors)
    except Exception as exc:  # noqa: BLE001 - counted and printed: a benchmark reports, it does not stop
        out["failures"].append(f"{name} at {step}: {exc!r}"[:300])


async def protocol_class(url: str, students: int, out: dict[str, Any]) -> None:
    await asyncio.gather(*(protocol_student(url, i, out) for i in range(students)))


async def class_of(url: str, students: int, out: dict[str, Any], work: Path) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=os.environ.get("KAFKA_LAB_CHROMIUM", "/usr/bin/chromium"),
                                           args=CHROMIUM_ARGS, headless=True)
        try:
            await asyncio.gather(*(student(browser, url, i, out, work) for i in range(students)))
        finally:
            await browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--state-dir")
    ap.add_argument("--use-cluster", action="store_true")
    ap.add_argument("--clients", choices=("protocol", "chromium"), default="protocol",
                    help="protocol (default): each student a websocket session speaking Streamlit's protocol, so "
                         "the server is measured; chromium: each a Chromium context (30 renderers share the "
                         "machine's cores with the server and the brokers)")
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
        if args.clients == "chromium":
            asyncio.run(class_of(url, args.students, out, work))
        else:
            asyncio.run(protocol_class(url, args.students, out))
        wall = time.perf_counter() - t0
        cpu = sum(proc.cpu_times()[:2]) - cpu0
        store = runs_store.open_store()
        made = store.class_runs(klass.class_id)
        recs = [store.get(r) for r in made]
        completed = sum(1 for r in recs if r is not None and r.status == "finished" and r.result is not None)
        on_board = board.points(store, klass.class_id).get("eos.transactional", [])  # what the Class board draws
        classes.end_class()
    expected = 2 * args.students
    print(f"students: {args.students} ({args.clients} clients), runs expected: {expected}, made: {len(made)}, "
          f"completed: {completed}, lost: {expected - completed}, errors on pages: {out['errors']}, "
          f"students that failed: "
          f"{len(out['failures'])}")
    print(f"on the class board: {len(on_board)} runs of {len({p.who for p in on_board})} students")
    for f in out["failures"][:5]:
        print("  ", f)
    if out["failures"]:
        print(f"   (their pages when they failed: {work}/student-NN.png and .txt; the server's log: "
              f"{work}/streamlit.log)")
    print(f"click -> answer: p50 {statistics.median(out['done']) if out['done'] else float('nan'):.1f} s, "
          f"p95 {pct(out['done'], 0.95):.1f} s")
    ready50 = statistics.median(out["ready"]) if out["ready"] else float("nan")
    print(f"page ready while queued (click -> place in queue or live view): p50 {ready50:.2f} s, "
          f"p95 {pct(out['ready'], 0.95):.2f} s (goal <= 2 s)")
    print(f"server CPU: {cpu:.1f} s over {wall:.0f} s ({100 * cpu / wall:.0f} % of one core)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
