"""The default backend: three Apache Kafka KRaft nodes (broker + controller each) as local JVMs.

Everything lives under one state directory (layout in ``local_state``); what is written for a broker is
in ``local_config``, how its JVM is launched, recognised and stopped in ``local_process``. Brokers run in
their own session (they outlive ``kafka-lab cluster up``) and bind to 127.0.0.1 only.

Whoever starts or stops brokers holds the cluster lock (``<state_dir>/cluster.lock``) and records each
broker's pid in ``cluster.json`` the moment it is launched, so every other process sees it at once.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from lab.cluster import secure
from lab.cluster.base import BrokerAction, BrokerInfo, BrokerState, Cluster, ClusterStatus, UpReport
from lab.cluster.health import await_brokers, round_trip
from lab.cluster.local_config import (
    HEAP,
    HOST,
    LAB_BROKER_SETTINGS,
    NODE_IDS,
    PREFERRED_CLIENT_PORTS,
    PREFERRED_JMX_PORTS,
    free_port,
    new_state,
    ports_note,
)
from lab.cluster.local_process import (
    BrokerProcesses,
    check_ports,
    exited_while_starting,
    format_storage,
    process_state,
    tail,
    terminate,
)
from lab.cluster.local_state import STATE_FILE, LocalState, NodeFiles, NodeState, default_state_dir
from lab.cluster.lock import ClusterLease
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, KafkaRuntime, check_version, ensure_runtime
from lab.core.errors import BrokerStartError, ClusterError, UnreachableError

#: Names that lived here before the split, still importable from here (new code imports local_config).
__all__ = ["HEAP", "HOST", "LAB_BROKER_SETTINGS", "NODE_IDS", "PREFERRED_JMX_PORTS", "STOP_TIMEOUT_S",
           "LocalCluster", "free_port"]

#: How long a controlled shutdown (SIGTERM) may take before the broker is killed.
STOP_TIMEOUT_S = 30.0


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
        security: str | None = None,
    ) -> None:
        """``security``: "sasl_ssl" makes a new cluster secured (lab/cluster/secure.py), "plaintext" a plain
        one; None takes whatever the state dir's cluster is (plain for a new one)."""
        # absolute: the brokers run with their node directory as working directory
        self.state_dir = (Path(state_dir).expanduser() if state_dir else default_state_dir()).absolute()
        if not os.environ.get("KAFKA_HOME"):  # a distribution brings its own version
            check_version(version)
        self.version = version
        self.preferred_ports = preferred_ports
        self.broker_overrides = dict(broker_overrides or {})
        self.security = secure.check_mode(security) if security is not None else None
        self._procs = BrokerProcesses(self.state_dir)
        self._runtime: KafkaRuntime | None = None

    # --- files -----------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    def lock_path(self) -> Path:
        return self.state_dir / "cluster.lock"

    def node_dir(self, node_id: int) -> Path:
        return self._procs.files(node_id).dir

    def files(self, node_id: int) -> NodeFiles:
        return self._procs.files(node_id)

    def log_dir(self, node_id: int) -> Path | None:
        return self.files(node_id).data

    def server_log(self, node_id: int) -> Path:
        return self.files(node_id).server_log

    def _state(self) -> LocalState | None:
        return LocalState.load(self.state_file)

    def _overrides(self, st: LocalState | None) -> dict[str, str]:
        """The cluster's own broker overrides (from its state file), then any this object was given."""
        return {**(st.broker_overrides if st else {}), **self.broker_overrides}

    # --- connection ------------------------------------------------------------------------------
    @property
    def secured(self) -> bool:
        st = self._state()
        return (st.security if st is not None else self.security) == secure.SASL_SSL

    @property
    def secure_files(self) -> secure.SecureFiles:
        return secure.SecureFiles(self.state_dir)

    def security_settings(self) -> dict[str, str]:
        """A secured cluster's admin settings (the lab's own checks run as its super user); none when plain."""
        return self.secure_files.client_settings(secure.ADMIN_USER) if self.secured else {}

    def client_config(self) -> dict[str, str]:
        return {"bootstrap.servers": self.bootstrap_servers(), **self.security_settings()}

    def bootstrap_servers(self) -> str:
        st = self._state()
        if st is None:
            ports = self.preferred_ports or PREFERRED_CLIENT_PORTS
            return ",".join(f"{HOST}:{p}" for p in ports)
        return ",".join(f"{HOST}:{n.client_port}" for n in sorted(st.nodes.values(), key=lambda n: n.node_id))

    def jmx_url(self, node_id: int) -> str | None:
        st = self._state()
        if st is None or node_id not in st.nodes or not self.files(node_id).jolokia_marker.exists():
            return None
        return f"http://{HOST}:{st.nodes[node_id].jmx_port}/jolokia/"

    # --- starting brokers (always under the cluster lock) ------------------------------------------
    def _rt(self, version: str) -> KafkaRuntime:
        self._runtime = self._runtime or ensure_runtime(version)
        return self._runtime

    def _format(self, st: LocalState, node: NodeState) -> None:
        if not self.files(node.node_id).formatted:
            st.broker_overrides = self._overrides(st)
            format_storage(self._rt(st.version), st, node, self.files(node.node_id), self.state_dir)

    def _launch(self, st: LocalState, node: NodeState) -> None:
        """Start the node's JVM; its pid is in cluster.json before it is ready (see ``BrokerProcesses.launch``)."""
        st.broker_overrides = self._overrides(st)  # saved with the pid
        self._procs.launch(self._rt(st.version), st, node)

    def _check_version(self, st: LocalState) -> None:
        st.check_version(self.version, DEFAULT_KAFKA_VERSION, self.state_dir)

    # --- lifecycle -------------------------------------------------------------------------------
    def up(self, timeout_s: float = 120.0, *, lease: ClusterLease | None = None, face: str = "cli") -> UpReport:
        """Start whatever is not running, wait until 3 brokers are registered and a round trip works.

        When every broker already runs this only checks readiness, without the cluster lock (a scenario may
        hold it meanwhile); otherwise the whole start runs under the lock (``lease``, or taken here).
        """
        t0 = time.monotonic()
        st = self._state()
        if st is not None:
            self._check_version(st)
            self._check_security(st)
            if all(self.files(n.node_id).formatted and self._procs.state(n) is BrokerState.RUNNING
                   for n in st.nodes.values()):
                self.wait_until_ready(timeout_s)
                if st.security == secure.SASL_SSL:
                    secure.grant_student(self, self.bootstrap_servers().split(","))  # no-op when they exist
                return UpReport(True, time.monotonic() - t0, self.status(), notes=tuple(self.usage_notes()))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.owning("`cluster up`", lease=lease, face=face):
            return self._start_all(t0, timeout_s)

    def _start_all(self, t0: float, timeout_s: float) -> UpReport:
        """``up`` under the lock: state read afresh (another owner may have just changed it), then started."""
        st = self._state()
        notes: list[str] = []
        if st is None or not any(self.files(n).formatted for n in NODE_IDS):
            st = new_state(self.version, self.preferred_ports, self.broker_overrides, self.security or secure.PLAINTEXT)
            if st.security == secure.SASL_SSL:
                secure.prepare(self.state_dir)  # CA, certificates, passwords: before the state names it secured
            st.save(self.state_file)
            notes += filter(None, [ports_note(st, self.preferred_ports)])
        self._check_version(st)
        self._check_security(st)
        self.version = st.version
        adopted = [n for n in st.nodes.values() if self.files(n.node_id).formatted and self._procs.adopt(st, n)]
        notes += [f"Broker {n.node_id} was running (pid {n.pid}) without being recorded; the lab took it over."
                  for n in adopted]
        procs = {n.node_id: self._procs.recorded(n) for n in st.nodes.values()}
        to_start = [n for n in st.nodes.values() if process_state(procs[n.node_id]) is BrokerState.STOPPED]
        paused = [p for p in procs.values() if p is not None and process_state(p) is BrokerState.PAUSED]
        for proc in paused:  # `up` means "all running": thaw frozen brokers too
            proc.resume()
        check_ports(to_start)  # before anything starts: no half-started cluster over a taken port
        for n in to_start:
            self._format(st, n)
        for n in to_start:
            self._launch(st, n)
        self.wait_until_ready(timeout_s - (time.monotonic() - t0), starting=[n.node_id for n in to_start + adopted])
        if st.security == secure.SASL_SSL:
            secure.grant_student(self, self.bootstrap_servers().split(","))
        return UpReport(not to_start and not paused, time.monotonic() - t0, self.status(),
                        tuple(n.node_id for n in to_start), tuple(notes + self.usage_notes()))

    def _check_security(self, st: LocalState) -> None:
        """Refuse a security mode other than the cluster's own (None asked for: the cluster's is used)."""
        if self.security is not None and self.security != st.security:
            raise ClusterError(
                f"The cluster in {self.state_dir} was made with security {st.security}, not {self.security}.",
                hint="Run `kafka-lab cluster down --purge` first, or use another --state-dir.",
            )

    def usage_notes(self) -> list[str]:
        """How to use a secured cluster as the student (paths only, never a secret); none for a plain one."""
        if not self.secured:
            return []
        f = self.secure_files
        return [f"Secured (SASL_SSL, {secure.MECHANISM}, TLS, ACLs). Client settings (mode 0600): "
                f"{f.properties(secure.STUDENT_USER)} (student: only topics, groups and transactional ids "
                f"starting with '{secure.LAB_PREFIX}') and {f.properties(secure.ADMIN_USER)} (super user).",
                f"Run experiments as the student: KAFKA_LAB_CLIENT_CONFIG={f.properties(secure.STUDENT_USER)} "
                f"kafka-lab producer run --bootstrap {self.bootstrap_servers()}"]

    def wait_until_ready(self, timeout_s: float, starting: list[int] | None = None) -> None:
        """Block until all nodes are registered and a produce/consume round trip succeeds.

        A broker of ``starting`` that exits meanwhile ends the wait at once with its log tail.
        """
        timeout_s = max(timeout_s, 1.0)
        deadline = time.monotonic() + timeout_s
        st = self._state()
        assert st is not None
        missing = await_brokers(self, st.nodes, timeout_s, check=lambda: self._raise_if_exited(st, starting or []))
        if missing:
            raise BrokerStartError(
                f"Broker(s) {sorted(missing)} did not register within the time allowed ({timeout_s:.0f} s).",
                hint=f"Check the log(s) under {self.state_dir}; `kafka-lab cluster down` stops what did start.",
                log_tail="\n".join(f"[broker {m}]\n{tail(self.server_log(m), 15)}" for m in sorted(missing)),
            )
        round_trip(self, timeout_s=max(1.0, deadline - time.monotonic()))

    def _raise_if_exited(self, st: LocalState, starting: list[int]) -> None:
        for n in starting:
            if self._procs.state(st.nodes[n]) is BrokerState.STOPPED:
                raise exited_while_starting(n, self.files(n))

    def down(self, purge: bool = False, *, lease: ClusterLease | None = None, face: str = "cli") -> None:
        """Stop every broker of this state directory (recorded or not); with ``purge`` delete it too."""
        if not self.state_dir.exists():
            return  # no cluster here: nothing to stop, and no lock file to make
        with self.owning("`cluster down --purge`" if purge else "`cluster down`", lease=lease, face=face):
            st = self._state()
            if st is not None:
                self._stop_all(st)
            if purge:
                shutil.rmtree(self.state_dir)

    def _stop_all(self, st: LocalState) -> None:
        procs = [(n, self._procs.find(n)) for n in st.nodes.values()]
        for _, p in procs:  # all at once: the three controlled shutdowns overlap
            if p is not None:
                terminate(p)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for n, p in procs:
            if p is not None:
                self._procs.wait_gone(n.node_id, p, max(0.1, deadline - time.monotonic()))
            n.pid = None
        st.save(self.state_file)

    def status(self) -> ClusterStatus:
        st = self._state()
        reachable, cid = False, None
        registered: dict[int, str] = {}
        if st is not None:
            try:
                cid, _, registered = self.probe(timeout_s=2.0)
                reachable = True
            except UnreachableError:
                pass
        brokers = tuple(
            BrokerInfo(n.node_id, HOST, n.client_port, self._procs.state(n),
                       n.pid if self._procs.recorded(n) else None, n.node_id in registered)
            for n in (sorted(st.nodes.values(), key=lambda n: n.node_id) if st else [])
        )
        return ClusterStatus(
            backend=self.backend,
            bootstrap_servers=self.bootstrap_servers(),
            reachable=reachable,
            cluster_id=cid or (st.cluster_id if st else None),
            controller_id=self.active_controller(tuple(st.nodes) if st else ()) if reachable else None,
            brokers=brokers,
            controls_enabled=True,
            kafka_version=st.version if st else self.version,
            state_dir=str(self.state_dir),
            broker_settings=LAB_BROKER_SETTINGS | self._overrides(st),
            security=self.security_label(),
        )

    # --- broker controls (under the cluster lock: see Cluster.broker) ------------------------------
    def _broker_action(self, action: BrokerAction, node_id: int, timeout_s: float) -> BrokerInfo:
        st = self._state()
        if st is None:
            raise ClusterError("There is no local cluster yet.", hint="Run `kafka-lab cluster up` first.")
        if node_id not in st.nodes:
            raise ClusterError(
                f"There is no broker {node_id}.", hint=f"Brokers are numbered {', '.join(map(str, st.nodes))}."
            )
        node = st.nodes[node_id]
        adopted = self._procs.adopt(st, node)
        proc = self._procs.recorded(node)
        if action is BrokerAction.START:
            if proc is None:
                check_ports([node])
                self._launch(st, node)
            elif self._procs.state(node) is BrokerState.PAUSED:
                proc.resume()
            if proc is None or adopted:
                self._wait_registered(node_id, timeout_s)
        elif proc is None:  # stop/kill/resume of a stopped broker: nothing to do
            if action is BrokerAction.PAUSE:
                raise ClusterError(f"Broker {node_id} is stopped; it cannot be {action.value}d.",
                                   hint=f"Start it first: `kafka-lab broker start {node_id}`.")
        elif action is BrokerAction.PAUSE:
            proc.suspend()
        elif action is BrokerAction.RESUME:
            proc.resume()
        else:
            if action is BrokerAction.KILL:
                self._procs.kill(node_id, proc)
            else:
                self._procs.stop(node_id, proc, min(timeout_s, STOP_TIMEOUT_S))
            node.pid = None  # cluster.json records only live brokers
            st.save(self.state_file)
        return self._info(node_id)

    def _info(self, node_id: int) -> BrokerInfo:
        return next(b for b in self.status().brokers if b.node_id == node_id)

    def _wait_registered(self, node_id: int, timeout_s: float) -> None:
        """Wait until the (re)started broker itself answers metadata requests and lists itself.

        Asking the other brokers is not enough: right after a kill they still list the dead broker until its
        session times out.
        """
        st = self._state()
        assert st is not None
        own = f"{HOST}:{st.nodes[node_id].client_port}"
        if await_brokers(self, [node_id], timeout_s, ask=own, check=lambda: self._raise_if_exited(st, [node_id])):
            raise BrokerStartError(f"Broker {node_id} did not register within {timeout_s:.0f} s.",
                                   log_tail=tail(self.server_log(node_id), 20))

    def describe_launch(self) -> dict[str, Any]:
        """Facts for `cluster status`: where things live."""
        return {"state_dir": str(self.state_dir), "logs": [str(self.server_log(n)) for n in NODE_IDS]}
