"""What comparing and exporting costs: overlay charts of 5 long produce runs (goal <= 1 s) and the PNG of a
10 000-point chart (goal <= 3 s). A benchmark: it prints figures, asserts nothing; no cluster needed.

    uv run python benchmarks/export_figures.py [--repeats 5]

The runs are real ``ProduceResult`` values as a 10-minute run records them (a sample every 0.5 s after
2 s of 0.1 s samples, noisy throughput and latency); medians over the repeats (the first PNG also
starts vl-convert's engine, so it is reported on its own).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable

import pandas as pd

from lab.core.results import ClusterFacts, RunInfo
from lab.core.stats import LatencySummary
from lab.export import files as export
from lab.kafka.rdkstats import ClientStats
from lab.producer.run import IntervalSample, ProduceResult
from lab.producer.settings import ProducerSettings
from lab.runs import compare

OVERLAY_GOAL_S = 1.0
PNG_GOAL_S = 3.0
RUNS = 5
RUN_S = 600.0
PNG_POINTS = 10_000


def produce_run(i: int, rng: random.Random) -> ProduceResult:
    """A 10-minute produce run with linger.ms = 5 * (i+1), as the lab records it."""
    ts = [0.1 * k for k in range(1, 21)] + [2.0 + 0.5 * k for k in range(1, int((RUN_S - 2.0) / 0.5) + 1)]
    base = 40_000.0 + 5_000 * i
    samples = tuple(IntervalSample(t, int(base / 2), rng.gauss(base, base * 0.05), rng.gauss(base, 2000) / 10_000,
                                   rng.uniform(2, 4), rng.uniform(8, 30), int(rng.random() < 0.01), rng.randint(0, 900))
                    for t in ts)
    settings = ProducerSettings(linger_ms=5.0 * (i + 1), count=None, duration_s=RUN_S)
    lat = LatencySummary(24_000_000, 3.1, 2.9, 7.5, 12.0, 25.0, 80.0)
    run = RunInfo(f"20261202T03{i:02d}00-{i:06x}", "produce", "2026-12-02T03:00:00.000+00:00",
                  "2026-12-02T03:10:00.000+00:00", ClusterFacts("local", "127.0.0.1:9092", "abc", "3.9.2", 3),
                  "benchmark", RUN_S)
    n = int(base * RUN_S)
    return ProduceResult(settings, "lab-produce-bench", "local", "127.0.0.1:9092", n, n, 0, 0, n, RUN_S, base,
                         base / 10_000, lat, None, None, {}, {}, 0,
                         ClientStats(9000.0, 90.0, n // 90, n // 80, 130.0, 1.2, 4.0, 1.0, n * 100, n * 101),
                         samples, run=run, measured_s=RUN_S - 1)


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(12)
    runs = [produce_run(i, rng) for i in range(RUNS)]
    samples = sum(len(r.samples) for r in runs)

    def overlay() -> None:
        charts = compare.overlay_charts(runs)
        for chart in charts.values():
            export.chart_spec(chart)  # what a page or an export does with them next

    build = timed(lambda: compare.overlay_charts(runs), args.repeats)
    with_specs = timed(overlay, args.repeats)
    n_charts = len(compare.overlay_charts(runs))

    frame = pd.DataFrame({"t": [k * 0.06 for k in range(PNG_POINTS)],
                          "value": [1000 + 200 * math.sin(k / 300) + rng.gauss(0, 20) for k in range(PNG_POINTS)]})
    chart = compare.series_chart(frame, "value", f"{PNG_POINTS:,} points")
    first = timed(lambda: export.chart_png(chart), 1)[0]
    pngs = timed(lambda: export.chart_png(chart), args.repeats)
    width, height = export.png_size(export.chart_png(chart))

    def line(what: str, seconds: float, goal: float) -> None:
        print(f"{what:<58} {seconds:7.3f} s   goal {goal:.0f} s   goal/actual {goal / seconds:5.1f}x")

    print(f"{RUNS} produce runs of {RUN_S:.0f} s, {samples:,} samples in all; {n_charts} overlay charts; "
          f"medians of {args.repeats}")
    line("overlay_charts(5 runs)", statistics.median(build), OVERLAY_GOAL_S)
    line("overlay_charts(5 runs) + every chart's Vega-Lite spec", statistics.median(with_specs), OVERLAY_GOAL_S)
    print(f"first PNG (starts vl-convert's engine): {first:.3f} s")
    line(f"chart_png({PNG_POINTS:,}-point line) -> {width}x{height} px", statistics.median(pngs), PNG_GOAL_S)
    report = timed(lambda: export.html_report(runs), 1)[0]
    print(f"html_report(5 runs: {n_charts} overlay charts as inline SVG): {report:.3f} s (one run, no goal)")


if __name__ == "__main__":
    main()
