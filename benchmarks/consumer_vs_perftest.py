"""The lab's consumer against Kafka's kafka-consumer-perf-test (ConsumerPerformance, from the same
provisioned Kafka) and against a bare confluent-kafka consume loop, on the same topic and fetch settings.
A benchmark: it prints figures and ratios, asserts nothing.

    uv run python benchmarks/consumer_vs_perftest.py --state-dir /tmp/consumer-cluster [--rounds 3]

The topic holds 1 000 000 records of 100 bytes (seeded once, reused). For the default fetch settings and
the high-throughput profile, ``--rounds`` rounds run the three readers in alternating order, each in a
fresh group from the beginning; the medians are compared. All three count from the first message (the
tool's fetch.nMsg.sec leaves its group join out too). Goals: lab / perf tool >= 1.0; lab / bare loop >=
0.95 (the harness costs little).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from lab.cluster import Cluster, clients, from_env
from lab.consumer import fetch as consume
from lab.consumer import perftest as consume_perf
from lab.consumer.fetch import BenchSettings, SeedSettings
from lab.consumer.settings import PROFILES, ConsumerSettings
from lab.core import context as experiment

TOPIC = "bench-consumer-1m"
MESSAGES = 1_000_000
PERF_GOAL = 1.0
BARE_GOAL = 0.95


def ensure_seeded(cluster: Cluster) -> None:
    try:
        _, held = consume.backlog_size(cluster, TOPIC)
    except Exception:  # noqa: BLE001 - missing topic: seed it
        held = 0
    if held < MESSAGES:
        print(f"seeding {TOPIC} with {MESSAGES:,} x 100 B …")
        r = experiment.run_sync(lambda ctx: consume.seed(cluster, SeedSettings(TOPIC, MESSAGES - held), ctx),
                                time_limit_s=600)
        print(f"  {r.written:,} written in {r.elapsed_s:.1f} s")


def bare(cluster: Cluster, s: ConsumerSettings, n: int) -> float:
    """msg/s of a plain consume(num_messages=…) loop with the same config, from the first message."""
    c = clients.consumer(cluster, {**s.to_config(), "group.id": f"bench-bare-{uuid.uuid4().hex[:8]}"})
    try:
        c.subscribe([TOPIC])
        got, first = 0, None
        deadline = time.monotonic() + 300
        while got < n and time.monotonic() < deadline:
            msgs = c.consume(consume.CONSUME_BATCH, consume.CONSUME_TIMEOUT_S)
            if msgs and first is None:
                first = time.monotonic()
            got += sum(1 for m in msgs if m.error() is None)
        last = time.monotonic()
    finally:
        c.close()
    return got / (last - first) if first else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    ensure_seeded(cluster)
    profiles = (("default fetch settings", ConsumerSettings()), ("high throughput", PROFILES["high throughput"]))
    for name, base in profiles:
        s = base.replace(topic=TOPIC, count=MESSAGES)
        print(f"== {name}: fetch.min.bytes={s.fetch_min_bytes} fetch.wait.max.ms={s.fetch_wait_max_ms} "
              f"max.partition.fetch.bytes={s.max_partition_fetch_bytes}")
        lab_r, perf_r, bare_r = [], [], []
        for i in range(args.rounds):
            order = ["lab", "perf", "bare"][i % 3:] + ["lab", "perf", "bare"][:i % 3]
            for who in order:
                if who == "lab":
                    lab_r.append(experiment.run_sync(lambda ctx, s=s: consume.bench(cluster, BenchSettings(s), ctx),
                                                     time_limit_s=600).msgs_per_s)
                elif who == "perf":
                    out, _, _ = experiment.run_sync(
                        lambda ctx, s=s: consume_perf.run_tool(cluster, s, MESSAGES, ctx), time_limit_s=600)
                    perf_r.append(out.fetch_records_per_s if out else float("nan"))
                else:
                    bare_r.append(bare(cluster, s, MESSAGES))
            print(f"  round {i + 1} ({' > '.join(order)}): lab {lab_r[-1]:,.0f}  perf tool {perf_r[-1]:,.0f}  "
                  f"bare loop {bare_r[-1]:,.0f} msg/s")
        lab_m, perf_m, bare_m = (statistics.median(x) for x in (lab_r, perf_r, bare_r))
        print(f"  medians: lab {lab_m:,.0f}, perf tool {perf_m:,.0f}, bare loop {bare_m:,.0f} msg/s")
        print(f"  lab / perf tool = {lab_m / perf_m:.2f} (goal >= {PERF_GOAL}); "
              f"lab / bare loop = {lab_m / bare_m:.2f} (goal >= {BARE_GOAL})")


if __name__ == "__main__":
    main()
