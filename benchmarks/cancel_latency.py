"""How long Cancel takes to give back a produce run's partial result: press -> result, as the page sees it.
A benchmark: it prints figures, asserts nothing.

    uv run python benchmarks/cancel_latency.py --state-dir /tmp/cancel-cluster [--sizes 100,12288,262144]

For each message size, a 30 s flat-out produce run (acks=all) is launched the way the page launches it
(``lab.runs.launcher``: worker thread, stamp, run store); once it has been acknowledging for ``--after``
seconds it is cancelled, and the seconds from ``cancel()`` to the run being done are timed. Sizes take
turns over ``--rounds`` rounds; the figure is the median. Goal: under 2 s at every size. The accounting
of each cancelled run (sent = acknowledged + failed + not sent + unacknowledged) is printed beside it.
Runs go to a throw-away run store unless ``KAFKA_LAB_RUNS_DB`` names one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from lab import registry
from lab.cluster import from_env
from lab.cluster.base import Cluster
from lab.producer.run import ProduceProgress, ProduceResult
from lab.producer.settings import ProducerSettings
from lab.runs import launcher

GOAL_S = 2.0
#: how often the wait for "acknowledging for --after seconds" looks at the run's progress
LOOK_EVERY_S = 0.05


def one(cluster: Cluster, size: int, after_s: float) -> tuple[float, ProduceResult]:
    """(seconds from cancel() to the result, the result) of one run cancelled ``after_s`` s into acknowledging."""
    settings = ProducerSettings(message_size=size, duration_s=30.0, count=None, acks="all")
    r = launcher.launch(registry.get("produce"), cluster, settings, face="benchmark")
    first_ack: float | None = None
    while not r.done:
        p = r.progress().partial
        if first_ack is None and isinstance(p, ProduceProgress) and p.delivered > 0:
            first_ack = time.monotonic()
        if first_ack is not None and time.monotonic() - first_ack >= after_s:
            break
        r.join(LOOK_EVERY_S)
    t0 = time.perf_counter()
    r.cancel()
    result = r.wait()
    return time.perf_counter() - t0, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", help="the cluster's state directory (default: the lab's)")
    ap.add_argument("--sizes", default="100,12288,262144", help="message sizes in bytes")
    ap.add_argument("--after", type=float, default=5.0, help="seconds of acknowledgements before the cancel")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not os.environ.get("KAFKA_LAB_RUNS_DB"):
        os.environ["KAFKA_LAB_RUNS_DB"] = os.path.join(tempfile.mkdtemp(prefix="cancel-bench-"), "runs.sqlite")
    cluster = from_env(state_dir=args.state_dir)
    cluster.up()
    sizes = [int(x) for x in args.sizes.split(",")]
    got: dict[int, list[tuple[float, ProduceResult]]] = {s: [] for s in sizes}
    for rnd in range(args.rounds):
        for size in sizes[rnd % len(sizes):] + sizes[:rnd % len(sizes)]:
            took, res = one(cluster, size, args.after)
            got[size].append((took, res))
            print(f"  {size:>7} B: {took:.2f} s; sent {res.sent:,} = acknowledged {res.delivered:,} + failed "
                  f"{res.failed:,} + not sent {getattr(res, 'not_sent', 0):,} + unacknowledged {res.unacknowledged:,}",
                  flush=True)
    print(f"{'message size':>12} {'median s':>9} {'max s':>7}  (cancel -> result, {args.rounds} runs each)")
    for size in sizes:
        times = [t for t, _ in got[size]]
        print(f"{size:>10} B {statistics.median(times):>9.2f} {max(times):>7.2f}")
    worst = max(statistics.median(t for t, _ in got[s]) for s in sizes)
    print(f"slowest median {worst:.2f} s (goal < {GOAL_S:.0f} s): {'met' if worst < GOAL_S else 'NOT met'}")


if __name__ == "__main__":
    main()
