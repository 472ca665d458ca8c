"""A run (or a comparison of runs of one experiment) as one HTML file that needs nothing else.

It reads top-down the way a person asks: the experiment's title and the question it answers, the headline
figures in words (``lab.runs.headline``), the verdict with its doubts, the charts (inline SVG, no
scripts); then the settings, the cluster and run facts, and last every figure the result holds, each with
a readable label and unit (``lab.runs.readable``) — no dotted field names, no scientific notation.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from lab.core import catalogue
from lab.export.charts import chart_svg
from lab.runs.charts import charts_for, experiment_name
from lab.runs.compare import (
    check_comparable,
    differing_keys,
    figures_table,
    overlay_charts,
    run_labels,
    settings_of,
)
from lab.runs.headline import headline, headline_table
from lab.runs.readable import MISSING, SEP, label, quantity, ratio, setting
from lab.runs.text import took, when

#: Charts of a report are drawn this wide (px) in the SVG.
REPORT_WIDTH = 760

_CSS = """body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;
border-bottom:1px solid #ddd}.question{font-size:1.15em;color:#333;margin:.2em 0}.sub{color:#666;font-size:.9em}
table.t{border-collapse:collapse;margin:.5em 0}table.t td,table.t th{padding:3px 12px;border-bottom:1px solid #eee;
text-align:right}table.t th{text-align:left;font-weight:normal;color:#444}table.t thead th{font-weight:bold;color:#222}
table.headline td{font-size:1.15em;font-weight:600;text-align:left}table.left td{text-align:left}
tr.differs th,tr.differs td{background:#fffbe6}.stopped{background:#fff3e0;border-left:4px solid #e65100;
padding:.5em 1em}.ok{color:#2e7d32}.doubt{color:#b71c1c}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _experiment(result: Any) -> catalogue.Experiment[Any, Any] | None:
    name = experiment_name(result)
    return catalogue.find(name) if name else None


def report_title(results: Sequence[Any]) -> str:
    """The experiment's title (``Produce run``), and how many runs a comparison holds."""
    exp = _experiment(results[0])
    name = exp.title if exp is not None else re.sub(r"(?<!^)(?=[A-Z])", " ", type(results[0]).__name__).lower()
    name = name[:1].upper() + name[1:]
    return name if len(results) == 1 else f"{name}: {len(results)} runs compared"


def _table(head: Sequence[str] | None, rows: Sequence[tuple[str, Sequence[str]]], cls: str = "t",
           marked: Sequence[bool] = ()) -> str:
    """Rows of (label, cells) as a table; ``marked`` rows get the ``differs`` class."""
    out = [f'<table class="{cls}">']
    if head:
        out.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead>")
    out.append("<tbody>")
    for i, (name, cells) in enumerate(rows):
        attr = ' class="differs"' if i < len(marked) and marked[i] else ""
        out.append(f"<tr{attr}><th>{_e(name)}</th>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def report_labels(results: Sequence[Any]) -> list[str]:
    """One label per run: its id and, in a comparison, the settings that differ, readable
    (``run 20261202T030500-cd34ef · linger 50 ms``)."""
    if len(results) == 1:
        return run_labels(results)
    keys = differing_keys(results)[:3]
    labels = []
    for i, r in enumerate(results):
        run = getattr(r, "run", None)
        flat = settings_of(r)
        parts = [f"{a} {b}" for a, b in (setting(k, flat.get(k)) for k in keys)]
        labels.append(SEP.join([f"run {run.run_id}" if run is not None else f"run #{i + 1}", *parts]))
    if len(set(labels)) < len(labels):
        labels = [f"{x} (#{i + 1})" for i, x in enumerate(labels)]
    return labels


def _sub(result: Any) -> str:
    run = getattr(result, "run", None)
    if run is None:
        return ""
    c = run.cluster
    where = f"{c.backend} cluster" + (f", Kafka {c.kafka_version}" if c.kafka_version else "") + (
        f", {c.broker_count} brokers" if c.broker_count else "")
    return (f'<p class="sub">Run {_e(run.run_id)} · started {_e(when(run.started_at))} UTC · took '
            f"{_e(took(run.elapsed_s))} · {_e(where)}</p>")


def _headline(results: Sequence[Any], labels: Sequence[str]) -> str:
    if len(results) == 1:
        rows = [(f.label, [f.text]) for f in headline(results[0])]
        return _table(None, rows, "t headline") if rows else "<p>This run has no figures.</p>"
    return _table(["", *labels], headline_table(results), "t headline")


def _notes(result: Any) -> list[str]:
    notes = getattr(result, "notes", ())
    notes = notes() if callable(notes) else notes
    return [str(n) for n in notes or ()]


def _verdict(results: Sequence[Any], labels: Sequence[str]) -> str:
    out = []
    for result, name in zip(results, labels, strict=True):
        prefix = f"<b>{_e(name)}</b>: " if len(results) > 1 else ""
        doubts = getattr(result, "verdict", None)
        if doubts is None:
            verdict = (f"<p>{prefix}This experiment has no rules for doubting its figures: read them with the "
                       "charts below.</p>")
        elif not doubts:
            verdict = f'<p class="ok">{prefix}No rule found a reason to doubt these figures.</p>'
        else:
            items = "".join(f"<li>{_e(d.text)} <small>({_e(d.code)})</small></li>" for d in doubts)
            verdict = f'<p class="doubt">{prefix}{len(doubts)} reason(s) to doubt these figures:</p><ul>{items}</ul>'
        out.append(verdict)
        notes = _notes(result)
        if notes:
            out.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


def _charts(charts: Mapping[str, alt.TopLevelMixin]) -> str:
    out = []
    for name, chart in charts.items():
        svg = re.sub(r"^<\?xml[^>]*>\s*", "", chart_svg(chart, width=REPORT_WIDTH))
        out.append(f"<figure>{svg}<figcaption>{_e(label(name)[0])}</figcaption></figure>")
    return "\n".join(out)


def _settings(results: Sequence[Any], labels: Sequence[str]) -> str:
    """Readable labels and values; a setting no run gives a value (an empty label or list) is left out."""
    flats = [settings_of(r) for r in results]
    rows, marked = [], []
    for n in dict.fromkeys(k for f in flats for k in f):
        texts = [setting(n, f[n])[1] if n in f else MISSING for f in flats]
        if all(t in ("", MISSING) for t in texts):
            continue
        rows.append((setting(n, None)[0], texts))
        marked.append(len(results) > 1 and len(set(texts)) > 1)
    if not rows:
        return "<p>This experiment takes no settings.</p>"
    if len(results) > 1:  # the settings that differ first
        order = sorted(range(len(rows)), key=lambda i: not marked[i])
        rows, marked = [rows[i] for i in order], [marked[i] for i in order]
    return _table(["setting", *labels] if len(results) > 1 else None, rows, "t left", marked)


def _facts(results: Sequence[Any], labels: Sequence[str]) -> str:
    def facts(result: Any) -> dict[str, str]:
        run = getattr(result, "run", None)
        out: dict[str, str] = {}
        if run is not None:
            c = run.cluster
            out = {"run id": run.run_id, "started (UTC)": when(run.started_at), "ended (UTC)": when(run.ended_at),
                   "took": took(run.elapsed_s), "started from": f"the {run.face}", "cluster backend": c.backend,
                   "bootstrap servers": c.bootstrap_servers, "cluster id": c.cluster_id or MISSING,
                   "Kafka version": c.kafka_version or MISSING, "brokers": str(c.broker_count or MISSING)}
        out["how it ended"] = result.stopped or "finished"
        return out

    per_run = [facts(r) for r in results]
    names = list(dict.fromkeys(k for f in per_run for k in f))
    rows = [(n, [f.get(n, MISSING) for f in per_run]) for n in names]
    return _table(["", *labels] if len(results) > 1 else None, rows, "t left")


def _figures(results: Sequence[Any], labels: Sequence[str]) -> str:
    """Every figure of the result(s), labelled and with its unit; a comparison adds each run ÷ the first."""
    frame = figures_table(results)
    rows = []
    for name, values in frame.iterrows():
        text, unit = label(str(name))
        rows.append((text, [ratio(v) if str(col).endswith("÷ first") else _value(v, unit)
                            for col, v in values.items()]))
    if not rows:
        return "<p>This run holds no figures.</p>"
    head = ["", *labels, *(f"{x} ÷ first" for x in labels[1:])]  # figures_table's columns, in its order
    return _table(head if len(results) > 1 else None, rows)


def _value(v: Any, unit: str) -> str:
    """A figure with its unit; a whole count without decimals."""
    if isinstance(v, float) and not math.isnan(v) and v.is_integer() and unit in ("", "messages", "bytes", "times"):
        return quantity(int(v), unit)
    return quantity(v, unit)


def html_report(results: Sequence[Any], title: str | None = None) -> str:
    """One run, or a comparison of runs of one experiment, as one self-contained HTML page (see the module
    docstring): charts as inline SVG, no scripts, nothing fetched."""
    results = list(results)
    check_comparable(results)
    labels = report_labels(results)
    title = title or report_title(results)
    exp = _experiment(results[0])
    parts = [f"<h1>{_e(title)}</h1>"]
    if exp is not None and exp.question:
        parts.append(f'<p class="question">{_e(exp.question)}</p>')
    if len(results) == 1:
        parts.append(_sub(results[0]))
    for result, name in zip(results, labels, strict=True):
        if result.stopped:
            parts.append(f'<p class="stopped"><b>{_e(name)}</b> stopped early: {_e(result.stopped)}</p>')
    parts += ["<h2>What it found</h2>", _headline(results, labels), "<h2>Verdict</h2>", _verdict(results, labels)]
    charts: Mapping[str, alt.TopLevelMixin] = charts_for(results[0]) if len(results) == 1 else overlay_charts(results)
    if charts:
        parts += ["<h2>Charts</h2>", _charts(charts)]
    parts += ["<h2>Settings</h2>", _settings(results, labels),
              "<h2>Cluster and run</h2>", _facts(results, labels),
              "<h2>All figures</h2>", _figures(results, labels)]
    return html_page(title, parts)


# --- the machinery, for other self-contained pages (a lesson's story) -------------------------------------
def html_page(title: str, parts: Sequence[str]) -> str:
    """``parts`` (HTML fragments) as one self-contained page in the report's style: no scripts, nothing
    fetched."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(p for p in parts if p) + "\n</body></html>\n")


def charts_html(charts: Mapping[str, alt.TopLevelMixin]) -> str:
    """Charts as inline SVG figures with their captions (as in a report)."""
    return _charts(charts)


def run_line(result: Any) -> str:
    """The run's id, start, length and cluster as one line of HTML (empty without run info)."""
    return _sub(result)


def verdict_html(result: Any) -> str:
    """The result's verdict (its doubts, or that no rule doubted it) and its notes, as HTML."""
    return _verdict([result], report_labels([result]))


def escape(text: Any) -> str:
    return _e(text)


__all__ = ["REPORT_WIDTH", "charts_html", "escape", "html_page", "html_report", "report_labels", "report_title",
           "run_line", "verdict_html"]
