"""The default backend: three Apache Kafka KRaft nodes (broker + controller each) as local JVMs.

Everything lives under one state directory::

    <state_dir>/cluster.json          version, cluster id, ports, pids (so any process can attach)
    <state_dir>/node-<N>/server.properties, log4j config
    <state_dir>/node-<N>/data/         the node's log.dirs (partition folders, metadata log)
    <state_dir>/node-<N>/logs/         server.log and the JVM's stdout

Brokers run in their own session (they outlive ``kafka-lab cluster up``) and bind to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from lab.cluster.base import (
    BrokerAction,
    BrokerInfo,
    BrokerState,
    Cluster,
    ClusterStatus,
    UpReport,
)
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, KafkaRuntime, check_version, ensure_runtime
from lab.errors import BrokerStartError, ClusterError, UnreachableError

#: The only address the local backend ever binds.
HOST = "127.0.0.1"
NODE_IDS = (1, 2, 3)
#: Client ports as in the seeds (localhost:9092 works), used when free.
PREFERRED_CLIENT_PORTS = (9092, 9093, 9094)
PREFERRED_CONTROLLER_PORTS = (19092, 19093, 19094)
PREFERRED_JMX_PORTS = (8778, 8779, 8780)
#: Heap per broker: three JVMs must sit comfortably on a 2-core laptop (~300 MB resident each).
HEAP = "-Xms256m -Xmx256m"
JVM_OPTS = (
    "-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
    "-XX:+ExitOnOutOfMemoryError -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m "
    "-Djava.awt.headless=true -Djava.net.preferIPv4Stack=true"
)
#: Broker settings suited to a lab; shown to the user by `cluster status` and the Cluster page.
LAB_BROKER_SETTINGS: dict[str, str] = {
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "num.partitions": "3",
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    # a follower that stops fetching leaves the ISR after 5 s instead of 30 s: visible in a demo
    "replica.lag.time.max.ms": "5000",
    # a dead broker is fenced after 6 s instead of 9 s
    "broker.session.timeout.ms": "6000",
    "broker.heartbeat.interval.ms": "1000",
    # consumer groups form at once; the 3 s default delay only slows experiments
    "group.initial.rebalance.delay.ms": "0",
    "auto.create.topics.enable": "false",
    "unclean.leader.election.enable": "false",
    # the log cleaner checks often so compaction is visible within seconds
    "log.cleaner.backoff.ms": "2000",
    "log.segment.delete.delay.ms": "1000",
    "log.retention.check.interval.ms": "10000",
    "num.network.threads": "2",
    "num.io.threads": "4",
    "num.replica.fetchers": "1",
}
#: How long a controlled shutdown (SIGTERM) may take before the broker is killed.
STOP_TIMEOUT_S = 30.0
#: Java frames kept per stack trace in a log tail: enough to see where, short enough to see the error.
STACK_FRAMES_SHOWN = 3
#: Topic used to prove a produce/consume round trip works after start.
HEALTH_TOPIC = "__kafka_lab_health"


@dataclass
class NodeState:
    node_id: int
    client_port: int
    controller_port: int
    jmx_port: int
    pid: int | None = None


@dataclass
class LocalState:
    version: str
    cluster_id: str
    nodes: dict[int, NodeState] = field(default_factory=dict)
    #: Broker settings this cluster was made with on top of LAB_BROKER_SETTINGS. Kept here so any process
    #: that attaches (the app, the CLI, a test) restarts a broker with the same settings it had.
    broker_overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> LocalState | None:
        if not path.exists():
            return None
        raw = json.loads(path.read_text())
        nodes = {int(k): NodeState(**v) for k, v in raw["nodes"].items()}
        return cls(raw["version"], raw["cluster_id"], nodes, dict(raw.get("broker_overrides", {})))

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


def default_state_dir() -> Path:
    """``$KAFKA_LAB_STATE_DIR`` or ``$XDG_STATE_HOME/kafka-lab/cluster``."""
    env = os.environ.get("KAFKA_LAB_STATE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kafka-lab" / "cluster"


def port_is_free(port: int) -> bool:
    """True when nothing listens on ``port``; TIME_WAIT leftovers do not count (Kafka sets SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pick_ports(preferred: tuple[int, ...] | None, taken: set[int]) -> list[int]:
    """Preferred ports where free, else ephemeral ones; never two the same."""
    out: list[int] = []
    for i in range(len(NODE_IDS)):
        p = preferred[i] if preferred else 0
        if not p or p in taken or not port_is_free(p):
            p = free_port()
            while p in taken:
                p = free_port()
        taken.add(p)
        out.append(p)
    return out


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    Never starting with "-" (as Kafka's own ``Uuid.randomUuid()``): `kafka-storage format -t -abc…`
    would read the id as an option and refuse to format (1 cluster in 64 otherwise).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def server_properties(
    node: NodeState, nodes: dict[int, NodeState], data_dir: Path, overrides: dict[str, str]
) -> str:
    """The ``server.properties`` of one combined broker+controller node."""
    voters = ",".join(f"{n}@{HOST}:{nodes[n].controller_port}" for n in sorted(nodes))
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{HOST}:{node.client_port},CONTROLLER://{HOST}:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{node.client_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        **LAB_BROKER_SETTINGS,
        **overrides,
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def log4j_config(log_dir: Path, log4j2: bool) -> str:
    """Broker logging to ``<log_dir>/server.log`` (rolling, small), warnings also to stdout."""
    if log4j2:
        return f"""status = error
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_dir}/server.log
appender.file.filePattern = {log_dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
"""
    return f"""log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={log_dir}/server.log
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""


def collapse_stack_frames(lines: list[str], keep: int = STACK_FRAMES_SHOWN) -> list[str]:
    """Shorten each Java stack trace to its first ``keep`` frames, so the error line stays in view."""
    out: list[str] = []
    run = 0
    for line in lines:
        if line.startswith("\tat "):
            run += 1
            if run <= keep:
                out.append(line)
            continue
        if run > keep:
            out.append(f"\t... {run - keep} more frames")
        run = 0
        out.append(line)
    if run > keep:
        out.append(f"\t... {run - keep} more frames")
    return out


def tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log (stack traces shortened), or a note that there is no log."""
    if not path.exists():
        return f"(no log at {path})"
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 64_000))
        text = f.read().decode("utf-8", "replace")
    return "\n".join(collapse_stack_frames(text.splitlines())[-lines:])


def _exited(proc: psutil.Process, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``proc`` to exit (or become a zombie); True when it did."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            proc.wait(timeout=min(0.2, max(0.0, deadline - time.monotonic())))
            return True
        except psutil.NoSuchProcess:
            return True
        except psutil.TimeoutExpired:
            pass
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False


#: The broker JVMs this Python process launched, per state directory (then node id): see ``LocalCluster``.
_CHILDREN: dict[str, dict[int, subprocess.Popen[bytes]]] = {}


class LocalCluster(Cluster):
    """Three KRaft nodes on 127.0.0.1, provisioned and controlled by the lab itself."""

    backend = "local"

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        version: str = DEFAULT_KAFKA_VERSION,
        preferred_ports: tuple[int, ...] | None = PREFERRED_CLIENT_PORTS,
        broker_overrides: dict[str, str] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).expanduser() if state_dir else default_state_dir()
        if not os.environ.get("KAFKA_HOME"):  # a distribution brings its own version
            check_version(version)
        self.version = version
        self.preferred_ports = preferred_ports
        self.broker_overrides = dict(broker_overrides or {})
        # shared by every LocalCluster of this state dir in this process: a broker launched through one
        # instance outlives it, and its Popen must not be collected with it (Python warns about, and
        # cannot later reap, a child whose Popen was dropped while it ran)
        self._children = _CHILDREN.setdefault(str(self.state_dir.resolve()), {})
        self._runtime: KafkaRuntime | None = None

    # --- files -----------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / "cluster.json"

    def node_dir(self, node_id: int) -> Path:
        return self.state_dir / f"node-{node_id}"

    def log_dir(self, node_id: int) -> Path | None:
        return self.node_dir(node_id) / "data"

    def server_log(self, node_id: int) -> Path:
        return self.node_dir(node_id) / "logs" / "server.log"

    def _state(self) -> LocalState | None:
        return LocalState.load(self.state_file)

    # --- connection ------------------------------------------------------------------------------
    def bootstrap_servers(self) -> str:
        st = self._state()
        if st is None:
            ports = self.preferred_ports or PREFERRED_CLIENT_PORTS
            return ",".join(f"{HOST}:{p}" for p in ports)
        return ",".join(f"{HOST}:{n.client_port}" for n in sorted(st.nodes.values(), key=lambda n: n.node_id))

    def jmx_url(self, node_id: int) -> str | None:
        st = self._state()
        if st is None or node_id not in st.nodes or not (self.node_dir(node_id) / "jolokia").exists():
            return None
        return f"http://{HOST}:{st.nodes[node_id].jmx_port}/jolokia/"

    # --- processes -------------------------------------------------------------------------------
    def _process(self, node: NodeState) -> psutil.Process | None:
        """The live JVM of ``node``, verified by its command line (pids get reused)."""
        if node.pid is None:
            return None
        child = self._children.get(node.node_id)
        if child is not None and child.pid != node.pid:
            # another process restarted this broker since we launched it: our old child is not it
            child.poll()  # reap it if it has exited
            self._children.pop(node.node_id, None)
        elif child is not None and child.poll() is not None:
            self._children.pop(node.node_id, None)  # reaped: it exited
            return None
        try:
            proc = psutil.Process(node.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(node.pid, os.WNOHANG)
                return None
            if child is not None and child.pid == node.pid:
                # our own unreaped child: its pid cannot have been reused, and between fork and exec its
                # command line is still ours (a check of it right after launch saw "exited" under load)
                return proc
            cmdline = proc.cmdline()
            if not cmdline:
                return proc  # unreadable for a moment (the process is in exec): not proof it is gone
            if str(self.node_dir(node.node_id) / "server.properties") not in cmdline:
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def _node_state(self, node: NodeState) -> BrokerState:
        proc = self._process(node)
        if proc is None:
            return BrokerState.STOPPED
        try:
            return BrokerState.PAUSED if proc.status() == psutil.STATUS_STOPPED else BrokerState.RUNNING
        except psutil.NoSuchProcess:
            return BrokerState.STOPPED

    def _launch(self, st: LocalState, node: NodeState) -> None:
        rt = self._runtime or ensure_runtime(st.version)
        self._runtime = rt
        d = self.node_dir(node.node_id)
        logs = d / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._check_ports([node])
        props = d / "server.properties"
        st.broker_overrides = self._overrides(st)  # saved below with the pid
        props.write_text(server_properties(node, st.nodes, d / "data", st.broker_overrides))
        log_cfg = d / ("log4j2.properties" if rt.uses_log4j2 else "log4j.properties")
        log_cfg.write_text(log4j_config(logs, rt.uses_log4j2))
        cmd = [rt.java, *HEAP.split(), *JVM_OPTS.split()]
        if rt.uses_log4j2:
            cmd.append(f"-Dlog4j2.configurationFile=file:{log_cfg}")
        else:
            cmd.append(f"-Dlog4j.configuration=file:{log_cfg}")
        cmd.append(f"-Dkafka.logs.dir={logs}")
        jolokia_marker = d / "jolokia"
        if rt.jolokia_agent is not None and port_is_free(node.jmx_port):
            cmd.append(f"-javaagent:{rt.jolokia_agent}=host={HOST},port={node.jmx_port},discoveryEnabled=false")
            jolokia_marker.touch()
        else:
            jolokia_marker.unlink(missing_ok=True)
        cmd += ["-cp", rt.classpath, "kafka.Kafka", str(props)]
        out = (logs / "stdout.log").open("ab")
        try:
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=d, start_new_session=True
            )
        finally:
            out.close()
        self._children[node.node_id] = proc
        node.pid = proc.pid
        st.save(self.state_file)

    @staticmethod
    def _check_ports(nodes: list[NodeState]) -> None:
        """Raise ``ClusterError`` naming the first port of ``nodes`` that another program holds."""
        for node in nodes:
            for port in (node.client_port, node.controller_port):
                if not port_is_free(port):
                    raise ClusterError(
                        f"Port {port} on {HOST}, which broker {node.node_id} uses, is taken by another program.",
                        hint="Free it, or run `kafka-lab cluster down --purge` then `kafka-lab cluster up` "
                        "to pick new ports.",
                    )

    def _format(self, st: LocalState, node: NodeState) -> None:
        """Write the KRaft metadata (cluster id, node id) into an empty data directory."""
        d = self.node_dir(node.node_id)
        if (d / "data" / "meta.properties").exists():
            return
        rt = self._runtime or ensure_runtime(st.version)
        self._runtime = rt
        (d / "data").mkdir(parents=True, exist_ok=True)
        props = d / "server.properties"
        props.write_text(server_properties(node, st.nodes, d / "data", self._overrides(st)))
        log_prop = "-Dlog4j2.configurationFile=" if rt.uses_log4j2 else "-Dlog4j.configuration="
        cmd = [rt.java, "-Xmx256m", f"{log_prop}file:/dev/null", "-cp", rt.classpath, "kafka.tools.StorageTool",
               "format", "-t", st.cluster_id, "-c", str(props)]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"Formatting broker {node.node_id}'s storage took over 120 s.") from exc
        if res.returncode != 0:
            raise ClusterError(
                f"Formatting broker {node.node_id}'s storage failed:\n{(res.stdout + res.stderr).strip()[-1500:]}",
                hint="Run `kafka-lab cluster down --purge` to start from empty storage.",
            )

    def _new_state(self) -> LocalState:
        taken: set[int] = set()
        client = pick_ports(self.preferred_ports, taken)
        ctrl = pick_ports(PREFERRED_CONTROLLER_PORTS if self.preferred_ports else None, taken)
        jmx = pick_ports(PREFERRED_JMX_PORTS if self.preferred_ports else None, taken)
        nodes = {nid: NodeState(nid, client[i], ctrl[i], jmx[i]) for i, nid in enumerate(NODE_IDS)}
        return LocalState(self.version, new_cluster_id(), nodes, dict(self.broker_overrides))

    def _overrides(self, st: LocalState | None) -> dict[str, str]:
        """The cluster's own broker overrides (from its state file), then any this object was given."""
        return {**(st.broker_overrides if st else {}), **self.broker_overrides}

    # --- lifecycle -------------------------------------------------------------------------------
    def up(self, timeout_s: float = 120.0) -> UpReport:
        """Start whatever is not running, wait until 3 brokers are registered and a round trip works."""
        t0 = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        st = self._state()
        notes: list[str] = []
        if st is None or not any((self.node_dir(n) / "data" / "meta.properties").exists() for n in NODE_IDS):
            st = self._new_state()
            st.save(self.state_file)
            ports = tuple(st.nodes[n].client_port for n in NODE_IDS)
            if self.preferred_ports and ports != tuple(self.preferred_ports):
                notes.append(f"Ports {', '.join(map(str, self.preferred_ports))} were not all free, so the brokers "
                             f"listen on {', '.join(map(str, ports))}; clients must use the bootstrap shown.")
        elif st.version != self.version and self.version != DEFAULT_KAFKA_VERSION:
            raise ClusterError(
                f"The cluster in {self.state_dir} was made with Kafka {st.version}, not {self.version}.",
                hint="Run `kafka-lab cluster down --purge` first, or use another --state-dir.",
            )
        self.version = st.version
        to_start = [n for n in st.nodes.values() if self._node_state(n) is BrokerState.STOPPED]
        paused = [n for n in st.nodes.values() if self._node_state(n) is BrokerState.PAUSED]
        for n in paused:  # `up` means "all running": thaw frozen brokers too
            os.kill(n.pid or 0, signal.SIGCONT)
        if not to_start and not paused:
            self.wait_until_ready(timeout_s)
            return UpReport(True, time.monotonic() - t0, self.status())
        self._check_ports(to_start)  # before anything starts: no half-started cluster over a taken port
        for n in to_start:
            self._format(st, n)
        for n in to_start:
            self._launch(st, n)
        self.wait_until_ready(timeout_s - (time.monotonic() - t0), starting=[n.node_id for n in to_start])
        return UpReport(False, time.monotonic() - t0, self.status(), tuple(n.node_id for n in to_start),
                        tuple(notes))

    def wait_until_ready(self, timeout_s: float, starting: list[int] | None = None) -> None:
        """Block until all nodes are registered and a produce/consume round trip succeeds."""
        from lab.cluster.health import round_trip

        deadline = time.monotonic() + max(timeout_s, 1.0)
        st = self._state()
        assert st is not None
        want = set(st.nodes)
        registered: set[int] = set()
        while time.monotonic() < deadline:
            for n in st.nodes.values():
                if n.node_id in (starting or []) and self._node_state(n) is BrokerState.STOPPED:
                    raise BrokerStartError(
                        f"Broker {n.node_id} exited while starting.",
                        hint=f"Its full log is {self.server_log(n.node_id)}; "
                        "`kafka-lab cluster down` stops the brokers that did start.",
                        log_tail=tail(self.node_dir(n.node_id) / "logs" / "stdout.log", 10)
                        + "\n"
                        + tail(self.server_log(n.node_id), 20),
                    )
            try:
                _, _, brokers = self.probe(timeout_s=2.0)
                registered = set(brokers)
                if want <= registered:
                    round_trip(self, timeout_s=max(1.0, deadline - time.monotonic()))
                    return
            except UnreachableError:
                pass
            time.sleep(0.3)
        missing = sorted(want - registered) or sorted(want)
        raise BrokerStartError(
            f"Broker(s) {missing} did not register within the time allowed ({timeout_s:.0f} s).",
            hint=f"Check the log(s) under {self.state_dir}; `kafka-lab cluster down` stops what did start.",
            log_tail="\n".join(f"[broker {m}]\n{tail(self.server_log(m), 15)}" for m in missing),
        )

    def down(self, purge: bool = False) -> None:
        st = self._state()
        if st is not None:
            procs = [(n, self._process(n)) for n in st.nodes.values()]
            for _, p in procs:
                if p is not None:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        p.resume()
                        p.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT_S
            for n, p in procs:
                if p is not None:
                    self._wait_gone(n, p, max(0.1, deadline - time.monotonic()))
                n.pid = None
            st.save(self.state_file)
        if purge and self.state_dir.exists():
            shutil.rmtree(self.state_dir)

    def _wait_gone(self, node: NodeState, proc: psutil.Process, timeout_s: float) -> None:
        """Wait for a terminating JVM; kill it when the controlled shutdown overruns.

        The JVM may be another process's child (e.g. started by `kafka-lab cluster up` in a test session or
        by the app, stopped from here): then it stays a zombie until that parent reaps it, which
        ``psutil.Process.wait`` would take for "still running". A zombie counts as gone.
        """
        if not _exited(proc, timeout_s):
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
            _exited(proc, 10)
        child = self._children.pop(node.node_id, None)
        if child is not None:
            child.wait(timeout=10)

    def status(self) -> ClusterStatus:
        st = self._state()
        reachable, cid, ctrl = False, None, None
        registered: dict[int, str] = {}
        if st is not None:
            try:
                cid, ctrl, registered = self.probe(timeout_s=2.0)
                reachable = True
            except UnreachableError:
                pass
        brokers = tuple(
            BrokerInfo(
                n.node_id,
                HOST,
                n.client_port,
                self._node_state(n),
                n.pid if self._process(n) else None,
                n.node_id in registered,
            )
            for n in (sorted(st.nodes.values(), key=lambda n: n.node_id) if st else [])
        )
        return ClusterStatus(
            backend=self.backend,
            bootstrap_servers=self.bootstrap_servers(),
            reachable=reachable,
            cluster_id=cid or (st.cluster_id if st else None),
            controller_id=ctrl if ctrl is not None and ctrl >= 0 else None,
            brokers=brokers,
            controls_enabled=True,
            kafka_version=st.version if st else self.version,
            state_dir=str(self.state_dir),
            broker_settings=LAB_BROKER_SETTINGS | self._overrides(st),
        )

    # --- broker controls -------------------------------------------------------------------------
    def _broker_action(self, action: BrokerAction, node_id: int, timeout_s: float) -> BrokerInfo:
        st = self._state()
        if st is None:
            raise ClusterError("There is no local cluster yet.", hint="Run `kafka-lab cluster up` first.")
        if node_id not in st.nodes:
            raise ClusterError(
                f"There is no broker {node_id}.", hint=f"Brokers are numbered {', '.join(map(str, st.nodes))}."
            )
        node = st.nodes[node_id]
        proc = self._process(node)
        state = self._node_state(node)
        if action is BrokerAction.START:
            if state is BrokerState.STOPPED:
                self._launch(st, node)
                self._wait_registered(node_id, timeout_s)
            elif state is BrokerState.PAUSED and proc is not None:
                proc.resume()
        elif proc is None:  # stop/kill/resume of a stopped broker: nothing to do
            if action is BrokerAction.PAUSE:
                raise ClusterError(f"Broker {node_id} is stopped; it cannot be {action.value}d.",
                                   hint=f"Start it first: `kafka-lab broker start {node_id}`.")
        elif action is BrokerAction.PAUSE:
            proc.suspend()
        elif action is BrokerAction.RESUME:
            proc.resume()
        elif action is BrokerAction.KILL:
            proc.kill()
            self._wait_gone(node, proc, 10)
        elif action is BrokerAction.STOP:
            proc.resume()  # a frozen JVM cannot run its shutdown hook
            proc.terminate()
            self._wait_gone(node, proc, min(timeout_s, STOP_TIMEOUT_S))
        return self._info(node_id)

    def _info(self, node_id: int) -> BrokerInfo:
        return next(b for b in self.status().brokers if b.node_id == node_id)

    def _wait_registered(self, node_id: int, timeout_s: float) -> None:
        """Wait until the restarted broker itself answers metadata requests and lists itself.

        Asking the other brokers is not enough: right after a kill they still list the dead broker
        until its session times out.
        """
        from lab import clients

        deadline = time.monotonic() + timeout_s
        st = self._state()
        assert st is not None
        node = st.nodes[node_id]
        cfg: dict[str, object] = {"bootstrap.servers": f"{HOST}:{node.client_port}"}
        while time.monotonic() < deadline:
            if self._node_state(node) is BrokerState.STOPPED:
                raise BrokerStartError(
                    f"Broker {node_id} exited while starting.", log_tail=tail(self.server_log(node_id), 20)
                )
            with contextlib.suppress(Exception):
                md = clients.admin(self, cfg).list_topics(timeout=2.0)
                if node_id in md.brokers:
                    return
            time.sleep(0.3)
        raise BrokerStartError(
            f"Broker {node_id} did not register within {timeout_s:.0f} s.", log_tail=tail(self.server_log(node_id), 20)
        )

    def describe_launch(self) -> dict[str, Any]:
        """Facts for `cluster status`: where things live."""
        return {"state_dir": str(self.state_dir), "logs": [str(self.server_log(n)) for n in NODE_IDS]}
