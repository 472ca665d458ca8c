"""The sustainable-rate search's judgement on recorded lag: a step whose lag grows is "fell behind", one
whose lag saws around a level (auto-commit every second) is "kept up"; the rate found is the step before
the first failure; settings refuse what cannot be searched."""

from __future__ import annotations

import math

import pytest

from lab.core.errors import SettingsError
from lab.lag import charts as charts_lag
from lab.lag import text as text_lag
from lab.lag.rate import RateStep, SustainableRateResult, judge_step, slope
from lab.lag.settings import SustainableRateSettings


def test_slope_of_a_line_and_of_too_few_points() -> None:
    assert slope([(0.0, 0), (1.0, 10), (2.0, 20)]) == pytest.approx(10.0)
    assert math.isnan(slope([(0.0, 5)])) and math.isnan(slope([(1.0, 5), (1.0, 7)]))


def test_a_sawing_lag_is_kept_up_with_and_a_growing_one_is_not() -> None:
    rate = 200
    # kept up: the lag saws between ~0 and one commit interval of records (200) around a level
    saw = [(10.0 + i, 200 if i % 2 else 20) for i in range(15)]
    growth, kept = judge_step(saw, rate, start_s=10.0)
    assert kept and abs(growth) < 0.1 * rate
    # fell behind: capacity 150/s under 200/s, lag grows 50 records a second for 15 s (750 > 2 x 200)
    behind = [(10.0 + i, 100 + 50 * i) for i in range(15)]
    growth, kept = judge_step(behind, rate, start_s=10.0)
    assert not kept and growth == pytest.approx(50.0)
    # a brief climb that ends where it started is no trend
    hump = [(10.0 + i, [0, 300, 600, 300, 0, 0, 0, 0][i]) for i in range(8)]
    assert judge_step(hump, rate, start_s=10.0)[1]


def test_the_rate_found_is_the_last_step_kept_up_with() -> None:
    s = SustainableRateSettings(start_rate=50, step=50, max_rate=300)
    steps = tuple(RateStep(r, i * 15.0, (i + 1) * 15.0, 0, 0 if r <= 150 else 900, 0.0 if r <= 150 else 60.0,
                           r <= 150) for i, r in enumerate((50, 100, 150, 200)))
    res = SustainableRateResult(s, "t", "g", steps, ())
    assert res.sustainable_rate == 150 and res.found_limit
    assert "sustainable rate: 150 records/s (the next step, 200/s, fell behind)" in text_lag.sustainable_rate(res)
    frame = res.steps_frame()
    assert list(frame["verdict"]) == ["kept up"] * 3 + ["fell behind"]
    assert len(charts_lag.rate_search(res.lag_frame(), frame).to_dict()["layer"]) == 3
    never = SustainableRateResult(s, "t", "g", steps[:2], ())
    assert never.sustainable_rate == 100 and not never.found_limit
    assert "at least 100" in text_lag.sustainable_rate(never)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"members": 5, "partitions": 4}, "members=5 is out of range"),
    ({"start_rate": 300, "max_rate": 200}, "max_rate 200 is below start_rate 300"),
    ({"step": 1, "max_rate": 500}, "plans 451 steps"),
    ({"step_s": 3}, "step length 3 s is out of range"),
])
def test_settings_refuse_what_cannot_be_searched(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        SustainableRateSettings(**kwargs)  # type: ignore[arg-type]
