"""A member that dies: one share consumer, a process of its own (``lab.queues.victim``), acquires a few
records and is killed (SIGKILL) in the middle of processing the first; the surviving members, threads of
this process, go on with the backlog. The dead member's records are locked to it until the group's
acquisition lock (``share.record.lock.duration.ms``) runs out; then the broker hands them to the others,
with a delivery count of 2. Measured: from the kill, and from the acquisition, to each redelivery.

Fresh topic and group per run; the victim is always stopped and reaped, the members closed, the topic
deleted.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass

from lab.cluster.base import Cluster
from lab.core import subprocs
from lab.core.context import RunContext, poll_until
from lab.core.errors import LabError
from lab.core.results import Result
from lab.kafka import topics
from lab.queues import backlog, tally
from lab.queues.members import Delivery, Members
from lab.queues.settings import ShareCrashSettings

#: How long the victim processes its first record before it is killed (s): mid-record, survivors running.
MID_RECORD_S = 0.5
#: The victim's start (a Python process, a client, the group join, a first fetch) may take this long (s).
VICTIM_START_S = 60.0
JOIN_ALLOWANCE_S = 30.0
VICTIM = "victim"


@dataclass(frozen=True)
class VictimRecord:
    """A record the killed member had acquired, and when the others got it again."""

    partition: int
    offset: int
    seq: int | None
    #: its first redelivery to a surviving member (s on the run's clock), None if it never came
    redelivered_at: float | None
    #: the delivery count the survivor saw (2 after one expired lock)
    redelivery_count: int | None


@dataclass(frozen=True)
class ShareCrashResult(Result):
    settings: ShareCrashSettings
    topic: str
    group: str
    group_configs: dict[str, str]
    members: tuple[str, ...]
    #: when the victim reported its records (acquired) and when it was killed (s on the run's clock)
    acquired_at: float
    killed_at: float
    victim_records: tuple[VictimRecord, ...]
    deliveries: tuple[Delivery, ...]
    #: every record accepted by a survivor
    complete: bool

    @property
    def lock_s(self) -> float:
        return self.settings.lock_duration_ms / 1000.0

    @property
    def after_kill_s(self) -> list[float]:
        return [v.redelivered_at - self.killed_at for v in self.victim_records if v.redelivered_at is not None]

    @property
    def after_acquire_s(self) -> list[float]:
        return [v.redelivered_at - self.acquired_at for v in self.victim_records if v.redelivered_at is not None]


def time_limit_for(s: ShareCrashSettings) -> float:
    work = s.records * s.processing_delay_ms / 1000.0 / s.members
    return VICTIM_START_S + JOIN_ALLOWANCE_S + work + 2 * s.lock_duration_ms / 1000.0 + 60.0


class _Victim:
    """The victim process and the lines it printed (read on a thread that ends when its stdout closes)."""

    def __init__(self, proc: subprocess.Popen[str], t0: float) -> None:
        self.proc, self.t0 = proc, t0
        self.lines: list[tuple[float, dict[str, object]]] = []
        self._thread = threading.Thread(target=self._read, name="lab-share-victim-out", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.lines.append((time.monotonic() - self.t0, json.loads(line)))
            except ValueError:
                continue

    def processing(self) -> bool:
        return any(d.get("processing") for _t, d in list(self.lines))

    def stop(self) -> None:
        subprocs.stop(self.proc, 1.0)
        self._thread.join(5.0)
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()


def run(cluster: Cluster, settings: ShareCrashSettings, ctx: RunContext) -> ShareCrashResult:
    """Start the victim, let it acquire, start the survivors, fail the victim mid-record, wait until every
    record is accepted by a survivor."""
    s = settings
    topic = backlog.fresh_backlog(cluster, s.partitions, s.records, ctx)
    group = f"lab-share-crash-{uuid.uuid4().hex[:8]}"
    names = tuple(f"share-{i}" for i in range(1, s.members + 1))
    victim: _Victim | None = None
    try:
        configs = backlog.configure_group(cluster, group, lock_ms=s.lock_duration_ms)
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "lab.queues.victim"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        victim = _Victim(proc, t0)
        assert proc.stdin is not None
        proc.stdin.write(json.dumps({"client": dict(cluster.client_config()), "group": group, "topic": topic,
                                     "max_poll_records": s.max_poll_records}) + "\n")
        proc.stdin.flush()
        ctx.report(None, "the member that will die joins and acquires its first records")
        if not poll_until(lambda: victim.processing() or proc.poll() is not None, VICTIM_START_S, ctx, every_s=0.05) \
                or not victim.processing():
            raise LabError("The share consumer to be killed acquired no record.",
                           hint=f"It ran {VICTIM_START_S:.0f} s (or exited with {proc.poll()}); check the cluster "
                                "with `kafka-lab cluster status`.")
        held = [d for _t, d in victim.lines if "offset" in d]
        acquired_at = min(t for t, d in victim.lines if "offset" in d)
        with Members(cluster, topic, group, ctx, t0, processing_delay_ms=s.processing_delay_ms,
                     max_poll_records=s.max_poll_records) as team:
            for m in names:
                team.add(m)
            ctx.wait(MID_RECORD_S)
            if s.failure == "kill":
                proc.kill()  # SIGKILL, mid-record: no acknowledgement, no leave; the OS closes its connections
                proc.wait()
            else:
                proc.send_signal(signal.SIGSTOP)  # hung mid-record: connections open, no heartbeat, no fetch
            killed_at = round(time.monotonic() - t0, 4)
            verb = "killed" if s.failure == "kill" else "froze"
            ctx.report(None, f"{verb} the member holding {len(held)} record(s); waiting for them to come back "
                             f"(lock {s.lock_duration_ms / 1000:g} s)")

            def finished(ds: list[Delivery]) -> bool:
                return len({d.seq for d in tally.lab_records(ds) if d.ack == "accept"}) >= s.records

            work = s.records * s.processing_delay_ms / 1000.0 / s.members
            complete = team.wait(finished, JOIN_ALLOWANCE_S + work + 2 * s.lock_duration_ms / 1000.0)
        ds = team.deliveries()
    finally:
        if victim is not None:
            victim.stop()
        topics.delete_topics(cluster, [topic])
    records = []
    for d in held:
        p, o = int(d["partition"]), int(d["offset"])  # type: ignore[call-overload]
        again = sorted((x for x in ds if x.partition == p and x.offset == o), key=lambda x: x.t)
        records.append(VictimRecord(p, o, d.get("seq"), again[0].t if again else None,  # type: ignore[arg-type]
                                    again[0].delivery_count if again else None))
    return ShareCrashResult(s, topic, group, configs, (VICTIM, *names), round(acquired_at, 4), killed_at,
                            tuple(records), tuple(ds), complete,
                            stopped=ctx.stopped_text() if ctx.cancelled else None)


__all__ = ["ShareCrashResult", "VictimRecord", "run", "time_limit_for"]
