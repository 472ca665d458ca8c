"""Presenter mode driven by AppTest on the session's real cluster: ``?present=1`` opens the lesson at its
question, Next/Back walk question → prediction → run → answer, the run is the lesson's (prediction kept), and
the answer step shows the key figures of the stored result; a link to the run (``?present=1&run=ID``)
opens straight at the answer. The transactions lesson (about 10 s, no broker stopped) stands for them all:
the steps are the same code on every page, and the browser test opens each page's answer step."""

from __future__ import annotations

import html
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lab import lessons
from lab import registry as experiments
from lab.cluster import LocalCluster
from lab.lessons import present
from lab.runs import launcher
from lab.runs import store as runs_store

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE, LESSON, PREDICTION = "eos", "read-committed", "committed-only"
#: Room beyond the experiment's own time bound for the page to hand the run over (seconds).
SLACK_S = 30.0


def _open(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(f"pages/{PAGE}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _step(at: AppTest) -> str:
    captions = [c.value for c in at.caption if " · step " in c.value]
    assert len(captions) == 1, [c.value for c in at.caption]
    return captions[0]


def _html(at: AppTest) -> str:
    return html.unescape("\n".join(m.value for m in at.markdown))


def test_presenter_walks_the_steps_and_answers_from_the_stored_run(app_env: LocalCluster) -> None:
    lesson = lessons.get(LESSON)
    at = _open({"present": "1"})
    assert at.session_state["present_mode"] is True
    assert "step 1 of 4: The question" in _step(at)
    assert any(lesson.question in m.value for m in at.markdown)
    assert at.button(key="present_back").disabled and not at.button(key="present_next").disabled
    assert not at.get("selectbox") and not at.sidebar.button, "the page's own knobs and buttons are not drawn"

    at.button(key="present_next").click().run()
    assert "step 2 of 4: Your prediction" in _step(at)
    at.radio(key=f"lesson_{PAGE}_{LESSON}_predict").set_value(PREDICTION).run()
    at.button(key="present_next").click().run()
    assert "step 3 of 4: The run" in _step(at)
    assert any(lesson.choice(PREDICTION).text in m.value for m in at.markdown), "the prediction is carried on"
    at.button(key="present_back").click().run()
    assert at.radio(key=f"lesson_{PAGE}_{LESSON}_predict").value == PREDICTION, "back: the prediction is kept"
    at.button(key="present_next").click().run()

    at.button(key=f"lesson_{PAGE}_run_btn").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    run_id = at.session_state[f"lesson_{PAGE}_run"].run_id
    run = launcher.get(run_id)
    assert run is not None and run.experiment.name == lesson.experiment
    assert run.join(experiments.get(lesson.experiment).time_limit(lesson.settings) + SLACK_S), "no end in time"
    at.run()
    at.button(key="present_next").click().run()
    assert "step 4 of 4: The answer" in _step(at)
    assert at.button(key="present_next").disabled

    rec = runs_store.open_store().get(run_id)
    assert rec is not None and rec.result is not None
    assert runs_store.open_store().lesson(run_id) == (LESSON, PREDICTION)
    answer = lesson.answer(rec.result, PREDICTION)
    shown = _html(at)
    for f in present.key_figures(lesson, answer):
        assert f'<div class="present-figure-value">{present.figure_text(f)}</div>' in shown, f.label
    assert any(answer.headline in s.value for s in (*at.success, *at.warning))
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Slide (PNG)" in labels and "Lesson story (HTML)" in labels

    again = _open({"present": "1", "run": run_id})  # the link to the run: straight to its answer
    assert "step 4 of 4: The answer" in _step(again)
    for f in present.key_figures(lesson, answer):
        assert f'<div class="present-figure-value">{present.figure_text(f)}</div>' in _html(again), f.label


def test_a_bad_present_value_says_so_and_shows_the_usual_page(app_env: LocalCluster) -> None:
    at = _open({"present": "yes"})
    assert at.session_state["present_mode"] is False
    assert any("present=yes" in w.value and "allowed: 1" in w.value for w in at.warning)
    assert at.button(key=f"lesson_{PAGE}_run_btn"), "the usual panel"
    at.toggle(key="present_mode").set_value(True).run()
    assert at.query_params.get("present") in ("1", ["1"]), "the switch writes itself into the link"
    assert "step 1 of 4" in _step(at)
