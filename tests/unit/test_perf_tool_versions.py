"""Kafka's perf tools by version: the flags each version takes (4.2 renamed them, KIP-1147, and gave the producer
tool its warm-up, KIP-1052), the output each version prints (copied from runs of 3.9.2's and 4.4.0's tools on the
lab's cluster), how many warm-up records the tool is given, and whose tool runs on which cluster."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lab.cluster.external import ExternalCluster
from lab.cluster.local import LocalCluster
from lab.consumer import perftest as consume_perf
from lab.consumer.settings import ConsumerSettings
from lab.core.errors import SettingsError
from lab.core.stats import LatencySummary
from lab.kafka.tools import tool_version, version_at_least
from lab.producer import perftest
from lab.producer.run import WARMUP_S, WarmupSummary
from lab.producer.settings import ProducerSettings
from tests.unit.test_produce_codec import produce_result

SETTINGS = ProducerSettings(acks="1", compression="lz4", linger_ms=10, batch_size=65_536, count=500, rate=100)

#: 4.4.0's ProducerPerformance with --warmup-records 50000 (interval lines shortened to three)
PERF_44_WARMUP = """\
Warmup first 50000 records. Steady state results will print after the complete test summary.
1 records sent, 0.5 records/sec (0.00 MB/sec), 2166.0 ms avg latency, 2166.0 ms max latency.
In steady state.
1480 records sent, 1468.3 records/sec (0.14 MB/sec), 7345.2 ms avg latency, 8127.0 ms max latency.
32115 records sent, 31987.1 records/sec (3.05 MB/sec), 12373.1 ms avg latency, 12894.0 ms max latency.
300000 records sent, 11806.375443 records/sec (1.13 MB/sec), 10875.54 ms avg latency, 14095.00 ms max latency, \
12162 ms 50th, 13431 ms 95th, 14052 ms 99th, 14091 ms 99.9th.
250000 steady state records sent, 11065.374231 records/sec (1.06 MB/sec), 12140.33 ms avg latency, 14095.00 ms \
max latency, 12410 ms 50th, 13458 ms 95th, 14061 ms 99th, 14091 ms 99.9th.
"""

#: ConsumerPerformance's header and line: the same in 3.9.2 and 4.4.0
CONSUMER_39 = """\
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, \
fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-06 16:13:00:283, 2026-12-06 16:13:07:783, 9.5367, 1.2716, 100000, 13333.3333, 4304, 3196, 2.9840, 31289.1114
"""
CONSUMER_44 = """\
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, \
fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-06 16:12:43:646, 2026-12-06 16:12:51:658, 9.5599, 1.1932, 100243, 12511.6076, 2286, 5726, 1.6696, 17506.6364
"""


def test_version_threshold() -> None:
    assert version_at_least("4.2.0", (4, 2)) and version_at_least("4.4.0", (4, 2)) and version_at_least("5.0.1", (4, 2))
    assert not version_at_least("4.1.1", (4, 2)) and not version_at_least("3.9.2", (4, 2))


def test_producer_args_on_4x_use_the_new_flags_and_the_warm_up() -> None:
    args = perftest.perf_args(SETTINGS, "t1", "h:1", Path("/tmp/p.txt"), kafka_version="4.4.0", warmup_records=100)
    assert args[:2] == ["--bootstrap-server", "h:1"]
    assert args[args.index("--warmup-records") + 1] == "100"
    assert "--producer-props" not in args
    props = args[args.index("--command-property") + 1:]
    assert "acks=1" in props and "compression.type=lz4" in props
    assert not any(p.startswith("bootstrap.servers=") for p in props)
    no_warmup = perftest.perf_args(SETTINGS, "t1", "h:1", None, kafka_version="4.2.0")
    assert "--warmup-records" not in no_warmup and "--command-property" in no_warmup


@pytest.mark.parametrize("version", ["3.9.2", "4.1.1"])
def test_producer_args_before_4_2_use_the_old_flags_and_no_warm_up(version: str) -> None:
    args = perftest.perf_args(SETTINGS, "t1", "h:1", None, kafka_version=version, warmup_records=100)
    assert "--bootstrap-server" not in args and "--command-property" not in args and "--warmup-records" not in args
    props = args[args.index("--producer-props") + 1:]
    assert "bootstrap.servers=h:1" in props and "acks=1" in props


def test_producer_warm_up_must_be_below_the_record_count() -> None:
    with pytest.raises(SettingsError, match="warmup_records=500"):
        perftest.perf_args(SETTINGS, "t1", "h:1", None, kafka_version="4.4.0", warmup_records=500)
    with pytest.raises(SettingsError, match="warmup_records=-1"):
        perftest.perf_args(SETTINGS, "t1", "h:1", None, kafka_version="4.4.0", warmup_records=-1)


def test_warm_up_records_match_what_the_lab_left_out() -> None:
    flat = ProducerSettings(count=100_000)
    lab = produce_result(flat)
    warmed = dataclasses.replace(lab, warmup=WarmupSummary(WARMUP_S, 4_321, 4_321.0, LatencySummary(100, *[1.0] * 6)))
    assert perftest.warmup_records_for(flat, warmed) == 4_321
    assert perftest.warmup_records_for(flat, lab) == 0, "a lab run over within its warm-up left nothing out"
    assert perftest.warmup_records_for(flat, None) == 0, "flat out, alone: nothing says how many one second holds"
    assert perftest.warmup_records_for(ProducerSettings(count=10_000, rate=2_000), None) == int(2_000 * WARMUP_S)
    assert perftest.warmup_records_for(ProducerSettings(count=1_000, rate=2_000), None) == 0, "not all of the run"


def test_steady_state_line_is_the_summary_and_the_whole_run_is_kept() -> None:
    out = perftest.parse_output(PERF_44_WARMUP)
    assert out.steady is not None and out.whole is not None and out.summary is out.steady
    assert out.steady.records == 250_000 and out.steady.p99_ms == 14_061
    assert out.whole.records == 300_000 and out.whole.p50_ms == 12_162
    assert [i.records for i in out.intervals] == [1, 1_480, 32_115]


@pytest.mark.parametrize("version,count_flag,config_flag", [
    ("3.9.2", "--messages", "--consumer.config"), ("4.1.1", "--messages", "--consumer.config"),
    ("4.2.0", "--num-records", "--command-config"), ("4.4.0", "--num-records", "--command-config"),
])
def test_consumer_args_per_version(version: str, count_flag: str, config_flag: str) -> None:
    args = consume_perf.perf_args(ConsumerSettings(topic="t"), 1_000, "h:1", "g", Path("/tmp/c.properties"), version)
    assert args[args.index(count_flag) + 1] == "1000" and args[args.index(config_flag) + 1] == "/tmp/c.properties"
    old = {"--messages", "--consumer.config"}
    assert (old & set(args)) == (old if count_flag == "--messages" else set())


@pytest.mark.parametrize("text,records,fetch_rate", [(CONSUMER_39, 100_000, 31289.1114),
                                                     (CONSUMER_44, 100_243, 17506.6364)])
def test_consumer_output_of_both_versions(text: str, records: int, fetch_rate: float) -> None:
    s = consume_perf.parse_output(text)
    assert s.records == records and s.fetch_records_per_s == fetch_rate


def test_the_tool_follows_the_cluster(tmp_path: Path) -> None:
    local = LocalCluster(tmp_path, version="3.9.2", preferred_ports=None)
    assert tool_version(local, None) == ("3.9.2", ())
    assert tool_version(local, "4.4.0") == ("4.4.0", ()), "a version asked for is used"
    version, notes = tool_version(ExternalCluster("127.0.0.1:1"), None)  # nothing listens: it cannot say
    assert version == perftest.DEFAULT_KAFKA_VERSION and "does not say which Kafka" in notes[0]
