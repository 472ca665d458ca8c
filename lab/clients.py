"""One place that builds confluent-kafka clients, so every client gets the cluster's connection
settings and librdkafka's log lines go to Python logging instead of the terminal or the page."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

if TYPE_CHECKING:
    from lab.cluster.base import Cluster

#: librdkafka logs every refused connection at error level; while a broker is down that is a flood.
CLIENT_LOGGER = logging.getLogger("lab.kafka")
# A library's logger: silent unless the app configures logging (else Python prints WARNING+ to stderr,
# e.g. "FAIL ... Connection refused" in the middle of `kafka-lab cluster up` output).
CLIENT_LOGGER.addHandler(logging.NullHandler())


def _with_logger(cfg: dict[str, Any]) -> dict[str, Any]:
    return {**cfg, "logger": CLIENT_LOGGER}


def producer(cluster: Cluster, overrides: dict[str, Any] | None = None) -> Producer:
    return Producer(_with_logger({**cluster.client_config(), **(overrides or {})}))


def consumer(cluster: Cluster, overrides: dict[str, Any]) -> Consumer:
    return Consumer(_with_logger({**cluster.client_config(), **overrides}))


def admin(cluster: Cluster, overrides: dict[str, Any] | None = None) -> AdminClient:
    return AdminClient(_with_logger({**cluster.client_config(), **(overrides or {})}))
