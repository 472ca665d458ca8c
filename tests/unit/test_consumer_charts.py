"""The consumer lab's charts draw what was measured: frames from hand-made timelines and results, and
the encodings that read them."""

from __future__ import annotations

from lab.consumer import charts as group_charts
from lab.consumer.groups import GroupTimeline, MemberSpan, RecordSample
from lab.consumer.pauses import CallbackEvent
from lab.consumer.stats import FetchPoint, series, summary
from lab.consumer.strategies import RebalanceFigures, StrategiesResult, StrategiesSettings, StrategyRun
from lab.kafka.timeline import Step

TL = GroupTimeline(
    events=(CallbackEvent(0.1, "m0", "assign", ("a[0]", "a[1]"), 1), CallbackEvent(2.0, "m0", "revoke", ("a[1]",), 1),
            CallbackEvent(2.5, "m1", "assign", ("a[1]",), 2)),
    spans=(MemberSpan("m0", 0.0, None), MemberSpan("m1", 2.0, None)),
    records=(RecordSample(0.0, "m0", 10), RecordSample(0.5, "m0", 20), RecordSample(2.5, "m1", 5)),
    steps=(Step(2.0, "m1 joins"),),
)


def test_owned_frame_steps_per_member() -> None:
    f = group_charts.owned_frame(TL)
    assert f.to_dict("records") == [{"t": 0.1, "member": "m0", "owned": 2}, {"t": 2.0, "member": "m0", "owned": 1},
                                    {"t": 2.5, "member": "m1", "owned": 1}]
    r = group_charts.records_frame(TL)
    assert list(r["records_per_s"]) == [20.0, 40.0, 10.0]


def test_group_chart_shares_one_time_axis() -> None:
    fig = RebalanceFigures("join", 2.0, 2.5, 0.5, 0.5, {"m0": 0.0, "m1": 0.5}, 1, 1, 0, 2)
    spec = group_charts.group_chart(TL, [fig], title="cooperative-sticky").to_dict()
    assert spec["title"] == "cooperative-sticky" and len(spec["vconcat"]) == 2
    layers = spec["vconcat"][0]["layer"]
    assert [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in layers] == [
        "rect", "rule", "line"]
    domains = {str(layer["encoding"]["x"]["scale"]["domain"]) for v in spec["vconcat"] for layer in v["layer"]}
    assert len(domains) == 1, "bands, steps and lines on one x domain"


def test_pauses_frame_reads_the_figures() -> None:
    fig = RebalanceFigures("join", 2.0, 2.5, 0.5, 0.5, {"m0": 0.0, "m1": 0.5}, 1, 1, 0, 2)
    run = StrategyRun("cooperative-sticky", ("a",), {}, (fig,), TL, 100)
    f = group_charts.pauses_frame(StrategiesResult(StrategiesSettings(), (run,)))
    row = f.to_dict("records")[0]
    assert row["strategy"] == "cooperative-sticky" and row["revoked_unmoved"] == 0 and row["members_stalled"] == 1
    assert row["to_stable_s"] == 0.5


def test_fetch_series_and_summary() -> None:
    pts = [FetchPoint(0.25, 2, 1000, 10), FetchPoint(0.5, 12, 11_000, 110), FetchPoint(0.75, 12, 11_000, 110)]
    s = series(pts)
    assert [round(x.fetch_requests_per_s) for x in s] == [40, 0]
    assert s[0].bytes_per_fetch == 1000.0
    total = summary(pts, active_s=1.0)
    assert total.fetch_requests == 12 and total.fetch_requests_per_s == 12.0 and total.bytes_per_fetch == 11_000 / 12
