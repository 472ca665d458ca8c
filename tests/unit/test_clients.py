"""``lab.cluster.clients`` builds every Kafka client from librdkafka settings or from anything that has them (a
``Cluster``), and knows nothing of ``lab.cluster`` (no import cycle: the cluster builds its clients here)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException

from lab.cluster import ExternalCluster, clients

#: Nothing listens on port 1: clients are built, never connected.
NOWHERE = "127.0.0.1:1"


class Source:
    """Not a Cluster: just something with a ``client_config()``."""

    def client_config(self) -> Mapping[str, Any]:
        return {"bootstrap.servers": NOWHERE, "client.id": "from-the-object"}


def test_settings_from_a_mapping_or_an_object_then_the_overrides() -> None:
    from_map = clients.client_settings({"bootstrap.servers": NOWHERE, "acks": "1"}, {"acks": "all"})
    assert from_map == {"bootstrap.servers": NOWHERE, "acks": "all", "logger": clients.CLIENT_LOGGER}
    from_obj = clients.client_settings(Source(), {"linger.ms": 5})
    assert from_obj == {"bootstrap.servers": NOWHERE, "client.id": "from-the-object", "linger.ms": 5,
                        "logger": clients.CLIENT_LOGGER}
    cluster = ExternalCluster(NOWHERE, security={"security.protocol": "SSL"})
    assert clients.client_settings(cluster) == clients.client_settings(cluster.client_config())
    assert clients.client_settings(cluster)["security.protocol"] == "SSL"


@pytest.mark.parametrize("source", [{"bootstrap.servers": NOWHERE}, Source()], ids=["mapping", "object"])
def test_the_settings_reach_librdkafka(source: Any) -> None:
    """librdkafka itself refuses an unknown property: proof that source and overrides are what it got."""
    for build in (clients.admin, clients.producer, lambda s, o: clients.consumer(s, {"group.id": "g", **o})):
        with pytest.raises(KafkaException, match="no.such.property"):
            build(source, {"no.such.property": "1"})


def test_clients_is_a_leaf_of_the_house() -> None:
    """The cluster backends build their clients through this module, so it imports no other lab module."""
    tree = ast.parse((Path(clients.__file__)).read_text())
    lab_imports = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom | ast.Import)
                   and any(name.startswith("lab") for name in ([n.module or ""] if isinstance(n, ast.ImportFrom)
                                                                  else [a.name for a in n.names]))]
    assert lab_imports == []
