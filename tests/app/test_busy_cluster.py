"""Two faces, one cluster: while a broker-changing scenario runs (started here as a terminal would), the
Replication page refuses a second one with a message naming the first, its broker buttons are off and
say why, and once the first ends (cancelled: it returns what it measured) the page can run again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab import registry as experiments
from lab.cluster import BrokerState, LocalCluster
from lab.replication import settings as replication_settings
from lab.runs import launcher

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.mark.breaks_brokers  # launches the HW vs LEO scenario (changes_brokers): pauses a follower, holds the lab lock
def test_a_second_scenario_is_refused_while_one_breaks_brokers(app_env: LocalCluster, topic_name: str) -> None:
    first = launcher.launch(experiments.get("replication.hw-leo"), app_env,
                            replication_settings.HwLeoSettings(topic_name, 50, 30.0, 5.0), face="cli")
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/replication.py")
        at.run()
        assert not at.exception, at.exception
        # the broker buttons are off while the lock is held, and the page says who holds it
        stops = [b for b in at.button if b.key and b.key.startswith("repl_stop_")]
        assert stops and all(b.disabled for b in stops)
        assert any("HW vs LEO scenario" in c.value and "from the cli" in c.value for c in at.caption)
        at.radio(key="repl_kind").set_value("replication.min-isr").run()
        at.button(key="repl_run_btn").click().run()
        assert not at.exception, at.exception
        busy = [e.value for e in at.error if "The cluster is busy" in e.value]
        assert busy and "HW vs LEO scenario" in busy[0], [e.value for e in at.error]
        assert "repl_run_id" not in at.session_state, "the refused run was not started"
    finally:
        first.cancel()
        result = first.wait()
    assert result.stopped == "stopped early: cancelled by the user"
    assert result.run is not None and result.run.face == "cli"
    assert all(b.state is BrokerState.RUNNING for b in app_env.status().brokers), "the scenario healed the cluster"
    assert app_env.lock_holder() is None
    # free again: the page offers its buttons
    deadline = time.monotonic() + 10
    at.run()
    while any(b.disabled for b in at.button if b.key and b.key.startswith("repl_stop_")) and \
            time.monotonic() < deadline:
        at.run()
    assert not any(b.disabled for b in at.button if b.key and b.key.startswith("repl_stop_"))
    assert not [e.value for e in at.error if "The cluster is busy" in e.value], "the refusal went by itself"
    assert not at.button(key="repl_run_btn").disabled
