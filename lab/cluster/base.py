"""The one ``Cluster`` interface that every backend (local, compose, external) implements.

The app and the CLI hold a ``Cluster`` and never ask which backend it is, except to show its name.
Backends that cannot control brokers (an external cluster) raise ``ControlsDisabled`` with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from lab.cluster import clients, jmx
from lab.cluster.lock import ClusterLease, LockHolder, acquire, current_holder
from lab.core.context import poll_until
from lab.core.errors import ControlsDisabled, UnreachableError
from lab.core.results import ClusterFacts

#: How long a reachability probe waits for cluster metadata; short so a dead cluster is reported fast.
PROBE_TIMEOUT_S = 3.0
#: Pause between reachability probes while waiting for a cluster to answer.
REACHABLE_POLL_S = 0.3


class BrokerState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # process frozen with SIGSTOP (or `docker pause`): alive but silent
    STOPPED = "stopped"
    UNKNOWN = "unknown"  # external clusters: we only know what metadata says


class BrokerAction(StrEnum):
    """What a person can do to one broker; the names are the CLI's verbs."""

    STOP = "stop"  # controlled shutdown (SIGTERM): leadership moves away first
    KILL = "kill"  # SIGKILL: a crash, no goodbye
    PAUSE = "pause"  # SIGSTOP: the process hangs, sessions time out
    RESUME = "resume"  # SIGCONT
    START = "start"  # start again with the same data


@dataclass(frozen=True)
class BrokerInfo:
    node_id: int
    host: str
    port: int
    state: BrokerState
    pid: int | None = None
    #: True when the broker is listed in the cluster's live metadata (registered with the controller).
    registered: bool = False


@dataclass(frozen=True)
class ClusterStatus:
    backend: str
    bootstrap_servers: str
    reachable: bool
    cluster_id: str | None
    #: The KRaft quorum's active controller (from JMX); None where it cannot be known (no JMX) or no quorum.
    controller_id: int | None
    brokers: tuple[BrokerInfo, ...]
    controls_enabled: bool
    controls_disabled_reason: str | None = None
    kafka_version: str | None = None
    state_dir: str | None = None
    #: Broker settings chosen for the lab, shown to the user (key -> value).
    broker_settings: dict[str, str] = field(default_factory=dict)
    #: How clients connect, e.g. "PLAINTEXT" or "SASL_SSL (SCRAM-SHA-512)"; never a secret.
    security: str = "PLAINTEXT"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UpReport:
    """What ``cluster up`` did: started something, or found it already running."""

    already_running: bool
    seconds: float
    status: ClusterStatus
    started_nodes: tuple[int, ...] = ()
    #: Things the user should know, e.g. that the usual ports were taken.
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Cluster(ABC):
    """A Kafka cluster the lab can talk to, and (for some backends) control."""

    #: Short backend name shown to the user: "local", "compose" or "external".
    backend: str = "?"
    #: Why broker controls are off, or None when they work.
    controls_disabled_reason: str | None = None

    @property
    def controls_enabled(self) -> bool:
        return self.controls_disabled_reason is None

    # --- connection -------------------------------------------------------------------------------
    @abstractmethod
    def bootstrap_servers(self) -> str:
        """Comma-separated host:port list clients connect to."""

    def security_settings(self) -> dict[str, str]:
        """librdkafka security settings (security.protocol, sasl.*, ssl.*) of this cluster's clients; may hold
        secrets, so they go only into clients and private files, never into results, logs or command lines."""
        return {}

    def security_label(self) -> str:
        """How clients connect, without secrets: "PLAINTEXT", "SASL_SSL (SCRAM-SHA-512)", ..."""
        cfg = self.security_settings()
        proto = cfg.get("security.protocol", "PLAINTEXT").upper()
        mech = cfg.get("sasl.mechanism")
        return proto + (f" ({mech.upper()})" if mech and proto.startswith("SASL") else "")

    def client_config(self) -> dict[str, str]:
        """librdkafka settings every client of this cluster needs (bootstrap + security)."""
        return {"bootstrap.servers": self.bootstrap_servers(), **self.security_settings()}

    def admin(self) -> AdminClient:
        return clients.admin(self)

    def probe(self, timeout_s: float = PROBE_TIMEOUT_S) -> tuple[str | None, int | None, dict[int, str]]:
        """Ask the cluster for metadata: (cluster_id, controller_id, {node_id: host:port}).

        Raises ``UnreachableError`` with a hint when nothing answers within ``timeout_s`` seconds.
        """
        from confluent_kafka import KafkaException

        cfg: dict[str, object] = {"socket.connection.setup.timeout.ms": str(max(1000, int(timeout_s * 1000)))}
        try:
            md = clients.admin(self, cfg).list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise UnreachableError(
                f"No Kafka broker answered at {self.bootstrap_servers()} within {timeout_s:.0f} s.",
                hint=self.start_hint(),
            ) from exc
        brokers = {b.id: f"{b.host}:{b.port}" for b in md.brokers.values()}
        return md.cluster_id, md.controller_id, brokers

    def facts(self) -> ClusterFacts:
        """Which cluster this is, for a run's record (never raises: a dead cluster gives what is known)."""
        try:
            st = self.status()
        except Exception:  # noqa: BLE001 - facts are a label; a failing status must not lose a result
            return ClusterFacts(self.backend, self.bootstrap_servers())
        return ClusterFacts(st.backend, st.bootstrap_servers, st.cluster_id, st.kafka_version, len(st.brokers))

    def start_hint(self) -> str:
        return "Start it with `kafka-lab cluster up` (or ./lab start)."

    # --- lifecycle --------------------------------------------------------------------------------
    @abstractmethod
    def up(self, timeout_s: float = 120.0, *, lease: ClusterLease | None = None, face: str = "cli") -> UpReport:
        """Make the cluster run; a no-op that says so when it already runs.

        Starting anything takes the cluster lock (``ClusterBusy`` names its holder) unless ``lease`` is
        held; a no-op ``up`` needs no lock, so it works while a scenario holds it.
        """

    @abstractmethod
    def down(self, purge: bool = False, *, lease: ClusterLease | None = None, face: str = "cli") -> None:
        """Stop every broker; with ``purge`` also delete the data. Takes the cluster lock unless ``lease`` is held."""

    @abstractmethod
    def status(self) -> ClusterStatus:
        """Backend, reachability, ids and each broker's state; never raises for a dead cluster."""

    # --- the cluster lock ---------------------------------------------------------------------------
    def lock_path(self) -> Path:
        """The file whose ``flock`` is the cluster lock; one per cluster on this machine."""
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "kafka-lab" / "locks"
        key = hashlib.sha1(f"{self.backend}:{self.bootstrap_servers()}".encode()).hexdigest()[:12]
        return base / f"{self.backend}-{key}.lock"

    def exclusive(self, what: str, *, face: str = "cli", run_id: str | None = None) -> ClusterLease:
        """Take the cluster lock for work that changes brokers; ``ClusterBusy`` names the holder if taken."""
        return acquire(self.lock_path(), what, face=face, run_id=run_id)

    def lock_holder(self) -> LockHolder | None:
        """Who changes brokers right now (any process on this machine), or None."""
        return current_holder(self.lock_path())

    @contextlib.contextmanager
    def owning(self, what: str, *, lease: ClusterLease | None = None, face: str = "cli") -> Iterator[ClusterLease]:
        """The caller's held ``lease`` as it is, else the cluster lock taken for the block.

        ``ClusterBusy`` (naming the holder) when another owner has the lock.
        """
        if lease is not None and lease.held:
            yield lease
            return
        with self.exclusive(what, face=face) as own:
            yield own

    # --- broker controls --------------------------------------------------------------------------
    def broker(self, action: BrokerAction | str, node_id: int, timeout_s: float = 60.0, *,
               lease: ClusterLease | None = None, face: str = "cli") -> BrokerInfo:
        """Apply one action to one broker and return its new state.

        Under ``lease`` (the caller holds the cluster lock, e.g. a scenario) the action runs at once;
        without one, the action takes the lock for its own duration, so a button or a CLI command cannot
        break a broker while a scenario is running (``ClusterBusy`` names that scenario).
        """
        if not self.controls_enabled:
            raise ControlsDisabled(
                f"Broker controls are off for the {self.backend} backend.", hint=self.controls_disabled_reason
            )
        act = BrokerAction(action)
        with self.owning(f"`broker {act.value} {node_id}`", lease=lease, face=face):
            return self._broker_action(act, node_id, timeout_s)

    def _broker_action(self, action: BrokerAction, node_id: int, timeout_s: float) -> BrokerInfo:
        raise ControlsDisabled(f"Broker controls are off for the {self.backend} backend.")

    def node_ids(self) -> tuple[int, ...]:
        return tuple(b.node_id for b in self.status().brokers)

    def log_dir(self, node_id: int) -> Path | None:
        """Where a broker keeps its partition directories, when the lab can read them (local only)."""
        return None

    def jmx_url(self, node_id: int) -> str | None:
        """Jolokia HTTP endpoint of a broker's JMX MBeans, when the backend exposes one."""
        return None

    def active_controller(self, node_ids: tuple[int, ...]) -> int | None:
        """The KRaft quorum's active controller among ``node_ids``, as its JMX says; None when no node's JMX
        can be read (an external cluster) or none is active (no quorum)."""
        return jmx.active_controller({n: u for n in node_ids if (u := self.jmx_url(n)) is not None})

    def wait_until_reachable(self, timeout_s: float) -> None:
        """Poll metadata until it answers, or raise ``UnreachableError`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        last: list[UnreachableError] = []

        def answers() -> bool:
            try:
                self.probe(timeout_s=min(PROBE_TIMEOUT_S, max(0.5, deadline - time.monotonic())))
            except UnreachableError as exc:
                last[:] = [exc]
                return False
            return True

        if not poll_until(answers, timeout_s, every_s=REACHABLE_POLL_S):
            raise last[-1]
