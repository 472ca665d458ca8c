"""What a fixed-rate produce run costs the producing process in CPU: the paced loop should wait, not spin.
A benchmark: it prints figures, asserts nothing.

    uv run python benchmarks/pacing_cpu.py --state-dir /tmp/pacing-cluster [--rates 500,5000,20000 --seconds 4]

For each rate, the lab's produce experiment (100 B messages, acks=1) runs for ``--seconds`` at that rate;
its result carries the CPU time of this process over the run (all threads, librdkafka's included). The
figure is CPU seconds per wall second (1.0 = one core) and microseconds of CPU per message sent, next to a
full-speed run of the same messages for scale. Goal: at 5,000 msg/s, under 0.15 of one core. Rates take
turns in rotating order over ``--rounds`` rounds; figures are medians.

Then the other paced loop most experiments lean on, ``lab.kafka.load.BackgroundProducer`` (the lag, consumer
and replication labs' steady load), at each rate it allows (up to ``MAX_BACKGROUND_RATE``): CPU of this
process over ``--seconds`` of it producing to a fresh topic, measured the same way.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from lab.cluster import from_env
from lab.cluster.base import Cluster
from lab.core import context as experiment
from lab.kafka import topics
from lab.kafka.load import MAX_BACKGROUND_RATE, BackgroundProducer, BackgroundProducerSettings
from lab.producer import run as produce
from lab.producer.settings import ProducerSettings

GOAL_AT_5000 = 0.15


def one(cluster: object, settings: ProducerSettings) -> tuple[float, float, int]:
    """(CPU s per wall s, wall s, messages sent) of one run."""
    r = experiment.run_sync(lambda ctx: produce.run(cluster, settings, ctx), time_limit_s=settings.duration_s + 60)
    return r.cpu_s / r.elapsed_s, r.elapsed_s, r.sent


def background(cluster: Cluster, topic: str, rate: int, seconds: float) -> tuple[float, float, int]:
    """(CPU s per wall s, wall s, messages sent) of a background producer at ``rate`` for ``seconds``."""
    cpu0, t0 = time.process_time(), time.monotonic()
    with BackgroundProducer(cluster, topic, BackgroundProducerSettings(rate, acks="1", message_bytes=100)) as bg:
        experiment.RunContext(seconds).wait(seconds)  # the producer's thread works; this one only waits
        sent = bg.sent
    wall = time.monotonic() - t0
    return (time.process_time() - cpu0) / wall, wall, sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", help="the cluster's state directory (default: the lab's)")
    ap.add_argument("--rates", default="500,5000,20000")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cluster = from_env(state_dir=args.state_dir)
    cluster.up()
    base = ProducerSettings(acks="1", message_size=100, duration_s=args.seconds, count=None)
    rates = [float(x) for x in args.rates.split(",")]
    contenders: list[float | None] = [*rates, None]  # None: full speed
    got: dict[float | None, list[tuple[float, float, int]]] = {c: [] for c in contenders}
    for rnd in range(args.rounds):
        order = contenders[rnd % len(contenders):] + contenders[:rnd % len(contenders)]
        for rate in order:
            got[rate].append(one(cluster, replace(base, rate=rate)))
    print(f"{'rate msg/s':>12} {'cores used':>11} {'us CPU/msg':>11} {'sent/s':>10}")
    for rate in contenders:
        runs = got[rate]
        cores = statistics.median(c for c, _, _ in runs)
        per_msg = statistics.median(c * w / n * 1e6 for c, w, n in runs if n)
        sent_rate = statistics.median(n / w for _, w, n in runs)
        label = "full speed" if rate is None else f"{rate:,.0f}"
        print(f"{label:>12} {cores:>11.3f} {per_msg:>11.1f} {sent_rate:>10,.0f}")
    at5000 = statistics.median(c for c, _, _ in got.get(5000.0, [])) if 5000.0 in got else None
    if at5000 is not None:
        print(f"at 5,000 msg/s: {at5000:.3f} of one core (goal < {GOAL_AT_5000}): "
              f"{'met' if at5000 < GOAL_AT_5000 else 'NOT met'}")
    bg_rates = [int(r) for r in rates if r <= MAX_BACKGROUND_RATE]
    if not bg_rates:
        return
    topic = topics.fresh_topic(cluster, 3, 3, purpose="the pacing benchmark's background producer")
    try:
        bg: dict[int, list[tuple[float, float, int]]] = {r: [] for r in bg_rates}
        for rnd in range(args.rounds):
            for rate in bg_rates[rnd % len(bg_rates):] + bg_rates[:rnd % len(bg_rates)]:
                bg[rate].append(background(cluster, topic, rate, args.seconds))
    finally:
        topics.delete_topic(cluster, topic)
    print(f"\nBackgroundProducer (lab.kafka.load; at most {MAX_BACKGROUND_RATE:,} msg/s)")
    print(f"{'rate msg/s':>12} {'cores used':>11} {'us CPU/msg':>11} {'sent/s':>10}")
    for rate in bg_rates:
        runs = bg[rate]
        print(f"{rate:>12,} {statistics.median(c for c, _, _ in runs):>11.3f} "
              f"{statistics.median(c * w / n * 1e6 for c, w, n in runs if n):>11.1f} "
              f"{statistics.median(n / w for _, w, n in runs):>10,.0f}")


if __name__ == "__main__":
    main()
