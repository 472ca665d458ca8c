"""Presenter mode in a real browser at 1920 × 1080, one test per phase page: a lesson run, made once through
the engine (the launcher, tagged with the lesson) with a short version of the lesson's preset, is opened as
``/<page>?present=1&run=ID``. The answer step must show its key figures at least 48 px tall, nothing may
overflow the viewport sideways, the sidebar is collapsed, and ←/→ move between the steps.

The short presets are real runs of the lessons' experiments, only briefer (two codecs at full speed only, fewer
probes, shorter phases): this test checks how an answer is shown, not what it says (the app and unit tests do
that). The four lessons that leave the brokers alone run side by side on the shared cluster, once; the two
that stop or pause brokers run one after the other on the breakable cluster, alone on it (the app shows a
stored run whatever cluster it ran on), so nobody waits for them on the shared one."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import pytest

from lab import lessons
from lab import registry as experiments
from lab.cluster import LocalCluster
from lab.lessons import consumer as consumer_lessons
from lab.lessons import eos as eos_lessons
from lab.lessons import lag as lag_lessons
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepSettings
from lab.replication.settings import HwLeoSettings, MinIsrSettings
from lab.runs import launcher
from tests.browser.app_state import wait_idle, wait_page_shown
from tests.browser.drawn import wait_charts_painted
from tests.shared_cluster import ClusterAccess

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"
#: A projector's screen.
VIEWPORT = {"width": 1920, "height": 1080}
#: The smallest key figure a room can read from the back (px).
MIN_FIGURE_PX = 48
#: Room beyond the experiment's own time bound for the run to end (seconds).
SLACK_S = 30.0

#: page -> (lesson, a short version of its preset)
SHORT: dict[str, tuple[str, Any]] = {
    "cluster": ("min-isr-rf3", MinIsrSettings(min_insync_replicas=2, probe_messages=3)),
    "replication": ("hw-stall", HwLeoSettings(baseline_s=1.0, hold_s=1.0)),
    "eos": ("read-committed", dataclasses.replace(eos_lessons.PRESET, transactions=3, aborted=1, hold_open_s=1.0)),
    "producer": ("codec-latency", SweepSettings(kind="codec", codecs=("none", "lz4"), at_fixed_rate=False,
                                                base=ProducerSettings(count=None, duration_s=1.5, payload="json",
                                                                      message_size=500))),
    "consumer": ("cooperative-rebalance", dataclasses.replace(consumer_lessons.PRESET, members=2, hold_s=0.0)),
    "lag": ("lag-recovery", dataclasses.replace(lag_lessons.PRESET, phase_s=6.0)),
}

#: JavaScript: the key figures' font sizes, and what is wider than the viewport.
MEASURE_JS = """() => {
  const vw = window.innerWidth;
  const main = document.querySelector("[data-testid='stMain']");
  const wide = [...main.querySelectorAll('*')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.width > vw + 1 || r.right > vw + 1);
  }).map(e => `${e.tagName.toLowerCase()}.${String(e.className).slice(0, 60)} `
             + `${Math.round(e.getBoundingClientRect().right)}`);
  const expand = document.querySelector("[data-testid='stExpandSidebarButton']");
  return {
    sizes: [...document.querySelectorAll('.present-figure-value')].map(e => parseFloat(getComputedStyle(e).fontSize)),
    scrollWidth: document.documentElement.scrollWidth, innerWidth: vw, wide: wide.slice(0, 10),
    sidebarExpanded: expand ? expand.getAttribute('aria-expanded') : null,
  };
}"""


def _breaks(page: str) -> bool:
    return lessons.get(SHORT[page][0]).changes_brokers


def _launch(cluster: LocalCluster, lesson_id: str, settings: Any) -> launcher.LabRun[Any]:
    """Start the lesson's experiment with ``settings`` on a topic of this test's own (the presets name the
    page's topic, which other tests' runs of the same experiment delete and make again meanwhile), stored
    with the lesson (its first choice predicted)."""
    lesson = lessons.get(lesson_id)
    if any(f.name == "topic" for f in dataclasses.fields(settings)):
        settings = dataclasses.replace(settings, topic=f"lab-present-{lesson_id}-{uuid.uuid4().hex[:8]}")
    return launcher.launch(experiments.get(lesson.experiment), cluster, settings, face="test",
                           lesson=(lesson.id, lesson.choices[0].key))


def _finished(run: launcher.LabRun[Any]) -> str:
    assert run.join(run.experiment.time_limit(run.settings) + SLACK_S), f"{run.experiment.name} did not end in time"
    assert run.error is None and run.result is not None, run.error
    return run.run_id


@pytest.fixture(scope="module")
def shared_runs(shared_cluster: LocalCluster) -> dict[str, str]:
    """page -> run id of the lessons that leave the brokers alone, run side by side once for the module (they
    share the cluster as any tests do; how they answer does not matter here, only how it is shown)."""
    runs = {p: _launch(shared_cluster, *SHORT[p]) for p in SHORT if not _breaks(p)}
    return {p: _finished(r) for p, r in runs.items()}


@pytest.fixture(scope="module")
def breaking_runs(breakable_cluster: LocalCluster, breakable_access: ClusterAccess) -> dict[str, str]:
    """page -> run id of the lessons that stop or pause brokers, each run alone on the breakable cluster."""
    out = {}
    for p in SHORT:
        if _breaks(p):
            with breakable_access.hold(True, f"presenter lesson run {p}", breaks=True):
                out[p] = _finished(_launch(breakable_cluster, *SHORT[p]))
    return out


def _step_caption(page: Any, text: str) -> None:
    page.locator("[data-testid='stCaptionContainer']", has_text=text).first.wait_for()


@pytest.mark.parametrize("page_name", list(SHORT))
def test_presenter_answer_step_reads_from_the_back_and_fits_1080p(browser: Any, app_url: str, cluster: LocalCluster,
                                                                   page_name: str, request: Any) -> None:
    run_id = request.getfixturevalue("breaking_runs" if _breaks(page_name) else "shared_runs")[page_name]
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        path = "" if page_name == "cluster" else page_name  # the cluster page is the app's default page
        page.goto(f"{app_url}/{path}?present=1&run={run_id}")
        wait_page_shown(page)
        _step_caption(page, "step 4 of 4")
        page.locator(".present-figure-value").first.wait_for()
        wait_charts_painted(page)
        got = page.evaluate(MEASURE_JS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"present-{page_name}.png"))
        assert got["sizes"] and min(got["sizes"]) >= MIN_FIGURE_PX, got["sizes"]
        assert got["scrollWidth"] <= got["innerWidth"], got
        assert not got["wide"], got["wide"]
        assert got["sidebarExpanded"] == "false", "presenting, the sidebar is collapsed"
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # the page has the keys
        page.keyboard.press("ArrowLeft")
        _step_caption(page, "step 3 of 4")
        wait_idle(page)
        page.keyboard.press("ArrowRight")
        _step_caption(page, "step 4 of 4")
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"present-{page_name}-fail.png"), full_page=True)
        raise
    finally:
        ctx.close()
