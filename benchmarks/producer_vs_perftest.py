"""The lab's produce experiment against Kafka's own perf tool (ProducerPerformance, from the same
provisioned Kafka) on the same cluster, topic settings and producer config, in one run. A benchmark: it
prints figures and the ratios lab/perf tool, asserts nothing.

    uv run python benchmarks/producer_vs_perftest.py --state-dir /tmp/producer-cluster

Config from the issue: 100-byte records, lz4, linger.ms=10, batch.size=64 KiB, acks=1 and again acks=all.
For each: as fast as possible (goal: throughput ratio >= 1.0), then the same fixed rate for both (goal:
p50 and p99 within 15 % of the perf tool's). The as-fast-as-possible pairs run ``--rounds`` times in
alternating order and the medians are compared, because on a shared 2-core machine one run's figures are
mostly the neighbours' noise. The fixed-rate pairs run *at the same time* (each at the full rate, on its
own topic): a p99 is set by the few stalls of the brokers (GC, a 2-core machine's scheduling) during the
run, and run one after the other the two tools would see different stalls; run together they see the
same ones. The tool starts ``LEAD_S`` seconds first (its topic and JVM need a moment) and gets that many
extra seconds of records at each end, so its window covers the lab's. `kafka-lab producer perf-test` shows
one pair in full. Both send the same 256 text payloads (the tool reads them from --payload-file), each
run on its own fresh topic. The tool prints whole milliseconds, so at latencies of a few ms its
percentiles are coarse.

Warm-up: the lab's figures leave out its first second; the tool of the cluster's Kafka (4.2+) leaves out as
many first records (``--warmup-records``, KIP-1052) and its "steady state" line is compared: as fast as
possible, the records the latest lab run acknowledged in its warm-up (the first round runs the lab first);
in a fixed-rate pair, the tool's lead plus the lab's warm-up second (rate x (LEAD_S + 1 s)). A tool without
the option (3.x, 4.0, 4.1) counts everything, its start included.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import time

from lab.cluster import Cluster, from_env
from lab.core import context as experiment
from lab.producer import perftest
from lab.producer import run as produce
from lab.producer.perftest import PerfSummary, PerfTestResult
from lab.producer.run import WARMUP_S
from lab.producer.settings import ProducerSettings

BASE = ProducerSettings(message_size=100, compression="lz4", linger_ms=10, batch_size=65_536, payload="text",
                        count=1_000_000)
THROUGHPUT_GOAL = 1.0
LATENCY_TOLERANCE = 0.15
#: Seconds the tool runs before and after the lab in a fixed-rate pair (JVM start, topic creation).
LEAD_S = 3.0


def summary_of(r: PerfTestResult) -> PerfSummary:
    if r.summary is None:
        raise SystemExit(f"the perf tool stopped before its summary: {r.stopped}")
    return r.summary


def rounds(cluster: Cluster, r: ProducerSettings, n: int) -> list[tuple[float, ...]]:
    """(lab msg/s, p50, p99, tool msg/s, p50, p99) per round, the pair's order alternating (the lab first in
    the first round, so the tool always knows the latest lab run's warm-up records)."""
    out: list[tuple[float, ...]] = []
    x: produce.ProduceResult | None = None
    for i in range(n):
        lab_first = i % 2 == 0
        if lab_first:
            x = experiment.run_sync(lambda ctx: produce.run(cluster, r, ctx), time_limit_s=600)
        warm = perftest.warmup_records_for(r, x)
        y = experiment.run_sync(functools.partial(perftest.run_tool, cluster, r, warmup_records=warm),
                                time_limit_s=600)
        if not lab_first:
            x = experiment.run_sync(lambda ctx: produce.run(cluster, r, ctx), time_limit_s=600)
        assert x is not None
        t = summary_of(y)
        out.append((x.msgs_per_s, x.latency.p50_ms, x.latency.p99_ms, t.records_per_s, t.p50_ms, t.p99_ms))
        print(f"  round {i + 1} ({'lab' if lab_first else 'tool'} first): lab {x.msgs_per_s:,.0f} msg/s "
              f"p50/p99 {x.latency.p50_ms:.2f}/{x.latency.p99_ms:.2f} ms; tool {t.records_per_s:,.0f} msg/s "
              f"p50/p99 {t.p50_ms:.0f}/{t.p99_ms:.0f} ms", flush=True)
    return out


def together(cluster: Cluster, r: ProducerSettings, n: int) -> list[tuple[float, ...]]:
    """Fixed-rate pairs run at the same time; (lab msg/s, p50, p99, tool msg/s, p50, p99) per round."""
    assert r.rate is not None and r.count is not None
    out: list[tuple[float, ...]] = []
    tool_settings = r.replace(count=r.count + int(2 * LEAD_S * r.rate))
    warm = int(r.rate * (LEAD_S + WARMUP_S))  # the tool's lead, then the lab's own warm-up second
    for i in range(n):
        tool = experiment.start(lambda ctx: perftest.run_tool(cluster, tool_settings, ctx, warmup_records=warm),
                                time_limit_s=600)
        try:
            time.sleep(LEAD_S)  # the tool's topic is created and its JVM is sending before the lab starts
            x = experiment.run_sync(lambda ctx: produce.run(cluster, r, ctx), time_limit_s=600)
        except BaseException:
            tool.cancel("the lab's run of the pair failed")
            with contextlib.suppress(Exception):
                tool.wait(30)  # its run terminates the tool's JVM once it sees the cancel
            raise
        t = summary_of(tool.wait(600))
        out.append((x.msgs_per_s, x.latency.p50_ms, x.latency.p99_ms, t.records_per_s, t.p50_ms, t.p99_ms))
        print(f"  round {i + 1} (together): lab {x.msgs_per_s:,.0f} msg/s p50/p99 {x.latency.p50_ms:.2f}/"
              f"{x.latency.p99_ms:.2f} ms; tool {t.records_per_s:,.0f} msg/s p50/p99 {t.p50_ms:.0f}/{t.p99_ms:.0f} ms",
              flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--count", type=int, default=BASE.count, help="records for the as-fast-as-possible runs")
    ap.add_argument("--rate", type=float, default=5_000, help="msg/s for the fixed-rate runs")
    ap.add_argument("--rate-seconds", type=float, default=30, help="length of the fixed-rate runs")
    ap.add_argument("--rounds", type=int, default=3, help="as-fast-as-possible rounds per acks setting")
    ap.add_argument("--rate-rounds", type=int, default=3, help="fixed-rate rounds per acks setting")
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    summary = []
    lo, hi = 1 - LATENCY_TOLERANCE, 1 + LATENCY_TOLERANCE
    for acks in ("1", "all"):
        s = BASE.replace(acks=acks, count=args.count)
        print(f"\n=== acks={acks}, {args.count:,} records as fast as possible, {args.rounds} rounds ===")
        m = [statistics.median(col) for col in zip(*rounds(cluster, s, args.rounds), strict=True)]
        summary.append(f"acks={acks:3s} as fast as possible (median of {args.rounds}): throughput lab/tool "
                       f"{m[0] / m[3]:.2f} (goal >= {THROUGHPUT_GOAL}); lab {m[0]:,.0f} msg/s, tool {m[3]:,.0f} msg/s")
        r = BASE.replace(acks=acks, count=int(args.rate * args.rate_seconds), rate=args.rate)
        print(f"\n=== acks={acks}, fixed rate {args.rate:g} msg/s for {args.rate_seconds:g} s, "
              f"{args.rate_rounds} rounds, lab and tool at the same time ===")
        pairs = together(cluster, r, args.rate_rounds)
        m = [statistics.median(col) for col in zip(*pairs, strict=True)]
        # the rounds are paired (same moment, same stalls), so the ratio of each pair is the fair figure
        p50 = statistics.median(x[1] / x[4] for x in pairs)
        p99 = statistics.median(x[2] / x[5] for x in pairs)
        summary.append(f"acks={acks:3s} at {args.rate:g} msg/s (median of {args.rate_rounds} paired ratios): "
                       f"p50 lab/tool {p50:.2f}, p99 lab/tool {p99:.2f} (goal {lo:.2f}..{hi:.2f}); medians "
                       f"lab {m[1]:.2f}/{m[2]:.2f} ms, tool {m[4]:.0f}/{m[5]:.0f} ms")
    print("\n=== summary ===")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
