"""`kafka-lab class start|status|end`: a class on this lab server (``lab.classroom``).

`class start [--name NAME]` opens a class and prints the teacher key (shown once; only its salted hash is
kept) and the join link; `class status` says who joined and what the teacher sent everyone to; `class end`
closes it (its runs stay in the run store). The CLI is the server's own terminal: its runs may change
brokers during a class, and they take turns with the class's runs.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from lab.classroom import session as classes
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.core.errors import LabError

#: The app's address for the join link (``./lab.sh start --class`` serves it on the LAN and sets this).
URL_ENV = "KAFKA_LAB_CLASS_URL"


def _link() -> str:
    return os.environ.get(URL_ENV) or "http://127.0.0.1:8501"


def cmd_start(args: argparse.Namespace, _cluster: Cluster) -> Any:
    klass, key = classes.open_class(args.name)
    if args.json:
        return {"class_id": klass.class_id, "name": klass.name, "teacher_key": key, "join": _link()}
    return (f"Class {klass.name!r} is open.\n"
            f"Teacher key (shown this once; enter it in the app's Class panel): {key}\n"
            f"Students join at {_link()} with a display name (the sidebar's Class panel).\n"
            "End it with `kafka-lab class end`.")


def cmd_status(args: argparse.Namespace, _cluster: Cluster) -> Any:
    klass = classes.current()
    if klass is None:
        return {"open": False} if args.json else "No class is open."
    names = sorted(klass.students.values())
    if args.json:
        return {"open": True, "class_id": klass.class_id, "name": klass.name, "opened_at": klass.opened_at,
                "students": names, "lesson": klass.lesson}
    return (f"Class {klass.name!r}, open since {klass.opened_at[:16].replace('T', ' ')} UTC; "
            f"{len(names)} students" + (f": {', '.join(names)}" if names else "")
            + (f"; everyone sent to lesson {klass.lesson}" if klass.lesson else "") + ".")


def cmd_end(args: argparse.Namespace, _cluster: Cluster) -> Any:
    klass = classes.end_class()
    if klass is None:
        raise LabError("No class is open.", hint="`kafka-lab class start` opens one.")
    return ({"ended": klass.class_id, "name": klass.name} if args.json
            else f"Class {klass.name!r} ended; its runs stay in the run store (`kafka-lab runs list`).")


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    group = sub.add_parser("class", help="a class on this server: start (prints the teacher key), status, end")
    b = group.add_subparsers(dest="verb", required=True)
    start = b.add_parser("start", parents=[common], help="open a class; prints the teacher key once and the link")
    start.add_argument("--name", default="Kafka internals", help="the class's name, shown to everyone")
    b.add_parser("status", parents=[common], help="the open class: students, the lesson everyone was sent to")
    b.add_parser("end", parents=[common], help="close the open class (its runs stay in the run store)")
    return {("class", "start"): cmd_start, ("class", "status"): cmd_status, ("class", "end"): cmd_end}
