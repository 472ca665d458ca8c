"""`kafka-lab consumer …` on the real cluster: seed and benchmark through the CLI's one runner, the JSON
reads back into its result type, and bad input is refused with what is allowed."""

from __future__ import annotations

import json
import uuid

import pytest

from lab.cli import main
from lab.cluster import LocalCluster
from lab.consumer.fetch import BenchResult, SeedResult
from lab.core.codec import from_jsonable
from lab.kafka import topics


def test_seed_then_benchmark_json(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    topic = f"t-cli-consumer-{uuid.uuid4().hex[:8]}"
    state = ["--state-dir", str(cluster.state_dir), "--json"]
    try:
        assert main(["consumer", "seed", "--topic", topic, "--messages", "2000", "--partitions", "2", *state]) == 0
        seeded = from_jsonable(SeedResult, json.loads(capsys.readouterr().out))
        assert seeded.written == 2000 and seeded.run is not None and seeded.run.experiment == "consumer.seed"
        assert main(["consumer", "benchmark", "--topic", topic, "--profile", "high throughput", "--count", "2000",
                     *state]) == 0
        r = from_jsonable(BenchResult, json.loads(capsys.readouterr().out))
        assert r.consumed == 2000 and r.settings.consumer.fetch_min_bytes == 10_240
        assert r.run is not None and r.run.experiment == "consumer.benchmark"
    finally:
        topics.delete_topic(cluster, topic)


def test_bad_fetch_setting_says_what_is_allowed(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumer", "benchmark", "--fetch-min-bytes", "0", "--state-dir", str(cluster.state_dir)]) == 2
    err = capsys.readouterr().err
    assert "fetch.min.bytes=0 is out of range" in err and "1 to 100,000,000" in err


def test_benchmark_with_two_members_json(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    topic = f"t-cli-members-{uuid.uuid4().hex[:8]}"
    state = ["--state-dir", str(cluster.state_dir), "--json"]
    try:
        assert main(["consumer", "benchmark", "--topic", topic, "--count", "2000", "--members", "2", *state]) == 0
        r = from_jsonable(BenchResult, json.loads(capsys.readouterr().out))
        assert r.settings.members == 2 and r.processes == 2
        # (how the seed's 2 000 records fall on the 6 partitions is the producer's partitioner's: a member may get
        # none of them, so only the sum is the scenario's guarantee; test_consume_members fills every partition)
        assert r.consumed == sum(m.consumed for m in r.members) == 2000
        assert len(r.members) == 2 and not any(m.died for m in r.members), r.members
    finally:
        topics.delete_topic(cluster, topic)


def test_members_beyond_the_partitions_refused(cluster: LocalCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumer", "benchmark", "--members", "0", "--state-dir", str(cluster.state_dir)]) == 2
    err = capsys.readouterr().err
    assert "members=0 is out of range" in err and "whole number from 1" in err
