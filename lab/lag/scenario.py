"""Make lag happen, on purpose, so a class can watch it: a producer at a fixed rate and a consumer group
whose members spend a set time per record, so the group's capacity is below the rate.

Phases, each ``phase_s`` long, on one clock, lag sampled about once a second (``lab.lag.sample``):

- ``slow``       one member (capacity 1000 / processing_delay_ms records/s, below the rate): lag grows, WARN;
- ``scale-out``  members added up to the partition count: capacity above the rate, lag drains;
- ``stall``      the members replaced by ones that consume but never commit: the committed offsets stand
                 still while the log grows, STALL;
- ``stop``       no member at all: nothing is committed for longer than the window, STOP.

Fresh topic and group per run; the producer and every member are owned and always stopped, the topic
deleted. A cancelled run returns what it sampled.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from lab.cluster.base import Cluster
from lab.consumer.groups import GroupRunner
from lab.consumer.settings import ConsumerSettings
from lab.core.context import RunContext
from lab.core.results import Result
from lab.kafka import topics
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings
from lab.lag import sample as lag
from lab.lag.settings import LagDemoSettings, LagWatchSettings
from lab.lag.status import GroupStatus
from lab.lag.watch import LagWatchResult, group_reason, judge

#: Keys the producer cycles through, so records spread evenly over the partitions.
KEYS = 64
TOPIC_PREFIX = "lab-lag-demo-"
#: Minimum distance between the status window's samples (seconds): twice the members' auto-commit interval.
WINDOW_SPACING_S = 2.0


@dataclass(frozen=True)
class LagDemoPhase:
    name: str
    start_s: float
    end_s: float
    members: int
    lag_start: int
    lag_end: int
    #: the group's status at the end of the phase, and the worst partition's reason
    status: GroupStatus
    reason: str


@dataclass(frozen=True)
class LagDemoResult(Result):
    settings: LagDemoSettings
    topic: str
    group: str
    #: every lag sample and the final statuses, as the lag watch reports them
    watch: LagWatchResult
    phases: tuple[LagDemoPhase, ...]


def time_limit_for(settings: LagDemoSettings) -> float:
    return settings.phase_s * len(settings.phases) + 90.0


def run(cluster: Cluster, settings: LagDemoSettings, ctx: RunContext) -> LagDemoResult:
    """The phases in order (see the module docstring)."""
    topic = topics.fresh_topic(cluster, settings.partitions, 3, prefix=TOPIC_PREFIX, purpose="the lag scenario",
                               ctx=ctx)
    group = f"lab-lag-demo-{uuid.uuid4().hex[:8]}"
    # samples 2 s apart in the window: the members auto-commit every second, so 1 s samples would see the
    # committed offsets step rather than the trend
    watch_settings = LagWatchSettings(group, settings.phase_s * len(settings.phases), 1.0,
                                      window_samples=settings.window_samples, min_distance_s=WINDOW_SPACING_S)
    state = _Demo(cluster, settings, watch_settings, topic, group, ctx)
    try:
        state.run()
    finally:
        topics.delete_topics(cluster, [topic])
    return state.result(ctx.stopped_text() if ctx.cancelled else None)


class _Demo:
    """The run's moving parts: producer, group runners, samples, phases."""

    def __init__(self, cluster: Cluster, settings: LagDemoSettings, watch: LagWatchSettings, topic: str,
                 group: str, ctx: RunContext) -> None:
        self.cluster, self.settings, self.watch, self.topic, self.group, self.ctx = (cluster, settings, watch,
                                                                                     topic, group, ctx)
        self.adm = cluster.admin()
        self.samples: list[lag.LagSample] = []
        self.phases: list[LagDemoPhase] = []
        self.t0 = 0.0

    def consumer(self, commit: bool) -> ConsumerSettings:
        return ConsumerSettings(topic=self.topic, processing_delay_ms=float(self.settings.processing_delay_ms),
                                enable_auto_commit=commit, auto_commit_interval_ms=1000,
                                auto_offset_reset="earliest", fetch_wait_max_ms=100)

    def result(self, stopped: str | None = None) -> LagDemoResult:
        samples = tuple(self.samples)
        verdicts, status = judge(self.watch, samples)
        w = LagWatchResult(self.watch, samples, verdicts, status)
        return LagDemoResult(self.settings, self.topic, self.group, w, tuple(self.phases), stopped=stopped)

    def run(self) -> None:
        self.t0 = time.monotonic()
        prod = BackgroundProducerSettings(self.settings.rate_per_s, acks="1", keys=KEYS)
        committing = GroupRunner(self.cluster, self.group, [self.topic], self.consumer(True), self.ctx, self.t0)
        silent = GroupRunner(self.cluster, self.group, [self.topic], self.consumer(False), self.ctx, self.t0)
        with BackgroundProducer(self.cluster, self.topic, prod, self.t0, ctx=self.ctx), committing, silent:
            for name in self.settings.phases:
                if self.ctx.cancelled:
                    return
                members = self.enter(name, committing, silent)
                self.hold(name, members)

    def enter(self, name: str, committing: GroupRunner, silent: GroupRunner) -> int:
        """Change the group for phase ``name``; returns how many members it has now."""
        if name == "slow":
            for m in list(committing.members) + list(silent.members):
                (committing if m in committing.members else silent).remove(m)
            committing.add("member-1")
        elif name == "scale-out":
            for i in range(len(committing.members) + 1, self.settings.partitions + 1):
                committing.add(f"member-{i}")
        elif name == "stall":
            for m in list(committing.members):
                committing.remove(m)
            for i in range(1, self.settings.partitions + 1):
                silent.add(f"no-commit-{i}")
        else:  # stop
            for runner in (committing, silent):
                for m in list(runner.members):
                    runner.remove(m)
        return len(committing.members) + len(silent.members)

    def hold(self, name: str, members: int) -> None:
        """Sample once a second for the phase's length; record how it ended."""
        start = time.monotonic() - self.t0
        first_lag: int | None = None
        next_at = time.monotonic()
        while time.monotonic() - self.t0 - start < self.settings.phase_s:
            try:
                s = lag.sample(self.cluster, self.group, admin=self.adm, t0=self.t0)
                self.samples.append(s)
                first_lag = s.total_lag if first_lag is None else first_lag
            except Exception:  # noqa: BLE001 - a slow answer costs one sample, not the run
                pass
            last = self.samples[-1] if self.samples else None
            total_s = self.settings.phase_s * len(self.settings.phases)
            self.ctx.report(min(1.0, (time.monotonic() - self.t0) / total_s),
                            f"{name}: {members} member(s), total lag {last.total_lag if last else 0:,}",
                            self.result())
            next_at += 1.0
            if self.ctx.wait(max(0.0, next_at - time.monotonic())):
                break
        samples = tuple(self.samples)
        verdicts, status = judge(self.watch, samples)
        last_lag = self.samples[-1].total_lag if self.samples else 0
        self.phases.append(LagDemoPhase(name, round(start, 2), round(time.monotonic() - self.t0, 2), members,
                                        first_lag or 0, last_lag, status, group_reason(self.watch, samples, verdicts)))
