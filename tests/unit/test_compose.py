"""docker-compose.yml is checked by parsing it (no `docker compose` here), and the compose backend must
say clearly that it needs a Docker engine when none answers (a real Docker SDK call failing)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.cluster import LAB_BROKER_SETTINGS, BrokerState, from_env
from lab.cluster.compose import (
    CLIENT_PORTS,
    CONTAINER_STATES,
    ComposeCluster,
    broker_state,
    container_name,
    image_version,
)
from lab.cluster.local import HEAP
from lab.errors import ClusterError

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
NODES = (1, 2, 3)
INTERNAL_PORT = 29092


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def env_of(compose: dict[str, Any], node: int) -> dict[str, str]:
    env = compose["services"][container_name(node)]["environment"]
    assert isinstance(env, dict), "environment must be a mapping so the shared settings merge in"
    return {k: str(v) for k, v in env.items()}


def test_three_services_named_as_in_the_seeds(compose: dict[str, Any]) -> None:
    assert sorted(compose["services"]) == [f"kafka-internals-{n}" for n in NODES]
    for n in NODES:
        svc = compose["services"][container_name(n)]
        assert svc["container_name"] == svc["hostname"] == f"kafka-internals-{n}"


def test_official_apache_kafka_39_image(compose: dict[str, Any]) -> None:
    for svc in compose["services"].values():
        repo, _, tag = svc["image"].partition(":")
        assert repo == "apache/kafka"
        assert tag.startswith("3.9."), "the course runs Kafka 3.9"


def test_ports_published_on_loopback_only_and_advertised_as_localhost(compose: dict[str, Any]) -> None:
    for n in NODES:
        svc = compose["services"][container_name(n)]
        assert svc["ports"] == [f"127.0.0.1:{CLIENT_PORTS[n]}:9092"], "one client port, loopback only"
        env = env_of(compose, n)
        assert env["KAFKA_NODE_ID"] == str(n)
        advertised = dict(part.split("://") for part in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
        assert advertised == {"INTERNAL": f"kafka-internals-{n}:{INTERNAL_PORT}",
                              "EXTERNAL": f"localhost:{CLIENT_PORTS[n]}"}
    # the backend's bootstrap needs no engine: build it without connecting
    backend = object.__new__(ComposeCluster)
    assert backend.bootstrap_servers() == "localhost:9092,localhost:9093,localhost:9094"


def test_listeners_are_consistent(compose: dict[str, Any]) -> None:
    for n in NODES:
        env = env_of(compose, n)
        listeners = dict(part.split("://") for part in env["KAFKA_LISTENERS"].split(","))
        protocols = dict(part.split(":") for part in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
        assert set(listeners) == set(protocols) == {"INTERNAL", "EXTERNAL", "CONTROLLER"}
        assert listeners["INTERNAL"] == f":{INTERNAL_PORT}"  # the seeds' `--bootstrap-server localhost:29092`
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in listeners
        assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
        advertised = {p.split("://")[0] for p in env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
        assert "CONTROLLER" not in advertised and advertised <= set(listeners)


def test_kraft_quorum_voters_match_the_nodes(compose: dict[str, Any]) -> None:
    for n in NODES:
        env = env_of(compose, n)
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        controller_port = env["KAFKA_LISTENERS"].split("CONTROLLER://:")[1].split(",")[0]
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert voters == [f"{m}@kafka-internals-{m}:{controller_port}" for m in NODES]


def test_one_valid_cluster_id_for_all_nodes(compose: dict[str, Any]) -> None:
    ids = {env_of(compose, n)["CLUSTER_ID"] for n in NODES}
    assert len(ids) == 1
    (cid,) = ids
    assert len(base64.urlsafe_b64decode(cid + "==")) == 16, "KRaft cluster ids are 16 bytes, base64url"


def test_broker_settings_equal_the_local_backend(compose: dict[str, Any]) -> None:
    for n in NODES:
        env = env_of(compose, n)
        for key, value in LAB_BROKER_SETTINGS.items():
            var = "KAFKA_" + key.upper().replace(".", "_")
            assert env.get(var) == value, f"{var} should be {value} as in LAB_BROKER_SETTINGS"
        assert env["KAFKA_HEAP_OPTS"] == HEAP


def test_healthchecks_ask_the_broker_itself(compose: dict[str, Any]) -> None:
    for svc in compose["services"].values():
        hc = svc["healthcheck"]
        cmd = " ".join(hc["test"])
        assert "kafka-broker-api-versions.sh" in cmd and f"localhost:{INTERNAL_PORT}" in cmd
        assert {"interval", "timeout", "retries", "start_period"} <= set(hc)


def test_data_on_named_volumes(compose: dict[str, Any]) -> None:
    for n in NODES:
        svc = compose["services"][container_name(n)]
        volume, _, mount = svc["volumes"][0].partition(":")
        assert volume in compose["volumes"], "named volume, so `docker compose down -v` resets"
        assert mount == env_of(compose, n)["KAFKA_LOG_DIRS"]
    assert svc["restart"] == "no", "a stopped broker must stay stopped for the demos"


@pytest.mark.parametrize(
    ("docker_status", "expected"),
    [("running", BrokerState.RUNNING), ("paused", BrokerState.PAUSED), ("exited", BrokerState.STOPPED),
     ("created", BrokerState.STOPPED), ("restarting", BrokerState.STOPPED), (None, BrokerState.STOPPED),
     ("something-new", BrokerState.UNKNOWN)],
)
def test_container_state_mapping(docker_status: str | None, expected: BrokerState) -> None:
    assert broker_state(docker_status) is expected


@pytest.mark.parametrize(
    ("image", "version"),
    [("apache/kafka:3.9.2", "3.9.2"), ("localhost:5000/apache/kafka:4.1.1", "4.1.1"),
     ("apache/kafka", None), ("localhost:5000/kafka", None), ("apache/kafka:3.9.2@sha256:abc", "3.9.2")],
)
def test_image_version(image: str, version: str | None) -> None:
    assert image_version(image) == version


def test_every_docker_state_is_mapped() -> None:
    # the states Docker documents for State.Status
    documented = {"created", "running", "paused", "restarting", "removing", "exited", "dead"}
    assert set(CONTAINER_STATES) == documented


def test_no_docker_engine_gives_one_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A real SDK call against a socket where no engine listens (true on this machine anyway)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(ClusterError) as err:
        ComposeCluster()
    text = str(err.value)
    assert "Docker engine is not reachable" in text
    assert "unset KAFKA_LAB_BACKEND" in text and "local backend" in text
    assert "Traceback" not in text


def test_no_docker_engine_through_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("KAFKA_LAB_BACKEND", "compose")
    monkeypatch.delenv("KAFKA_LAB_BOOTSTRAP", raising=False)
    with pytest.raises(ClusterError, match="Docker engine is not reachable"):
        from_env()


def test_cli_with_compose_backend_and_no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from lab.cli import main

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("KAFKA_LAB_BOOTSTRAP", raising=False)
    for argv in (["cluster", "status", "--backend", "compose"],
                 ["broker", "stop", "2", "--backend", "compose"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: The Docker engine is not reachable") and "Traceback" not in err
