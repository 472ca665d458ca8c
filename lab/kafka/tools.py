"""Running Kafka's own command-line tools (perf tests) from the provisioned runtime: the JVM's heap, how
long it gets to stop, how often the wait looks, the quiet log4j configuration, which Kafka version's tools a
run uses (the cluster's own, so the flags match what that version accepts), and the client config file that
carries a secured cluster's settings to a tool (never its command line).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from lab.cluster.base import Cluster
from lab.cluster.provision import DEFAULT_KAFKA_VERSION
from lab.core.errors import SettingsError

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


#: librdkafka SASL mechanisms the Java tools can be given from a username and password, and their modules.
JAAS_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def java_security_properties(security: Mapping[str, str]) -> dict[str, str]:
    """The Java client's names for librdkafka security settings (``Cluster.security_settings()``).

    Username and password become ``sasl.jaas.config``; a CA file a PEM truststore; a client certificate and
    key a PEM keystore given inline. The result holds secrets: it belongs in a private file only
    (``java_client_config``), never on a command line.
    """
    out: dict[str, str] = {}
    proto = security.get("security.protocol", "PLAINTEXT").upper()
    out["security.protocol"] = proto
    if proto.startswith("SASL"):
        mech = security.get("sasl.mechanism", "PLAIN").upper()
        if mech not in JAAS_MODULES:
            raise SettingsError(f"Kafka's Java tools cannot be given sasl.mechanism={mech} by the lab.",
                                hint=f"The lab hands them {', '.join(JAAS_MODULES)} (username and password).")
        out["sasl.mechanism"] = mech
        out["sasl.jaas.config"] = (f"{JAAS_MODULES[mech]} required username={_jaas_quote(security['sasl.username'])}"
                                   f" password={_jaas_quote(security['sasl.password'])};")
    if "ssl.ca.location" in security:
        out["ssl.truststore.type"] = "PEM"
        out["ssl.truststore.location"] = security["ssl.ca.location"]
    if "ssl.certificate.location" in security and "ssl.key.location" in security:
        out["ssl.keystore.type"] = "PEM"
        out["ssl.keystore.certificate.chain"] = Path(security["ssl.certificate.location"]).expanduser().read_text()
        out["ssl.keystore.key"] = Path(security["ssl.key.location"]).expanduser().read_text()
        if "ssl.key.password" in security:
            out["ssl.key.password"] = security["ssl.key.password"]
    algo = security.get("ssl.endpoint.identification.algorithm")
    if algo is not None:
        out["ssl.endpoint.identification.algorithm"] = "" if algo.lower() == "none" else algo
    return out


def properties_text(props: Mapping[str, str]) -> str:
    """``key=value`` lines Java's ``Properties.load`` reads back exactly (backslashes, newlines escaped)."""
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "".join(f"{k}={esc(v)}\n" for k, v in props.items())


def write_java_config(path: Path, cluster: Cluster, extra: Mapping[str, str] | None = None) -> Path:
    """A Java client config file (mode 0600) with the cluster's security settings, then ``extra``; the
    caller puts it in a private temporary directory, deleted when the tool is done."""
    props = {**java_security_properties(cluster.security_settings()), **(extra or {})}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(properties_text(props))
    return path
