"""KIP-848 on a Kafka 4.x cluster with the lab's lowered group.consumer.* settings: with
group.protocol=consumer a join and a leave revoke only what moves. On the default (4.x) version that is the
session's cluster; with the session on 3.9 (``KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2``) it is the lab's second,
4.x cluster that this module starts through the lab's own launcher, and on the 3.9 one the experiment says
why it cannot run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.cluster import LocalCluster
from lab.consumer import protocols
from lab.consumer.protocols import ProtocolsSettings
from lab.consumer.strategies import StrategiesSettings
from lab.core.context import RunContext
from lab.core.errors import SettingsError

pytestmark = pytest.mark.version_sensitive


@pytest.fixture(scope="module")
def cluster4x(shared_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """The session's cluster when it runs 4.x (as by default), else the lab's second, 4.x cluster."""
    if protocols.is_running_4x(shared_cluster):
        yield shared_cluster
        return
    c = protocols.protocol_cluster(Path(tmp_path_factory.mktemp("kafka-4x")))
    assert isinstance(c, LocalCluster)
    try:
        c.up(timeout_s=240)
        yield c
    finally:
        c.down(purge=True)


def test_consumer_protocol_moves_only_what_must_move(cluster4x: LocalCluster) -> None:
    s = ProtocolsSettings(StrategiesSettings(strategies=("range",), members=2, partitions=(5, 3), produce_rate=50,
                                             hold_s=0.3), protocols=("consumer",))
    r = protocols.compare(cluster4x, s, RunContext(180))
    assert r.stopped is None, r.stopped
    assert r.kafka_version.startswith("4.")
    assert r.broker_configs["group.consumer.heartbeat.interval.ms"] == "1000"
    run = r.runs[0]
    assert run.strategy == "consumer/uniform" and len(run.rebalances) == 2
    for rows in run.tables.values():
        owned = [p for a in rows for p in a.partitions]
        assert len(owned) == len(set(owned)) == 8
    for f in run.rebalances:
        assert f.revoked_unmoved == 0, f
    join = run.rebalances[0]
    assert join.member_empty_s["m0"] == 0.0 and join.member_empty_s["m1"] == 0.0


def test_on_3_9_it_says_it_needs_kafka_4(cluster: LocalCluster) -> None:
    if protocols.is_running_4x(cluster):
        pytest.skip("the session's cluster runs Kafka 4.x; run with KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2")
    with pytest.raises(SettingsError) as info:
        protocols.compare(cluster, ProtocolsSettings(), RunContext(30))
    assert "needs brokers on Kafka 4.0 or later" in info.value.message and "--start-cluster" in (info.value.hint or "")
