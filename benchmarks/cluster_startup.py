"""How long `cluster up` takes and how much memory the three brokers hold. A benchmark: it prints
figures and compares them with the issue's targets; it asserts nothing.

    uv run python benchmarks/cluster_startup.py            # cold + warm (cold downloads ~80 MB once)
    uv run python benchmarks/cluster_startup.py --no-cold  # warm only, using the user's jar cache

cold   empty lab cache and an empty Maven local repository (KAFKA_LAB_MAVEN_ARGS=-Dmaven.repo.local=...),
       so Maven fetches its plugins and Kafka's jars from Maven Central: the first run on a fresh machine.
warm   jars cached, fresh state directory: storage is formatted and three JVMs start.
again  `up` on the running cluster: a no-op that checks readiness.
Every run has its own temporary state directory and free ports, and always stops its cluster.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from lab.cluster import DEFAULT_KAFKA_VERSION, LocalCluster, clients
from lab.cluster.provision import MAVEN_ARGS_ENV, ensure_runtime
from lab.kafka import admin
from lab.kafka.specs import TopicSpec

#: The issue's targets on a 2-core machine.
WARM_UP_TARGET_S = 20.0
RSS_TARGET_MIB = 1.5 * 1024
#: A small produce load: enough to touch the brokers' buffers and page cache, not a throughput test.
LOAD_MESSAGES = 50_000
LOAD_MESSAGE_BYTES = 1024
MIB = 1024 * 1024
#: Readiness bound for one `up`; a cold start also waits for Maven (bounded in provision.py).
UP_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class StartupFigures:
    version: str
    cold_s: float | None
    cold_provision_s: float | None
    warm_s: float
    again_s: float
    rss_after_start_mib: dict[int, float]
    rss_after_load_mib: dict[int, float]
    load_messages: int
    load_s: float


@contextmanager
def env(**values: str) -> Iterator[None]:
    """Set environment variables for the block, then restore them."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def broker_rss_mib(cluster: LocalCluster) -> dict[int, float]:
    """Resident memory of each broker JVM in MiB."""
    brokers = cluster.status().brokers
    return {b.node_id: psutil.Process(b.pid).memory_info().rss / MIB for b in brokers if b.pid}


def produce_load(cluster: LocalCluster, messages: int, size: int) -> float:
    """Produce ``messages`` records of ``size`` bytes (acks=all, RF 3); returns seconds taken."""
    topic = f"bench-startup-{time.monotonic_ns()}"
    admin.create_topics(cluster, [TopicSpec(topic, 3, 3)])
    payload = os.urandom(size)
    producer = clients.producer(cluster, {"acks": "all", "linger.ms": 5})
    t0 = time.perf_counter()
    for _ in range(messages):
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.05)  # local queue full: let deliveries drain
        producer.poll(0)
    left = producer.flush(60)
    if left:
        raise RuntimeError(f"{left} messages were not delivered within 60 s")
    return time.perf_counter() - t0


def cold_start(version: str, work: Path) -> tuple[float, float]:
    """(total seconds, of which provisioning) for `up` with an empty lab cache and Maven repository."""
    cluster = LocalCluster(work / "cold-state", version=version, preferred_ports=None)
    with env(KAFKA_LAB_CACHE=str(work / "cache"), **{MAVEN_ARGS_ENV: f"-Dmaven.repo.local={work / 'm2'}"}):
        try:
            t0 = time.monotonic()
            ensure_runtime(version)  # what `up` does first; timed apart to show the download's share
            provisioned = time.monotonic() - t0
            cluster.up(timeout_s=UP_TIMEOUT_S)
            return time.monotonic() - t0, provisioned
        finally:
            cluster.down(purge=True)


def run(version: str, cold: bool) -> StartupFigures:
    with tempfile.TemporaryDirectory(prefix="kafka-lab-bench-") as tmp:
        work = Path(tmp)
        cold_s = cold_provision_s = None
        cache_env: dict[str, str] = {}
        if cold:
            cold_s, cold_provision_s = cold_start(version, work)
            print(f"cold start:  {cold_s:6.1f} s  (provisioning {cold_provision_s:.1f} s)", flush=True)
            cache_env = {"KAFKA_LAB_CACHE": str(work / "cache")}  # warm = the cache the cold run filled
        cluster = LocalCluster(work / "warm-state", version=version, preferred_ports=None)
        with env(**cache_env):
            try:
                ensure_runtime(version)  # make sure "warm" means warm when run with --no-cold
                report = cluster.up(timeout_s=UP_TIMEOUT_S)
                warm_s = report.seconds
                print(f"warm start:  {warm_s:6.1f} s", flush=True)
                again = cluster.up(timeout_s=UP_TIMEOUT_S)
                assert again.already_running
                print(f"up again:    {again.seconds:6.1f} s  (already running)", flush=True)
                rss_start = broker_rss_mib(cluster)
                load_s = produce_load(cluster, LOAD_MESSAGES, LOAD_MESSAGE_BYTES)
                rss_load = broker_rss_mib(cluster)
            finally:
                cluster.down(purge=True)
    return StartupFigures(version, cold_s, cold_provision_s, warm_s, again.seconds, rss_start, rss_load,
                          LOAD_MESSAGES, load_s)


def render(f: StartupFigures) -> str:
    def rss_line(label: str, rss: dict[int, float]) -> str:
        each = ", ".join(f"broker {n}: {v:.0f}" for n, v in sorted(rss.items()))
        total = sum(rss.values())
        verdict = "within" if total <= RSS_TARGET_MIB else "OVER"
        return f"{label:<22}{each}  = {total:.0f} MiB total ({verdict} the {RSS_TARGET_MIB:.0f} MiB target)"

    verdict = "within" if f.warm_s <= WARM_UP_TARGET_S else "OVER"
    mb = f.load_messages * LOAD_MESSAGE_BYTES / MIB
    cold = "skipped"
    if f.cold_s is not None and f.cold_provision_s is not None:
        cold = f"{f.cold_s:.1f} s (provisioning {f.cold_provision_s:.1f} s)"
    lines = [
        f"Kafka {f.version}, {psutil.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
        f"cold start:           {cold}",
        f"warm start:           {f.warm_s:.1f} s ({verdict} the {WARM_UP_TARGET_S:.0f} s target)",
        f"up on running:        {f.again_s:.1f} s",
        rss_line("RSS after start (MiB)", f.rss_after_start_mib),
        rss_line("RSS after load (MiB)", f.rss_after_load_mib),
        f"load: {f.load_messages} x {LOAD_MESSAGE_BYTES} B ({mb:.0f} MiB, acks=all, RF 3) "
        f"in {f.load_s:.1f} s",
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", default=DEFAULT_KAFKA_VERSION, help="Kafka version")
    p.add_argument("--no-cold", action="store_true", help="skip the cold start (no download)")
    args = p.parse_args()
    figures = run(args.version, cold=not args.no_cold)
    print()
    print(render(figures))


if __name__ == "__main__":
    main()
