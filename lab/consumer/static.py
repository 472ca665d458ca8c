"""Static membership (KIP-345, ``group.instance.id``) against dynamic members: one member closes and comes back.

Three cases, each on a fresh topic and group of ``members`` consumers (``lab.consumer.groups``):

- ``static, back in time``: a static member closes (a static member sends no LeaveGroup) and a new
  consumer with the same ``group.instance.id`` joins within ``session.timeout.ms``: the coordinator hands
  it the old partitions; the *other* members get no callback and the generation stays the same;
- ``dynamic``: the same with dynamic members: the close is a LeaveGroup, so one rebalance for the leave
  and one for the return;
- ``static, away too long``: the static member stays away longer than the session timeout: the
  coordinator removes it (a rebalance), and its return is another.

The restarted member always sees revoke/assign itself (its consumer is new), so the verdict is the other
members' callbacks plus the generation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lab.cluster.base import Cluster
from lab.consumer.groups import GroupRunner, GroupTimeline
from lab.consumer.pauses import callbacks_of, unowned_seconds
from lab.consumer.settings import ConsumerSettings
from lab.core.context import RunContext
from lab.core.errors import Cancelled
from lab.core.results import Result
from lab.core.validate import is_choices, is_whole, require
from lab.kafka import topics
from lab.kafka.load import BackgroundProducer, BackgroundProducerSettings

CASES = ("static, back in time", "dynamic", "static, away too long")
STATIC_TOPIC_PREFIX = "lab-static-"
#: Seconds past the session timeout the "away too long" member stays away (the coordinator's check runs
#: on its own schedule).
PAST_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class StaticSettings:
    cases: tuple[str, ...] = CASES
    members: int = 3
    partitions: int = 6
    #: session.timeout.ms of every member (the brokers' floor is group.min.session.timeout.ms, 6 s by default)
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    #: how long the member stays away in the "back in time" and "dynamic" cases
    away_s: float = 2.0
    #: how long the group is watched after the member is back
    after_s: float = 3.0
    produce_rate: int = 100

    def __post_init__(self) -> None:
        require(is_choices(self.cases, tuple(CASES)), f"cases={self.cases!r} is not valid.",
                f"Choose some of: {', '.join(CASES)}.")
        require(is_whole(self.members) and 2 <= self.members <= 12, f"members={self.members!r} is out of range.",
                "Use 2 to 12 (one restarts; the others are watched).")
        require(is_whole(self.partitions) and 1 <= self.partitions <= 100,
                f"partitions={self.partitions!r} is out of range.", "Use 1 to 100.")
        require(is_whole(self.session_timeout_ms) and is_whole(self.heartbeat_interval_ms),
                f"session.timeout.ms={self.session_timeout_ms!r} / "
                f"heartbeat.interval.ms={self.heartbeat_interval_ms!r} must be whole milliseconds.",
                "Give both in milliseconds, e.g. 6000 and 1000.")
        require(isinstance(self.away_s, (int, float)) and not isinstance(self.away_s, bool)
                and 0 <= self.away_s * 1000 < self.session_timeout_ms,
                f"away {self.away_s!r} s is not shorter than the session timeout ({self.session_timeout_ms} ms).",
                "A static member must be back within session.timeout.ms to avoid a rebalance.")
        require(isinstance(self.after_s, (int, float)) and 0 <= self.after_s <= 60, f"after {self.after_s!r} s is out "
                "of range.", "Use 0 to 60 seconds.")
        require(is_whole(self.produce_rate) and 0 <= self.produce_rate <= 5000,
                f"producer rate {self.produce_rate!r} is out of range.", "Use 0 to 5000 messages per second.")
        self.consumer()

    def consumer(self) -> ConsumerSettings:
        return ConsumerSettings(session_timeout_ms=self.session_timeout_ms,
                                heartbeat_interval_ms=self.heartbeat_interval_ms, assignment_strategy="range",
                                auto_offset_reset="latest", fetch_wait_max_ms=100)


@dataclass(frozen=True)
class StaticCase:
    case: str
    restarted: str
    #: group clock: when the member closed and when its replacement started
    closed_t: float
    back_t: float
    generation_before: int | None
    generation_after: int | None
    #: callbacks the other members got from the close until the end
    others_callbacks: int
    #: the restarted member got its old partitions back
    same_partitions: bool
    #: partition-seconds nobody owned from the close until the end
    unowned_partition_s: float
    timeline: GroupTimeline

    @property
    def rebalanced(self) -> bool:
        return self.others_callbacks > 0 or self.generation_before != self.generation_after


@dataclass(frozen=True)
class StaticProgress:
    finished: tuple[StaticCase, ...]
    case: str
    timeline: GroupTimeline


@dataclass(frozen=True)
class StaticResult(Result):
    settings: StaticSettings
    cases: tuple[StaticCase, ...] = ()


def run_case(cluster: Cluster, s: StaticSettings, case: str, ctx: RunContext,
             done: tuple[StaticCase, ...]) -> StaticCase:
    static = case.startswith("static")
    away = s.away_s if case != "static, away too long" else s.session_timeout_ms / 1000 + PAST_TIMEOUT_S
    topic = topics.fresh_topic(cluster, s.partitions, 3, prefix=STATIC_TOPIC_PREFIX, purpose="static membership",
                               ctx=ctx)
    tag = uuid.uuid4().hex[:6]
    group = GroupRunner(cluster, f"lab-static-{tag}", [topic], s.consumer(), ctx)
    producer = None
    try:
        if s.produce_rate:
            producer = BackgroundProducer(cluster, topic, BackgroundProducerSettings(s.produce_rate), t0=group.t0,
                                          ctx=ctx)
            producer.__enter__()
        names = [f"m{i}" for i in range(s.members)]
        for n in names:
            group.add(n, f"lab-{tag}-{n}" if static else None)
        group.step(f"{case}: {s.members} members joining")
        group.wait_stable()
        restarted = names[-1]
        old = group.assignment()[restarted]
        gen_before = group.generation()
        ctx.report(None, f"{case}: stable", StaticProgress(done, case, group.timeline()))
        group.step(f"{case}: {restarted} closes")
        closed_t = group.now()
        group.remove(restarted)
        ctx.sleep(away)
        group.step(f"{case}: {restarted} is back after {away:.1f} s")
        back_t = group.now()
        group.add(restarted, f"lab-{tag}-{restarted}" if static else None)
        group.wait_stable(timeout_s=s.session_timeout_ms / 1000 + 30)
        ctx.sleep(s.after_s)
        end = group.now()
        evs = group.events()
        others = callbacks_of(evs, [n for n in names if n != restarted], closed_t, end)
        same = group.assignment()[restarted] == old
        gen_after = group.generation()
        unowned = sum(unowned_seconds(evs, group.partitions(), closed_t, end).values())
    finally:
        group.close()
        if producer is not None:
            producer.stop()
        topics.delete_topic(cluster, topic)
    return StaticCase(case, restarted, round(closed_t, 3), round(back_t, 3), gen_before, gen_after, len(others),
                      same, round(unowned, 3), group.timeline())


def compare(cluster: Cluster, settings: StaticSettings, ctx: RunContext) -> StaticResult:
    """Each case in turn; a cancel returns the cases that finished."""
    done: list[StaticCase] = []
    for case in settings.cases:
        try:
            done.append(run_case(cluster, settings, case, ctx, tuple(done)))
        except Cancelled:
            break
    return StaticResult(settings, tuple(done), stopped=ctx.stopped_text() if ctx.cancelled else None)


def time_limit_for(settings: StaticSettings) -> float:
    per = 60.0 + settings.away_s + settings.after_s + settings.session_timeout_ms / 1000 + PAST_TIMEOUT_S
    return len(settings.cases) * per + 60.0


__all__ = ["CASES", "StaticCase", "StaticProgress", "StaticResult", "StaticSettings", "compare", "run_case",
           "time_limit_for"]
