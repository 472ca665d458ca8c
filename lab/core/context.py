"""Run an experiment in the background with progress, a time bound and cancel.

Every experiment in the lab is a plain function ``fn(ctx: RunContext) -> R``. It calls
``ctx.report(...)`` now and then (progress and a live partial result) and ``ctx.check()`` in its loops,
which raises ``Cancelled`` once the user cancels or the time bound passes. ``start(fn, ...)`` runs it in
a worker thread and returns a ``Run`` handle the page polls (``progress()``, ``done``) and the CLI waits
on (``wait()``; Ctrl-C -> ``cancel()``). The engine never sleeps to look busy: progress is what the
experiment really did.

    run = experiment.start(lambda ctx: produce.run(cluster, settings, ctx), time_limit_s=60)
    ...                      # page reruns: run.progress() -> draw a bar and a live chart
    result = run.wait()      # raises the experiment's LabError, if any
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from lab.core.errors import Cancelled, LabError


class Lease(Protocol):
    """What the runner hands an experiment that changes brokers: the cluster lock it holds
    (``lab.cluster.lock.ClusterLease``), passed on to ``cluster.broker(..., lease=ctx.lease)``."""

    def release(self) -> None: ...


R = TypeVar("R")
T = TypeVar("T")

#: Every experiment has a bound; this is the one used when the caller gives none.
DEFAULT_TIME_LIMIT_S = 300.0
#: Extra time a cancelled experiment gets to close its clients before ``wait`` gives up on it.
CANCEL_GRACE_S = 15.0


@dataclass(frozen=True)
class Progress:
    """A snapshot for the UI: how far, what is happening, and a partial result to draw live."""

    fraction: float | None = None  # 0..1, or None when the total is unknown
    message: str = ""
    partial: Any = None
    elapsed_s: float = 0.0


class RunContext:
    """Handed to the experiment function: report progress, honour cancel and the time bound."""

    def __init__(self, time_limit_s: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + time_limit_s
        self.time_limit_s = time_limit_s
        self._cancel = threading.Event()
        self._reason = ""
        self._cancelled_at: float | None = None
        self._timed_out = False
        self._progress = Progress()
        self._lock = threading.Lock()
        #: the cluster lock, when the runner took it for an experiment that changes brokers; pass it to
        #: ``cluster.broker(..., lease=ctx.lease)``
        self.lease: Lease | None = None
        #: other experiments of this process running now, described for a person (the launcher hands
        #: this in; the verdict's "concurrent" rule reads it)
        self.others_running: Callable[[], Sequence[str]] = tuple

    # --- for the experiment ----------------------------------------------------------------------
    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        with self._lock:
            self._progress = Progress(fraction, message, partial, time.monotonic() - self.started)

    @property
    def cancelled(self) -> bool:
        """True once cancel was asked for or the time bound passed (check this to stop gently)."""
        if not self._cancel.is_set() and time.monotonic() >= self.deadline:
            self._reason = f"the time limit of {self.time_limit_s:.0f} s was reached"
            self._timed_out = True
            self._cancelled_at = self.deadline
            self._cancel.set()
        return self._cancel.is_set()

    @property
    def cancelled_at(self) -> float | None:
        """``time.monotonic()`` when the cancel was asked for (or the time bound passed), None while the run
        may go on: a stop bounds its clean-up from the press, not from when its loop noticed."""
        return self._cancelled_at if self.cancelled else None

    @property
    def timed_out(self) -> bool:
        """True when the run is being stopped because its time bound passed (not by a cancel)."""
        return self.cancelled and self._timed_out

    @property
    def stop_reason(self) -> str | None:
        """Why the run is being stopped ("cancelled by the user", "the time limit of 60 s was reached"), or None."""
        return self._reason if self.cancelled else None

    def stopped_text(self) -> str:
        """The ``stopped`` text of a result cut short by this context."""
        return f"stopped early: {self.stop_reason or 'cancelled'}"

    def check(self) -> None:
        """Raise ``Cancelled`` when the experiment should stop now."""
        if self.cancelled:
            raise Cancelled(f"Stopped: {self._reason}.")

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` (never past the deadline); True if woken by cancel. Does not raise."""
        self._cancel.wait(max(0.0, min(seconds, self.remaining_s())))
        return self.cancelled

    def remaining_s(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def sleep(self, seconds: float) -> None:
        """Wait (e.g. between monitor polls) but wake at once on cancel; raises ``Cancelled`` then."""
        self._cancel.wait(min(seconds, self.remaining_s()))
        self.check()

    def restart_clock(self, time_limit_s: float) -> None:
        """The experiment starts now, with this time bound (a run that waited its turn in a class's queue: the
        wait had a bound of its own and does not eat the experiment's)."""
        with self._lock:
            self.started = time.monotonic()
            self.deadline = self.started + time_limit_s
            self.time_limit_s = time_limit_s

    # --- for the owner ---------------------------------------------------------------------------
    def cancel(self, reason: str = "cancelled by the user") -> None:
        self._reason = reason
        if self._cancelled_at is None:
            self._cancelled_at = time.monotonic()
        self._cancel.set()

    def progress(self) -> Progress:
        with self._lock:
            p = self._progress
        return Progress(p.fraction, p.message, p.partial, time.monotonic() - self.started)



class ChildContext(RunContext):
    """One part of a larger experiment (a run of a sweep, one side of a cross-check).

    It shares the parent's cancel and deadline; a subclass overrides ``report`` to map its progress onto
    its slice of the parent's bar.
    """

    def __init__(self, parent: RunContext) -> None:
        super().__init__(max(0.0, parent.remaining_s()))
        self.parent = parent

    @property
    def cancelled(self) -> bool:
        if self.parent.cancelled:
            self._reason = self.parent._reason
            return True
        return False

    @property
    def cancelled_at(self) -> float | None:
        return self.parent.cancelled_at

    def remaining_s(self) -> float:
        return self.parent.remaining_s()

    def sleep(self, seconds: float) -> None:
        self.parent.sleep(seconds)

    def wait(self, seconds: float) -> bool:
        return self.parent.wait(seconds)

    @property
    def lease(self) -> Lease | None:
        return self.parent.lease

    @lease.setter
    def lease(self, value: Lease | None) -> None:
        pass  # a part of a run uses its parent's lease



def poll_until(predicate: Callable[[], T], timeout_s: float, ctx: RunContext | None = None, *,
               every_s: float = 0.2) -> T | None:
    """Call ``predicate`` until it returns something truthy (returned) or ``timeout_s`` passes (None).

    Waits between calls on the context's cancel event, so a Cancel (or the run's time bound) ends the
    wait at once with ``Cancelled``; without a context it is a plain bounded poll. The one loop for
    "wait until the cluster shows X" in the lab.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        got = predicate()
        if got:
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if ctx is None:
            time.sleep(min(every_s, left))
        else:
            ctx.sleep(min(every_s, left))


class Run(Generic[R]):
    """A running (or finished) experiment."""

    def __init__(self, fn: Callable[[RunContext], R], time_limit_s: float, name: str = "experiment") -> None:
        self.name = name
        self.ctx = RunContext(time_limit_s)
        self._result: R | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(fn,), name=f"lab-{name}", daemon=True)

    def _main(self, fn: Callable[[RunContext], R]) -> None:
        try:
            self._result = fn(self.ctx)
        except BaseException as exc:  # handed to the owner through wait()/error
            self._error = exc
        finally:
            self._done.set()

    def start(self) -> Run[R]:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def join(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the run to end; True when it has."""
        return self._done.wait(timeout_s)

    @property
    def error(self) -> BaseException | None:
        return self._error if self.done else None

    @property
    def result(self) -> R | None:
        return self._result if self.done else None

    def progress(self) -> Progress:
        return self.ctx.progress()

    def cancel(self, reason: str = "cancelled by the user") -> None:
        self.ctx.cancel(reason)

    def wait(self, timeout_s: float | None = None) -> R:
        """Block until finished; return the result or raise its error (non-lab errors are wrapped)."""
        limit = timeout_s if timeout_s is not None else self.ctx.remaining_s() + CANCEL_GRACE_S
        try:
            finished = self._done.wait(limit)
        except KeyboardInterrupt:
            self.cancel("interrupted (Ctrl-C)")
            self._done.wait(CANCEL_GRACE_S)
            raise
        if not finished:
            self.cancel("it overran its time limit")
            if not self._done.wait(CANCEL_GRACE_S):
                raise LabError(f"The {self.name} did not stop within {CANCEL_GRACE_S:.0f} s of being cancelled.")
        if self._error is not None:
            if isinstance(self._error, LabError):
                raise self._error
            raise LabError(f"The {self.name} failed: {self._error!r}") from self._error
        return self._result  # type: ignore[return-value]


def start(fn: Callable[[RunContext], R], *, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
          name: str = "experiment") -> Run[R]:
    """Run ``fn`` in a worker thread; returns the handle at once."""
    return Run(fn, time_limit_s, name).start()


def run_sync(fn: Callable[[RunContext], R], *, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
             name: str = "experiment", on_progress: Callable[[Progress], None] | None = None,
             every_s: float = 0.5) -> R:
    """Run in the background and wait (the CLI's way), calling ``on_progress`` every ``every_s``."""
    run = start(fn, time_limit_s=time_limit_s, name=name)
    try:
        while not run.done:
            run._done.wait(every_s)
            if on_progress is not None:
                on_progress(run.progress())
    except KeyboardInterrupt:
        run.cancel("interrupted (Ctrl-C)")
        run._done.wait(CANCEL_GRACE_S)
        raise
    return run.wait()
