"""Any run's key figures and time series, and several runs of one experiment side by side — generic.

Nothing here knows an experiment: it walks a result's dataclass fields, so a new experiment gets its
figures, series, settings diff and overlay charts without code of its own.

- ``figures(result)``: every numeric scalar (fields and numeric properties), recursively through nested
  dataclasses (``latency.p99_ms``), dicts of numbers (``errors._MSG_TIMED_OUT``) and labelled tuples of
  dataclasses without a time field (``phases.one-down.acks_all.acked``); settings and run info skipped.
- ``series(result)``: every tuple of dataclasses with a time field (``t`` or ``t_s``) as a DataFrame:
  a ``t`` column (seconds), a ``key`` column when the rows belong to several things (a partition, a
  member, a sweep point: one line each), and one column per numeric field or property.
- ``differing_settings``, ``figures_table``, ``overlay_charts``: the comparison of runs of one experiment
  (``LabError`` for runs of different experiments).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from lab.core.codec import to_jsonable
from lab.core.errors import LabError

#: Names of the time field of a sample (seconds on the run's clock).
TIME_FIELDS = ("t", "t_s")
#: Fields that say *which* thing a row is about (one line per value), never plotted as values.
IDENTITY_FIELDS = ("topic", "partition", "member", "mode", "broker", "case", "strategy")
#: Fields that label an item of a tuple (for figures' dotted names and series keys), after the identity ones.
LABEL_FIELDS = ("label", "name", "what", "code")
#: Never figures nor series: the settings and run info are shown on their own; ``wall`` is an epoch clock.
SKIP_FIELDS = frozenset({"settings", "run", "wall"})
#: How deep the walk goes into nested dataclasses (results nest results: a sweep's runs, a lag scenario's watch).
MAX_DEPTH = 6
#: At most this many items of one tuple give figures (a long list of verdicts is a table, not figures).
MAX_ITEMS = 50
#: Above this many rows a line is drawn without a point per sample (points would hide the line).
POINTS_UP_TO = 300
#: Overlay chart size (px): two side by side on a page, readable on a projector when exported.
CHART_WIDTH = 520
CHART_HEIGHT = 260
#: Joins the parts of a key or a run label.
SEP = " · "


# --- the walk -------------------------------------------------------------------------------------
def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_record(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _time_field(item: object) -> str | None:
    if not _is_record(item):
        return None
    names = {f.name for f in dataclasses.fields(item)}  # type: ignore[arg-type]
    return next((n for n in TIME_FIELDS if n in names), None)


def _members(obj: Any) -> Iterator[tuple[str, Any]]:
    """The dataclass's fields, then its numeric properties (a property that fails is left out)."""
    for f in dataclasses.fields(obj):
        if f.name not in SKIP_FIELDS:
            yield f.name, getattr(obj, f.name)
    seen: set[str] = set()
    for cls in type(obj).__mro__:
        for name, attr in vars(cls).items():
            if isinstance(attr, property) and not name.startswith("_") and name not in seen:
                seen.add(name)
                try:
                    value = getattr(obj, name)
                except Exception:  # noqa: BLE001 - a derived figure that cannot be computed is just absent
                    continue
                if _is_number(value):
                    yield name, value


def _label(item: Any, index: int) -> str:
    """What an item of a tuple is called: its identity fields, else a label/name field, else its index."""
    own = _identity(item)
    if own:
        return own[0]
    for n in LABEL_FIELDS:
        value = getattr(item, n, None)
        if isinstance(value, str) and value:
            return value
    name = getattr(getattr(item, "settings", None), "name", None)
    return name if isinstance(name, str) and name else str(index)


def _labelled(items: Sequence[Any]) -> list[tuple[str, Any]]:
    """Items with unique labels (a repeated label gets ``#index``)."""
    out: list[tuple[str, Any]] = []
    used: set[str] = set()
    for i, item in enumerate(items):
        label = _label(item, i)
        if label in used:
            label = f"{label}#{i}"
        used.add(label)
        out.append((label, item))
    return out


def _records(value: object) -> bool:
    return isinstance(value, (tuple, list)) and bool(value) and _is_record(value[0])


def figures(result: Any) -> dict[str, float]:
    """The key figures of a result (see the module docstring), dotted names -> float; NaN kept."""
    out: dict[str, float] = {}
    _figures(result, "", out, 0)
    return out


def _figures(obj: Any, prefix: str, out: dict[str, float], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for name, value in _members(obj):
        key = prefix + name
        if _is_number(value):
            out[key] = float(value)
        elif _is_record(value):
            _figures(value, key + ".", out, depth + 1)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if _is_number(v):
                    out[f"{key}.{k}"] = float(v)
        elif _records(value) and _time_field(value[0]) is None:
            for label, item in _labelled(value)[:MAX_ITEMS]:
                _figures(item, f"{key}.{label}.", out, depth + 1)


def _values(item: Any, row: dict[str, Any]) -> list[tuple[str, Any]]:
    """Fill ``row`` with an item's numeric values; return its nested tuples of records (per-item rows)."""
    nested = []
    for name, value in _members(item):
        if name in TIME_FIELDS or name in IDENTITY_FIELDS:
            continue
        if _is_number(value):
            row[name] = value
        elif isinstance(value, Mapping):
            row.update({f"{name}.{k}": v for k, v in value.items() if _is_number(v)})
        elif _records(value):
            nested.append((name, value))
        elif isinstance(value, (tuple, list, frozenset, set)) and all(isinstance(v, (int, str)) for v in value):
            row[f"{name}.size"] = len(value)
    return nested


def series(result: Any) -> dict[str, pd.DataFrame]:
    """The time series of a result (see the module docstring): dotted name -> DataFrame ``t``, [``key``], values.

    Series without a numeric column (e.g. the steps a scenario took) are left out.
    """
    rows: dict[str, list[dict[str, Any]]] = {}
    _series(result, "", (), rows, 0)
    out = {}
    for name, rs in rows.items():
        frame = pd.DataFrame(rs)
        if "key" in frame:
            frame["key"] = frame["key"].fillna("")
        if len(frame.columns.difference(["t", "key"])):
            out[name] = frame
    return out


def _series(obj: Any, prefix: str, keys: tuple[str, ...], rows: dict[str, list[dict[str, Any]]], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for name, value in _members(obj):
        if _is_record(value):
            _series(value, f"{prefix}{name}.", keys, rows, depth + 1)
        elif _records(value):
            tf = _time_field(value[0])
            if tf is None:
                for label, item in _labelled(value):
                    _series(item, f"{prefix}{name}.", (*keys, label), rows, depth + 1)
                continue
            for item in value:
                _sample_rows(item, float(getattr(item, tf)), prefix + name, keys, rows)


def _sample_rows(item: Any, t: float, name: str, keys: tuple[str, ...], rows: dict[str, list[dict[str, Any]]]) -> None:
    """One sample's row, and one row per nested per-thing record (a partition of a snapshot)."""
    own = _identity(item)
    row: dict[str, Any] = {"t": t}
    if keys or own:
        row["key"] = SEP.join((*keys, *own))
    nested = _values(item, row)
    rows.setdefault(name, []).append(row)
    for sub, records in nested:
        for label, rec in _labelled(records):
            sub_row: dict[str, Any] = {"t": t, "key": SEP.join((*keys, *own, label))}
            _values(rec, sub_row)
            rows.setdefault(f"{name}.{sub}", []).append(sub_row)


def _identity(item: Any) -> tuple[str, ...]:
    """The item's identity fields as one key part (``orders/0``), or nothing."""
    parts = [str(getattr(item, n)) for n in IDENTITY_FIELDS
             if isinstance(getattr(item, n, None), (str, int)) and not isinstance(getattr(item, n), bool)]
    return ("/".join(parts),) if parts else ()


# --- runs side by side ----------------------------------------------------------------------------
def _flat(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        out[prefix] = ", ".join(str(v) for v in value)
    else:
        out[prefix] = value


def settings_of(result: Any) -> dict[str, Any]:
    """A result's settings flattened to dotted names -> plain values (nested settings dotted)."""
    settings = getattr(result, "settings", None)
    out: dict[str, Any] = {}
    if settings is not None:
        _flat(to_jsonable(settings), "", out)
    return out


def experiment_of(result: Any) -> str:
    """The experiment's registry name from the run info, else the result's type name."""
    run = getattr(result, "run", None)
    return run.experiment if run is not None else type(result).__name__


def check_comparable(results: Sequence[Any]) -> None:
    """Runs of one experiment, or ``LabError`` saying which differ."""
    if not results:
        raise LabError("No runs to compare.", hint="Pick at least one run.")
    names = sorted({experiment_of(r) for r in results} | {type(r).__name__ for r in results})
    if len({type(r) for r in results}) > 1 or len({experiment_of(r) for r in results}) > 1:
        raise LabError(f"These runs are of different experiments ({', '.join(names)}): their figures "
                       "do not line up.", hint="Compare runs of one experiment, e.g. two produce runs.")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def run_label(result: Any, keys: Sequence[str] = (), index: int = 0) -> str:
    """``run 20261202T030112-ab12cd · linger_ms=10``: the run id and the settings named by ``keys``
    (those that differ between the compared runs); ``run #index`` for a result never stored."""
    run = getattr(result, "run", None)
    head = f"run {run.run_id}" if run is not None else f"run #{index + 1}"
    flat = settings_of(result)
    parts = [f"{k}={_short(flat.get(k))}" for k in keys]
    return SEP.join([head, *parts])


def differing_keys(results: Sequence[Any]) -> list[str]:
    """Settings whose values are not the same in every run (in the first run's order)."""
    flats = [settings_of(r) for r in results]
    names = list(dict.fromkeys(k for f in flats for k in f))
    return [k for k in names if len({repr(f.get(k)) for f in flats}) > 1]


def run_labels(results: Sequence[Any]) -> list[str]:
    """One label per run, with the settings that differ (at most a few, so a legend stays short)."""
    keys = differing_keys(results)[:3]
    labels = [run_label(r, keys, i) for i, r in enumerate(results)]
    if len(set(labels)) < len(labels):
        labels = [f"{label} (#{i + 1})" for i, label in enumerate(labels)]
    return labels


def differing_settings(results: Sequence[Any]) -> pd.DataFrame:
    """One row per setting, one column per run (its label), and ``differs`` (True where runs disagree)."""
    check_comparable(results)
    labels = run_labels(results)
    flats = [settings_of(r) for r in results]
    names = list(dict.fromkeys(k for f in flats for k in f))
    differ = set(differing_keys(results))
    frame = pd.DataFrame({label: [_short(f.get(k, "")) for k in names] for label, f in zip(labels, flats, strict=True)},
                         index=pd.Index(names, name="setting"))
    frame["differs"] = [k in differ for k in names]
    return frame


def figures_table(results: Sequence[Any]) -> pd.DataFrame:
    """One row per figure, one column per run, and for each later run its ratio to the first (``÷ first``)."""
    check_comparable(results)
    labels = run_labels(results)
    figs = [figures(r) for r in results]
    names = list(dict.fromkeys(k for f in figs for k in f))
    frame = pd.DataFrame({label: [f.get(k, math.nan) for k in names] for label, f in zip(labels, figs, strict=True)},
                         index=pd.Index(names, name="figure"))
    first = frame[labels[0]]
    for label in labels[1:]:
        frame[f"{label} ÷ first"] = [b / a if a and not math.isnan(a) else math.nan
                                     for a, b in zip(first, frame[label], strict=True)]
    return frame


# --- charts ---------------------------------------------------------------------------------------
def field_name(column: str) -> str:
    """A column name Vega-Lite reads as one field (a dot would be nested access)."""
    return re.sub(r"[^0-9A-Za-z_]", "_", column)


def series_chart(frame: pd.DataFrame, column: str, title: str, colour: str | None = None) -> alt.Chart:
    """One value column over ``t``: one line per ``colour`` value (a run, or a key), one per key within it."""
    y = field_name(column)
    keep = [c for c in ("t", "run", "key") if c in frame]
    data = frame[[*keep, column]].rename(columns={column: y}).dropna(subset=[y])
    enc: dict[str, Any] = {
        "x": alt.X("t:Q", title="seconds since start"),
        "y": alt.Y(f"{y}:Q", title=column),
        "tooltip": [*(f"{c}:N" for c in keep if c != "t"), alt.Tooltip("t:Q", format=".2f"),
                    alt.Tooltip(f"{y}:Q", format=",.4g", title=column)],
    }
    if colour is not None and colour in data:
        enc["color"] = alt.Color(f"{colour}:N", legend=alt.Legend(orient="top", title=None, labelLimit=600,
                                                                  columns=1))
    if "key" in data and colour != "key":
        enc["detail"] = "key:N"
    chart: alt.Chart = (alt.Chart(data, title=title, width=CHART_WIDTH, height=CHART_HEIGHT)
                        .mark_line(point=len(data) <= POINTS_UP_TO).encode(**enc))
    return chart


def informative(values: pd.Series) -> bool:
    """Worth a chart: some values, and not one constant (a flat line says nothing a figure does not)."""
    v = values.dropna()
    return len(v) > 0 and v.nunique() > 1


def value_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("t", "key", "run")]


def overlay_charts(results: Sequence[Any]) -> dict[str, alt.Chart]:
    """For each series measure (``samples.msgs_per_s``, ``timeline.produce.acked`` …) one chart with a line
    per run, coloured by run label. Measures that are constant or empty in every run are left out."""
    check_comparable(results)
    labels = run_labels(results)
    parts: dict[str, list[pd.DataFrame]] = {}
    for label, result in zip(labels, results, strict=True):
        for name, frame in series(result).items():
            parts.setdefault(name, []).append(frame.assign(run=label))
    out: dict[str, alt.Chart] = {}
    for name, frames in parts.items():
        data = pd.concat(frames, ignore_index=True)
        for column in value_columns(data):
            if informative(data[column]):
                out[f"{name}.{column}"] = series_chart(data, column, f"{column} ({name})", colour="run")
    return out

