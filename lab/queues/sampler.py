"""A share group's state sampled live while a run goes on: its members and their assignment, and per partition
the share-partition start offset and lag, from Kafka's own Admin API (``describeShareGroups``,
``listShareGroupOffsets``) in one small JVM for the whole run (``java/ShareGroupSampler.java``, run as a
single-file program with the provisioned jars). confluent-kafka has no share-group admin calls (2.16), and
starting ``kafka-share-groups`` per sample would cost a JVM start each time.

    with LiveSampler(cluster, group, ctx) as sampler:
        ...                                      # the members work
        sampler.samples()                        # ShareGroupState per second, oldest first

The JVM is owned: stopped when the block ends however it ends (stdin closed, then SIGTERM, then SIGKILL).
The cluster's security settings reach it in a 0600 file, never on its command line. A sampler that cannot
start or answer leaves a note and no samples: the state is shown next to a measurement, not needed by it.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION, ensure_runtime
from lab.core import subprocs
from lab.core.context import RunContext, poll_until
from lab.kafka.tools import LOG4J_QUIET, STOP_GRACE_S, write_java_config
from lab.queues.state import ShareGroupState, ShareMemberState, SharePartitionState

SOURCE = Path(__file__).resolve().parent / "java" / "ShareGroupSampler.java"
#: Four samples a second: two admin requests each, light next to the members' fetches.
SAMPLE_EVERY_S = 0.25
SAMPLER_HEAP = "-Xmx128m"
#: How long a run waits for its last sample: the JVM's start (compiling the source on a busy machine) and a sample.
FIRST_SAMPLE_S = 30.0
#: Samples kept (a long run keeps its last ones).
MAX_SAMPLES = 3_600


def parse_sample(group: str, line: str, command: tuple[str, ...] = ()) -> ShareGroupState | None:
    """One line of the sampler as a ``ShareGroupState`` (None for a line that is not a sample)."""
    try:
        raw: dict[str, Any] = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or "at_ms" not in raw:
        return None
    at = round(raw["at_ms"] / 1000.0, 3)
    if "error" in raw:
        return ShareGroupState(group, at, (), (), note=str(raw["error"])[:300], command=command)
    members = tuple(ShareMemberState(m["id"], m["client"], tuple(m["assignment"])) for m in raw.get("members", ()))
    parts = tuple(sorted((SharePartitionState(p["topic"], int(p["partition"]), p["start"], p["lag"])
                          for p in raw.get("partitions", ())), key=lambda x: (x.topic, x.partition)))
    return ShareGroupState(group, at, members, parts, command=command)


class LiveSampler:
    """Samples ``group`` every ``every_s`` seconds in the background until the block ends."""

    def __init__(self, cluster: Cluster, group: str, every_s: float = SAMPLE_EVERY_S,
                 kafka_version: str = DEFAULT_KAFKA_VERSION) -> None:
        self.cluster = cluster
        self.group = group
        self.every_s = every_s
        self.kafka_version = kafka_version
        self.note = ""
        self.command = ("ShareGroupSampler", "--group", group, "--every-ms", str(round(every_s * 1000)))
        self._samples: list[ShareGroupState] = []
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def samples(self) -> list[ShareGroupState]:
        with self._lock:
            return list(self._samples)

    def wait_for_sample_after(self, epoch: float, ctx: RunContext, timeout_s: float = FIRST_SAMPLE_S, *,
                              settled: bool = True) -> bool:
        """Wait (bounded, cancellable) for a sample taken at or after ``epoch`` (s since the epoch) — with
        ``settled``, one that describes the group (not an error): the run's last state is then in the result;
        without, any answer (the sampler is up: a run waits for it before its members start). False when none
        came (no sampler, or it did not answer in time)."""
        proc = self._proc
        if proc is None:
            return False

        def after() -> bool:
            return any(x.at >= epoch and (not x.note or not settled) for x in self.samples())

        poll_until(lambda: after() or ctx.cancelled or proc.poll() is not None, timeout_s, every_s=0.1)
        return after()

    def __enter__(self) -> LiveSampler:
        self._tmp = tempfile.TemporaryDirectory(prefix="lab-share-sampler-")
        tmp = Path(self._tmp.name)
        try:
            rt = ensure_runtime(self.kafka_version, with_jolokia=False)
            (tmp / "log4j.properties").write_text(LOG4J_QUIET)
            cfg = write_java_config(tmp / "client.properties", self.cluster,
                                    {"bootstrap.servers": self.cluster.bootstrap_servers()})
            cmd = [rt.java, SAMPLER_HEAP, f"-Dlog4j.configuration=file:{tmp / 'log4j.properties'}",
                   "-cp", rt.classpath, str(SOURCE), str(cfg), self.group, str(round(self.every_s * 1000))]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, text=True)
        except Exception as exc:  # noqa: BLE001 - the state is beside the measurement: say why, go on
            self.note = f"The live sampler could not start: {exc}"
            return self
        self._reader = threading.Thread(target=self._read, name=f"share-sampler-{self.group}", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            got = parse_sample(self.group, line, self.command)
            if got is None:
                continue
            with self._lock:
                self._samples.append(got)
                del self._samples[:-MAX_SAMPLES]

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()  # the sampler exits when its stdin closes
            except OSError:
                pass
            deadline = time.monotonic() + STOP_GRACE_S
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            subprocs.stop(proc, STOP_GRACE_S)
            if self._reader is not None:
                self._reader.join(STOP_GRACE_S)
            if proc.stdout is not None:
                proc.stdout.close()
            if not self._samples and not self.note:
                self.note = "The live sampler gave no sample (its JVM starts in a few seconds; the run was shorter)."
        if self._tmp is not None:
            self._tmp.cleanup()


__all__ = ["SAMPLE_EVERY_S", "LiveSampler", "parse_sample"]
