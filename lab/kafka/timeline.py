"""Samples and events on one clock: what a scenario saw (partition snapshots, ISR/leader/epoch events),
what its background producer got (per-second delivery counts) and what it did (steps), all in seconds
since the recording started, so every live chart shares one time axis.

``Timeline`` is the frozen record (with its frames for ``lab.charts``); ``Recorder`` builds it while a
scenario runs: it polls an ``Observer``, reports the timeline as the run's live partial result, and
lets the scenario wait for the changes it causes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.cluster.base import Cluster
from lab.core.errors import ClusterError, SettingsError
from lab.kafka.load import BackgroundProducer, ProduceSample
from lab.kafka.observe import Observer, ReplicationEvent, Snapshot, detect_events, format_ids

if TYPE_CHECKING:
    import pandas as pd

    from lab.core.context import RunContext

#: The recorder's poll period: ISR changes take seconds (replica.lag.time.max.ms), so 1 s sees each one.
POLL_INTERVAL_S = 1.0
#: How long a scenario waits for an ISR change, a leader election or a restarted broker to rejoin.
CHANGE_TIMEOUT_S = 60.0
#: The shortest pause between two polls, even after a poll that took longer than the interval.
MIN_PAUSE_S = 0.05


@dataclass(frozen=True)
class Step:
    """Something the scenario did (or asked the user to do) at time ``t``: drawn as a rule on the charts."""

    t: float
    label: str


@dataclass(frozen=True)
class Timeline:
    """Everything recorded on one time axis (seconds since the recording started)."""

    snapshots: tuple[Snapshot, ...] = ()
    events: tuple[ReplicationEvent, ...] = ()
    produce: tuple[ProduceSample, ...] = ()
    steps: tuple[Step, ...] = ()
    leo_note: str = ""

    # --- frames for lab.charts -----------------------------------------------------------------
    def isr_frame(self) -> pd.DataFrame:
        """One row per (snapshot, partition): t, partition label, ISR size, replicas, leader, epoch."""
        import pandas as pd

        rows = [{"t": s.t, "partition": f"{p.topic}[{p.partition}]", "isr_size": len(p.isr),
                 "replicas": len(p.replicas), "isr": format_ids(p.isr), "leader": p.leader,
                 "leader_epoch": p.leader_epoch} for s in self.snapshots for p in s.partitions]
        return pd.DataFrame(rows, columns=["t", "partition", "isr_size", "replicas", "isr", "leader", "leader_epoch"])

    def events_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{"t": e.t, "partition": f"{e.topic}[{e.partition}]", "event": e.kind.value, "detail": e.detail,
                 "leader": e.leader, "isr": format_ids(e.isr), "leader_epoch": e.leader_epoch} for e in self.events]
        return pd.DataFrame(rows, columns=["t", "partition", "event", "detail", "leader", "isr", "leader_epoch"])

    def produce_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [{"t": s.t, "acked": s.acked, "failed": s.failed,
                 "errors": ", ".join(f"{k}×{v}" for k, v in s.errors.items()),
                 "max_latency_ms": s.max_latency_ms} for s in self.produce]
        return pd.DataFrame(rows, columns=["t", "acked", "failed", "errors", "max_latency_ms"])

    def offsets_frame(self) -> pd.DataFrame:
        """Long form for HW-vs-LEO lines: t, partition, series ("HW" or "LEO broker N"), offset, stale."""
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for s in self.snapshots:
            for p in s.partitions:
                label = f"{p.topic}[{p.partition}]"
                if p.high_watermark is not None:
                    rows.append({"t": s.t, "partition": label, "series": "high watermark", "offset": p.high_watermark,
                                 "stale": False})
                for b, leo in sorted(p.log_end_offsets.items()):
                    if leo is not None:
                        role = "leader" if b == p.leader else "follower"
                        rows.append({"t": s.t, "partition": label, "series": f"LEO broker {b} ({role})",
                                     "offset": leo, "stale": b in p.stale_leo})
        return pd.DataFrame(rows, columns=["t", "partition", "series", "offset", "stale"])

    def steps_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"t": s.t, "step": s.label} for s in self.steps], columns=["t", "step"])


class Recorder:
    """Polls an ``Observer`` and keeps the timeline; scenarios wait on it for the changes they cause.

    Every wait honours the run's cancel and time bound (``Cancelled`` is raised out of ``wait_until``,
    ``hold`` and ``pause``); ``timeline()`` is what was recorded so far either way. Owned with ``with``.
    """

    def __init__(self, cluster: Cluster, topics: list[str], ctx: RunContext,
                 interval_s: float = POLL_INTERVAL_S) -> None:
        self.cluster = cluster
        self.ctx = ctx
        self.interval_s = interval_s
        self.observer = Observer(cluster, topics)
        self.t0 = time.monotonic()
        self.snapshots: list[Snapshot] = []
        self.events: list[ReplicationEvent] = []
        self.steps: list[Step] = []
        #: a background producer whose samples join the timeline (set by the scenario that runs one)
        self.producer: BackgroundProducer | None = None
        self.message = ""
        self.poll_errors = 0
        self._leo_note = self.observer.leo_note()
        self._epochs: dict[tuple[str, int], int] = {}
        self._poll_started = time.monotonic()

    def close(self) -> None:
        self.observer.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> float:
        return time.monotonic() - self.t0

    @property
    def last(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def step(self, label: str) -> None:
        self.steps.append(Step(round(self.now(), 3), label))
        self.message = label
        self.report()

    def pause(self) -> None:
        """Sleep what is left of the poll interval since the last poll began (a slow poll eats into it)."""
        self.ctx.sleep(max(MIN_PAUSE_S, self.interval_s - (time.monotonic() - self._poll_started)))

    def poll(self) -> Snapshot | None:
        """One snapshot (None when the cluster did not answer this time: counted, not raised)."""
        self._poll_started = time.monotonic()
        try:
            snap = self.observer.snapshot(self.now())
        except SettingsError:
            raise
        except Exception:  # a poll that fails (cluster in flux) is a gap on the charts, not the end of the run
            self.poll_errors += 1
            return None
        self.events.extend(detect_events(self.last, snap, self._epochs))
        self.snapshots.append(snap)
        for p in snap.partitions:
            if p.leader_epoch is not None:
                self._epochs[(p.topic, p.partition)] = p.leader_epoch
        return snap

    def timeline(self) -> Timeline:
        return Timeline(tuple(self.snapshots), tuple(self.events),
                        tuple(self.producer.samples()) if self.producer else (), tuple(self.steps), self._leo_note)

    def report(self, fraction: float | None = None) -> None:
        self.ctx.report(fraction, self.message, self.timeline())

    def wait_until(self, pred: Callable[[Snapshot], bool], what: str, timeout_s: float = CHANGE_TIMEOUT_S) -> float:
        """Poll until ``pred(snapshot)`` holds; return the seconds it took.

        Raises ``ClusterError`` on timeout and ``Cancelled`` on cancel. (Not ``poll_until``: the pause
        after each poll is what is left of the interval, so a slow poll does not thin out the chart.)
        """
        start = time.monotonic()
        self.message = f"waiting: {what}"
        while True:
            snap = self.poll()
            self.report()
            if snap is not None and pred(snap):
                return time.monotonic() - start
            if time.monotonic() - start > timeout_s:
                raise ClusterError(f"Gave up after {timeout_s:.0f} s waiting for: {what}.",
                                   hint="The cluster is slow or a broker did not come back; "
                                        "`kafka-lab cluster status` shows each broker.")
            self.pause()

    def hold(self, seconds: float, what: str) -> None:
        """Keep polling for ``seconds`` (to show a steady state on the charts)."""
        end = time.monotonic() + seconds
        self.message = what
        while time.monotonic() < end:
            self.poll()
            self.report()
            self.ctx.sleep(max(0.0, min(self.interval_s - (time.monotonic() - self._poll_started),
                                        end - time.monotonic())))
