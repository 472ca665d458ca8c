"""The local backend's state on disk: where a cluster lives and what ``cluster.json`` records.

    <state_dir>/cluster.json          version, cluster id, ports, pids (so any process can attach)
    <state_dir>/cluster.lock          the cluster lock (see lab/cluster/lock.py)
    <state_dir>/node-<N>/server.properties, log4j config
    <state_dir>/node-<N>/data/        the node's log.dirs (partition folders, metadata log)
    <state_dir>/node-<N>/logs/        server.log and the JVM's stdout

``cluster.json`` is written only by the owner of the cluster lock (whoever starts or stops brokers), and
always by an atomic rename, so any other process may read it at any time.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lab.core.errors import ClusterError


@dataclass
class NodeState:
    node_id: int
    client_port: int
    controller_port: int
    jmx_port: int
    #: the broker JVM's pid while the lab believes it runs (checked against its command line on use)
    pid: int | None = None


@dataclass
class LocalState:
    version: str
    cluster_id: str
    nodes: dict[int, NodeState] = field(default_factory=dict)
    #: Broker settings this cluster was made with on top of LAB_BROKER_SETTINGS. Kept here so any process
    #: that attaches (the app, the CLI, a test) restarts a broker with the same settings it had.
    broker_overrides: dict[str, str] = field(default_factory=dict)
    #: "plaintext" or "sasl_ssl" (lab/cluster/secure.py), fixed when the cluster is made; never a secret.
    security: str = "plaintext"

    @classmethod
    def load(cls, path: Path) -> LocalState | None:
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        nodes = {int(k): NodeState(**v) for k, v in raw["nodes"].items()}
        return cls(raw["version"], raw["cluster_id"], nodes, dict(raw.get("broker_overrides", {})),
                   str(raw.get("security", "plaintext")))

    def check_version(self, wanted: str, default: str, state_dir: Path) -> None:
        """Refuse a version other than the cluster's own (``default``: none asked for, the cluster's is used)."""
        if self.version != wanted and wanted != default:
            raise ClusterError(
                f"The cluster in {state_dir} was made with Kafka {self.version}, not {wanted}.",
                hint="Run `kafka-lab cluster down --purge` first, or use another --state-dir.",
            )

    def save(self, path: Path) -> None:
        """Write atomically; the temporary name is unique per process and thread, so writers never mix."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


#: The state file's name in the state directory.
STATE_FILE = "cluster.json"


def default_state_dir() -> Path:
    """``$KAFKA_LAB_STATE_DIR`` or ``$XDG_STATE_HOME/kafka-lab/cluster``."""
    env = os.environ.get("KAFKA_LAB_STATE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kafka-lab" / "cluster"


@dataclass(frozen=True)
class NodeFiles:
    """Where one node keeps its files under the state directory."""

    dir: Path

    @property
    def props(self) -> Path:
        """Its ``server.properties``: the JVM's last argument, so it also identifies the broker's process."""
        return self.dir / "server.properties"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.logs / "stdout.log"

    @property
    def jolokia_marker(self) -> Path:
        """Present while the broker was started with the Jolokia agent (then ``jmx_url`` answers)."""
        return self.dir / "jolokia"

    @property
    def formatted(self) -> bool:
        return (self.data / "meta.properties").exists()
