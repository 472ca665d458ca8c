"""Chart builders: frames from a hand-made timeline render to valid Vega-Lite specs."""

from __future__ import annotations

from lab import charts
from lab.replication import (
    EventKind,
    PartitionState,
    ProduceSample,
    ReplicationEvent,
    Snapshot,
    Step,
    Timeline,
)
from lab.storage import CompactionOutcome, SegmentFile, SegmentSnapshot, StorageResult, StorageSettings


def timeline() -> Timeline:
    snaps = tuple(Snapshot(float(t), (PartitionState("t", 0, 1, (1, 2, 3), isr, 0, hw, {1: hw + 1, 2: 5, 3: hw},
                                                     (2,) if t > 1 else ()),))
                  for t, isr, hw in [(0, (1, 2, 3), 5), (1, (1, 2, 3), 5), (2, (1, 3), 40)])
    ev = (ReplicationEvent(2.0, "t", 0, EventKind.ISR_SHRINK, "ISR 1,2,3 -> 1,3", 1, (1, 3), 0),)
    prod = (ProduceSample(0.0, 10, 0), ProduceSample(1.0, 0, 3, {"NOT_ENOUGH_REPLICAS": 3}, 5000.0))
    return Timeline(snaps, ev, prod, (Step(0.5, "pause broker 2"),), "note")


def test_timeline_charts_build() -> None:
    tl = timeline()
    isr, ev, prod, steps, off = (tl.isr_frame(), tl.events_frame(), tl.produce_frame(), tl.steps_frame(),
                                 tl.offsets_frame())
    dom = charts.time_domain(isr, ev, prod, steps, off)
    assert dom == (0.0, 2.0)
    for chart in (charts.isr_timeline(isr, steps, dom), charts.replication_events(ev, dom),
                  charts.produce_timeline(prod, steps, dom), charts.hw_vs_leo(off, steps, dom)):
        assert chart.to_dict()
    assert set(off["series"]) == {"high watermark", "LEO broker 1 (leader)", "LEO broker 2 (follower)",
                                  "LEO broker 3 (follower)"}
    assert off[off["stale"]]["series"].unique().tolist() == ["LEO broker 2 (follower)"]


def test_empty_frames_still_build() -> None:
    tl = Timeline()
    assert charts.time_domain(tl.isr_frame(), tl.events_frame()) is None
    assert charts.isr_timeline(tl.isr_frame()).to_dict()


def test_segment_chart_builds() -> None:
    f = SegmentFile("00000000000000000000.log", 0, "log", 100, 4096)
    co = CompactionOutcome("c", 1, 2, 2, 1, 1, True, 1.0, (), ())
    res = StorageResult(StorageSettings(), 1, "/x", (SegmentSnapshot(0.0, 10, (f,)),), co)
    assert charts.segment_sizes(res.segments_frame()).to_dict()
