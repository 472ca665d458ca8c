"""Chart builders: frames from a hand-made timeline become Vega-Lite specs that encode the right fields
and carry the timeline's values (what the chart draws), not merely a spec."""

from __future__ import annotations

from typing import Any

from lab.kafka.load import ProduceSample
from lab.kafka.observe import EventKind, PartitionState, ReplicationEvent, Snapshot
from lab.kafka.timeline import Step, Timeline
from lab.replication import charts as replication_charts
from lab.replication.segments import CompactionOutcome, SegmentFile, SegmentSnapshot, StorageResult
from lab.replication.settings import StorageSettings


def timeline() -> Timeline:
    snaps = tuple(Snapshot(float(t), (PartitionState("t", 0, 1, (1, 2, 3), isr, 0, hw, {1: hw + 1, 2: 5, 3: hw},
                                                     (2,) if t > 1 else ()),))
                  for t, isr, hw in [(0, (1, 2, 3), 5), (1, (1, 2, 3), 5), (2, (1, 3), 40)])
    ev = (ReplicationEvent(2.0, "t", 0, EventKind.ISR_SHRINK, "ISR 1,2,3 -> 1,3", 1, (1, 3), 0),)
    prod = (ProduceSample(0.0, 10, 0), ProduceSample(1.0, 0, 3, {"NOT_ENOUGH_REPLICAS": 3}, 5000.0))
    return Timeline(snaps, ev, prod, (Step(0.5, "pause broker 2"),), "note")


def encoded_fields(spec: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(spec, dict):
        if isinstance(spec.get("field"), str):
            found.add(spec["field"])
        for v in spec.values():
            found |= encoded_fields(v)
    elif isinstance(spec, list):
        for v in spec:
            found |= encoded_fields(v)
    return found


def rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every data row the chart carries (Altair gathers them in the spec's ``datasets``)."""
    return [r for ds in spec.get("datasets", {}).values() for r in ds]


def test_timeline_charts_build() -> None:
    tl = timeline()
    isr, ev, prod, steps, off = (tl.isr_frame(), tl.events_frame(), tl.produce_frame(), tl.steps_frame(),
                                 tl.offsets_frame())
    dom = replication_charts.time_domain(isr, ev, prod, steps, off)
    assert dom == (0.0, 2.0)
    isr_spec = replication_charts.isr_timeline(isr, steps, dom).to_dict()
    assert {"t", "isr_size", "partition", "step"} <= encoded_fields(isr_spec)
    sizes = [r["isr_size"] for r in rows(isr_spec) if "isr_size" in r]
    assert sizes == [3, 3, 2], "the ISR line drawn is the timeline's: 3, 3, then 2 after the shrink"
    assert [r["step"] for r in rows(isr_spec) if "step" in r] == ["pause broker 2"]
    ev_spec = replication_charts.replication_events(ev, dom).to_dict()
    assert {"t", "event", "partition", "detail"} <= encoded_fields(ev_spec)
    assert [(r["t"], r["event"]) for r in rows(ev_spec)] == [(2.0, "isr_shrink")]
    prod_spec = replication_charts.produce_timeline(prod, steps, dom).to_dict()
    assert {"t", "messages", "outcome"} <= encoded_fields(prod_spec)
    drawn = {(r["t"], r["outcome"], r["messages"]) for r in rows(prod_spec) if "outcome" in r}
    assert drawn == {(0.0, "acked", 10), (0.0, "failed", 0), (1.0, "acked", 0), (1.0, "failed", 3)}
    off_spec = replication_charts.hw_vs_leo(off, steps, dom).to_dict()
    assert {"t", "offset", "series"} <= encoded_fields(off_spec)
    hw = [r["offset"] for r in rows(off_spec) if r.get("series") == "high watermark"]
    assert hw == [5, 5, 40]
    assert set(off["series"]) == {"high watermark", "LEO broker 1 (leader)", "LEO broker 2 (follower)",
                                  "LEO broker 3 (follower)"}
    assert off[off["stale"]]["series"].unique().tolist() == ["LEO broker 2 (follower)"]


def test_empty_frames_still_build() -> None:
    tl = Timeline()
    assert replication_charts.time_domain(tl.isr_frame(), tl.events_frame()) is None
    spec = replication_charts.isr_timeline(tl.isr_frame()).to_dict()
    assert "isr_size" in encoded_fields(spec) and rows(spec) == []


def test_segment_chart_builds() -> None:
    f = SegmentFile("00000000000000000000.log", 0, "log", 100, 4096)
    co = CompactionOutcome("c", 1, 2, 2, 1, 1, True, 1.0, (), ())
    res = StorageResult(StorageSettings(), 1, "/x", (SegmentSnapshot(0.0, 10, (f,)),), co)
    spec = replication_charts.segment_sizes(res.segments_frame()).to_dict()
    assert "size_bytes" in encoded_fields(spec)
    assert [(r["file"], r["size_bytes"]) for r in rows(spec) if "size_bytes" in r] == [(f.name, 100)]
