"""The charts of one run, for exports and reports: ``charts_for(result) -> {name: chart}``.

An experiment with chart builders of its own (the ones its page shows) is mapped to them in ``CURATED``;
every other experiment — and any added later — gets the generic series charts of ``lab.runs.compare``
(one chart per informative time-series measure, one line per key). Names are file-name safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd

from lab.consumer import charts as consumer_charts
from lab.consumer import charts as group_charts
from lab.core import catalogue
from lab.eos import charts as charts_eos
from lab.lag import charts as charts_lag
from lab.producer import charts
from lab.queues import charts as share_charts
from lab.replication import charts as replication_charts
from lab.runs.compare import informative, series, series_chart, value_columns

Charts = dict[str, alt.TopLevelMixin]


def generic_charts(result: Any) -> Charts:
    """One chart per informative measure of every time series of the result."""
    out: Charts = {}
    for name, frame in series(result).items():
        for column in value_columns(frame):
            if informative(frame[column]):
                colour = "key" if "key" in frame else None
                out[f"{name}.{column}"] = series_chart(frame, column, f"{column} ({name})", colour=colour)
    return out


def _produce(r: Any) -> Charts:
    return {"throughput": charts.throughput_chart(charts.samples_frame([(r.settings.name, r.samples)])),
            "latency": charts.latency_chart(charts.latency_frame([r]))}


def _sweep(s: Any) -> Charts:
    if not s.runs:
        return {}
    frame = charts.sweep_frame(s)
    return {"tradeoff": charts.tradeoff_chart(frame), "latency": charts.latency_chart(charts.latency_frame(s.runs)),
            "throughput": charts.throughput_chart(charts.samples_frame([(r.settings.name, r.samples)
                                                                         for r in s.runs]))}


def _timeline(r: Any) -> Charts:
    tl = r.timeline
    isr, ev, prod, steps, off = tl.isr_frame(), tl.events_frame(), tl.produce_frame(), tl.steps_frame(), \
        tl.offsets_frame()
    dom = replication_charts.time_domain(isr, ev, prod, steps, off)
    out: Charts = {}
    if not off.empty:
        out["hw-vs-leo"] = replication_charts.hw_vs_leo(off, steps, dom)
    if not isr.empty:
        out["isr"] = replication_charts.isr_timeline(isr, steps, dom)
    if not prod.empty:
        out["writes"] = replication_charts.produce_timeline(prod, steps, dom)
    if not ev.empty:
        out["events"] = replication_charts.replication_events(ev, dom)
    return out


def _lag(r: Any) -> Charts:
    if not r.samples:
        return {}
    frame = r.partitions_frame()
    return {"lag-per-partition": charts_lag.lag_per_partition(frame), "total-lag": charts_lag.total_lag(frame),
            "produce-vs-commit": charts_lag.produce_vs_commit(r.rates_frame())}


def _bench(r: Any) -> Charts:
    return {"consumed": consumer_charts.throughput_chart(consumer_charts.throughput_frame([(r.label, r.samples)])),
            "fetches": consumer_charts.fetch_chart(consumer_charts.fetch_frame([r]))}


def _duplicates(r: Any) -> Charts:
    frame, counts = charts_eos.seconds_frame(r), charts_eos.counts_frame(r)
    out: Charts = {}
    if not frame.empty:
        out["acked-per-second"] = charts_eos.acked_per_second(frame, charts_eos.fault_bands(r))
    if not counts.empty:
        out["counts"] = charts_eos.counts_chart(counts)
    return out


def _transactions(r: Any) -> Charts:
    frame = charts_eos.offsets_frame(r)
    return {"hw-vs-lso": charts_eos.hw_vs_lso(frame, charts_eos.open_band(r))} if not frame.empty else {}


def _pipeline(r: Any) -> Charts:
    frame, counts = charts_eos.pipeline_timeline_frame(r), charts_eos.pipeline_counts_frame(r)
    out: Charts = {}
    if not frame.empty:
        out["offsets"] = charts_eos.pipeline_timeline(frame, charts_eos.kills_frame(r))
    if not counts.empty:
        out["counts"] = charts_eos.pipeline_counts(counts)
    return out


def _groups(r: Any) -> Charts:
    out: Charts = {}
    if r.runs:
        out["pauses"] = group_charts.pauses_chart(group_charts.pauses_frame(r))
    for i, run in enumerate(r.runs):
        out[f"group-{i + 1}-{run.strategy}"] = group_charts.group_chart(run.timeline, run.rebalances,
                                                                      title=run.strategy)
    return out


def _share_compare(r: Any) -> Charts:
    out: Charts = {}
    if r.share is not None or r.group is not None:
        out["records-per-member"] = share_charts.records_per_member(r)
    for side, name in ((r.share, "share-member-rates"), (r.group, "group-member-rates")):
        if side is not None:
            out[name] = share_charts.member_rates(side, f"{'Share' if side is r.share else 'Consumer'} group: "
                                                        "records/s per member")
    return out


def _share_acks(r: Any) -> Charts:
    out: Charts = {"delivery-histogram": share_charts.delivery_histogram(r),
                   "deliveries": share_charts.deliveries_over_time(r)}
    if r.samples:
        out["live-state"] = share_charts.live_state(r)
    return out


#: experiment name -> the chart builders its page uses (the same charts, so an export looks like the page)
CURATED: dict[str, Callable[[Any], Charts]] = {
    "produce": _produce,
    "produce.sweep": _sweep,
    "replication.monitor": _timeline,
    "replication.min-isr": _timeline,
    "replication.hw-leo": _timeline,
    "replication.unclean": _timeline,
    "lag.watch": _lag,
    "lag.scenario": lambda r: _lag(r.watch),
    "lag.sustainable-rate": lambda r: ({"rate-search": charts_lag.rate_search(r.lag_frame(), r.steps_frame())}
                                       if r.samples else {}),
    "consumer.benchmark": _bench,
    "consumer.strategies": _groups,
    "consumer.protocols": _groups,
    "eos.idempotent": _duplicates,
    "eos.transactional": _transactions,
    "eos.pipeline": _pipeline,
    "share.compare": _share_compare,
    "share.acks": _share_acks,
    "share.crash": lambda r: {"crash-timeline": share_charts.crash_timeline(r)},
}


def experiment_name(result: Any) -> str | None:
    """The registry name of the experiment that made ``result`` (from its run info, else by its type)."""
    run = getattr(result, "run", None)
    named = catalogue.find(str(run.experiment)) if run is not None else None
    if named is not None and named.result_type is type(result):  # a record naming another type is not trusted
        return named.name
    return exp.name if (exp := catalogue.for_result(result)) is not None else None


def charts_for(result: Any) -> Charts:
    """The run's charts, by name: the experiment's own (``CURATED``) when it has some, else the generic ones."""
    build = CURATED.get(experiment_name(result) or "")
    out = build(result) if build is not None else {}
    return out or generic_charts(result)


def frame_of(chart: alt.TopLevelMixin) -> pd.DataFrame:
    """The data behind a chart: its own DataFrame, else its layers' / sub-charts' (concatenated, with a
    ``part`` column when there are several)."""
    frames: list[pd.DataFrame] = []

    def walk(node: Any) -> None:
        data = getattr(node, "data", None)
        if isinstance(data, pd.DataFrame) and not any(data is f for f in frames):
            frames.append(data)
        for attr in ("layer", "hconcat", "vconcat", "concat"):
            for sub in getattr(node, attr, None) or ():
                walk(sub)
        spec = getattr(node, "spec", None)
        if spec is not None and not isinstance(spec, (str, dict)):
            walk(spec)

    walk(chart)
    if not frames:
        return pd.DataFrame()
    if len(frames) == 1:
        return frames[0]
    return pd.concat([f.assign(part=i + 1) for i, f in enumerate(frames)], ignore_index=True)
