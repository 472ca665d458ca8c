"""The run store: every run from a page or the CLI, kept in one SQLite file so it outlives the process.

The launcher writes a "running" row when a run starts (``record_start``) and the whole record when it
ends (``record_end``: finished, cancelled, timed out or failed), each in one transaction; neither ever
fails a run: a store problem is kept for ``last_problem()`` and the run's result is returned as usual.
A row still "running" whose process is gone (or from an earlier boot) is marked "interrupted" the next
time the store is opened: the app or CLI crashed.

    store = runs.open_store()                   # $KAFKA_LAB_RUNS_DB or ~/.local/state/kafka-lab/runs.sqlite
    store.list(experiment="produce", limit=50)  # RunSummary rows, newest first (no result bodies)
    store.get(run_id)                           # RunRecord with typed settings and result

Results are stored as the codec's JSON, zlib-compressed, in a table of their own (``lab/runs_schema.py``),
so listing never reads them.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from lab.core import catalogue, codec
from lab.core.errors import RunStoreError
from lab.core.results import ClusterFacts, Result
from lab.runs.schema import connect, default_path, problem

__all__ = ["STATUSES", "RunRecord", "RunStore", "RunStoreError", "RunSummary", "open_store", "status_for",
           "summary_figures"]

#: Every status a run can have; "running" until it ends, "interrupted" when its process died first.
STATUSES = ("running", "finished", "cancelled", "timed out", "failed", "interrupted")
#: Rows a listing gives when no limit is asked (a page's first screen).
DEFAULT_LIMIT = 50
#: zlib level for result bodies: level 1 makes sample-heavy JSON ~3x smaller for ~1 ms per 100 kB.
COMPRESS_LEVEL = 1
#: Summary figures kept per run (numeric top-level fields and those one dataclass deep, e.g. latency.p99_ms).
MAX_FIGURES = 60
#: Where Linux says which boot this is (a pid from another boot means nothing).
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class RunSummary:
    """A light row for a listing: what ran, when, how it ended, its headline figures (no result body)."""

    run_id: str
    experiment: str
    status: str
    started_at: str
    ended_at: str | None
    face: str
    elapsed_s: float | None = None
    stopped: str | None = None
    error: str | None = None
    #: numeric figures of the result ("msgs_per_s", "latency.p99_ms", …)
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """One stored run, whole: its typed settings and result (None until it ends, or when it failed)."""

    run_id: str
    experiment: str
    status: str
    started_at: str
    ended_at: str | None
    face: str
    #: the settings object (or, when its type is no longer known, the stored JSON as a dict)
    settings: Any
    result: Result | None = None
    cluster: ClusterFacts | None = None
    #: why the run ended early (the result's ``stopped``), or None
    stopped: str | None = None
    #: what went wrong, for a failed run (the error's message and hint)
    error: str | None = None
    figures: dict[str, float] = field(default_factory=dict)
    elapsed_s: float | None = None
    pid: int | None = None
    #: set by ``get`` when a stored part could not be read back (e.g. a result type since removed)
    note: str | None = None

    @classmethod
    def of(cls, result: Result, *, settings: Any = None, status: str | None = None, error: str | None = None,
           pid: int | None = None) -> RunRecord:
        """The record of a stamped result (``result.run`` gives id, times, face, cluster)."""
        run = result.run
        if run is None:
            raise RunStoreError("Only a stamped result (one with its RunInfo) can be stored.",
                                hint="Run it through lab.runs.launcher, or stamp it with lab.core.results.stamp.")
        return cls(run.run_id, run.experiment, status or status_for(result), run.started_at, run.ended_at,
                   run.face, settings if settings is not None else getattr(result, "settings", None), result,
                   run.cluster, result.stopped, error, summary_figures(result), run.elapsed_s, pid)

    def summary(self) -> RunSummary:
        return RunSummary(self.run_id, self.experiment, self.status, self.started_at, self.ended_at, self.face,
                          self.elapsed_s, self.stopped, self.error, dict(self.figures))


def status_for(result: Result | None, *, cancelled: bool = False, timed_out: bool = False) -> str:
    """How a run ended, from its context (``cancelled``/``timed_out``) and its result's ``stopped``.

    A result stopped by its own logic (not a cancel or the time bound) still "finished": it returned
    what it measured, and ``stopped`` says why it ended where it did.
    """
    if result is not None and not result.stopped:
        return "finished"
    if timed_out:
        return "timed out"
    if cancelled:
        return "cancelled"
    if result is None:
        return "failed"
    text = (result.stopped or "").lower()
    if "time limit" in text:
        return "timed out"
    if "cancel" in text or "interrupt" in text:
        return "cancelled"
    return "finished"


def summary_figures(result: Result | None) -> dict[str, float]:
    """Finite numeric fields of the result, and of its dataclass fields one level down ("latency.p99_ms")."""
    out: dict[str, float] = {}
    if result is None:
        return out

    def add(name: str, v: Any) -> None:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and len(out) < MAX_FIGURES:
            out[name] = float(v)

    for f in fields(result):
        if f.name in ("run", "stopped", "settings"):
            continue
        v = getattr(result, f.name)
        if is_dataclass(v) and not isinstance(v, type):
            for g in fields(v):
                add(f"{f.name}.{g.name}", getattr(v, g.name))
        else:
            add(f.name, v)
    return out


# --- encoding --------------------------------------------------------------------------------------
def _doc(obj: Any) -> str:
    """The codec's typed document, compact (``{"schema", "type", "data"}``)."""
    return json.dumps({"schema": codec.SCHEMA_VERSION, "type": type(obj).__name__, "data": codec.to_jsonable(obj)},
                      separators=(",", ":"), allow_nan=False)


def _read_doc(text: str, preferred: type | None, extra: Mapping[str, type] | None) -> Any:
    """The object a ``_doc`` wrote; its type from ``preferred``, ``extra`` or the registry."""
    table = codec.known_types()
    if extra:
        table.update(extra)
    if preferred is not None:
        table[preferred.__name__] = preferred
    return codec.loads(text, table)


def _boot_id() -> str | None:
    try:
        return BOOT_ID_FILE.read_text().strip() or None
    except OSError:
        return None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a killed child not yet reaped is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


_SUMMARY_COLUMNS = "run_id, experiment, status, started_at, ended_at, face, elapsed_s, stopped, error, summary"


def _summary(row: tuple[Any, ...]) -> RunSummary:
    return RunSummary(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                      {str(k): float(v) for k, v in json.loads(row[9] or "{}").items()})


class RunStore:
    """The run store in one SQLite file (see the module docstring); safe to share between threads."""

    def __init__(self, path: str | Path, *, repair: bool = True) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn = connect(self.path)
        self._boot = _boot_id()
        if repair:
            self.mark_interrupted()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _read(self, doing: str = "read") -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise problem(self.path, exc, doing) from exc

    @contextmanager
    def _write(self, doing: str = "written") -> Iterator[sqlite3.Connection]:
        """One transaction, taken as a writer at once (so concurrent savers queue on busy_timeout)."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise problem(self.path, exc, doing) from exc

    # --- writing ---------------------------------------------------------------------------------
    def begin(self, run_id: str, experiment: str, settings: Any, face: str, started_at: str,
              pid: int | None = None) -> None:
        """Write the "running" row of a run that starts now (``pid``: its process, default this one)."""
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO runs (run_id, experiment, status, started_at, face, pid, boot_id, "
                      "settings) VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                      (run_id, experiment, started_at, face, os.getpid() if pid is None else pid, self._boot,
                       _doc(settings)))
            c.execute("DELETE FROM run_bodies WHERE run_id = ?", (run_id,))

    def finish(self, run_id: str, status: str, *, result: Result | None = None, error: str | None = None,
               ended_at: str | None = None, cluster: ClusterFacts | None = None,
               elapsed_s: float | None = None) -> None:
        """End a begun run: its status, result (or error), in one transaction. ``RunStoreError`` if unknown."""
        _check_status(status)
        info = result.run if result is not None else None
        ended = ended_at or (info.ended_at if info else None)
        facts = cluster or (info.cluster if info else None)
        elapsed = elapsed_s if elapsed_s is not None else (info.elapsed_s if info else None)
        body = self._body(result)
        with self._write() as c:
            cur = c.execute("UPDATE runs SET status = ?, ended_at = ?, elapsed_s = ?, stopped = ?, error = ?, "
                            "cluster = ?, summary = ? WHERE run_id = ?",
                            (status, ended, _finite(elapsed), result.stopped if result else None, error,
                             _doc(facts) if facts else None, json.dumps(summary_figures(result)), run_id))
            if cur.rowcount == 0:
                raise RunStoreError(f"No run {run_id!r} was begun in {self.path}.",
                                    hint="Call begin() first, or save() the whole record.")
            self._put_body(c, run_id, body)

    def save(self, record: RunRecord) -> None:
        """Write a whole record (a new run, or the end of a begun one), in one transaction."""
        self.save_many([record])

    def save_many(self, records: Iterable[RunRecord]) -> int:
        """Write whole records in one transaction (an import, a benchmark's fill); returns how many."""
        rows = [self._row(r) for r in records]
        with self._write() as c:
            for row, body in rows:
                c.execute("INSERT OR REPLACE INTO runs (run_id, experiment, status, started_at, ended_at, face, "
                          "elapsed_s, stopped, error, pid, boot_id, settings, cluster, summary) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                self._put_body(c, row[0], body)
        return len(rows)

    def _row(self, record: RunRecord) -> tuple[tuple[Any, ...], bytes | None]:
        """The runs row and the compressed body of a record (encoded outside the transaction)."""
        _check_status(record.status)
        return ((record.run_id, record.experiment, record.status, record.started_at, record.ended_at, record.face,
                 _finite(record.elapsed_s), record.stopped, record.error, record.pid, self._boot,
                 _doc(record.settings), _doc(record.cluster) if record.cluster else None,
                 json.dumps(record.figures)), self._body(record.result))

    @staticmethod
    def _put_body(c: sqlite3.Connection, run_id: str, body: bytes | None) -> None:
        if body is None:
            c.execute("DELETE FROM run_bodies WHERE run_id = ?", (run_id,))
        else:
            c.execute("INSERT OR REPLACE INTO run_bodies (run_id, result) VALUES (?, ?)", (run_id, body))

    @staticmethod
    def _body(result: Result | None) -> bytes | None:
        return None if result is None else zlib.compress(_doc(result).encode(), COMPRESS_LEVEL)

    def delete(self, run_id: str) -> bool:
        """Forget a run; False when there was none."""
        with self._write("changed") as c:
            cur = c.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            c.execute("DELETE FROM run_bodies WHERE run_id = ?", (run_id,))
            c.execute("DELETE FROM run_lessons WHERE run_id = ?", (run_id,))
            c.execute("DELETE FROM run_people WHERE run_id = ?", (run_id,))
        return cur.rowcount > 0

    def set_lesson(self, run_id: str, lesson: str, prediction: str | None) -> None:
        """Keep with the run the lesson it answers and the prediction made before it ran (None: none made)."""
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO run_lessons (run_id, lesson, prediction) VALUES (?, ?, ?)",
                      (run_id, lesson, prediction))

    def set_person(self, run_id: str, class_id: str, who: str) -> None:
        """The class a run was made in and who made it (a display name)."""
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO run_people (run_id, class_id, who) VALUES (?, ?, ?)",
                      (run_id, class_id, who))

    def class_runs(self, class_id: str) -> dict[str, str]:
        """run id -> who made it, for every run made in the class ``class_id``."""
        with self._read() as c:
            return {str(r[0]): str(r[1]) for r in
                    c.execute("SELECT run_id, who FROM run_people WHERE class_id = ?", (class_id,)).fetchall()}

    def lesson(self, run_id: str) -> tuple[str, str | None] | None:
        """(lesson id, prediction) of a run made for a lesson; None for any other run."""
        with self._read() as c:
            row = c.execute("SELECT lesson, prediction FROM run_lessons WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else (str(row[0]), row[1])

    def mark_interrupted(self) -> builtins.list[str]:
        """Rows still "running" whose process is gone, or from another boot, become "interrupted"."""
        with self._read() as c:
            rows = c.execute("SELECT run_id, pid, boot_id FROM runs WHERE status = 'running'").fetchall()
        dead = [run_id for run_id, pid, boot in rows
                if (boot is not None and self._boot is not None and boot != self._boot)
                or (pid is not None and pid != os.getpid() and not _alive(pid))]
        if dead:
            with self._write("repaired") as c:
                c.executemany("UPDATE runs SET status = 'interrupted', stopped = COALESCE(stopped, ?) "
                              "WHERE run_id = ? AND status = 'running'",
                              [("interrupted: its process ended before the run did", r) for r in dead])
        return dead

    # --- reading ---------------------------------------------------------------------------------
    def list(self, experiment: str | None = None, since: str | None = None, until: str | None = None,
             search: str | None = None, status: str | None = None, limit: int = DEFAULT_LIMIT,
             offset: int = 0) -> builtins.list[RunSummary]:
        """Runs newest first. ``since`` (inclusive) and ``until`` (exclusive) are ISO 8601 UTC times as
        ``now_iso`` writes them; ``search`` is a substring of the settings JSON (case-insensitive)."""
        where, params = _filters(experiment, since, until, search, status)
        with self._read() as c:
            rows = c.execute(f"SELECT {_SUMMARY_COLUMNS} FROM runs{where} ORDER BY started_at DESC, run_id DESC "
                             "LIMIT ? OFFSET ?", [*params, int(limit), int(offset)]).fetchall()
        return [_summary(r) for r in rows]

    def count(self, experiment: str | None = None, since: str | None = None, until: str | None = None,
              search: str | None = None, status: str | None = None) -> int:
        where, params = _filters(experiment, since, until, search, status)
        with self._read() as c:
            return int(c.execute(f"SELECT COUNT(*) FROM runs{where}", params).fetchone()[0])

    def experiments(self) -> builtins.list[str]:
        """The experiment names that have stored runs."""
        with self._read() as c:
            return [r[0] for r in c.execute("SELECT DISTINCT experiment FROM runs ORDER BY experiment")]

    def get(self, run_id: str, types: Mapping[str, type] | None = None) -> RunRecord | None:
        """The whole run, settings and result decoded into their types (the registry's, or ``types``)."""
        with self._read() as c:
            row = c.execute("SELECT run_id, experiment, status, started_at, ended_at, face, elapsed_s, stopped, "
                            "error, pid, settings, cluster, summary FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            body = c.execute("SELECT result FROM run_bodies WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        exp = catalogue.find(row[1])
        notes = []
        try:
            settings = _read_doc(row[10], exp.settings_type if exp else None, types)
        except codec.CodecError as exc:
            settings = json.loads(row[10]).get("data")
            notes.append(f"its settings were read as plain JSON ({exc.message})")
        result = None
        if body is not None:
            try:
                result = _read_doc(zlib.decompress(body[0]).decode(), exp.result_type if exp else None, types)
            except (codec.CodecError, zlib.error, ValueError) as exc:
                notes.append(f"its stored result could not be read ({exc})")
        cluster = codec.decode(ClusterFacts, row[11]) if row[11] else None
        return RunRecord(row[0], row[1], row[2], row[3], row[4], row[5], settings, result, cluster, row[7], row[8],
                         {str(k): float(v) for k, v in json.loads(row[12] or "{}").items()}, row[6], row[9],
                         "; ".join(notes) or None)

    def integrity(self) -> str:
        """SQLite's ``integrity_check``: "ok" for a sound file."""
        with self._read() as c:
            return str(c.execute("PRAGMA integrity_check").fetchone()[0])


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise RunStoreError(f"Unknown run status {status!r}.", hint=f"Use one of: {', '.join(STATUSES)}.")


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _filters(experiment: str | None, since: str | None, until: str | None, search: str | None,
             status: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if experiment:
        clauses.append("experiment = ?")
        params.append(experiment)
    if since:
        clauses.append("started_at >= ?")
        params.append(since)
    if until:
        clauses.append("started_at < ?")
        params.append(until)
    if status:
        clauses.append("status = ?")
        params.append(status)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("settings LIKE ? ESCAPE '\\'")
        params.append(f"%{escaped}%")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


# --- the process-wide store the launcher writes to ------------------------------------------------
_stores: dict[Path, RunStore] = {}
_stores_lock = threading.Lock()


def open_store(path: str | Path | None = None) -> RunStore:
    """The store at ``path`` (default: ``runs_schema.default_path()``, read now), opened once per process.

    Raises ``RunStoreError`` naming the file and what to do when it cannot be opened or is damaged.
    """
    p = Path(path).expanduser() if path is not None else default_path()
    key = p.resolve()
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = RunStore(p)
            _stores[key] = store
        return store
