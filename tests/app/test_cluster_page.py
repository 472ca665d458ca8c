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
