"""The Producer tuning page driven by AppTest against the real session cluster: set the sidebar, run,
see the charts; a sweep draws its comparison charts."""

from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/producer.py")
    at.run()
    assert not at.exception, at.exception
    return at


def finish(at: AppTest, timeout_s: float = 90) -> None:
    run = at.session_state["producer_run"]
    deadline = time.monotonic() + timeout_s
    while not run.done and time.monotonic() < deadline:
        time.sleep(0.2)  # the run works in its own thread; the test waits for it
    assert run.done, "the run did not finish in time"
    at.run()
    assert not at.exception, at.exception


def chart_titles(at: AppTest) -> list[str]:
    out = []
    for el in at.main:
        if getattr(el, "type", None) == "vega_lite_chart":
            spec = json.loads(el.proto.spec)
            title = spec.get("title")
            out.append(title if isinstance(title, str) else json.dumps(spec)[:200])
    return out


def test_single_run_draws_metrics_and_charts(app_env: LocalCluster) -> None:
    at = open_page()
    assert [t.value for t in at.title] == ["Producer tuning"]
    assert len(at.sidebar.caption) >= 5, "each knob is explained"
    at.sidebar.radio(key="producer_acks").set_value("1")
    at.sidebar.selectbox(key="producer_codec").set_value("gzip")
    at.sidebar.number_input(key="producer_linger").set_value(10.0)
    at.sidebar.number_input(key="producer_count").set_value(2000)
    at.sidebar.button(key="producer_start").click().run()
    assert not at.exception, at.exception
    finish(at)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["messages/s"].replace(",", "")) > 0
    assert float(metrics["compression ratio"].rstrip("x")) > 1.5
    titles = chart_titles(at)
    assert "Throughput over time" in titles and "Latency percentiles" in titles


def test_codec_sweep_draws_comparison_charts(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.selectbox(key="producer_mode").set_value("codec")
    at.sidebar.number_input(key="producer_count").set_value(500)
    at.sidebar.button(key="producer_start").click().run()
    finish(at, timeout_s=150)
    text = json.dumps(chart_titles(at))
    assert "Codecs: throughput and compression ratio" in text
    assert "Throughput vs p99 latency" in text
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 5


def test_bad_settings_explain_instead_of_raising(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.checkbox(key="producer_idempotence").check()
    at.sidebar.radio(key="producer_acks").set_value("0")
    at.sidebar.button(key="producer_start").click().run()
    assert not at.exception, at.exception
    assert any("needs acks=all" in e.value for e in at.error)


def test_live_progress_and_cancel_show_a_partial_result(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.radio(key="producer_by").set_value("duration").run()
    at.sidebar.number_input(key="producer_duration").set_value(30.0)
    at.sidebar.number_input(key="producer_rate").set_value(1000)
    at.sidebar.button(key="producer_start").click().run()
    run = at.session_state["producer_run"]
    deadline = time.monotonic() + 30
    while (run.progress().partial is None or not run.progress().partial.samples) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("progress")) == 1
    assert "Throughput (live)" in chart_titles(at)
    at.sidebar.button(key="producer_cancel").click().run()
    finish(at, timeout_s=30)
    assert any("cancelled by the user" in w.value for w in at.warning)
    assert "messages/s" in {m.label for m in at.metric}, "the partial result is shown"


def test_choosing_a_preset_sets_the_knobs(app_env: LocalCluster) -> None:
    at = open_page()
    assert at.sidebar.radio(key="producer_acks").value == "all"
    at.sidebar.selectbox(key="producer_preset").set_value("high throughput").run()
    assert not at.exception, at.exception
    assert at.sidebar.radio(key="producer_acks").value == "1"
    assert at.sidebar.selectbox(key="producer_codec").value == "lz4"
    assert at.sidebar.number_input(key="producer_linger").value == 10.0
    assert at.sidebar.select_slider(key="producer_batch").value == 65_536


def test_batch_sweep_draws_the_heatmap(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.selectbox(key="producer_mode").set_value("batch").run()
    at.sidebar.number_input(key="producer_count").set_value(300)
    at.sidebar.button(key="producer_start").click().run()
    finish(at, timeout_s=150)
    titles = chart_titles(at)
    assert "linger.ms x batch.size" in titles and "Throughput vs p99 latency" in titles
    assert len(at.dataframe[0].value) == 9
