"""One place that builds confluent-kafka clients, so every client gets the cluster's connection
settings and librdkafka's log lines go to Python logging instead of the terminal or the page.

Each builder takes where to connect as either librdkafka settings (``{"bootstrap.servers": ...}``, e.g.
``cluster.client_config()``) or anything with a ``client_config()`` method (a ``Cluster``), then the
overrides of this one client::

    clients.producer(cluster, {"acks": "all"})
    clients.admin({"bootstrap.servers": "127.0.0.1:9092"})

This module knows nothing of ``lab.cluster`` (which builds its own clients through it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

#: librdkafka logs every refused connection at error level; while a broker is down that is a flood.
CLIENT_LOGGER = logging.getLogger("lab.kafka")
# A library's logger: silent unless the app configures logging (else Python prints WARNING+ to stderr,
# e.g. "FAIL ... Connection refused" in the middle of `kafka-lab cluster up` output).
CLIENT_LOGGER.addHandler(logging.NullHandler())


class HasClientConfig(Protocol):
    """Anything that knows the librdkafka settings its clients need (every ``Cluster`` does)."""

    def client_config(self) -> Mapping[str, Any]: ...


#: Where a client connects: the settings themselves, or something that has them.
ClientSource: TypeAlias = Mapping[str, Any] | HasClientConfig


def client_settings(source: ClientSource, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full settings of one client: the source's, then ``overrides``, then the lab's logger."""
    base = source if isinstance(source, Mapping) else source.client_config()
    return {**base, **(overrides or {}), "logger": CLIENT_LOGGER}


def producer(source: ClientSource, overrides: Mapping[str, Any] | None = None) -> Producer:
    return Producer(client_settings(source, overrides))


def consumer(source: ClientSource, overrides: Mapping[str, Any]) -> Consumer:
    return Consumer(client_settings(source, overrides))


def admin(source: ClientSource, overrides: Mapping[str, Any] | None = None) -> AdminClient:
    return AdminClient(client_settings(source, overrides))
