"""A lesson's whole story as one offline HTML file for the class's notes: the question, the predictions
(the one made, the one the run showed), the answer with its figures, the run's charts, what to try next,
and the run it came from.

    html = story_html(lesson, lesson.answer(result, "lz4"), result)

Built with the run report's machinery (``lab.export.report``): the same style, charts as inline SVG drawn by
vl-convert, no scripts, nothing fetched — it opens anywhere, offline. Pure: no Kafka, no Streamlit.
"""

from __future__ import annotations

from typing import Any

from lab.export.report import charts_html, escape, html_page, run_line, verdict_html
from lab.lessons.base import Answer, Lesson
from lab.lessons.present import figure_text, key_figures, story_chart
from lab.runs.charts import charts_for

#: Extra style for the story's key figures and prediction marks (added to the report's).
_STYLE = """<style>.keys{display:flex;gap:2em;flex-wrap:wrap;margin:.8em 0}.keys div{min-width:10em}
.keys b{display:block;font-size:2.2em;color:#0042a8}.mark{font-weight:bold;color:#0042a8}
.held{color:#2e7d32;font-weight:bold}.missed{color:#b71c1c;font-weight:bold}</style>"""


def _predictions(lesson: Lesson, answer: Answer) -> str:
    items = []
    for c in lesson.choices:
        marks = []
        if c.key == answer.prediction:
            marks.append("predicted")
        if c.key == answer.outcome:
            marks.append("what this run showed")
        mark = f' <span class="mark">← {escape(" and ".join(marks))}</span>' if marks else ""
        items.append(f"<li>{escape(c.text)}{mark}</li>")
    if answer.prediction is None:
        judged = "<p>No prediction was made before this run.</p>"
    elif answer.held is None:
        judged = "<p>The prediction cannot be judged from this run.</p>"
    else:
        judged = ('<p class="held">The prediction held.</p>' if answer.held
                  else '<p class="missed">The prediction did not hold.</p>')
    return "<ul>" + "".join(items) + "</ul>" + judged


def _figures(answer: Answer) -> str:
    rows = "".join(f"<tr><th>{escape(f.label)}</th><td>{escape(figure_text(f))}</td></tr>" for f in answer.figures)
    return f'<table class="t">{rows}</table>' if rows else "<p>This answer quotes no figures.</p>"


def story_html(lesson: Lesson, answer: Answer, result: Any) -> str:
    """The lesson's story from ``result`` (a run of its experiment) and ``answer`` (``lesson.answer(result,
    prediction)``) as one self-contained HTML page (see the module docstring)."""
    keys = key_figures(lesson, answer)
    charts = dict(charts_for(result))
    found = story_chart(lesson, result)
    if found is not None:  # the chart that tells the story first
        charts = {found[0]: found[1], **{k: v for k, v in charts.items() if k != found[0]}}
    headline = (f'<p class="ok"><b>{escape(answer.headline)}</b></p>' if answer.shown
                else f'<p class="doubt"><b>{escape(answer.headline)}</b></p>')
    parts = [_STYLE, f"<h1>{escape(lesson.title)}</h1>", f'<p class="question">{escape(lesson.question)}</p>',
             f'<p class="sub">{escape(lesson.source)} · phase {lesson.phase} · lesson <code>{escape(lesson.id)}'
             "</code></p>", run_line(result),
             "<h2>The predictions</h2>", _predictions(lesson, answer),
             "<h2>The answer</h2>", headline]
    if keys:
        parts.append('<div class="keys">' + "".join(f"<div><b>{escape(figure_text(f))}</b>{escape(f.label)}</div>"
                                                    for f in keys) + "</div>")
    parts.append("<ul>" + "".join(f"<li>{escape(s)}</li>" for s in answer.sentences) + "</ul>")
    if charts:
        parts += ["<h2>The run's charts</h2>", charts_html(charts)]
    parts += ["<h2>Every figure the answer quotes</h2>", _figures(answer)]
    if lesson.try_next:
        parts += ["<h2>Try next</h2>",
                  "<ul>" + "".join(f"<li><b>{escape(t.label)}</b> (in the lab: <code>{escape(link)}</code>): "
                                   f"{escape(t.look_for)}</li>" for t, link in lesson.try_next_links()) + "</ul>"]
    parts += ["<h2>How far to trust this run</h2>", verdict_html(result)]
    return html_page(f"{lesson.title} — lesson", parts)


__all__ = ["story_html"]
