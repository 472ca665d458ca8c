"""Stopping a child process the one way the lab does: SIGTERM, a grace period, then SIGKILL; always reaped
(a ``subprocess.Popen`` with ``stop``, a ``multiprocessing`` process with ``stop_process``)."""

from __future__ import annotations

import multiprocessing.process
import subprocess
from typing import Any


def stop(proc: subprocess.Popen[Any], grace_s: float) -> None:
    """Stop ``proc`` if it still runs: terminate, wait ``grace_s``, kill, and wait for it (no zombie)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_process(proc: multiprocessing.process.BaseProcess, grace_s: float) -> None:
    """The same for a ``multiprocessing`` process: terminate, wait ``grace_s``, kill, and join it (no zombie).
    A process never started is left alone."""
    if proc.pid is None:
        return
    if proc.exitcode is None:
        proc.terminate()
        proc.join(grace_s)
        if proc.exitcode is None:
            proc.kill()
    proc.join()
