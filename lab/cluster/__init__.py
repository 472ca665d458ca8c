"""Clusters the lab can use, behind one interface; ``from_env()`` picks the one the user asked for.

Selection (first match wins): an explicit ``bootstrap`` / ``KAFKA_LAB_BOOTSTRAP`` -> external;
``KAFKA_LAB_BACKEND=compose`` -> the docker-compose cluster; otherwise the local cluster.
"""

from __future__ import annotations

import os

from lab.cluster.base import (
    BrokerAction,
    BrokerInfo,
    BrokerState,
    Cluster,
    ClusterStatus,
    UpReport,
)
from lab.cluster.external import ExternalCluster
from lab.cluster.local import LAB_BROKER_SETTINGS, LocalCluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION
from lab.core.errors import SettingsError

BACKENDS = ("local", "compose", "external")

__all__ = [
    "BACKENDS",
    "DEFAULT_KAFKA_VERSION",
    "LAB_BROKER_SETTINGS",
    "BrokerAction",
    "BrokerInfo",
    "BrokerState",
    "Cluster",
    "ClusterStatus",
    "ExternalCluster",
    "LocalCluster",
    "UpReport",
    "from_env",
]


def from_env(
    bootstrap: str | None = None,
    backend: str | None = None,
    state_dir: str | None = None,
    version: str | None = None,
    security: str | None = None,
) -> Cluster:
    """The cluster named by arguments, else by ``KAFKA_LAB_*`` environment variables, else local.

    ``security`` ("plaintext" or "sasl_ssl") is for making a new local cluster (`cluster up --security`);
    any other backend refuses it: its security is whatever its brokers have, set through the client config.
    """
    bootstrap = bootstrap or os.environ.get("KAFKA_LAB_BOOTSTRAP") or None
    backend = (backend or os.environ.get("KAFKA_LAB_BACKEND") or ("external" if bootstrap else "local")).lower()
    if backend not in BACKENDS:
        raise SettingsError(f"Unknown backend {backend!r}.", hint=f"Choose one of {', '.join(BACKENDS)}.")
    if security is not None and backend != "local":
        raise SettingsError(f"--security is for the lab's own local cluster, not the {backend} backend.",
                            hint="For a secured external cluster give its client settings in a file named by "
                            "KAFKA_LAB_CLIENT_CONFIG (see README, 'Secured cluster').")
    if backend == "external":
        if not bootstrap:
            raise SettingsError("The external backend needs bootstrap servers.",
                                hint="Pass --bootstrap host:port or set KAFKA_LAB_BOOTSTRAP.")
        return ExternalCluster(bootstrap)
    if backend == "compose":
        from lab.cluster.compose import ComposeCluster

        compose: Cluster = ComposeCluster()
        return compose
    return LocalCluster(
        state_dir or os.environ.get("KAFKA_LAB_STATE_DIR") or None,
        version=version or os.environ.get("KAFKA_LAB_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION,
        security=security,
    )
