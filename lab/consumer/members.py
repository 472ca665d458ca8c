"""The fetch benchmark past one Python process: N member processes, each a confluent-kafka consumer.

One Python consumer spends a core on its own loop before the brokers are busy, so the lab's figure was a
fraction of Kafka's perf tool. Here each member is a process of its own, ``python -m lab.consumer.member``
(not ``multiprocessing``: its spawn runs the parent's main script again in every child, seconds of imports
under Streamlit or the CLI, and fails in a script without a ``__main__`` guard), started and always stopped by
the run. It reads its ``MemberSpec`` (pickled) from its stdin, then "go" or "stop" lines; it writes its
messages (pickled) to its stdout; stdin closing (the run's process gone) stops it too:

* the topic's partitions are dealt out (``memberstats.split_partitions``) and *assigned* to the members, all
  in one group id: no rebalance while they start one after another, and no message read twice;
* each member reads its share of the target (its partitions' backlog, or its part of the count) with the
  same loop as the in-process consumer (``lab.consumer.loop``), on the run's clock, after a common "go"
  once every member is ready (process start-up and assignment left out, as the group join is);
* it reports its counts every ``SAMPLE_S`` and its figures at the end;
* a cancel (or the time bound) asks every member to stop and keeps what each measured; a member that dies
  is reported as dead, not waited for; every member process is stopped (terminate, grace, kill) and
  reaped before the run returns (``lab.core.subprocs.stop``).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from lab.consumer.loop import SAMPLE_S, ConsumeSample, Tally, consume_loop, last_window
from lab.consumer.memberstats import MemberResult, run_queue_wait_s, shares, split_partitions
from lab.consumer.settings import ConsumerSettings
from lab.consumer.stats import FetchPoint, FetchStatsRecorder, summary
from lab.core import subprocs
from lab.core.context import RunContext
from lab.core.errors import ClusterError
from lab.core.stats import mb, rate

#: How long the members may take to start and be assigned their partitions (a Python process each).
START_TIMEOUT_S = 60.0
#: After a stop is asked for, how long a member may take to send what it measured before it is terminated.
REPORT_GRACE_S = 10.0
#: terminate -> kill
STOP_GRACE_S = 3.0
#: How often the parent looks at the queue, the members and the run's cancel.
POLL_S = 0.1


@dataclass(frozen=True)
class MemberSpec:
    """What one member process needs (pickled to it): its client config, partitions, share and clock."""

    index: int
    config: dict[str, Any]
    topic: str
    partitions: tuple[int, ...]
    target: int
    consumer: ConsumerSettings
    #: the run's clock: ``time.monotonic()`` when the run started (the machine's clock, the same in every process)
    t0: float
    time_limit_s: float


@dataclass(frozen=True)
class MemberReport:
    """A member's figures at its end, on the run's clock."""

    index: int
    pid: int
    consumed: int
    bytes: int
    first: float | None
    last: float | None
    samples: tuple[ConsumeSample, ...]
    points: tuple[FetchPoint, ...]
    cpu_s: float
    errors: dict[str, int]
    cpu_wait_s: float


# --- in the member process --------------------------------------------------------------------------
class _MemberContext(RunContext):
    """The loop's context in a member: stopped by the parent's event (or its own time bound); its reports go
    to the parent."""

    def __init__(self, spec: MemberSpec, stop: Any, out: Any, tally: Tally) -> None:
        super().__init__(spec.time_limit_s)
        self._spec, self._stop, self._out, self._tally, self._sent = spec, stop, out, tally, 0

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set() or super().cancelled

    def wait(self, seconds: float) -> bool:
        self._stop.wait(max(0.0, min(seconds, self.remaining_s())))
        return self.cancelled

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        t = self._tally
        new, self._sent = tuple(t.samples[self._sent:]), len(t.samples)
        self._out.put(("progress", self._spec.index, t.n, t.nbytes, new))


def member_main(spec: MemberSpec, out: Any, go: Any, stop: Any) -> None:
    """A member process: assign, say ready, wait for go, read its share, report (or say why it failed)."""
    try:
        out.put(("done", spec.index, _member(spec, out, go, stop)))
    except BaseException as exc:  # reported to the parent, then the process ends with an error status
        out.put(("failed", spec.index, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"))
        raise SystemExit(1) from exc


def _member(spec: MemberSpec, out: Any, go: Any, stop: Any) -> MemberReport:
    rec = FetchStatsRecorder({spec.topic}, spec.t0)
    consumer = Consumer({**spec.config, "stats_cb": rec.on_stats})
    tally = Tally(spec.t0)
    cpu = wait = 0.0
    try:
        consumer.list_topics(spec.topic, timeout=10.0)  # connected before "ready"
        out.put(("ready", spec.index, os.getpid()))
        while not go.wait(POLL_S):
            if stop.is_set():
                break
        if go.is_set() and not stop.is_set() and spec.target > 0:
            # assigned only now: assigned earlier, librdkafka would prefetch while the others start
            consumer.assign([TopicPartition(spec.topic, p, OFFSET_BEGINNING) for p in spec.partitions])
            start = time.monotonic()
            tally = Tally(spec.t0, start)
            ctx = _MemberContext(spec, stop, out, tally)
            cpu0, wait0 = time.process_time(), run_queue_wait_s()
            s = spec.consumer
            consume_loop(consumer, s, ctx, tally, spec.target, None, False, f"member {spec.index}", None,
                         s.duration_s)
            cpu, wait = time.process_time() - cpu0, run_queue_wait_s() - wait0
            tally.sample(time.monotonic(), force=True)
            last_window(consumer, rec)
    finally:
        consumer.close()
    return MemberReport(spec.index, os.getpid(), tally.n, tally.nbytes, tally.first, tally.last,
                        tuple(tally.samples), tuple(rec.points), cpu, tally.errors, wait)


class _Channel:
    """The member's messages to the run: pickled, one after another, on the stdout it was started with."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f, self._lock = f, threading.Lock()

    def put(self, msg: tuple[Any, ...]) -> None:
        with self._lock:
            pickle.dump(msg, self._f)
            self._f.flush()


def child_main() -> None:
    """``python -m lab.consumer.member``: the spec from stdin, "go"/"stop" lines after it (stdin closed: stop)."""
    channel = _Channel(os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)  # anything printed goes to stderr, not into the message stream
    spec: MemberSpec = pickle.load(sys.stdin.buffer)
    go, stop = threading.Event(), threading.Event()

    def listen() -> None:
        for line in sys.stdin.buffer:
            if line.strip() == b"go":
                go.set()
            elif line.strip() == b"stop":
                break
        stop.set()

    threading.Thread(target=listen, name="lab-member-stdin", daemon=True).start()
    member_main(spec, channel, go, stop)


# --- in the run's process ---------------------------------------------------------------------------
def partition_sizes(config: dict[str, Any], topic: str, partitions: int) -> list[int]:
    """Messages per partition (high - low watermark), asked from the brokers."""
    c = Consumer({k: v for k, v in config.items() if k != "stats_cb"})
    try:
        out = []
        for p in range(partitions):
            low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10.0)
            out.append(high - low)
        return out
    except KafkaException as exc:
        raise ClusterError(f"Could not read the offsets of {topic!r}: {exc}",
                           hint="Check the cluster (`kafka-lab cluster status`).") from exc
    finally:
        c.close()


@dataclass(frozen=True)
class MembersOutcome:
    """What the members did: one result each (in member order), and when all of them were ready."""

    members: tuple[MemberResult, ...]
    ready_s: float
    points: tuple[tuple[FetchPoint, ...], ...]


class _Member:
    """The parent's view of one member: its process, a thread reading its messages, and what it said so far."""

    def __init__(self, spec: MemberSpec, inbox: queue.Queue[tuple[Any, ...]]) -> None:
        self.spec = spec
        self.ready = False
        self.pid = 0
        self.n = self.nbytes = 0
        self.samples: list[ConsumeSample] = []
        self.report: MemberReport | None = None
        self.died = ""
        self.err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop(), with the process
        self.proc = subprocess.Popen([sys.executable, "-m", "lab.consumer.member"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, env=_child_env())
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read, args=(inbox,), name=f"lab-member-{spec.index}", daemon=True)
        self.reader.start()
        self.say(pickle.dumps(spec))

    def _read(self, inbox: queue.Queue[tuple[Any, ...]]) -> None:
        assert self.proc.stdout is not None
        try:
            while True:
                inbox.put(pickle.load(self.proc.stdout))
        except (EOFError, OSError, pickle.UnpicklingError):
            inbox.put(("eof", self.spec.index))

    def say(self, data: bytes) -> None:
        """Write to the member's stdin; a member already gone is not an error here (it is noticed as dead)."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def stderr_tail(self) -> str:
        self.err.seek(0)
        lines = self.err.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def stop(self) -> None:
        """Stop and reap the process (terminate, grace, kill), then close its pipes and reader."""
        subprocs.stop(self.proc, STOP_GRACE_S)
        self.reader.join(STOP_GRACE_S)
        for f in (self.proc.stdin, self.proc.stdout, self.err):
            if f is not None:
                with contextlib.suppress(OSError):  # a dead member's stdin: the flush on close fails
                    f.close()

    @property
    def over(self) -> bool:
        return self.report is not None or bool(self.died)


def _child_env() -> dict[str, str]:
    """This environment, with the directory this ``lab`` was imported from first on the child's path (the lab
    need not be installed, nor the child started where the lab lives)."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


#: ``on_progress(total consumed, ((member label, its samples so far), …))``
OnProgress = Callable[[int, tuple[tuple[str, tuple[ConsumeSample, ...]], ...]], None]


def run_members(config: dict[str, Any], s: ConsumerSettings, topic: str, sizes: Sequence[int], members: int,
                target: int, t0: float, ctx: RunContext, on_progress: OnProgress) -> MembersOutcome:
    """Start ``members`` processes on the partitions of ``topic`` (``sizes``: messages per partition), let them read
    ``target`` messages between them, and collect their reports; every process is stopped and reaped on the
    way out, whatever happens. ``on_progress(total, [(label, samples)])`` every ``SAMPLE_S``."""
    split = split_partitions(list(range(len(sizes))), members)
    share = shares(target, [sum(sizes[p] for p in ps) for ps in split])
    inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
    team: list[_Member] = []
    try:
        for i, ps in enumerate(split):
            team.append(_Member(MemberSpec(i, config, topic, ps, share[i], s, t0, ctx.remaining_s()), inbox))
        ctx.report(0.0, f"starting {members} member processes")
        _collect(team, inbox, ctx, lambda: all(m.ready or m.over for m in team), START_TIMEOUT_S)
        ready_s = time.monotonic() - t0
        if not ctx.cancelled and any(m.ready and not m.over for m in team):  # a dead one is reported, not awaited
            for m in team:
                m.say(b"go\n")
            reported = time.monotonic()

            def all_over() -> bool:
                nonlocal reported
                if time.monotonic() - reported >= SAMPLE_S:
                    reported = time.monotonic()
                    on_progress(sum(m.n for m in team),
                                tuple((f"member {m.spec.index}", tuple(m.samples)) for m in team))
                return all(m.over for m in team)

            _collect(team, inbox, ctx, all_over, None)
        for m in team:  # a cancel, a dead member or the end: the others stop and send what they measured
            m.say(b"stop\n")
        _collect(team, inbox, None, lambda: all(m.over for m in team), REPORT_GRACE_S)
    finally:
        for m in team:
            m.say(b"stop\n")
        for m in team:
            m.stop()
    for m in team:
        if not m.over:
            m.died = (f"sent no report within {REPORT_GRACE_S:.0f} s of being asked to stop (exit code "
                      f"{m.proc.returncode})")
    return MembersOutcome(tuple(_result(m, t0) for m in team), ready_s,
                          tuple(m.report.points if m.report else () for m in team))


def _collect(team: list[_Member], inbox: queue.Queue[tuple[Any, ...]], ctx: RunContext | None,
             done: Callable[[], bool], timeout_s: float | None) -> None:
    """Read the members' messages until ``done()``, a cancel, or ``timeout_s``; a member whose output ended
    without its report is marked dead (not waited for)."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not done():
        if ctx is not None and ctx.cancelled:
            return
        if deadline is not None and time.monotonic() > deadline:
            if ctx is not None and not any(m.ready for m in team):
                raise ClusterError(f"No member process was ready within {timeout_s:.0f} s.",
                                   hint="The machine may be overloaded; try fewer members.")
            return
        with contextlib.suppress(queue.Empty):
            _take(team, inbox.get(timeout=POLL_S))


def _take(team: list[_Member], msg: tuple[Any, ...]) -> None:
    kind, index = msg[0], msg[1]
    m = team[index]
    if kind == "ready":
        m.ready, m.pid = True, msg[2]
    elif kind == "progress":
        m.n, m.nbytes = msg[2], msg[3]
        m.samples.extend(msg[4])
    elif kind == "done":
        m.report = msg[2]
    elif kind == "failed":
        m.died = str(msg[2]).strip().splitlines()[0]
    elif kind == "eof" and not m.over:
        code = m.proc.wait(STOP_GRACE_S) if m.proc.poll() is None else m.proc.returncode
        m.died = f"its process ended with exit code {code} before reporting" + (
            f" ({tail})" if (tail := m.stderr_tail()) else "")


def _result(m: _Member, t0: float) -> MemberResult:
    """One member's figures; a dead member's are what it reported before it died."""
    r = m.report
    if r is None:
        span = 0.0
        return MemberResult(m.spec.index, m.spec.partitions, m.n, m.nbytes, m.spec.target, float("nan"), span,
                            0.0, 0.0, summary([], 0.0), tuple(m.samples), 0.0, {}, m.died or "no report", m.pid)
    first = (r.first - t0) if r.first is not None else float("nan")
    span = (r.last - r.first) if r.first is not None and r.last is not None else 0.0
    return MemberResult(m.spec.index, m.spec.partitions, r.consumed, r.bytes, m.spec.target, first, span,
                        rate(r.consumed, span), mb(rate(r.bytes, span)), summary(r.points, span), r.samples,
                        r.cpu_s, r.errors, m.died, r.pid, r.cpu_wait_s)


__all__ = ["MemberReport", "MemberSpec", "MembersOutcome", "child_main", "member_main", "partition_sizes",
           "run_members"]
