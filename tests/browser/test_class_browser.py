"""A class of ten in a real browser: ten sessions join with their names and press "Run the lesson" on the EOS
page at once; the class's queue takes the runs in turn (light ones four at a time) and every run ends with its
answer; the Class board, opened by the teacher, draws the ten runs (its CSV has one row per student)."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path
from typing import Any

from lab.classroom import session as classes
from lab.cluster import LocalCluster
from lab.runs import store as runs_store
from tests.browser.app_state import wait_page_shown

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"
STUDENTS = 10
#: From the clicks to the last answer: ten runs of a few seconds, four at a time, on a loaded machine.
ALL_ANSWERED_MS = 300_000


def test_ten_students_join_queue_get_every_run_and_see_them_on_the_board(browser: Any, app_url: str,
                                                                         cluster: LocalCluster,
                                                                         tmp_path: Path) -> None:
    klass, key = classes.open_class("Browser class")
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
                for _ in range(STUDENTS + 1)]
    pages = [c.new_page() for c in contexts]
    try:
        for p in pages[:STUDENTS]:
            p.set_default_timeout(60_000)
            p.goto(f"{app_url}/eos")
        for i, p in enumerate(pages[:STUDENTS]):  # all ten join, then each is checked
            wait_page_shown(p)
            p.get_by_label("Your name").fill(f"student {i}")
            p.get_by_role("button", name="Join").click()
        for i, p in enumerate(pages[:STUDENTS]):
            p.get_by_text(f"You are student {i} in this class.").wait_for()
        for p in pages[:STUDENTS]:
            p.locator("[class*='st-key-lesson_eos_run_btn'] button").first.click()
        for p in pages[:STUDENTS]:
            p.get_by_text("This run shows", exact=False).or_(p.get_by_text("Not shown in this run", exact=False)) \
                .first.wait_for(timeout=ALL_ANSWERED_MS)
        store = runs_store.open_store()
        made = store.class_runs(klass.class_id)
        assert sorted(made.values()) == sorted(f"student {i}" for i in range(STUDENTS)), made
        recs = [store.get(r) for r in made]
        assert all(r is not None and r.status == "finished" and r.result is not None for r in recs), \
            [(r.run_id, r.status, r.error) for r in recs if r is not None]

        teacher = pages[STUDENTS]
        teacher.set_default_timeout(60_000)
        teacher.goto(f"{app_url}/board")
        wait_page_shown(teacher)
        teacher.get_by_label("Teacher key").fill(key)
        teacher.get_by_role("button", name="I am the teacher").click()
        teacher.get_by_text("You are the", exact=False).first.wait_for()
        teacher.get_by_text(f"{STUDENTS} runs shown of {STUDENTS}", exact=False).wait_for()
        with teacher.expect_download(timeout=60_000) as d:
            teacher.locator("[class*='st-key-board_chart_csv'] button").first.click()
        path = tmp_path / d.value.suggested_filename
        d.value.save_as(str(path))
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
        assert len(rows) == STUDENTS and {r["student"] for r in rows} == {f"student {i}" for i in range(STUDENTS)}
        assert key not in teacher.url and all(key not in p.url for p in pages)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(pages):
            with contextlib.suppress(Exception):
                p.screenshot(path=str(SHOTS / f"class-fail-{i}.png"), full_page=True)
        raise
    finally:
        classes.end_class()
        for c in contexts:
            with contextlib.suppress(Exception):
                c.close()
