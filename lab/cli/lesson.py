"""`kafka-lab lesson list|show|run`: the course's questions, each answered from one measured run.

`lesson run ID --predict CHOICE` runs the lesson's preset through the one CLI runner (time bound, Ctrl-C
cancels and still answers from what was measured), stores the run with the lesson and the prediction, and
prints the answer with its figures (``--json``: the result, the prediction and the figures as numbers).
An unknown lesson or choice is a ``SettingsError`` listing what is allowed (exit status 2).
"""

from __future__ import annotations

import argparse
from typing import Any

from lab import lessons
from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.core.codec import to_jsonable
from lab.lessons import text


def cmd_list(args: argparse.Namespace, _cluster: Cluster) -> Any:
    items = list(lessons.LESSONS.values())
    return [text.lesson_dict(x) for x in items] if args.json else text.listing(items)


def cmd_show(args: argparse.Namespace, _cluster: Cluster) -> Any:
    lesson = lessons.get(args.id)
    return text.lesson_dict(lesson) if args.json else text.show(lesson)


def cmd_run(args: argparse.Namespace, cluster: Cluster) -> Any:
    lesson = lessons.get(args.id)
    prediction = lesson.choice(args.predict).key if args.predict is not None else None
    exp = experiments.get(lesson.experiment)
    result = runner.run_result(exp, args, cluster, lesson.settings, lesson=(lesson.id, prediction))
    ans = lesson.answer(result, prediction)
    if args.json:
        return {"lesson": lesson.id, "question": lesson.question, "prediction": prediction,
                "answer": text.answer_dict(ans), "result": to_jsonable(result)}
    return text.answer(lesson, ans)


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    group = sub.add_parser("lesson", help="the course's questions, answered from a measured run: list, show, run")
    b = group.add_subparsers(dest="verb", required=True)
    b.add_parser("list", parents=[common], help="every lesson: phase, id, experiment, question")
    show = b.add_parser("show", parents=[common], help="a lesson's question, prediction choices and what it runs")
    show.add_argument("id", help="the lesson's id (see `kafka-lab lesson list`)")
    run = b.add_parser("run", parents=[common], help="run a lesson's preset and answer its question from the run")
    run.add_argument("id", help="the lesson's id (see `kafka-lab lesson list`)")
    run.add_argument("--predict", metavar="CHOICE", help="your prediction before the run (`lesson show ID` lists "
                                                         "the choices); kept with the run and judged by the answer")
    runner.time_limit_flag(run)
    return {("lesson", "list"): cmd_list, ("lesson", "show"): cmd_show, ("lesson", "run"): cmd_run}
