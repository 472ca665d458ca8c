"""The unclean-election fault on Kafka 3.9 and 4.x side by side: the session's cluster, then a second lab
cluster of the other version that the experiment starts (the session cluster's broker settings) and stops and
deletes at the end. The most expensive test of the replication lab: small counts, one run. Like the protocols
comparison's, it runs in the version-sensitive session on 3.9 (``KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2 pytest -m
version_sensitive``, where the second cluster is the default 4.x); on the default 4.x session the unclean
scenario's own test covers the ELR side."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cluster import BrokerState, LocalCluster
from lab.core import context as experiment
from lab.core.context import poll_until
from lab.kafka import admin
from lab.replication import elr
from lab.replication.settings import UncleanSettings

pytestmark = pytest.mark.version_sensitive

BEFORE, MISSED, AFTER = 5, 15, 5


def whole(c: LocalCluster) -> bool:
    return [(b.state, b.registered) for b in c.status().brokers] == [(BrokerState.RUNNING, True)] * 3


def test_same_fault_on_39_and_4x(whole_cluster: LocalCluster, topic_name: str, tmp_path: Path) -> None:
    if whole_cluster.version.split(".")[0] != "3":
        pytest.skip("the session's cluster runs Kafka 4.x; run with KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2 -m "
                    "version_sensitive (the second cluster is then the default 4.x)")
    # the controller elects the unclean topic's lagging replica once it has fenced the crashed broker: give it
    # two broker sessions before asking for the election (the scenario says which happened)
    session_s = int(admin.broker_config(whole_cluster, 1, "broker.session.timeout.ms") or 9000) / 1000
    scenario = UncleanSettings(topic_name[:200], 1, 2, BEFORE, MISSED, AFTER, election_wait_s=2 * session_s)
    second_dir = tmp_path / "other"
    settings = elr.VersionsSettings(scenario, other_state_dir=str(second_dir))
    res = experiment.run_sync(lambda ctx: elr.compare_versions(whole_cluster, settings, ctx),
                              time_limit_s=elr.time_limit_for(settings))
    assert res.stopped is None, res.stopped
    assert not second_dir.exists()  # the second cluster was stopped and its data deleted
    versions = [r.kafka_version for r in res.runs]
    assert versions[0] == res.app_version and versions[1] == res.other_version == elr.other_version(res.app_version)
    by_major = {v.kafka_version.split(".")[0]: v for v in res.verdicts()}
    assert set(by_major) == {"3", "4"}
    old, new = by_major["3"], by_major["4"]
    # 3.9: no ELR, the ISR keeps the crashed leader; 4.x: the ISR empties and the crashed leader is in the ELR
    assert old.elr is False and old.clean.via == elr.VIA_ISR and old.clean.isr_emptied is False
    assert new.elr is True and new.clean.via == elr.VIA_ELR and new.clean.isr_emptied is True
    for v in (old, new):  # clean: nothing acknowledged lost; unclean: exactly what the lagging replica missed
        assert v.clean.lost == 0 and v.clean.read_back == BEFORE + MISSED
        assert v.unclean.via == elr.VIA_UNCLEAN and v.unclean.lost == MISSED
        assert v.unclean.read_back == BEFORE + AFTER
    assert poll_until(lambda: whole(whole_cluster), 30, every_s=0.5)
