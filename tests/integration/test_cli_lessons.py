"""`kafka-lab lesson run` on the real cluster: the answer quotes the run's own figures, --json has the
result, the prediction and the figures as numbers, and the run is stored with its lesson and prediction."""

from __future__ import annotations

import json

import pytest

from lab import lessons
from lab.cli import main
from lab.cluster import LocalCluster
from lab.core.codec import from_jsonable
from lab.eos.transactions import TransactionResult
from lab.runs import store as runs_store


def test_lesson_run_json_answers_from_its_own_result(cluster: LocalCluster,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson", "run", "read-committed", "--predict", "committed-only", "--json",
                 "--state-dir", str(cluster.state_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    result = from_jsonable(TransactionResult, data["result"])
    assert isinstance(result, TransactionResult) and result.run is not None
    assert data["prediction"] == "committed-only" and data["lesson"] == "read-committed"
    answer = data["answer"]
    expected = lessons.get("read-committed").answer(result, "committed-only")
    assert answer["sentences"] == list(expected.sentences) and answer["figures"] == expected.values
    assert all(isinstance(v, (int, float)) for v in answer["figures"].values())
    assert answer["figures"]["read_committed.records"] == result.read_committed
    assert answer["figures"]["read_uncommitted.aborted_seen"] == result.aborted_seen_uncommitted
    assert answer["shown"] is True and answer["held"] is True, answer["doubts"]
    assert runs_store.open_store().lesson(result.run.run_id) == ("read-committed", "committed-only")


def test_lesson_run_text_quotes_the_figures(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson", "run", "lag-recovery", "--quiet", "--state-dir", str(cluster.state_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(lessons.get("lag-recovery").question)
    assert "No prediction was made before this run." in out
    run_id = out.rsplit("kafka-lab runs show ", 1)[1].split(")")[0]
    rec = runs_store.open_store().get(run_id)
    assert rec is not None and rec.result is not None
    slow = rec.result.phases[0]  # type: ignore[attr-defined]
    assert f"lag {slow.lag_start:,} → {slow.lag_end:,} records" in out
    assert runs_store.open_store().lesson(run_id) == ("lag-recovery", None)
