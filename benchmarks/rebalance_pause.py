"""The pause of one join and one leave per assignment strategy (and, on a Kafka 4.x cluster, per group
protocol) in a group of 4 on 12 partitions, median of 5. A benchmark: it prints figures, asserts nothing.

    uv run python benchmarks/rebalance_pause.py --state-dir /tmp/consumer-cluster [--rounds 5]
    uv run python benchmarks/rebalance_pause.py --state-dir /tmp/consumer-41 --protocols   # a 4.x cluster

Each round is ``lab.consumer.strategies.run_strategy`` (two topics of 7 and 5 partitions, a producer at 200 msg/s,
4 members, a fifth joins, then m0 leaves). Figures per rebalance, from the callbacks: seconds to the new
stable assignment, partition-seconds owned by nobody, the longest a partition waited, and the members
that owned nothing for a while.
"""

from __future__ import annotations

import argparse
import statistics

from lab.cluster import from_env
from lab.consumer import protocols
from lab.consumer.settings import STRATEGIES
from lab.consumer.strategies import StrategiesSettings, StrategyRun, run_strategy
from lab.core import context as experiment

GROUP = StrategiesSettings(members=4, partitions=(7, 5), produce_rate=200, hold_s=1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--protocols", action="store_true", help="classic/range vs consumer/uniform (Kafka 4.x)")
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    if args.protocols:
        p = protocols.ProtocolsSettings(GROUP)
        variants = [p.consumer("classic"), p.consumer("consumer")]
    else:
        variants = [(s, GROUP.consumer(s)) for s in STRATEGIES]
    print(f"group of {GROUP.members} on {sum(GROUP.partitions)} partitions, {args.rounds} rounds, medians")
    print(f"{'variant':<22} {'rebalance':<9} {'to stable s':>11} {'unowned p*s':>11} {'longest s':>9} "
          f"{'stalled members':>15} {'revoked':>7}")
    for name, consumer in variants:
        runs: list[StrategyRun] = []
        for _ in range(args.rounds):
            runs.append(experiment.run_sync(
                lambda ctx, n=name, c=consumer: run_strategy(cluster, GROUP, n, ctx, (), c), time_limit_s=300))
        for i, what in enumerate(("join", "leave")):
            fs = [r.rebalances[i] for r in runs]
            print(f"{name:<22} {what:<9} {statistics.median(f.duration_s for f in fs):>11.2f} "
                  f"{statistics.median(f.unowned_partition_s for f in fs):>11.2f} "
                  f"{statistics.median(f.unowned_max_s for f in fs):>9.2f} "
                  f"{statistics.median(sum(v > 0 for v in f.member_empty_s.values()) for f in fs):>15} "
                  f"{statistics.median(f.revoked for f in fs):>7}")


if __name__ == "__main__":
    main()
