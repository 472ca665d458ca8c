"""Faults that need real brokers: a port taken, a broker that exits or is too slow, a topic config that
Kafka itself refuses. Each is one ``LabError`` with a hint (and the broker's log tail where it helps)."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from lab.cluster import BrokerState, LocalCluster
from lab.cluster.local_config import HOST
from lab.core.errors import BrokerStartError, ClusterError, SettingsError
from lab.kafka import admin
from lab.kafka.specs import TopicSpec

#: A class Kafka instantiates only when the broker starts (storage formatting never loads it), so
#: formatting succeeds and the broker process itself exits.
MISSING_AUTHORIZER = "org.example.NoSuchAuthorizer"


def test_topic_config_kafka_rejects(cluster: LocalCluster, topic_name: str) -> None:
    spec = TopicSpec(topic_name, 1, 3, {"no.such.config": "1"})
    with pytest.raises(SettingsError) as err:
        admin.create_topics(cluster, [spec])
    text = str(err.value)
    assert f"Kafka refused topic {topic_name!r}" in text and "no.such.config" in text and err.value.hint


def test_taken_port_is_named_and_nothing_half_starts(whole_cluster: LocalCluster) -> None:
    c = whole_cluster
    assert c.broker("stop", 2).state is BrokerState.STOPPED
    port = next(b.port for b in c.status().brokers if b.node_id == 2)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the broker's TIME_WAITs may linger
        squatter.bind((HOST, port))
        squatter.listen()
        for attempt in (lambda: c.up(timeout_s=30), lambda: c.broker("start", 2)):
            with pytest.raises(ClusterError) as err:
                attempt()
            assert f"Port {port}" in str(err.value) and "broker 2" in str(err.value) and err.value.hint
            assert c.status().brokers[1].state is BrokerState.STOPPED
    # whole_cluster starts broker 2 again once the port is free


def test_broker_that_exits_shows_its_log_tail(tmp_path: Path) -> None:
    c = LocalCluster(tmp_path / "bad", preferred_ports=None,
                     broker_overrides={"authorizer.class.name": MISSING_AUTHORIZER})
    try:
        with pytest.raises(BrokerStartError) as err:
            c.up(timeout_s=120)
        text = str(err.value)
        assert "exited while starting" in text and "cluster down" in text
        assert "last lines of the broker log" in text and MISSING_AUTHORIZER in err.value.log_tail
    finally:
        c.down(purge=True)
    assert not any(p.info["cmdline"] and any(str(tmp_path) in a for a in p.info["cmdline"])
                   for p in psutil.process_iter(["cmdline"]))


def test_broker_that_does_not_come_up_in_time(tmp_path: Path) -> None:
    c = LocalCluster(tmp_path / "slow", preferred_ports=None)
    try:
        with pytest.raises(BrokerStartError) as err:
            c.up(timeout_s=1)  # far less than a JVM needs to start
        text = str(err.value)
        assert "did not register within" in text and "cluster down" in text
        assert "[broker " in err.value.log_tail
    finally:
        c.down(purge=True)
