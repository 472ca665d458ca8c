"""The launcher's own logic, with experiments that need no Kafka: results are stamped with their run,
a cancelled run returns what it measured, broker-changing runs hold the cluster lock (a second one is
refused naming the first, and the lock is free again however the run ended), runs of a gone session
are cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.cluster.base import ClusterStatus, UpReport
from lab.cluster.local import LocalCluster
from lab.core.context import RunContext
from lab.core.errors import ClusterBusy, LabError, SettingsError
from lab.core.results import Result
from lab.registry import Experiment
from lab.runs import launcher


class OfflineCluster(LocalCluster):
    """A local cluster's files and lock without brokers: status is answered from here, at once."""

    def status(self) -> ClusterStatus:
        return ClusterStatus("local", "127.0.0.1:1", False, "test-id", None, (), True, kafka_version="3.9.2")

    def up(self, timeout_s: float = 120.0, *, lease: object = None) -> UpReport:  # type: ignore[override]
        raise AssertionError("not used")


@dataclass(frozen=True)
class CountSettings:
    n: int = 3


@dataclass(frozen=True)
class CountResult(Result):
    settings: CountSettings
    counted: int


def count(cluster: object, settings: CountSettings, ctx: RunContext) -> CountResult:
    """Counts up to n, waiting 0.05 s per step (a stand-in for work that takes time)."""
    done = 0
    for _ in range(settings.n):
        if ctx.wait(0.05):
            return CountResult(settings, done, stopped=ctx.stopped_text())
        done += 1
    return CountResult(settings, done)


def holds_lock(cluster: object, settings: CountSettings, ctx: RunContext) -> CountResult:
    assert ctx.lease is not None and ctx.lease.held
    ctx.wait(30)
    return CountResult(settings, 0, stopped=ctx.stopped_text() if ctx.cancelled else None)


def fails(cluster: object, settings: CountSettings, ctx: RunContext) -> CountResult:
    raise LabError("it broke", hint="fix it")


def exp(fn: object, changes_brokers: bool = False) -> Experiment[CountSettings, CountResult]:
    return Experiment("test.count", "counting", CountSettings, CountResult, fn,  # type: ignore[arg-type]
                      lambda s: 10.0, lambda r: str(r.counted), changes_brokers=changes_brokers)


@pytest.fixture
def cluster(tmp_path: Path) -> OfflineCluster:
    return OfflineCluster(tmp_path / "state")


def test_a_finished_run_is_stamped(cluster: OfflineCluster) -> None:
    r = launcher.launch(exp(count), cluster, CountSettings(3), face="test")
    res = r.wait()
    assert res.counted == 3 and res.stopped is None
    assert res.run is not None and res.run.run_id == r.run_id and res.run.experiment == "test.count"
    assert res.run.face == "test" and res.run.cluster.cluster_id == "test-id"
    assert res.run.cluster.kafka_version == "3.9.2" and res.run.started_at <= res.run.ended_at
    assert launcher.get(r.run_id) is r and r not in launcher.active()


def test_cancel_returns_what_was_measured(cluster: OfflineCluster) -> None:
    r = launcher.launch(exp(count), cluster, CountSettings(1000))
    r.ctx.wait(0.3)
    r.cancel()
    res = r.wait()
    assert 0 < res.counted < 1000
    assert res.stopped == "stopped early: cancelled by the user"


def test_broker_changing_runs_exclude_each_other(cluster: OfflineCluster) -> None:
    first = launcher.launch(exp(holds_lock, True), cluster, CountSettings(), face="app")
    try:
        with pytest.raises(ClusterBusy) as info:
            launcher.launch(exp(holds_lock, True), cluster, CountSettings(), face="cli")
        assert "counting" in str(info.value) and "from the app" in str(info.value)
        assert info.value.holder.run_id == first.run_id  # type: ignore[attr-defined]
        with pytest.raises(ClusterBusy):
            cluster.broker("stop", 2)
        assert cluster.lock_holder() is not None
    finally:
        first.cancel()
        assert first.wait().stopped
    assert cluster.lock_holder() is None


def test_a_failing_run_releases_the_lock_and_keeps_its_error(cluster: OfflineCluster) -> None:
    r = launcher.launch(exp(fails, True), cluster, CountSettings())
    with pytest.raises(LabError, match="it broke"):
        r.wait()
    assert isinstance(r.error, LabError) and r.error.hint == "fix it"
    assert cluster.lock_holder() is None


def test_settings_of_the_wrong_type_are_refused(cluster: OfflineCluster) -> None:
    with pytest.raises(SettingsError, match="takes CountSettings"):
        launcher.launch(exp(count), cluster, object())


def test_runs_of_a_gone_session_are_cancelled(cluster: OfflineCluster) -> None:
    mine = launcher.launch(exp(count), cluster, CountSettings(1000), owner="s-alive")
    theirs = launcher.launch(exp(count), cluster, CountSettings(1000), owner="s-gone")
    cancelled = launcher.cancel_owned_by(lambda sid: sid == "s-alive")
    assert cancelled == [theirs]
    assert "browser session" in (theirs.wait().stopped or "")
    assert not mine.done
    mine.cancel()
    mine.wait()
