"""The Lesson panel, with presenter mode for a projector: the entry point each phase page calls.

    lesson_panel("producer", cluster)        # one call, near the top of the page

Off (the usual page): a "Presenter mode" switch above the panel of ``pages._lesson``. On (the switch, or
``?present=1`` in the link): the sidebar collapsed, the lesson told one step at a time — question,
prediction, live run, answer — with Back/Next buttons and the arrow keys, key figures large, charts in the
projector's colours (``lab.export.projector``), a PNG of each step for slides and the lesson's story as one
HTML file; the rest of the page (its knobs and views) is not drawn. The steps reuse the panel's parts
(``render_question``, ``render_prediction``, ``render_run``, the answer), and the run is the panel's run:
the same launcher, run store and ``?run=ID`` link.
"""

from __future__ import annotations

import html
from typing import Any

import streamlit as st

from lab import LabError
from lab.cluster import Cluster
from lab.export import links, projector
from lab.lessons import Answer, Lesson, present
from pages import _lesson
from pages._class import class_panel
from pages._runner import RUN_PARAM
from pages._shared import show_error

#: Session-state key of the presenter-mode switch (read by the app for the sidebar's state, too).
PRESENT_KEY = "present_mode"
_NOTE_KEY = "present_link_note"
#: The buttons the arrow keys press (their keys, the same on every page: one panel per page).
NEXT_KEY, BACK_KEY = "present_next", "present_back"

#: Large type and high contrast for the main block while presenting (the key figures ≥ 48 px: 72 px).
_STYLE = """<style>
[data-testid="stMainBlockContainer"]{max-width:100%;padding-top:2rem;color:#000}
[data-testid="stMainBlockContainer"] p,[data-testid="stMainBlockContainer"] li{font-size:28px;line-height:1.35;
color:#000}
[data-testid="stMainBlockContainer"] h1{font-size:40px}
[data-testid="stMainBlockContainer"] h4{font-size:46px;line-height:1.2;color:#000}
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p{font-size:22px;color:#222}
[data-testid="stMainBlockContainer"] [role="radiogroup"] p{font-size:30px}
[data-testid="stMainBlockContainer"] button p{font-size:24px}
.present-figures{display:flex;flex-wrap:wrap;gap:24px 40px;margin:12px 0 20px}
.present-figure{flex:1 1 300px;min-width:0;border-left:10px solid #0042a8;padding-left:18px}
.present-figure-value{font-size:72px;font-weight:700;line-height:1.1;color:#0042a8;overflow-wrap:anywhere}
.present-figure-label{font-size:24px;line-height:1.3;color:#000}
</style>"""

#: ArrowRight / ArrowLeft press Next / Back (Streamlit has no key events): once per browser tab, never while a
#: field, a radio group or a slider has the keys.
_KEYS_SCRIPT = f"""<script>
(() => {{
  if (document.labPresentKeys) return;
  document.labPresentKeys = true;
  document.addEventListener("keydown", (e) => {{
    const which = {{ArrowRight: "{NEXT_KEY}", ArrowLeft: "{BACK_KEY}"}}[e.key];
    const t = e.target;
    if (!which || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (t && t.closest && t.closest("input, textarea, select, [contenteditable='true'], [role='radiogroup'], "
                                    + "[role='slider']")) return;
    const b = document.querySelector(".st-key-" + which + " button");
    if (b && !b.disabled) {{ e.preventDefault(); b.click(); }}
  }});
}})();
</script>"""


# --- the mode ----------------------------------------------------------------------------------------------
def presenting() -> bool:
    """Presenter mode is on: the switch, which a session's first run takes from the link (``?present=1``)."""
    if PRESENT_KEY not in st.session_state:
        on, note = links.parse_present(st.query_params.get(links.PRESENT_PARAM))
        st.session_state[PRESENT_KEY] = on
        if note:
            st.session_state[_NOTE_KEY] = note
    return bool(st.session_state[PRESENT_KEY])


def sidebar_state() -> str:
    """The sidebar as the app opens it: collapsed while presenting."""
    return "collapsed" if presenting() else "auto"


def _keep_in_link() -> None:
    """The switch writes itself into the address bar, so a copied link opens the same mode."""
    if st.session_state.get(PRESENT_KEY):
        st.query_params[links.PRESENT_PARAM] = "1"
    elif links.PRESENT_PARAM in st.query_params:
        del st.query_params[links.PRESENT_PARAM]


def _switch() -> None:
    st.toggle("Presenter mode", key=PRESENT_KEY, on_change=_keep_in_link,
              help="For a projector: the sidebar collapsed, the lesson one step at a time (←/→ keys), large figures, "
                   "high-contrast charts. The link keeps it (?present=1).")
    note = st.session_state.pop(_NOTE_KEY, None)
    if note:
        st.warning(note, icon=":material/link_off:")


def lesson_panel(page: str, cluster: Cluster) -> None:
    """The Lesson panel of ``page``: the usual panel under a presenter-mode switch; in presenter mode the
    lesson alone, one step at a time (and the rest of the page is not drawn). Not presenting, the sidebar's
    Class panel too (``pages._class``): a teacher sends everyone to this page's lesson from there."""
    if not presenting():
        class_panel(page)
        _switch()
        _lesson.lesson_panel(page, cluster)
        return
    present_panel(page, cluster)
    st.stop()


# --- presenter mode ----------------------------------------------------------------------------------------
def _step_key(page: str, lesson: Lesson) -> str:
    return f"present_{page}_{lesson.id}_step"


def _prediction_key(page: str, lesson: Lesson) -> str:
    return f"present_{page}_{lesson.id}_prediction"


def _move(key: str, forward: bool) -> None:
    step = present.parse_step(st.session_state[key])
    st.session_state[key] = present.next_step(step) if forward else present.previous_step(step)


def present_panel(page: str, cluster: Cluster) -> None:
    """One step of the page's lesson, with Back/Next, the arrow keys, the step's slide and the lesson's story."""
    st.markdown(_STYLE, unsafe_allow_html=True)
    head = st.columns([5, 2], vertical_alignment="center")
    with head[1]:
        _switch()
    with head[0]:
        lesson = _lesson.pick(page)
    if lesson is None:
        st.info("This page has no lesson yet.")
        return
    state, got = _lesson.answer_for(page, lesson)
    answer = got if state == "done" and isinstance(got, Answer) else None
    key = _step_key(page, lesson)
    if key not in st.session_state:
        st.session_state[key] = present.first_step(answer is not None)
    step = present.parse_step(st.session_state[key])
    saved = _prediction_key(page, lesson)
    radio = f"lesson_{page}_{lesson.id}_predict"
    prediction: str | None = st.session_state.get(saved)
    run = _lesson.current(page)
    if prediction is None and run is not None and run.lesson == lesson.id:
        prediction = run.prediction  # opened from a link to the run: the prediction kept with it

    number = present.STEPS.index(step) + 1
    st.caption(f"{lesson.title} · step {number} of {len(present.STEPS)}: {present.STEP_TITLES[step]}")
    result: Any = None
    if step == "question":
        _lesson.render_question(lesson)
        st.markdown("\n".join(f"- {c.text}" for c in lesson.choices))
    elif step == "prediction":
        _lesson.render_question(lesson)
        if radio not in st.session_state and prediction is not None:
            st.session_state[radio] = prediction  # the radio is gone while other steps show: bring its value back
        prediction = _lesson.render_prediction(lesson, page)
        st.session_state[saved] = prediction
    elif step == "run":
        st.markdown(f"#### {lesson.title}")
        if prediction is not None:
            st.markdown(f"Predicted: **{lesson.choice(prediction).text}**")
        _run_step(page, lesson, cluster, prediction)
    else:
        result = _answer_step(page, lesson, state, got)
    _nav(page, lesson, step, key, prediction, answer, result)


def _run_step(page: str, lesson: Lesson, cluster: Cluster, prediction: str | None) -> None:
    _lesson.render_run(lesson, page, cluster, prediction)
    if _lesson.runner_key(page, lesson) == _lesson.RUNNER_KEYS.get(page, page):  # else render_run shows it
        _lesson.runner_for(page, lesson, cluster).show(lambda _r: None, _live, idle="")


def _live(partial: Any) -> None:
    found = present.live_chart(partial)
    if found is not None:
        st.altair_chart(projector.for_projector(found[1]), theme=None, width="stretch",
                        key=f"present_live_{found[0]}")


def _answer_step(page: str, lesson: Lesson, state: str, got: Any) -> Any:
    """The answer: headline, key figures large, the story chart, the sentences; the run's result (or None)."""
    st.markdown(f"#### {lesson.question}")
    if state == "running":
        st.info("The run is still going: its live view is on the previous step. The answer appears here when it "
                "ends.")
        return None
    if state == "failed" and isinstance(got, LabError):
        show_error(got)
        return None
    if not isinstance(got, Answer):
        st.info("No run yet: go back one step and press **Run the lesson**.")
        return None
    run = _lesson.current(page)
    result = _lesson.run_result(run)[1] if run is not None else None
    (st.success if got.shown else st.warning)(f"**{got.headline}**")
    tiles = present.key_figures(lesson, got)
    if tiles:
        st.markdown('<div class="present-figures">' + "".join(
            f'<div class="present-figure"><div class="present-figure-value">{html.escape(present.figure_text(f))}</div>'
            f'<div class="present-figure-label">{html.escape(f.label)}</div></div>' for f in tiles) + "</div>",
            unsafe_allow_html=True)
    judged = [s for s in got.sentences if s.startswith(("Your prediction", "No prediction"))]
    if judged:
        st.markdown(f"**{judged[0]}**")
    found = present.story_chart(lesson, result) if result is not None else None
    if found is not None:
        st.altair_chart(projector.for_projector(found[1]), theme=None, width="stretch", key=f"present_{found[0]}")
    st.markdown("\n".join(f"- {s}" for s in got.sentences if s not in judged))
    st.markdown("**Try next** (opens the page with one knob changed, still presenting):\n" + "\n".join(
        f"- [{t.label}]({links.with_present(link)}): {t.look_for}" for t, link in lesson.try_next_links()))
    return result


def _nav(page: str, lesson: Lesson, step: present.Step, key: str, prediction: str | None, answer: Answer | None,
         result: Any) -> None:
    """Back / Next (and the arrow keys), this step as a PNG, the lesson's story, and the link to this view."""
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    row.button("Back", key=BACK_KEY, icon=":material/arrow_back:", disabled=step == present.STEPS[0],
               on_click=_move, args=(key, False))
    row.button("Next", key=NEXT_KEY, icon=":material/arrow_forward:", type="primary",
               disabled=step == present.STEPS[-1], on_click=_move, args=(key, True))
    row.download_button("Slide (PNG)", key=f"present_{step}_png", on_click="ignore", mime="image/png",
                        file_name=f"lesson-{lesson.id}-{present.STEPS.index(step) + 1}-{step}.png",
                        data=lambda: present.step_png(lesson, step, prediction=prediction, answer=answer,
                                                      result=result),
                        icon=":material/slideshow:", help="This step as a 1920 px wide image for slides.")
    if answer is not None and result is not None and step == "answer":
        with row:
            _lesson.story_download(lesson, answer, result, key="present")
    run_id = st.query_params.get(RUN_PARAM)
    st.caption("← / → move between the steps. The link to this view: "
               f"`/{page}?{links.PRESENT_PARAM}=1" + (f"&{RUN_PARAM}={run_id}`" if run_id else "`"))
    st.html(_KEYS_SCRIPT, unsafe_allow_javascript=True)
