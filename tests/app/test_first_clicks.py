"""Every page's first click (issue 18): open the page as a newcomer would, choose a mode, press Run with the
defaults, wait for the run, and find a result worth reading — no error, nothing stopped, something drawn, and
no doubt in any verdict that the defaults themselves cause (a run too short to trust, a client or a target
rate this machine cannot keep up with). AppTest against the session's real cluster; runs that break brokers
take the cluster alone (``breaks_brokers``), as their own page tests do.

The long first clicks (``LONG``: sweeps, scenarios, searches) run with ``KAFKA_LAB_FIRST_CLICKS=all``.
Two modes watch for as long as the user likes (the replication monitor, the lag watch): their first click is
checked live — the run draws what it saw, then Cancel keeps it — rather than waited out. The consumer
protocols comparison runs on the default (4.x) cluster like any other mode; on a 3.9 session cluster
(``KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2``) its first click says so and offers to start a 4.x one."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lab import registry as experiments
from lab.cluster import LocalCluster
from lab.consumer import protocols
from lab.consumer.fetch import MIN_BACKLOG, BenchResult
from lab.core.verdict import MIN_MEASURED_S, Doubt
from lab.lag import sample as lag
from lab.queues.backlog import version_refusal
from lab.queues.compare import ShareCompareResult
from lab.runs import launcher
from tests.app.test_share_page import assert_default_compare_drawn
from tests.conftest import LaggingGroup, kafka_version_under_test

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
#: Doubts a default setting causes: too short to trust, a client this machine cannot keep up with. (Not
#: rate-not-reached: the producer's 5 000 msg/s is reached on a 2-core machine, not when other work loads it 10x.)
DEFAULT_CAUSED = {"too-short", "cpu-bound"}
#: page -> (mode selector key, run id key, run button key)
KEYS = {"producer": ("producer_mode", "producer_run_id", "producer_run_btn"),
        "replication": ("repl_kind", "repl_run_id", "repl_run_btn"),
        "eos": ("eos_kind", "eos_run_id", "eos_run_btn"),
        "consumer": ("consumer_mode", "consumer_run_id", "consumer_run_btn"),
        "lag": ("lag_mode", "lag_run_id", "lag_run_btn"),
        "share": ("share_mode", "share_run_id", "share_run_btn")}
#: Each mode as its selector offers it, and the registered experiment it runs (its time bound is the wait's).
MODES: dict[str, dict[str, str]] = {
    "producer": {"single": "produce", "codec": "produce.sweep", "batch": "produce.sweep", "acks": "produce.sweep",
                 "presets": "produce.sweep"},
    "replication": {"replication.min-isr": "replication.min-isr", "replication.hw-leo": "replication.hw-leo",
                    "replication.unclean": "replication.unclean", "replication.storage": "replication.storage"},
    "eos": {"eos.idempotent": "eos.idempotent", "eos.transactional": "eos.transactional",
            "eos.fencing": "eos.fencing", "eos.pipeline": "eos.pipeline"},
    "consumer": {"consumer.seed": "consumer.seed", "consumer.benchmark": "consumer.benchmark",
                 "consumer.sweep": "consumer.sweep", "consumer.cross-check": "consumer.cross-check",
                 "consumer.strategies": "consumer.strategies",
                 "consumer.static-membership": "consumer.static-membership",
                 "consumer.protocols": "consumer.protocols"},
    "lag": {"scenario": "lag.scenario", "rate": "lag.sustainable-rate"},
    "share": {"compare": "share.compare", "acks": "share.acks", "crash": "share.crash"},
}


#: First clicks whose defaults run long — sweeps, scenarios that take turns with brokers, searches: 20 to 90 s
#: each on this 2-core machine, over 10 minutes together, too much for the suite's 15. They run with
#: ``KAFKA_LAB_FIRST_CLICKS=all``; the default run walks the others (and every page's first view).
LONG = {("producer", "codec"), ("producer", "batch"), ("producer", "acks"), ("producer", "presets"),
        ("replication", "replication.min-isr"), ("replication", "replication.hw-leo"),
        ("replication", "replication.unclean"), ("eos", "eos.pipeline"), ("consumer", "consumer.sweep"),
        ("consumer", "consumer.strategies"), ("consumer", "consumer.static-membership"), ("lag", "scenario"),
        ("lag", "rate"), ("consumer", "consumer.protocols")}
ALL = os.environ.get("KAFKA_LAB_FIRST_CLICKS") == "all"


#: (page, mode) whose default first click is known to draw a doubt of its own making, with why (none now)
KNOWN: dict[tuple[str, str], str] = {}
LONG_SKIP = pytest.mark.skip(reason="a long first click: KAFKA_LAB_FIRST_CLICKS=all runs it")


def cases() -> list[Any]:
    out = []
    for page, modes in MODES.items():
        for mode, name in modes.items():
            marks = [pytest.mark.breaks_brokers] if experiments.get(name).changes_brokers else []
            if (page, mode) in LONG and not ALL:
                marks.append(LONG_SKIP)
            if name == "consumer.protocols" and int(kafka_version_under_test().split(".")[0]) < 4:
                marks.append(pytest.mark.skip(reason="needs Kafka 4: on 3.9 the page offers a 4.x cluster "
                                                     "(test_consumer_protocols_first_click_*)"))
            if page == "share" and version_refusal(kafka_version_under_test()) is not None:
                marks.append(pytest.mark.skip(reason="share groups need Kafka 4.2+: on 3.9 the page says so "
                                                     "(test_share_page.py)"))
            if (page, mode) in KNOWN:
                marks.append(pytest.mark.xfail(reason=KNOWN[(page, mode)], strict=True))
            out.append(pytest.param(page, mode, name, id=f"{page}-{mode}", marks=marks))
    return out


def open_page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def choose(at: AppTest, page: str, mode: str) -> None:
    key = KEYS[page][0]
    widget = next(w for kind in ("selectbox", "radio") for w in at.get(kind) if w.key == key)
    if widget.value != mode:
        widget.set_value(mode).run()
        assert not at.exception, at.exception


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def doubts(obj: Any) -> list[Doubt]:
    """Every doubt of a result and of the results inside it (a sweep's cells, a cross-check's lab run)."""
    if isinstance(obj, Doubt):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [d for x in obj for d in doubts(x)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [d for f in dataclasses.fields(obj) for d in doubts(getattr(obj, f.name))]
    return []


def drawn(at: AppTest) -> int:
    """Charts, metrics, tables and frames on the page's main area: what a reader gets."""
    kinds = ("vega_lite_chart", "metric", "arrow_data_frame", "table")
    return sum(1 for el in at.main if getattr(el, "type", None) in kinds) + len(at.metric) + len(at.dataframe)


def run_first_click(at: AppTest, page: str, name: str) -> Any:
    """Press Run, wait for the run within the experiment's own time bound, draw it; its result."""
    _, run_key, button = KEYS[page]
    assert not errors(at), errors(at)
    next(b for b in at.button if b.key == button).click().run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    run = launcher.get(at.session_state[run_key])
    assert run is not None and run.experiment.name == name
    assert run.join(experiments.get(name).time_limit(run.settings) + 30), f"{name} did not finish in time"
    at.run()
    assert not at.exception, at.exception
    assert run.error is None, run.error
    assert not errors(at), errors(at)
    return run.result


def check(result: Any, at: AppTest) -> None:
    assert result is not None and result.stopped is None, getattr(result, "stopped", None)
    caused = [d for d in doubts(result) if d.code in DEFAULT_CAUSED]
    assert not caused, caused
    assert drawn(at) > 0, "the result is drawn"
    assert not any(code in w.value for w in at.warning for code in DEFAULT_CAUSED), [w.value for w in at.warning]


@pytest.mark.parametrize(("page", "mode", "name"), cases())
def test_first_click_gives_a_result_worth_reading(app_env: LocalCluster, page: str, mode: str, name: str) -> None:
    at = open_page(page)
    choose(at, page, mode)
    result = run_first_click(at, page, name)
    check(result, at)
    if isinstance(result, ShareCompareResult):  # the share page's default run, read off the page
        assert_default_compare_drawn(at, result)
    if isinstance(result, BenchResult):
        assert result.consume_s >= MIN_MEASURED_S and len(result.samples) >= 3, (result.consume_s, result.samples)
        assert len(result.stats_points) >= 3, "the fetch-requests chart has points"


def test_consumer_benchmark_seeds_its_topic_once(app_env: LocalCluster) -> None:
    """On a fresh cluster the first run seeds `lab-consumer-tuning` itself (the progress says so); the next run
    reuses the seed and still reads for its few seconds."""
    from lab.consumer.seed import backlog_size

    at = open_page("consumer")
    run_first_click(at, "consumer", "consumer.benchmark")
    _, held = backlog_size(app_env, "lab-consumer-tuning")
    assert held >= MIN_BACKLOG
    r = run_first_click(at, "consumer", "consumer.benchmark")
    check(r, at)
    assert backlog_size(app_env, "lab-consumer-tuning")[1] == held, "the seed is reused, not written again"
    assert any("Read for 3 s" in c.value for c in at.caption), [c.value for c in at.caption]


def live_first_click(at: AppTest, page: str, name: str, samples: int) -> Any:
    """Run a watch, let it draw ``samples`` samples live, then Cancel: the partial result is kept and drawn."""
    _, run_key, button = KEYS[page]
    next(b for b in at.button if b.key == button).click().run()
    assert not at.exception, at.exception
    run = launcher.get(at.session_state[run_key])
    assert run is not None and run.experiment.name == name

    def seen() -> int:  # a lag watch's samples, a replication timeline's snapshots
        p = run.progress().partial
        return len(getattr(p, "samples", None) or getattr(p, "snapshots", None) or ())

    deadline = time.monotonic() + 120
    while seen() < samples and not run.done and time.monotonic() < deadline:
        time.sleep(0.5)
    assert seen() >= samples, f"{name} drew {seen()} samples"
    at.run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert drawn(at) > 0, "the live view draws what it saw"
    next(b for b in at.button if b.key == button.replace("_run_btn", "_cancel_btn")).click().run()
    assert run.join(60)
    at.run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert drawn(at) > 0, "the partial result is kept"
    return run.result


def test_replication_monitor_first_click_draws_live(app_env: LocalCluster) -> None:
    at = open_page("replication")
    choose(at, "replication", "replication.monitor")
    live_first_click(at, "replication", "replication.monitor", samples=5)


def test_lag_watch_first_click_watches_a_group(app_env: LocalCluster, lagging_group: LaggingGroup) -> None:
    st.cache_data.clear()  # the page caches the group list for 5 s
    at = open_page("lag", {"mode": "watch"})
    assert at.session_state["lag_mode"] == "watch"
    picked = at.sidebar.selectbox(key="lag_group")
    assert any(o.startswith(f"{lagging_group.group} — ") for o in picked.options), "each group with its state and lag"
    r = live_first_click(at, "lag", "lag.watch", samples=3)
    assert r.samples and r.settings.group == picked.value


@pytest.mark.alone_on_cluster  # the groups on the cluster decide the mode it starts on: none may come or go
def test_lag_page_starts_where_there_is_something_to_see(app_env: LocalCluster) -> None:
    st.cache_data.clear()
    groups = lag.list_groups(app_env)
    at = open_page("lag")
    if groups:
        assert at.session_state["lag_mode"] == "watch"
        assert at.session_state["lag_group"] in {g.group for g in groups}
    else:  # a fresh cluster: nothing to watch, so the scenario, and why
        assert at.session_state["lag_mode"] == "scenario"
        assert any("nothing to watch" in i.value for i in at.info), [i.value for i in at.info]
    assert not errors(at), errors(at)


def test_lag_link_to_a_group_not_on_the_cluster_says_so(app_env: LocalCluster) -> None:
    at = open_page("lag", {"group": "no-such-group-here"})
    assert at.session_state["lag_mode"] == "watch" and at.session_state["lag_group"] == "no-such-group-here"
    assert any("`no-such-group-here` is not on this cluster" in w.value for w in at.warning)
    assert at.query_params["group"] == ["no-such-group-here"] or at.query_params["group"] == "no-such-group-here"


@pytest.mark.version_sensitive
def test_consumer_protocols_first_click_offers_the_kafka_4_cluster(app_env: LocalCluster, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if protocols.is_running_4x(app_env):
        pytest.skip("the session's cluster runs Kafka 4.x: the protocols' first click runs in the walk above")
    monkeypatch.setenv(protocols.PROTOCOL_STATE_ENV, str(tmp_path / "no-4.1-cluster-yet"))
    at = open_page("consumer")
    choose(at, "consumer", "consumer.protocols")
    assert any("needs Kafka 4.0 or later" in e for e in errors(at)), errors(at)
    assert f"Start the lab's {protocols.NEW_PROTOCOL_VERSION} cluster" in [b.label for b in at.sidebar.button]


@pytest.mark.version_sensitive
@pytest.mark.skipif(not ALL, reason="starts three Kafka 4.x brokers: KAFKA_LAB_FIRST_CLICKS=all runs it")
def test_consumer_protocols_first_click_after_starting_kafka_4(app_env: LocalCluster, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """On a 3.x session cluster, the page's own button starts the lab's 4.x cluster; then Run compares the
    protocols there."""
    if protocols.is_running_4x(app_env):
        pytest.skip("the session's cluster runs Kafka 4.x: the protocols' first click runs in the walk above")
    state = tmp_path / "kafka-4x"
    monkeypatch.setenv(protocols.PROTOCOL_STATE_ENV, str(state))
    try:
        at = open_page("consumer")
        choose(at, "consumer", "consumer.protocols")
        next(b for b in at.sidebar.button if b.key == "consumer_start41").click().run(timeout=300)
        assert not at.exception, at.exception
        assert not errors(at), errors(at)
        check(run_first_click(at, "consumer", "consumer.protocols"), at)
    finally:
        protocols.protocol_cluster(state).down(purge=True)


def test_cluster_page_first_click_creates_the_lab_topics(app_env: LocalCluster) -> None:
    at = open_page("cluster")
    assert not errors(at), errors(at)
    at.button(key="cluster_create_topics").click().run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert any("lab-consumer-tuning" in s.value for s in at.success), [s.value for s in at.success]
