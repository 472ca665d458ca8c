"""The producer experiments' pure parts: payloads, sweep variants, the perf tool's command and output."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lab.cli.app import build_parser as _build_parser
from lab.cli.producer import producer_settings as _producer_settings
from lab.core.codec import to_jsonable
from lab.core.errors import LabError, SettingsError
from lab.kafka.payloads import make_payloads
from lab.producer import perftest
from lab.producer.settings import CODECS, PRESETS, ProducerSettings
from lab.producer.sweep import BATCH_LINGERS_MS, BATCH_SIZES, SweepSettings, time_limit_for


@pytest.mark.parametrize("kind", ["text", "json", "random"])
def test_payloads_have_the_size_and_vary(kind: str) -> None:
    pool = make_payloads(kind, 300, n=16)
    assert len(pool) == 16 and all(len(p) == 300 for p in pool)
    assert len(set(pool)) > 1
    blob = b"".join(pool)
    ratio = len(blob) / len(gzip.compress(blob))
    if kind == "random":
        assert ratio < 1.05
    else:
        assert ratio > 2, "text and JSON payloads compress"
        assert b"\n" not in blob, "the perf tool's payload file is split on newlines"


def test_variants() -> None:
    base = ProducerSettings(count=100, message_size=50)
    assert [v.compression for v in SweepSettings("codec", base).variants()] == list(CODECS)
    grid = SweepSettings("batch", base, grid="full").variants()
    assert len(grid) == len(BATCH_LINGERS_MS) * len(BATCH_SIZES) == 25
    assert {(v.linger_ms, v.batch_size) for v in grid} == {(lg, b) for lg in BATCH_LINGERS_MS for b in BATCH_SIZES}
    acks = SweepSettings("acks", ProducerSettings(enable_idempotence=True)).variants()
    assert [(v.acks, v.enable_idempotence) for v in acks] == [("0", False), ("1", False), ("all", True)]
    presets = SweepSettings("presets", base).variants()
    assert [p.label for p in presets] == list(PRESETS)
    assert all(p.count == 100 and p.message_size == 50 for p in presets)
    assert time_limit_for(ProducerSettings(count=None, duration_s=10)) > 10


def test_perf_args() -> None:
    s = ProducerSettings(acks="1", compression="lz4", linger_ms=10, batch_size=65_536, count=500, rate=100)
    args = perftest.perf_args(s, "t1", "h:1", Path("/tmp/p.txt"))
    assert args[:8] == ["--bootstrap-server", "h:1", "--topic", "t1", "--num-records", "500", "--throughput", "100"]
    assert "--payload-file" in args
    props = args[args.index("--command-property") + 1:]
    assert "compression.type=lz4" in props and "acks=1" in props
    no_file = perftest.perf_args(s.replace(rate=None), "t1", "h:1", None)
    assert no_file[no_file.index("--throughput") + 1] == "-1"
    assert no_file[no_file.index("--record-size") + 1] == "100"
    with pytest.raises(SettingsError, match="needs a message count"):
        perftest.perf_args(s.replace(count=None, duration_s=5, rate=None), "t", "h:1", None)
    assert "--num-records" in perftest.perf_args(s.replace(count=None, duration_s=5), "t", "h:1", None)


PERF_OUTPUT = """\
249701 records sent, 49930.2 records/sec (4.76 MB/sec), 5.3 ms avg latency, 210.0 ms max latency.
50000 records sent, 48169.556840 records/sec (4.59 MB/sec), 65.12 ms avg latency, 328.00 ms max latency, \
39 ms 50th, 234 ms 95th, 247 ms 99th, 253 ms 99.9th.
"""


def test_parse_perf_output() -> None:
    out = perftest.parse_output(PERF_OUTPUT)
    final, intervals = out.summary, out.intervals
    assert final is out.whole and out.steady is None, "without a warm-up the whole run's line is the summary"
    assert final.records == 50_000 and final.records_per_s == pytest.approx(48169.55684)
    assert final.mb_per_s == pytest.approx(4.59 * 1024 * 1024 / 1e6)
    assert (final.p50_ms, final.p95_ms, final.p99_ms, final.p999_ms) == (39, 234, 247, 253)
    assert final.avg_ms == 65.12 and final.max_ms == 328
    assert len(intervals) == 1 and intervals[0].records == 249_701
    with pytest.raises(LabError, match="without its summary"):
        perftest.parse_output("Exception in thread main\nboom")


def build_parser():  # type: ignore[no-untyped-def]
    return _build_parser()[0]


def test_cli_flags_build_settings() -> None:
    args = build_parser().parse_args(["producer", "run", "--acks", "1", "--codec", "zstd", "--linger-ms", "20",
                                      "--batch-size", "32768", "--count", "99", "--rate", "50", "--keys", "3"])
    s = _producer_settings(args)
    assert (s.acks, s.compression, s.linger_ms, s.batch_size, s.count, s.rate, s.key_spread) == \
        ("1", "zstd", 20.0, 32768, 99, 50.0, 3)
    d = _producer_settings(build_parser().parse_args(["producer", "acks", "--duration", "3"]))
    assert d.count is None and d.duration_s == 3
    p = _producer_settings(build_parser().parse_args(["producer", "run", "--preset", "low latency", "--count", "7"]))
    assert p.batch_size == 1 and p.count == 7
    with pytest.raises(SettingsError, match="Unknown preset"):
        _producer_settings(build_parser().parse_args(["producer", "run", "--preset", "warp"]))
    with pytest.raises(SettingsError, match="needs acks=all"):
        _producer_settings(build_parser().parse_args(["producer", "run", "--acks", "0", "--idempotence"]))
    assert json.dumps(to_jsonable(s))
