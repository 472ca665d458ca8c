"""How long the full 5 x 5 linger.ms x batch.size sweep takes with 50 000 messages per cell, then every cell
again at one common fixed rate (goal: <= 120 s on the 2-core machine). Prints, per cell, the maximum msg/s,
the p50/p99 at the fixed rate and the verdict. A benchmark: it prints figures, asserts nothing.

    uv run python benchmarks/producer_batch_sweep.py --state-dir /tmp/producer-cluster

Runs against the cluster named by --state-dir / --bootstrap / KAFKA_LAB_* (start it first with
`kafka-lab cluster up`). Each cell is a full lab run on its own fresh topic (made with the rest of its round
in one request and primed, then produce, count the offsets, delete), so the total includes that cost.
"""

from __future__ import annotations

import argparse
import time

from lab.cluster import from_env
from lab.core import context as experiment
from lab.producer import sweep
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepSettings
from lab.producer.text import sweep as render_sweep

GOAL_S = 120.0
#: The seeds' batch-tuning workload: acks=1, small records.
BASE = ProducerSettings(acks="1", count=50_000, message_size=100, compression="none")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--count", type=int, default=BASE.count)
    ap.add_argument("--codec", default=BASE.compression)
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    base = BASE.replace(count=args.count, compression=args.codec)
    grid = SweepSettings("batch", base, grid="full")
    t0 = time.perf_counter()
    result = experiment.run_sync(lambda ctx: sweep.run(cluster, grid, ctx), time_limit_s=900, name="batch sweep")
    total = time.perf_counter() - t0
    print(render_sweep(result))
    max_s = sum(r.elapsed_s for r in result.runs)
    fixed_s = sum(r.elapsed_s for r in result.fixed)
    print(f"\n5x5 sweep, {base.count:,} x {base.message_size} B per cell, acks={base.acks}, codec={base.compression}")
    print(f"total {total:.1f} s (goal <= {GOAL_S:.0f} s): {max_s:.1f} s producing at full speed, {fixed_s:.1f} s at "
          f"the fixed rate, {total - max_s - fixed_s:.1f} s topic create/prime/count/delete; "
          f"ratio goal/total = {GOAL_S / total:.2f}")


if __name__ == "__main__":
    main()
