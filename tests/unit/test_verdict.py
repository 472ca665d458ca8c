"""The verdict rules on hand-made results: each rule fires on its case and stays quiet on a clean run."""

from __future__ import annotations

import dataclasses
from typing import Any

from lab.core import verdict
from lab.core.codec import from_jsonable, to_jsonable
from lab.core.stats import LatencySummary
from lab.kafka.rdkstats import ClientStats
from lab.producer import text as producer_text
from lab.producer import verdict as producer_verdict
from lab.producer.run import IntervalSample, ProduceResult, WarmupSummary
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepResult, SweepSettings


def result(**changes: Any) -> ProduceResult:
    """A clean 5 s run at 5000 msg/s with a 1 s warm-up, then ``changes``."""
    lat = LatencySummary(20_000, 3.0, 2.5, 4.0, 6.0, 8.0, 9.0)
    samples = tuple(IntervalSample(0.5 * (i + 1), 2500, 5000.0, 0.5, 2.5, 6.0, 0, 10) for i in range(10))
    stats = ClientStats(1000.0, 10.0, 10, 12, 24.0, 1.5, 3.0, 1.0, 10_000, 10_000)
    base = ProduceResult(ProducerSettings(count=None, duration_s=5.0, rate=5000.0), "t", "local", "h:1", 25_000,
                         25_000, 0, 0, 25_000, 5.0, 5000.0, 0.5, lat, lat, None, {}, {}, 0, stats, samples,
                         cpu_s=1.0, warmup=WarmupSummary(1.0, 5000, 5000.0, lat), measured_s=4.0)
    return dataclasses.replace(base, **changes)


def codes(r: ProduceResult, others: tuple[str, ...] = ()) -> set[str]:
    return {d.code for d in producer_verdict.produce_verdict(r, others)}


def test_a_clean_run_has_no_doubt() -> None:
    assert codes(result()) == set()
    assert "verdict:    no doubt found" in producer_text.produce(result())


def test_too_short_by_time_or_by_messages() -> None:
    assert codes(result(measured_s=0.22)) == {"too-short"}
    few = result(latency=LatencySummary(150, 1, 1, 1, 1, 1, 1))
    assert codes(few) == {"too-short"}
    assert "0.22 s" in verdict.too_short(0.22, 20_000).text  # type: ignore[union-attr]


def test_target_rate_not_reached() -> None:
    assert codes(result(msgs_per_s=4000.0)) == {"rate-not-reached"}
    assert codes(result(msgs_per_s=4800.0)) == set(), "95 % of the target counts as reached"


def test_cpu_bound_when_cpu_time_is_about_wall_time() -> None:
    assert codes(result(cpu_s=4.6)) == {"cpu-bound"}
    assert codes(result(cpu_s=4.4)) == set()


def test_errors_during_the_run() -> None:
    assert codes(result(failed=3, errors={"_MSG_TIMED_OUT": 3})) == {"errors"}
    assert codes(result(client_errors={"_TRANSPORT": 1})) == {"errors"}


def test_another_experiment_at_the_same_time() -> None:
    d = producer_verdict.produce_verdict(result(), ("min.insync.replicas scenario (app)",))
    assert [x.code for x in d] == ["concurrent"] and "min.insync.replicas" in d[0].text


def test_spread_between_steady_intervals_or_repeats() -> None:
    bumpy = tuple(IntervalSample(0.5 * (i + 1), 100, v, 0.1, 1, 1, 0, 0)
                  for i, v in enumerate([5000, 5000, 5000, 1000, 9000, 5000, 5000, 5000]))
    assert codes(result(samples=bumpy)) == {"spread"}
    assert verdict.spread([100, 101, 99], "repeats") is None
    assert verdict.spread([100, 200, 50], "repeats") is not None
    assert verdict.spread([100, float("nan")], "repeats") is None, "two values are no spread"


def test_a_sweep_names_its_doubted_runs_and_the_verdict_round_trips() -> None:
    bad = dataclasses.replace(result(), verdict=producer_verdict.produce_verdict(result(measured_s=0.5)))
    sw = SweepResult(SweepSettings("acks", ProducerSettings()), (result(), bad), 3, 10.0)
    found = producer_verdict.sweep_verdict(sw, ("another run",))
    assert [d.code for d in found] == ["cells", "concurrent"] and "1 of 2 runs" in found[0].text
    sw = dataclasses.replace(sw, verdict=found)
    back = from_jsonable(SweepResult, to_jsonable(sw))
    assert back.verdict == found and back.runs[1].verdict == bad.verdict
    assert "doubt [cells]" in producer_text.sweep(back) and "too-short" in producer_text.sweep(back)
