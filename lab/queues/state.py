"""A share group's state as Kafka's own ``kafka-share-groups`` tool reports it
(``org.apache.kafka.tools.consumer.group.ShareGroupCommand`` from the provisioned jars): its members and
their assignment (``--describe --members``), and per partition the share-partition start offset and lag
(``--describe --offsets``). confluent-kafka's Admin API has no share-group calls (2.16), so the tool it is.

The start offset is the first offset the group has not finished with: every record below it is
acknowledged or archived. Once all the records are done it equals the partition's end offset.

The tool connects with the bootstrap servers only (as the lab's perf cross-checks do): it describes a
plaintext cluster, not one that needs SASL/SSL.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, ensure_runtime
from lab.core import subprocs
from lab.core.context import RunContext
from lab.core.errors import Cancelled, LabError
from lab.kafka.tools import LOG4J_QUIET, STOP_GRACE_S, TOOL_POLL_S, write_java_config

TOOL_CLASS = "org.apache.kafka.tools.consumer.group.ShareGroupCommand"
#: A describe is one admin request; a JVM start on a busy 2-core machine takes a few seconds more.
TOOL_TIMEOUT_S = 60.0
TOOL_HEAP = "-Xmx256m"


@dataclass(frozen=True)
class ShareMemberState:
    consumer_id: str
    client_id: str
    #: "topic:partition" the member was assigned (several members may share one partition)
    assignment: tuple[str, ...]


@dataclass(frozen=True)
class SharePartitionState:
    topic: str
    partition: int
    #: the share-partition start offset (None: the group has no state for it yet)
    start_offset: int | None
    lag: int | None


@dataclass(frozen=True)
class ShareGroupState:
    group: str
    #: seconds since the epoch when it was read
    at: float
    members: tuple[ShareMemberState, ...]
    partitions: tuple[SharePartitionState, ...]
    #: the tool's words when it had nothing to show (e.g. "has no active members")
    note: str = ""
    #: the command that was run (class and arguments, no secrets: the tool gets only the bootstrap)
    command: tuple[str, ...] = ()

    def members_of(self, topic_partition: str) -> int:
        return sum(1 for m in self.members if topic_partition in m.assignment)


def _int(text: str) -> int | None:
    return int(text) if text.lstrip("-").isdigit() else None


def parse_members(text: str) -> tuple[ShareMemberState, ...]:
    """The rows of ``--describe --members`` (GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS [MEMBER-EPOCH] ASSIGNMENT)."""
    out = []
    header: list[str] | None = None
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "GROUP":
            header = parts
            continue
        if header is None or len(parts) < len(header) - 1:
            continue
        row = dict(zip(header, parts, strict=False))
        assigned = row.get("ASSIGNMENT", "-") if len(parts) >= len(header) else ""
        parts_list: list[str] = []
        for chunk in assigned.split(";") if assigned and assigned != "-" else []:
            topic, _, nums = chunk.rpartition(":")
            parts_list += [f"{topic}:{n}" for n in nums.split(",") if n]
        out.append(ShareMemberState(row.get("CONSUMER-ID", ""), row.get("CLIENT-ID", ""), tuple(parts_list)))
    return tuple(out)


def parse_offsets(text: str) -> tuple[SharePartitionState, ...]:
    """The rows of ``--describe --offsets`` (GROUP TOPIC PARTITION [LEADER-EPOCH] START-OFFSET LAG)."""
    out = []
    header: list[str] | None = None
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "GROUP":
            header = parts
            continue
        if header is None or len(parts) != len(header):
            continue
        row = dict(zip(header, parts, strict=True))
        p = _int(row.get("PARTITION", ""))
        if p is None:
            continue
        out.append(SharePartitionState(row["TOPIC"], p, _int(row.get("START-OFFSET", "-")), _int(row.get("LAG", "-"))))
    return tuple(sorted(out, key=lambda x: (x.topic, x.partition)))


def _note(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip().startswith("Share group")), "")


def run_tool(cluster: Cluster, args: list[str], ctx: RunContext | None = None,
             kafka_version: str = DEFAULT_KAFKA_VERSION) -> tuple[str, tuple[str, ...]]:
    """Run the tool with ``args`` after the bootstrap; (its stdout, the command as shown: no classpath). The
    JVM is always stopped: at its end, at ``TOOL_TIMEOUT_S``, or at once when ``ctx`` is cancelled
    (``Cancelled``)."""
    rt = ensure_runtime(kafka_version, with_jolokia=False)
    tool_args = ["--bootstrap-server", cluster.bootstrap_servers(), *args]
    shown = ("kafka-share-groups", *tool_args)
    with tempfile.TemporaryDirectory(prefix="lab-share-tool-") as tmp, \
            tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        log_cfg = Path(tmp) / "log4j.properties"
        log_cfg.write_text(LOG4J_QUIET)
        # a secured cluster's settings reach the tool in a 0600 file, never on its command line
        client_cfg = write_java_config(Path(tmp) / "client.properties", cluster)
        cmd = [rt.java, TOOL_HEAP, f"-Dlog4j.configuration=file:{log_cfg}", "-cp", rt.classpath, TOOL_CLASS,
               *tool_args, "--command-config", str(client_cfg)]
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        except OSError as exc:
            raise LabError(f"Could not start Kafka's kafka-share-groups tool: {exc}",
                           hint="Check that Java is installed.") from exc
        try:
            deadline = time.monotonic() + TOOL_TIMEOUT_S
            while proc.poll() is None:
                if ctx is not None and ctx.wait(TOOL_POLL_S):
                    raise Cancelled(ctx.stopped_text())
                if ctx is None:
                    time.sleep(TOOL_POLL_S)
                if time.monotonic() > deadline:
                    raise LabError(f"kafka-share-groups did not answer within {TOOL_TIMEOUT_S:.0f} s.",
                                   hint="Check the cluster with `kafka-lab cluster status`.")
        finally:
            subprocs.stop(proc, STOP_GRACE_S)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-6:])
        raise LabError(f"kafka-share-groups exited with status {proc.returncode}.", hint=f"Its last lines:\n{tail}")
    return stdout, shown


def describe(cluster: Cluster, group: str, ctx: RunContext | None = None) -> ShareGroupState:
    """Members and assignment, then start offsets and lag, of ``group`` (two runs of the tool)."""
    at = time.time()
    members_text, cmd = run_tool(cluster, ["--describe", "--group", group, "--members"], ctx)
    offsets_text, _ = run_tool(cluster, ["--describe", "--group", group, "--offsets"], ctx)
    note = " ".join(n for n in (_note(members_text), _note(offsets_text)) if n)
    return ShareGroupState(group, round(at, 3), parse_members(members_text), parse_offsets(offsets_text), note, cmd)


def describe_quietly(cluster: Cluster, group: str, ctx: RunContext | None = None) -> ShareGroupState | None:
    """``describe``, or None when the tool could not or the run was cancelled meanwhile (the state is shown next
    to a measurement, not needed by it)."""
    try:
        return describe(cluster, group, ctx)
    except LabError:  # Cancelled too: the caller sees ctx.cancelled
        return None


__all__ = ["TOOL_CLASS", "ShareGroupState", "ShareMemberState", "SharePartitionState", "describe",
           "describe_quietly", "parse_members", "parse_offsets", "run_tool"]
