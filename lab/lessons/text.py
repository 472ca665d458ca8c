"""Lessons and their answers as terminal text (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.lessons.base import Answer, Lesson


def listing(lessons: Iterable[Lesson]) -> str:
    """One line per lesson: phase, id, what it takes, the question."""
    rows = [(f"{x.phase}", x.id, x.experiment + (" (changes brokers)" if x.changes_brokers else ""), x.question)
            for x in lessons]
    if not rows:
        return "No lessons."
    w_id = max(len(r[1]) for r in rows)
    w_exp = max(len(r[2]) for r in rows)
    head = f"{'phase':<5}  {'id':<{w_id}}  {'experiment':<{w_exp}}  question"
    return "\n".join([head, *(f"{p:<5}  {i:<{w_id}}  {e:<{w_exp}}  {q}" for p, i, e, q in rows)])


def show(lesson: Lesson) -> str:
    """The lesson before it runs: the question, the choices, what runs, what to try next."""
    lines = [f"{lesson.title} (phase {lesson.phase}, `{lesson.id}`)", "", lesson.question,
             f"  Asked in: {lesson.source}", "", f"Predict one (kafka-lab lesson run {lesson.id} --predict CHOICE):"]
    lines += [f"  {c.key:<20} {c.text}" for c in lesson.choices]
    brokers = ", which stops, pauses or restarts brokers" if lesson.changes_brokers else ""
    lines += ["", f"Runs: {lesson.experiment}{brokers}" + (f" ({lesson.takes})" if lesson.takes else ""),
              f"Page: {lesson.link()}"]
    if lesson.try_next:
        lines += ["", "Try next:"]
        lines += [f"  {t.label}: {link}\n    {t.look_for}" for t, link in lesson.try_next_links()]
    return "\n".join(lines)


def answer(lesson: Lesson, ans: Answer) -> str:
    """The answer: the measured sentences, the figures, and what to try next."""
    lines = [lesson.question, "", ans.headline, ""]
    lines += [f"- {s}" for s in ans.sentences]
    if ans.figures:
        lines += ["", "Figures:"]
        w = max(len(f.label) for f in ans.figures)
        lines += [f"  {f.label:<{w}}  {f.value:,.6g}{' ' + f.unit if f.unit else ''}" for f in ans.figures]
    if lesson.try_next:
        lines += ["", "Try next:"]
        lines += [f"  {t.label}: {link}\n    {t.look_for}" for t, link in lesson.try_next_links()]
    if ans.run_id:
        lines += ["", f"Run {ans.run_id} (kafka-lab runs show {ans.run_id})."]
    return "\n".join(lines)


def answer_dict(ans: Answer) -> dict[str, Any]:
    """The answer for --json: the figures as numbers by key (and with their labels and units)."""
    return {"lesson": ans.lesson, "shown": ans.shown, "outcome": ans.outcome, "outcome_text": ans.outcome_text,
            "prediction": ans.prediction, "held": ans.held, "sentences": list(ans.sentences),
            "figures": ans.values, "figure_labels": {f.key: {"label": f.label, "unit": f.unit} for f in ans.figures},
            "doubts": list(ans.doubts), "run_id": ans.run_id}


def lesson_dict(lesson: Lesson) -> dict[str, Any]:
    """A lesson for --json: what it asks, offers and runs."""
    return {"id": lesson.id, "phase": lesson.phase, "page": lesson.page, "title": lesson.title,
            "question": lesson.question, "source": lesson.source,
            "choices": [{"key": c.key, "text": c.text} for c in lesson.choices], "experiment": lesson.experiment,
            "changes_brokers": lesson.changes_brokers, "takes": lesson.takes, "link": lesson.link(),
            "try_next": [{"label": t.label, "link": link, "look_for": t.look_for}
                         for t, link in lesson.try_next_links()]}
