"""`kafka-lab runs …` on a store of its own, without Kafka: list filters and pages, show reads as the
experiment's text, export writes the whole record, delete forgets, and bad input is exit 2 with what is
allowed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab.cli import main
from lab.cli.runs import time_bound
from lab.core.errors import SettingsError
from lab.runs.store import RunStore
from tests.unit.test_runs import produce_record


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        for i in range(5):
            store.save(produce_record(f"run-{i}", f"2026-12-0{1 + i}T10:00:00.000+00:00",
                                      acks="1" if i == 2 else "all"))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_as_text_and_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "runs", "list", "--db", db, "--limit", "2")
    assert code == 0 and out.index("run-4") < out.index("run-3") and "run-2" not in out
    assert "2 of 5 run(s) (see more with --limit / --offset)" in out
    code, out, _ = run(capsys, "runs", "list", "--db", db, "--json", "--search", '"acks":"1"')
    rows = json.loads(out)
    assert code == 0 and [r["run_id"] for r in rows] == ["run-2"] and rows[0]["figures"]["delivered"] == 97.0
    code, out, _ = run(capsys, "runs", "list", "--db", db, "--json", "--since", "2026-12-02", "--until", "2026-12-03")
    assert [r["run_id"] for r in json.loads(out)] == ["run-2", "run-1"]  # a bare --until date includes that day
    code, out, _ = run(capsys, "runs", "list", "--db", db, "--status", "failed")
    assert code == 0 and "No stored runs match." in out


def test_show_export_delete(db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "runs", "show", "run-3", "--db", db)
    assert code == 0 and "status:      finished" in out and "cluster:     local at 127.0.0.1:9092" in out
    assert "throughput: 388 msg/s" in out and "  acks = all" in out
    code, out, _ = run(capsys, "runs", "show", "run-3", "--db", db, "--json")
    assert json.loads(out)["result"]["delivered"] == 97
    dest = tmp_path / "r.json"
    code, out, _ = run(capsys, "runs", "export", "run-3", "--db", db, "--out", str(dest))
    assert code == 0 and f"Wrote {dest}" in out
    doc = json.loads(dest.read_text())
    assert doc["run_id"] == "run-3" and doc["settings"]["acks"] == "all" and len(doc["result"]["samples"]) == 2
    code, out, _ = run(capsys, "runs", "delete", "run-3", "--db", db)
    assert code == 0 and "Deleted run run-3." in out
    assert run(capsys, "runs", "show", "run-3", "--db", db)[0] == 2


def test_bad_input_says_what_is_allowed(db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "runs", "show", "nope", "--db", db)
    assert code == 2 and "No stored run has the id 'nope'" in err and "the latest: run-4, run-3, run-2" in err
    code, _, err = run(capsys, "runs", "list", "--db", db, "--since", "last tuesday")
    assert code == 2 and "--since 'last tuesday' is not a date or time" in err and "ISO 8601" in err
    code, _, err = run(capsys, "runs", "list", "--db", db, "--experiment", "prod")
    assert code == 2 and "No experiment is called 'prod'" in err and "produce" in err
    code, _, err = run(capsys, "runs", "rerun", "nope", "--db", db)
    assert code == 2 and "No stored run has the id 'nope'" in err
    with pytest.raises(SystemExit) as e:
        main(["runs", "export", "run-1", "--db", db, "--format", "pdf"])
    assert e.value.code == 2 and "invalid choice: 'pdf' (choose from 'json', 'png'" in capsys.readouterr().err
    code, _, err = run(capsys, "runs", "export", "run-1", "--db", db, "--format", "png", "--out", str(tmp_path / "x"))
    assert code == 0 or "Export as png is not available" in err  # lab.export.files provides it once merged


def test_time_bounds() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert time_bound("2026-12-01T10:00+00:00", "--since") == "2026-12-01T10:00:00.000+00:00"
    assert time_bound("2026-12-01T10:00:00Z", "--since") == "2026-12-01T10:00:00.000+00:00"
    assert time_bound("2h", "--since", now=now) == "2026-12-02T10:00:00.000+00:00"
    assert time_bound("today", "--since", now=now) == "2026-12-02T00:00:00.000+00:00"
    assert time_bound("yesterday", "--until", end=True, now=now) == "2026-12-02T00:00:00.000+00:00"
    with pytest.raises(SettingsError, match="is not a date"):
        time_bound("soon", "--until")
