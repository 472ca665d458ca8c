"""Presenter mode, the pure part: a lesson told one step at a time (question → prediction → live run →
answer), which figures a projector shows large, the chart that tells the story, and each step as a slide.

    step = first_step(has_answer=False)          # "question"
    step = next_step(step)                       # "prediction"; next_step("answer") stays "answer"
    tiles = key_figures(lesson, answer)          # the answer's figures a presenter shows large
    png = step_png(lesson, "answer", answer=answer, result=result)   # 1920 px wide, for slides

``present=1`` in a page's link turns presenter mode on (``lab.export.links.PRESENT_PARAM``). Pure: no
Kafka, no Streamlit.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Literal

import altair as alt

from lab.consumer import charts as group_charts
from lab.consumer.static import StaticProgress
from lab.consumer.strategies import StrategiesProgress
from lab.core.errors import SettingsError
from lab.export import projector
from lab.kafka.timeline import Timeline
from lab.lessons.base import Answer, Figure, Lesson
from lab.producer import charts as producer_charts
from lab.producer.run import ProduceProgress
from lab.producer.sweep import SweepProgress
from lab.replication import charts as replication_charts
from lab.runs.charts import charts_for

Step = Literal["question", "prediction", "run", "answer"]
#: The steps of a lesson in presenter mode, in order.
STEPS: tuple[Step, ...] = ("question", "prediction", "run", "answer")
#: What each step is called on its button and in its slide.
STEP_TITLES: dict[Step, str] = {"question": "The question", "prediction": "Your prediction", "run": "The run",
                                "answer": "The answer"}
#: At most this many figures are shown large: more would not fit one 1920 px row at a readable size.
MAX_KEY_FIGURES = 4


def parse_step(text: str) -> Step:
    """The step called ``text``; ``SettingsError`` naming the steps otherwise."""
    for s in STEPS:
        if s == text:
            return s
    raise SettingsError(f"{text!r} is not a step of a lesson.", hint=f"Steps: {', '.join(STEPS)}.")


def next_step(step: Step) -> Step:
    """The step after ``step`` (the answer is the last: it stays)."""
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def previous_step(step: Step) -> Step:
    """The step before ``step`` (the question is the first: it stays)."""
    return STEPS[max(STEPS.index(step) - 1, 0)]


def first_step(has_answer: bool) -> Step:
    """Where a presenter starts: at the answer when the page was opened with a finished lesson run (a link to
    it, ``?present=1&run=ID``), else at the question."""
    return "answer" if has_answer else "question"


# --- what is shown large -------------------------------------------------------------------------------------
def key_figures(lesson: Lesson, answer: Answer) -> tuple[Figure, ...]:
    """The answer's figures a presenter shows large, in the answer's order: those the lesson names
    (``Lesson.key_figures``, ``*`` matching any part), else — or when this run measured none of them — its
    first ones; at most ``MAX_KEY_FIGURES``."""
    named = [f for f in answer.figures if any(fnmatch.fnmatchcase(f.key, p) for p in lesson.key_figures)]
    return tuple(named[:MAX_KEY_FIGURES]) or answer.figures[:MAX_KEY_FIGURES]


def figure_text(figure: Figure) -> str:
    """A figure as a tile shows it: whole numbers without decimals, others to three significant digits, with
    its unit ("20", "1,150 records", "2.41", "3.27 ms")."""
    v = figure.value
    if float(v).is_integer() and abs(v) < 1e15:
        text = f"{int(v):,}"
    elif abs(v) >= 100:
        text = f"{v:,.0f}"
    else:
        text = f"{v:.3g}"
    return f"{text} {figure.unit}" if figure.unit else text


def story_chart(lesson: Lesson, result: Any) -> tuple[str, alt.TopLevelMixin] | None:
    """(name, chart) of the run's chart that tells the lesson's story (``Lesson.chart``, else the first);
    None when the run has nothing to chart."""
    charts = charts_for(result)
    if not charts:
        return None
    name = lesson.chart if lesson.chart in charts else next(iter(charts))
    return name, charts[name]


def live_chart(partial: Any) -> tuple[str, alt.TopLevelMixin] | None:
    """(name, chart) of what a lesson's experiment has measured so far (its launcher progress' ``partial``),
    the way its page draws it live; None when there is nothing to draw yet."""
    if isinstance(partial, Timeline):
        isr, steps = partial.isr_frame(), partial.steps_frame()
        if isr.empty:
            return None
        dom = replication_charts.time_domain(isr, partial.events_frame(), partial.produce_frame(), steps)
        return "isr", replication_charts.isr_timeline(isr, steps, dom)
    if isinstance(partial, SweepProgress):
        partial = partial.current
    if isinstance(partial, ProduceProgress):
        if not partial.samples:
            return None
        return "throughput", producer_charts.throughput_chart(
            producer_charts.samples_frame([(partial.label, partial.samples)]))
    if isinstance(partial, (StrategiesProgress, StaticProgress)):
        title = partial.strategy if isinstance(partial, StrategiesProgress) else partial.case
        return "group", group_charts.group_chart(partial.timeline, title=f"{title} (live)")
    if partial is None or not hasattr(partial, "settings"):
        return None
    charts = charts_for(partial)  # a result so far (transactions, the lag scenario)
    return next(iter(charts.items())) if charts else None


# --- a step as a slide ---------------------------------------------------------------------------------------
def step_lines(lesson: Lesson, step: Step, prediction: str | None = None,
               answer: Answer | None = None) -> tuple[str, list[str]]:
    """(heading, lines) of a step's slide: the question and its choices; the prediction made; the preset
    that runs; the answer's headline and the prediction judged."""
    if step == "question":
        return lesson.question, [f"• {c.text}" for c in lesson.choices]
    if step == "prediction":
        said = lesson.choice(prediction).text if prediction else "no prediction made yet"
        return lesson.question, [f"Predicted: {said}"]
    if step == "run":
        brokers = " It stops or pauses brokers." if lesson.changes_brokers else ""
        return lesson.title, [f"Runs {lesson.experiment}: {lesson.takes}.{brokers}"]
    if answer is None:
        return lesson.question, ["Not answered yet: run the lesson first."]
    judged = [s for s in answer.sentences if s.startswith(("Your prediction", "No prediction"))]
    return lesson.question, [answer.headline, *judged]


def step_png(lesson: Lesson, step: Step, *, prediction: str | None = None, answer: Answer | None = None,
             result: Any = None) -> bytes:
    """One step as a 1920 px wide PNG for slides: its heading and lines, the key figures (answer step) and
    the run's story chart (run and answer steps, when there is a run), in the projector's colours."""
    heading, lines = step_lines(lesson, step, prediction, answer)
    tiles = [(figure_text(f), f.label) for f in key_figures(lesson, answer)] if step == "answer" and answer else []
    chart = None
    if step in ("run", "answer") and result is not None:
        found = story_chart(lesson, result)
        chart = found[1] if found else None
    return projector.slide_png(f"{STEP_TITLES[step]} · {lesson.title}", heading, lines, tiles, chart)


__all__ = ["MAX_KEY_FIGURES", "STEPS", "STEP_TITLES", "Step", "figure_text", "first_step", "key_figures",
           "live_chart", "next_step", "parse_step", "previous_step", "step_lines", "step_png", "story_chart"]
