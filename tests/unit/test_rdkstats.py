"""librdkafka statistics windows add up to the run's batch, request, round-trip and compression figures."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from lab.kafka.rdkstats import StatsAccumulator


def window(batch_sum: int, batch_cnt: int, msgs: int, txbytes: tuple[int, ...], tx: tuple[int, ...],
           rtt: tuple[tuple[int, float, float], ...], topic: str = "t") -> dict[str, Any]:
    """A statistics document shaped like librdkafka's (only the fields the lab reads)."""
    parts: dict[str, Any] = {str(i): {"txbytes": b} for i, b in enumerate(txbytes)}
    parts["-1"] = {"txbytes": 10**9}  # the unassigned partition: never counted
    brokers = {f"b{i}": {"tx": n, "rtt": {"cnt": c, "avg": avg, "p99": p99}}
               for i, (n, (c, avg, p99)) in enumerate(zip(tx, rtt, strict=True))}
    return {"topics": {topic: {"batchsize": {"sum": batch_sum, "cnt": batch_cnt}, "batchcnt": {"sum": msgs},
                               "partitions": parts}},
            "brokers": brokers}


def test_windows_add_up() -> None:
    acc = StatsAccumulator("t")
    acc.on_stats(json.dumps(window(10_000, 10, 200, (3_000, 2_000), (5, 5), ((4, 1_000.0, 3_000.0), (0, 0, 0)))))
    acc.add(window(5_000, 5, 100, (6_000, 4_000), (8, 9), ((4, 3_000.0, 9_000.0), (2, 2_000.0, 4_000.0))))
    # a window without the topic's batches (nothing sent in it): the brokers' cumulative counters still move
    acc.add({"topics": {}, "brokers": {"b0": {"tx": 9, "rtt": {"cnt": 0}}, "b1": {"tx": 9, "rtt": {"cnt": 0}}}})
    assert acc.windows == 3
    s = acc.summary(2.0)
    assert s.batches == 15 and s.avg_batch_bytes == 1_000 and s.avg_msgs_per_batch == 20
    # payload bytes are cumulative per partition: the last window with the topic holds the total
    assert s.payload_bytes == 10_000 and s.wire_bytes == 15_000 and s.compression_ratio == pytest.approx(10 / 15)
    # requests are cumulative too: the last window's sum over the brokers
    assert s.requests == 18 and s.requests_per_s == 9
    assert s.broker_rtt_avg_ms == pytest.approx((4 * 1.0 + 4 * 3.0 + 2 * 2.0) / 10)
    assert s.broker_rtt_p99_ms == 9.0


def test_no_windows_give_nan_ratios_not_errors() -> None:
    s = StatsAccumulator("t").summary(0.0)
    assert s.batches == 0 and s.requests_per_s == 0
    assert math.isnan(s.avg_batch_bytes) and math.isnan(s.compression_ratio) and math.isnan(s.broker_rtt_avg_ms)
