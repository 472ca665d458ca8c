"""The lab's consumer, with N processes and with one, against Kafka's kafka-consumer-perf-test
(ConsumerPerformance, from the same provisioned Kafka; one JVM consumer) and a bare confluent-kafka consume
loop, on the same topic and fetch settings. A benchmark: it prints figures and ratios, asserts nothing.

    uv run python benchmarks/consumer_vs_perftest.py --state-dir /tmp/consumer-cluster [--rounds 3] [--members N]

The topic holds 1 000 000 records of 100 bytes in 6 partitions (seeded once, reused). For the default fetch
settings and the high-throughput profile, ``--rounds`` rounds run the four readers in rotating order, each in
a fresh group from the beginning; the medians are compared. All count from the first message (the tool's
fetch.nMsg.sec leaves its group join out too). Goals: lab(N) / perf tool >= 1.0; lab(1) / bare loop >= 0.95
(the harness costs little).

Where lab(N) / perf tool < 1 it says which resource ran out, from psutil: CPU seconds per wall second of the
members (from their own clocks), of the tool's JVM, of the brokers, and how many of the machine's cores
were busy while each reader ran.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import psutil

from lab.cluster import Cluster, clients, from_env
from lab.consumer import fetch as consume
from lab.consumer import perftest as consume_perf
from lab.consumer.fetch import BenchSettings, SeedSettings
from lab.consumer.loop import CONSUME_BATCH, CONSUME_TIMEOUT_S
from lab.consumer.memberstats import auto_members
from lab.consumer.settings import PROFILES, ConsumerSettings
from lab.core import context as experiment

TOPIC = "bench-consumer-1m"
MESSAGES = 1_000_000
PARTITIONS = 6
PERF_GOAL = 1.0
BARE_GOAL = 0.95
#: busy cores at or above this share of the machine: the machine's CPU ran out
MACHINE_FULL = 0.9


def ensure_seeded(cluster: Cluster) -> None:
    try:
        _, held = consume.backlog_size(cluster, TOPIC)
    except Exception:  # noqa: BLE001 - missing topic: seed it
        held = 0
    if held < MESSAGES:
        print(f"seeding {TOPIC} with {MESSAGES:,} x 100 B in {PARTITIONS} partitions …")
        r = experiment.run_sync(lambda ctx: consume.seed(cluster, SeedSettings(TOPIC, MESSAGES - held,
                                                                               partitions=PARTITIONS), ctx),
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
            msgs = c.consume(CONSUME_BATCH, CONSUME_TIMEOUT_S)
            if msgs and first is None:
                first = time.monotonic()
            got += sum(1 for m in msgs if m.error() is None)
        last = time.monotonic()
    finally:
        c.close()
    return got / (last - first) if first else 0.0


@dataclass
class Cpu:
    """CPU seconds per wall second while one reader ran: this process and its reaped children (the members,
    the tool's JVM), the brokers, and the machine's busy cores."""

    wall_s: float = 0.0
    own: float = 0.0
    brokers: float = 0.0
    machine_cores: float = 0.0


def _own_cpu() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system + t.children_user + t.children_system)


def _procs_cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def measured(fn: Callable[[], Any], brokers: list[psutil.Process]) -> tuple[Any, Cpu]:
    """``fn()`` and the CPU it and the brokers used, per wall second (start-up included)."""
    busy0 = psutil.cpu_times()
    own0, br0, t0 = _own_cpu(), _procs_cpu(brokers), time.monotonic()
    out = fn()
    wall = time.monotonic() - t0
    busy1 = psutil.cpu_times()
    idle = (busy1.idle + getattr(busy1, "iowait", 0.0)) - (busy0.idle + getattr(busy0, "iowait", 0.0))
    total = sum(busy1) - sum(busy0)
    cores = (psutil.cpu_count() or 1) * (1 - idle / total) if total > 0 else 0.0
    return out, Cpu(wall, (_own_cpu() - own0) / wall, (_procs_cpu(brokers) - br0) / wall, cores)


def broker_processes(cluster: Cluster) -> list[psutil.Process]:
    out = []
    for b in cluster.status().brokers:
        if b.pid:
            with contextlib.suppress(psutil.NoSuchProcess):
                out.append(psutil.Process(b.pid))
    return out


def what_ran_out(lab_n: dict[str, Any], tool: Cpu, cores: int) -> str:
    """Which resource ran out for lab(N), said from the figures (median round's)."""
    cpu: Cpu = lab_n["cpu"]
    members = lab_n["members_cpu"]
    waits = lab_n["members_wait"]
    parts = [f"members {', '.join(f'{x:.2f}' for x in members)} CPU s/s while reading, and waited "
             f"{', '.join(f'{x:.2f}' for x in waits)} s/s for a core",
             f"all lab processes {cpu.own:.2f} and brokers {cpu.brokers:.2f} CPU s/s over the run (tool run: JVM "
             f"{tool.own:.2f}, brokers {tool.brokers:.2f})",
             f"machine {cpu.machine_cores:.2f} of {cores} cores busy (tool run: {tool.machine_cores:.2f}), of which "
             f"{max(0.0, cpu.machine_cores - cpu.own - cpu.brokers):.2f} by other processes (tool run: "
             f"{max(0.0, tool.machine_cores - tool.own - tool.brokers):.2f})"]
    if cpu.machine_cores >= MACHINE_FULL * cores:
        others = cpu.machine_cores - cpu.own - cpu.brokers
        verdict = ("the machine's CPU ran out: members, brokers" + (" and other processes" if others > 0.5 else "")
                   + " shared its cores, so more members cannot read faster here")
    elif waits and min(waits) >= max(members):
        verdict = ("the members waited for a core longer than they ran: the CPU was contended (by the other processes "
                   "above), not used up by the members")
    elif members and min(members) >= 0.9:
        verdict = "each member used a core: the Python consumers are the limit (cores were left: try more members)"
    else:
        verdict = ("no CPU ran out: the consumers waited, not computed — on this machine that was librdkafka's "
                   "prefetch: a partition's local queue full at queued.min.messages (100 000 by default) pauses its "
                   "fetches for fetch.queue.backoff.ms (1 000 ms); try --queued-min-messages 1000000 on "
                   "`kafka-lab consumer benchmark` (README, 'Past one Python process')")
    return "; ".join(parts) + f"\n  -> {verdict}"


def lab_run(cluster: Cluster, settings: BenchSettings) -> consume.BenchResult:
    return experiment.run_sync(lambda ctx: consume.bench(cluster, settings, ctx), time_limit_s=600)


def tool_run(cluster: Cluster, s: ConsumerSettings) -> consume_perf.ConsumerPerfSummary | None:
    return experiment.run_sync(lambda ctx: consume_perf.run_tool(cluster, s, MESSAGES, ctx), time_limit_s=600)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state-dir")
    ap.add_argument("--bootstrap")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--members", type=int, help="lab(N)'s processes (default: one per core, at most the partitions)")
    args = ap.parse_args()
    cluster = from_env(bootstrap=args.bootstrap, state_dir=args.state_dir)
    ensure_seeded(cluster)
    partitions, _ = consume.backlog_size(cluster, TOPIC)
    n = args.members or auto_members(partitions)
    cores = psutil.cpu_count() or 1
    brokers = broker_processes(cluster)
    print(f"{cores} cores, {len(brokers)} local brokers, {TOPIC}: {partitions} partitions; lab(N) with N={n}")
    profiles = (("default fetch settings", ConsumerSettings()), ("high throughput", PROFILES["high throughput"]))
    readers = ["lab(N)", "lab(1)", "perf", "bare"]
    for name, base in profiles:
        s = base.replace(topic=TOPIC, count=MESSAGES)
        print(f"== {name}: fetch.min.bytes={s.fetch_min_bytes} fetch.wait.max.ms={s.fetch_wait_max_ms} "
              f"max.partition.fetch.bytes={s.max_partition_fetch_bytes}")
        rates: dict[str, list[float]] = {r: [] for r in readers}
        labs: list[dict[str, Any]] = []
        tools: list[Cpu] = []
        for i in range(args.rounds):
            order = readers[i % 4:] + readers[:i % 4]
            for who in order:
                if who in ("lab(N)", "lab(1)"):
                    m = n if who == "lab(N)" else 1
                    r, cpu = measured(partial(lab_run, cluster, BenchSettings(s, members=m)), brokers)
                    rates[who].append(r.msgs_per_s)
                    if who == "lab(N)":
                        labs.append({"rate": r.msgs_per_s, "cpu": cpu,
                                     "members_cpu": [x.cpu_per_s for x in r.members],
                                     "members_wait": [x.cpu_wait_per_s for x in r.members]})
                elif who == "perf":
                    out, cpu = measured(partial(tool_run, cluster, s), brokers)
                    rates[who].append(out.fetch_records_per_s if out else float("nan"))
                    tools.append(cpu)
                else:
                    rates[who].append(bare(cluster, s, MESSAGES))
            print(f"  round {i + 1} ({' > '.join(order)}): " + "  ".join(
                f"{who} {rates[who][-1]:,.0f}" for who in readers) + " msg/s")
        med = {who: statistics.median(v) for who, v in rates.items()}
        print("  medians: " + ", ".join(f"{who} {v:,.0f}" for who, v in med.items()) + " msg/s")
        ratio_n, ratio_1 = med["lab(N)"] / med["perf"], med["lab(1)"] / med["perf"]
        print(f"  lab({n}) / perf tool = {ratio_n:.2f} (goal >= {PERF_GOAL}); lab(1) / perf tool = {ratio_1:.2f}; "
              f"lab(1) / bare loop = {med['lab(1)'] / med['bare']:.2f} (goal >= {BARE_GOAL})")
        mid = sorted(labs, key=lambda x: x["rate"])[len(labs) // 2]
        tool = sorted(tools, key=lambda c: c.own)[len(tools) // 2]
        if ratio_n < PERF_GOAL:
            print("  what ran out (median lab(N) round): " + what_ran_out(mid, tool, cores))
        else:
            print(f"  lab({n}) keeps up with the tool; " + what_ran_out(mid, tool, cores))


if __name__ == "__main__":
    main()
