"""Percentile, latency-summary and rate maths (nearest rank, like Kafka's perf tool)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.core.stats import LatencySummary, mb, percentile, percentiles, rate, ratio


def test_nearest_rank_on_known_values() -> None:
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 0.999) == 100
    assert percentile(values, 1.0) == 100
    assert percentile(values, 0.0) == 1
    assert percentiles(values, [0.5, 0.95, 0.99]) == [50, 95, 99]


def test_empty_and_bad_quantiles() -> None:
    assert math.isnan(percentile([], 0.5))
    assert all(math.isnan(x) for x in percentiles([], [0.5, 0.99]))
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)
    with pytest.raises(ValueError):
        percentiles([1.0], [-0.1])


def test_summary_converts_seconds_to_ms() -> None:
    s = LatencySummary.of_seconds([0.001, 0.002, 0.003, 0.004])
    assert s.count == 4
    assert s.avg_ms == pytest.approx(2.5)
    assert s.p50_ms == pytest.approx(2.0)
    assert s.max_ms == pytest.approx(4.0)
    empty = LatencySummary.of_seconds([])
    assert empty.count == 0 and math.isnan(empty.p99_ms)


def test_rates_and_ratios() -> None:
    assert rate(1000, 2.0) == 500
    assert rate(1000, 0.0) == 0.0
    assert ratio(3, 2) == 1.5
    assert math.isnan(ratio(1, 0))
    assert mb(2_500_000) == 2.5


samples = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=300)


@given(samples, st.floats(0, 1))
def test_percentile_is_a_sample_value_within_range(values: list[float], q: float) -> None:
    p = percentile(values, q)
    assert p in values
    assert min(values) <= p <= max(values)
    # nearest rank: at least q of the sample is <= p
    assert sum(v <= p for v in values) >= q * len(values) - 1e-9


@given(samples, st.lists(st.floats(0, 1), min_size=2, max_size=6))
def test_percentiles_are_monotone_and_agree_with_percentile(values: list[float], qs: list[float]) -> None:
    qs = sorted(qs)
    ps = percentiles(values, qs)
    assert ps == sorted(ps)
    assert ps == [percentile(values, q) for q in qs]


@given(samples)
def test_summary_is_ordered(values: list[float]) -> None:
    s = LatencySummary.of_seconds(values)
    assert s.count == len(values)
    assert s.p50_ms <= s.p95_ms <= s.p99_ms <= s.p999_ms <= s.max_ms
    assert min(values) * 1000 - 1e-6 <= s.avg_ms <= s.max_ms + 1e-6


@given(st.floats(0, 1e9), st.floats(1e-6, 1e6))
def test_rate_times_time_gives_back_the_amount(amount: float, seconds: float) -> None:
    assert rate(amount, seconds) * seconds == pytest.approx(amount, rel=1e-9, abs=1e-9)
