"""`kafka-lab lesson run` on the real cluster: the answer quotes the run's own figures, --json has the
result, the prediction and the figures as numbers, and the run is stored with its lesson and prediction."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lab import lessons
from lab.cli import main
from lab.cluster import LocalCluster
from lab.core.codec import from_jsonable
from lab.eos.transactions import TransactionResult
from lab.runs import store as runs_store


@pytest.fixture(autouse=True)
def own_topic(monkeypatch: pytest.MonkeyPatch, topic_name: str) -> None:
    """The transactions lesson on a topic of this test's own: its preset's topic is made again by any other
    run of the experiment with the page's defaults (another worker's page tests, at the same time)."""
    lesson = lessons.get("read-committed")
    monkeypatch.setitem(lessons.LESSONS, lesson.id,
                        dataclasses.replace(lesson, settings=dataclasses.replace(lesson.settings, topic=topic_name)))


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
    lesson = lessons.get("read-committed")
    assert main(["lesson", "run", lesson.id, "--quiet", "--state-dir", str(cluster.state_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(lesson.question)
    assert "No prediction was made before this run." in out
    run_id = out.rsplit("kafka-lab runs show ", 1)[1].split(")")[0]
    rec = runs_store.open_store().get(run_id)
    assert rec is not None and rec.result is not None
    answer = lesson.answer(rec.result)
    assert answer.sentences and all(sentence in out for sentence in answer.sentences), answer.sentences
    assert str(rec.result.read_committed) in out  # type: ignore[attr-defined]
    assert runs_store.open_store().lesson(run_id) == (lesson.id, None)
