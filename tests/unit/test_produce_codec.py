"""Every producer settings and result type survives ``codec.dumps`` + ``codec.decode`` unchanged: same
types (tuples stay tuples, nested dataclasses come back as themselves), same values, NaN as NaN."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lab.core import codec
from lab.core.results import ClusterFacts, RunInfo
from lab.core.stats import LatencySummary
from lab.kafka.rdkstats import ClientStats
from lab.producer.perftest import CrossCheckResult, CrossCheckSettings, PerfInterval, PerfSummary, PerfTestResult
from lab.producer.run import IntervalSample, ProduceResult
from lab.producer.settings import PRESETS, ProducerSettings
from lab.producer.sweep import SweepResult, SweepSettings

NAN = float("nan")


def same(a: Any, b: Any, path: str = "") -> None:
    """Deep equality that treats NaN as equal to NaN and also compares types (a tuple is not a list). An int
    given for a float field (``linger_ms=0`` in a preset) may come back as the float it stands for."""
    if type(a) is int and type(b) is float:
        a = float(a)
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def round_trip(obj: Any) -> Any:
    back = codec.decode(type(obj), codec.dumps(obj))
    same(obj, back, type(obj).__name__)
    return back


RUN = RunInfo("20261201T233959-1a2b3c", "produce", "2026-12-01T23:39:59.000+00:00",
              "2026-12-01T23:40:09.500+00:00", ClusterFacts("local", "127.0.0.1:9092", "abc", "3.9.2", 3),
              face="test", elapsed_s=10.5)


def produce_result(settings: ProducerSettings, *, latency: LatencySummary | None = None,
                   samples: tuple[IntervalSample, ...] | None = None, stopped: str | None = None,
                   run: RunInfo | None = None) -> ProduceResult:
    lat = latency or LatencySummary(100, 5.0, 4.0, 10.0, 20.0, 21.0, 22.0)
    empty = LatencySummary(0, NAN, NAN, NAN, NAN, NAN, NAN)
    stats = ClientStats(NAN, NAN, 0, 12, 24.0, 1.5, 3.0, NAN, 0, 0)
    return ProduceResult(
        settings, "lab-produce-0123456789", "local", "127.0.0.1:9092", 100, 97, 2, 1, 97, 0.25, 388.0, 0.04,
        lat, empty if settings.rate is not None else None, lat if settings.end_to_end else None,
        {"_MSG_TIMED_OUT": 2}, {"_TRANSPORT": 3}, 4, stats,
        samples if samples is not None else (IntervalSample(0.1, 50, 500.0, 0.05, 4.0, NAN, 0, 3),
                                             IntervalSample(0.25, 47, 313.3, 0.03, NAN, NAN, 2, 0)),
        stopped=stopped, run=run, primed=3, cpu_s=0.12)


def test_settings_round_trip() -> None:
    for s in (ProducerSettings(), ProducerSettings(count=None, duration_s=2.5, rate=100.0, key_spread=7,
                                                   end_to_end=True, label="x"), *PRESETS.values()):
        round_trip(s)
    round_trip(SweepSettings("codec", ProducerSettings(), codecs=("lz4", "zstd")))
    back = round_trip(SweepSettings("batch", ProducerSettings(acks="1"), grid="full", lingers_ms=(0.0, 2.5),
                                    batch_sizes=(1_024,)))
    assert back.variants() == SweepSettings("batch", ProducerSettings(acks="1"), grid="full", lingers_ms=(0.0, 2.5),
                                            batch_sizes=(1_024,)).variants()
    round_trip(SweepSettings("presets", ProducerSettings(count=5), presets=("low latency",)))
    round_trip(CrossCheckSettings(ProducerSettings(compression="lz4"), perf_only=True, kafka_version="4.1.1"))


def test_produce_result_round_trips_with_nan_and_run_info() -> None:
    r = produce_result(ProducerSettings(rate=100.0, end_to_end=True), stopped="stopped early: cancelled by the user",
                       run=RUN)
    back = round_trip(r)
    assert back.complete is False and back.notes() == r.notes() and back.row().keys() == r.row().keys()
    round_trip(produce_result(ProducerSettings()))


def test_sweep_result_round_trips() -> None:
    settings = SweepSettings("acks", ProducerSettings(count=50))
    runs = tuple(produce_result(s) for s in settings.variants())
    back = round_trip(SweepResult(settings, runs, 3, 1.5, ("a note",), stopped="stopped early: cancelled", run=RUN))
    assert back.kind == "acks" and len(back.rows()) == 3
    round_trip(SweepResult(settings, (), 3, 0.0))


def test_cross_check_result_round_trips() -> None:
    s = ProducerSettings(acks="1", compression="lz4")
    perf = PerfTestResult(s, "lab-produce-x", PerfSummary(5000, 4800.5, 0.48, 5.5, 40.0, 4.0, 9.0, 20.0, 30.0),
                          (PerfInterval(2400, 480.0, 0.05, 5.0, 39.0),), 3.2, 5000, ("java", "-cp", "x"),
                          ("a note",))
    lab = produce_result(s)
    full = round_trip(CrossCheckResult(CrossCheckSettings(s), lab, perf, run=RUN))
    assert full.rows()[0][0] == "msgs/s" and full.throughput_ratio == lab.msgs_per_s / 4800.5
    stopped_tool = dataclasses.replace(perf, summary=None, topic_messages=None, stopped="stopped early: cancelled")
    partial = round_trip(CrossCheckResult(CrossCheckSettings(s), lab, stopped_tool, stopped="stopped early: cancelled"))
    assert math.isnan(partial.throughput_ratio) and all(math.isnan(row[2]) for row in partial.rows())
    perf_only = round_trip(CrossCheckResult(CrossCheckSettings(s, perf_only=True), None, perf))
    assert math.isnan(perf_only.p99_ratio) and perf_only.rows()[0][2] == 4800.5


floats = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=60, deadline=None)
@given(lat=st.builds(LatencySummary, st.integers(0, 10**9), floats, floats, floats, floats, floats, floats),
       samples=st.lists(st.builds(IntervalSample, floats, st.integers(0, 10**6), floats, floats, floats, floats,
                                  st.integers(0, 10**6), st.integers(-10, 10**6)), max_size=5).map(tuple),
       stopped=st.none() | st.text(max_size=40))
def test_any_floats_round_trip(lat: LatencySummary, samples: tuple[IntervalSample, ...], stopped: str | None) -> None:
    round_trip(produce_result(ProducerSettings(), latency=lat, samples=samples, stopped=stopped))


def test_a_run_stored_before_send_delays_and_consumer_intervals_still_reads() -> None:
    """Runs stored before ``publish_delay`` and the samples' delay/consumer fields existed read back with
    those unset; the new fields round-trip when present."""
    import json

    r = produce_result(ProducerSettings(rate=100.0, end_to_end=True))
    new = dataclasses.replace(r, publish_delay=LatencySummary(97, 0.2, 0.1, 0.5, 0.9, 1.0, 1.2), samples=(
        IntervalSample(0.1, 50, 500.0, 0.05, 4.0, 6.0, 0, 3, 0.1, 0.4, 48, 9.0, 8.0, 12.0, 14.0),))
    round_trip(new)
    doc = json.loads(codec.dumps(new))
    for name in ("publish_delay",):
        del doc["data"][name]
    new_sample_fields = ("delay_p50_ms", "delay_p99_ms", "consumed", "e2e_avg_ms", "e2e_p50_ms", "e2e_p95_ms",
                         "e2e_p99_ms")
    for sample in doc["data"]["samples"]:
        for name in new_sample_fields:
            del sample[name]
    old = codec.loads(json.dumps(doc), {"ProduceResult": ProduceResult})
    assert old.publish_delay is None and old.samples[0].consumed is None
    assert math.isnan(old.samples[0].delay_p99_ms) and math.isnan(old.samples[0].e2e_p95_ms)
    assert old.samples[0].p99_ms == 6.0 and old.latency == new.latency
