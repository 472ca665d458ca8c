"""The cluster lock: one owner at a time for broker-changing work, across threads and processes, free again
when its owner dies. No cluster here: the broker a bare ``broker()`` must not touch is a plain process that
the lab takes for broker 2 (it runs with that node's server.properties on its command line)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from lab.cluster import BrokerState, LocalCluster
from lab.cluster.local_config import free_port
from lab.cluster.local_process import BROKER_MAIN
from lab.cluster.local_state import LocalState, NodeState
from lab.cluster.lock import ClusterLease, LockHolder, acquire, current_holder, read_holder
from lab.core.errors import ClusterBusy

#: A process that takes the lock, says so with its pid, and holds it until its stdin closes.
HOLDER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from lab.cluster.lock import acquire
    lease = acquire(Path(sys.argv[1]), "replication scenario", face="app", run_id="run-42")
    print(os.getpid(), flush=True)
    sys.stdin.read()
    lease.release()
""")
#: Bound on a helper process starting Python and importing the lab.
HELPER_START_S = 30


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "cluster.lock"


@pytest.fixture
def other_process(lock_file: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Another process holding the lock at ``lock_file``; yields it and its pid."""
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_file)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            pid = int(proc.stdout.readline())  # printed once the lock is held
            yield proc, pid
        finally:
            if proc.poll() is None:
                proc.kill()


def test_two_owners_in_one_process_exclude_each_other(lock_file: Path) -> None:
    first = acquire(lock_file, "min.insync.replicas scenario", face="app")
    try:
        with pytest.raises(ClusterBusy) as err:
            acquire(lock_file, "`broker stop 2`")
        assert "min.insync.replicas scenario" in str(err.value) and "the app" in str(err.value)
        assert isinstance(err.value.holder, LockHolder) and err.value.holder.pid == os.getpid()
        assert current_holder(lock_file) == first.holder
    finally:
        first.release()
    with acquire(lock_file, "`broker stop 2`") as second:
        assert second.held and current_holder(lock_file) == second.holder


def test_another_process_holding_it_excludes_this_one(lock_file: Path,
                                                     other_process: tuple[subprocess.Popen[str], int]) -> None:
    proc, pid = other_process
    assert pid != os.getpid()
    with pytest.raises(ClusterBusy) as err:
        acquire(lock_file, "`cluster down`")
    text = str(err.value)
    assert "replication scenario" in text and "the app" in text and f"process {pid}" in text
    holder = current_holder(lock_file)
    assert holder is not None and (holder.what, holder.face, holder.pid, holder.run_id) == (
        "replication scenario", "app", pid, "run-42")
    proc.communicate("", timeout=HELPER_START_S)  # stdin closed: it releases and exits
    assert proc.returncode == 0
    assert current_holder(lock_file) is None
    with acquire(lock_file, "`cluster down`") as lease:
        assert lease.held


def test_a_killed_holder_leaves_the_lock_free(lock_file: Path,
                                              other_process: tuple[subprocess.Popen[str], int]) -> None:
    proc, pid = other_process
    os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=HELPER_START_S)
    stale = read_holder(lock_file)
    assert stale is not None and stale.pid == pid, "the dead holder's record is still in the file"
    assert current_holder(lock_file) is None, "but nobody holds the lock"
    with acquire(lock_file, "after the crash", face="cli") as lease:
        assert current_holder(lock_file) == lease.holder
        assert lease.holder.pid == os.getpid() and read_holder(lock_file) == lease.holder


def test_the_lease_is_released_on_leaving_the_block_and_release_is_idempotent(lock_file: Path) -> None:
    with pytest.raises(RuntimeError), acquire(lock_file, "a scenario that fails") as lease:
        assert lease.held and current_holder(lock_file) == lease.holder
        raise RuntimeError("the scenario broke")
    assert not lease.held
    assert current_holder(lock_file) is None and read_holder(lock_file) is None, "no stale record either"
    lease.release()
    lease.release()
    assert not lease.held
    again = acquire(lock_file, "the next one")
    assert again.held
    again.release()


# --- a bare broker() call against a held lock ---------------------------------------------------------------
@pytest.fixture
def stand_in_broker(tmp_path: Path) -> Iterator[tuple[LocalCluster, subprocess.Popen[bytes]]]:
    """A LocalCluster whose cluster.json records broker 2 as a live process the lab recognises as that broker."""
    state = tmp_path / "state"
    props = state / "node-2" / "server.properties"
    props.parent.mkdir(parents=True)
    nodes = {n: NodeState(n, free_port(), free_port(), free_port()) for n in (1, 2, 3)}
    cmd = [sys.executable, "-c", "import time; time.sleep(120)", BROKER_MAIN, str(props)]
    with subprocess.Popen(cmd) as proc:
        try:
            nodes[2].pid = proc.pid
            LocalState("3.9.2", "stand-in", nodes).save(state / "cluster.json")
            yield LocalCluster(state, preferred_ports=None), proc
        finally:
            proc.kill()


def test_a_bare_broker_call_while_another_owner_holds_the_lock_touches_nothing(
        stand_in_broker: tuple[LocalCluster, subprocess.Popen[bytes]]) -> None:
    c, proc = stand_in_broker
    before = c.state_file.read_text()
    with c.exclusive("replication scenario", face="app") as lease:
        for action in ("stop", "kill", "pause", "start"):
            with pytest.raises(ClusterBusy, match="replication scenario"):
                c.broker(action, 2)
        assert proc.poll() is None and psutil.Process(proc.pid).status() != psutil.STATUS_STOPPED
        assert c.state_file.read_text() == before
        # the lease's own owner may: the lab does take the stand-in for broker 2
        assert c.broker("stop", 2, lease=lease).state is BrokerState.STOPPED
    proc.wait(timeout=10)  # it is gone (TimeoutExpired if it still ran)
    assert json.loads(c.state_file.read_text())["nodes"]["2"]["pid"] is None


def test_a_bare_broker_call_is_refused_before_the_cluster_is_even_read(tmp_path: Path) -> None:
    """No cluster.json at all: the lock refuses first (else: "There is no local cluster yet")."""
    c = LocalCluster(tmp_path / "empty", preferred_ports=None)
    lease: ClusterLease = c.exclusive("a scenario")
    try:
        with pytest.raises(ClusterBusy):
            c.broker("stop", 2)
        with pytest.raises(ClusterBusy):
            c.down()
        with pytest.raises(ClusterBusy):
            c.up(timeout_s=5)
    finally:
        lease.release()
    assert not c.state_file.exists(), "nothing was started or written"
