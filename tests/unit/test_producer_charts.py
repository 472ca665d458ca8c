"""Chart builders return Altair charts encoding the right fields; built from hand-made results."""

from __future__ import annotations

import altair as alt

from lab import charts
from lab.produce import ClientStats, IntervalSample, ProduceResult, SweepResult, batch_variants, codec_variants
from lab.settings import ProducerSettings
from lab.stats import LatencySummary


def result(settings: ProducerSettings, msgs_per_s: float = 1000.0, p99: float = 20.0, ratio: float = 1.0,
           intended: bool = False) -> ProduceResult:
    lat = LatencySummary(100, 5.0, 4.0, 10.0, p99, p99 + 1, p99 + 2)
    samples = tuple(IntervalSample(0.5 * (i + 1), 50, msgs_per_s, 0.1, 4.0, p99, 0, 0) for i in range(3))
    stats = ClientStats(1000.0, 10.0, 10, 12, 24.0, 1.5, 3.0, ratio, 10_000, int(10_000 / ratio))
    return ProduceResult(settings, "t", "local", "127.0.0.1:9092", 100, 100, 0, 0, 100, 0.1, msgs_per_s, 0.1, lat,
                         lat if intended else None, None, {}, {}, 0, stats, samples)


def encoded_fields(chart: alt.TopLevelMixin) -> set[str]:
    spec = chart.to_dict()
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "field" in node and isinstance(node["field"], str):
                found.add(node["field"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return found


def test_throughput_chart() -> None:
    r = result(ProducerSettings(label="a"))
    frame = charts.samples_frame([("a", r.samples)])
    assert list(frame["msgs_per_s"]) == [1000.0] * 3
    c = charts.throughput_chart(frame)
    assert isinstance(c, alt.Chart)
    assert {"t_s", "msgs_per_s", "run"} <= encoded_fields(c)


def test_latency_chart_shows_both_measures_with_a_rate() -> None:
    r = result(ProducerSettings(rate=100, label="r"), intended=True)
    frame = charts.latency_frame([r])
    assert set(frame["measure"]) == {"send->ack", "intended->ack"}
    assert set(frame["percentile"]) == {"p50", "p95", "p99", "p99.9", "max"}
    c = charts.latency_chart(frame)
    assert isinstance(c, alt.Chart)
    assert {"percentile", "ms", "run", "measure"} <= encoded_fields(c)


def test_sweep_charts() -> None:
    runs = tuple(result(s, 1000.0 * (i + 1), 10.0 * (i + 1), ratio=1.0 + i)
                 for i, s in enumerate(codec_variants(ProducerSettings())))
    sweep = SweepResult("codec", runs, len(runs), 1.0)
    frame = charts.sweep_frame(sweep)
    assert list(frame["codec"]) == ["none", "gzip", "snappy", "lz4", "zstd"]
    codec = charts.codec_chart(frame)
    assert isinstance(codec, alt.HConcatChart)
    assert {"codec", "msgs_per_s", "compression_ratio"} <= encoded_fields(codec)
    trade = charts.tradeoff_chart(frame)
    assert isinstance(trade, alt.LayerChart)
    assert {"msgs_per_s", "p99_ms", "label"} <= encoded_fields(trade)


def test_heatmap() -> None:
    variants = batch_variants(ProducerSettings(), (0.0, 10.0), (1024, 65_536))
    runs = tuple(result(s) for s in variants)
    frame = charts.sweep_frame(SweepResult("batch", runs, len(runs), 1.0))
    assert len(frame) == 4
    heat = charts.batch_heatmap(frame)
    assert isinstance(heat, alt.LayerChart)
    assert {"linger_ms", "batch_size", "msgs_per_s", "p99_ms"} <= encoded_fields(heat)


def test_runs_for() -> None:
    r = result(ProducerSettings())
    assert charts.runs_for(r) == [r]
    assert charts.runs_for(SweepResult("acks", (r, r), 2, 1.0)) == [r, r]


def test_notes_explain_written_but_failed_and_lost_messages() -> None:
    from dataclasses import replace

    r = result(ProducerSettings())
    assert r.notes() == [] and r.written_but_not_acknowledged == 0
    extra = replace(r, topic_messages=130)
    assert extra.written_but_not_acknowledged == 30 and "duplicate" in extra.notes()[0]
    lost = replace(r, settings=ProducerSettings(acks="0"), topic_messages=90)
    assert "acks=0" in lost.notes()[0]
