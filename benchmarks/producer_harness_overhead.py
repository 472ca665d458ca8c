"""What the lab's measuring costs: its produce experiment against a bare confluent-kafka produce loop with
the same config (goal: lab >= 0.97 x bare). A benchmark: it prints figures, asserts nothing.

    uv run python benchmarks/producer_harness_overhead.py --state-dir /tmp/producer-cluster

The bare loop is confluent-kafka's own example (examples/producer.py): produce, poll(0), on BufferError
poll and retry, flush — with a delivery callback that only counts successes and failures (a loop that
does not look at its delivery reports does not know what arrived). For reference the loop also runs
with no callback at all. All get the same settings (``ProducerSettings.to_config()``) and a fresh primed
topic each, and take turns in rotating order so background load on the shared machine hits all alike;
the figures are medians over the rounds.

Wall-clock throughput on a shared 2-core machine swings by tens of percent from run to run, so the
script also reports CPU time of this process per message (all threads, librdkafka's included) over the
same window, first send -> last ack, which the neighbours' load disturbs far less: bare CPU / lab CPU
is the harness's cost as a throughput ratio for a CPU-bound producer.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from lab.cluster import Cluster, clients, from_env
from lab.core import context as experiment
from lab.kafka import topics
from lab.kafka.payloads import make_payloads
from lab.producer import run as produce
from lab.producer.settings import ProducerSettings

GOAL = 0.97
BASE = ProducerSettings(acks="1", compression="lz4", linger_ms=10, batch_size=65_536, message_size=100,
                        count=300_000)


def bare_loop(cluster: Cluster, s: ProducerSettings, with_callback: bool) -> tuple[float, float]:
    """(messages/s, CPU s) of a bare produce loop, first produce -> flush returned."""
    topic = topics.fresh_topic(cluster, s.partitions, s.replication_factor, s.topic_configs())
    counts = [0, 0]

    def delivered(err: Any, _msg: Any) -> None:
        counts[err is not None] += 1

    try:
        payloads = make_payloads(s.payload, s.message_size)
        cfg: dict[str, Any] = {**s.to_config(), **({"on_delivery": delivered} if with_callback else {})}
        p = clients.producer(cluster, cfg)
        assert s.count is not None
        n, mask = s.count, len(payloads) - 1
        c0 = time.process_time()
        t0 = time.perf_counter()
        i = 0
        while i < n:
            try:
                p.produce(topic, payloads[i & mask])
            except BufferError:
                p.poll(0.005)
                continue
            i += 1
            p.poll(0)
        left = p.flush(60)
        elapsed = time.perf_counter() - t0
        cpu_s = time.process_time() - c0
        if left or counts[1]:
            raise SystemExit(f"bare loop: {left} messages unacknowledged, {counts[1]} failed")
        return n / elapsed, cpu_s
    finally:
        topics.delete_topic(cluster, topic)


def lab_run(cluster: Cluster, s: ProducerSettings) -> tuple[float, float]:
    r = experiment.run_sync(lambda ctx: produce.run(cluster, s, ctx), time_limit_s=300)
    if not r.complete or r.delivered != s.count:
        raise SystemExit(f"lab run incomplete: {r.stopped}")
    return r.msgs_per_s, r.cpu_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--count", type=int, default=BASE.count)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    s = BASE.replace(count=args.count)
    lab_run(cluster, s.replace(count=20_000))  # warm up connections, page cache and the brokers' JIT
    contenders: dict[str, Callable[[], tuple[float, float]]] = {
        "bare": lambda: bare_loop(cluster, s, with_callback=True),
        "bare, no callback": lambda: bare_loop(cluster, s, with_callback=False),
        "lab": lambda: lab_run(cluster, s),
    }
    names = list(contenders)
    seen: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    ratios: list[float] = []
    for i in range(args.rounds):
        order = names[i % len(names):] + names[:i % len(names)]
        got = {n: contenders[n]() for n in order}
        for n, (v, c) in got.items():
            seen[n].append(v)
            cpus[n].append(c)
        ratios.append(got["lab"][0] / got["bare"][0])
        print(f"round {i + 1}: " + ", ".join(f"{n} {got[n][0]:,.0f} msg/s ({got[n][1]:.2f} s CPU)" for n in names)
              + f"; lab/bare {ratios[-1]:.3f}", flush=True)
    med = {n: statistics.median(v) for n, v in seen.items()}
    cpu_us = {n: statistics.median(v) / s.count * 1e6 for n, v in cpus.items()}  # type: ignore[operator]
    print(f"\n{s.count:,} x {s.message_size} B, acks={s.acks}, {s.compression}, linger.ms={s.linger_ms:g}, "
          f"batch.size={s.batch_size}, {args.rounds} rounds")
    print("medians: " + ", ".join(f"{n} {v:,.0f} msg/s" for n, v in med.items()))
    print("CPU per message (median): " + ", ".join(f"{n} {v:.2f} us" for n, v in cpu_us.items()))
    print(f"throughput lab / bare loop: median of per-round ratios {statistics.median(ratios):.3f}, "
          f"ratio of medians {med['lab'] / med['bare']:.3f} (goal >= {GOAL})")
    print(f"CPU bare / lab (harness cost as a throughput ratio): {cpu_us['bare'] / cpu_us['lab']:.3f} "
          f"(goal >= {GOAL}); against a loop without any callback {cpu_us['bare, no callback'] / cpu_us['lab']:.3f}")


if __name__ == "__main__":
    main()
