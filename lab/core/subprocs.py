"""Stopping a child process the one way the lab does: SIGTERM, a grace period, then SIGKILL; always reaped."""

from __future__ import annotations

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
