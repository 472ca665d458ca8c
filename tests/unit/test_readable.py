"""Numbers and names as a person reads them: separators, a few decimals, never scientific notation;
durations scaled; the lab's field names as labels with units."""

from __future__ import annotations

import math

import pytest

from lab.runs.readable import duration_ms, label, number, quantity, ratio, setting


@pytest.mark.parametrize(("x", "text"), [
    (332_700.4, "332,700"), (3.327e5, "332,700"), (36.824, "36.8"), (7.256, "7.26"), (0.2, "0.2"),
    (0.0042, "0.0042"), (1e-7, "0.0000001"), (20_000.0, "20,000"), (0.0, "0"), (-3.5, "-3.50"), (7, "7"),
    (2_147_483_647, "2,147,483,647"), (math.nan, "—"), (None, "—"), (True, "yes"), (math.inf, "∞"),
])
def test_number(x: object, text: str) -> None:
    assert number(x) == text


def test_no_scientific_notation_anywhere() -> None:
    for exp in range(-12, 16):
        for x in (1.234 * 10**exp, -9.87 * 10**exp):
            assert "e" not in number(x) and "e" not in quantity(x, "ms"), x


def test_durations_ratios_and_units() -> None:
    assert [duration_ms(x) for x in (0.84, 512.3, 3_712.0, 150_000.0)] == ["0.84 ms", "512 ms", "3.7 s", "2.5 min"]
    assert [ratio(x) for x in (2.1, 1.05, 0.95, 12.3, 2.0)] == ["2.1×", "1.05×", "0.95×", "12×", "2×"]
    assert quantity(12.4, "MB/s") == "12.4 MB/s" and quantity(1.25, "s") == "1.2 s" and quantity(49.9, "/s") == "49.9/s"


@pytest.mark.parametrize(("name", "expected"), [
    ("stats.broker_rtt_avg_ms", ("broker round trip (avg)", "ms")),
    ("latency.p99_ms", ("send→ack latency (p99)", "ms")),
    ("intended_latency.p999_ms", ("intended→ack latency (p99.9)", "ms")),
    ("warmup.latency.count", ("warm-up · latency (count)", "")),
    ("warmup.msgs_per_s", ("warm-up · throughput", "msg/s")),
    ("msgs_per_s", ("throughput", "msg/s")),
    ("errors._MSG_TIMED_OUT", ("errors · _MSG_TIMED_OUT", "")),
    ("phases.one-down.acks_all.acked", ("phases · one-down · acks=all · acked", "")),
    ("hw_stalled_s", ("high watermark stalled", "s")),
])
def test_labels(name: str, expected: tuple[str, str]) -> None:
    assert label(name) == expected


def test_settings_keep_their_unit() -> None:
    assert setting("linger_ms", 5.0) == ("linger", "5 ms")
    assert setting("delivery_timeout_ms", 30_000) == ("delivery timeout", "30,000 ms")
    assert setting("batch_size", 16_384) == ("batch size", "16,384 bytes")
    assert setting("rate", None) == ("rate", "none") and setting("enable_idempotence", False)[1] == "no"
    assert setting("count", 20_000) == ("count", "20,000")  # a setting's count is not a statistic
