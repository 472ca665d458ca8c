"""Shared fixtures. Unit tests start nothing; anything that asks for ``cluster`` gets the one real
3-broker cluster of this test session, started by the lab's own launcher on free ports in its own
state directory, and stopped (data deleted) at the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.cluster import LocalCluster

#: Shorter than the user's settings so failure tests finish quickly; the user's cluster keeps its own.
TEST_BROKER_OVERRIDES = {
    "replica.lag.time.max.ms": "3000",
    "broker.session.timeout.ms": "4000",
    "broker.heartbeat.interval.ms": "500",
}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    state = Path(os.environ.get("KAFKA_LAB_TEST_STATE_DIR") or tmp_path_factory.mktemp("kafka-cluster"))
    c = LocalCluster(state, preferred_ports=None, broker_overrides=TEST_BROKER_OVERRIDES)
    try:
        c.up(timeout_s=180)
        yield c
    finally:
        c.down(purge=True)


@pytest.fixture
def whole_cluster(cluster: LocalCluster) -> Iterator[LocalCluster]:
    """The session cluster, made whole again (all brokers running) after a test that breaks it."""
    try:
        yield cluster
    finally:
        cluster.up(timeout_s=120)


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A fresh topic name per test: ``<test>-<uuid>`` (the topic is created by the test)."""
    base = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:60]
    return f"t-{base}-{uuid.uuid4().hex[:8]}"
