"""Eligible leader replicas (KIP-966): what each topic of the unclean-election scenario met, in words, and the
same fault on Kafka 3.9 and 4.x side by side.

``topic_verdict``/``version_verdict`` are pure: a measured ``UncleanResult`` in, who led after the crash, by
which route (ISR, ELR, last known ELR, unclean election) and how many acknowledged writes were lost (counted
by reading the topic back). ``compare_versions(cluster, settings, ctx)`` runs the scenario on the app's
cluster, then starts a second lab cluster of the other version (``lab.cluster.second``: its own state
directory and free ports, the app cluster's broker settings), runs the same scenario there, and stops and
deletes that cluster however the run ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lab.cluster import DEFAULT_KAFKA_VERSION, second
from lab.cluster.base import Cluster
from lab.cluster.provision import LEGACY_KAFKA_VERSION
from lab.core.context import ChildContext, Lease, RunContext
from lab.core.errors import Cancelled, ControlsDisabled
from lab.core.results import Result
from lab.core.validate import require
from lab.replication.settings import UncleanSettings
from lab.replication.unclean import MOMENT_CRASHED, UncleanResult, UncleanTopicOutcome, unclean

VIA_ISR = "ISR"
VIA_ELR = "ELR"
VIA_LAST_KNOWN_ELR = "last known ELR"
VIA_UNCLEAN = "unclean election"
VIA_NONE = "no leader"
VIA_UNKNOWN = "not sampled"
#: Where the second cluster keeps its data (deleted after each comparison).
COMPARE_STATE_ENV = "KAFKA_LAB_COMPARE_STATE_DIR"
DEFAULT_COMPARE_STATE_DIR = "~/.local/state/kafka-lab/compare-{version}"
#: One scenario's bound (as the registry gives ``replication.unclean``) and the second cluster's start and stop.
SCENARIO_LIMIT_S = 400.0
SECOND_CLUSTER_S = second.START_TIMEOUT_S + 60.0


def other_version(version: str | None) -> str:
    """The version to compare ``version`` with: 3.9 against any 4.x, the lab's default against anything else."""
    return LEGACY_KAFKA_VERSION if (second.major(version) or 0) >= 4 else DEFAULT_KAFKA_VERSION


@dataclass(frozen=True)
class TopicVerdict:
    topic: str
    unclean_enabled: bool
    #: the broker that led the topic again (after the crash when it stayed writable, else after the restart)
    leader: int | None
    #: how it became leader: ``VIA_*``
    via: str
    #: the crash sample showed an empty ISR (None: not sampled)
    isr_emptied: bool | None
    acknowledged: int
    read_back: int | None
    lost: int | None
    text: str


@dataclass(frozen=True)
class VersionVerdict:
    kafka_version: str
    #: the cluster keeps an ELR (None: the feature level was not read)
    elr: bool | None
    clean: TopicVerdict
    unclean: TopicVerdict
    text: str


def _route(o: UncleanTopicOutcome, leader: int | None) -> str:
    if leader is None or leader < 0:
        return VIA_NONE
    if o.elected_by:
        return VIA_UNCLEAN
    crash = o.sample(MOMENT_CRASHED)
    if crash is None:
        return VIA_UNKNOWN
    for via, group in ((VIA_ISR, crash.isr), (VIA_ELR, crash.elr), (VIA_LAST_KNOWN_ELR, crash.last_known_elr)):
        if group and leader in group:
            return via
    return VIA_UNCLEAN


def topic_verdict(o: UncleanTopicOutcome, s: UncleanSettings) -> TopicVerdict:
    """Who led ``o.topic`` again, by which route, and what was lost."""
    stayed_up = o.available_after_crash
    leader = o.leader_after_crash if stayed_up else o.leader_after_restart
    via = _route(o, leader)
    crash = o.sample(MOMENT_CRASHED)
    emptied = None if crash is None else not crash.isr
    lost = "?" if o.lost_acked is None else str(o.lost_acked)
    back = "?" if o.consumed is None else o.consumed
    loss = f"{lost} of {o.acknowledged} acknowledged writes lost (read back {back})"
    after = f"{o.after.acked}/{o.after.sent}" if o.after else "?"
    if via == VIA_UNCLEAN:
        text = (f"broker {leader} left the ISR first, while the ISR still met min.insync.replicas, so it was not "
                f"eligible: unclean election, writable at once ({after} writes after the crash), {loss}")
    elif via == VIA_ELR:
        text = (f"ISR emptied at the crash; broker {leader} was the last to leave (ISR below min.insync.replicas), "
                f"stayed eligible in the ELR and was elected cleanly: {loss}")
    elif via == VIA_LAST_KNOWN_ELR:
        text = f"broker {leader} was the last known ELR member and was elected again: {loss}"
    elif via == VIA_ISR:
        text = (f"the ISR kept broker {leader} (its last member) while it was down — no ELR — and it led again "
                f"when it returned: {loss}")
    elif via == VIA_NONE:
        text = f"no leader by the end of the run: {loss}"
    else:
        text = f"broker {leader} led again (ISR/ELR not sampled): {loss}"
    if not stayed_up and via != VIA_NONE:
        text += f"; unavailable until broker {s.in_sync_broker} returned ({after} writes after the crash)"
    return TopicVerdict(o.topic, o.unclean_enabled, leader, via, emptied, o.acknowledged, o.consumed, o.lost_acked,
                        text)


def version_verdict(r: UncleanResult) -> VersionVerdict:
    clean, dirty = topic_verdict(r.clean, r.settings), topic_verdict(r.unclean, r.settings)
    elr = None if r.elr_feature_level is None else r.elr_feature_level > 0
    feature = ("ELR on (eligible.leader.replicas.version=" f"{r.elr_feature_level})" if elr
               else "no ELR (eligible.leader.replicas.version=0)" if elr is False else "ELR feature not read")
    text = (f"Kafka {r.kafka_version or '?'}: {feature}. Unclean election off: {clean.via}, "
            f"{clean.lost if clean.lost is not None else '?'} lost. On: {dirty.via}, "
            f"{dirty.lost if dirty.lost is not None else '?'} lost.")
    return VersionVerdict(r.kafka_version, elr, clean, dirty, text)


# =================================================================================================
# 3.9 vs 4.x
# =================================================================================================
@dataclass(frozen=True)
class VersionsSettings:
    """The unclean-election scenario on the app's cluster and on a second cluster of ``other_version``."""

    scenario: UncleanSettings = field(default_factory=UncleanSettings)
    #: "" = the other of 3.9.2 and the lab's default (4.x)
    other_version: str = ""
    #: "" = $KAFKA_LAB_COMPARE_STATE_DIR or ~/.local/state/kafka-lab/compare-<version>
    other_state_dir: str = ""

    def __post_init__(self) -> None:
        require(isinstance(self.scenario, UncleanSettings), "scenario must be UncleanSettings.",
                "Build it with UncleanSettings(...).")
        for name in ("other_version", "other_state_dir"):
            require(isinstance(getattr(self, name), str), f"{name} must be text.",
                    "Give a Kafka version like 3.9.2, a directory path, or leave it empty.")
        if self.other_version:
            require(re.fullmatch(r"[34]\.\d+\.\d+", self.other_version) is not None,
                    f"other_version={self.other_version!r} is not a Kafka release number.",
                    f"Use a 3.x or 4.x release such as {LEGACY_KAFKA_VERSION}, or leave it empty.")

    def state_dir(self, version: str) -> str:
        return self.other_state_dir or second.state_dir_from(
            COMPARE_STATE_ENV, DEFAULT_COMPARE_STATE_DIR.format(version=version))


@dataclass(frozen=True, kw_only=True)
class VersionsResult(Result):
    settings: VersionsSettings
    #: the scenario on each cluster, the app's first
    runs: tuple[UncleanResult, ...] = ()
    app_version: str = ""
    other_version: str = ""
    #: where the second cluster ran (its state dir, deleted afterwards) and its bootstrap servers
    other_cluster: str = ""

    def verdicts(self) -> tuple[VersionVerdict, ...]:
        return tuple(version_verdict(r) for r in self.runs)


class _OnSecondCluster(ChildContext):
    """The parent's cancel and deadline, the second cluster's lock, progress prefixed with its version."""

    def __init__(self, parent: RunContext, lease: Lease, version: str) -> None:
        self._own_lease: Lease | None = lease
        super().__init__(parent)
        self.version = version

    @property
    def lease(self) -> Lease | None:
        return self._own_lease

    @lease.setter
    def lease(self, value: Lease | None) -> None:
        pass  # the second cluster's own lock, taken when it was started

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        self.parent.report(fraction, f"Kafka {self.version}: {message}", partial)


def compare_versions(cluster: Cluster, settings: VersionsSettings, ctx: RunContext) -> VersionsResult:
    """The same fault on the app's cluster and on a second one of the other version; the second cluster is
    started here and stopped (its data deleted) however the run ends. A cancel returns what finished."""
    if not cluster.controls_enabled:
        raise ControlsDisabled(f"The version comparison needs broker controls, which the {cluster.backend} "
                               "backend lacks.", hint="Run it on the local backend (`kafka-lab cluster up`).")
    app_version = cluster.status().kafka_version or "unknown"
    other = settings.other_version or other_version(app_version)
    runs: list[UncleanResult] = []
    where = ""
    stopped: str | None = None
    try:
        ctx.report(0.0, f"Kafka {app_version}: the unclean-election scenario")
        first = unclean(cluster, settings.scenario, ctx)
        runs.append(first)
        if first.stopped:
            raise Cancelled(first.stopped)
        c2 = second.second_cluster(settings.state_dir(other), other, second.lab_overrides(cluster))
        where = str(c2.state_dir)
        ctx.report(0.5, f"starting a Kafka {other} cluster in {where}")
        with second.owned(c2, f"the {other} side of the replication version comparison") as lease:
            ctx.check()
            where += f" ({c2.bootstrap_servers()})"
            runs.append(unclean(c2, settings.scenario, _OnSecondCluster(ctx, lease, other)))
    except Cancelled:
        stopped = ctx.stopped_text()
    if ctx.cancelled and stopped is None:
        stopped = ctx.stopped_text()
    return VersionsResult(settings=settings, runs=tuple(runs), app_version=app_version, other_version=other,
                          other_cluster=where, stopped=stopped)


def time_limit_for(settings: VersionsSettings) -> float:
    return 2 * SCENARIO_LIMIT_S + SECOND_CLUSTER_S


__all__ = ["COMPARE_STATE_ENV", "DEFAULT_COMPARE_STATE_DIR", "VIA_ELR", "VIA_ISR", "VIA_LAST_KNOWN_ELR", "VIA_NONE",
           "VIA_UNCLEAN", "VIA_UNKNOWN", "TopicVerdict", "VersionVerdict", "VersionsResult", "VersionsSettings",
           "compare_versions", "other_version", "time_limit_for", "topic_verdict", "version_verdict"]
