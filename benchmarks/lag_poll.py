"""How long one lag sample takes, and whether 1 Hz sampling holds while 5 groups are watched at once
(goals: one sample of a group on a 12-partition topic, median <= 100 ms; 1 Hz held for 5 groups).
A benchmark: it prints figures and ratios, asserts nothing.

    uv run python benchmarks/lag_poll.py --state-dir /tmp/lag-cluster

Runs against the cluster named by --state-dir / --bootstrap / KAFKA_LAB_* (start it first with
`kafka-lab cluster up`). It makes a 12-partition topic and 5 groups that commit part of it, samples one
group --samples times, then watches all 5 at once for --watch seconds (each watch in its own thread,
as five browser tabs would), and deletes the topic.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import threading
import time
import uuid

from confluent_kafka import TopicPartition

from lab import registry as experiments
from lab.cluster import clients, from_env
from lab.kafka import admin, topics
from lab.kafka.specs import TopicSpec
from lab.lag import sample as lag
from lab.lag.settings import LagWatchSettings
from lab.runs import launcher

PARTITIONS = 12
GROUPS = 5
GOAL_MS = 100.0


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--watch", type=float, default=20.0, help="seconds the 5 groups are watched at once")
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    topic = f"lab-produce-lagbench-{uuid.uuid4().hex[:6]}"  # the lab's prefix: `bench cleanup` removes leftovers
    admin.create_topics(cluster, [TopicSpec(topic, PARTITIONS, 3)])
    groups = [f"lagbench-{uuid.uuid4().hex[:6]}" for _ in range(GROUPS)]
    try:
        with clients.producer(cluster, {"linger.ms": 5}) as p:
            for i in range(PARTITIONS * 1000):
                p.produce(topic, b"x" * 100, partition=i % PARTITIONS)
                p.poll(0)
            p.flush(30)
        for g in groups:
            c = clients.consumer(cluster, {"group.id": g, "enable.auto.commit": False})
            c.commit(offsets=[TopicPartition(topic, q, 500) for q in range(PARTITIONS)], asynchronous=False)
            c.close()
        adm = cluster.admin()
        lag.sample(cluster, groups[0], admin=adm)  # connections set up
        times = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            s = lag.sample(cluster, groups[0], admin=adm)
            times.append((time.perf_counter() - t0) * 1000)
        assert len(s.partitions) == PARTITIONS
        med = statistics.median(times)
        print(f"one sample, {PARTITIONS} partitions: median {med:.1f} ms, p95 {p95(times):.1f} ms, "
              f"max {max(times):.1f} ms over {args.samples} (goal median <= {GOAL_MS:.0f} ms: ratio goal/median "
              f"{GOAL_MS / med:.2f})")
        results = []
        lock = threading.Lock()

        def watch(g: str) -> None:
            r = launcher.run_sync(experiments.get("lag.watch"), cluster, LagWatchSettings(g, args.watch, 1.0),
                                  face="benchmark")
            with lock:
                results.append(r)

        threads = [threading.Thread(target=watch, args=(g,)) for g in groups]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        gaps = [b.t_s - a.t_s for r in results for a, b in zip(r.samples, r.samples[1:], strict=False)]
        rate = [len(r.samples) / args.watch for r in results]
        print(f"{GROUPS} groups watched at once for {args.watch:.0f} s: samples per second per group "
              f"{', '.join(f'{x:.2f}' for x in rate)}; gap between samples median {statistics.median(gaps):.3f} s, "
              f"p95 {p95(gaps):.3f} s, max {max(gaps):.3f} s (1 Hz held: ratio {1.0 / statistics.median(gaps):.2f})")
    finally:
        topics.delete_topics(cluster, [topic])
        # best effort: the groups have no members; a slow answer only leaves them to expire
        for fut in cluster.admin().delete_consumer_groups(groups, request_timeout=10).values():
            with contextlib.suppress(Exception):
                fut.result(timeout=15)


if __name__ == "__main__":
    main()
