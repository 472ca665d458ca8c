"""AppTest fixtures: the app pointed at the session's real cluster (by its state directory, as a user's
app finds the local cluster), never at an external bootstrap left in the environment."""

from __future__ import annotations

import pytest

from lab.cluster import LocalCluster


@pytest.fixture
def app_env(cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> LocalCluster:
    """The app pointed at this test's cluster: the shared one, or the breakable one for a test that must have
    a cluster alone (``tests/conftest.py``), so the other worker's tests go on meanwhile."""
    monkeypatch.setenv("KAFKA_LAB_STATE_DIR", str(cluster.state_dir))
    monkeypatch.delenv("KAFKA_LAB_BOOTSTRAP", raising=False)
    return cluster
