"""The Idempotence & transactions page driven by AppTest against the real session cluster: the sidebar
builds the settings, a real transactions run draws HW vs LSO from what it measured."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.eos import about, duplicates
from lab.runs import launcher
from tests.conftest import TEST_BROKER_OVERRIDES

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "pages/eos.py"


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def chart_frames(at: AppTest) -> list[pd.DataFrame]:
    """The data of every chart on the page (what is drawn, not that a chart exists)."""
    out = []
    for el in at.main:
        if getattr(el, "type", None) != "vega_lite_chart":
            continue
        out += [convert_arrow_bytes_to_pandas_df(ds.data.data) for ds in el.proto.datasets]
        spec = json.loads(el.proto.spec)
        out += [pd.DataFrame(v) for v in spec.get("datasets", {}).values()]
    return out


def test_page_explains_each_knob_and_the_fault_window(app_env: LocalCluster) -> None:
    at = open_page()
    assert [t.value for t in at.title] == ["Idempotence & transactions"]
    assert at.sidebar.radio(key="eos_kind").value == "eos.idempotent"
    # the fault window is read from this cluster (broker.session.timeout.ms of TEST_BROKER_OVERRIDES)
    session_ms = int(TEST_BROKER_OVERRIDES["broker.session.timeout.ms"])
    assert any(f"broker.session.timeout.ms **{session_ms}**" in c.value for c in at.sidebar.caption), \
        [c.value for c in at.sidebar.caption]
    assert at.sidebar.slider(key="pause_ms").max == session_ms - duplicates.SESSION_MARGIN_MS
    assert all(w.help for w in at.sidebar.slider)
    assert about.ABOUT["eos.idempotent"] in [c.value for c in at.caption], "the scenario's explainer is next to it"
    assert not at.main.expander, [e.label for e in at.main.expander]


def test_settings_that_conflict_with_idempotence_are_a_message(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.radio(key="idem_acks").set_value("1").run()
    assert not at.exception, at.exception
    assert any("needs acks=all" in e.value for e in at.sidebar.error), [e.value for e in at.error]
    assert at.sidebar.button(key="eos_run_btn").disabled
    at.sidebar.radio(key="idem_mode").set_value("off").run()  # a plain producer may use acks=1
    assert not at.sidebar.error and not at.sidebar.button(key="eos_run_btn").disabled


def test_a_transactions_run_draws_hw_above_lso_while_open(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.radio(key="eos_kind").set_value("eos.transactional").run()
    at.sidebar.slider(key="txns").set_value(4).run()
    at.sidebar.slider(key="txn_aborted").set_value(1).run()
    at.sidebar.slider(key="txn_hold_s").set_value(2).run()
    at.sidebar.button(key="eos_run_btn").click().run()
    assert not at.exception, at.exception
    run = launcher.get(at.session_state["eos_run_id"])
    assert run is not None and run.join(120), "the run did not finish in time"
    at.run()
    assert not at.exception, at.exception
    assert any("finished" in s.value for s in at.success), [s.value for s in at.success]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["aborted, seen by read_committed"] == "0"
    assert int(metrics["aborted, seen by read_uncommitted"]) == 9
    frames = [f for f in chart_frames(at) if {"series", "offset", "t"} <= set(f.columns)]
    assert frames, "no HW vs LSO data on the page"
    data = frames[0]
    wide = data.pivot_table(index=["t", "partition"], columns="series", values="offset").dropna()
    gap = wide["high watermark"] - wide["last stable offset"]
    assert gap.min() == 0, "the LSO never passes the HW"
    bands = [f for f in chart_frames(at) if {"from", "to", "label"} <= set(f.columns)]
    assert bands and len(bands[0]) == 1, "the open transaction is drawn as a band"
    t_from, t_to = float(bands[0]["from"].iloc[0]), float(bands[0]["to"].iloc[0])
    t_index = gap.index.get_level_values("t")
    held = gap[(t_index >= t_from) & (t_index <= t_to)]
    # while the last transaction was open the HW led the LSO by its records: 9 over 3 partitions = 3 each
    assert len(held) >= 9 and (held == 3).all(), held
    last_t = t_index.max()
    assert (gap.xs(last_t, level="t") == 0).all()


@pytest.mark.parametrize("kind", ["eos.fencing", "eos.pipeline"])
def test_every_scenario_has_a_valid_form(app_env: LocalCluster, kind: str) -> None:
    at = open_page()
    at.sidebar.radio(key="eos_kind").set_value(kind).run()
    assert not at.exception, at.exception
    assert not at.sidebar.error and not at.sidebar.button(key="eos_run_btn").disabled
