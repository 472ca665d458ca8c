"""The Replication & ISR page rendered by AppTest against the real session cluster."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.kafka import admin
from lab.kafka.specs import TopicSpec
from lab.replication import about

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "pages/replication.py"


#: The page's own topic in these tests (the lab's catalogue topics are left to the Cluster page's tests).
TOPIC = "app-replication-page"


@pytest.fixture
def app_env(app_env: LocalCluster) -> LocalCluster:
    """The shared app environment, plus this page's own topic."""
    admin.create_topics(app_env, [TopicSpec(TOPIC, 3, 3, {"min.insync.replicas": "2"})])
    return app_env


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(PAGE)
    at.run()
    if any(sb.key == "repl_describe_topic" for sb in at.selectbox) and \
            at.selectbox(key="repl_describe_topic").value != TOPIC:
        at.selectbox(key="repl_describe_topic").set_value(TOPIC).run()
    return at


def test_page_shows_brokers_state_and_the_key_questions(app_env: LocalCluster) -> None:
    at = open_page()
    assert not at.exception, at.exception
    assert at.title[0].value == "Replication & ISR"
    text = " ".join(m.value for m in at.markdown)
    for n in (1, 2, 3):
        assert f"Broker {n}" in text
    assert text.count("running") >= 3
    assert any(b.key == "repl_stop_2" for b in at.button)
    # the describe table: one row per partition of lab-replication-demo, with epochs and LEOs from JMX
    # the panel refreshes itself every 2 s; a topic created a moment ago may need one more refresh
    for _ in range(5):
        if at.dataframe:
            break
        time.sleep(1.0)
        at.run()
    assert at.dataframe, f"no describe table; captions: {[c.value for c in at.caption]}"
    described = at.dataframe[0].value
    assert list(described["partition"]) == [0, 1, 2] and set(described["ISR"]) == {"1, 2, 3"}
    assert any("Jolokia" in c.value for c in at.caption)
    # each scenario's explainer sits under its controls while it is the chosen one (none at the bottom)
    for kind, text in about.ABOUT.items():
        at.radio(key="repl_kind").set_value(kind).run()
        assert not at.exception, at.exception
        captions = [c.value for c in at.caption]
        assert text in captions, (kind, captions)
        others = [t for k, t in about.ABOUT.items() if k != kind and t != text]
        assert not set(others) & set(captions), f"{kind}: another scenario's explainer is shown"
    assert not [e.label for e in at.expander if "?" in e.label], "no question collapsed at the bottom"


def test_live_monitor_runs_and_finishes_with_charts(app_env: LocalCluster) -> None:
    at = open_page()
    at.radio(key="repl_kind").set_value("replication.monitor").run()
    at.selectbox(key="mon_topic").set_value(TOPIC).run()
    at.slider(key="mon_s").set_value(10).run()
    at.button(key="repl_run_btn").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("finished" in s.value for s in at.success):
        time.sleep(1)
        at.run()
    assert any("Live monitor finished" in s.value for s in at.success), [s.value for s in at.success]
    assert not at.exception, at.exception


def test_bad_setting_is_a_message_not_a_traceback(app_env: LocalCluster) -> None:
    at = open_page()
    at.radio(key="repl_kind").set_value("replication.unclean").run()
    at.selectbox(key="un_lagging").set_value(1).run()  # same as the in-sync broker
    assert not at.exception, at.exception
    assert any("both 1" in e.value for e in at.error)
    assert at.button(key="repl_run_btn").disabled


def test_unreachable_cluster_explains_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_LAB_BOOTSTRAP", "127.0.0.1:1")
    at = open_page()
    assert not at.exception, at.exception
    assert any("not reachable" in i.value for i in at.info)


@pytest.mark.version_sensitive  # the second cluster's version and the ELR feature level depend on the session's
def test_elr_on_request_and_the_version_comparison_says_what_it_starts(app_env: LocalCluster) -> None:
    from lab.replication import elr

    at = open_page()
    at.button(key="repl_read_elr").click().run()
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "last known ELR" in d.value.columns]
    assert tables and list(tables[0]["partition"]) == [0, 1, 2] and set(tables[0]["ELR"]) == {"-"}
    level = "1" if app_env.version.startswith("4.") else "0"
    assert any(f"eligible.leader.replicas.version={level}" in c.value and "kafka-topics" in c.value
               for c in at.caption), [c.value for c in at.caption]
    at.radio(key="repl_kind").set_value("replication.elr").run()
    assert not at.exception, at.exception
    other = elr.other_version(app_env.version)
    assert any(f"Kafka **{other}**" in c.value and "stops and deletes" in c.value for c in at.caption)
    assert not at.button(key="repl_run_btn").disabled
    assert about.ABOUT["replication.elr"] in [c.value for c in at.caption]
