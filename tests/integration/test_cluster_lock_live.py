"""One owner for broker-changing work, across processes, on the real session cluster: a bare broker command
from another process is refused while a lease is held; whoever starts a broker records its pid at once;
a broker whose pid was lost is adopted instead of being reported as a port squatter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from lab.cluster import BrokerState, LocalCluster
from lab.cluster.local_process import BROKER_MAIN
from lab.cluster.local_state import LocalState
from lab.cluster.lock import LockHolder
from lab.core.context import poll_until
from lab.core.errors import ClusterBusy

ROOT = Path(__file__).resolve().parents[2]
#: Another process acting on a broker through nothing but the state directory, as the CLI or the app does.
BROKER_CALL = textwrap.dedent("""
    import sys
    from lab.cluster import LocalCluster
    from lab.core.errors import ClusterBusy
    try:
        info = LocalCluster(sys.argv[1]).broker(sys.argv[2], int(sys.argv[3]))
    except ClusterBusy as err:
        print(err)
        sys.exit(3)
    print(info.state, info.pid)
""")
#: Exit status of BROKER_CALL when the cluster was busy.
BUSY = 3
#: Bound on a broker (re)start from another process: Python start, JVM start, registration.
START_S = 120


def broker_call(c: LocalCluster, action: str, node_id: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BROKER_CALL, str(c.state_dir), action, str(node_id)], cwd=ROOT,
                          capture_output=True, text=True, timeout=START_S)


def recorded_pid(c: LocalCluster, node_id: int) -> int | None:
    st = LocalState.load(c.state_file)
    assert st is not None
    return st.nodes[node_id].pid


def forget_pid(c: LocalCluster, node_id: int) -> None:
    """What a lost record looks like: cluster.json without the pid of a broker that runs."""
    st = LocalState.load(c.state_file)
    assert st is not None
    st.nodes[node_id].pid = None
    st.save(c.state_file)


def jvms_of(c: LocalCluster, node_id: int) -> list[int]:
    """Pids of every live process that runs broker ``node_id`` of this state directory."""
    props = str(c.files(node_id).props)
    return [p.pid for p in psutil.process_iter(["cmdline", "status"])
            if p.info["status"] != psutil.STATUS_ZOMBIE and BROKER_MAIN in (p.info["cmdline"] or [])
            and props in (p.info["cmdline"] or [])]


def assert_is_broker(c: LocalCluster, node_id: int, pid: int | None) -> None:
    """``pid`` is the one live JVM of broker ``node_id`` and listens on its client port."""
    assert pid is not None and jvms_of(c, node_id) == [pid]
    port = next(b.port for b in c.status().brokers if b.node_id == node_id)
    listening = {conn.laddr.port for conn in psutil.Process(pid).net_connections(kind="inet")
                 if conn.status == psutil.CONN_LISTEN}
    assert port in listening


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_bare_stop_from_another_process_is_refused_while_a_lease_is_held(whole_cluster: LocalCluster) -> None:
    c = whole_cluster
    before = recorded_pid(c, 2)
    assert_is_broker(c, 2, before)
    with c.exclusive("lock test scenario", face="test") as lease:
        res = broker_call(c, "stop", 2)
        assert res.returncode == BUSY, res.stdout + res.stderr
        assert "The cluster is busy" in res.stdout and "lock test scenario" in res.stdout
        assert f"the test, process {os.getpid()}" in res.stdout
        assert c.status().brokers[1].state is BrokerState.RUNNING and recorded_pid(c, 2) == before
        assert_is_broker(c, 2, before)
        # the lease's owner may
        assert c.broker("stop", 2, lease=lease).state is BrokerState.STOPPED
        assert recorded_pid(c, 2) is None and before is not None and gone(before) and jvms_of(c, 2) == []
        info = c.broker("start", 2, lease=lease)
        assert info.state is BrokerState.RUNNING
        assert info.pid == recorded_pid(c, 2) != before
        assert_is_broker(c, 2, info.pid)


def test_a_broker_started_by_another_process_is_recorded_at_once(whole_cluster: LocalCluster) -> None:
    c = whole_cluster
    assert c.broker("stop", 2).state is BrokerState.STOPPED
    with subprocess.Popen([sys.executable, "-c", BROKER_CALL, str(c.state_dir), "start", "2"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as starter:
        # while the other process still waits for its broker to register: pid recorded, lock held by it
        seen: list[int] = []
        holders: list[object] = []

        def recorded_or_done() -> bool:
            pid, holder = recorded_pid(c, 2), c.lock_holder()
            if pid and starter.poll() is None:
                seen.append(pid)
                holders.append(holder)
                return True
            return starter.poll() is not None

        poll_until(recorded_or_done, START_S, every_s=0.05)
        out, err = starter.communicate(timeout=START_S)
    assert seen, f"no pid in cluster.json before the start returned: {out}{err}"
    holder = holders[0]
    assert isinstance(holder, LockHolder) and holder.pid == starter.pid and "broker start 2" in holder.what
    assert starter.returncode == 0, out + err
    pid = seen[0]
    assert out.split() == ["running", str(pid)]
    assert recorded_pid(c, 2) == pid and c.status().brokers[1].pid == pid
    assert_is_broker(c, 2, pid)
    # and this process, which did not start it, stops it
    assert c.broker("stop", 2).state is BrokerState.STOPPED
    assert poll_until(lambda: gone(pid), 10) and jvms_of(c, 2) == []


def test_a_running_broker_whose_pid_was_lost_is_adopted(whole_cluster: LocalCluster) -> None:
    c = whole_cluster
    pid = recorded_pid(c, 2)
    assert_is_broker(c, 2, pid)
    with c.exclusive("adoption test", face="test") as lease:
        forget_pid(c, 2)
        assert c.status().brokers[1].state is BrokerState.STOPPED, "the lab cannot see it without its pid"
        info = c.broker("start", 2, lease=lease)  # its ports are taken: by itself
        assert info.state is BrokerState.RUNNING and info.pid == pid == recorded_pid(c, 2)
        forget_pid(c, 2)
        report = c.up(lease=lease)
        assert report.already_running and report.started_nodes == ()
        assert any("Broker 2 was running" in note for note in report.notes), report.notes
        assert recorded_pid(c, 2) == pid
    assert_is_broker(c, 2, pid)


def test_up_and_down_while_another_owner_holds_the_lock(whole_cluster: LocalCluster) -> None:
    c = whole_cluster
    pids = [b.pid for b in c.status().brokers]
    with c.exclusive("lock test scenario", face="test") as lease:
        assert c.up().already_running, "nothing to start: no lock needed"
        with pytest.raises(ClusterBusy, match="lock test scenario"):
            c.down()
        assert [b.pid for b in c.status().brokers] == pids
        assert all(b.state is BrokerState.RUNNING for b in c.status().brokers)
        c.broker("stop", 2, lease=lease)
        with pytest.raises(ClusterBusy, match="lock test scenario"):
            c.up(timeout_s=30)  # broker 2 would need starting
        assert c.status().brokers[1].state is BrokerState.STOPPED and jvms_of(c, 2) == []
        report = c.up(lease=lease)
        assert report.started_nodes == (2,) and not report.already_running
        assert_is_broker(c, 2, recorded_pid(c, 2))
