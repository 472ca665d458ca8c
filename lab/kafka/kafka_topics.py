"""Eligible leader replicas (KIP-966) as Kafka itself reports them: ``kafka-topics --describe`` and
``kafka-features describe`` run from the provisioned runtime's jars.

confluent-kafka's Admin API (2.16) gives leader, replicas and ISR but not the ELR or the last known ELR, so
the lab asks Kafka's own tool (``org.apache.kafka.tools.TopicCommand``), which prints them per partition::

    Topic: t	Partition: 0	Leader: none	Replicas: 1,2	Isr: 	Elr: 1	LastKnownElr:

A JVM start per call (1–3 s): the lab does it only when asked for (``--elr``, a button) or when a scenario
needs the figures. Whether the cluster keeps an ELR at all is the finalized level of the feature
``eligible.leader.replicas.version`` (``kafka-features describe``): 1 on new 4.1+ clusters, 0 on 3.9, where
the ISR never empties and there is no ELR. A secured cluster's client settings reach the tool in a private
0600 file (``--command-config``), never on its command line.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, ensure_runtime
from lab.core import subprocs
from lab.core.context import RunContext
from lab.core.errors import LabError
from lab.kafka.tools import KAFKA_VERSION_RE, STOP_GRACE_S, TOOL_POLL_S, write_java_config

TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand"
FEATURE_COMMAND = "org.apache.kafka.tools.FeatureCommand"
#: The feature whose finalized level says whether the controller keeps an ELR (0: no ELR).
ELR_FEATURE = "eligible.leader.replicas.version"
#: The describe tools are small admin clients: a small heap keeps them off the brokers' memory.
TOOL_HEAP = "-Xmx256m"
#: How long one tool run may take (a JVM start and a few admin requests) before the lab gives up on it.
TOOL_TIMEOUT_S = 60.0
#: Where the figures came from, said with them.
SOURCE = "Kafka's own kafka-topics --describe (org.apache.kafka.tools.TopicCommand, Kafka {version} jars)"
NO_ELR_TEXT = ("no ELR on this cluster: {feature}={level} (ELR is part of Kafka 4.1+; on 3.9 the ISR keeps its "
               "last member instead of emptying)")

_FIELD = re.compile(r"(\w+):[ ]?([^\t]*)")


@dataclass(frozen=True)
class ToolPartition:
    """One line of ``kafka-topics --describe``. ``elr``/``last_known_elr`` are None when the line has no such
    field (a tool or cluster without them), an empty tuple when the set is empty."""

    topic: str
    partition: int
    leader: int  # -1: none
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    elr: tuple[int, ...] | None = None
    last_known_elr: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ElrReading:
    """What one run of the tool said, where it came from and how long it took."""

    partitions: tuple[ToolPartition, ...]
    source: str
    wall_s: float
    #: finalized level of ``eligible.leader.replicas.version``; None when not asked for
    elr_feature_level: int | None = None

    def get(self, topic: str, partition: int = 0) -> ToolPartition | None:
        return next((p for p in self.partitions if p.topic == topic and p.partition == partition), None)

    @property
    def elr_enabled(self) -> bool | None:
        return None if self.elr_feature_level is None else self.elr_feature_level > 0


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.replace(" ", "").split(",") if x)


def parse_describe(text: str) -> tuple[ToolPartition, ...]:
    """The partition lines of ``kafka-topics --describe`` output (the topic header lines are skipped)."""
    out = []
    for line in text.splitlines():
        fields = {k: v.strip() for k, v in _FIELD.findall(line)}
        if "Partition" not in fields or "Topic" not in fields or not fields["Partition"].isdigit():
            continue
        leader = fields.get("Leader", "none")
        out.append(ToolPartition(
            fields["Topic"], int(fields["Partition"]), int(leader) if leader.lstrip("-").isdigit() else -1,
            _ids(fields.get("Replicas", "")), _ids(fields.get("Isr", "")),
            _ids(fields["Elr"]) if "Elr" in fields else None,
            _ids(fields["LastKnownElr"]) if "LastKnownElr" in fields else None))
    return tuple(out)


def parse_features(text: str) -> dict[str, int]:
    """``kafka-features describe`` -> {feature: finalized level} (metadata.version, written 4.4-IV2, is left out)."""
    out = {}
    for line in text.splitlines():
        m = re.search(r"Feature:\s*(\S+).*FinalizedVersionLevel:\s*(\d+)\b(?![.-])", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def tool_version(cluster: Cluster) -> str:
    """The jars to run: the cluster's own version when the lab provisions it, else the lab's default."""
    v = str(getattr(cluster, "version", "") or "")
    return v if KAFKA_VERSION_RE.fullmatch(v) else DEFAULT_KAFKA_VERSION


def run_tool(cluster: Cluster, main_class: str, args: list[str], ctx: RunContext | None = None) -> str:
    """Run one of Kafka's tools against ``cluster``; its stdout. ``LabError`` with its last lines on failure;
    ``Cancelled`` (the JVM stopped) when ``ctx`` is cancelled meanwhile."""
    rt = ensure_runtime(tool_version(cluster), with_jolokia=False)
    with tempfile.TemporaryDirectory(prefix="lab-tool-") as tmp:
        # a secured cluster's settings reach the tool in a 0600 file, never on its command line
        cfg = write_java_config(Path(tmp) / "client.properties", cluster)
        cmd = [rt.java, TOOL_HEAP, "-cp", rt.classpath, main_class, "--bootstrap-server",
               cluster.bootstrap_servers(), "--command-config", str(cfg), *args]
        return _wait_for(cluster, main_class, cmd, ctx)


def _wait_for(cluster: Cluster, main_class: str, cmd: list[str], ctx: RunContext | None) -> str:
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise LabError(f"Could not start Kafka's {main_class.rsplit('.', 1)[-1]}: {exc}",
                       hint="Check that Java is installed.") from exc
    try:
        deadline = time.monotonic() + TOOL_TIMEOUT_S
        while True:
            try:
                out, err = proc.communicate(timeout=TOOL_POLL_S if ctx is not None else TOOL_TIMEOUT_S)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    raise LabError(f"Kafka's {main_class.rsplit('.', 1)[-1]} did not finish within "
                                   f"{TOOL_TIMEOUT_S:.0f} s.", hint=cluster.start_hint()) from None
                if ctx is not None:
                    ctx.check()
    finally:
        subprocs.stop(proc, STOP_GRACE_S)
    if proc.returncode != 0:
        raise LabError(f"Kafka's {main_class.rsplit('.', 1)[-1]} exited with status {proc.returncode}.",
                       hint="Its last lines:\n" + "\n".join((err or out).strip().splitlines()[-6:]))
    return out


def elr_feature_level(cluster: Cluster, ctx: RunContext | None = None) -> int:
    """The finalized level of ``eligible.leader.replicas.version`` (0 where the cluster does not know it)."""
    return parse_features(run_tool(cluster, FEATURE_COMMAND, ["describe"], ctx)).get(ELR_FEATURE, 0)


def describe(cluster: Cluster, topics: list[str], ctx: RunContext | None = None, *,
             with_feature: bool = False) -> ElrReading:
    """Leader, replicas, ISR, ELR and last known ELR of every partition of ``topics`` from Kafka's tool."""
    t0 = time.perf_counter()
    level = elr_feature_level(cluster, ctx) if with_feature else None
    # --topic takes a Java regular expression that must match the whole name: the exact names, or'ed
    pattern = "|".join(re.escape(t) for t in topics)
    parts = parse_describe(run_tool(cluster, TOPIC_COMMAND, ["--describe", "--topic", pattern], ctx))
    return ElrReading(parts, SOURCE.format(version=tool_version(cluster)), time.perf_counter() - t0, level)


def ids_text(xs: tuple[int, ...] | None) -> str:
    """``"1,2"``, ``"-"`` for an empty set, ``"n/a"`` when the tool did not report the set."""
    if xs is None:
        return "n/a"
    return ",".join(map(str, xs)) or "-"
