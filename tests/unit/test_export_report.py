"""The HTML report reads top-down as a person asks: the experiment's title, the question it answers, the
headline figures in words, the verdict, the charts; then settings, cluster facts and every figure —
with readable labels (no dotted field names), readable numbers (no scientific notation), no empty rows."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sample_runs import lag_watch, monitor, produce

from lab.export.report import html_report
from lab.producer.sweep import SweepResult, SweepSettings
from lab.registry import REGISTRY
from lab.runs.charts import experiment_name
from lab.runs.compare import figures, settings_of


def sweep() -> SweepResult:
    a, b = produce("r-a", linger_ms=0, rate=1000.0), produce("r-b", linger_ms=20, rate=2100.0)
    return SweepResult(SweepSettings("batch", a.settings), (a, b), 2, 4.0, fixed_rate=500.0,
                       fixed=(produce("f-a", paced=True), produce("f-b", paced=True)))


CASES: dict[str, list[Any]] = {
    "produce": [produce("20261202T030112-ab12cd")],  # dotted figures: latency.p99_ms, stats.broker_rtt_avg_ms …
    "fixed-rate end to end": [produce("20261202T030112-ab12cd", paced=True, e2e=True)],
    "stopped": [produce("20261202T030112-ab12cd", stopped="cancelled after 2 s")],
    "sweep": [sweep()],
    "replication monitor": [monitor()],
    "lag watch": [lag_watch()],
    "comparison": [produce("20261202T030112-ab12cd", linger_ms=10), produce("20261202T030500-cd34ef", linger_ms=50)],
}


def text_of(page: str) -> str:
    """The page as a reader sees it: no charts (SVG), no style, no tags."""
    page = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def section(page: str, heading: str) -> str:
    """The HTML between ``<h2>heading</h2>`` and the next heading."""
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 1)
    return page[start: end if end > 0 else len(page)]


@pytest.mark.parametrize("case", CASES)
def test_the_report_leads_with_title_question_headline_and_verdict(case: str) -> None:
    results = CASES[case]
    page = html_report(results)
    exp = REGISTRY[experiment_name(results[0]) or ""]
    first_heading = re.search(r"<h([12])>(.*?)</h\1>", page)
    assert first_heading is not None and first_heading.group(1) == "1"
    assert html.unescape(first_heading.group(2)).lower().startswith(exp.title.lower())
    positions = [page.index(x) for x in (html.escape(exp.question), "<h2>What it found</h2>", "<h2>Verdict</h2>",
                                         "<h2>Settings</h2>", "<h2>Cluster and run</h2>", "<h2>All figures</h2>")]
    assert positions == sorted(positions), positions
    if "<h2>Charts</h2>" in page:
        assert page.index("<h2>Verdict</h2>") < page.index("<h2>Charts</h2>") < page.index("<h2>Settings</h2>")


@pytest.mark.parametrize("case", CASES)
def test_figures_and_settings_are_readable(case: str) -> None:
    results = CASES[case]
    page = html_report(results)
    text = text_of(page)
    assert not re.search(r"\de[+-]\d", text), re.search(r".{30}\de[+-]\d.{10}", text)
    dotted = {n for r in results for n in [*figures(r), *settings_of(r)] if "." in n}
    assert not [n for n in dotted if n in text]
    snake = {n for r in results for n in [*figures(r), *settings_of(r)] if "_" in n and "." not in n}
    assert not [n for n in snake if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w.])", text)]
    settings = section(page, "Settings")
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", settings):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        assert cells[0] and all(cells[1:]), row


def test_the_headline_is_in_words_with_units() -> None:
    page = html_report([produce("20261202T030112-ab12cd", rate=332_700.4, paced=True, e2e=True)])
    found = text_of(section(page, "What it found"))
    assert "332,700 msg/s" in found and "33.3 MB/s" in found
    assert "send→ack latency (p99)" in found and "12.5 ms" in found and "send delay (p99)" in found
    verdict = text_of(section(page, "Verdict"))
    assert "no rule found a reason to doubt" in verdict.lower()


def test_a_sweep_headline_compares_its_cells() -> None:
    found = text_of(section(html_report([sweep()]), "What it found"))
    assert "fastest ÷ slowest" in found and "2.1×" in found and "lowest p99 at 500 msg/s" in found


def test_a_comparison_marks_the_settings_that_differ_first() -> None:
    page = html_report(CASES["comparison"])
    settings = section(page, "Settings")
    first = re.search(r"<tbody><tr([^>]*)><th>(.*?)</th>", settings)
    assert first is not None and first.group(1) == ' class="differs"' and first.group(2) == "linger"
    assert "÷ first" in section(page, "All figures")
