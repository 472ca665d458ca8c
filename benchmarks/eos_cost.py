"""What exactly-once costs: a plain producer vs an idempotent one (goal: idempotent >= 0.95 x plain at
acks=all) vs a transactional one at transaction sizes 1, 10, 100, 1 000 and 10 000 records, 100-byte
records, on one cluster in one run. A benchmark: it prints figures and ratios, asserts nothing.

    uv run python benchmarks/eos_cost.py --state-dir /tmp/eos-cluster

Each point writes to a fresh 3-partition topic (RF 3, min.insync.replicas 2) for ``--seconds`` (or
``--records`` records, whichever comes first), as fast as the producer takes them: produce, poll(0), on
BufferError poll and retry; a transactional point commits every N records and times each
``commit_transaction`` (p99 over the point). records/s = acknowledged records / (first produce -> last
ack or commit), after a warm-up left out: one record produced and acknowledged (plain and idempotent), or
``init_transactions`` (transactional), so the producer is connected and holds its producer id. The points
take turns in rotating order over ``--rounds`` rounds so the shared machine's background load hits all
alike; the figures are medians.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

from lab.cluster import Cluster, clients, from_env
from lab.core.stats import percentile
from lab.kafka import topics

GOAL = 0.95
PLAIN_5 = "plain, 5 in flight"
SIZES = (1, 10, 100, 1000, 10_000)
RECORD = b"x" * 100
BASE: dict[str, Any] = {"acks": "all", "linger.ms": 5, "batch.size": 65_536}


@dataclass
class Point:
    label: str
    records_per_s: float
    commit_p99_ms: float | None


def one(cluster: Cluster, label: str, extra: dict[str, Any], txn_size: int | None, seconds: float,
        limit: int) -> Point:
    topic = topics.fresh_topic(cluster, 3, 3, {"min.insync.replicas": "2"}, prefix="bench-eos-")
    acked = [0]

    def delivered(err: Any, _msg: Any) -> None:
        acked[0] += err is None

    p = clients.producer(cluster, {**BASE, **extra, "on_delivery": delivered})
    commits: list[float] = []
    try:
        # warm-up, left out of the figure (as the lab's runs leave theirs out): connections, metadata and, for
        # the idempotent and transactional producers, the producer id they must hold before their first batch
        if txn_size is not None:
            p.init_transactions(30)
        else:
            p.produce(topic, RECORD)
            p.flush(30)
            acked[0] = 0
        if txn_size is not None:
            p.begin_transaction()
        t0 = time.perf_counter()
        end = t0 + seconds
        n = 0
        while n < limit and time.perf_counter() < end:
            try:
                p.produce(topic, RECORD)
            except BufferError:
                p.poll(0.005)
                continue
            n += 1
            p.poll(0)
            if txn_size is not None and n % txn_size == 0:
                c = time.perf_counter()
                p.commit_transaction(30)
                commits.append((time.perf_counter() - c) * 1000)
                p.begin_transaction()
        if txn_size is not None:
            c = time.perf_counter()
            p.commit_transaction(30)
            commits.append((time.perf_counter() - c) * 1000)
        p.flush(30)
        elapsed = time.perf_counter() - t0
    finally:
        p.purge(in_queue=True, in_flight=True, blocking=False)
        p.flush(0)
        p.close()
        topics.delete_topic(cluster, topic)
    p99 = percentile(commits, 0.99) if commits else None
    return Point(label, acked[0] / elapsed, p99)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap")
    ap.add_argument("--state-dir")
    ap.add_argument("--seconds", type=float, default=5.0, help="per point and round")
    ap.add_argument("--records", type=int, default=200_000, help="at most this many per point and round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    # librdkafka lets a plain producer keep 1 000 000 requests in flight per connection by default, where an
    # idempotent one keeps at most 5 (what its sequence numbers can order): "plain, 5 in flight" is the
    # plain producer at the in-flight limit idempotence imposes, so its ratio is the cost of idempotence
    # itself (PID and sequence numbers), the default one that of the limit as well
    points: list[tuple[str, dict[str, Any], int | None]] = [
        ("plain", {"enable.idempotence": False}, None),
        (PLAIN_5, {"enable.idempotence": False, "max.in.flight.requests.per.connection": 5}, None),
        ("idempotent", {"enable.idempotence": True}, None)]
    points += [(f"transactional, {n} per txn", {"transactional.id": f"bench-eos-{uuid.uuid4().hex[:6]}-{n}"}, n)
               for n in SIZES]
    got: dict[str, list[Point]] = {label: [] for label, _, _ in points}
    for rnd in range(args.rounds):
        order = points[rnd % len(points):] + points[:rnd % len(points)]
        for label, extra, size in order:
            got[label].append(one(cluster, label, extra, size, args.seconds, args.records))
    plain = statistics.median(p.records_per_s for p in got["plain"])
    print(f"{'producer':<30} {'records/s':>12} {'x plain':>8} {'p99 commit ms':>14}")
    for label, pts in got.items():
        rate = statistics.median(p.records_per_s for p in pts)
        p99s = [p.commit_p99_ms for p in pts if p.commit_p99_ms is not None]
        p99 = f"{statistics.median(p99s):.1f}" if p99s else "-"
        print(f"{label:<30} {rate:>12,.0f} {rate / plain:>8.2f} {p99:>14}")
    idem = statistics.median(p.records_per_s for p in got["idempotent"])
    plain5 = statistics.median(p.records_per_s for p in got[PLAIN_5])
    for name, base in (("plain (librdkafka's default in-flight)", plain), (PLAIN_5, plain5)):
        verdict = "meets" if idem >= GOAL * base else "misses"
        print(f"idempotent / {name} = {idem / base:.2f} ({verdict} the goal of >= {GOAL})")
    print(f"{args.rounds} rounds of up to {args.seconds:g} s or {args.records:,} records per point, medians")


if __name__ == "__main__":
    main()
