"""The class board: every student's runs of one experiment on one chart, each student's knob against a
figure of the result, so a class assembles a sweep together (linger.ms against p50 latency, codec against
compression ratio…). Pure data from the run store; the page draws it live and the teacher exports it."""

from __future__ import annotations

import html
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import altair as alt
import pandas as pd

from lab.export.charts import chart_svg
from lab.runs.store import RunStore

#: Figures a board shows first when an experiment has them (the ones its lessons are about).
PREFERRED = ("msgs_per_s", "latency.p50_ms", "latency.p99_ms", "stats.compression_ratio", "records_per_s",
             "mb_per_s", "committed", "duplicates")


@dataclass(frozen=True)
class Point:
    run_id: str
    who: str
    status: str
    knobs: dict[str, Any]
    figures: dict[str, float]


def flat_settings(settings: Any, prefix: str = "") -> dict[str, Any]:
    """A settings dataclass as dotted names -> scalar values (``base.linger_ms``)."""
    out: dict[str, Any] = {}
    if not is_dataclass(settings) or isinstance(settings, type):
        return out
    for f in fields(settings):
        v = getattr(settings, f.name)
        if is_dataclass(v) and not isinstance(v, type):
            out.update(flat_settings(v, f"{prefix}{f.name}."))
        elif isinstance(v, (str, int, float, bool)) or v is None:
            out[f"{prefix}{f.name}"] = v
    return out


def points(store: RunStore, class_id: str) -> dict[str, list[Point]]:
    """experiment -> the class's ended runs of it (hidden ones too: the page leaves them out)."""
    out: dict[str, list[Point]] = {}
    for run_id, who in store.class_runs(class_id).items():
        rec = store.get(run_id)
        if rec is None or rec.status == "running" or not rec.figures:
            continue
        out.setdefault(rec.experiment, []).append(Point(run_id, who, rec.status, flat_settings(rec.settings),
                                                        rec.figures))
    return out


def varying(pts: list[Point]) -> list[str]:
    """Settings that differ between the runs (the knobs the class turned), most distinct values first."""
    names = {k for p in pts for k in p.knobs}
    distinct = {k: len({repr(p.knobs.get(k)) for p in pts}) for k in names}
    return sorted((k for k, n in distinct.items() if n > 1 and "topic" not in k), key=lambda k: (-distinct[k], k))


def figure_names(pts: list[Point]) -> list[str]:
    names = sorted({k for p in pts for k in p.figures})
    return [n for n in PREFERRED if n in names] + [n for n in names if n not in PREFERRED]


def frame(pts: list[Point], x: str, y: str, hidden: tuple[str, ...] = (),
          highlighted: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = [{"run": p.run_id, "student": p.who, "x": p.knobs.get(x), "y": p.figures[y],
             "highlighted": p.run_id in highlighted}
            for p in pts if p.run_id not in hidden and y in p.figures]
    return pd.DataFrame(rows, columns=["run", "student", "x", "y", "highlighted"])


def chart(df: pd.DataFrame, x: str, y: str, title: str) -> alt.Chart:
    numeric = bool(len(df)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in df["x"])
    chart: alt.Chart = alt.Chart(df, title=title).mark_circle(opacity=0.85).encode(
        x=alt.X("x:Q" if numeric else "x:N", title=x),
        y=alt.Y("y:Q", title=y),
        color=alt.Color("student:N", title="student"),
        size=alt.condition("datum.highlighted", alt.value(400), alt.value(120)),
        stroke=alt.condition("datum.highlighted", alt.value("black"), alt.value(None)),
        tooltip=["student:N", "run:N", alt.Tooltip("x:Q" if numeric else "x:N", title=x),
                 alt.Tooltip("y:Q", title=y, format=",.2f")],
    ).properties(width=720, height=420)
    return chart


def board_html(class_name: str, experiment: str, df: pd.DataFrame, x: str, y: str) -> str:
    """The board as one offline HTML file: the chart (inline SVG, no script) and its points as a table."""
    svg = chart_svg(chart(df, x, y, f"{experiment}: {y} by {x}"))
    rows = "".join(f"<tr><td>{html.escape(str(r.student))}</td><td>{html.escape(str(r.x))}</td>"
                   f"<td>{r.y:,.3f}</td><td><code>{html.escape(str(r.run))}</code></td></tr>"
                   for r in df.itertuples())
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(class_name)} — class board"
            f"</title></head><body style='font-family:sans-serif'><h1>{html.escape(class_name)}: class board</h1>"
            f"<p>{len(df)} runs of <b>{html.escape(experiment)}</b>: {html.escape(y)} against "
            f"{html.escape(x)}.</p>{svg}<table border='1' cellpadding='4'><tr><th>student</th><th>"
            f"{html.escape(x)}</th><th>{html.escape(y)}</th><th>run</th></tr>{rows}</table></body></html>")
