"""The Consumer lag page driven by AppTest on the real cluster: pick a group that committed part of its
topic, watch it for a few seconds, and read the exact lag per partition in the table and the chart."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.runs import launcher

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_watch_a_group_and_read_its_lag(app_env: LocalCluster, lagging_group) -> None:  # type: ignore[no-untyped-def]
    topic_name, group, PRODUCED, CONSUMED = lagging_group  # noqa: N806 - the fixture's constants
    st.cache_data.clear()  # the page caches the group list for 5 s: an earlier test's list must not hide this group
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/lag.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Consumer lag"
    listed = [o for o in at.sidebar.selectbox(key="lag_group").options if o.startswith(f"{group} — ")]
    assert listed == [f"{group} — empty, 0 member(s), lag {sum(PRODUCED[p] - n for p, n in CONSUMED.items()):,}"]
    at.sidebar.selectbox(key="lag_group").set_value(group)
    at.sidebar.text_input(key="watch_s").input("5").run()
    at.sidebar.button(key="lag_run_btn").click().run()
    assert not at.exception, at.exception
    run = launcher.get(at.session_state["lag_run_id"])
    assert run is not None and run.join(60)
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    rows = {r["partition"]: r for r in table.to_dict("records")}
    assert rows[f"{topic_name}[0]"]["lag (records)"] == f"{PRODUCED[0] - CONSUMED[0]:,}"
    assert rows[f"{topic_name}[2]"]["committed"] == "no commit" and rows[f"{topic_name}[2]"]["status"] == "NO_COMMIT"
    lag_chart = next(el for el in at.main if getattr(el, "type", None) == "vega_lite_chart"
                     and json.loads(el.proto.spec).get("title") == "Lag per partition (records)")
    # the rows Streamlit sends the browser with the chart (Arrow), not just the spec
    frames = [convert_arrow_bytes_to_pandas_df(ds.data.data) for ds in lag_chart.proto.datasets]
    drawn = {int(v) for f in frames if "lag" in f for v in f["lag"].dropna()}
    assert drawn == {PRODUCED[0] - CONSUMED[0], PRODUCED[1] - CONSUMED[1]}
    assert any("ERR" in m.value for m in at.markdown), "a group whose commits stand still with lag is ERR"


def test_the_scenario_form_explains_the_capacity_and_refuses_bad_phases(app_env: LocalCluster) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/lag.py")
    at.run()
    at.sidebar.radio(key="lag_mode").set_value("scenario").run()
    assert not at.exception, at.exception
    assert any("One member then handles 100 records/s" in c.value for c in at.sidebar.caption)
    assert not at.sidebar.button(key="lag_run_btn").disabled
    at.sidebar.multiselect(key="phases").set_value([]).run()
    assert any("phases=() is not valid" in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert at.sidebar.button(key="lag_run_btn").disabled


def test_a_sustainable_rate_search_is_drawn_with_its_steps(app_env: LocalCluster) -> None:
    """A recorded search (as the store keeps it) opened from its link: the rate found, the steps, the chart."""
    from lab.core.results import ClusterFacts, RunInfo, new_run_id, now_iso, stamp
    from lab.lag.rate import RateStep, SustainableRateResult
    from lab.lag.settings import SustainableRateSettings
    from lab.runs import store as runs

    s = SustainableRateSettings(members=1, start_rate=60, step=60, max_rate=240, step_s=10)
    steps = (RateStep(60, 5.0, 15.0, 40, 30, -1.0, True), RateStep(120, 15.0, 25.0, 30, 160, 9.0, True),
             RateStep(180, 25.0, 35.0, 160, 900, 74.0, False))
    info = RunInfo(new_run_id(), "lag.sustainable-rate", now_iso(), now_iso(), ClusterFacts("local", "x:1"), "test")
    res = stamp(SustainableRateResult(s, "t", "g", steps, ()), info)
    runs.open_store().save(runs.RunRecord.of(res))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/lag.py")
    at.query_params["run"] = info.run_id
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sustainable rate (records/s)"] == "120" and metrics["By arithmetic (records/s)"] == "100"
    table = at.dataframe[0].value
    assert list(table["kept up"]) == ["yes", "yes", "no: fell behind"]
