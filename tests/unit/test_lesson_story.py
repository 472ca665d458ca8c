"""A lesson's story as one offline HTML file, from recorded results: the question, every prediction with the
one made and the one shown marked, the answer's sentences and figures, the run's charts as inline SVG, no
scripts and nothing fetched; and `kafka-lab lesson export RUN_ID` writing it from a stored lesson run."""

from __future__ import annotations

import html
import re
from pathlib import Path

import lesson_results as recorded
import pytest

from lab import lessons
from lab.cli import main
from lab.lessons.present import figure_text
from lab.lessons.story import story_html
from lab.runs.store import RunRecord, open_store


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_story_holds_question_predictions_answer_figures_and_charts() -> None:
    lesson = lessons.get("codec-latency")
    result = recorded.codec_sweep()
    answer = lesson.answer(result, "zstd")
    page = story_html(lesson, answer, result)
    text = _text(page)
    assert lesson.question in text and lesson.title in text
    for c in lesson.choices:
        assert c.text in text
    assert "← predicted" in text and "← what this run showed" in text
    assert "The prediction did not hold." in text
    for sentence in answer.sentences:
        assert sentence in text
    for f in answer.figures:
        assert f.label in text and figure_text(f) in text
    assert page.count("<svg") >= 2 and "Latency percentiles" in text, "the story chart comes with the others"
    assert page.index("Latency percentiles") < page.index("<h2>Every figure"), "charts before the figure table"
    assert answer.run_id is not None and answer.run_id in text


def test_story_is_offline_no_scripts_nothing_fetched() -> None:
    lesson = lessons.get("cooperative-rebalance")
    result = recorded.strategies()
    page = story_html(lesson, lesson.answer(result), result)
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing is fetched"
    assert "@import" not in page and "url(" not in page
    assert "No prediction was made before this run." in _text(page)


def test_a_story_of_a_run_that_did_not_show_it_says_so() -> None:
    lesson = lessons.get("read-committed")
    result = recorded.transactions(aborted=0)
    answer = lesson.answer(result, "committed-only")
    assert not answer.shown
    text = _text(story_html(lesson, answer, result))
    assert "Not shown in this run." in text and "cannot be judged" in text


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "runs.sqlite"
    monkeypatch.setenv("KAFKA_LAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(db))
    monkeypatch.delenv("KAFKA_LAB_BOOTSTRAP", raising=False)
    return db


def test_cli_exports_a_stored_lesson_runs_story(store_env: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    result = recorded.lag_demo()
    store = open_store(store_env)
    store.save(RunRecord.of(result))
    run_id = result.run.run_id
    store.set_lesson(run_id, "lag-recovery", "grows-then-drains")
    out = tmp_path / "story.html"
    assert main(["lesson", "export", run_id, "--html", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    text = _text(out.read_text())
    lesson = lessons.get("lag-recovery")
    assert lesson.question in text and "← predicted" in text
    assert lesson.answer(result, "grows-then-drains").sentences[0] in text


def test_cli_export_refuses_a_run_that_is_not_a_lessons(store_env: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    result = recorded.lag_demo()
    open_store(store_env).save(RunRecord.of(result))
    assert main(["lesson", "export", result.run.run_id, "--html", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert "was not made for a lesson" in err and "runs export" in err
    assert main(["lesson", "export", "nope"]) == 2
    assert "No stored run" in capsys.readouterr().err
    assert main(["lesson", "run", "lag-recovery", "--html", str(tmp_path / "missing" / "x.html")]) == 2
    assert "cannot write a file there" in capsys.readouterr().err, "refused before anything runs"
