"""How fast the run store lists and saves. A benchmark: it prints figures and compares them with the
issue's goals; it asserts nothing.

    uv run python benchmarks/runs_store.py               # 10 000 stored runs, 10 000-sample save
    uv run python benchmarks/runs_store.py --runs 50000  # a bigger history

fill    10 000 realistic runs (produce runs of 10-300 samples with varied settings, some sweeps' worth
        of cancelled, timed-out and failed runs, spread over 90 days) written in batches of 500
list    the first page (50 and 200 rows) newest first, by experiment, by status, by a settings search,
        and a later page; median of several, each on a store just opened
save    one produce run with 10 000 interval samples: encode (codec JSON + zlib) and write, median
get     reading that run back with its typed result, median
Every run uses its own temporary file (never the user's store).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.core.results import ClusterFacts, RunInfo
from lab.core.stats import LatencySummary
from lab.kafka.rdkstats import ClientStats
from lab.producer.run import IntervalSample, ProduceResult
from lab.producer.settings import ACKS, CODECS, ProducerSettings
from lab.runs import store as runs
from lab.runs.store import RunRecord, RunStore

#: The issue's goals.
LIST_GOAL_S = 1.0
SAVE_GOAL_S = 0.100
#: Runs in the history and samples in the big run.
DEFAULT_RUNS = 10_000
BIG_SAMPLES = 10_000
#: Repeats behind each median.
REPEATS = 7
BATCH = 500
FACTS = ClusterFacts("local", "127.0.0.1:39092", "lab-cluster-id", "3.9.2", 3)
FAILURE = "No broker answered at 127.0.0.1:39092.\nStart the cluster: kafka-lab cluster up"
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC: start of the 90 days


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}+00:00"


def produce_run(rng: random.Random, run_id: str, started: float, samples: int,
                stopped: str | None = None) -> ProduceResult:
    s = ProducerSettings(acks=rng.choice(ACKS), compression=rng.choice(CODECS), linger_ms=rng.choice([0, 1, 5, 20]),
                         batch_size=rng.choice([16_384, 65_536, 262_144]), message_size=rng.choice([100, 1024]))
    rate = rng.uniform(20_000, 200_000)
    sample_list = tuple(IntervalSample(round(0.1 * (i + 1), 3), int(rate / 10), rate * rng.uniform(0.8, 1.2),
                                       rate * s.message_size / 1e6, rng.uniform(0.5, 5), rng.uniform(5, 40),
                                       0, rng.randint(0, 5000)) for i in range(samples))
    lat = LatencySummary(int(rate * samples / 10), 2.5, 2.0, 8.0, 15.0, 30.0, 45.0)
    stats = ClientStats(9000.0, 80.0, 1200, 2400, 240.0, 1.2, 4.5, 1.8, 10_000_000, 6_000_000)
    elapsed = samples / 10
    info = RunInfo(run_id, "produce", iso(started), iso(started + elapsed + 2), FACTS, rng.choice(["app", "cli"]),
                   elapsed + 2)
    return ProduceResult(s, f"lab-produce-{run_id}", "local", FACTS.bootstrap_servers, lat.count, lat.count, 0, 0,
                         lat.count, elapsed, rate, rate * s.message_size / 1e6, lat, None, None, {}, {}, 0, stats,
                         sample_list, stopped=stopped, run=info, cpu_s=elapsed * 0.6)


def history(n: int, seed: int = 7) -> list[RunRecord]:
    """``n`` runs as a user's store would hold them after months of use."""
    rng = random.Random(seed)
    out: list[RunRecord] = []
    for i in range(n):
        started = T0 + i * (90 * 86_400 / n) + rng.uniform(0, 60)
        run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started)) + f"-{i:06x}"
        roll = rng.random()
        if roll < 0.05:  # a failure: no result, an error and the settings
            out.append(RunRecord(run_id, "produce", "failed", iso(started), iso(started + 3), "app",
                                 ProducerSettings(compression=rng.choice(CODECS)), cluster=FACTS,
                                 error=FAILURE, elapsed_s=3.0))
            continue
        stopped = ("stopped early: cancelled by the user" if roll < 0.10 else
                   "stopped early: the time limit of 60 s was reached" if roll < 0.12 else None)
        out.append(RunRecord.of(produce_run(rng, run_id, started, rng.randint(10, 300), stopped)))
    return out


def median_s(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def verdict(seconds: float, goal: float) -> str:
    return f"{'meets' if seconds <= goal else 'MISSES'} the goal of {goal * 1000:.0f} ms ({seconds / goal:.3g}x)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    ap.add_argument("--samples", type=int, default=BIG_SAMPLES)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="runs-bench-") as tmp:
        path = Path(tmp) / "runs.sqlite"
        records = history(args.runs)
        store = RunStore(path)
        t = time.perf_counter()
        for i in range(0, len(records), BATCH):
            store.save_many(records[i:i + BATCH])
        fill = time.perf_counter() - t
        samples = sum(len(r.result.samples) for r in records if isinstance(r.result, ProduceResult))
        store.close()
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        print(f"store: {len(records):,} runs ({samples:,} samples) written in "
              f"{fill:.1f} s ({fill / len(records) * 1000:.2f} ms per run in batches of {BATCH}); "
              f"{size_mb:.1f} MB on disk")

        t = time.perf_counter()
        opened = RunStore(path)
        print(f"open:  {1000 * (time.perf_counter() - t):.1f} ms (migration check and interrupted-run repair)")
        cases: list[tuple[str, Callable[[RunStore], Any]]] = [
            ("first page, 50 rows", lambda s: s.list(limit=50)),
            ("first page, 200 rows", lambda s: s.list(limit=200)),
            ("experiment=produce, 50 rows", lambda s: s.list(experiment="produce", limit=50)),
            ("status=failed, 50 rows", lambda s: s.list(status="failed", limit=50)),
            ("search 'zstd', 50 rows", lambda s: s.list(search="zstd", limit=50)),
            ("search matching nothing (full scan)", lambda s: s.list(search="no-such-text", limit=50)),
            ("page 100 (offset 5000), 50 rows", lambda s: s.list(limit=50, offset=5000)),
            ("count()", lambda s: s.count()),
        ]
        worst = 0.0
        for name, case in cases:
            cold = median_s(lambda case=case: _cold(path, case), 5)  # type: ignore[misc]
            warm = median_s(lambda case=case: case(opened))  # type: ignore[misc]
            worst = max(worst, cold)
            print(f"list:  {name:<36} {cold * 1000:7.1f} ms on a just-opened store, {warm * 1000:6.1f} ms warm")
        print(f"list:  slowest first page {worst * 1000:.1f} ms: {verdict(worst, LIST_GOAL_S)}")

        rng = random.Random(1)
        big = [produce_run(rng, f"big-{i}", T0 + 91 * 86_400 + i, args.samples) for i in range(REPEATS)]
        it = iter(big)
        encode = median_s(lambda: runs.RunStore._body(big[0]))
        save = median_s(lambda: opened.save(RunRecord.of(next(it))))
        get = median_s(lambda: opened.get("big-0"))
        body = runs.RunStore._body(big[0]) or b""
        print(f"save:  a run with {args.samples:,} samples {save * 1000:.1f} ms (of which encoding "
              f"{encode * 1000:.1f} ms; body {len(body) / 1e6:.2f} MB compressed): {verdict(save, SAVE_GOAL_S)}")
        print(f"get:   the same run back as a typed ProduceResult {get * 1000:.1f} ms")
        opened.close()
    # the other two figures (overlay of 5 runs, PNG of a 10 000-point chart) live in their own script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import export_figures

    print("\noverlay and PNG export (benchmarks/export_figures.py):")
    sys.argv = sys.argv[:1]
    export_figures.main()


def _cold(path: Path, case: Callable[[RunStore], Any]) -> None:
    with RunStore(path) as s:
        case(s)


if __name__ == "__main__":
    main()
