"""Presenter mode's pure parts: the steps in order, the figures shown large, ``present`` in a link, and a
step as a slide (a 1920 px PNG with the step's text, its key figures and its chart)."""

from __future__ import annotations

import lesson_results as recorded
import pytest

from lab import lessons
from lab.core.errors import SettingsError
from lab.export import links, projector
from lab.export.charts import png_size
from lab.lessons import Figure, present


def test_steps_go_question_prediction_run_answer_and_stop_at_the_ends() -> None:
    assert present.STEPS == ("question", "prediction", "run", "answer")
    seen = ["question"]
    while (nxt := present.next_step(seen[-1])) != seen[-1]:  # type: ignore[arg-type]
        seen.append(nxt)
    assert seen == list(present.STEPS)
    assert present.next_step("answer") == "answer" and present.previous_step("question") == "question"
    assert present.previous_step("answer") == "run" and present.previous_step("prediction") == "question"
    assert present.first_step(has_answer=True) == "answer" and present.first_step(has_answer=False) == "question"
    with pytest.raises(SettingsError, match="Steps: question, prediction, run, answer"):
        present.parse_step("slides")


def test_key_figures_are_the_lessons_named_ones_in_the_answers_order() -> None:
    lesson = lessons.get("codec-latency")
    answer = lesson.answer(recorded.codec_sweep(), "lz4")
    keys = [f.key for f in present.key_figures(lesson, answer)]
    assert keys == ["none.p99_ms", "lz4.p99_ms", "zstd.p99_ms", "gzip.p99_ms"]
    lag = lessons.get("lag-recovery")
    keys = [f.key for f in present.key_figures(lag, lag.answer(recorded.lag_demo()))]
    assert keys == ["slow.lag_start", "slow.lag_end", "scale-out.lag_start", "scale-out.lag_end"]
    three = lessons.get("min-isr-rf3")
    shown = present.key_figures(three, three.answer(recorded.min_isr()))
    assert [(f.key, f.value) for f in shown] == [("one_down.acks_all_acked", 20.0), ("two_down.acks_all_acked", 0.0),
                                                 ("two_down.acks_1_acked", 20.0)]


@pytest.mark.parametrize("lesson", list(lessons.LESSONS.values()), ids=lambda x: x.id)
def test_every_lesson_has_key_figures_from_its_recorded_answer(lesson: lessons.Lesson) -> None:
    result = {"min-isr-rf3": recorded.min_isr, "min-isr-1-vs-2": lambda: recorded.min_isr(1, 20, 20),
              "hw-stall": recorded.hw_leo, "read-committed": recorded.transactions,
              "codec-latency": recorded.codec_sweep, "codec-bandwidth": recorded.codec_sweep,
              "cooperative-rebalance": recorded.strategies, "static-membership": recorded.static,
              "lag-recovery": recorded.lag_demo, "share-queue": recorded.share_compare}[lesson.id]()
    answer = lesson.answer(result)
    shown = present.key_figures(lesson, answer)
    assert 2 <= len(shown) <= present.MAX_KEY_FIGURES, [f.key for f in answer.figures]
    assert set(shown) <= set(answer.figures)


def test_a_figure_as_a_tile_says_it_short() -> None:
    assert present.figure_text(Figure("a", "a", 20.0, "messages")) == "20 messages"
    assert present.figure_text(Figure("b", "b", 1150.0)) == "1,150"
    assert present.figure_text(Figure("c", "c", 2.4134, "ms")) == "2.41 ms"
    assert present.figure_text(Figure("d", "d", 412345.6, "msg/s")) == "412,346 msg/s"


def test_present_in_a_link_is_read_kept_and_refused_with_a_note() -> None:
    assert links.parse_present("1") == (True, None) and links.parse_present("true") == (True, None)
    assert links.parse_present(None) == (False, None) and links.parse_present("0") == (False, None)
    on, note = links.parse_present("yes")
    assert not on and note is not None and "present=yes" in note and "allowed: 1" in note
    assert links.with_present("/producer?mode=codec") == "/producer?mode=codec&present=1"
    assert links.with_present("/lag") == "/lag?present=1" and links.with_present("/lag", on=False) == "/lag"


def test_step_lines_say_what_each_step_shows() -> None:
    lesson = lessons.get("min-isr-rf3")
    heading, lines = present.step_lines(lesson, "question")
    assert heading == lesson.question and len(lines) == len(lesson.choices)
    _, lines = present.step_lines(lesson, "prediction", "one-down-ok")
    assert lines == [f"Predicted: {lesson.choice('one-down-ok').text}"]
    answer = lesson.answer(recorded.min_isr(), "never-refused")
    _, lines = present.step_lines(lesson, "answer", answer=answer)
    assert lines[0] == answer.headline and "did not hold" in lines[1]


def test_the_answer_step_as_a_slide_has_its_figures_and_chart() -> None:
    lesson = lessons.get("codec-latency")
    result = recorded.codec_sweep()
    answer = lesson.answer(result, "lz4")
    tiles = [(present.figure_text(f), f.label) for f in present.key_figures(lesson, answer)]
    found = present.story_chart(lesson, result)
    assert found is not None and found[0] == "latency"
    svg = projector.slide_svg("The answer", lesson.question, [answer.headline], tiles, found[1])
    for value, _label in tiles:
        assert f'font-size="{projector.FIGURE_FONT}" font-weight="bold"' in svg and f">{value}<" in svg
    assert svg.count("<svg") == 2, "the chart is nested in the slide"
    png = present.step_png(lesson, "answer", prediction="lz4", answer=answer, result=result)
    width, height = png_size(png)
    assert width == projector.SLIDE_WIDTH and height >= projector.SLIDE_HEIGHT
    q = png_size(present.step_png(lesson, "question"))
    assert q == (projector.SLIDE_WIDTH, projector.SLIDE_HEIGHT)


def test_projector_charts_are_high_contrast_and_sized() -> None:
    found = present.story_chart(lessons.get("cooperative-rebalance"), recorded.strategies())
    assert found is not None
    spec = projector.for_projector(found[1]).to_dict()
    config = spec["config"]
    assert config["range"]["category"] == list(projector.PALETTE)
    assert config["axis"]["labelFontSize"] >= 20 and config["axis"]["labelColor"] == "#000000"
    assert config["line"]["strokeWidth"] >= 3
