"""Every launched run lands in the run store: a "running" row at launch, then finished / cancelled /
timed out / failed with its error and settings; a store that cannot be written never fails the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab.core.errors import LabError
from lab.runs import launcher, recorder
from lab.runs import store as runs
from tests.unit.test_launcher import CountResult, CountSettings, OfflineCluster, count, exp, fails

TYPES: dict[str, type] = {"CountSettings": CountSettings, "CountResult": CountResult}


@pytest.fixture
def cluster(tmp_path: Path) -> OfflineCluster:
    return OfflineCluster(tmp_path / "state")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> runs.RunStore:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(path))
    return runs.open_store()


def test_a_run_is_running_then_finished(cluster: OfflineCluster, store: runs.RunStore) -> None:
    r = launcher.launch(exp(count), cluster, CountSettings(4), face="test")
    begun = store.get(r.run_id, TYPES)
    assert begun is not None and begun.status == "running" and begun.settings == CountSettings(4)
    res = r.wait()
    got = store.get(r.run_id, TYPES)
    assert got is not None and got.status == "finished" and got.result == res and got.face == "test"
    assert got.cluster is not None and got.cluster.cluster_id == "test-id" and got.figures == {"counted": 4.0}
    assert got.pid == os.getpid() and got.elapsed_s is not None and got.elapsed_s > 0.1
    assert store.list(experiment="test.count")[0].run_id == r.run_id and recorder.last_problem() is None


def test_cancelled_timed_out_and_failed_runs_say_so(cluster: OfflineCluster, store: runs.RunStore) -> None:
    r = launcher.launch(exp(count), cluster, CountSettings(100), face="test")
    r.cancel()
    r.wait()
    got = store.get(r.run_id, TYPES)
    assert got is not None and got.status == "cancelled" and got.stopped == "stopped early: cancelled by the user"
    assert got.result is not None and got.result.counted < 100  # type: ignore[attr-defined]

    r = launcher.launch(exp(count), cluster, CountSettings(100), face="test", time_limit_s=0.2)
    r.wait()
    got = store.get(r.run_id, TYPES)
    assert got is not None and got.status == "timed out" and "time limit" in (got.stopped or "")

    r = launcher.launch(exp(fails), cluster, CountSettings(2), face="test")
    with pytest.raises(LabError, match="it broke"):
        r.wait()
    got = store.get(r.run_id, TYPES)
    assert got is not None and got.status == "failed" and got.error == "it broke\nfix it"
    assert got.settings == CountSettings(2) and got.result is None and got.ended_at is not None


def test_a_broken_store_never_fails_a_run(cluster: OfflineCluster, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "broken.sqlite"
    bad.write_bytes(b"\x00garbage" * 1000)
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(bad))
    res = launcher.run_sync(exp(count), cluster, CountSettings(2), face="test")
    assert res.counted == 2
    problem = recorder.last_problem()
    assert problem is not None and str(bad) in problem and "Move it aside" in problem


def test_a_lesson_run_keeps_its_lesson_and_prediction_past_its_end(cluster: OfflineCluster,
                                                                   store: runs.RunStore) -> None:
    r = launcher.launch(exp(count), cluster, CountSettings(3), face="test", lesson=("lag-recovery", "flat"))
    assert store.lesson(r.run_id) == ("lag-recovery", "flat")
    r.wait()  # the end rewrites the run's row; the lesson is kept beside it
    got = store.get(r.run_id, TYPES)
    assert got is not None and got.status == "finished" and store.lesson(r.run_id) == ("lag-recovery", "flat")
    other = launcher.run_sync(exp(count), cluster, CountSettings(2), face="test", lesson=("lag-recovery", None))
    assert other.run is not None and store.lesson(other.run.run_id) == ("lag-recovery", None)
    plain = launcher.run_sync(exp(count), cluster, CountSettings(2), face="test")
    assert plain.run is not None and store.lesson(plain.run.run_id) is None
    assert store.delete(r.run_id) and store.lesson(r.run_id) is None
