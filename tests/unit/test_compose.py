"""docker-compose.yml is checked by parsing it (no `docker compose` here), and the compose backend must
say clearly that it needs a Docker engine when none answers (a real Docker SDK call failing)."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from lab.cluster import DEFAULT_KAFKA_VERSION, LAB_BROKER_SETTINGS, BrokerState, from_env
from lab.cluster import compose as compose_backend
from lab.cluster.compose import (
    CLIENT_PORTS,
    CONTAINER_STATES,
    JMX_PORTS,
    JOLOKIA_JAR_ENV,
    JOLOKIA_JAR_IN_CONTAINER,
    NO_AGENT_FILE,
    ComposeCluster,
    agent_mounted,
    broker_state,
    compose_up_command,
    compose_up_env,
    container_name,
    image_version,
)
from lab.cluster.local_config import HEAP, PREFERRED_JMX_PORTS
from lab.cluster.provision import jolokia_agent_path
from lab.core.errors import ClusterError

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
NODES = (1, 2, 3)
INTERNAL_PORT = 29092
#: Where the Jolokia agent listens inside every container.
AGENT_PORT = 8778
#: The apache/kafka image's CMD (docker/jvm/Dockerfile in apache/kafka): the start the wrapper must keep.
IMAGE_START = "/etc/kafka/docker/run"


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


def test_official_apache_kafka_image_of_the_default_version(compose: dict[str, Any]) -> None:
    for svc in compose["services"].values():
        repo, _, tag = svc["image"].partition(":")
        assert repo == "apache/kafka"
        assert tag == DEFAULT_KAFKA_VERSION, "the compose cluster runs the local backend's default Kafka"


def test_ports_published_on_loopback_only_and_advertised_as_localhost(compose: dict[str, Any]) -> None:
    for n in NODES:
        svc = compose["services"][container_name(n)]
        assert svc["ports"] == [f"127.0.0.1:{CLIENT_PORTS[n]}:9092", f"127.0.0.1:{JMX_PORTS[n]}:{AGENT_PORT}"], (
            "one client port and one Jolokia port, loopback only")
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


# --- Jolokia agent (per-replica LEOs over JMX, as on the local backend) -----------------------------------

def start_script(compose: dict[str, Any], node: int) -> str:
    command = compose["services"][container_name(node)]["command"]
    assert command[:2] == ["bash", "-c"] and len(command) == 3
    return str(command[2])


def jolokia_mount(compose: dict[str, Any], node: int) -> dict[str, Any]:
    mounts = [v for v in compose["services"][container_name(node)]["volumes"]
              if isinstance(v, dict) and v.get("target") == JOLOKIA_JAR_IN_CONTAINER]
    assert len(mounts) == 1, "the agent jar is mounted once per node"
    return dict(mounts[0])


def test_each_node_starts_the_image_with_the_jolokia_agent(compose: dict[str, Any]) -> None:
    for n in NODES:
        script = start_script(compose, n)
        agent = f"-javaagent:{JOLOKIA_JAR_IN_CONTAINER}=host=0.0.0.0,port={AGENT_PORT},discoveryEnabled=false"
        assert f'export KAFKA_OPTS="{agent}"' in script
        assert script.rstrip().endswith(f"exec {IMAGE_START}"), "the image's own start, as its PID 1"
        # in the container's environment it would reach every `docker exec` tool and the health check too
        assert "KAFKA_OPTS" not in env_of(compose, n)
        assert "$" not in script, "nothing for compose to interpolate in the script"


def test_agent_jar_mounted_read_only_from_the_variable(compose: dict[str, Any]) -> None:
    for n in NODES:
        m = jolokia_mount(compose, n)
        assert m["type"] == "bind" and m["read_only"] is True
        assert m["source"] == f"${{{JOLOKIA_JAR_ENV}:-./compose/{NO_AGENT_FILE}}}"
        assert m["bind"] == {"create_host_path": False}, "a wrong path fails instead of mounting an empty folder"
    placeholder = COMPOSE_FILE.parent / "compose" / NO_AGENT_FILE
    assert placeholder.is_file() and placeholder.stat().st_size == 0, "the fallback is an empty file"
    # the data volume stays the first entry (test_data_on_named_volumes)
    assert all(isinstance(compose["services"][container_name(n)]["volumes"][0], str) for n in NODES)


def test_jolokia_ports_loopback_distinct_and_as_the_backend_says(compose: dict[str, Any]) -> None:
    published: dict[int, int] = {}
    for n in NODES:
        for spec in compose["services"][container_name(n)]["ports"]:
            ip, host, container = spec.split(":")
            assert ip == "127.0.0.1"
            if int(container) == AGENT_PORT:
                published[n] = int(host)
        assert f"port={AGENT_PORT}," in start_script(compose, n)
    assert published == JMX_PORTS
    assert len(set(published.values())) == len(NODES)
    assert tuple(JMX_PORTS[n] for n in NODES) == PREFERRED_JMX_PORTS, "the same ports as the local backend"


@pytest.mark.parametrize(("mounted", "agent"), [("jar", True), ("empty", False), ("folder", False)])
def test_start_script_adds_the_agent_only_for_a_real_jar(compose: dict[str, Any], tmp_path: Path,
                                                          mounted: str, agent: bool) -> None:
    """Run the node's real start script with bash, the mount point and the image's start swapped for temp files."""
    jar = tmp_path / "agent.jar"
    if mounted == "jar":
        jar.write_bytes(b"PK\x03\x04 a jar")
    elif mounted == "empty":
        jar.touch()
    else:
        jar.mkdir()  # what a missing host path would become without create_host_path: false
    script = start_script(compose, 1).replace(JOLOKIA_JAR_IN_CONTAINER, str(jar))
    script = script.replace(f"exec {IMAGE_START}", 'exec printf "%s" "${KAFKA_OPTS-<unset>}"')
    out = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                         timeout=10, check=True).stdout
    if agent:
        assert out == f"-javaagent:{jar}=host=0.0.0.0,port={AGENT_PORT},discoveryEnabled=false"
    else:
        assert out == "<unset>"


def inspect_attrs(source: str | None) -> dict[str, Any]:
    """The parts of `docker inspect` that say what is mounted where (as compose's long bind syntax makes them)."""
    if source is None:
        return {"Mounts": [{"Type": "volume", "Source": "/var/lib/docker/volumes/x/_data",
                            "Destination": "/var/lib/kafka/data"}], "HostConfig": {}}
    return {"Mounts": [{"Type": "bind", "Source": source, "Destination": JOLOKIA_JAR_IN_CONTAINER, "RW": False}],
            "HostConfig": {"Mounts": [{"Type": "bind", "Source": source, "Target": JOLOKIA_JAR_IN_CONTAINER,
                                       "ReadOnly": True}]}}


def test_agent_mounted_reads_the_containers_mounts() -> None:
    assert agent_mounted(inspect_attrs("/home/u/.cache/kafka-lab/jolokia-2.2.9/jolokia-agent-jvm-2.2.9-javaagent.jar"))
    assert not agent_mounted(inspect_attrs(f"/home/u/kafka-lab/compose/{NO_AGENT_FILE}"))
    assert not agent_mounted(inspect_attrs(None)), "a container made by an older docker-compose.yml"
    assert not agent_mounted({})


def test_jmx_url_points_at_the_published_port(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    jar = "/cache/jolokia-agent-jvm-2.2.9-javaagent.jar"
    backend = object.__new__(ComposeCluster)  # no engine here: the container lookup answers from inspect data
    sources: dict[int, str | None] = {1: jar, 2: jar, 3: f"/repo/compose/{NO_AGENT_FILE}"}
    monkeypatch.setattr(backend, "_find", lambda n: SimpleNamespace(attrs=inspect_attrs(sources[n])))
    for n in (1, 2):
        url = backend.jmx_url(n)
        assert url is not None
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/jolokia/", url)
        assert m and f"127.0.0.1:{m.group(1)}:{AGENT_PORT}" in compose["services"][container_name(n)]["ports"]
    assert backend.jmx_url(3) is None, "started without the agent"
    assert backend.jmx_url(4) is None
    monkeypatch.setattr(backend, "_find", lambda n: None)
    assert backend.jmx_url(1) is None, "no container"


def test_compose_up_command_and_env(tmp_path: Path) -> None:
    jar = tmp_path / "jolokia.jar"
    cmd = compose_up_command(COMPOSE_FILE, ["kafka-internals-3"])
    assert cmd == ["docker", "compose", "--file", str(COMPOSE_FILE), "up", "--detach", "--no-recreate",
                   "kafka-internals-3"]
    assert compose_backend.COMPOSE_FILE == COMPOSE_FILE
    env = compose_up_env(jar, {"PATH": "/usr/bin"})
    assert env == {"PATH": "/usr/bin", JOLOKIA_JAR_ENV: str(jar)}
    assert compose_up_env(jar, {JOLOKIA_JAR_ENV: "/mine.jar"})[JOLOKIA_JAR_ENV] == "/mine.jar", "the user's wins"
    assert JOLOKIA_JAR_ENV not in compose_up_env(None, {}), "no jar: the compose file's empty fallback"
    assert f"${{{JOLOKIA_JAR_ENV}:-" in COMPOSE_FILE.read_text(), "the variable the compose file reads"
    # the jar path its comments tell people to use by hand is the one the lab provisions
    cached = jolokia_agent_path(Path("~/.cache/kafka-lab"))
    assert f"{JOLOKIA_JAR_ENV}={cached} docker compose up -d" in COMPOSE_FILE.read_text()


def test_up_creates_missing_containers_with_the_jar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`_create` runs `docker compose up` for the missing nodes with the provisioned jar in its environment.

    The `docker` process is intercepted (no engine here, and on a machine with one this must not create
    containers); the jar provisioning is the real call's result stand-in, a file in tmp_path.
    """
    jar = tmp_path / "jolokia-agent-jvm-2.2.9-javaagent.jar"
    jar.write_bytes(b"PK")
    seen: dict[str, Any] = {}

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.update(cmd=cmd, **kwargs)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.delenv(JOLOKIA_JAR_ENV, raising=False)
    monkeypatch.setattr(compose_backend.shutil, "which", lambda name: "/usr/bin/docker")
    monkeypatch.setattr(compose_backend, "ensure_jolokia_agent", lambda: jar)
    monkeypatch.setattr(compose_backend.subprocess, "run", run)
    note = object.__new__(ComposeCluster)._create([2, 3])
    assert seen["cmd"] == ["/usr/bin/docker", *compose_up_command(COMPOSE_FILE, ["kafka-internals-2",
                                                                                  "kafka-internals-3"])[1:]]
    assert seen["env"][JOLOKIA_JAR_ENV] == str(jar)
    assert seen["timeout"] == compose_backend.COMPOSE_UP_TIMEOUT_S
    assert "kafka-internals-2, kafka-internals-3" in note and str(jar) in note

    monkeypatch.setattr(compose_backend, "ensure_jolokia_agent", lambda: None)  # no Maven, no cached jar
    note = object.__new__(ComposeCluster)._create([1])
    assert JOLOKIA_JAR_ENV not in seen["env"] and "without the Jolokia agent" in note

    monkeypatch.setattr(compose_backend.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 1, "", "docker: 'compose' is not a docker command."))
    with pytest.raises(ClusterError, match="could not create kafka-internals-1") as err:
        object.__new__(ComposeCluster)._create([1])
    assert "is not a docker command" in str(err.value) and "Compose v2" in str(err.value.hint)
