"""What one monitor poll costs, and how a frozen broker changes that. A benchmark: it prints figures and
ratios; it asserts nothing.

    uv run python benchmarks/replication_poll.py [--polls 20]

The monitor promises a snapshot about once a second (ISR, leader, epoch, HW and every replica's LEO).
This measures one snapshot (metadata + list_offsets + three Jolokia reads in parallel) with all brokers
up, then with one follower paused (SIGSTOP: its Jolokia agent is frozen too, so its read runs into the
short timeout), and compares both with the one-second budget. Its own cluster in a temporary state
directory, on free ports, always stopped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from lab.cluster import LocalCluster
from lab.core.errors import LabError
from lab.kafka import admin
from lab.kafka.observe import Observer
from lab.kafka.specs import TopicSpec
from lab.kafka.timeline import POLL_INTERVAL_S

#: The monitor's budget per poll (its interval).
BUDGET_S = POLL_INTERVAL_S
TOPIC = "bench-replication-poll"


def measure(obs: Observer, polls: int) -> tuple[list[float], int]:
    """Seconds per snapshot, and how many polls got no answer (the monitor counts those as gaps)."""
    out, failed = [], 0
    for _ in range(polls):
        t = time.perf_counter()
        try:
            obs.snapshot(0.0)
        except LabError:
            failed += 1
        out.append(time.perf_counter() - t)
    return out, failed


def summary(name: str, got: tuple[list[float], int]) -> float:
    xs, failed = got
    med = statistics.median(xs)
    print(f"{name:34s} median {med * 1000:7.1f} ms   max {max(xs) * 1000:7.1f} ms   "
          f"= {med / BUDGET_S:5.1%} of the {BUDGET_S:.0f} s budget; {failed}/{len(xs)} polls unanswered")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--polls", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafka-lab-bench-") as state:
        c = LocalCluster(state, preferred_ports=None)
        try:
            c.up(timeout_s=240)
            admin.create_topics(c, [TopicSpec(TOPIC, 3, 3)])
            with Observer(c, [TOPIC]) as obs:
                measure(obs, 3)  # warm the client's connections
                up = summary("all brokers up", measure(obs, args.polls))
                leader = obs.snapshot(0.0).partitions[0].leader
                follower = next(n for n in (1, 2, 3) if n != leader)
                c.broker("pause", follower)
                try:
                    paused = summary(f"broker {follower} paused (SIGSTOP)", measure(obs, args.polls))
                finally:
                    c.broker("resume", follower)
            print(f"ratio paused / up: {paused / up:.1f}x")
        finally:
            c.down(purge=True)


if __name__ == "__main__":
    main()
