"""Experiments through the CLI's one runner, on the real cluster: the JSON result carries its run (id,
times, cluster facts) and reads back into its type; a sweep is one command; a broker-changing scenario
is refused while another holds the cluster; Ctrl-C prints what was measured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lab.cli import main
from lab.cluster import LocalCluster
from lab.core.codec import from_jsonable
from lab.core.context import poll_until
from lab.kafka import topics
from lab.producer.run import ProduceResult
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepResult

ROOT = Path(__file__).resolve().parents[2]


def test_bench_produce_json_is_a_stamped_result_that_reads_back(cluster: LocalCluster,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["producer", "run", "--count", "2000", "--json", "--state-dir", str(cluster.state_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["delivered"] == 2000 and data["stopped"] is None
    run = data["run"]
    st = cluster.status()
    assert run["experiment"] == "produce" and run["face"] == "cli" and len(run["run_id"]) > 10
    assert run["cluster"]["cluster_id"] == st.cluster_id and run["cluster"]["broker_count"] == 3
    assert run["cluster"]["kafka_version"] == st.kafka_version and run["started_at"] < run["ended_at"]
    back = from_jsonable(ProduceResult, data)
    assert isinstance(back, ProduceResult) and back.delivered == 2000 and back.run is not None
    # every acknowledgement has one latency: in the summary, or in the warm-up's when the run outlasted it
    assert back.latency.count + (back.warmup.latency.count if back.warmup else 0) == 2000


def test_a_sweep_is_one_command(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["producer", "acks", "--count", "300", "--repeats", "2", "--no-fixed-rate", "--json", "--quiet",
                 "--state-dir", str(cluster.state_dir)]) == 0
    back = from_jsonable(SweepResult, json.loads(capsys.readouterr().out))
    assert [r.settings.acks for r in back.runs] == ["0", "1", "all"]
    assert back.run is not None and back.run.experiment == "produce.sweep"
    # each cell twice (the second round in reverse order): medians with the repeats' spread
    assert [len(c) for c in back.repeats] == [2, 2, 2] and not back.fixed
    assert [{r.settings.acks for r in c} for c in back.repeats] == [{"0"}, {"1"}, {"all"}]
    for row in back.rows():
        assert row["repeats"] == 2 and row["msgs_per_s_lo"] <= row["msgs_per_s"] <= row["msgs_per_s_hi"]


@pytest.mark.breaks_brokers  # holds the lab's cluster lock: another worker's broker command would be refused
def test_a_scenario_is_refused_while_another_holds_the_cluster(cluster: LocalCluster,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with cluster.exclusive("the other scenario", face="app"):
        code = main(["replication", "min-isr", "--messages", "3", "--state-dir", str(cluster.state_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert "The cluster is busy: the other scenario (started from the app" in err and "Traceback" not in err
    assert all(b.state.value == "running" for b in cluster.status().brokers)


@pytest.mark.alone_on_cluster  # waits for records in any new lab-produce-* topic: another worker's run would do
def test_ctrl_c_prints_what_was_measured(cluster: LocalCluster, tmp_path: Path) -> None:
    out_path = tmp_path / "out.json"
    env = {**os.environ, "KAFKA_LAB_STATE_DIR": str(cluster.state_dir)}
    env.pop("KAFKA_LAB_BOOTSTRAP", None)
    before = set(cluster.admin().list_topics(timeout=5).topics)  # other tests' runs may leave theirs a moment
    parts = ProducerSettings().partitions

    def records_flow() -> bool:
        mine = [t for t in cluster.admin().list_topics(timeout=5).topics
                if t.startswith("lab-produce-") and t not in before]
        return any((topics.topic_message_count(cluster, t, parts, settle_s=0) or 0) > parts for t in mine)

    with out_path.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "producer", "run", "--duration", "600",
                                 "--rate", "500", "--json"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE,
                                text=True)
    try:
        # wait for the run to be under way (its own topic holds records beyond the primed ones), then interrupt it;
        # the run is long (600 s) so a slow start on a busy machine cannot let it end by itself first
        assert poll_until(records_flow, 60, every_s=0.5)
        poll_until(lambda: proc.poll() is not None, 3.0, every_s=0.5)  # a few seconds of records
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    data = json.loads(out_path.read_text())
    assert data["stopped"] == "stopped early: interrupted (Ctrl-C)"
    assert 0 < data["delivered"] < 600 * 500 and data["run"]["run_id"]  # ended by the Ctrl-C, not its duration
