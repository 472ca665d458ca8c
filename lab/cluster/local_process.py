"""The broker JVMs of one local state directory: launch them, recognise them, stop them, read their logs.

A broker is recognised by its command line (``kafka.Kafka <node dir>/server.properties``), never by its pid
alone: pids get reused, and a broker may have been started by another process (the app, a CLI, a test
session) than the one looking at it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import psutil

from lab.cluster import secure
from lab.cluster.base import BrokerState
from lab.cluster.local_config import HOST, format_command, port_is_free, prepare_launch, write_node_config
from lab.cluster.local_state import STATE_FILE, LocalState, NodeFiles, NodeState
from lab.cluster.provision import KafkaRuntime
from lab.core.context import poll_until
from lab.core.errors import BrokerStartError, ClusterError

#: The main class every broker JVM runs; with the node's server.properties it names the broker.
BROKER_MAIN = "kafka.Kafka"
#: Java frames kept per stack trace in a log tail: enough to see where, short enough to see the error.
STACK_FRAMES_SHOWN = 3
#: How often an exit is checked for while waiting for one (a JVM shuts down in about a second).
EXIT_POLL_S = 0.1
#: Bound on formatting one node's storage (a JVM start plus a few file writes).
FORMAT_TIMEOUT_S = 120

#: The broker JVMs this Python process launched, per state directory (then node id). Shared by every
#: ``BrokerProcesses`` (and so every ``LocalCluster``) of a state dir in this process: a broker launched
#: through one instance outlives it, and its Popen must not be collected with it (Python warns about, and
#: cannot later reap, a child whose Popen was dropped while it ran).
_CHILDREN: dict[str, dict[int, subprocess.Popen[bytes]]] = {}
#: Children no longer recorded as their node's broker (another process restarted it) that had not exited
#: when we noticed: kept until they have, and reaped then, so no Popen of a live child is ever dropped.
_STRAYS: list[subprocess.Popen[bytes]] = []


def _reap_strays() -> None:
    _STRAYS[:] = [c for c in _STRAYS if c.poll() is None]


def is_broker_of(cmdline: list[str], props: Path) -> bool:
    """True when ``cmdline`` is a broker JVM started with the server.properties at ``props``."""
    if BROKER_MAIN not in cmdline:
        return False
    target = os.path.realpath(props)
    return any(arg == str(props) or (arg.endswith(props.name) and os.path.realpath(arg) == target)
               for arg in cmdline)


def _exited(proc: psutil.Process, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``proc`` to exit (or become a zombie); True when it did.

    The JVM may be another process's child: once it exits it stays a zombie until that parent reaps it,
    which ``psutil.Process.wait`` would take for "still running". A zombie counts as gone.
    """

    def gone() -> bool:
        try:
            proc.wait(timeout=0)
            return True
        except psutil.NoSuchProcess:
            return True
        except psutil.TimeoutExpired:
            pass
        try:
            return bool(proc.status() == psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return True

    return bool(poll_until(gone, timeout_s, every_s=EXIT_POLL_S))


def check_ports(nodes: list[NodeState]) -> None:
    """Raise ``ClusterError`` naming the first port of ``nodes`` that another program holds."""
    for node in nodes:
        for port in (node.client_port, node.controller_port):
            if not port_is_free(port):
                raise ClusterError(
                    f"Port {port} on {HOST}, which broker {node.node_id} uses, is taken by another program.",
                    hint="Free it, or run `kafka-lab cluster down --purge` then `kafka-lab cluster up` "
                    "to pick new ports.",
                )


def security_properties(state_dir: Path, st: LocalState, node: NodeState) -> dict[str, str] | None:
    """A secured cluster's listener/TLS/SASL/authorizer settings for ``node``; None for a plain one."""
    if st.security != secure.SASL_SSL:
        return None
    return secure.broker_properties(HOST, node.client_port, node.controller_port, secure.SecureFiles(state_dir))


def format_storage(rt: KafkaRuntime, st: LocalState, node: NodeState, f: NodeFiles, state_dir: Path) -> None:
    """Write the KRaft metadata (cluster id, node id; a secured cluster's SCRAM users) into the node's empty
    data directory. The SCRAM passwords go to the JVM in an ``@argfile``, never on its command line.

    A failure is a ``ClusterError`` carrying the storage tool's output.
    """
    write_node_config(rt, f, node, st.nodes, st.broker_overrides, security_properties(state_dir, st, node))
    cmd = format_command(rt, st.cluster_id, f.props)
    try:
        if st.security == secure.SASL_SSL:
            with secure.java_argfile([*cmd[1:], *secure.scram_args(secure.SecureFiles(state_dir))],
                                     secure.SecureFiles(state_dir).dir) as argfile:
                res = subprocess.run([cmd[0], f"@{argfile}"], capture_output=True, text=True,
                                     timeout=FORMAT_TIMEOUT_S)
        else:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"Formatting broker {node.node_id}'s storage took over {FORMAT_TIMEOUT_S} s.") from exc
    if res.returncode != 0:
        said = (res.stdout + res.stderr).strip()
        if st.security == secure.SASL_SSL:  # the tool may echo its arguments: never show a password
            for user in (secure.ADMIN_USER, secure.STUDENT_USER):
                said = said.replace(secure.SecureFiles(state_dir).password(user), "[hidden]")
        raise ClusterError(
            f"Formatting broker {node.node_id}'s storage failed:\n{said[-1500:]}",
            hint="Run `kafka-lab cluster down --purge` to start from empty storage.",
        )


def terminate(proc: psutil.Process) -> None:
    """Ask a broker for a controlled shutdown (SIGTERM); a frozen JVM is thawed first to run its hook."""
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.resume()
        proc.terminate()


def process_state(proc: psutil.Process | None) -> BrokerState:
    if proc is None:
        return BrokerState.STOPPED
    try:
        return BrokerState.PAUSED if proc.status() == psutil.STATUS_STOPPED else BrokerState.RUNNING
    except psutil.NoSuchProcess:
        return BrokerState.STOPPED


class BrokerProcesses:
    """Launches, finds and stops the broker JVMs of one state directory (all three nodes)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._children = _CHILDREN.setdefault(str(state_dir.resolve()), {})

    def files(self, node_id: int) -> NodeFiles:
        return NodeFiles(self.state_dir / f"node-{node_id}")

    def recorded(self, node: NodeState) -> psutil.Process | None:
        """The live JVM whose pid ``cluster.json`` records for ``node``, verified by its command line."""
        if node.pid is None:
            return None
        _reap_strays()
        child = self._children.get(node.node_id)
        if child is not None and child.pid != node.pid:
            # another process restarted this broker since we launched it: our old child is not it
            if child.poll() is None:  # still exiting: reaped later
                _STRAYS.append(child)
            self._children.pop(node.node_id, None)
            child = None
        elif child is not None and child.poll() is not None:
            self._children.pop(node.node_id, None)  # reaped: it exited
            return None
        try:
            proc = psutil.Process(node.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(node.pid, os.WNOHANG)
                return None
            if child is not None:
                # our own unreaped child: its pid cannot have been reused, and between fork and exec its
                # command line is still ours (a check of it right after launch saw "exited" under load)
                return proc
            cmdline = proc.cmdline()
            if not cmdline:
                return proc  # unreadable for a moment (the process is in exec): not proof it is gone
            return proc if is_broker_of(cmdline, self.files(node.node_id).props) else None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def unrecorded(self, node_id: int) -> psutil.Process | None:
        """A live broker JVM of this node that ``cluster.json`` does not record (its pid was lost), or None."""
        props = self.files(node_id).props
        for proc in psutil.process_iter(["cmdline", "status"]):
            info = proc.info
            if proc.pid == os.getpid() or info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            if is_broker_of(info.get("cmdline") or [], props):
                return proc
        return None

    def find(self, node: NodeState) -> psutil.Process | None:
        """The node's live JVM, recorded or not."""
        return self.recorded(node) or self.unrecorded(node.node_id)

    def state(self, node: NodeState) -> BrokerState:
        return process_state(self.recorded(node))

    def launch(self, rt: KafkaRuntime, st: LocalState, node: NodeState) -> None:
        """Write the node's config and start its JVM in its own session (it outlives this process).

        Its pid goes into cluster.json at once, before the broker is ready, so every other process sees it
        (the caller holds the cluster lock: nobody else writes the file meanwhile).
        """
        f = self.files(node.node_id)
        secured = st.security == secure.SASL_SSL
        cmd = prepare_launch(rt, f, node, st.nodes, st.broker_overrides, security_properties(self.state_dir, st, node),
                             secure.SecureFiles(self.state_dir).jolokia_policy if secured else None)
        with f.stdout_log.open("ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=f.dir,
                                    start_new_session=True)
        self._children[node.node_id] = proc
        node.pid = proc.pid
        st.save(self.state_dir / STATE_FILE)

    def adopt(self, st: LocalState, node: NodeState) -> bool:
        """Record the pid of a running broker of ``node`` that cluster.json lost track of; True if one runs."""
        if self.recorded(node) is not None:
            return False
        proc = self.unrecorded(node.node_id)
        if proc is None:
            return False
        node.pid = proc.pid
        st.save(self.state_dir / STATE_FILE)
        return True

    def stop(self, node_id: int, proc: psutil.Process, timeout_s: float) -> None:
        """Controlled shutdown (see ``terminate``), killed when it overruns ``timeout_s``."""
        terminate(proc)
        self.wait_gone(node_id, proc, timeout_s)

    def kill(self, node_id: int, proc: psutil.Process) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
        self.wait_gone(node_id, proc, 10)

    def wait_gone(self, node_id: int, proc: psutil.Process, timeout_s: float) -> None:
        """Wait for a terminating JVM; kill it when the controlled shutdown overruns; reap it if ours."""
        if not _exited(proc, timeout_s):
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
            _exited(proc, 10)
        child = self._children.pop(node_id, None)
        if child is not None:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:  # not our broker any more (restarted elsewhere), still exiting
                _STRAYS.append(child)


# --- logs ---------------------------------------------------------------------------------------------
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


def exited_while_starting(node_id: int, f: NodeFiles) -> BrokerStartError:
    """The error for a broker that exited while starting, with what it said: the end of its stdout (JVM
    errors), then of its server.log."""
    return BrokerStartError(
        f"Broker {node_id} exited while starting.",
        hint=f"Its full log is {f.server_log}; `kafka-lab cluster down` stops the brokers that did start.",
        log_tail=tail(f.stdout_log, 10) + "\n" + tail(f.server_log, 20),
    )
