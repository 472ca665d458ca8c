"""`kafka-lab runs list|show|rerun|delete|export`: the run history (every run from the app or the CLI).

The store is ``$KAFKA_LAB_RUNS_DB`` or ``runs.sqlite`` beside the cluster state directory (``--db`` picks
another file). Bad input (an unknown run id, a date that is not one, an unknown experiment) is a
``SettingsError`` naming what is allowed: exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lab import registry as experiments
from lab.cli import run as runner
from lab.cli.base import Handler
from lab.cluster import Cluster
from lab.core.codec import to_jsonable
from lab.core.errors import SettingsError
from lab.runs import recorder
from lab.runs import store as runs
from lab.runs import text as text_runs

#: What `runs export --format` offers; json is built here, the others by lab.export.files.
FORMATS = ("json", "png", "svg", "html", "csv", "omb")
#: "2h", "3d", "30m": that long ago.
AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")
AGO_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
DATE_HINT = ("Give a date or time in ISO 8601 (2026-12-01, 2026-12-01T14:30, 2026-12-01T14:30+01:00; "
             "without a zone it is local time), today, yesterday, or an age such as 30m, 2h, 7d.")


def time_bound(text: str, flag: str, *, end: bool = False, now: datetime | None = None) -> str:
    """A user's date as the store's UTC ISO text. With ``end`` a bare date means the end of that day
    (``--until 2026-12-01`` includes the 1st)."""
    now = now or datetime.now(UTC).astimezone()
    raw = text.strip().lower()
    ago = AGO.match(raw)
    if ago:
        dt = now - timedelta(**{AGO_UNITS[ago.group(2)]: float(ago.group(1))})
    elif raw in ("today", "yesterday"):
        day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=raw == "yesterday")
        dt = day + timedelta(days=1) if end else day
    else:
        try:
            dt = datetime.fromisoformat(text.strip())
        except ValueError:
            raise SettingsError(f"{flag} {text!r} is not a date or time.", hint=DATE_HINT) from None
        if end and len(text.strip()) == 10:  # a bare date: up to the end of that day
            dt += timedelta(days=1)
        if dt.tzinfo is None:
            dt = dt.astimezone()  # local time
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def _store(args: argparse.Namespace) -> runs.RunStore:
    return runs.open_store(args.db)


def _record(store: runs.RunStore, run_id: str) -> runs.RunRecord:
    rec = store.get(run_id)
    if rec is None:
        latest = [r.run_id for r in store.list(limit=3)]
        raise SettingsError(f"No stored run has the id {run_id!r} (in {store.path}).",
                            hint="See `kafka-lab runs list` for the ids" +
                            (f"; the latest: {', '.join(latest)}." if latest else "; no runs are stored yet."))
    return rec


def cmd_list(args: argparse.Namespace, cluster: Cluster) -> Any:
    store = _store(args)
    if args.experiment:
        known = sorted(set(experiments.REGISTRY) | set(store.experiments()))
        if args.experiment not in known:
            raise SettingsError(f"No experiment is called {args.experiment!r}.",
                                hint=f"Known experiments: {', '.join(known)}.")
    if args.limit < 1 or args.offset < 0:
        raise SettingsError(f"--limit {args.limit} / --offset {args.offset} are out of range.",
                            hint="--limit is at least 1 and --offset at least 0.")
    filters = dict(experiment=args.experiment, status=args.status, search=args.search,
                   since=time_bound(args.since, "--since") if args.since else None,
                   until=time_bound(args.until, "--until", end=True) if args.until else None)
    rows = store.list(**filters, limit=args.limit, offset=args.offset)
    if args.json:
        return rows
    return text_runs.listing(rows, store.count(**filters), args.offset)


def cmd_show(args: argparse.Namespace, cluster: Cluster) -> Any:
    store = _store(args)
    rec = _record(store, args.run_id)
    if args.json:
        return rec
    exp = experiments.REGISTRY.get(rec.experiment)
    out = text_runs.header(rec, exp.title if exp else None)
    tag = store.lesson(rec.run_id)
    if tag is not None:
        out += f"\nLesson: {tag[0]}, predicted: {tag[1] or 'nothing'} (kafka-lab lesson show {tag[0]})"
    if rec.result is not None and exp is not None:
        out += "\n\n" + exp.render_text(rec.result)
    elif rec.result is None:
        out += "\n\n(no result: " + ("the run is still going or was interrupted)" if rec.status in
                                     ("running", "interrupted") else "it ended without one)")
    return out


def cmd_rerun(args: argparse.Namespace, cluster: Cluster) -> Any:
    rec = _record(_store(args), args.run_id)
    exp = experiments.get(rec.experiment)
    if not isinstance(rec.settings, exp.settings_type):
        raise SettingsError(f"The settings of run {rec.run_id} cannot be read as {exp.settings_type.__name__}.",
                            hint=rec.note or "They were stored by another version of the lab.")
    settings = dataclasses.replace(rec.settings)  # validated again: limits may have changed since
    result = runner.run_result(exp, args, cluster, settings)
    if args.json:
        return result
    new_id = result.run.run_id if result.run is not None else "?"
    saved = "" if recorder.last_problem() is None else f" (but not saved: {recorder.last_problem()})"
    return f"{exp.render_text(result)}\n\nrun {new_id}: a re-run of {rec.run_id}{saved}"


def cmd_delete(args: argparse.Namespace, cluster: Cluster) -> Any:
    store = _store(args)
    _record(store, args.run_id)
    store.delete(args.run_id)
    return {"deleted": args.run_id} if args.json else f"Deleted run {args.run_id}."


def export_files(rec: runs.RunRecord, fmt: str, chart: str | None = None) -> dict[str, bytes]:
    """The run in ``fmt`` as files by name (json here: the whole record; the rest from lab.export.files)."""
    if fmt == "json":
        body = json.dumps(to_jsonable(rec), indent=2, allow_nan=False) + "\n"
        return {f"run-{rec.run_id}.json": body.encode()}
    if rec.result is None:
        raise SettingsError(f"Run {rec.run_id} has no result to export as {fmt} ({rec.status}"
                            + (f": {rec.error}" if rec.error else "") + ").", hint="Use --format json.")
    from lab.export import files  # altair + vl-convert load only for an export, not for every command

    return files.export_files(rec.result, fmt, chart)


def export_bytes(rec: runs.RunRecord, fmt: str, chart: str | None = None) -> tuple[bytes, str]:
    """The run in ``fmt`` as one file's content and a name for it (several files: a zip)."""
    out = export_files(rec, fmt, chart)
    if len(out) == 1:
        name, content = next(iter(out.items()))
        return content, name
    from lab.export import files

    return files.zip_of(out), f"{files.file_stem(rec.result)}-{fmt}.zip"


def _write(path: Path, content: bytes) -> None:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise SettingsError(f"Could not write {path}: {exc.strerror or exc}.",
                            hint="Give --out a file in a writable directory (or - for stdout).") from exc


def cmd_export(args: argparse.Namespace, cluster: Cluster) -> Any:
    """One file where one file is asked for; several (charts, sweep points) go into a directory or a zip
    the user named as such, never into a file named like one of them."""
    rec = _record(_store(args), args.run_id)
    out = export_files(rec, args.format, args.chart)
    target = args.out
    if len(out) > 1 and target not in (None, "-") and not target.endswith(".zip"):
        path = Path(target)
        if not (target.endswith(("/", os.sep)) or path.is_dir() or not path.suffix):
            raise SettingsError(
                f"This run gives {len(out)} {args.format} files ({', '.join(out)}); {target} would be one file.",
                hint="Pick one with --chart NAME, or write them all: --out DIR/ (a file each) or --out NAME.zip.")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"Could not make the directory {path}: {exc.strerror or exc}.",
                                hint="Give --out a directory you can write.") from exc
        for name, content in out.items():
            _write(path / name, content)
        total = sum(len(c) for c in out.values())
        return ({"written": [str(path / n) for n in out], "bytes": total} if args.json
                else f"Wrote {len(out)} files into {path}/ ({total:,} bytes).")
    content, name = export_bytes(rec, args.format, args.chart)
    if target == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return None
    path = Path(target) if target else Path(name)
    _write(path, content)
    return {"written": str(path), "bytes": len(content)} if args.json else f"Wrote {path} ({len(content):,} bytes)."


def _status(text: str) -> str:
    """``timed-out`` or ``timed out``; argparse then checks it against STATUSES."""
    return text.replace("-", " ").replace("_", " ").strip().lower()


def register(sub: Any, common: argparse.ArgumentParser) -> dict[tuple[str, ...], Handler]:
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--db", help="the run store's file (default $KAFKA_LAB_RUNS_DB or runs.sqlite beside "
                       "the cluster state directory, e.g. ~/.local/state/kafka-lab/runs.sqlite)")
    rp = sub.add_parser("runs", help="the run history: list, show, rerun, delete, export stored runs")
    r = rp.add_subparsers(dest="verb", required=True)
    ls = r.add_parser("list", parents=[common, store], help="stored runs, newest first")
    ls.add_argument("--experiment", help="only this experiment (e.g. produce, eos.fencing)")
    ls.add_argument("--since", help="started at or after: 2026-12-01, 2026-12-01T14:30, today, 2h, 7d")
    ls.add_argument("--until", help="started before (a bare date includes that day)")
    ls.add_argument("--search", help="text the run's settings contain, e.g. lz4 or '\"acks\":\"all\"'")
    ls.add_argument("--status", type=_status, choices=runs.STATUSES)
    ls.add_argument("--limit", type=int, default=runs.DEFAULT_LIMIT, help="rows (default %(default)s)")
    ls.add_argument("--offset", type=int, default=0, help="skip this many newest rows")
    sh = r.add_parser("show", parents=[common, store], help="one run: status, cluster, settings and its result")
    sh.add_argument("run_id")
    rr = r.add_parser("rerun", parents=[common, store], help="run again with the stored settings (saved as a new run)")
    rr.add_argument("run_id")
    runner.time_limit_flag(rr)
    d = r.add_parser("delete", parents=[common, store], help="forget a stored run")
    d.add_argument("run_id")
    ex = r.add_parser("export", parents=[common, store], help="write a run to a file")
    ex.add_argument("run_id")
    ex.add_argument("--format", choices=FORMATS, default="json")
    ex.add_argument("--out", help="file to write (default: a name for the run in this directory; - for stdout); "
                    "a run with several charts: a directory (DIR/, a file per chart) or NAME.zip")
    ex.add_argument("--chart", help="png/svg/csv: only this chart (its name; an unknown name lists them)")
    return {
        ("runs", "list"): cmd_list,
        ("runs", "show"): cmd_show,
        ("runs", "rerun"): cmd_rerun,
        ("runs", "delete"): cmd_delete,
        ("runs", "export"): cmd_export,
    }
