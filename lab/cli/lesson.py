"""`kafka-lab lesson list|show|run`: the course's questions, each answered from one measured run.

`lesson run ID --predict CHOICE` runs the lesson's preset through the one CLI runner (time bound, Ctrl-C
cancels and still answers from what was measured), stores the run with the lesson and the prediction, and
prints the answer with its figures (``--json``: the result, the prediction and the figures as numbers);
``--html FILE`` also writes the lesson's whole story (question, predictions, charts, answer) as one offline
HTML file. `lesson export RUN_ID` writes that file later from a stored lesson run.
An unknown lesson, choice or run is a ``SettingsError`` listing what is allowed (exit status 2).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from lab import lessons
from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.core.codec import to_jsonable
from lab.core.errors import SettingsError
from lab.lessons import Answer, Lesson, text
from lab.lessons.story import story_html
from lab.runs import store as runs_store


def cmd_list(args: argparse.Namespace, _cluster: Cluster) -> Any:
    items = list(lessons.LESSONS.values())
    return [text.lesson_dict(x) for x in items] if args.json else text.listing(items)


def cmd_show(args: argparse.Namespace, _cluster: Cluster) -> Any:
    lesson = lessons.get(args.id)
    return text.lesson_dict(lesson) if args.json else text.show(lesson)


def _html_target(raw: str | None) -> Path | None:
    """Where ``--html`` writes, checked before a run (so a run is never wasted on a path that cannot be written)."""
    if raw is None:
        return None
    path = Path(raw).expanduser()
    where = path.parent if str(path.parent) else Path(".")
    if path.is_dir() or not where.is_dir() or not os.access(where, os.W_OK):
        raise SettingsError(f"--html {raw}: cannot write a file there.",
                            hint="Give --html a file name in an existing directory you can write "
                                 "(e.g. --html lesson.html).")
    return path


def _write_story(path: Path, lesson: Lesson, ans: Answer, result: Any) -> None:
    try:
        path.write_text(story_html(lesson, ans, result), encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"Could not write {path}: {exc.strerror or exc}.",
                            hint="Give --html a file in a writable directory.") from exc


def cmd_run(args: argparse.Namespace, cluster: Cluster) -> Any:
    lesson = lessons.get(args.id)
    prediction = lesson.choice(args.predict).key if args.predict is not None else None
    html_path = _html_target(args.html)
    exp = experiments.get(lesson.experiment)
    result = runner.run_result(exp, args, cluster, lesson.settings, lesson=(lesson.id, prediction))
    ans = lesson.answer(result, prediction)
    if html_path is not None:
        _write_story(html_path, lesson, ans, result)
    if args.json:
        return {"lesson": lesson.id, "question": lesson.question, "prediction": prediction,
                "answer": text.answer_dict(ans), "result": to_jsonable(result),
                **({"html": str(html_path)} if html_path is not None else {})}
    return text.answer(lesson, ans) + (f"\n\nWrote the lesson's story to {html_path}." if html_path else "")


def cmd_export(args: argparse.Namespace, _cluster: Cluster) -> Any:
    """The story of a stored lesson run as one offline HTML file (the run's own lesson and prediction)."""
    store = runs_store.open_store(args.db)
    rec = store.get(args.run_id)
    if rec is None or rec.result is None:
        raise SettingsError(f"No stored run with a result has the id {args.run_id!r} (in {store.path}).",
                            hint="`kafka-lab runs list` lists the runs; a lesson's run is made by "
                                 "`kafka-lab lesson run ID` or the Lesson panel of a page.")
    tag = store.lesson(args.run_id)
    if tag is None or tag[0] not in lessons.LESSONS:
        raise SettingsError(f"Run {args.run_id} was not made for a lesson, so it has no lesson story.",
                            hint="Export it as a run report instead: `kafka-lab runs export "
                                 f"{args.run_id} --format html`.")
    lesson, prediction = lessons.get(tag[0]), tag[1]
    path = _html_target(args.html or f"lesson-{lesson.id}-{args.run_id}.html")
    assert path is not None
    ans = lesson.answer(rec.result, prediction if prediction in {c.key for c in lesson.choices} else None)
    _write_story(path, lesson, ans, rec.result)
    size = path.stat().st_size
    return ({"written": str(path), "bytes": size, "lesson": lesson.id, "run_id": args.run_id} if args.json
            else f"Wrote the story of lesson {lesson.id} from run {args.run_id} to {path} ({size:,} bytes).")


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    group = sub.add_parser("lesson", help="the course's questions, answered from a measured run: list, show, run, "
                                          "export")
    b = group.add_subparsers(dest="verb", required=True)
    b.add_parser("list", parents=[common], help="every lesson: phase, id, experiment, question")
    show = b.add_parser("show", parents=[common], help="a lesson's question, prediction choices and what it runs")
    show.add_argument("id", help="the lesson's id (see `kafka-lab lesson list`)")
    run = b.add_parser("run", parents=[common], help="run a lesson's preset and answer its question from the run")
    run.add_argument("id", help="the lesson's id (see `kafka-lab lesson list`)")
    run.add_argument("--predict", metavar="CHOICE", help="your prediction before the run (`lesson show ID` lists "
                                                         "the choices); kept with the run and judged by the answer")
    run.add_argument("--html", metavar="FILE", help="also write the lesson's whole story (question, predictions, "
                                                    "charts, answer) as one offline HTML file")
    runner.time_limit_flag(run)
    export = b.add_parser("export", parents=[common], help="a stored lesson run's whole story as one offline HTML "
                                                           "file (question, predictions, charts, answer)")
    export.add_argument("run_id", help="the run's id (`kafka-lab runs list`; the Lesson panel shows it)")
    export.add_argument("--html", metavar="FILE", help="the file to write (default lesson-ID-RUN_ID.html here)")
    export.add_argument("--db", help="the run store's file (default as for `kafka-lab runs`)")
    return {("lesson", "list"): cmd_list, ("lesson", "show"): cmd_show, ("lesson", "run"): cmd_run,
            ("lesson", "export"): cmd_export}
