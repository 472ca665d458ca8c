"""Shared fixtures. Unit tests start nothing; anything that asks for ``cluster`` gets the one real
3-broker cluster of this test session, started by the lab's own launcher on free ports in its own
state directory, and stopped (data deleted) at the end. Under pytest-xdist (`-n 2`, the default) each
worker is a session of its own: two clusters, each file's tests on one worker (`--dist loadfile`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from confluent_kafka import TopicPartition

from lab import clients
from lab.cluster import LocalCluster

#: Shorter than the user's settings so failure tests finish quickly; the user's cluster keeps its own.
#: The broker session is the user's 6 s (not shorter): on a loaded 2-core machine running two clusters a
#: broker's heartbeats can stall for 4 s, and a broker fenced for that drops out of the metadata mid-test.
TEST_BROKER_OVERRIDES = {
    "replica.lag.time.max.ms": "3000",
    "broker.session.timeout.ms": "6000",
    "broker.heartbeat.interval.ms": "500",
}


#: Fixtures that start (or use) the real cluster: a test that asks for one is an integration test.
CLUSTER_FIXTURES = {"cluster", "whole_cluster", "app_env", "app_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from where a test lives and what it uses, so `-m "not integration"` runs only pure tests."""
    for item in items:
        path = str(item.fspath)
        if "/browser/" in path:
            item.add_marker(pytest.mark.browser)
        if "/integration/" in path or CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def runs_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every run a test launches is saved in a store of this session, never in the user's home (the
    variable is inherited by CLI and app subprocesses the tests start)."""
    path = tmp_path_factory.mktemp("runs") / "runs.sqlite"
    old = os.environ.get("KAFKA_LAB_RUNS_DB")
    os.environ["KAFKA_LAB_RUNS_DB"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("KAFKA_LAB_RUNS_DB", None)
        else:
            os.environ["KAFKA_LAB_RUNS_DB"] = old


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


# --- a consumer group with known lag (lag lab tests) ----------------------------------------------------
#: records produced per partition; the group consumes and commits CONSUMED of them (partition 2: none)
LAGGING_PRODUCED = {0: 100, 1: 80, 2: 50}
LAGGING_CONSUMED = {0: 30, 1: 45}


def produce(cluster: LocalCluster, topic: str, counts: dict[int, int]) -> None:
    with clients.producer(cluster, {"acks": "all", "linger.ms": 5}) as p:
        for part, n in counts.items():
            for i in range(n):
                p.produce(topic, f"{part}-{i}".encode(), partition=part)
        assert p.flush(30) == 0


def consume_and_commit(cluster: LocalCluster, topic: str, group: str, per_partition: dict[int, int]) -> None:
    """Read exactly ``n`` records of each partition, then commit synchronously where reading stopped."""
    c = clients.consumer(cluster, {"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        for part, n in per_partition.items():
            c.assign([TopicPartition(topic, part, 0)])
            got = 0
            for _ in range(200):
                for m in c.consume(num_messages=n - got, timeout=1.0):
                    assert m.error() is None
                    got += 1
                if got >= n:
                    break
            assert got == n
            c.commit(offsets=[TopicPartition(topic, part, n)], asynchronous=False)
    finally:
        c.close()


class LaggingGroup(NamedTuple):
    topic: str
    group: str
    #: records produced per partition, and read + committed per partition (partition 2: never committed)
    produced: dict[int, int]
    consumed: dict[int, int]


@pytest.fixture
def lagging_group(cluster: LocalCluster, topic_name: str) -> LaggingGroup:
    """A 3-partition topic with LAGGING_PRODUCED records per partition, and a group that has read and
    committed LAGGING_CONSUMED of them (partition 2: never committed)."""
    from lab import admin
    from lab.settings import TopicSpec

    admin.create_topics(cluster, [TopicSpec(topic_name, 3, 3)])
    produce(cluster, topic_name, LAGGING_PRODUCED)
    group = f"lag-test-{uuid.uuid4().hex[:8]}"
    consume_and_commit(cluster, topic_name, group, LAGGING_CONSUMED)
    return LaggingGroup(topic_name, group, dict(LAGGING_PRODUCED), dict(LAGGING_CONSUMED))
