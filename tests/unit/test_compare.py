"""Generic figures, series and comparison: hand-made runs of real types give the figures and series their
fields hold, overlay charts carry both runs' values under their labels, and runs of different experiments
are refused. Every registered result type goes through the walk and ``charts_for`` without raising."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_runs import lag_watch, monitor, produce
from test_codec import strategy_for

from lab import registry as experiments
from lab.core.errors import LabError
from lab.runs import compare
from lab.runs.charts import charts_for, frame_of, generic_charts


def chart_rows(chart: Any) -> list[dict[str, Any]]:
    """The rows the chart draws (its inline dataset, as Vega-Lite gets it)."""
    from lab.export.files import chart_spec

    spec = chart_spec(chart)
    return list(spec["data"]["values"]) if "values" in spec["data"] else list(spec["datasets"][spec["data"]["name"]])


def test_figures_walk_nested_summaries_dicts_and_properties() -> None:
    r = produce("20261202T030112-ab12cd")
    f = compare.figures(r)
    assert f["msgs_per_s"] == 1000.0 and f["latency.p99_ms"] == 12.5 and f["stats.compression_ratio"] == 0.95
    assert f["written_but_not_acknowledged"] == 0.0  # a numeric property
    assert "complete" not in f  # a bool property is not a figure
    assert not any(k.startswith(("settings", "run")) for k in f)
    assert not any(k.startswith("samples") for k in f)  # time series are series, not figures


def test_produce_series_is_the_samples_with_t() -> None:
    s = compare.series(produce("r1", n=3))
    frame = s["samples"]
    assert list(frame["t"]) == [0.5, 1.0, 1.5]
    assert list(frame["msgs_per_s"]) == [1000.0, 1001.0, 1002.0] and list(frame["p99_ms"]) == [10.0, 11.0, 12.0]
    assert "key" not in frame and "t_s" not in frame


def test_replication_series_give_isr_hw_and_writes_per_partition() -> None:
    s = compare.series(monitor())
    parts = s["timeline.snapshots.partitions"]
    assert list(parts["key"]) == ["t/0"] * 3
    assert list(parts["isr.size"]) == [3, 3, 2] and list(parts["high_watermark"]) == [5, 5, 40]
    assert list(parts["log_end_offsets.1"]) == [6, 6, 41]
    writes = s["timeline.produce"]
    assert list(writes["acked"]) == [10, 0] and writes["errors.NOT_ENOUGH_REPLICAS"].iloc[1] == 3
    assert "timeline.steps" not in s  # nothing numeric to draw


def test_lag_series_total_and_per_partition() -> None:
    s = compare.series(lag_watch(lags=(0, 50, 120)))
    assert list(s["samples"]["total_lag"]) == [0, 50, 120] and "wall" not in s["samples"]
    parts = s["samples.partitions"]
    p0 = parts[parts["key"] == "orders/0"]
    assert list(p0["lag"]) == [0, 50, 120]
    p1 = parts[parts["key"] == "orders/1"]
    assert p1["committed"].isna().all()  # never committed: unknown, not 0


def test_overlay_of_two_produce_runs_has_both_labels_with_their_values() -> None:
    a, b = produce("20261202T030112-ab12cd", linger_ms=10, rate=1000), produce("20261202T030500-cd34ef",
                                                                               linger_ms=50, rate=2000)
    charts = compare.overlay_charts([a, b])
    assert "samples.msgs_per_s" in charts and "samples.p99_ms" in charts
    assert "samples.in_flight" not in charts  # constant in every run: a figure, not a chart
    rows = chart_rows(charts["samples.msgs_per_s"])
    by_run: dict[str, list[float]] = {}
    for row in rows:
        by_run.setdefault(row["run"], []).append(row["msgs_per_s"])
    assert by_run == {"run 20261202T030112-ab12cd · linger_ms=10": [1000.0, 1001.0, 1002.0, 1003.0],
                      "run 20261202T030500-cd34ef · linger_ms=50": [2000.0, 2001.0, 2002.0, 2003.0]}
    spec = charts["samples.msgs_per_s"].to_dict()
    assert spec["encoding"]["color"]["field"] == "run"


def test_overlay_field_names_with_dots_are_safe_for_vega_lite() -> None:
    m1, m2 = monitor("20261202T030000-aaaaaa"), monitor("20261202T030100-bbbbbb")
    charts = compare.overlay_charts([m1, m2])
    chart = charts["timeline.snapshots.partitions.isr.size"]
    assert chart.to_dict()["encoding"]["y"]["field"] == "isr_size"
    assert sorted({r["run"] for r in chart_rows(chart)}) == ["run 20261202T030000-aaaaaa",
                                                             "run 20261202T030100-bbbbbb"]


def test_differing_settings_flags_what_differs() -> None:
    a, b = produce("r-a", linger_ms=10), produce("r-b", linger_ms=50)
    table = compare.differing_settings([a, b])
    assert table.loc["linger_ms"].tolist()[:2] == ["10", "50"] and bool(table.loc["linger_ms", "differs"])
    assert not table.loc["batch_size", "differs"]
    assert table["differs"].sum() == 1


def test_figures_table_ratios_to_the_first_run() -> None:
    a, b = produce("r-a", rate=1000), produce("r-b", rate=1500)
    table = compare.figures_table([a, b])
    ratio = [c for c in table.columns if c.endswith("÷ first")]
    assert len(ratio) == 1 and table.loc["msgs_per_s", ratio[0]] == pytest.approx(1.5)
    assert table.loc["latency.p99_ms", ratio[0]] == pytest.approx(1.0)


def test_runs_of_different_experiments_are_refused_with_a_hint() -> None:
    with pytest.raises(LabError, match="different experiments") as err:
        compare.overlay_charts([produce("r-a"), monitor()])
    assert err.value.hint and "one experiment" in err.value.hint
    with pytest.raises(LabError):
        compare.figures_table([])


def test_run_label_without_run_info_and_with_keys() -> None:
    r = produce("20261202T030112-ab12cd", linger_ms=10)
    assert compare.run_label(r, ["linger_ms"]) == "run 20261202T030112-ab12cd · linger_ms=10"
    import dataclasses

    bare = dataclasses.replace(r, run=None)
    assert compare.run_label(bare, index=1) == "run #2"


def test_charts_for_uses_the_experiments_own_charts_and_their_data() -> None:
    got = charts_for(produce("r1"))
    assert set(got) == {"throughput", "latency"}
    assert list(frame_of(got["throughput"])["msgs_per_s"]) == [1000.0, 1001.0, 1002.0, 1003.0]
    assert {"isr", "writes", "events", "hw-vs-leo"} <= set(charts_for(monitor()))
    assert set(charts_for(lag_watch())) == {"lag-per-partition", "total-lag", "produce-vs-commit"}


def test_generic_charts_colour_one_line_per_key() -> None:
    got = generic_charts(lag_watch())
    chart = got["samples.partitions.lag"]
    assert chart.to_dict()["encoding"]["color"]["field"] == "key"
    assert math.isclose(max(r["lag"] for r in chart_rows(chart)), 120)


def result_types() -> list[type]:
    return sorted({e.result_type for e in experiments.REGISTRY.values()}, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", result_types(), ids=lambda c: c.__name__)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_result_type_walks_and_charts(cls: type, data: st.DataObject) -> None:
    result = data.draw(strategy_for(cls))
    figs = compare.figures(result)
    assert all(isinstance(v, float) for v in figs.values())
    for frame in compare.series(result).values():
        assert "t" in frame.columns
    for chart in charts_for(result).values():
        chart.to_dict()  # a valid Vega-Lite spec
    compare.figures_table([result, result])
    compare.overlay_charts([result, result])
