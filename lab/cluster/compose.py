"""The docker-compose cluster (``docker-compose.yml`` at the repo root), controlled through the Docker SDK.

``docker compose up -d`` creates the three containers ``kafka-internals-1..3``; this backend finds them by
name, reads their state (running / paused / exited) and stops, kills, pauses, unpauses and starts them.
It never deletes containers or volumes (that stays with ``docker compose``); ``up()`` creates the ones that
are missing by running ``docker compose up -d`` with ``KAFKA_LAB_JOLOKIA_JAR`` set to the Jolokia agent jar
(provisioned like the local backend's), so those brokers expose their JMX MBeans on 127.0.0.1 and
``jmx_url()`` answers for them, as on the local backend.

When no Docker engine answers, every call (the constructor included) raises one ``ClusterError`` that
says so and points at the default local backend, which needs no Docker.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
import traceback
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import docker.errors
import requests.exceptions

from lab.cluster.base import BrokerAction, BrokerInfo, BrokerState, Cluster, ClusterStatus, UpReport
from lab.cluster.health import await_brokers, round_trip
from lab.cluster.local_config import LAB_BROKER_SETTINGS, NODE_IDS
from lab.cluster.lock import ClusterLease
from lab.cluster.provision import ensure_jolokia_agent, jolokia_agent_path
from lab.core.errors import BrokerStartError, ClusterError, UnreachableError

if TYPE_CHECKING:
    from docker.models.containers import Container

#: Container names as in the seeds (`docker compose stop kafka-internals-2`); node N is container N.
CONTAINER_PREFIX = "kafka-internals-"
#: Host ports published by docker-compose.yml (127.0.0.1 only), advertised as localhost:<port>.
CLIENT_PORTS = {1: 9092, 2: 9093, 3: 9094}
HOST = "localhost"
#: Host ports of each broker's Jolokia agent, published on 127.0.0.1 only (8778 inside every container);
#: the same numbers as the local backend's, and a unit test keeps them equal to docker-compose.yml.
JMX_PORTS = {1: 8778, 2: 8779, 3: 8780}
JMX_HOST = "127.0.0.1"
#: The variable docker-compose.yml takes the host path of the Jolokia agent jar from.
JOLOKIA_JAR_ENV = "KAFKA_LAB_JOLOKIA_JAR"
#: Where docker-compose.yml mounts that jar in every container.
JOLOKIA_JAR_IN_CONTAINER = "/opt/kafka-lab/jolokia-agent.jar"
#: The empty file docker-compose.yml mounts there when the variable is unset: brokers start without agent.
NO_AGENT_FILE = "no-jolokia-agent"
#: docker-compose.yml of a source checkout (the repository root, two levels above this package).
COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
#: Bound on `docker compose up -d` creating containers: the first run pulls the ~400 MB image.
COMPOSE_UP_TIMEOUT_S = 600
#: Where the Docker SDK looks when DOCKER_HOST is not set.
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
#: Per-request bound on Docker API calls: a local engine answers in milliseconds; never hang on a dead one.
DOCKER_TIMEOUT_S = 15
#: `docker stop` grace period: the controlled shutdown moves leadership away first, then SIGKILL.
STOP_TIMEOUT_S = 30
#: What to tell someone whose Docker engine is missing.
NO_ENGINE_HINT = (
    "The compose backend needs a running Docker engine (and `docker compose up -d` run once). "
    "Without Docker, use the default local backend: unset KAFKA_LAB_BACKEND (or drop --backend compose) "
    "and run `kafka-lab cluster up`."
)
CREATE_HINT = (
    "Create them first with `kafka-lab cluster up --backend compose`, or `docker compose up -d` in the "
    "repository root (next to docker-compose.yml)."
)

#: Docker's container states (``State.Status``) -> what the lab shows. "restarting" means the broker keeps
#: crashing: it serves nothing, so it counts as stopped; "removing" is on its way out.
CONTAINER_STATES: dict[str, BrokerState] = {
    "running": BrokerState.RUNNING,
    "paused": BrokerState.PAUSED,
    "created": BrokerState.STOPPED,
    "exited": BrokerState.STOPPED,
    "dead": BrokerState.STOPPED,
    "restarting": BrokerState.STOPPED,
    "removing": BrokerState.STOPPED,
}


def container_name(node_id: int) -> str:
    return f"{CONTAINER_PREFIX}{node_id}"


def broker_state(container_status: str | None) -> BrokerState:
    """Map a container's ``State.Status`` (None: no such container) to the broker state the lab shows."""
    if container_status is None:
        return BrokerState.STOPPED
    return CONTAINER_STATES.get(container_status.lower(), BrokerState.UNKNOWN)


def image_version(image: str) -> str | None:
    """Kafka version from an image reference: 'apache/kafka:3.9.2' -> '3.9.2' (None without a tag)."""
    name = image.split("@", 1)[0]
    tag = name.rpartition(":")[2] if ":" in name.rpartition("/")[2] else ""
    return tag or None


def compose_up_command(compose_file: Path, services: list[str]) -> list[str]:
    """`docker compose up` that creates (and starts) ``services`` and leaves existing containers as they are."""
    return ["docker", "compose", "--file", str(compose_file), "up", "--detach", "--no-recreate", *services]


def compose_up_env(jolokia_jar: Path | None, base: Mapping[str, str]) -> dict[str, str]:
    """The environment for `docker compose up`: ``base`` plus the agent jar docker-compose.yml mounts.

    A ``KAFKA_LAB_JOLOKIA_JAR`` already in ``base`` (the user's own) wins over the provisioned jar.
    """
    env = dict(base)
    if jolokia_jar is not None and not env.get(JOLOKIA_JAR_ENV):
        env[JOLOKIA_JAR_ENV] = str(jolokia_jar)
    return env


def agent_mounted(attrs: Mapping[str, Any]) -> bool:
    """True when a container (its ``docker inspect`` attributes) was created with a real Jolokia jar mounted.

    docker-compose.yml always mounts something at ``JOLOKIA_JAR_IN_CONTAINER``: the agent jar, or the empty
    ``NO_AGENT_FILE`` when ``KAFKA_LAB_JOLOKIA_JAR`` was unset; containers made by an older file mount nothing.
    """
    host_config = attrs.get("HostConfig") or {}
    mounts = [(m.get("Source"), m.get("Destination")) for m in attrs.get("Mounts") or []]
    mounts += [(m.get("Source"), m.get("Target")) for m in host_config.get("Mounts") or []]
    return any(dst == JOLOKIA_JAR_IN_CONTAINER and src and Path(str(src)).name != NO_AGENT_FILE
               for src, dst in mounts)


def _drop_failed_socket(exc: BaseException) -> None:
    """Close the socket of a failed engine connection quietly.

    docker-py's ``UnixHTTPConnection.connect`` does not close its socket when ``connect()`` fails; only the
    traceback's frames still hold it, and its finaliser would warn (an error under ``-W error``) at some
    random later moment. Clearing those frames and collecting here ends it now, without the warning.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        while todo:
            e = todo.pop()
            if e is None or id(e) in seen:
                continue
            seen.add(id(e))
            if e.__traceback__ is not None:
                traceback.clear_frames(e.__traceback__)
            todo += [e.__cause__, e.__context__, *(a for a in e.args if isinstance(a, BaseException))]
        gc.collect()


def _root_reason(exc: BaseException) -> str:
    """The innermost OS-level reason ('No such file or directory', 'Connection refused'), else the text."""
    e: BaseException | None = exc
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.strerror:
            return e.strerror
        nested = [a for a in e.args if isinstance(a, BaseException)]
        e = e.__cause__ or (nested[0] if nested else None) or e.__context__
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _engine_error(exc: BaseException) -> ClusterError:
    where = os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    return ClusterError(f"The Docker engine is not reachable at {where} ({_root_reason(exc)}).",
                        hint=NO_ENGINE_HINT)


class ComposeCluster(Cluster):
    """The three ``kafka-internals-N`` containers of docker-compose.yml."""

    backend = "compose"

    def __init__(self, timeout_s: int = DOCKER_TIMEOUT_S) -> None:
        try:
            # from_env() asks the engine for its API version: this is where a missing engine shows
            self._docker = docker.from_env(timeout=timeout_s)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            _drop_failed_socket(exc)
            raise _engine_error(exc) from exc

    # --- connection -------------------------------------------------------------------------------
    def bootstrap_servers(self) -> str:
        return ",".join(f"{HOST}:{CLIENT_PORTS[n]}" for n in NODE_IDS)

    def start_hint(self) -> str:
        return ("Start the containers with `kafka-lab cluster up --backend compose` "
                "(or `docker compose up -d` in the repository root).")

    def jmx_url(self, node_id: int) -> str | None:
        """The broker's Jolokia URL when its container was created with the agent jar mounted.

        Like the local backend, this says where the agent is configured; it does not ask the agent itself.
        """
        if node_id not in JMX_PORTS:
            return None
        try:
            c = self._find(node_id)
        except ClusterError:
            return None  # no engine: status() and the controls say so
        if c is None or not agent_mounted(c.attrs):
            return None
        return f"http://{JMX_HOST}:{JMX_PORTS[node_id]}/jolokia/"

    # --- containers -------------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one Docker SDK call, translating its failures into ``ClusterError``s with a fix."""
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound as exc:
            raise ClusterError(f"{what}: the container does not exist.", hint=CREATE_HINT) from exc
        except docker.errors.APIError as exc:
            raise ClusterError(f"{what} failed: {exc.explanation or exc}",
                               hint="See `docker ps -a` and `docker logs <container>`.") from exc
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            _drop_failed_socket(exc)
            raise _engine_error(exc) from exc

    def _container(self, node_id: int) -> Container:
        if node_id not in CLIENT_PORTS:
            raise ClusterError(f"There is no broker {node_id}.",
                               hint=f"Brokers are numbered {', '.join(map(str, NODE_IDS))}.")
        name = container_name(node_id)
        container: Container = self._call(f"Looking up container {name}", self._docker.containers.get, name)
        return container

    def _find(self, node_id: int) -> Container | None:
        """The container of ``node_id``, or None when it does not exist."""
        try:
            return self._container(node_id)
        except ClusterError as exc:
            if isinstance(exc.__cause__, docker.errors.NotFound):
                return None
            raise

    def _container_status(self, node_id: int) -> str | None:
        """The container's ``State.Status``, or None when it does not exist."""
        c = self._find(node_id)
        return None if c is None else str(c.status)

    def _all_containers(self) -> dict[int, Container]:
        """All three containers, or one ``ClusterError`` naming the missing ones."""
        found: dict[int, Container] = {}
        missing: list[str] = []
        for n in NODE_IDS:
            try:
                found[n] = self._container(n)
            except ClusterError as exc:
                if not isinstance(exc.__cause__, docker.errors.NotFound):
                    raise
                missing.append(container_name(n))
        if missing:
            raise ClusterError(f"Container(s) {', '.join(missing)} do not exist.", hint=CREATE_HINT)
        return found

    # --- lifecycle --------------------------------------------------------------------------------
    def up(self, timeout_s: float = 120.0, *, lease: ClusterLease | None = None, face: str = "cli") -> UpReport:
        """Start stopped containers, unpause paused ones and create missing ones (``docker compose up``);
        wait for 3 registered brokers + a round trip.

        When all three run already this only checks readiness, without the cluster lock; otherwise it
        starts them under the lock (``lease``, or taken here). ``timeout_s`` bounds the wait for the
        brokers; creating containers has its own bound (``COMPOSE_UP_TIMEOUT_S``: the first run pulls the image).
        """
        t0 = time.monotonic()
        containers = {n: self._find(n) for n in NODE_IDS}
        if all(c is not None and broker_state(c.status) is BrokerState.RUNNING for c in containers.values()):
            self._wait_ready(timeout_s)
            return UpReport(True, time.monotonic() - t0, self.status(), (), tuple(self._agent_notes(containers)))
        with self.owning("`cluster up`", lease=lease, face=face):
            containers = {n: self._find(n) for n in NODE_IDS}  # afresh: another owner may have just started them
            started, notes = self._start(containers)
            self._wait_ready(timeout_s)
            return UpReport(not started, time.monotonic() - t0, self.status(), tuple(sorted(started)),
                            tuple(notes + self._agent_notes(containers)))

    def _start(self, containers: dict[int, Container | None]) -> tuple[list[int], list[str]]:
        """Start, unpause or create each container that does not run; returns those nodes and notes."""
        started: list[int] = []
        notes: list[str] = []
        for n, c in containers.items():
            if c is None:
                continue
            state = broker_state(c.status)
            if state is BrokerState.PAUSED:
                self._call(f"Unpausing {c.name}", c.unpause)
                started.append(n)
            elif state is not BrokerState.RUNNING:
                self._call(f"Starting {c.name}", c.start)
                started.append(n)
        missing = [n for n, c in containers.items() if c is None]
        if missing:
            notes.append(self._create(missing))
            started += missing
        return started, notes

    def _agent_notes(self, containers: dict[int, Container | None]) -> list[str]:
        without_agent = [container_name(n) for n, c in containers.items() if c is not None
                         and not agent_mounted(c.attrs)]
        if not without_agent:
            return []
        cached = jolokia_agent_path()
        jar = str(cached) if cached.is_file() else "<the Jolokia agent jar>"
        return [f"{', '.join(without_agent)} run without the Jolokia agent, so their per-replica log "
                f"end offsets are not available. `{JOLOKIA_JAR_ENV}={jar} docker compose up -d` "
                "recreates them with it (the data stays in the volumes)."]

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        self._wait_registered(set(NODE_IDS), deadline)
        round_trip(self, timeout_s=max(1.0, deadline - time.monotonic()))

    def _create(self, nodes: list[int]) -> str:
        """Create and start the containers of ``nodes`` with `docker compose up`; return a note saying so."""
        names = [container_name(n) for n in nodes]
        docker_cli = shutil.which("docker")
        if docker_cli is None or not COMPOSE_FILE.is_file():
            raise ClusterError(f"Container(s) {', '.join(names)} do not exist, and the lab cannot create them "
                               f"({'no `docker` command on PATH' if docker_cli is None else f'no {COMPOSE_FILE}'}).",
                               hint=CREATE_HINT)
        jar = None if os.environ.get(JOLOKIA_JAR_ENV) else ensure_jolokia_agent()
        env = compose_up_env(jar, os.environ)
        cmd = compose_up_command(COMPOSE_FILE, names)
        cmd[0] = docker_cli
        try:
            proc = subprocess.run(cmd, env=env, cwd=COMPOSE_FILE.parent, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=COMPOSE_UP_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"`docker compose up` did not create {', '.join(names)} within "
                               f"{COMPOSE_UP_TIMEOUT_S} s.", hint="See `docker compose ps` and `docker compose logs`."
                               ) from exc
        if proc.returncode != 0:
            detail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
            raise ClusterError(f"`docker compose up` could not create {', '.join(names)}:\n{detail}",
                               hint="`docker compose version` must work (Compose v2); see `docker compose ps`.")
        agent = env.get(JOLOKIA_JAR_ENV)
        how = (f"with the Jolokia agent {agent}" if agent else
               "without the Jolokia agent (its jar could not be provisioned), so per-replica log end offsets "
               "are not available")
        return f"Created {', '.join(names)} with `docker compose up -d`, {how}."

    def down(self, purge: bool = False, *, lease: ClusterLease | None = None, face: str = "cli") -> None:
        """Stop the containers (controlled shutdown) under the cluster lock; data stays in Docker volumes."""
        with self.owning("`cluster down`", lease=lease, face=face):
            for n, c in self._all_containers().items():
                if broker_state(c.status) is BrokerState.PAUSED:
                    self._call(f"Unpausing {c.name}", c.unpause)  # a frozen JVM cannot run its shutdown hook
                if broker_state(self._container_status(n)) is not BrokerState.STOPPED:
                    self._call(f"Stopping {c.name}", c.stop, timeout=STOP_TIMEOUT_S)
        if purge:
            raise ClusterError(
                "The brokers are stopped, but the compose backend does not delete Docker volumes itself.",
                hint="Run `docker compose down -v` in the repository root to remove the containers and data.",
            )

    def status(self) -> ClusterStatus:
        containers = {n: self._find(n) for n in NODE_IDS}
        states = {n: broker_state(None if c is None else str(c.status)) for n, c in containers.items()}
        images = [str(c.attrs.get("Config", {}).get("Image", "")) for c in containers.values() if c]
        reachable, cid = False, None
        registered: dict[int, str] = {}
        if any(s is BrokerState.RUNNING for s in states.values()):
            try:
                cid, _, registered = self.probe(timeout_s=2.0)
                reachable = True
            except UnreachableError:
                pass
        brokers = tuple(
            BrokerInfo(n, HOST, CLIENT_PORTS[n], states[n], None, n in registered) for n in NODE_IDS
        )
        return ClusterStatus(
            backend=self.backend,
            bootstrap_servers=self.bootstrap_servers(),
            reachable=reachable,
            cluster_id=cid,
            controller_id=self.active_controller(tuple(NODE_IDS)) if reachable else None,
            brokers=brokers,
            controls_enabled=True,
            kafka_version=image_version(images[0]) if images else None,
            broker_settings=dict(LAB_BROKER_SETTINGS),
        )

    # --- broker controls --------------------------------------------------------------------------
    def _broker_action(self, action: BrokerAction, node_id: int, timeout_s: float) -> BrokerInfo:
        c = self._container(node_id)
        state = broker_state(c.status)
        what = f"{action.value.capitalize()} {c.name}"
        if action is BrokerAction.START:
            if state is BrokerState.PAUSED:
                self._call(what, c.unpause)
            elif state is not BrokerState.RUNNING:
                self._call(what, c.start)
                self._wait_registered({node_id}, time.monotonic() + timeout_s)
        elif state is BrokerState.STOPPED:
            if action is BrokerAction.PAUSE:
                raise ClusterError(f"Broker {node_id} is stopped; it cannot be paused.",
                                   hint=f"Start it first: `kafka-lab broker start {node_id}`.")
        elif action is BrokerAction.PAUSE and state is BrokerState.RUNNING:
            self._call(what, c.pause)
        elif action is BrokerAction.RESUME and state is BrokerState.PAUSED:
            self._call(what, c.unpause)
        elif action is BrokerAction.KILL:
            self._call(what, c.kill)  # SIGKILL, like the local backend
        elif action is BrokerAction.STOP:
            if state is BrokerState.PAUSED:
                self._call(f"Unpausing {c.name}", c.unpause)
            self._call(what, c.stop, timeout=int(min(timeout_s, STOP_TIMEOUT_S)))
        return BrokerInfo(node_id, HOST, CLIENT_PORTS[node_id], broker_state(self._container_status(node_id)))

    def _wait_registered(self, nodes: set[int], deadline: float) -> None:
        """Poll metadata until ``nodes`` are registered; a container that exits meanwhile fails fast."""

        def none_exited() -> None:
            for n in nodes:
                if broker_state(self._container_status(n)) is BrokerState.STOPPED:
                    raise BrokerStartError(f"Broker {n} ({container_name(n)}) exited while starting.",
                                           hint=f"See `docker logs {container_name(n)}`.",
                                           log_tail=self._log_tail(n))

        missing = await_brokers(self, nodes, max(0.0, deadline - time.monotonic()), check=none_exited)
        if missing:
            raise BrokerStartError(
                f"Broker(s) {sorted(missing)} did not register in time.",
                hint="See `docker compose ps` and `docker logs kafka-internals-N`.",
                log_tail="\n".join(f"[{container_name(m)}]\n{self._log_tail(m)}" for m in sorted(missing)),
            )

    def _log_tail(self, node_id: int, lines: int = 20) -> str:
        try:
            raw = self._container(node_id).logs(tail=lines)
        except (ClusterError, docker.errors.DockerException):
            return "(container logs unavailable)"
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
