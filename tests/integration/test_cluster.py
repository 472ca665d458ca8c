"""The local backend against real brokers: registration, ISR under stop/pause, idempotent topics."""

from __future__ import annotations

import re
import subprocess
import time

import psutil
import pytest

from lab.cluster import BrokerState, LocalCluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, ensure_runtime
from lab.core.context import poll_until
from lab.core.errors import ClusterError
from lab.kafka import admin
from lab.kafka.specs import TopicSpec

#: ISR changes are driven by replica.lag.time.max.ms (3 s in tests) and the broker session timeout.
ISR_WAIT_S = 30.0


def isr_sizes(cluster: LocalCluster, topic: str) -> list[int]:
    return [len(p.isr) for p in admin.describe_topics(cluster, [topic], with_configs=False)[0].partitions]


def wait_for(pred, timeout_s: float = ISR_WAIT_S, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


def test_three_brokers_registered(cluster: LocalCluster) -> None:
    st = cluster.status()
    assert st.reachable
    assert [b.node_id for b in st.brokers] == [1, 2, 3]
    assert all(b.state is BrokerState.RUNNING and b.registered for b in st.brokers)
    assert st.cluster_id and st.controller_id in (1, 2, 3)


def test_controller_is_the_quorums_active_controller_as_kafkas_tool_says(cluster: LocalCluster) -> None:
    # metadata's controller id is a random live broker under KRaft; the lab reads the active one from JMX
    seen = {cluster.status().controller_id for _ in range(4)}
    assert len(seen) == 1 and seen <= {1, 2, 3}, seen
    rt = ensure_runtime(cluster.status().kafka_version or DEFAULT_KAFKA_VERSION, with_jolokia=False)
    out = subprocess.run([rt.java, "-cp", rt.classpath, "org.apache.kafka.tools.MetadataQuorumCommand",
                          "--bootstrap-server", cluster.bootstrap_servers(), "describe", "--status"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    leader = re.search(r"LeaderId:\s+(\d+)", out)
    assert leader is not None, out
    assert int(leader.group(1)) == seen.pop()


def test_only_loopback_is_bound(cluster: LocalCluster) -> None:
    pids = {b.pid for b in cluster.status().brokers}
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                assert conn.laddr.ip == "127.0.0.1", conn


def test_up_on_running_cluster_is_a_noop(cluster: LocalCluster) -> None:
    pids = [b.pid for b in cluster.status().brokers]
    report = cluster.up()
    assert report.already_running and report.started_nodes == ()
    assert [b.pid for b in report.status.brokers] == pids


def test_rf3_topic_has_isr_of_three(cluster: LocalCluster, topic_name: str) -> None:
    admin.create_topics(cluster, [TopicSpec(topic_name, 3, 3)])
    assert wait_for(lambda: isr_sizes(cluster, topic_name) == [3, 3, 3])


def test_stop_shrinks_isr_and_start_restores_it(whole_cluster: LocalCluster, topic_name: str) -> None:
    c = whole_cluster
    admin.create_topics(c, [TopicSpec(topic_name, 3, 3)])
    wait_for(lambda: isr_sizes(c, topic_name) == [3, 3, 3])
    assert c.broker("stop", 2).state is BrokerState.STOPPED
    assert wait_for(lambda: isr_sizes(c, topic_name) == [2, 2, 2])
    assert c.broker("start", 2).state is BrokerState.RUNNING
    assert wait_for(lambda: isr_sizes(c, topic_name) == [3, 3, 3])


def test_pause_shrinks_isr_and_resume_restores_it(whole_cluster: LocalCluster, topic_name: str) -> None:
    c = whole_cluster
    admin.create_topics(c, [TopicSpec(topic_name, 3, 3)])
    wait_for(lambda: isr_sizes(c, topic_name) == [3, 3, 3])
    # ask a broker that stays up: a paused one would not answer
    assert c.broker("pause", 3).state is BrokerState.PAUSED
    assert wait_for(lambda: isr_sizes(c, topic_name) == [2, 2, 2])
    assert c.broker("resume", 3).state is BrokerState.RUNNING
    assert wait_for(lambda: isr_sizes(c, topic_name) == [3, 3, 3])


def test_kill_then_start_keeps_data(whole_cluster: LocalCluster, topic_name: str) -> None:
    c = whole_cluster
    admin.wait_for_brokers(c, 3)  # a broker a test before restarted may still be re-registering
    admin.create_topics(c, [TopicSpec(topic_name, 1, 3)])
    pid = c.status().brokers[0].pid
    assert c.broker("kill", 1).state is BrokerState.STOPPED
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert c.broker("start", 1).state is BrokerState.RUNNING
    assert topic_name in {t.name for t in admin.describe_topics(c, with_configs=False)}


def test_create_topics_twice_is_harmless_and_configs_are_set(cluster: LocalCluster, topic_name: str) -> None:
    spec = TopicSpec(topic_name, 2, 3, {"segment.bytes": "1048576", "cleanup.policy": "compact",
                                         "min.insync.replicas": "2"})
    first = admin.create_topics(cluster, [spec])
    second = admin.create_topics(cluster, [spec])
    assert [o.action for o in first] == ["created"] and [o.action for o in second] == ["exists"]
    configs = admin.topic_configs(cluster, [topic_name])[topic_name]
    assert configs == {"segment.bytes": "1048576", "cleanup.policy": "compact", "min.insync.replicas": "2"}


def test_lab_topics_catalogue_creates(cluster: LocalCluster) -> None:
    admin.create_topics(cluster)
    wanted = {s.name for s in admin.LAB_TOPICS}
    names: set[str] = set()

    def all_listed() -> bool:  # each describe may ask another broker, whose metadata can trail by a moment
        names.clear()
        names.update(t.name for t in admin.describe_topics(cluster, with_configs=False))
        return wanted <= names

    poll_until(all_listed, 30, every_s=0.2)
    assert wanted <= names
    rd = admin.describe_topics(cluster, ["lab-replication-demo"])[0]
    assert rd.configs["min.insync.replicas"] == "2" and all(len(p.replicas) == 3 for p in rd.partitions)


def test_a_process_that_attaches_keeps_the_cluster_s_broker_settings(cluster: LocalCluster) -> None:
    """The app and the CLI attach by state directory alone; a broker they restart must keep the test settings."""
    attached = LocalCluster(cluster.state_dir)
    assert attached.status().broker_settings["replica.lag.time.max.ms"] == "3000"


@pytest.mark.breaks_brokers  # broker("stop", 7) takes the lab's cluster lock before it finds there is no broker 7
def test_controls_on_unknown_broker_say_which_exist(cluster: LocalCluster) -> None:
    with pytest.raises(ClusterError, match="numbered 1, 2, 3"):
        cluster.broker("stop", 7)


def test_down_leaves_no_process(tmp_path) -> None:
    """A second, throwaway cluster: down must leave no JVM behind."""
    c = LocalCluster(tmp_path / "c2", preferred_ports=None)
    c.up(timeout_s=180)
    pids = [b.pid for b in c.status().brokers]
    assert len(pids) == 3 and all(pids)
    c.down(purge=True)
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / "c2").exists()
