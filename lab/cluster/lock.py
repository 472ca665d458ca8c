"""The cluster lock: one owner at a time for work that stops, pauses, kills or starts brokers.

Two browser tabs, or the app and a CLI in a terminal, must never break brokers at once. The lock is an
advisory ``flock`` on one file per cluster (for the local backend in its state directory), so it is
shared by every thread and every process on this machine, and the kernel releases it when its owner
dies: a lock left by a dead process is simply free again (its holder record is then stale, and the
next owner overwrites it). Each ``flock`` is taken on its own open file description, so two owners in
one process exclude each other too.

    with cluster.exclusive("min.insync.replicas scenario", face="app") as lease:
        cluster.broker("stop", 2, lease=lease)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from lab.core.errors import ClusterBusy


@dataclass(frozen=True)
class LockHolder:
    """Who holds the cluster lock: what runs, from which face, in which process, since when."""

    what: str
    face: str = "cli"
    pid: int = 0
    #: wall-clock seconds since the epoch when the lock was taken
    since: float = 0.0
    run_id: str | None = None

    def describe(self) -> str:
        age = max(0.0, time.time() - self.since)
        where = f"the {self.face}" + (f", process {self.pid}" if self.pid else "")
        return f"{self.what} (started from {where}, {age:.0f} s ago)"


class ClusterLease:
    """A held cluster lock; ``release()`` (or leaving the ``with`` block) frees it. Idempotent."""

    def __init__(self, path: Path, fd: int, holder: LockHolder) -> None:
        self.path = path
        self.holder = holder
        self._fd: int | None = fd
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        with self._guard:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # no stale holder record for the next reader
        except OSError:
            pass
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> ClusterLease:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def __del__(self) -> None:  # a lease dropped without release must not hold the cluster forever
        with contextlib.suppress(Exception):  # interpreter shutdown: nothing sensible to do
            self.release()


def read_holder(path: Path) -> LockHolder | None:
    """The holder record in the lock file, or None (no file, empty, or unreadable)."""
    try:
        raw = path.read_text()
    except OSError:
        return None
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
        return LockHolder(**data)
    except (ValueError, TypeError):
        return None


def current_holder(path: Path) -> LockHolder | None:
    """Who holds the lock now, or None when it is free (a record left by a dead process is ignored)."""
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(path) or LockHolder("an experiment that did not say its name")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def acquire(path: Path, what: str, *, face: str = "cli", run_id: str | None = None) -> ClusterLease:
    """Take the lock at ``path`` without waiting; raise ``ClusterBusy`` naming the holder when taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        other = read_holder(path)
        who = other.describe() if other else "another experiment"
        raise ClusterBusy(
            f"The cluster is busy: {who} is changing brokers, and only one experiment may do that at a time.",
            hint="Wait for it to finish (or cancel it where it was started); you can watch it meanwhile.",
            holder=other,
        ) from None
    holder = LockHolder(what, face, os.getpid(), time.time(), run_id)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
    return ClusterLease(path, fd, holder)
