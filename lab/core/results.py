"""What every experiment's result shares, so any result can be stored, compared, exported and re-run.

Each experiment returns its own frozen dataclass (``ProduceResult``, ``MinIsrResult``, …) that derives
from ``Result``: its own settings, samples and summary, plus two keyword fields every result has —

- ``stopped``: why the run ended early (cancelled, time limit, a failure part-way), or None when it
  finished. One convention everywhere: a stopped run *returns* what it measured; it does not raise.
- ``run``: a ``RunInfo`` (run id, experiment name, start and end wall-clock time, the face that
  started it, the cluster's facts), stamped by the runner when the run ends, so experiment functions
  need not build it.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar


@dataclass(frozen=True)
class ClusterFacts:
    """Which cluster a run ran on: enough to tell two runs' clusters apart and to label a chart."""

    backend: str
    bootstrap_servers: str
    cluster_id: str | None = None
    kafka_version: str | None = None
    broker_count: int = 0


def now_iso() -> str:
    """Wall-clock time, UTC, ISO 8601 with milliseconds (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    """Sortable by start time, unique: ``20261201T233959-1a2b3c``."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class RunInfo:
    """When, where and from which face a run ran; the store's key is ``run_id``."""

    run_id: str
    experiment: str
    started_at: str
    ended_at: str
    cluster: ClusterFacts
    #: "app", "cli", "test", "benchmark"
    face: str = "cli"
    #: wall-clock seconds from start to end, as the runner saw them
    elapsed_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Result:
    """Base of every experiment result (see the module docstring)."""

    stopped: str | None = None
    run: RunInfo | None = None


R = TypeVar("R", bound=Result)


def stamp(result: R, info: RunInfo, stopped: str | None = None) -> R:
    """The result with its ``RunInfo`` (and a ``stopped`` reason when it had none but the run was stopped)."""
    changes: dict[str, Any] = {"run": info}
    if stopped and not result.stopped:
        changes["stopped"] = stopped
    return dataclasses.replace(result, **changes)
