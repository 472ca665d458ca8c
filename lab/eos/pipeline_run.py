"""The exactly-once pipeline scenario: the pipeline process (``lab.eos.pipeline``) SIGKILLed mid-run and
started again, in exactly-once and at-least-once mode, and its output counted against its input.

Per mode: fresh input and output topics; a background producer writes ``records`` numbered records to
the input at ``rate_per_s``; the pipeline process runs, is SIGKILLed ``kills`` times once its output
has reached given fractions of the input and started again ``restart_after_s`` later with the same
``transactional.id`` and group; then (``kill_broker``) the leader broker of an output partition is
SIGKILLed and started again ``BROKER_DOWN_S`` later; once the input is all written and the pipeline's committed offsets
have reached its end, the pipeline is stopped (SIGTERM) and the output is read with ``read_committed``.
Every pipeline process is stopped, and every broker running again, however the scenario ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaException, TopicPartition

from lab.cluster import clients
from lab.cluster.base import BrokerAction, Cluster
from lab.core import subprocs
from lab.core.context import poll_until
from lab.core.errors import Cancelled, KafkaOperationError
from lab.core.results import Result
from lab.eos import logs, sequence
from lab.eos.settings import PIPELINE_MODES, PipelineSettings
from lab.kafka import admin as lab_admin
from lab.kafka import faults
from lab.kafka.timeline import Step

if TYPE_CHECKING:
    from lab.core.context import RunContext
#: How often the scenario samples offsets and checks on the process.
SAMPLE_EVERY_S = 0.5
#: How long a SIGTERMed pipeline may take to finish its round and exit before it is killed.
STOP_TIMEOUT_S = 15.0
#: How long to wait for the pipeline to commit the end of the input once it is all written.
DRAIN_TIMEOUT_S = 60.0
#: A pipeline that exits by itself (an error) is started again at most this many times per mode.
MAX_UNPLANNED_RESTARTS = 10
#: The input producer's message.timeout.ms: long, so a slow cluster delays the input instead of losing it.
INPUT_TIMEOUT_MS = 120_000
#: Samples past a kill threshold to wait for a moment mid-round before killing anyway.
KILL_PATIENCE = 3
#: How long a pipeline process may take to start and finish its first (empty) round.
STARTUP_TIMEOUT_S = 60.0
#: How long the killed output leader stays down (longer than the test cluster's 4 s session timeout, so
#: leadership moves) before it is started again.
BROKER_DOWN_S = 6.0
#: Extra bound per mode for the broker kill: down time, restart, catching up.
BROKER_FAULT_BOUND_S = 90.0
#: Failed samples in a row after which the admin client is made afresh.
FRESH_ADMIN_AFTER = 4
#: The kill waits until at least 1/this of a round's records are written but not committed.
MID_ROUND_FRACTION = 5
#: Lines of a pipeline's output kept for the result (its last JSON lines, or its error).
LOG_TAIL_LINES = 5


@dataclass(frozen=True)
class PipelineSample:
    """Offsets summed over the partitions at ``t`` (seconds since the scenario started)."""

    t: float
    mode: str
    input_end: int
    output_end: int
    #: the output's last stable offset (what read_committed can see)
    output_stable: int
    #: the pipeline group's committed input offsets
    committed: int


@dataclass(frozen=True)
class PipelineModeRun:
    """One mode's run; the counts are None when the run was stopped before the read-back."""

    mode: str
    input_topic: str
    output_topic: str
    #: when each SIGKILL was sent, and how many pipeline processes ran in all
    kills_at_s: tuple[float, ...] = ()
    processes: int = 0
    #: exit status of each process (-9: SIGKILLed by the scenario)
    exit_codes: tuple[int, ...] = ()
    #: the output leader SIGKILLed by the scenario (None: not done), and when
    broker_killed: int | None = None
    broker_killed_at_s: float | None = None
    input_records: int | None = None
    output_records: int | None = None
    distinct: int | None = None
    duplicates: int | None = None
    missing: int | None = None
    duplicated_sample: dict[int, int] = field(default_factory=dict)
    log_tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineResult(Result):
    settings: PipelineSettings
    runs: tuple[PipelineModeRun, ...]
    samples: tuple[PipelineSample, ...] = ()
    steps: tuple[Step, ...] = ()


class InputWriter:
    """Writes ``records`` numbered records (``lab.eos.sequence``) to the input at ``rate_per_s`` in its own
    thread, with an idempotent producer, and waits for every delivery: the input is exact. Owned with
    ``with``; ``done`` once every record is acknowledged (or failed)."""

    def __init__(self, cluster: Cluster, topic: str, records: int, rate_per_s: int) -> None:
        self.topic, self.records, self.rate = topic, records, rate_per_s
        self._prod = clients.producer(cluster, {"enable.idempotence": True, "linger.ms": 5,
                                                "message.timeout.ms": INPUT_TIMEOUT_MS})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="lab-eos-input", daemon=True)
        self.sent = 0
        self.failed = 0
        self.done = threading.Event()

    def __enter__(self) -> InputWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(INPUT_TIMEOUT_MS / 1000 + 5)
        self._prod.purge(in_queue=True, in_flight=True, blocking=False)
        self._prod.flush(0)
        self._prod.close()

    def _main(self) -> None:
        due = time.monotonic()
        while self.sent < self.records and not self._stop.is_set():
            try:
                self._prod.produce(self.topic, sequence.encode(self.sent))
                self.sent += 1
            except BufferError:
                self._prod.poll(0.1)
                continue
            self._prod.poll(0)
            due += 1.0 / self.rate
            if (delay := due - time.monotonic()) > 0:
                self._stop.wait(delay)
        deadline = time.monotonic() + INPUT_TIMEOUT_MS / 1000 + 5
        while self._prod.flush(0.2) > 0 and not self._stop.is_set() and time.monotonic() < deadline:
            pass
        self.done.set()


class PipelineProcesses:
    """Owns the pipeline processes of one mode: ``start`` one, ``kill`` it, ``stop`` it; leaving the block
    kills whatever is still running."""

    def __init__(self, args: list[str], log_dir: Path) -> None:
        self.args = args
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> PipelineProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(STOP_TIMEOUT_S)

    @property
    def current(self) -> subprocess.Popen[bytes] | None:
        return self.procs[-1] if self.procs else None

    def write_client_config(self, config: dict[str, object]) -> str:
        """The cluster's connection settings (with any credentials) in a file only this user can read."""
        path = self.log_dir / "client.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({k: v for k, v in config.items() if isinstance(v, (str, int, float, bool))}, f)
        return str(path)

    def start(self) -> None:
        out = (self.log_dir / f"pipeline-{len(self.procs)}.log").open("wb")
        with out:  # the child has its own copy of the descriptor
            self.procs.append(subprocess.Popen([sys.executable, "-m", "lab.eos.pipeline", *self.args],
                                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

    def kill(self) -> None:
        p = self.current
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(STOP_TIMEOUT_S)

    def stop(self) -> None:
        if self.current is not None:
            subprocs.stop(self.current, STOP_TIMEOUT_S)

    def running(self) -> bool:
        """The current process has finished a round (it is connected, initialised and consuming)."""
        p = self.current
        if p is None or p.poll() is not None:
            return False
        log = self.log_dir / f"pipeline-{len(self.procs) - 1}.log"
        return b'"round"' in log.read_bytes() if log.exists() else False

    def exit_codes(self) -> tuple[int, ...]:
        return tuple(p.returncode for p in self.procs if p.returncode is not None)

    def log_tail(self) -> tuple[str, ...]:
        lines: list[str] = []
        for f in sorted(self.log_dir.glob("pipeline-*.log")):
            lines += [f"{f.stem}: {ln}" for ln in f.read_text(errors="replace").splitlines()[-2:]]
        return tuple(lines[-LOG_TAIL_LINES:])


class _Scenario:
    def __init__(self, cluster: Cluster, s: PipelineSettings, ctx: RunContext) -> None:
        self.cluster, self.s, self.ctx = cluster, s, ctx
        self.t0 = time.monotonic()
        self.adm = clients.admin(cluster)
        self.runs: list[PipelineModeRun] = []
        self.current: PipelineModeRun | None = None
        self.samples: list[PipelineSample] = []
        self.steps: list[Step] = []
        self.sample_errors = 0
        self.group = ""
        self.reader: Consumer | None = None

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def step(self, label: str) -> None:
        self.steps.append(Step(self.now(), label))
        self.report(label)

    def result(self, stopped: str | None = None) -> PipelineResult:
        runs = self.runs + ([self.current] if self.current is not None else [])
        return PipelineResult(self.s, tuple(runs), tuple(self.samples), tuple(self.steps), stopped=stopped)

    def report(self, message: str) -> None:
        self.ctx.report(len(self.runs) / len(PIPELINE_MODES[self.s.modes]), message, self.result())

    def sample(self, mode: str, run: PipelineModeRun) -> PipelineSample | None:
        """One sample; None when the cluster did not answer this time (a topic created a moment ago may not
        have reached the broker that answers yet)."""
        try:
            return self._sample(mode, run)
        except (KafkaOperationError, KafkaException):
            self.sample_errors += 1
            if self.sample_errors % FRESH_ADMIN_AFTER == 0:  # its metadata may be stuck on a topic recreated since
                self.adm = clients.admin(self.cluster)
                self.fresh_reader()  # and the reader's coordinator on a broker that died
            return None

    def fresh_reader(self) -> None:
        """A new reader of the pipeline group's committed offsets (the old one closed)."""
        if self.reader is not None:
            self.reader.close()
        self.reader = clients.consumer(self.cluster, {"group.id": self.group, "enable.auto.commit": False})

    def _sample(self, mode: str, run: PipelineModeRun) -> PipelineSample:
        s = self.s
        inp = logs.end_offsets(self.adm, run.input_topic, s.partitions, "read_uncommitted")
        stable = logs.end_offsets(self.adm, run.output_topic, s.partitions, "read_committed")  # before the HW
        out = logs.end_offsets(self.adm, run.output_topic, s.partitions, "read_uncommitted")
        tps = [TopicPartition(run.input_topic, p) for p in range(s.partitions)]
        assert self.reader is not None
        got = self.reader.committed(tps, timeout=logs.OFFSETS_TIMEOUT_S)
        if failed := [tp for tp in got if tp.error is not None]:  # a partial sum would read as "not committed yet"
            raise KafkaOperationError(f"Reading the committed offsets of {run.input_topic} failed: "
                                      f"{', '.join(f'[{tp.partition}] {tp.error}' for tp in failed)}")
        sample = PipelineSample(self.now(), mode, sum(inp.values()), sum(out.values()), sum(stable.values()),
                                sum(tp.offset for tp in got if tp.offset >= 0))
        self.samples.append(sample)
        return sample

    def one(self, mode: str) -> None:
        s, ctx = self.s, self.ctx
        tag = "eos" if mode == "exactly-once" else "alo"
        run = PipelineModeRun(mode, f"{s.topic_prefix}-{tag}-in", f"{s.topic_prefix}-{tag}-out")
        self.current = run
        self.step(f"{mode}: creating {run.input_topic} and {run.output_topic}")
        assignment = [[1 + (p + k) % 3 for k in range(3)] for p in range(s.partitions)]
        for t in (run.input_topic, run.output_topic):
            lab_admin.recreate_topic(self.cluster, t, assignment, {"min.insync.replicas": "2"}, ctx)
        # a client made before the topics were recreated may keep the old ones' metadata ("no leaders found")
        self.adm = clients.admin(self.cluster)
        uid = uuid.uuid4().hex[:8]
        group = f"lab-eos-pipeline-{tag}-{uid}"
        args = ["--bootstrap", self.cluster.bootstrap_servers(), "--input", run.input_topic, "--output",
                run.output_topic, "--partitions", str(s.partitions), "--group", group, "--mode", mode,
                "--transactional-id", f"lab-eos-pipeline-{uid}", "--commit-interval-ms", str(s.commit_interval_ms)]
        self.group = group
        self.fresh_reader()
        try:
            with tempfile.TemporaryDirectory(prefix="lab-eos-pipeline-") as tmp, \
                    PipelineProcesses(args, Path(tmp)) as procs:
                procs.args += ["--client-config", procs.write_client_config(dict(self.cluster.client_config()))]
                try:
                    self._drive(mode, procs)
                finally:
                    procs.stop()
                    self.current = run = _replace(self.current, processes=len(procs.procs),
                                                  exit_codes=procs.exit_codes(), log_tail=procs.log_tail())
        finally:
            if self.reader is not None:
                self.reader.close()
                self.reader = None
        if not ctx.cancelled:
            self.step(f"{mode}: reading the output back (read_committed)")
            self.current = _count(self.cluster, run, s.partitions)
        self.runs.append(self.current)
        self.current = None

    def _drive(self, mode: str, procs: PipelineProcesses) -> None:
        s, ctx = self.s, self.ctx
        assert self.current is not None
        thresholds = s.kill_thresholds()
        kills: list[float] = []
        unplanned = 0
        waited = 0  # samples since the output reached the next kill threshold
        broker_due = s.kill_broker and self.cluster.controls_enabled
        procs.start()
        self.step(f"{mode}: pipeline starting")
        if not poll_until(procs.running, STARTUP_TIMEOUT_S, ctx, every_s=0.2):
            raise _Overran(f"stopped early: the {mode} pipeline did not finish a round within "
                           f"{STARTUP_TIMEOUT_S:.0f} s of starting; its log lines are in the result")
        with InputWriter(self.cluster, self.current.input_topic, s.records, s.rate_per_s) as inp:
            self.step(f"{mode}: pipeline running; input at {s.rate_per_s} records/s")
            deadline = (time.monotonic() + s.records / s.rate_per_s + DRAIN_TIMEOUT_S + s.kills * 30
                        + (BROKER_FAULT_BOUND_S if broker_due else 0.0))
            while time.monotonic() < deadline:
                smp = self.sample(mode, self.current)
                cur = procs.current
                if smp is None:
                    if cur is not None and cur.poll() is not None and unplanned < MAX_UNPLANNED_RESTARTS:
                        unplanned += 1
                        self.step(f"{mode}: pipeline exited by itself (status {cur.returncode}); starting it again")
                        procs.start()
                    if ctx.wait(SAMPLE_EVERY_S):
                        raise Cancelled(ctx.stopped_text())
                    continue
                if inp.done.is_set() and smp.committed >= smp.input_end > 0 and not broker_due:
                    break  # (a broker kill still due happens first: the output is past its threshold by then)
                waited = waited + 1 if thresholds and smp.output_end >= thresholds[0] else 0
                if thresholds and waited and (self._mid_round(mode, smp) or waited > KILL_PATIENCE):
                    thresholds.pop(0)
                    procs.kill()
                    kills.append(self.now())
                    self.current = _replace(self.current, kills_at_s=tuple(kills), processes=len(procs.procs))
                    self.step(f"{mode}: pipeline SIGKILLed at {smp.output_end} output offsets")
                    if ctx.wait(s.restart_after_s):
                        raise Cancelled(ctx.stopped_text())
                    procs.start()
                    self.step(f"{mode}: pipeline started again (same "
                              f"{'transactional.id and ' if mode == 'exactly-once' else ''}group)")
                elif broker_due and not thresholds and smp.output_end >= s.broker_threshold():
                    broker_due = False
                    self._kill_output_leader(mode)
                elif cur is not None and cur.poll() is not None and unplanned < MAX_UNPLANNED_RESTARTS:
                    unplanned += 1
                    self.step(f"{mode}: pipeline exited by itself (status {cur.returncode}); starting it again")
                    procs.start()
                self.report(f"{mode}: input {smp.input_end}, output {smp.output_end}, committed {smp.committed}")
                if ctx.wait(SAMPLE_EVERY_S):
                    raise Cancelled(ctx.stopped_text())
            else:
                last = self.samples[-1] if self.samples else None
                raise _Overran(f"stopped early: the {mode} pipeline did not commit the end of its input in time "
                               f"(last sample: {last}); its log lines are in the result")
        self.step(f"{mode}: input consumed to its end; stopping the pipeline (SIGTERM)")


    def _kill_output_leader(self, mode: str) -> None:
        """SIGKILL the leader of output partition 0, keep sampling while it is down, start it again."""
        assert self.current is not None
        topic = self.current.output_topic
        leader = self.adm.list_topics(topic, timeout=logs.OFFSETS_TIMEOUT_S).topics[topic].partitions[0].leader
        if leader < 0:
            return
        self.cluster.broker(BrokerAction.KILL, leader, lease=self.ctx.lease)
        self.current = _replace(self.current, broker_killed=leader, broker_killed_at_s=self.now())
        self.step(f"{mode}: broker {leader} (leader of {topic}[0]) SIGKILLed")
        end = time.monotonic() + BROKER_DOWN_S
        while time.monotonic() < end:
            self.sample(mode, self.current)
            self.report(f"{mode}: broker {leader} down")
            if self.ctx.wait(SAMPLE_EVERY_S):
                raise Cancelled(self.ctx.stopped_text())
        self.cluster.broker(BrokerAction.START, leader, lease=self.ctx.lease)
        self.step(f"{mode}: broker {leader} started again")

    def _mid_round(self, mode: str, smp: PipelineSample) -> bool:
        """The output holds records whose round is not committed yet (the moment a crash matters): records
        of the open transaction (above the LSO), or, at-least-once, records beyond the committed input."""
        pending = smp.output_end - (smp.output_stable if mode == "exactly-once" else smp.committed)
        return pending >= max(1, self.s.rate_per_s * self.s.commit_interval_ms // 1000 // MID_ROUND_FRACTION)


class _Overran(Exception):
    """The pipeline did not get through its input within the scenario's bound: the run stops with this text."""


def _replace(run: PipelineModeRun | None, **changes: object) -> PipelineModeRun:
    assert run is not None
    return dataclasses.replace(run, **changes)  # type: ignore[arg-type]


def _count(cluster: Cluster, run: PipelineModeRun, partitions: int) -> PipelineModeRun:
    """Input (everything written) against output (read_committed): duplicates and missing records."""
    inp = [r.seq for r in logs.read_all(cluster, run.input_topic, partitions, "read_uncommitted")]
    out = Counter(r.seq for r in logs.read_all(cluster, run.output_topic, partitions, "read_committed"))
    dup = {n: c for n, c in sorted(out.items()) if c > 1}
    return _replace(run, input_records=len(inp), output_records=sum(out.values()), distinct=len(out),
                    duplicates=sum(out.values()) - len(out), missing=len(set(inp) - out.keys()),
                    duplicated_sample=dict(list(dup.items())[:20]))


def time_limit_for(s: PipelineSettings) -> float:
    """The scenario's bound: per mode, the input's duration, the drain, the restarts and the read-back."""
    per_mode = (s.records / s.rate_per_s + DRAIN_TIMEOUT_S + STARTUP_TIMEOUT_S * (s.kills + 1) + 60.0
                + (BROKER_FAULT_BOUND_S if s.kill_broker else 0.0))
    return per_mode * len(PIPELINE_MODES[s.modes])


def pipeline_scenario(cluster: Cluster, settings: PipelineSettings, ctx: RunContext) -> PipelineResult:
    """Run the pipeline through its kills in each mode (see the module docstring)."""
    sc = _Scenario(cluster, settings, ctx)
    stopped: str | None = None
    try:
        with contextlib.suppress(Cancelled), faults.restoring(cluster, ctx):
            for mode in PIPELINE_MODES[settings.modes]:
                sc.one(mode)
                if ctx.cancelled:
                    break
    except _Overran as exc:
        stopped = str(exc)
    if ctx.cancelled:
        stopped = ctx.stopped_text()
    return sc.result(stopped)
