"""The Consumer tuning page driven by AppTest against the real session cluster: every knob explained, a
strategy comparison runs and draws its charts from what the group's callbacks recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.consumer import protocols
from lab.runs import launcher

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/consumer.py")
    at.run()
    assert not at.exception, at.exception
    return at


def specs(at: AppTest) -> list[dict[str, Any]]:
    """Each chart's spec, with the rows of the data sets Streamlit sent beside it under "rows"."""
    out = []
    for el in at.main:
        if getattr(el, "type", None) != "vega_lite_chart":
            continue
        spec = json.loads(el.proto.spec)
        spec["rows"] = [row for ds in el.proto.datasets
                        for row in convert_arrow_bytes_to_pandas_df(ds.data.data).to_dict("records")]
        out.append(spec)
    return out


def rows_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = spec["rows"]
    return rows


def test_strategy_comparison_draws_the_measured_pauses(app_env: LocalCluster) -> None:
    at = open_page()
    assert [t.value for t in at.title] == ["Consumer tuning"]
    assert len(at.sidebar.caption) >= 8, "each knob is explained"
    at.sidebar.selectbox(key="consumer_mode").set_value("consumer.strategies").run()
    at.sidebar.multiselect(key="strategies").set_value(["range", "cooperative-sticky"])
    at.sidebar.slider(key="members").set_value(2)
    at.sidebar.button(key="consumer_run_btn").click().run()
    assert not at.exception, at.exception
    run = launcher.get(at.session_state["consumer_run_id"])
    assert run is not None and run.join(150), "the run did not finish in time"
    at.run()
    assert not at.exception, at.exception
    charts = specs(at)
    pauses = next(s for s in charts if s.get("title") == "Partitions revoked that did not move")
    by = {(r["strategy"], r["rebalance"]): r for r in rows_of(pauses)}
    assert by[("cooperative-sticky", "join")]["revoked_unmoved"] == 0
    assert by[("range", "join")]["revoked"] == 8, "eager: every partition of both topics revoked"
    timelines = [s for s in charts if s.get("title") in ("range", "cooperative-sticky")]
    assert len(timelines) == 2
    owned = [r for r in rows_of(timelines[0]) if "owned" in r]
    assert {r["member"] for r in owned} >= {"m0", "m1", "m2"} and max(r["owned"] for r in owned) >= 3


def test_new_protocol_is_an_ordinary_choice_on_the_default_4x_cluster(app_env: LocalCluster) -> None:
    if not protocols.is_running_4x(app_env):
        pytest.skip("the session's cluster runs Kafka 3.x (KAFKA_LAB_TEST_KAFKA_VERSION)")
    at = open_page()
    at.sidebar.selectbox(key="consumer_mode").set_value("consumer.protocols").run()
    assert not at.exception, at.exception
    assert not any("needs Kafka 4.0 or later" in e.value for e in at.error)
    assert not at.sidebar.button(key="consumer_run_btn").disabled
    assert not any(b.key == "consumer_start41" for b in at.sidebar.button), "no second cluster on 4.x"
    # what the new protocol replaces, with the session and heartbeat the brokers really have
    shown = " ".join(m.value for m in at.sidebar.markdown)
    configured = protocols.broker_configs(app_env)
    for key in ("group.consumer.session.timeout.ms", "group.consumer.heartbeat.interval.ms"):
        assert f"{key}: {configured[key]} ms on the lab's clusters" in shown, (key, configured[key])
    assert "`partition.assignment.strategy`" in shown and "group.remote.assignor" in shown


@pytest.mark.version_sensitive
def test_new_protocol_on_a_3_9_cluster_says_why_not(app_env: LocalCluster, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if protocols.is_running_4x(app_env):
        pytest.skip("the session's cluster runs Kafka 4.x; run with KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2")
    monkeypatch.setenv(protocols.PROTOCOL_STATE_ENV, str(tmp_path / "no-4.1-cluster-here"))
    at = open_page()
    at.sidebar.radio(key="protocol").set_value("consumer").run()
    assert not at.exception, at.exception
    assert any("needs Kafka 4.0 or later" in e.value for e in at.error)
    assert at.sidebar.button(key="consumer_run_btn").disabled
    at.sidebar.selectbox(key="consumer_mode").set_value("consumer.protocols").run()
    assert not at.exception, at.exception
    assert any("needs Kafka 4.0 or later" in e.value for e in at.error)
    assert at.sidebar.button(key="consumer_run_btn").disabled
    assert f"Start the lab's {protocols.NEW_PROTOCOL_VERSION} cluster" in [b.label for b in at.sidebar.button], (
        "offered, not clicked here")

