"""Running Kafka's own command-line tools (perf tests) from the provisioned runtime: the JVM's heap, how
long it gets to stop, how often the wait looks, the quiet log4j configuration, and which Kafka version's
tools a run uses (the cluster's own, so the flags match what that version accepts).
"""

from __future__ import annotations

import re

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION

#: The perf tool is a small client: a modest heap keeps it from crowding the brokers on a small machine.
PERF_HEAP = "-Xmx512m"
#: How long the JVM gets to exit after a cancel (SIGTERM) before it is killed.
STOP_GRACE_S = 5.0
#: How often the wait for the tool looks whether it has exited (a cancel wakes it at once).
TOOL_POLL_S = 0.1
#: Kafka versions the provisioner can fetch are written like this (major.minor.patch).
KAFKA_VERSION_RE = re.compile(r"\d+\.\d+\.\d+")
LOG4J_QUIET = "log4j.rootLogger=ERROR, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n" \
              "log4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n" \
              "log4j.appender.stderr.layout.ConversionPattern=%p %m%n\n"
#: Kafka 4.2 gave ProducerPerformance ``--warmup-records N`` (KIP-1052): the first N records get a summary
#: line of their own and stay out of a second, "steady state" one.
WARMUP_RECORDS_SINCE = (4, 2)
#: Kafka 4.2 made the tools' flags consistent (KIP-1147): the producer perf test takes ``--bootstrap-server``
#: and ``--command-property`` (``--producer-props`` deprecated), the consumer perf test ``--num-records`` and
#: ``--command-config`` (``--messages`` and ``--consumer.config`` deprecated). Before 4.2 only the old names exist.
COMMON_FLAGS_SINCE = (4, 2)


def version_at_least(version: str, since: tuple[int, int]) -> bool:
    """True when Kafka ``version`` (major.minor.patch) is ``since`` (major, minor) or later."""
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major, minor) >= since


def tool_version(cluster: Cluster, asked: str | None) -> tuple[str, tuple[str, ...]]:
    """The Kafka version whose tools to run, and notes for the result: ``asked`` when given, else the
    cluster's own (a local or compose cluster knows it), else the default, saying so. A cluster that
    cannot tell (an external one) gets the default's tools, whose clients talk to any 3.x/4.x broker."""
    if asked is not None:
        return asked, ()
    known = cluster.facts().kafka_version
    if known and KAFKA_VERSION_RE.fullmatch(known):
        return known, ()
    return DEFAULT_KAFKA_VERSION, (
        f"The {cluster.backend} cluster does not say which Kafka it runs, so the tool of Kafka "
        f"{DEFAULT_KAFKA_VERSION} (the lab's default) was used; its client talks to any 3.x/4.x broker.",)
