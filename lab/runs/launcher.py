"""Start a registered experiment the one way every face does: lock, worker, stamp, and a process-wide list.

``launch(experiment, cluster, settings, face=...)``

1. takes the cluster lock first when the experiment changes brokers (so a second tab or a CLI gets
   ``ClusterBusy`` naming the running one, at once, before anything is touched);
2. runs ``experiment.fn(cluster, settings, ctx)`` in a worker thread with its time bound;
3. stamps the result with a ``RunInfo`` (run id, times, face, cluster facts) and, when the run was
   cancelled or timed out, its ``stopped`` reason; releases the lock however the run ends;
4. saves the run in the run store (``lab/runs.py``): a "running" row at launch, the whole record when it
   ends (finished, cancelled, timed out, failed with its error); a store problem never fails the run;
5. keeps the run in a process-wide table (``active()``, ``get(run_id)``), so a page can find it again
   after a reload, another tab can watch it, and a server can cancel the runs of a browser session that
   went away (``cancel_owned_by``).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from lab.classroom import queue, roles
from lab.classroom import session as classes
from lab.core import context as _experiment
from lab.core.catalogue import Experiment
from lab.core.context import Progress, Run, RunContext
from lab.core.errors import Cancelled, LabError, SettingsError
from lab.core.results import ClusterFacts, Result, RunInfo, new_run_id, now_iso, stamp
from lab.kafka import acl
from lab.runs import recorder
from lab.runs import store as runs

if TYPE_CHECKING:
    from lab.cluster.base import Cluster

R = TypeVar("R", bound=Result)

#: Finished runs kept in memory for pages that come back to them (a reload, a second tab).
KEEP_FINISHED = 50


class LabRun(Generic[R]):
    """One launched experiment: its handle, what it is, who started it, and (when done) its result."""

    def __init__(self, exp: Experiment[Any, R], settings: Any, face: str, owner: str | None,
                 run: Run[R], run_id: str, started_at: str) -> None:
        self.experiment = exp
        self.settings = settings
        self.face = face
        self.owner = owner
        self.run_id = run_id
        self.started_at = started_at
        self.started_monotonic = time.monotonic()
        self._run = run

    # --- state ---------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._run.done

    @property
    def error(self) -> BaseException | None:
        """The failure of a run that raised (a ``LabError``; anything else is wrapped), once done."""
        err = self._run.error
        if err is None or isinstance(err, LabError):
            return err
        wrapped = LabError(f"The {self.experiment.title} failed: {err!r}")
        wrapped.__cause__ = err
        return wrapped

    @property
    def result(self) -> R | None:
        return self._run.result

    def progress(self) -> Progress:
        return self._run.progress()

    @property
    def ctx(self) -> RunContext:
        return self._run.ctx

    def cancel(self, reason: str = "cancelled by the user") -> None:
        self._run.cancel(reason)

    def cancel_as(self, me: str | None, role: str | None = None) -> None:
        """Cancel on behalf of browser session ``me`` (of ``role`` in the open class, if any): while a class is
        open, a student may cancel only their own runs (``NotAllowed`` otherwise); the teacher any."""
        roles.may_cancel(classes.current(), role, me, self.owner)
        self.cancel()

    def wait(self, timeout_s: float | None = None) -> R:
        return self._run.wait(timeout_s)

    def join(self, timeout_s: float) -> bool:
        return self._run.join(timeout_s)

    def describe(self) -> str:
        age = time.monotonic() - self.started_monotonic
        return f"{self.experiment.title} (run {self.run_id}, from the {self.face}, {age:.0f} s ago)"


_lock = threading.Lock()
_runs: OrderedDict[str, LabRun[Any]] = OrderedDict()


def _remember(r: LabRun[Any]) -> None:
    with _lock:
        _runs[r.run_id] = r
        finished = [k for k, v in _runs.items() if v.done]
        for k in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del _runs[k]


def active() -> list[LabRun[Any]]:
    """Runs of this process that have not ended, oldest first."""
    with _lock:
        return [r for r in _runs.values() if not r.done]


def get(run_id: str) -> LabRun[Any] | None:
    """A run of this process by id (running, or among the last ``KEEP_FINISHED`` finished)."""
    with _lock:
        return _runs.get(run_id)


def cancel_owned_by(is_alive: Callable[[str], bool]) -> list[LabRun[Any]]:
    """Cancel the running runs whose owner (a browser session id) ``is_alive`` says has gone."""
    gone = [r for r in active() if r.owner is not None and not is_alive(r.owner)]
    for r in gone:
        r.cancel("the browser session that started it ended")
    return gone


def launch(exp: Experiment[Any, R], cluster: Cluster, settings: Any, *, face: str = "cli",
           owner: str | None = None, time_limit_s: float | None = None,
           lesson: tuple[str, str | None] | None = None, role: str | None = None,
           who: str | None = None) -> LabRun[R]:
    """Start ``exp`` on ``cluster`` in the background; returns at once (see the module docstring).
    ``lesson``: (lesson id, prediction or None) the run answers, kept with it in the run store.
    While a class is open (``lab.classroom``): ``role`` ("teacher" or "student") decides whether the run may
    change brokers (``NotAllowed`` otherwise), the run waits its turn in the cluster's fair queue, and ``who``
    (a display name) is kept with it for the class board.

    Raises ``ClusterBusy`` (before starting anything) when the experiment changes brokers and another
    one, in any process on this machine, holds the cluster lock; ``SettingsError`` for settings of the
    wrong type.
    """
    if not isinstance(settings, exp.settings_type):
        raise SettingsError(f"The {exp.title} takes {exp.settings_type.__name__}, not {type(settings).__name__}.")
    klass = classes.current()
    if exp.changes_brokers:
        roles.may_change_brokers(klass, role, face, f"run the {exp.title}")
    run_id = new_run_id()
    started_at = now_iso()
    limit = float(time_limit_s) if time_limit_s else exp.time_limit(settings)
    lease = cluster.exclusive(exp.title, face=face, run_id=run_id) if exp.changes_brokers else None
    try:
        if klass is None:  # (in a class the queue keeps two runs of one topic apart instead)
            _refuse_topic_in_use(exp, settings)
        turn = (_Turn(cluster, exp, settings, owner or f"{face}:{os.getpid()}", who or face)
                if klass is not None else None)
    except BaseException:
        if lease is not None:
            lease.release()
        raise

    facts: list[ClusterFacts] = []

    def attempt(ctx: RunContext) -> R:
        ctx.lease = lease
        ctx.others_running = lambda: [r.describe() for r in active() if r.ctx is not ctx]
        try:
            facts.append(cluster.facts())
            try:
                result = exp.fn(cluster, settings, ctx)
            except Cancelled as exc:  # an experiment that does not keep the convention still says why
                raise LabError(f"The {exp.title} stopped without a result: {exc.message}") from exc
            except Exception as exc:  # an ACL refusal no inner layer named: say who may not do what
                denial = acl.translate(exc, cluster, settings)
                if denial is None or denial is exc:
                    raise
                raise denial from exc
            info = RunInfo(run_id, exp.name, started_at, now_iso(), facts[0], face, ctx.progress().elapsed_s)
            return stamp(result, info, ctx.stopped_text() if ctx.cancelled else None)
        finally:
            if lease is not None:
                lease.release()

    def body(ctx: RunContext) -> R:
        """Its turn (in a class), the attempt, then its record in the run store (which never fails the run)."""
        try:
            if turn is not None:
                try:
                    turn.wait(ctx, limit)
                except BaseException:
                    if lease is not None:
                        lease.release()
                    raise
            try:
                result = attempt(ctx)
            finally:
                if turn is not None:
                    turn.done()
        except BaseException as exc:
            error = str(exc) or repr(exc)
            recorder.record_end(run_id, lambda: runs.RunRecord(
                run_id, exp.name, runs.status_for(None, cancelled=ctx.cancelled, timed_out=ctx.timed_out),
                started_at, now_iso(), face, settings, None, facts[0] if facts else None, ctx.stop_reason,
                error, elapsed_s=ctx.progress().elapsed_s, pid=os.getpid()))
            raise
        recorder.record_end(run_id, lambda: runs.RunRecord.of(
            result, settings=settings, pid=os.getpid(),
            status=runs.status_for(result, cancelled=ctx.cancelled, timed_out=ctx.timed_out)))
        return result

    recorder.record_start(run_id, exp.name, settings, face, started_at)
    if lesson is not None:
        recorder.record_lesson(run_id, *lesson)
    if klass is not None:
        recorder.record_person(run_id, klass.class_id, who or face)
    try:
        run = _experiment.start(body, time_limit_s=limit + (queue.MAX_WAIT_S if turn else 0.0), name=exp.title)
    except BaseException as exc:
        if lease is not None:
            lease.release()
        if turn is not None:
            turn.done()
        error = str(exc) or repr(exc)
        recorder.record_end(run_id, lambda: runs.RunRecord(run_id, exp.name, "failed", started_at, now_iso(), face,
                                                       settings, error=error, pid=os.getpid()))
        raise
    lab_run = LabRun(exp, settings, face, owner, run, run_id, started_at)
    _remember(lab_run)
    return lab_run


def _refuse_topic_in_use(exp: Experiment[Any, Any], settings: Any) -> None:
    """``SettingsError`` when a running run makes the same topic again (it would be deleted under it)."""
    topic = topic_of(exp, settings)
    same = [r for r in active() if topic is not None and topic_of(r.experiment, r.settings) == topic]
    if same:
        raise SettingsError(f"The topic {topic!r} is in use by {same[0].describe()}: this run would delete and "
                            "make it again under that run.", hint="Wait for it to end, or give this run another topic.")


def topic_of(exp: Experiment[Any, Any], settings: Any) -> str | None:
    """The topic (or topic prefix) the run makes again (``Experiment.own_topic``); None for any other run."""
    if not exp.own_topic:
        return None
    for name in ("topic", "topic_prefix"):
        value = getattr(settings, name, None)
        if isinstance(value, str) and value:
            return value
    return None


class _Turn:
    """A run's place in its cluster's class queue (``lab.classroom.queue``): wait for it, then let go."""

    def __init__(self, cluster: Cluster, exp: Experiment[Any, Any], settings: Any, owner: str, who: str) -> None:
        self.queue = queue.for_cluster(cluster.bootstrap_servers(), classes.class_file().parent)
        self.ticket = self.queue.enter(owner, who, exp.title, exp.light, topic_of(exp, settings))
        self.exp = exp

    def wait(self, ctx: RunContext, limit_s: float) -> None:
        """Block until the run's turn, showing its place; then its own time bound starts. ``LeftQueue``
        when it left first (cancelled, its session ended, or it waited ``queue.MAX_WAIT_S``)."""
        if not self.queue.wait_turn(self.ticket, lambda: ctx.cancelled,
                                    lambda place: ctx.report(message=place.text())):
            why = ctx.stop_reason if ctx.cancelled and not ctx.timed_out else \
                f"its turn did not come within {queue.MAX_WAIT_S:.0f} s"
            raise queue.LeftQueue(f"The {self.exp.title} left the class's queue before its turn: {why}.")
        ctx.restart_clock(limit_s)

    def done(self) -> None:
        self.queue.leave(self.ticket)


def run_sync(exp: Experiment[Any, R], cluster: Cluster, settings: Any, *, face: str = "cli",
             time_limit_s: float | None = None, on_progress: Callable[[Progress], None] | None = None,
             every_s: float = 0.5, lesson: tuple[str, str | None] | None = None) -> R:
    """Launch and wait (the CLI's and the tests' way); Ctrl-C cancels and still returns what was measured."""
    r = launch(exp, cluster, settings, face=face, time_limit_s=time_limit_s, lesson=lesson)
    try:
        while not r.done:
            r.join(every_s)
            if on_progress is not None:
                on_progress(r.progress())
    except KeyboardInterrupt:
        r.cancel("interrupted (Ctrl-C)")
    return r.wait()
