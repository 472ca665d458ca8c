"""A broker JVM stopped by one process may be another process's child: once it exits it stays a zombie
until that parent reaps it. The local backend must count that as gone instead of waiting and killing."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from lab.cluster.local_process import _exited

#: A parent that starts a short-lived child, prints its pid and never reaps it.
PARENT = "import subprocess,time; p=subprocess.Popen(['true']); print(p.pid, flush=True); time.sleep(30)"


def test_a_zombie_that_is_not_our_child_counts_as_exited() -> None:
    with subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True) as parent:
        try:
            assert parent.stdout is not None
            pid = int(parent.stdout.readline())
            proc = psutil.Process(pid)
            t = time.monotonic()
            assert _exited(proc, 10)
            assert time.monotonic() - t < 5
        finally:
            parent.kill()


def test_a_running_process_has_not_exited() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            assert not _exited(psutil.Process(child.pid), 0.5)
        finally:
            child.kill()


def test_cluster_ids_never_start_with_a_dash() -> None:
    from lab.cluster.local_config import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]  # ~31 would start with "-" without the guard
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
