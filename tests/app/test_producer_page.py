"""The Producer tuning page driven by AppTest against the real session cluster: set the sidebar, run,
see the charts; a sweep draws its comparison charts."""

from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lab import registry as experiments
from lab.cluster import LocalCluster
from lab.core.results import ClusterFacts, RunInfo, new_run_id, now_iso, stamp
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepResult, SweepSettings
from lab.runs import launcher
from lab.runs import store as runs_store
from lab.runs.readable import quantity
from tests.unit.test_producer_charts import result

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/producer.py")
    at.run()
    assert not at.exception, at.exception
    return at


def finish(at: AppTest, timeout_s: float = 90) -> None:
    run = launcher.get(at.session_state["producer_run_id"])
    assert run is not None and run.join(timeout_s), "the run did not finish in time"
    at.run()
    assert not at.exception, at.exception


def chart_titles(at: AppTest) -> list[str]:
    out = []
    for el in at.main:
        if getattr(el, "type", None) == "vega_lite_chart":
            spec = json.loads(el.proto.spec)
            title = spec.get("title")
            if isinstance(title, dict):  # a title with a subtitle
                title = title.get("text")
            out.append(title if isinstance(title, str) else json.dumps(spec)[:200])
    return out


def test_single_run_draws_metrics_and_charts(app_env: LocalCluster) -> None:
    at = open_page()
    assert [t.value for t in at.title] == ["Producer tuning"]
    assert len(at.sidebar.caption) >= 5, "each knob is explained"
    at.sidebar.radio(key="acks").set_value("1")
    at.sidebar.selectbox(key="codec").set_value("gzip")
    at.sidebar.text_input(key="linger_ms").input("10")
    at.sidebar.radio(key="run_for").set_value("count").run()
    at.sidebar.text_input(key="count").input("2000")
    at.sidebar.button(key="producer_run_btn").click().run()
    assert not at.exception, at.exception
    finish(at)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["messages/s"].replace(",", "")) > 0
    assert float(metrics["compression ratio"].rstrip("x")) > 1.5
    titles = chart_titles(at)
    assert "Throughput over time" in titles and "Latency percentiles" in titles
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    assert labels.count("PNG") == labels.count("SVG") == labels.count("CSV") == 2, "each chart offers its files"
    assert "Download report (HTML)" in labels and "Download run (JSON)" in labels
    assert all(b.proto.deferred_file_id for b in buttons), "files are made on click, not on every rerun"


def test_the_default_run_measures_long_enough_to_trust(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.button(key="producer_run_btn").click().run()
    assert not at.exception, at.exception
    finish(at)
    run = launcher.get(at.session_state["producer_run_id"])
    r = run.result
    assert r.settings.duration_s == 5.0 and r.settings.rate == 5000.0 and r.warmup is not None
    assert r.measured_s >= 3.5 and r.warmup.duration_s >= 1.0
    assert "too-short" not in {d.code for d in r.verdict}, r.verdict
    shown = " ".join(x.value for x in [*at.success, *at.warning])
    assert "Verdict" in shown and "too-short" not in shown
    assert any("leave out the first" in c.value for c in at.caption), "the warm-up is reported"


def test_a_value_out_of_range_is_refused_not_replaced(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.text_input(key="msg_size").input("100000000")  # 100 MB: past what the lab sends (64 MiB)
    at.sidebar.button(key="producer_run_btn").click().run()
    assert not at.exception, at.exception
    assert any("message_size" in e.value or "Message size" in e.value for e in at.error), [e.value for e in at.error]
    assert "producer_run_id" not in at.session_state
    at.sidebar.text_input(key="linger_ms").input("60000")
    at.sidebar.text_input(key="msg_size").input("100")
    at.sidebar.button(key="producer_run_btn").click().run()
    assert any("delivery timeout" in e.value for e in at.error), [e.value for e in at.error]


def recorded_sweep(settings: SweepSettings, fixed: bool = True) -> str:
    """A sweep result as the run store keeps it (hand-made cells, stamped and saved); its run id. The page
    draws a stored run from its link exactly as a finished one, so sweeps need no real run here (the
    integration tests run them)."""
    variants = settings.variants()
    runs = tuple(result(v, 1000.0 * (i + 1), 10.0 * (i + 1), ratio=1.0 + i) for i, v in enumerate(variants))
    slow = tuple(result(v.replace(rate=500.0), 500.0, 2.0 + i, intended=True) for i, v in enumerate(variants))
    sweep = SweepResult(settings, runs, len(runs), 1.0, fixed_rate=500.0 if fixed else None,
                        fixed=slow if fixed else ())
    info = RunInfo(new_run_id(), "produce.sweep", now_iso(), now_iso(), ClusterFacts("local", "127.0.0.1:1"), "test")
    runs_store.open_store().save(runs_store.RunRecord.of(stamp(sweep, info)))
    return info.run_id


def open_stored(run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/producer.py")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception, at.exception
    return at


def test_codec_sweep_draws_comparison_charts(app_env: LocalCluster) -> None:
    at = open_stored(recorded_sweep(SweepSettings("codec", ProducerSettings())))
    text = json.dumps(chart_titles(at))
    assert "Codecs: throughput and compression ratio" in text
    assert "Throughput vs p99 latency" in text
    table = at.dataframe[0].value
    assert len(table) == 5 and list(table["max msg/s"]) == [1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
    assert list(table["p99 ms @rate"]) == [2.0, 3.0, 4.0, 5.0, 6.0], "the latency at the fixed rate is shown"


def test_bad_settings_explain_instead_of_raising(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.checkbox(key="idempotence").check()
    at.sidebar.radio(key="acks").set_value("0")
    at.sidebar.button(key="producer_run_btn").click().run()
    assert not at.exception, at.exception
    assert any("needs acks=all" in e.value for e in at.error)


def test_live_progress_and_cancel_show_a_partial_result(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.radio(key="run_for").set_value("duration").run()
    at.sidebar.text_input(key="duration_s").input("30")
    at.sidebar.text_input(key="rate").input("1000")
    at.sidebar.button(key="producer_run_btn").click().run()
    run = launcher.get(at.session_state["producer_run_id"])
    button = at.sidebar.button(key="producer_run_btn")
    assert button.disabled and button.label == "Running…", "Run is off at once while the run goes on"
    deadline = time.monotonic() + 30
    while (run.progress().partial is None or not run.progress().partial.samples) and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("progress")) == 1
    assert "Throughput (live)" in chart_titles(at)
    at.sidebar.button(key="producer_cancel_btn").click().run()
    finish(at, timeout_s=30)
    assert any("cancelled by the user" in w.value for w in at.warning)
    assert "messages/s" in {m.label for m in at.metric}, "the partial result is shown"


def test_choosing_a_preset_sets_the_knobs(app_env: LocalCluster) -> None:
    at = open_page()
    assert at.sidebar.radio(key="acks").value == "all"
    at.sidebar.selectbox(key="preset").set_value("high throughput").run()
    assert not at.exception, at.exception
    assert at.sidebar.radio(key="acks").value == "1"
    assert at.sidebar.selectbox(key="codec").value == "lz4"
    assert at.sidebar.text_input(key="linger_ms").value == "10"
    assert at.sidebar.select_slider(key="batch_size").value == 65_536


def test_batch_sweep_draws_the_heatmap(app_env: LocalCluster) -> None:
    at = open_stored(recorded_sweep(SweepSettings("batch", ProducerSettings())))
    titles = chart_titles(at)
    assert "linger.ms x batch.size" in titles and "Throughput vs p99 latency" in titles
    assert len(at.dataframe[0].value) == 9
    heat = next(json.loads(el.proto.spec) for el in at.main if getattr(el, "type", None) == "vega_lite_chart"
                and "linger.ms x batch.size" in el.proto.spec)
    assert "p99 send->ack at 500 msg/s" in json.dumps(heat), "the cells' numbers say what they are"


def test_the_result_leads_with_its_question_and_headline(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.radio(key="run_for").set_value("count").run()
    at.sidebar.text_input(key="count").input("3000")
    at.sidebar.text_input(key="rate").input("0")
    at.sidebar.button(key="producer_run_btn").click().run()
    finish(at)
    r = launcher.get(at.session_state["producer_run_id"]).result
    texts = [m.value for m in at.markdown]
    assert experiments.get("produce").question in " ".join(texts)
    lead = next(t for t in texts if "throughput" in t.lower())
    assert quantity(r.msgs_per_s, "msg/s") in lead.replace("**", ""), lead
    assert "e+0" not in lead
