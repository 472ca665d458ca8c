"""What the local backend writes for its brokers: server.properties, logging config, ports, cluster id."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from lab.cluster import LocalCluster
from lab.cluster.local_config import (
    HOST,
    LAB_BROKER_SETTINGS,
    NODE_IDS,
    log4j_config,
    new_cluster_id,
    pick_ports,
    port_is_free,
    server_properties,
)
from lab.cluster.local_process import tail
from lab.cluster.local_state import LocalState, NodeState
from lab.core.errors import ProvisionError

NODES = {n: NodeState(n, 9090 + n, 19090 + n, 8770 + n) for n in NODE_IDS}


def parse_props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_server_properties_for_a_combined_kraft_node(tmp_path: Path) -> None:
    props = parse_props(server_properties(NODES[2], NODES, tmp_path / "data", {}))
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19091,2@127.0.0.1:19092,3@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:19092"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path / "data")
    for key, value in LAB_BROKER_SETTINGS.items():
        assert props[key] == value


def test_server_properties_bind_loopback_only(tmp_path: Path) -> None:
    props = parse_props(server_properties(NODES[1], NODES, tmp_path, {}))
    for key in ("listeners", "advertised.listeners", "controller.quorum.voters"):
        hosts = {part.split("://")[-1].split("@")[-1].rsplit(":", 1)[0] for part in props[key].split(",")}
        assert hosts == {HOST}, key


def test_lab_settings_are_the_issue_s() -> None:
    assert LAB_BROKER_SETTINGS["default.replication.factor"] == "3"
    assert LAB_BROKER_SETTINGS["min.insync.replicas"] == "2"
    assert LAB_BROKER_SETTINGS["offsets.topic.replication.factor"] == "3"
    assert LAB_BROKER_SETTINGS["transaction.state.log.replication.factor"] == "3"
    assert int(LAB_BROKER_SETTINGS["replica.lag.time.max.ms"]) <= 10_000


def test_overrides_win(tmp_path: Path) -> None:
    props = parse_props(server_properties(NODES[1], NODES, tmp_path, {"replica.lag.time.max.ms": "3000",
                                                                       "log.cleaner.threads": "2"}))
    assert props["replica.lag.time.max.ms"] == "3000" and props["log.cleaner.threads"] == "2"


def test_log4j_1_config_for_kafka_3(tmp_path: Path) -> None:
    cfg = log4j_config(tmp_path, log4j2=False)
    assert "org.apache.log4j.RollingFileAppender" in cfg
    assert f"log4j.appender.file.File={tmp_path}/server.log" in cfg
    assert "appender.file.type" not in cfg


def test_log4j2_config_for_kafka_4(tmp_path: Path) -> None:
    cfg = parse_props(log4j_config(tmp_path, log4j2=True).replace(" = ", "="))
    assert cfg["appender.file.type"] == "RollingFile"
    assert cfg["appender.file.fileName"] == f"{tmp_path}/server.log"
    assert cfg["rootLogger.appenderRef.file.ref"] == cfg["appender.file.name"]
    # the same noise reduction as the 3.x config
    assert cfg["logger.request.name"] == "kafka.request.logger" and cfg["logger.request.level"] == "warn"
    assert cfg["logger.clients.name"] == "org.apache.kafka.clients"
    assert not any(k.startswith("log4j.") for k in cfg), "no log4j 1.x keys in a log4j2 file"


def test_new_cluster_id_format() -> None:
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    for cid in ids:
        assert len(cid) == 22 and "=" not in cid
        assert set(cid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_pick_ports_keeps_free_preferred_ports() -> None:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        free = probe.getsockname()[1]
    # (a tiny race: the port was free a moment ago; nothing on this machine hunts for it)
    ports = pick_ports((free, 0, 0), set())
    assert ports[0] == free
    assert len(set(ports)) == 3 and all(port_is_free(p) for p in ports)


def test_pick_ports_skips_taken_ones() -> None:
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert not port_is_free(taken)
        ports = pick_ports((taken, taken, taken), set())
    assert taken not in ports and len(set(ports)) == 3


def test_pick_ports_never_repeats_across_calls() -> None:
    taken: set[int] = set()
    a = pick_ports(None, taken)
    b = pick_ports(None, taken)
    assert len(set(a + b)) == 6 and taken == set(a + b)


def test_bad_version_is_refused_before_anything_is_written(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    with pytest.raises(ProvisionError, match="Kafka version '2.8' is not supported"):
        LocalCluster(tmp_path / "state", version="2.8")
    assert not (tmp_path / "state").exists()


def test_log_tail_shortens_java_stack_traces(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    frames = [f"\tat kafka.Frame{i}.run(Frame.scala:{i})" for i in range(30)]
    log.write_text("\n".join(["[t] INFO starting", "[t] ERROR fatal", "java.lang.ClassNotFoundException: X",
                              *frames, "[t] INFO shut down"]) + "\n")
    got = tail(log, 8).splitlines()
    assert got == ["[t] INFO starting", "[t] ERROR fatal", "java.lang.ClassNotFoundException: X",
                   *frames[:3], "\t... 27 more frames", "[t] INFO shut down"]
    assert tail(tmp_path / "missing.log") == f"(no log at {tmp_path / 'missing.log'})"


def test_state_file_keeps_the_broker_overrides(tmp_path: Path) -> None:
    """A process that attaches later (the app, the CLI) must restart brokers with the cluster's own settings."""
    path = tmp_path / "cluster.json"
    LocalState("3.9.2", "abc", {1: NodeState(1, 1, 2, 3)}, {"replica.lag.time.max.ms": "3000"}).save(path)
    loaded = LocalState.load(path)
    assert loaded is not None and loaded.broker_overrides == {"replica.lag.time.max.ms": "3000"}
    assert LocalCluster(tmp_path)._overrides(loaded) == {"replica.lag.time.max.ms": "3000"}


def test_state_file_from_before_overrides_were_kept_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    path.write_text('{"version": "3.9.2", "cluster_id": "abc", "nodes": {"1": {"node_id": 1, "client_port": 1, '
                    '"controller_port": 2, "jmx_port": 3, "pid": null}}}')
    loaded = LocalState.load(path)
    assert loaded is not None and loaded.broker_overrides == {}
