"""The `kafka-lab` parser, built from the command groups, and ``main``.

Every command takes ``--bootstrap`` (or ``KAFKA_LAB_BOOTSTRAP``) to use an external cluster. Errors are
``LabError``s printed as one message with its fix, exit status 2; Ctrl-C exits 130 (a running
experiment is cancelled first and what it measured is printed).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence

from confluent_kafka import KafkaException

from lab.cli import cluster, consumer, eos, klass, lag, lesson, producer, replication, runs, share
from lab.cli.base import Handler, Register, common_parent, write
from lab.cluster import from_env
from lab.core.errors import LabError
from lab.kafka import acl

#: The command groups, in the order `kafka-lab --help` lists them: the cluster, then the course's phases.
GROUPS: tuple[Register, ...] = (cluster.register, replication.register, eos.register, producer.register,
                               consumer.register, lag.register, share.register, runs.register, lesson.register,
                               klass.register)
#: Old command names, still accepted: each says its new name once (on stderr) and runs it.
ALIASES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("bench", "produce"): ("producer", "run"),
    ("bench",): ("producer",),
    ("lag-scenario",): ("lag", "scenario"),
    ("lag-rate",): ("lag", "rate"),
}
#: `kafka-lab lag GROUP` (no verb) watches the group, as before the lag commands became a group.
LAG_VERBS = ("watch", "scenario", "rate")


def canonical(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """``argv`` with an old command name replaced by its new one, and the note that says so (or None)."""
    argv = list(argv)
    for old, new in sorted(ALIASES.items(), key=lambda kv: -len(kv[0])):
        if tuple(argv[:len(old)]) == old:
            rest = argv[len(old):]
            return [*new, *rest], (f"note: `kafka-lab {' '.join(old)}` is now `kafka-lab {' '.join(new)}`; "
                                   "the old name still works")
    if argv[:1] == ["lag"] and (len(argv) == 1 or argv[1] not in (*LAG_VERBS, "-h", "--help")):
        return ["lag", "watch", *argv[1:]], None
    return argv, None


def build_parser() -> tuple[argparse.ArgumentParser, dict[tuple[str, ...], Handler]]:
    """The parser and the handler of every command path."""
    common = common_parent()
    p = argparse.ArgumentParser(prog="kafka-lab", description="Kafka Tuning Lab: experiments on a real cluster.")
    sub = p.add_subparsers(dest="group", required=True)
    handlers: dict[tuple[str, ...], Handler] = {}
    for register in GROUPS:
        handlers.update(register(sub, common))
    return p, handlers


def interruptible() -> None:
    """Make SIGINT stop a run again when it arrived ignored: a shell starts asynchronous commands without
    job control (``cmd &`` in a script, CI) with SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so ``kill -INT`` would neither stop the run nor print what it measured."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    interruptible()
    parser, handlers = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:  # argparse would say "arguments are required: group"; the help says more
        parser.print_help(sys.stderr)
        return 2
    argv, note = canonical(argv)
    if note:
        print(note, file=sys.stderr)
    args = parser.parse_args(argv)
    key = (args.group, args.verb) if getattr(args, "verb", None) else (args.group,)
    handler = handlers[key]
    try:
        chosen = from_env(bootstrap=args.bootstrap, backend=args.backend, state_dir=args.state_dir,
                          version=getattr(args, "version", None), security=getattr(args, "security", None))
        try:
            result = handler(args, chosen)
        except (LabError, KafkaException) as exc:  # an ACL refusal: who may not do what, and the fix
            denial = acl.translate(exc, chosen)
            if denial is None:
                raise
            raise denial from exc
    except LabError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": exc.message, "hint": exc.hint, "type": type(exc).__name__}), file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    write(result, args.json)
    return 0
