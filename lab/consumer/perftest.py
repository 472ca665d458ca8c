"""Cross-check the lab's consumer with Kafka's own ``kafka-consumer-perf-test``
(``org.apache.kafka.tools.ConsumerPerformance``) from the provisioned Kafka runtime: the same topic, the
same message count and the same fetch settings (under the Java client's names), each in a fresh group.

The tool prints one CSV line after its header::

    start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
    rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec

Its ``fetch.nMsg.sec`` leaves the group join (``rebalance.time.ms``) out, as the lab's ``msgs_per_s`` does
(counted from the first message), so those two are compared. Its "MB" is MiB; converted to 10^6 bytes.
Kafka 3.9.2 and 4.4.0 print the same header and line (checked by running both). The tool stops after the
poll that reaches the count, so it may read a poll's worth more than asked (4.4.0: 100 243 for 100 000);
its rates are over what it read.

The tool is one JVM consumer; the lab reads with ``members`` processes (``lab.consumer.members``), and, when
that is more than one, also with one in-process consumer: lab(N) / tool shows whether the lab's harness keeps
up with Kafka's, lab(1) / tool how far one Python consumer does.

Which tool, and its flags: the cluster's own Kafka version (``lab.kafka.tools.tool_version``; an external
cluster that does not say gets the default's, noted in the result). From Kafka 4.2 the count is
``--num-records`` and the config file ``--command-config`` (KIP-1147; ``--messages`` and ``--consumer.config``
are deprecated there, and print a warning); 3.x and 4.0/4.1 know only the old names.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, ensure_runtime
from lab.consumer.fetch import BACKLOG_S, MIN_BACKLOG, BenchResult, BenchSettings, bench
from lab.consumer.fetch import time_limit_for as bench_time_limit
from lab.consumer.settings import ConsumerSettings
from lab.core import subprocs
from lab.core.context import RunContext
from lab.core.errors import Cancelled, LabError
from lab.core.results import Result
from lab.core.stats import ratio
from lab.core.validate import require
from lab.kafka.tools import (
    COMMON_FLAGS_SINCE,
    KAFKA_VERSION_RE,
    LOG4J_QUIET,
    PERF_HEAP,
    STOP_GRACE_S,
    TOOL_POLL_S,
    tool_version,
    version_at_least,
    write_java_config,
)

PERF_CLASS = "org.apache.kafka.tools.ConsumerPerformance"
MIB = 1024 * 1024
#: The tool gives up when no message arrived for this long (its --timeout, ms).
TOOL_IDLE_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class ConsumerPerfSummary:
    records: int
    mb: float
    #: over the whole run, join included
    records_per_s: float
    mb_per_s: float
    rebalance_ms: float
    fetch_ms: float
    #: from the first fetch on (what the lab's msgs_per_s compares with)
    fetch_records_per_s: float
    fetch_mb_per_s: float


def parse_output(text: str) -> ConsumerPerfSummary:
    """The tool's data line (the one after its header); ``LabError`` when it is missing."""
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 10 and parts[0][:1].isdigit():
            try:
                nums = [float(p) for p in parts[2:]]
            except ValueError:
                continue
            return ConsumerPerfSummary(int(nums[2]), nums[0] * MIB / 1e6, nums[3], nums[1] * MIB / 1e6, nums[4],
                                       nums[5], nums[7], nums[6] * MIB / 1e6)
    tail = "\n".join(text.strip().splitlines()[-8:])
    raise LabError("Kafka's consumer perf tool ended without its result line.", hint=f"Its last output:\n{tail}")


def perf_args(s: ConsumerSettings, count: int, bootstrap: str, group: str, config_file: Path,
              kafka_version: str = DEFAULT_KAFKA_VERSION) -> list[str]:
    """The ConsumerPerformance arguments (without the java command) in the flags of ``kafka_version``'s tool."""
    new_flags = version_at_least(kafka_version, COMMON_FLAGS_SINCE)
    return ["--bootstrap-server", bootstrap, "--topic", s.topic,
            "--num-records" if new_flags else "--messages", str(count), "--group", group,
            "--command-config" if new_flags else "--consumer.config", str(config_file),
            "--fetch-size", str(s.max_partition_fetch_bytes), "--timeout", str(TOOL_IDLE_TIMEOUT_MS)]


@dataclass(frozen=True)
class ConsumerCrossCheckSettings:
    """Both consumers read ``consumer.count`` messages of ``consumer.topic`` (all of it when unset); the tool
    is Kafka ``kafka_version``'s (None: the cluster's own version)."""

    consumer: ConsumerSettings = ConsumerSettings()
    kafka_version: str | None = None
    #: the lab's consumer processes (``BenchSettings.members``): 1, what a stored run had before; None: one per
    #: core, at most one per partition
    members: int | None = 1

    def __post_init__(self) -> None:
        require(isinstance(self.consumer, ConsumerSettings), "The cross-check needs a ConsumerSettings.",
                "Build it with ConsumerSettings(...).")
        require(self.kafka_version is None or (isinstance(self.kafka_version, str)
                                                and KAFKA_VERSION_RE.fullmatch(self.kafka_version) is not None),
                f"Kafka version {self.kafka_version!r} is not a version number.",
                f"Use major.minor.patch, e.g. {DEFAULT_KAFKA_VERSION} (or None: the cluster's own).")
        require(self.consumer.processing_delay_ms == 0 and self.consumer.duration_s is None,
                "Kafka's perf tool has no processing delay and runs for a count, not a duration.",
                "Set processing_delay_ms=0 and give a count (or none: the whole topic).")
        BenchSettings(self.consumer, members=self.members)  # the members are refused as the benchmark refuses them


@dataclass(frozen=True)
class ConsumerCrossCheckResult(Result):
    settings: ConsumerCrossCheckSettings
    count: int
    lab: BenchResult | None
    perf: ConsumerPerfSummary | None
    perf_wall_s: float
    command: tuple[str, ...]
    #: the Kafka version whose tool ran ("": not run, or a run stored before the lab recorded it)
    kafka_version: str = ""
    notes: tuple[str, ...] = ()
    #: the lab with one in-process consumer when ``lab`` ran more than one (None: ``lab`` is that run)
    lab_one: BenchResult | None = None

    @property
    def throughput_ratio(self) -> float:
        """lab msgs/s (from the first message, all its processes) / the tool's fetch.nMsg.sec; >= 1: the harness
        is not the limit."""
        if self.lab is None or self.perf is None:
            return float("nan")
        return ratio(self.lab.msgs_per_s, self.perf.fetch_records_per_s)

    @property
    def one_process(self) -> BenchResult | None:
        """The lab's one-process run (``lab`` itself when it ran one)."""
        return self.lab_one or (self.lab if self.lab is not None and self.lab.processes == 1 else None)

    @property
    def one_process_ratio(self) -> float:
        """One Python consumer's msgs/s / the tool's fetch.nMsg.sec."""
        one = self.one_process
        if one is None or self.perf is None:
            return float("nan")
        return ratio(one.msgs_per_s, self.perf.fetch_records_per_s)


def run_tool(cluster: Cluster, s: ConsumerSettings, count: int, ctx: RunContext,
             kafka_version: str = DEFAULT_KAFKA_VERSION) -> tuple[ConsumerPerfSummary | None, float, tuple[str, ...]]:
    """Run Kafka ``kafka_version``'s ConsumerPerformance to its end or a cancel: (its summary or None when
    stopped, wall s, command)."""
    rt = ensure_runtime(kafka_version, with_jolokia=False)
    with tempfile.TemporaryDirectory(prefix="lab-cperf-") as tmp:
        # the cluster's security settings and the fetch settings, mode 0600, deleted with the directory
        cfg = write_java_config(Path(tmp) / "consumer.properties", cluster, s.java_config())
        log_cfg = Path(tmp) / "log4j.properties"
        log_cfg.write_text(LOG4J_QUIET)
        cmd = [rt.java, PERF_HEAP, f"-Dlog4j.configuration=file:{log_cfg}", "-cp", rt.classpath, PERF_CLASS,
               *perf_args(s, count, cluster.bootstrap_servers(), f"lab-cperf-{uuid.uuid4().hex[:8]}", cfg,
                          kafka_version)]
        t0 = time.perf_counter()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            try:
                proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
            except OSError as exc:
                raise LabError(f"Could not start Kafka's perf tool: {exc}",
                               hint="Check that Java is installed.") from exc
            try:
                while proc.poll() is None:
                    ctx.report(None, "Kafka's consumer perf tool is reading")
                    if ctx.wait(TOOL_POLL_S):  # waiting on the JVM; wakes at once on cancel
                        return None, time.perf_counter() - t0, tuple(cmd)
            finally:
                subprocs.stop(proc, STOP_GRACE_S)
            wall = time.perf_counter() - t0
            out.seek(0)
            err.seek(0)
            text, errors = out.read(), err.read()
    if proc.returncode != 0:
        raise LabError(f"Kafka's consumer perf tool exited with status {proc.returncode}.",
                       hint="Its last lines:\n" + "\n".join(errors.strip().splitlines()[-8:]))
    return parse_output(text), wall, tuple(cmd)


def cross_check(cluster: Cluster, settings: ConsumerCrossCheckSettings, ctx: RunContext) -> ConsumerCrossCheckResult:
    """The lab's backlog read (N processes, then one when N > 1), then the tool's, of the same messages; a cancel
    returns the side(s) that ran. Without a count the lab reads for ``BACKLOG_S`` (its benchmark seeds the
    topic when it holds too little) and the one-process run and the tool then read as many messages as it did."""
    s = settings.consumer
    lab = bench(cluster, BenchSettings(s, members=settings.members), ctx)
    count = s.count or lab.consumed
    if ctx.cancelled or count == 0:
        why = ctx.stopped_text() if ctx.cancelled else f"the lab's consumer read nothing of {s.topic!r}"
        return ConsumerCrossCheckResult(settings, count, lab, None, 0.0, (), stopped=why)
    one = bench(cluster, BenchSettings(s.replace(count=count), members=1), ctx) if lab.processes > 1 else None
    version, notes = tool_version(cluster, settings.kafka_version)
    notes = (*notes, f"Kafka's tool reads with one JVM consumer; the lab with {lab.processes} Python process(es)"
                     + (" and then one" if one is not None else "") + ".")
    perf: ConsumerPerfSummary | None = None
    cmd: tuple[str, ...]
    wall, cmd = 0.0, ()
    if not ctx.cancelled:
        with contextlib.suppress(Cancelled):
            perf, wall, cmd = run_tool(cluster, s, count, ctx, version)
    return ConsumerCrossCheckResult(settings, count, lab, perf, wall, cmd, version, notes, lab_one=one,
                                    stopped=ctx.stopped_text() if ctx.cancelled else None)


def time_limit_for(settings: ConsumerCrossCheckSettings) -> float:
    """The lab's run (seeding included), then the tool: a JVM's start and its read of the same messages."""
    n = settings.consumer.count or MIN_BACKLOG
    lab = bench_time_limit(BenchSettings(settings.consumer, members=settings.members))
    one = 0.0 if settings.members == 1 else bench_time_limit(BenchSettings(settings.consumer.replace(count=n)))
    return lab + one + 120.0 + n * 40e-6 + BACKLOG_S


__all__ = ["ConsumerCrossCheckResult", "ConsumerCrossCheckSettings", "ConsumerPerfSummary", "cross_check",
           "parse_output", "perf_args", "run_tool", "time_limit_for"]
