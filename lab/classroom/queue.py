"""The fair run queue of one cluster while a class is open: measured runs one at a time (light ones, which
count rather than time things, up to ``LIGHT_AT_ONCE`` together), first come first served with round-robin
between people, so one student's ten queued runs do not go before everyone else's first.

Within the app's server the queue decides whose turn it is; a granted run then also takes a lock file (shared
for a light run, exclusive for a measured one), so runs of other processes of the class (the CLI) take turns
with it too. A queued run can leave (cancel); a run whose browser session ended is cancelled by the launcher
and leaves with it. The wait has its own bound (``MAX_WAIT_S``)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.core.errors import LabError

#: Light runs that may run together (their figures are counts, not speeds).
LIGHT_AT_ONCE = 4
#: The longest a run waits for its turn before it gives up (seconds).
MAX_WAIT_S = 1800.0
#: A run's expected length before any of its kind has run here (seconds).
DEFAULT_ESTIMATE_S = 30.0
#: How often a waiting run looks again (seconds): cancel and the other processes' lock are noticed this fast.
POLL_S = 0.25


@dataclass(eq=False)
class Ticket:
    """One run's place in the queue."""

    owner: str
    who: str
    what: str
    light: bool
    #: the topic (or topic prefix) the run makes again: two runs on one topic never run together
    topic: str | None = None
    enqueued: float = field(default_factory=time.monotonic)
    granted_at: float | None = None
    _fd: int | None = None


@dataclass(frozen=True)
class Place:
    """Where a waiting run stands: 1 = next; ``ahead`` runs before it, about ``wait_s`` seconds."""

    place: int
    waiting: int
    running: int
    wait_s: float

    def text(self) -> str:
        if self.place == 0:
            return "its turn: running"
        return (f"queued: place {self.place} of {self.waiting} ({self.running} running), about "
                f"{max(1.0, self.wait_s):.0f} s to wait")


class RunQueue:
    """The queue of one cluster (see the module docstring); safe to use from any thread."""

    def __init__(self, lock_file: Path | None = None) -> None:
        self.lock_file = lock_file
        self._cv = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._owners: list[str] = []  # round-robin order: by first arrival
        self._last: str | None = None
        self._took: dict[str, list[float]] = {}  # experiment -> recent run lengths (for the estimate)

    # --- the order ------------------------------------------------------------------------------------
    def _order(self) -> list[Ticket]:
        """The waiting tickets in the order they will be granted (round-robin over owners from after the last
        one served, each owner's own in arrival order)."""
        per: dict[str, list[Ticket]] = {}
        for t in self._waiting:
            per.setdefault(t.owner, []).append(t)
        owners = [o for o in self._owners if o in per]
        if self._last in self._owners:
            start = self._owners.index(self._last) + 1
            ring = self._owners[start:] + self._owners[:start]
            owners = [o for o in ring if o in per]
        out: list[Ticket] = []
        while any(per.values()):
            for o in owners:
                if per[o]:
                    out.append(per[o].pop(0))
        return out

    def _fits(self, t: Ticket) -> bool:
        if not self._running:
            return True
        if t.topic is not None and any(r.topic == t.topic for r in self._running):
            return False
        return t.light and all(r.light for r in self._running) and len(self._running) < LIGHT_AT_ONCE

    def _estimate(self, what: str) -> float:
        took = self._took.get(what)
        return sum(took) / len(took) if took else DEFAULT_ESTIMATE_S

    # --- a run's side ---------------------------------------------------------------------------------
    def enter(self, owner: str, who: str, what: str, light: bool, topic: str | None = None) -> Ticket:
        t = Ticket(owner, who, what, light, topic)
        with self._cv:
            if owner not in self._owners:
                self._owners.append(owner)
            self._waiting.append(t)
        return t

    def place(self, t: Ticket) -> Place:
        with self._cv:
            if t in self._running:
                return Place(0, len(self._waiting), len(self._running), 0.0)
            order = self._order()
            ahead = order[: order.index(t)] if t in order else order
            now = time.monotonic()
            left = max((max(0.0, self._estimate(r.what) - (now - (r.granted_at or now))) for r in self._running),
                       default=0.0)
            wait = left + sum(self._estimate(a.what) / (LIGHT_AT_ONCE if a.light else 1) for a in ahead)
            return Place(len(ahead) + 1, len(self._waiting), len(self._running), wait)

    def wait_turn(self, t: Ticket, cancelled: Callable[[], bool], on_wait: Callable[[Place], None]) -> bool:
        """Block until ``t``'s turn (True) or until ``cancelled()`` or the wait's bound (False: it left)."""
        deadline = t.enqueued + MAX_WAIT_S
        while True:
            with self._cv:
                order = self._order()
                mine = bool(order) and order[0] is t and self._fits(t)
                if mine and self._take_lock(t):
                    self._waiting.remove(t)
                    self._running.append(t)
                    self._last = t.owner
                    t.granted_at = time.monotonic()
                    return True
            if cancelled() or time.monotonic() > deadline:
                self.leave(t)
                return False
            on_wait(self.place(t))
            with self._cv:
                self._cv.wait(POLL_S)

    def leave(self, t: Ticket) -> None:
        """A waiting run leaves, or a running one is done: the next in turn may go."""
        with self._cv:
            if t in self._waiting:
                self._waiting.remove(t)
            if t in self._running:
                self._running.remove(t)
                if t.granted_at is not None:
                    self._took.setdefault(t.what, []).append(time.monotonic() - t.granted_at)
                    self._took[t.what] = self._took[t.what][-5:]
            if t._fd is not None:
                os.close(t._fd)  # releases the lock file
                t._fd = None
            self._cv.notify_all()

    # --- other processes ------------------------------------------------------------------------------
    def _take_lock(self, t: Ticket) -> bool:
        """The class's lock file, shared (light) or alone (measured), without waiting: False while a run of
        another process holds it the other way."""
        if self.lock_file is None:
            return True
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if t.light else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        t._fd = fd
        return True

    def snapshot(self) -> tuple[list[Ticket], list[Ticket]]:
        """(running, waiting in grant order), for a page that shows the queue."""
        with self._cv:
            return list(self._running), self._order()


_queues: dict[str, RunQueue] = {}
_queues_lock = threading.Lock()


def for_cluster(key: str, directory: Path) -> RunQueue:
    """This process's queue for the cluster ``key`` (its bootstrap servers), its lock file in ``directory``."""
    with _queues_lock:
        q = _queues.get(key)
        if q is None:
            digest = hashlib.sha256(key.encode()).hexdigest()[:12]
            q = _queues[key] = RunQueue(directory / f"queue-{digest}.lock")
        return q


class LeftQueue(LabError):
    """A queued run that left the queue before its turn (cancelled, its session ended, or it waited too long)."""
