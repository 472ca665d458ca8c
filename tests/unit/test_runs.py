"""The run store on real SQLite files: every registered settings and result type comes back as itself,
listings filter and page newest first, an old file is migrated with its rows kept, a run whose process
died is marked interrupted (also after a SIGKILL mid-save, with the file still sound), concurrent savers
(threads and processes) never mix, and a damaged file is named with what to do."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import registry as experiments
from lab.core.results import ClusterFacts, RunInfo
from lab.producer.run import IntervalSample
from lab.producer.settings import ProducerSettings
from lab.runs import schema as runs_schema
from lab.runs import store as runs
from lab.runs.store import RunRecord, RunStore, RunStoreError
from tests.unit.test_codec import same, strategy_for
from tests.unit.test_produce_codec import produce_result

ROOT = Path(__file__).resolve().parents[2]
FACTS = ClusterFacts("local", "127.0.0.1:9092", "abc", "3.9.2", 3)


def info(run_id: str, started_at: str = "2026-12-01T10:00:00.000+00:00", experiment: str = "produce") -> RunInfo:
    return RunInfo(run_id, experiment, started_at, started_at.replace("10:00:00", "10:00:05"), FACTS, "test", 5.0)


def produce_record(run_id: str, started_at: str = "2026-12-01T10:00:00.000+00:00", samples: int = 2,
                   acks: str = "all", status: str | None = None) -> RunRecord:
    s = ProducerSettings(acks=acks)
    sample = IntervalSample(0.1, 50, 500.0, 0.05, 4.0, 9.0, 0, 3)
    r = produce_result(s, samples=(sample,) * samples, run=info(run_id, started_at))
    return RunRecord.of(r, status=status)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return RunStore(tmp_path_factory.mktemp("store") / "runs.sqlite")


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs.sqlite")


# --- every type round trips -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(experiments.REGISTRY))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_registered_run_round_trips(shared_store: RunStore, name: str, data: st.DataObject) -> None:
    exp = experiments.REGISTRY[name]
    s = data.draw(strategy_for(exp.settings_type))
    result = data.draw(strategy_for(exp.result_type))
    run_id = f"rt-{name}-{data.draw(st.integers(0, 10**9))}"
    record = RunRecord(run_id, name, runs.status_for(result), "2026-12-01T10:00:00.000+00:00", None, "test", s,
                       result, FACTS, result.stopped, None, runs.summary_figures(result), 1.5, 42)
    shared_store.save(record)
    back = shared_store.get(run_id)
    assert back is not None and back.note is None
    assert type(back.settings) is exp.settings_type and same(s, back.settings)
    assert type(back.result) is exp.result_type and same(result, back.result)
    assert back.cluster == FACTS and back.figures == record.figures and back.status == record.status
    assert any(row.run_id == run_id for row in shared_store.list(experiment=name, limit=1000))


def test_summary_figures_are_numeric_fields_one_level_deep() -> None:
    rec = produce_record("r1")
    assert rec.figures["delivered"] == 97.0 and rec.figures["latency.p99_ms"] == 20.0
    assert "settings.acks" not in rec.figures and all(isinstance(v, float) for v in rec.figures.values())


def test_status_follows_the_context_and_the_result() -> None:
    done = produce_record("r").result
    assert done is not None
    assert runs.status_for(done) == "finished"
    assert runs.status_for(done, cancelled=True) == "finished"  # it completed before the cancel landed
    cut = dataclasses.replace(done, stopped="stopped early: cancelled by the user")
    assert runs.status_for(cut, cancelled=True) == "cancelled"
    assert runs.status_for(cut, cancelled=True, timed_out=True) == "timed out"
    assert runs.status_for(dataclasses.replace(done, stopped="stopped early: the time limit of 5 s was reached")) \
        == "timed out"
    assert runs.status_for(dataclasses.replace(done, stopped="3 message(s) were still unacknowledged")) == "finished"
    assert runs.status_for(None) == "failed" and runs.status_for(None, cancelled=True) == "cancelled"


# --- writing and listing -----------------------------------------------------------------------------
def test_begin_then_finish_and_delete(store: RunStore) -> None:
    s = ProducerSettings(acks="1")
    store.begin("r1", "produce", s, "cli", "2026-12-01T10:00:00.000+00:00")
    got = store.get("r1")
    assert got is not None and got.status == "running" and got.settings == s and got.result is None
    assert got.pid == os.getpid()
    result = produce_record("r1").result
    store.finish("r1", "finished", result=result)
    got = store.get("r1")
    assert got is not None and got.status == "finished" and got.ended_at == "2026-12-01T10:00:05.000+00:00"
    assert got.cluster == FACTS and got.figures["delivered"] == 97.0 and same(result, got.result)
    with pytest.raises(RunStoreError, match="No run 'nope' was begun"):
        store.finish("nope", "finished")
    with pytest.raises(RunStoreError, match="(?s)Unknown run status 'done'.*finished"):
        store.finish("r1", "done")
    store.finish("r1", "failed", error="it broke\nfix it")
    got = store.get("r1")
    assert got is not None and got.status == "failed" and got.error == "it broke\nfix it" and got.result is None
    assert store.delete("r1") and not store.delete("r1") and store.get("r1") is None and store.count() == 0


def test_list_filters_and_pages_newest_first(store: RunStore) -> None:
    for i in range(30):
        store.save(produce_record(f"r{i:02d}", f"2026-12-{1 + i // 10:02d}T10:00:{i % 10:02d}.000+00:00",
                                  acks="1" if i % 3 == 0 else "all"))
    store.save(RunRecord("f1", "eos.fencing", "failed", "2026-12-02T11:00:00.000+00:00", None, "app",
                         experiments.REGISTRY["eos.fencing"].settings_type(), error="boom"))
    rows = store.list(limit=5)
    assert [r.run_id for r in rows] == ["r29", "r28", "r27", "r26", "r25"]
    assert [r.run_id for r in store.list(limit=3, offset=5)] == ["r24", "r23", "r22"]
    assert store.count() == 31 and store.count(experiment="produce") == 30
    assert [r.run_id for r in store.list(status="failed")] == ["f1"] and store.list(status="failed")[0].error == "boom"
    assert {r.run_id for r in store.list(since="2026-12-02", until="2026-12-03", limit=100)} == \
        {f"r{i}" for i in range(10, 20)} | {"f1"}
    ones = store.list(search='"acks":"1"', limit=100)
    assert len(ones) == 10 and all(int(r.run_id[1:]) % 3 == 0 for r in ones)
    assert store.list(search="100%_") == []  # LIKE wildcards are literal
    assert store.experiments() == ["eos.fencing", "produce"]
    assert store.list(limit=1)[0].figures["msgs_per_s"] == 388.0


# --- migrations --------------------------------------------------------------------------------------
def test_a_v1_file_is_migrated_with_its_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for statement in runs_schema.MIGRATIONS[0]:
        conn.execute(statement)
    settings_doc = runs._doc(ProducerSettings(acks="0"))
    conn.execute("INSERT INTO runs (run_id, experiment, status, started_at, ended_at, face, settings) "
                 "VALUES ('old-1', 'produce', 'finished', '2026-11-30T09:00:00.000+00:00', "
                 "'2026-11-30T09:00:03.000+00:00', 'app', ?)", (settings_doc,))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = RunStore(path)
    assert runs_schema.version(store._conn) == runs_schema.LATEST == 4
    indexes = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_by_start", "runs_by_experiment", "runs_by_status"} <= indexes
    got = store.get("old-1")
    assert got is not None and got.settings == ProducerSettings(acks="0") and got.face == "app"
    store.save(produce_record("new-1"))
    assert [r.run_id for r in store.list()] == ["new-1", "old-1"]


def test_a_file_from_a_newer_lab_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    latest = runs_schema.LATEST
    with pytest.raises(RunStoreError, match=f"{path} has schema version 99; this lab reads up to {latest}") as e:
        RunStore(path)
    assert "Update the lab" in str(e.value)


# --- interrupted runs --------------------------------------------------------------------------------
def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_running_rows_of_dead_processes_or_other_boots_are_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        store.begin("dead", "produce", ProducerSettings(), "app", "2026-12-01T10:00:00.000+00:00", pid=dead_pid())
        store.begin("alive", "produce", ProducerSettings(), "app", "2026-12-01T10:00:01.000+00:00")
        store.begin("old-boot", "produce", ProducerSettings(), "app", "2026-12-01T10:00:02.000+00:00")
        store._conn.execute("UPDATE runs SET boot_id = 'another-boot' WHERE run_id = 'old-boot'")
    with RunStore(path) as store:
        status = {r.run_id: r.status for r in store.list()}
        assert status == {"dead": "interrupted", "alive": "running", "old-boot": "interrupted"}
        got = store.get("dead")
        assert got is not None and got.stopped is not None and "process ended" in got.stopped


SAVER = textwrap.dedent("""
    import sys
    from lab.runs.store import RunStore
    from lab.producer.settings import ProducerSettings
    from tests.unit.test_runs import produce_record
    store = RunStore(sys.argv[1])
    store.begin("never-ends", "produce", ProducerSettings(), "cli", "2026-12-01T09:00:00.000+00:00")
    i = 0
    while True:
        rid = f"{sys.argv[2]}-{i:05d}"
        store.begin(rid, "produce", ProducerSettings(), "cli", "2026-12-01T10:00:00.000+00:00")
        store.save(produce_record(rid, samples=int(sys.argv[3])))
        i += 1
""")


def saver(path: Path, prefix: str, samples: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", SAVER, str(path), prefix, str(samples)], cwd=ROOT)


def test_a_saver_killed_mid_transaction_leaves_a_sound_file(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    proc = saver(path, "k", 3000)
    try:
        with RunStore(path, repair=False) as watch:
            deadline = time.monotonic() + 60
            while watch.count(status="finished") < 5:
                assert proc.poll() is None and time.monotonic() < deadline, "the saver did not get going"
                time.sleep(0.05)
        time.sleep(0.137)  # somewhere inside a save
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with RunStore(path) as store:
        assert store.integrity() == "ok"
        rows = store.list(limit=100_000)
        assert {r.status for r in rows} <= {"finished", "interrupted"}
        assert store.get("never-ends").status == "interrupted"  # type: ignore[union-attr]
        for r in rows:
            got = store.get(r.run_id)
            assert got is not None and (got.result is not None) == (r.status == "finished")


# --- concurrency -------------------------------------------------------------------------------------
def test_five_threads_saving_at_once_all_land_unmixed(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    shared = RunStore(path)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        own = RunStore(path) if t % 2 else shared  # a store per thread and one shared by threads
        try:
            for i in range(20):
                rid = f"t{t}-{i:02d}"
                own.begin(rid, "produce", ProducerSettings(acks="all"), "test", "2026-12-01T10:00:00.000+00:00")
                own.save(produce_record(rid, samples=50 + t * 20 + i))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    assert shared.count(status="finished") == 100
    for t in range(5):
        for i in range(20):
            got = shared.get(f"t{t}-{i:02d}")
            assert got is not None and got.result is not None and got.result.run is not None
            assert got.result.run.run_id == f"t{t}-{i:02d}"
            assert len(got.result.samples) == 50 + t * 20 + i  # type: ignore[attr-defined]


PROCESS_SAVER = textwrap.dedent("""
    import sys
    from lab.runs.store import RunStore
    from tests.unit.test_runs import produce_record
    store = RunStore(sys.argv[1])
    for i in range(15):
        store.save(produce_record(f"{sys.argv[2]}-{i:02d}", samples=100 + i))
""")


def test_five_processes_saving_at_once_all_land(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS_SAVER, str(path), f"p{n}"], cwd=ROOT,
                              stderr=subprocess.PIPE) for n in range(5)]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-2000:]
    with RunStore(path) as store:
        assert store.count(status="finished") == 75 and store.integrity() == "ok"
        got = store.get("p3-07")
        assert got is not None and len(got.result.samples) == 107  # type: ignore[union-attr]


# --- damaged files and the launcher's hook -----------------------------------------------------------
def test_a_damaged_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with pytest.raises(RunStoreError) as e:
        runs.open_store(path)
    text = str(e.value)
    assert str(path) in text and "could not be opened" in text and f"mv {path} {path}.broken" in text
    assert "KAFKA_LAB_RUNS_DB" in text


def test_an_unwritable_place_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunStoreError, match="could not be opened") as e:
        RunStore(blocker / "sub" / "runs.sqlite")
    assert "writable" in str(e.value)


def test_the_default_path_follows_the_environment_at_call_time(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(tmp_path / "a.sqlite"))
    assert runs_schema.default_path() == tmp_path / "a.sqlite"
    monkeypatch.delenv("KAFKA_LAB_RUNS_DB")
    monkeypatch.setenv("KAFKA_LAB_STATE_DIR", str(tmp_path / "lab" / "cluster"))
    assert runs_schema.default_path() == tmp_path / "lab" / "runs.sqlite"


def test_the_session_store_is_not_in_home() -> None:
    assert runs_schema.default_path() != Path.home() / ".local" / "state" / "kafka-lab" / "runs.sqlite"
    assert "KAFKA_LAB_RUNS_DB" in os.environ
