"""A second lab cluster beside the app's: another Kafka version (or the same), in its own state directory, on
free ports, so two versions can be compared on one machine.

Used by the consumer protocols comparison (a 4.x cluster for a 3.x app cluster, started by the person and
left running) and by the replication version comparison (started, used and stopped by the experiment:
``owned``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from lab.cluster.base import Cluster
from lab.cluster.local import LocalCluster
from lab.cluster.local_config import LAB_BROKER_SETTINGS
from lab.cluster.lock import ClusterLease

#: How long starting a second cluster may take (a first start of a version downloads its jars).
START_TIMEOUT_S = 240.0


def second_cluster(state_dir: str | Path, version: str, broker_overrides: dict[str, str] | None = None) -> LocalCluster:
    """The lab's cluster of ``version`` in ``state_dir`` (free ports); not started. A state dir made earlier
    keeps its own version (``up`` says so when it differs)."""
    return LocalCluster(Path(state_dir).expanduser(), version=version, preferred_ports=None,
                        broker_overrides=dict(broker_overrides or {}))


def state_dir_from(env: str, default: str) -> str:
    """``$env``, else ``default`` (a path with ``~``)."""
    return os.environ.get(env) or default


def running_version(cluster: Cluster) -> str | None:
    """The Kafka version ``cluster`` runs when it answers with brokers registered, else None (never raises)."""
    try:
        st = cluster.status()
    except Exception:  # noqa: BLE001 - a cluster that cannot say is not running
        return None
    return (st.kafka_version or "unknown") if st.reachable and st.brokers else None


def major(version: str | None) -> int | None:
    head = (version or "").split(".")[0]
    return int(head) if head.isdigit() else None


def lab_overrides(cluster: Cluster) -> dict[str, str]:
    """The broker settings of ``cluster`` that differ from the lab's own (e.g. a test cluster's shorter
    timeouts), to start a second cluster that behaves the same."""
    try:
        settings = cluster.status().broker_settings or {}
    except Exception:  # noqa: BLE001 - an unknown cluster: the lab's settings alone
        return {}
    return {k: v for k, v in settings.items() if LAB_BROKER_SETTINGS.get(k) != v}


@contextlib.contextmanager
def owned(cluster: LocalCluster, what: str, *, face: str = "cli",
          timeout_s: float = START_TIMEOUT_S) -> Iterator[ClusterLease]:
    """Start ``cluster``, hold its lock while the caller uses it, then stop it and delete its state
    directory, however the block ends. Yields the lease to pass to ``cluster.broker(..., lease=)``."""
    with cluster.exclusive(what, face=face) as lease:
        try:
            cluster.up(timeout_s, lease=lease, face=face)
            yield lease
        finally:  # also after a start that failed half-way: its brokers are stopped too
            cluster.down(purge=True, lease=lease, face=face)
