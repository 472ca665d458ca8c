"""The run store's file: where it lives, how a connection is opened, and its ordered migrations.

One SQLite file (``$KAFKA_LAB_RUNS_DB``, else ``runs.sqlite`` next to the local cluster's state
directory, e.g. ``~/.local/state/kafka-lab/runs.sqlite``) in WAL mode, so a page can list runs while a
CLI run saves one. ``PRAGMA user_version`` is the schema version; ``MIGRATIONS[i]`` takes a file from
version ``i`` to ``i + 1``, all in one transaction, so a file is either migrated or left as it was.

    v1  runs (one light row per run: what, when, status, settings JSON, summary figures) and
        run_bodies (the result document, zlib-compressed codec JSON, read only by ``get``)
    v2  runs.boot_id (a row left "running" by an earlier boot is interrupted, whatever its pid) and the
        indexes a listing uses (newest first, by experiment, by status)
    v3  run_lessons: the lesson a run answered and the prediction made before it ran (a table of its
        own, so rewriting a run's row at its end keeps them)
    v4  run_people: the class a run was made in and the display name of who made it (the class board)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from lab.core.errors import RunStoreError

#: Environment variable naming the store's file (tests point it at a temporary file).
DB_ENV = "KAFKA_LAB_RUNS_DB"
#: The file's name next to the cluster state directory.
DB_NAME = "runs.sqlite"
#: How long a writer waits for another process's transaction before giving up (a save takes < 0.1 s).
BUSY_TIMEOUT_MS = 15_000

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # v1
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            experiment TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            face TEXT NOT NULL,
            elapsed_s REAL,
            stopped TEXT,
            error TEXT,
            pid INTEGER,
            settings TEXT NOT NULL,
            cluster TEXT,
            summary TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE run_bodies (
            run_id TEXT PRIMARY KEY,
            result BLOB NOT NULL
        )""",
    ),
    (  # v2
        "ALTER TABLE runs ADD COLUMN boot_id TEXT",
        "CREATE INDEX runs_by_start ON runs (started_at, run_id)",
        "CREATE INDEX runs_by_experiment ON runs (experiment, started_at)",
        "CREATE INDEX runs_by_status ON runs (status)",
    ),
    (  # v3
        """CREATE TABLE run_lessons (
            run_id TEXT PRIMARY KEY,
            lesson TEXT NOT NULL,
            prediction TEXT
        )""",
    ),
    (  # v4
        """CREATE TABLE run_people (
            run_id TEXT PRIMARY KEY,
            class_id TEXT NOT NULL,
            who TEXT NOT NULL
        )""",
        "CREATE INDEX run_people_by_class ON run_people (class_id)",
    ),
)
#: The version this lab writes.
LATEST = len(MIGRATIONS)


def default_path() -> Path:
    """``$KAFKA_LAB_RUNS_DB``, else ``runs.sqlite`` beside the default cluster state directory (read now,
    not at import, so a test or a CLI flag that sets the variable is honoured)."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    from lab.cluster.local_state import default_state_dir

    return default_state_dir().parent / DB_NAME


def problem(path: Path, exc: BaseException, doing: str) -> RunStoreError:
    """A ``RunStoreError`` for ``exc`` met while ``doing`` something with the file at ``path``."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        hint = (f"The file is damaged or not a run store. Move it aside (mv {path} {path}.broken) to start an "
                f"empty store, or set {DB_ENV} to another file.")
    elif "locked" in text or "busy" in text:
        hint = "Another process held the store for long; try again once it has finished saving."
    else:
        hint = (f"Check that {path.parent} exists and is writable, or set {DB_ENV} to a file in a "
                "writable directory.")
    err = RunStoreError(f"The run store {path} could not be {doing}: {text}.", hint=hint)
    err.__cause__ = exc
    return err


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) in WAL mode, migrated to ``LATEST``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
    except (sqlite3.Error, OSError) as exc:
        raise problem(path, exc, "opened") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a crash of the process (even SIGKILL) keeps every committed run; only a power
        # loss may lose the last few, never the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn, path)
    except RunStoreError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise problem(path, exc, "opened") from exc
    return conn


def version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the file to ``LATEST`` in one transaction; returns the version it had."""
    if version(conn) == LATEST:  # the common case, without taking the write lock
        return LATEST
    conn.execute("BEGIN IMMEDIATE")
    try:
        had = version(conn)  # again under the lock: another process may have migrated it meanwhile
        if had > LATEST:
            raise RunStoreError(f"The run store {path} has schema version {had}; this lab reads up to {LATEST}.",
                                hint=f"Update the lab, or set {DB_ENV} to another file.")
        for step in MIGRATIONS[had:]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {LATEST}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return had
