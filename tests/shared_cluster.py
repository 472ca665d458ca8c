"""One test cluster for all pytest-xdist workers of a run, and whose turn it is to use it.

The workers of one run share a directory (the parent of each worker's base temp directory, the usual
pytest-xdist recipe for a session fixture shared across workers). In it:

``users.lock`` / ``users.json``
    who uses the cluster (pid + process start time). The first worker that needs the cluster starts it
    under this lock, the others find it running and only add themselves; each removes itself at the end
    of its session and the last one (no other live user left) stops it and deletes its data. A worker that
    died without leaving is dropped as soon as another one looks.
``access.lock`` (+ ``turnstile.lock``)
    a readers-writer lock over the cluster (``flock``; the kernel drops a dead holder's lock): an ordinary
    cluster test holds it shared, so any number run at once; a test that stops, pauses, kills or starts
    brokers, or takes the lab's own cluster lock, or reads cluster-wide state that another test's work
    would change, holds it exclusively and runs alone on the cluster. A writer waiting for its turn holds
    the turnstile, so readers queue behind it instead of starving it.
``breaking``
    written while an exclusive holder runs and removed once it made the cluster whole again; found by the
    next holder only if that test's process died half-way, which then heals the cluster first.

This lock is separate from the lab's cluster lock (``lab/cluster/lock.py``, which experiments and broker
commands take without waiting): a test waits only here, and only before its own work starts, so a test
that holds the lab's lock while it runs exclusively here waits on nobody.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

SHARED = "shared"
EXCLUSIVE = "exclusive"


@contextlib.contextmanager
def flocked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[int]:
    """``flock`` on a file description of its own (so two holders in one process exclude each other too)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _start_time(pid: int) -> float | None:
    """The process's start as the kernel counts it (clock ticks since boot, /proc/PID/stat field 22): it
    never changes for a process. psutil's ``create_time()`` adds the boot time, which /proc derives from the
    wall clock: a clock step moved it between two workers' reads, a live worker looked dead, and the other
    worker stopped the cluster under its tests. None for a dead process or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        fields = []
    if fields:  # after "pid (comm)": state is field 3, starttime field 22
        return None if fields[0] == "Z" else float(fields[19])
    try:  # no /proc (not Linux): psutil's figure
        p = psutil.Process(pid)
        return None if p.status() == psutil.STATUS_ZOMBIE else p.create_time()
    except psutil.Error:
        return None


class ClusterAccess:
    """The shared directory's locks, as one process (one pytest worker) uses them."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.users_lock = directory / "users.lock"
        self.users_file = directory / "users.json"
        self.access_lock = directory / "access.lock"
        self.turnstile = directory / "turnstile.lock"
        self.breaking = directory / "breaking"
        #: makes the cluster whole: all brokers running and registered, replicas back in sync (set by the
        #: ``cluster`` fixture); run after every exclusive turn, and first if a holder died half-way
        self.heal: Callable[[], None] | None = None
        self._mode: str | None = None
        self._depth = 0

    # --- who uses the cluster -------------------------------------------------------------------
    def _users(self) -> dict[int, float]:
        """Live users: pid -> process start time (dead ones and reused pids left out)."""
        try:
            raw = json.loads(self.users_file.read_text() or "{}")
        except (OSError, ValueError):
            raw = {}
        return {int(pid): t for pid, t in raw.items() if _start_time(int(pid)) == t}

    def _save_users(self, users: dict[int, float]) -> None:
        tmp = self.users_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({str(p): t for p, t in users.items()}))
        tmp.replace(self.users_file)

    def join(self, start: Callable[[], None]) -> bool:
        """Add this process to the users; the first one calls ``start`` (others wait meanwhile).
        Returns whether this process started it."""
        with flocked(self.users_lock):
            users = self._users()
            first = not users
            if first:
                start()
            me = os.getpid()
            users[me] = _start_time(me) or 0.0
            self._save_users(users)
            return first

    def leave(self, stop: Callable[[], None]) -> bool:
        """Remove this process from the users; the last one calls ``stop``. Returns whether it did."""
        with flocked(self.users_lock):
            users = self._users()
            users.pop(os.getpid(), None)
            self._save_users(users)
            if users:
                return False
            stop()
            return True

    # --- whose turn it is -----------------------------------------------------------------------
    @contextlib.contextmanager
    def hold(self, exclusive: bool, what: str = "", *, breaks: bool | None = None) -> Iterator[float]:
        """Hold the cluster shared (``exclusive=False``) or alone for the block; yields the seconds waited.
        An exclusive turn that ``breaks`` brokers (the default) heals the cluster before it ends; one that
        only needs to be alone (it sees what other tests do) does not.

        Re-entrant in one process: inside a held turn a shared request is the turn already held; an
        exclusive one inside a shared turn is a mistake (it would wait for itself) and raises.
        """
        if self._depth:
            if exclusive and self._mode != EXCLUSIVE:
                raise RuntimeError(f"{what}: asks for the cluster alone inside a shared turn of this process")
            self._depth += 1
            try:
                yield 0.0
            finally:
                self._depth -= 1
            return
        t0 = time.monotonic()
        breaks = exclusive if breaks is None else breaks and exclusive
        fds = [self._acquire(exclusive)]
        self._mode, self._depth = (EXCLUSIVE if exclusive else SHARED), 1
        ok = False
        try:
            if self.breaking.exists():  # the last one alone on the cluster died before making it whole
                if not exclusive:  # heal alone, then queue again for a shared turn
                    os.close(fds.pop())
                    fds.append(self._acquire(True))
                    if self.breaking.exists():
                        self._make_whole()
                    os.close(fds.pop())
                    fds.append(self._acquire(False))
                elif self.breaking.exists():
                    self._make_whole()
            waited = time.monotonic() - t0
            if breaks:
                self.breaking.write_text(json.dumps({"pid": os.getpid(), "what": what}))
            yield waited
            ok = True
        finally:
            self._mode, self._depth = None, 0
            try:
                if breaks and fds:
                    self._make_whole(raise_=ok)
            finally:
                for fd in fds:
                    os.close(fd)

    def _acquire(self, exclusive: bool) -> int:
        fd = os.open(self.access_lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if exclusive:  # queue at the turnstile: readers arriving from now on wait behind this writer
                with flocked(self.turnstile):
                    fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                with flocked(self.turnstile):
                    pass
                fcntl.flock(fd, fcntl.LOCK_SH)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _make_whole(self, raise_: bool = True) -> None:
        """Heal (under the exclusive lock); the marker goes only once the cluster is whole again."""
        try:
            if self.heal is not None:
                self.heal()
        except Exception:
            if raise_:
                raise
            return
        with contextlib.suppress(FileNotFoundError):
            self.breaking.unlink()
