"""The one CLI runner for registered experiments.

Progress goes to stderr (the message when it changes, and the experiment's live lines such as
timeline events as they appear); the result goes to stdout as text or, with ``--json``, as JSON.
Ctrl-C cancels the run and still prints what it measured (its ``stopped`` says why).
"""

from __future__ import annotations

import argparse
from typing import Any

from lab.cli.base import progress
from lab.cluster import Cluster
from lab.core.context import Progress
from lab.registry import Experiment
from lab.runs import launcher


def time_limit_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--time-limit", type=float, help="seconds before the run is stopped "
                        "(default: the experiment's own bound)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def run(exp: Experiment[Any, Any], args: argparse.Namespace, cluster: Cluster, settings: Any) -> Any:
    """Run ``exp`` with ``settings`` and return its result for --json, or its text."""
    result = run_result(exp, args, cluster, settings)
    return result if args.json else exp.render_text(result)


def run_result(exp: Experiment[Any, Any], args: argparse.Namespace, cluster: Cluster, settings: Any, *,
               lesson: tuple[str, str | None] | None = None) -> Any:
    """Run ``exp`` with ``settings`` (progress on stderr unless --quiet/--json) and return its stamped result.
    ``lesson``: (lesson id, prediction) the run answers, kept with it in the run store."""
    quiet = bool(getattr(args, "quiet", False)) or bool(getattr(args, "json", False))
    last = [""]
    printed = [0]

    def on_progress(p: Progress) -> None:
        if exp.live_lines is not None and p.partial is not None:
            lines = exp.live_lines(p.partial)
            for line in lines[printed[0]:]:
                progress(line, quiet)
            printed[0] = len(lines)
        line = (f"[{p.fraction * 100:5.1f}%] " if p.fraction is not None else f"[{p.elapsed_s:6.1f} s] ") + (
            p.message or "starting…")
        if p.message and p.message != last[0]:
            progress(line, quiet)
            last[0] = p.message

    result = launcher.run_sync(exp, cluster, settings, face="cli", time_limit_s=getattr(args, "time_limit", None),
                               on_progress=on_progress, every_s=0.5, lesson=lesson)
    return result
