"""`kafka-lab` against the real cluster: every Phase 1 command, with --json parsed back."""

from __future__ import annotations

import json

import pytest

from lab.cli import main
from lab.cluster import LocalCluster


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_cluster_status_and_up_json(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    sd = str(cluster.state_dir)
    st = run_json(capsys, "cluster", "status", "--json", "--state-dir", sd)
    assert st["backend"] == "local" and st["reachable"] is True
    assert [b["state"] for b in st["brokers"]] == ["running"] * 3
    assert st["broker_settings"]["min.insync.replicas"] == "2"
    up = run_json(capsys, "cluster", "up", "--json", "--state-dir", sd)
    assert up["already_running"] is True


def test_topics_create_and_describe_json(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    sd = str(cluster.state_dir)
    created = run_json(capsys, "topics", "create", "--json", "--state-dir", sd)
    assert {c["name"] for c in created} >= {"lab-replication-demo", "lab-compacted-demo"}
    described = run_json(capsys, "topics", "describe", "lab-replication-demo", "--json", "--state-dir", sd)
    (topic,) = described
    assert topic["configs"]["min.insync.replicas"] == "2"
    assert all(len(p["replicas"]) == 3 for p in topic["partitions"])


def test_broker_pause_resume_json(whole_cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    sd = str(whole_cluster.state_dir)
    assert run_json(capsys, "broker", "pause", "2", "--json", "--state-dir", sd)["state"] == "paused"
    assert run_json(capsys, "broker", "resume", "2", "--json", "--state-dir", sd)["state"] == "running"


@pytest.mark.breaks_brokers  # `broker stop 9` takes the lab's cluster lock before it finds there is no broker 9
def test_errors_are_one_message_and_exit_2(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    sd = str(cluster.state_dir)
    assert main(["topics", "describe", "no-such-topic", "--state-dir", sd]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No such topic(s): no-such-topic.") and "Traceback" not in err
    assert main(["broker", "stop", "9", "--json", "--state-dir", sd]) == 2
    payload = json.loads(capsys.readouterr().err)
    assert payload["type"] == "ClusterError" and "numbered 1, 2, 3" in payload["hint"]
