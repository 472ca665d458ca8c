"""`kafka-lab lesson list|show|run` without a cluster: the listing, a lesson shown, and bad ids or
predictions refused with what is allowed before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import lessons
from lab.cli import main


@pytest.fixture(autouse=True)
def own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_LAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.delenv("KAFKA_LAB_BOOTSTRAP", raising=False)


def test_list_has_every_lesson(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson", "list"]) == 0
    out = capsys.readouterr().out
    assert all(x.id in out and x.question in out for x in lessons.LESSONS.values())
    assert "replication.min-isr (changes brokers)" in out
    assert main(["lesson", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == list(lessons.LESSONS)
    assert {d["phase"] for d in data} == {1, 2, 3, 4, 5, 6, 7}


def test_show_gives_the_choices_and_the_try_next_links(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson", "show", "codec-bandwidth"]) == 0
    out = capsys.readouterr().out
    assert "bandwidth-constrained" in out and "  zstd" in out
    assert "/producer?mode=codec&msg_size=500&payload=random" in out
    assert main(["lesson", "show", "lag-recovery", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["experiment"] == "lag.scenario" and [c["key"] for c in data["choices"]][0] == "grows-then-drains"


@pytest.mark.parametrize("argv, said, allowed", [
    (["lesson", "show", "codecs"], "No lesson is called 'codecs'", "codec-latency, codec-bandwidth"),
    (["lesson", "run", "nope"], "No lesson is called 'nope'", "min-isr-rf3"),
    (["lesson", "run", "lag-recovery", "--predict", "faster"], "'faster' is not a prediction of the lesson",
     "grows-then-drains (Lag grows"),
])
def test_bad_ids_and_choices_say_what_is_allowed(argv: list[str], said: str, allowed: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and allowed in err
    assert main([*argv, "--json"]) == 2
    data = json.loads(capsys.readouterr().err)
    assert said in data["error"] and allowed in data["hint"]
