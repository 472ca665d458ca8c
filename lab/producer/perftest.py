"""Cross-check: run Kafka's own ``kafka-producer-perf-test`` (``org.apache.kafka.tools.ProducerPerformance``)
from the provisioned Kafka runtime on the same cluster, topic settings and producer config, and parse
what it prints into a typed result that sits next to the lab's own ``ProduceResult``.

The perf tool prints a line every 5 s and a final summary::

    50000 records sent, 48169.556840 records/sec (4.59 MB/sec), 65.12 ms avg latency, 328.00 ms max
    latency, 39 ms 50th, 234 ms 95th, 247 ms 99th, 253 ms 99.9th.

Its "MB" is MiB (bytes / 1024 / 1024) and its percentiles are whole milliseconds; the result converts
MB/s to 10^6 bytes like the lab's, and keeps the percentiles as printed.

Which tool, and its flags: the tool comes from the cluster's own Kafka version (``lab.kafka.tools.tool_version``;
an external cluster that does not say gets the default's, noted in the result). From Kafka 4.2 the tool takes
``--bootstrap-server`` and ``--command-property`` (KIP-1147; ``--producer-props`` is deprecated there) and
``--warmup-records N`` (KIP-1052); 3.x and 4.0/4.1 know only ``--producer-props`` and have no warm-up.

Warm-up, apples to apples: the lab's figures leave out its first ``WARMUP_S`` second (connection set-up,
metadata, the first batches; ``ProduceResult.warmup``). Where the tool has ``--warmup-records``, it is given
the same number of records: those the lab's run acknowledged in its warm-up (the lab runs first), or, for
the tool alone at a fixed rate, ``rate x WARMUP_S``; flat out without a lab run nothing says how many records
one second holds, so nothing is left out (a note says so). With a warm-up the tool prints a second final
line, ``N steady state records sent, ...``, over the records after it; that line is the ``summary`` compared
with the lab's, and the whole run's line is kept as ``whole``. On a version without the option the tool's
figures include its start (a fresh JVM's JIT and GC as well), and a note says so.

The experiment is ``cross_check(cluster, CrossCheckSettings(producer), ctx) -> CrossCheckResult``: the
lab's produce run, then the perf tool's, each on its own fresh topic made the same way (with
``perf_only`` just the tool's). A cancel or the time limit returns what was measured with ``stopped`` set:
the lab's partial run, or the tool's interval lines without its final summary.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, ensure_runtime
from lab.core import subprocs
from lab.core.context import ChildContext, RunContext
from lab.core.errors import Cancelled, LabError, SettingsError
from lab.core.results import Result
from lab.core.stats import ratio
from lab.core.validate import is_whole, require
from lab.kafka import topics
from lab.kafka.payloads import make_payloads
from lab.kafka.tools import (
    COMMON_FLAGS_SINCE,
    KAFKA_VERSION_RE,
    LOG4J_QUIET,
    PERF_HEAP,
    STOP_GRACE_S,
    TOOL_POLL_S,
    WARMUP_RECORDS_SINCE,
    tool_version,
    version_at_least,
    write_java_config,
)
from lab.producer import run as produce
from lab.producer import sweep
from lab.producer.run import WARMUP_S, ProduceResult
from lab.producer.settings import ProducerSettings

PERF_CLASS = "org.apache.kafka.tools.ProducerPerformance"
MIB = 1024 * 1024

#: Final line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, p50 ms 50th, ..."
#: With --warmup-records (Kafka 4.2+) a second one follows: "N steady state records sent, ..." (the same figures).
FINAL_RE = re.compile(
    r"(?P<records>\d+) (?P<steady>steady state )?records sent, (?P<rps>[\d.]+) records/sec "
    r"\((?P<mbps>[\d.]+) MB/sec\), (?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, "
    r"(?P<p50>\d+) ms 50th, (?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99\.9th"
)
#: Interval line (every 5 s): "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency."
INTERVAL_RE = re.compile(
    r"^(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency\.$"
)


@dataclass(frozen=True)
class PerfInterval:
    records: int
    records_per_s: float
    mb_per_s: float
    avg_ms: float
    max_ms: float


@dataclass(frozen=True)
class PerfSummary:
    records: int
    records_per_s: float
    #: 10^6 bytes per second (the tool prints MiB/s; converted so it compares with the lab's MB/s)
    mb_per_s: float
    avg_ms: float
    max_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float


@dataclass(frozen=True)
class CrossCheckSettings:
    """The cross-check: the producer settings both sides use; ``perf_only`` runs only Kafka's tool, from
    the Kafka ``kafka_version`` the lab provisions (None: the cluster's own version; its client talks to
    any 3.x/4.x broker)."""

    producer: ProducerSettings
    perf_only: bool = False
    kafka_version: str | None = None

    def __post_init__(self) -> None:
        require(isinstance(self.producer, ProducerSettings), "The cross-check needs a ProducerSettings.",
                "Build it with ProducerSettings(...) (or a preset).")
        require(isinstance(self.perf_only, bool), f"perf_only={self.perf_only!r} is not a yes/no value.",
                "Use True or False.")
        require(self.kafka_version is None or (isinstance(self.kafka_version, str)
                                                and KAFKA_VERSION_RE.fullmatch(self.kafka_version) is not None),
                f"Kafka version {self.kafka_version!r} is not a version number.",
                f"Use major.minor.patch, e.g. {DEFAULT_KAFKA_VERSION} (or None: the cluster's own).")
        perf_args(self.producer, "-", "-", None)  # refuse settings the tool cannot run before anything starts

    @property
    def runs(self) -> int:
        """Produce runs the cross-check makes (the lab's and the tool's, or the tool's alone)."""
        return 1 if self.perf_only else 2


@dataclass(frozen=True)
class PerfTestResult(Result):
    """What Kafka's perf tool measured, with the settings and the exact command it ran. ``summary`` is None
    when the tool was stopped before its final line (``stopped`` says why; ``intervals`` has what it printed)."""

    settings: ProducerSettings
    topic: str
    summary: PerfSummary | None
    intervals: tuple[PerfInterval, ...]
    #: wall time of the whole tool, JVM start included
    wall_s: float
    #: records the tool added to the topic (watermarks minus the records that primed the fresh topic)
    topic_messages: int | None
    command: tuple[str, ...]
    notes: tuple[str, ...] = ()
    #: the Kafka version whose tool ran ("": a run stored before the lab recorded it)
    kafka_version: str = ""
    #: the first records the tool left out of ``summary`` (--warmup-records); 0: none
    warmup_records: int = 0
    #: the whole run's line, warm-up included, when a warm-up was left out (``summary`` is then the
    #: "steady state" line); None without a warm-up
    whole: PerfSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PerfOutput:
    """What the tool printed: its final line(s) and its interval lines."""

    #: the "N records sent, ..." line over the whole run (None: the tool stopped before it)
    whole: PerfSummary | None
    #: the "N steady state records sent, ..." line (only with --warmup-records)
    steady: PerfSummary | None
    intervals: tuple[PerfInterval, ...]

    @property
    def summary(self) -> PerfSummary | None:
        """The figures to compare: the steady state's when the tool left a warm-up out, else the whole run's."""
        return self.steady or self.whole


def parse_output(text: str) -> PerfOutput:
    """Parse the perf tool's stdout; raises ``LabError`` when no final summary line is there."""
    out = parse_lines(text)
    if out.summary is None:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise LabError("Kafka's perf tool ended without its summary line.",
                       hint=f"Its last output was:\n{tail or '(nothing)'}")
    return out


def parse_lines(text: str) -> PerfOutput:
    """The final line(s) (None where the tool did not print them) and the interval lines of its stdout."""
    intervals = []
    whole = steady = None
    for line in text.splitlines():
        line = line.strip()
        m = INTERVAL_RE.match(line)
        if m:
            intervals.append(PerfInterval(int(m["records"]), float(m["rps"]), float(m["mbps"]) * MIB / 1e6,
                                          float(m["avg"]), float(m["max"])))
            continue
        m = FINAL_RE.search(line)
        if m:
            final = PerfSummary(int(m["records"]), float(m["rps"]), float(m["mbps"]) * MIB / 1e6, float(m["avg"]),
                                float(m["max"]), float(m["p50"]), float(m["p95"]), float(m["p99"]), float(m["p999"]))
            if m["steady"]:
                steady = final
            else:
                whole = final
    return PerfOutput(whole, steady, tuple(intervals))


def tool_records(settings: ProducerSettings) -> int:
    """Records the tool sends: the count, or rate x duration; ``SettingsError`` when neither is given."""
    if settings.count is not None:
        return settings.count
    if settings.rate is not None and settings.duration_s is not None:
        return int(settings.rate * settings.duration_s)
    raise SettingsError("Kafka's perf tool needs a message count (or a rate and a duration).",
                        hint="Set count, or both rate and duration_s.")


def perf_args(settings: ProducerSettings, topic: str, bootstrap: str, payload_file: Path | None, *,
              kafka_version: str = DEFAULT_KAFKA_VERSION, warmup_records: int = 0,
              config_file: Path | None = None) -> list[str]:
    """The ProducerPerformance arguments for these settings (without the java command), in the flags of the
    tool of ``kafka_version``: ``--bootstrap-server`` and ``--command-property`` from 4.2, ``--producer-props``
    before; ``--warmup-records`` when ``warmup_records`` > 0 and the version has it (4.2+), else left out.
    ``config_file`` (the cluster's security settings, ``tools.write_java_config``) is how secrets reach the
    tool: ``--command-config`` from 4.2, ``--producer.config`` before."""
    records = tool_records(settings)
    require(is_whole(warmup_records) and 0 <= warmup_records < max(records, 1),
            f"warmup_records={warmup_records!r} is not a count below the {records:,} records the tool sends.",
            "Use 0 (no warm-up) or fewer records than the run sends.")
    new_flags = version_at_least(kafka_version, COMMON_FLAGS_SINCE)
    args = (["--bootstrap-server", bootstrap] if new_flags else []) + [
        "--topic", topic, "--num-records", str(records),
        "--throughput", str(int(settings.rate)) if settings.rate is not None else "-1"]
    if payload_file is not None:
        args += ["--payload-file", str(payload_file), "--payload-delimiter", "\n"]
    else:
        args += ["--record-size", str(settings.message_size)]
    if warmup_records and version_at_least(kafka_version, WARMUP_RECORDS_SINCE):
        args += ["--warmup-records", str(warmup_records)]
    if config_file is not None:
        args += ["--command-config" if new_flags else "--producer.config", str(config_file)]
    props = settings.java_config() if new_flags else {"bootstrap.servers": bootstrap, **settings.java_config()}
    # the properties flag takes every word after it: it goes last
    args += ["--command-property" if new_flags else "--producer-props", *[f"{k}={v}" for k, v in props.items()]]
    return args


def warmup_records_for(settings: ProducerSettings, lab: ProduceResult | None) -> int:
    """How many first records the tool should leave out so both sides leave out the same warm-up: what the
    lab's run acknowledged in its warm-up (0 when that run ended within it, so its figures cover it all);
    without a lab run, a fixed rate's first ``WARMUP_S`` (rate x WARMUP_S); flat out without one, 0."""
    records = tool_records(settings)
    if lab is not None:
        n = lab.warmup.delivered if lab.warmup is not None else 0
    elif settings.rate is not None:
        n = int(settings.rate * WARMUP_S)
    else:
        n = 0
    return n if n < records else 0


def run_tool(cluster: Cluster, settings: ProducerSettings, ctx: RunContext, *, keep_topic: bool = False,
             kafka_version: str | None = None, warmup_records: int | None = None) -> PerfTestResult:
    """Run the perf tool on a fresh topic made like the lab's; cancellable, bounded by ``ctx``. A cancel
    stops the tool and returns what it printed by then (``summary`` None, ``stopped`` set).

    ``kafka_version``: whose tool (None: the cluster's own, see ``lab.kafka.tools.tool_version``);
    ``warmup_records``: first records left out of ``summary`` where the tool can (None: ``warmup_records_for``
    without a lab run, i.e. a fixed rate's first second)."""
    ctx.check()
    version, version_notes = tool_version(cluster, kafka_version)
    warm = warmup_records_for(settings, None) if warmup_records is None else warmup_records
    # refuse settings the tool cannot run before creating anything
    perf_args(settings, "-", "-", None, kafka_version=version, warmup_records=warm)
    if not version_at_least(version, WARMUP_RECORDS_SINCE):
        warm_note, warm = (f"Kafka {version}'s perf tool has no --warmup-records (KIP-1052, Kafka 4.2): its figures "
                           f"include its first records (JVM start, connections, metadata), which the lab's leave "
                           f"out." if warm else ""), 0
    else:
        warm_note = "" if warm or settings.rate is not None else (
            "Flat out and without the lab's run, nothing says how many records the lab's warm-up second holds: "
            "the tool left no warm-up out.")
    rt = ensure_runtime(version, with_jolokia=False)
    ctx.report(0.0, "creating a fresh topic for the perf tool")
    topic = topics.fresh_topic(cluster, settings.partitions, settings.replication_factor, settings.topic_configs(),
                               purpose="Kafka's perf tool", ctx=ctx)
    try:
        with tempfile.TemporaryDirectory(prefix="lab-perf-") as tmp:
            payload_file = None
            if settings.payload != "random":
                payload_file = Path(tmp) / "payloads.txt"
                payload_file.write_bytes(b"\n".join(make_payloads(settings.payload, settings.message_size)))
            log_cfg = Path(tmp) / "log4j.properties"
            log_cfg.write_text(LOG4J_QUIET)
            client_cfg = write_java_config(Path(tmp) / "client.properties", cluster)
            cmd = [rt.java, PERF_HEAP, f"-Dlog4j.configuration=file:{log_cfg}", "-cp", rt.classpath, PERF_CLASS,
                   *perf_args(settings, topic, cluster.bootstrap_servers(), payload_file, kafka_version=version,
                              warmup_records=warm, config_file=client_cfg)]
            text, wall, stopped = _run_tool(cmd, ctx, settings)
        out = parse_lines(text) if stopped else parse_output(text)
        primed = settings.partitions  # fresh_topic wrote one record per partition before the tool ran
        sent = out.whole.records if out.whole else sum(i.records for i in out.intervals)
        in_topic = topics.topic_message_count(cluster, topic, settings.partitions, expect=sent + primed)
        count = None if in_topic is None else in_topic - primed
    finally:
        if not keep_topic:
            topics.delete_topic(cluster, topic)
    notes = (*version_notes, *([warm_note] if warm_note else []), *_notes(settings))
    return PerfTestResult(settings, topic, out.summary, out.intervals, wall, count, tuple(cmd), notes,
                          kafka_version=version, warmup_records=warm if out.steady else 0,
                          whole=out.whole if out.steady else None, stopped=stopped)


def _notes(settings: ProducerSettings) -> tuple[str, ...]:
    """Where the tool's run differs from the lab's for these settings."""
    notes: list[str] = []
    if settings.key_spread:
        notes.append("The perf tool sends records without keys; key_spread was ignored.")
    if settings.end_to_end:
        notes.append("The perf tool has no end-to-end mode; only send->ack latency is measured.")
    if settings.payload == "random":
        notes.append("payload 'random': the perf tool uses its own random letters A-Z of the same size.")
    if settings.compression_level != -1:
        notes.append("compression level is librdkafka's; the Java client used its default level.")
    return tuple(notes)


def _run_tool(cmd: list[str], ctx: RunContext, settings: ProducerSettings) -> tuple[str, float, str | None]:
    """Run the tool to its end, or until ``ctx`` is cancelled; (its stdout, wall seconds, why it was stopped)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "KAFKA_HEAP_OPTS": PERF_HEAP})
    except OSError as exc:
        raise LabError(f"Could not start Kafka's perf tool: {exc}", hint="Check that Java is installed.") from exc
    lines: list[str] = []
    err_tail: deque[str] = deque(maxlen=20)

    def pump_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err_tail.append(line.rstrip())

    def pump_out() -> None:
        assert proc.stdout is not None
        done = 0
        for line in proc.stdout:
            lines.append(line)
            m = INTERVAL_RE.match(line.strip())
            if m:
                done += int(m["records"])  # each interval line counts that interval's records
                ctx.report(min(1.0, done / settings.count) if settings.count else None,
                           f"perf tool: {done:,} records sent, {float(m['rps']):,.0f} records/s")

    readers = [threading.Thread(target=pump_out, daemon=True), threading.Thread(target=pump_err, daemon=True)]
    for r in readers:
        r.start()
    stopped = None
    try:
        while proc.poll() is None:
            if ctx.wait(TOOL_POLL_S):  # waiting on the JVM (it reports through its stdout); wakes on cancel
                stopped = ctx.stopped_text()
                break
    finally:
        subprocs.stop(proc, STOP_GRACE_S)
        for r in readers:
            r.join(timeout=2)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    wall = time.perf_counter() - t0
    if stopped is None and proc.returncode != 0:
        raise LabError(f"Kafka's perf tool exited with status {proc.returncode}.",
                       hint="Its last lines:\n" + "\n".join(err_tail or lines[-8:]))
    return "".join(lines), wall, stopped


#: The figures a cross-check compares, in table order.
FIGURES = ("msgs/s", "MB/s", "avg ms", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms")


@dataclass(frozen=True)
class CrossCheckResult(Result):
    """The lab's produce run and the perf tool's on the same cluster, topic settings and config.

    ``lab`` is None with ``perf_only``; ``perf`` is None when the cross-check was stopped before the tool
    ran. Ratios against a missing side (or a tool stopped before its summary) are NaN.
    """

    settings: CrossCheckSettings
    lab: ProduceResult | None
    perf: PerfTestResult | None

    def _pairs(self) -> list[tuple[str, float, float]]:
        nan = [float("nan")] * len(FIGURES)
        lab, s = self.lab, self.perf.summary if self.perf is not None else None
        lat = lab.latency if lab is not None else None
        ours = ([lab.msgs_per_s, lab.mb_per_s, lat.avg_ms, lat.p50_ms, lat.p95_ms, lat.p99_ms, lat.p999_ms, lat.max_ms]
                if lab is not None and lat is not None else nan)
        theirs = ([s.records_per_s, s.mb_per_s, s.avg_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms, s.max_ms]
                  if s is not None else nan)
        return list(zip(FIGURES, ours, theirs, strict=True))

    def _ratio(self, figure: str) -> float:
        a, b = next((a, b) for name, a, b in self._pairs() if name == figure)
        return ratio(a, b)

    @property
    def throughput_ratio(self) -> float:
        """lab / perf tool, messages per second (>= 1 means the lab's harness is not the bottleneck)."""
        return self._ratio("msgs/s")

    @property
    def p50_ratio(self) -> float:
        return self._ratio("p50 ms")

    @property
    def p99_ratio(self) -> float:
        return self._ratio("p99 ms")

    def rows(self) -> list[tuple[str, float, float, float]]:
        """(figure, lab, perf tool, lab/perf) for a table; NaN where a side has no figure."""
        return [(name, a, b, ratio(a, b)) for name, a, b in self._pairs()]

    def to_dict(self) -> dict[str, Any]:
        return {"settings": asdict(self.settings), "lab": self.lab.to_dict() if self.lab else None,
                "perf": self.perf.to_dict() if self.perf else None, "throughput_ratio": self.throughput_ratio,
                "p50_ratio": self.p50_ratio, "p99_ratio": self.p99_ratio, "stopped": self.stopped}


def cross_check(cluster: Cluster, settings: CrossCheckSettings, ctx: RunContext) -> CrossCheckResult:
    """The lab's run, then the perf tool's, each on its own fresh topic made the same way (or, with
    ``perf_only``, the tool's alone). Stopped part-way, it returns the side(s) that ran, ``stopped`` set."""
    total = settings.runs
    lab_result: ProduceResult | None = None
    if not settings.perf_only:
        lab_result = produce.run(cluster, settings.producer, _Part(ctx, 0, total, "lab"))
        if lab_result.stopped and ctx.cancelled:
            return CrossCheckResult(settings, lab_result, None, stopped=lab_result.stopped)
    try:
        perf_result = run_tool(cluster, settings.producer, _Part(ctx, total - 1, total, "perf tool"),
                               kafka_version=settings.kafka_version,
                               warmup_records=warmup_records_for(settings.producer, lab_result))
    except Cancelled:
        if lab_result is None:
            raise  # nothing was measured
        return CrossCheckResult(settings, lab_result, None, stopped=ctx.stopped_text())
    stopped = perf_result.stopped or (lab_result.stopped if lab_result is not None else None)
    return CrossCheckResult(settings, lab_result, perf_result, stopped=stopped)


def time_limit_for(settings: CrossCheckSettings) -> float:
    """A generous time bound (seconds) for the cross-check: one produce run's bound per side."""
    return sweep.time_limit_for(settings.producer, settings.runs)


class _Part(ChildContext):
    """Progress of one of the runs as its part of the cross-check's bar."""

    def __init__(self, parent: RunContext, index: int, total: int, who: str) -> None:
        super().__init__(parent)
        self._index, self._total, self._who = index, total, who

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        self.parent.report((self._index + (fraction or 0.0)) / self._total, f"{self._who}: {message}", partial)


__all__ = [
    "CrossCheckResult", "CrossCheckSettings", "PerfInterval", "PerfOutput", "PerfSummary", "PerfTestResult",
    "cross_check", "parse_lines", "parse_output", "perf_args", "run_tool", "time_limit_for", "tool_records",
    "warmup_records_for",
]
