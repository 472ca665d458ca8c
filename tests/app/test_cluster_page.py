"""The Cluster page rendered by Streamlit's AppTest against the real session cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_cluster_page_shows_three_live_brokers(app_env: LocalCluster) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    for n in (1, 2, 3):
        assert f"Broker {n}" in text
    assert text.count("running") >= 3
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Backend"] == "local"
    assert str(app_env.status().cluster_id) in text
    assert any("reachable" in s.value for s in at.sidebar.success)


def test_unreachable_cluster_explains_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_LAB_BOOTSTRAP", "127.0.0.1:1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("does not answer" in w.value for w in at.warning)
    assert any("not reachable" in e.value for e in at.sidebar.error)


@pytest.mark.version_sensitive  # the ELR feature level: 1 on the default 4.x, 0 on 3.9
def test_elr_table_on_request(app_env: LocalCluster) -> None:
    from lab.kafka import admin
    from lab.kafka.specs import TopicSpec

    admin.create_topics(app_env, [TopicSpec("app-cluster-elr", 1, 3)])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.toggle(key="cluster_show_elr").set_value(True).run()
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "last known ELR" in d.value.columns]
    assert tables, ([e.value for e in at.error], [list(d.value.columns) for d in at.dataframe])
    row = tables[0][tables[0]["topic"] == "app-cluster-elr"]
    assert list(row["ISR"]) == ["1,2,3"] and list(row["ELR"]) == ["-"]
    level = "1" if app_env.version.startswith("4.") else "0"
    assert any(f"eligible.leader.replicas.version={level}" in c.value for c in at.caption)
