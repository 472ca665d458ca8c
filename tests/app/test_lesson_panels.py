"""Every page's Lesson panel driven by AppTest on the session's real cluster, the three-click path: predict,
press "Run the lesson", read the answer. The answer on the page is the lesson's answer computed from the
run as stored (its figures quoted), the prediction is kept with the run, and a reload (``?run=ID``)
answers again from the store. Lessons whose experiment stops brokers take the cluster alone."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lab import lessons
from lab import registry as experiments
from lab.cluster import LocalCluster
from lab.lag.scenario import LagDemoResult
from lab.lessons import Lesson
from lab.lessons import producer as producer_lessons
from lab.queues.settings import ShareCompareSettings
from lab.runs import launcher
from lab.runs import store as runs_store
from tests.app.test_share_page import needs_share_groups

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
#: Room beyond the experiment's own time bound for the page to hand the run over (seconds).
SLACK_S = 30.0


def _case(page: str, lesson_id: str, prediction: str) -> object:
    marks = [pytest.mark.breaks_brokers] if lessons.get(lesson_id).changes_brokers else []
    return pytest.param(page, lesson_id, prediction, marks=marks, id=f"{page}-{lesson_id}")


#: Each page's first lesson (the one the panel opens on), and a prediction to make.
CASES = [
    _case("cluster", "min-isr-rf3", "one-down-ok"),
    _case("replication", "min-isr-1-vs-2", "same"),
    _case("eos", "read-committed", "committed-only"),
    _case("producer", "codec-latency", "lz4"),
    _case("consumer", "cooperative-rebalance", "fewer-stop"),
    _case("lag", "lag-recovery", "grows-then-drains"),
    pytest.param("share", "share-queue", "share-faster", marks=[needs_share_groups], id="share-share-queue"),
]


#: The lessons' presets, shorter: the codec lessons on two compressing codecs, 1.5 s flat out and 1.5 s at the
#: fixed rate each (the full preset, four codecs at 3 s + 3.5 s, took 76 s here under load); 3 probes per phase
#: for min.insync.replicas; two members and no hold for the rebalance; 6 s phases for lag. The panel's path is
#: the same and the answer is still this run's; what the full presets show is the lessons' logic, unit-tested.
SHORT = {
    "codec": dataclasses.replace(producer_lessons.PRESET, codecs=("lz4", "gzip"), fixed_rate_s=1.5,
                                 base=producer_lessons.PRESET.base.replace(duration_s=1.5)),
}


def shorter(lesson: Lesson) -> Any:
    s = lesson.settings
    if s == producer_lessons.PRESET:
        return SHORT["codec"]
    # (and a topic of its own: a preset's topic is made again by other tests' runs with the page's defaults)
    changes = {"probe_messages": 3, "members": 2, "hold_s": 0.0, "phase_s": 6.0,
               **({"records": 100, "members": 4} if isinstance(s, ShareCompareSettings) else {}),
               "topic": f"lab-lesson-{lesson.id}-{uuid.uuid4().hex[:8]}"}
    names = {f.name for f in dataclasses.fields(s)}
    return dataclasses.replace(s, **{k: v for k, v in changes.items() if k in names})


@pytest.fixture(autouse=True)
def short_lessons(monkeypatch: pytest.MonkeyPatch) -> None:
    for lesson in list(lessons.LESSONS.values()):
        monkeypatch.setitem(lessons.LESSONS, lesson.id, dataclasses.replace(lesson, settings=shorter(lesson)))


def page_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]
                     + [e.value for e in (*at.success, *at.warning)])


def three_clicks(page: str, lesson: Lesson, prediction: str) -> tuple[AppTest, str]:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    assert lesson.question in page_text(at), "the panel asks the lesson's question at the top"
    at.radio(key=f"lesson_{page}_{lesson.id}_predict").set_value(prediction).run()  # 1: predict
    at.button(key=f"lesson_{page}_run_btn").click().run()  # 2: run
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    run_id = at.session_state[f"lesson_{page}_run"].run_id
    run = launcher.get(run_id)
    assert run is not None and run.experiment.name == lesson.experiment
    assert run.join(experiments.get(lesson.experiment).time_limit(lesson.settings) + SLACK_S), "no end in time"
    at.run()  # 3: read (the page's live view reruns the page when the run ends)
    assert not at.exception, at.exception
    return at, run_id


@pytest.mark.parametrize("page, lesson_id, prediction", CASES)
def test_three_clicks_from_opening_the_page_to_the_answer(app_env: LocalCluster, page: str, lesson_id: str,
                                                          prediction: str) -> None:
    lesson = lessons.get(lesson_id)
    at, run_id = three_clicks(page, lesson, prediction)
    store = runs_store.open_store()
    rec = store.get(run_id)
    assert rec is not None and rec.result is not None and rec.status == "finished", rec and rec.error
    assert store.lesson(run_id) == (lesson.id, prediction), "the prediction is kept with the run"
    expected = lesson.answer(rec.result, prediction)
    text = page_text(at)
    for sentence in expected.sentences:  # the page's answer is this run's, sentence for sentence
        assert sentence in text, f"missing from the page: {sentence}"
    assert expected.figures and expected.run_id == run_id
    assert run_id in text
    assert expected.headline in text  # "This run shows: …" or "Not shown in this run."
    if isinstance(rec.result, LagDemoResult):  # and a figure read straight from the stored result
        slow = rec.result.phases[0]
        assert f"lag {slow.lag_start:,} → {slow.lag_end:,} records" in text
    for other in lessons.for_page(page):  # a lesson with the same preset reads the same run (the two codecs)
        if other.id != lesson.id and (other.experiment, other.settings) == (lesson.experiment, lesson.settings):
            at.session_state[f"lesson_{page}_pick"] = other.id
            at.run()
            assert not at.exception, at.exception
            theirs = other.answer(rec.result)
            assert other.question in page_text(at)
            assert all(s in page_text(at) for s in theirs.sentences), theirs.sentences
    # a reload of the page's link (?run=ID, as the address bar has it) answers again from the store
    again = AppTest.from_file(APP, default_timeout=60)
    again.switch_page(f"pages/{page}.py")
    again.query_params["run"] = run_id
    again.run()
    assert not again.exception, again.exception
    assert expected.sentences[0] in page_text(again)
