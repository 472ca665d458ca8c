"""The Lesson panel at the top of each phase page: the course's question, a prediction, one click to run the
lesson's preset (through the page's own runner, so its usual live charts draw below), and the answer
computed from this run's figures, with links to try next.

    lesson_panel("producer", cluster)        # one call, near the top of the page

Three clicks from opening the page to the answer: predict, run, read. The parts are separate functions
(``render_question``, ``render_prediction``, ``render_run``, ``render_answer``) so another view (a
presenter's, one step at a time) can show them one by one. The run keeps the lesson and the prediction
in the run store; a reload, or a link to the run (``?run=ID``), shows the answer again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError, lessons
from lab import registry as experiments
from lab.cluster import Cluster
from lab.kafka import timeline
from lab.lessons import Answer, Lesson
from lab.lessons.story import story_html
from lab.replication import charts as replication_charts
from lab.runs import launcher
from lab.runs import store as runs_store
from pages._charts import show_chart
from pages._runner import RUN_PARAM, PageRunner, cancel, session_id
from pages._shared import show_error
from pages._whoami import identity

#: The key of each page's own runner (``PageRunner(..., key=...)``), where it is not the page's name.
RUNNER_KEYS = {"replication": "repl"}
#: Live lines shown while a lesson runs on a page that has no runner of its experiment (the cluster page).
LIVE_LINES = 8


@dataclass(frozen=True)
class LessonRun:
    """The panel's run: its id, the lesson and the prediction made before it."""

    run_id: str
    lesson: str
    prediction: str | None


def _state_key(page: str) -> str:
    return f"lesson_{page}_run"


def runner_key(page: str, lesson: Lesson) -> str:
    """The runner that runs the lesson: the page's own when it offers the experiment, else the panel's."""
    exp_page = experiments.get(lesson.experiment).page
    return RUNNER_KEYS.get(page, page) if exp_page == page else f"{page}_lesson"


def runner_for(page: str, lesson: Lesson, cluster: Cluster) -> PageRunner:
    exp_page = experiments.get(lesson.experiment).page or page
    return PageRunner(exp_page, cluster, key=runner_key(page, lesson))


def current(page: str) -> LessonRun | None:
    """The lesson run of this page: this session's, or the one a ``?run=`` link names when it was a lesson's."""
    found = st.session_state.get(_state_key(page))
    if isinstance(found, LessonRun):
        return found
    rid = st.query_params.get(RUN_PARAM)
    checked = f"lesson_{page}_checked_run"
    if not rid or st.session_state.get(checked) == rid:  # the store is asked once per linked run
        return None
    st.session_state[checked] = rid
    try:
        tag = runs_store.open_store().lesson(rid)
    except LabError:
        return None
    if tag is None or tag[0] not in lessons.LESSONS or lessons.get(tag[0]).page != page:
        return None
    found = LessonRun(rid, tag[0], tag[1])
    st.session_state[_state_key(page)] = found
    return found


# --- the parts ------------------------------------------------------------------------------------------
def pick(page: str) -> Lesson | None:
    """The lesson the panel offers (a choice when the page has several; the current run's by default)."""
    offered = lessons.for_page(page)
    if len(offered) <= 1:
        return offered[0] if offered else None
    key = f"lesson_{page}_pick"
    ids = [x.id for x in offered]
    if key not in st.session_state:
        run = current(page)
        st.session_state[key] = run.lesson if run is not None and run.lesson in ids else ids[0]
    chosen = st.segmented_control("Lesson", ids, format_func=lambda i: lessons.get(i).title, key=key,
                                  label_visibility="collapsed")
    return lessons.get(chosen or ids[0])


def render_question(lesson: Lesson) -> None:
    st.markdown(f"#### {lesson.question}")
    brokers = " It stops or pauses brokers; the cluster is put back however it ends." if lesson.changes_brokers \
        else ""
    st.caption(f"{lesson.source}. The run: {lesson.takes}.{brokers}")


def render_prediction(lesson: Lesson, page: str) -> str | None:
    """The learner's prediction (a choice key), or None before they pick one."""
    keys = [c.key for c in lesson.choices]
    return st.radio("Your prediction, before you run it", keys, index=None,
                    format_func=lambda k: lesson.choice(k).text, key=f"lesson_{page}_{lesson.id}_predict")


def class_settings(exp: Any, settings: Any) -> Any:
    """In a class, a preset whose experiment deletes and makes its topic again gets a topic of this browser
    session's own, so the class's runs of one lesson run side by side (light ones) rather than in single file."""
    if not exp.own_topic or identity()[0] is None:
        return settings
    tag = (session_id() or "x")[:8]
    for name in ("topic", "topic_prefix"):
        if isinstance(getattr(settings, name, None), str):
            return dataclasses.replace(settings, **{name: f"{getattr(settings, name)}-{tag}"})
    return settings


def render_run(lesson: Lesson, page: str, cluster: Cluster, prediction: str | None) -> None:
    """**Run the lesson**: the preset through the runner (the page's own, so its live charts draw below)."""
    runner = runner_for(page, lesson, cluster)
    r = runner.current()
    running = r is not None and not r.done
    cols = st.columns([2, 1, 5], vertical_alignment="center")
    if cols[0].button("Running…" if running else "Run the lesson", type="primary", key=f"lesson_{page}_run_btn",
                      disabled=running):
        box = st.container()
        exp = experiments.get(lesson.experiment)
        if runner.start(exp, class_settings(exp, lesson.settings), box, lesson=(lesson.id, prediction)):
            started = runner.current()
            if started is not None:
                st.session_state[_state_key(page)] = LessonRun(started.run_id, lesson.id, prediction)
            st.rerun()
    mine = current(page)
    ours = running and r is not None and mine is not None and r.run_id == mine.run_id
    if ours and r is not None and cols[1].button("Cancel", key=f"lesson_{page}_cancel_btn"):
        cancel(r, cols[2])
    if prediction is None and not running:
        cols[2].caption("Pick a prediction first to have it judged; the run works without one too.")
    if runner_key(page, lesson) != RUNNER_KEYS.get(page, page):  # no page view of this experiment: show it here
        runner.refusal(st.container())  # (a page's own runner shows its refusal with its controls)
        runner.show(lambda _r: None, _live_partial, idle="")


def _live_partial(partial: Any) -> None:
    """What a lesson shows while it runs on a page without a view of its experiment (the cluster page)."""
    if isinstance(partial, timeline.Timeline):
        isr, steps = partial.isr_frame(), partial.steps_frame()
        if not isr.empty:
            dom = replication_charts.time_domain(isr, partial.events_frame(), partial.produce_frame(), steps)
            show_chart(replication_charts.isr_timeline(isr, steps, dom), "isr", key="lesson_live_isr")
        st.code("\n".join(f"{s.t:6.1f} s  {s.label}" for s in partial.steps[-LIVE_LINES:]) or "starting…")


def answer_for(page: str, lesson: Lesson) -> tuple[str, Answer | LabError | None]:
    """This page's lesson run of ``lesson``, read as an answer: ("none" | "running" | "failed" | "done", …)."""
    run = current(page)
    if run is None or not _answers(run, lesson):
        return "none", None
    state, result = run_result(run)
    if state != "done":
        return state, result
    try:  # a prediction is judged only by the lesson it was made for
        return "done", lesson.answer(result, run.prediction if run.lesson == lesson.id else None)
    except LabError as exc:
        return "failed", exc


def run_result(run: LessonRun) -> tuple[str, Any]:
    """The run's result: ("running", None) | ("failed", LabError) | ("done", result), from the launcher while the
    run is this server's, else from the run store."""
    live = launcher.get(run.run_id)
    if live is not None and not live.done:
        return "running", None
    result: Any = None
    if live is not None:
        err = live.error
        if err is not None:
            return "failed", err if isinstance(err, LabError) else LabError(str(err))
        result = live.result
    else:
        try:
            rec = runs_store.open_store().get(run.run_id)
        except LabError as exc:
            return "failed", exc
        result = rec.result if rec is not None else None
    if result is None:
        return "failed", LabError(f"Run {run.run_id} has no result to answer from.")
    return "done", result


def _answers(run: LessonRun, lesson: Lesson) -> bool:
    """The run answers ``lesson``: it was made for it, or for a lesson with the same experiment and preset (the
    two codec questions read one sweep)."""
    if run.lesson == lesson.id:
        return True
    other = lessons.LESSONS.get(run.lesson)
    return other is not None and (other.experiment, other.settings) == (lesson.experiment, lesson.settings)


def story_download(lesson: Lesson, answer: Answer, result: Any, *, key: str) -> None:
    """The lesson's whole story (question, predictions, charts, answer) as one offline HTML file, made on click."""
    st.download_button("Lesson story (HTML)", data=lambda: story_html(lesson, answer, result),
                       file_name=f"lesson-{lesson.id}-{answer.run_id or 'run'}.html", mime="text/html",
                       key=f"{key}_story_html", on_click="ignore", icon=":material/description:",
                       help="The question, the predictions, the charts and the answer in one file that opens "
                            "offline, for the class's notes.")


def render_answer(lesson: Lesson, answer: Answer, result: Any = None) -> None:
    """The answer from this run: what it showed (or that it did not), the sentences with the figures, the
    prediction judged, and what to try next (and, with the ``result``, its story as a file)."""
    if answer.shown:
        st.success(f"**{answer.headline}**")
    else:
        st.warning(f"**{answer.headline}** The reasons are in the answer below.")
    st.markdown("\n".join(f"- {s}" for s in answer.sentences))
    with st.expander("The figures, as numbers"):
        st.dataframe(pd.DataFrame([{"figure": f.label, "value": f.value, "unit": f.unit} for f in answer.figures]),
                     hide_index=True, key=f"lesson_{lesson.id}_figures")
    render_try_next(lesson)
    if answer.run_id:
        st.caption(f"Run `{answer.run_id}`, kept in the run store with your prediction (the Runs page has it).")
    if result is not None:
        story_download(lesson, answer, result, key=f"lesson_{lesson.id}")


def render_try_next(lesson: Lesson) -> None:
    st.markdown("**Try next** (opens the page with one knob changed; press Run there):\n"
                + "\n".join(f"- [{t.label}]({link}): {t.look_for}" for t, link in lesson.try_next_links()))


# --- the panel ------------------------------------------------------------------------------------------
def lesson_panel(page: str, cluster: Cluster) -> None:
    """The Lesson panel: pick (when several), question, prediction, run, answer."""
    with st.container(border=True, key=f"lesson_{page}_panel"):
        st.markdown("**Lesson**")
        lesson = pick(page)
        if lesson is None:
            return
        render_question(lesson)
        prediction = render_prediction(lesson, page)
        render_run(lesson, page, cluster, prediction)
        state, got = answer_for(page, lesson)
        if state == "running":
            st.caption("Running — its live view is below. The answer appears here when it ends.")
        elif state == "failed" and isinstance(got, LabError):
            show_error(got)
        elif state == "done" and isinstance(got, Answer):
            run = current(page)
            render_answer(lesson, got, run_result(run)[1] if run is not None else None)
