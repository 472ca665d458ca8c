"""What the local backend writes and picks for its brokers: ports, cluster id, ``server.properties``,
the logging config and the JVM command line. Pure functions of their arguments (plus port probes)."""

from __future__ import annotations

import base64
import os
import socket
import uuid
from pathlib import Path

from lab.cluster.local_state import LocalState, NodeFiles, NodeState
from lab.cluster.provision import KafkaRuntime

#: The only address the local backend ever binds.
HOST = "127.0.0.1"
NODE_IDS = (1, 2, 3)
#: Client ports as in the seeds (localhost:9092 works), used when free.
PREFERRED_CLIENT_PORTS = (9092, 9093, 9094)
PREFERRED_CONTROLLER_PORTS = (19092, 19093, 19094)
PREFERRED_JMX_PORTS = (8778, 8779, 8780)
#: Heap per broker: three JVMs must sit comfortably on a 2-core laptop (~300 MB resident each).
HEAP = "-Xms256m -Xmx256m"
JVM_OPTS = (
    "-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
    "-XX:+ExitOnOutOfMemoryError -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m "
    "-Djava.awt.headless=true -Djava.net.preferIPv4Stack=true"
)
#: Broker settings suited to a lab; shown to the user by `cluster status` and the Cluster page.
LAB_BROKER_SETTINGS: dict[str, str] = {
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "num.partitions": "3",
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    # a follower that stops fetching leaves the ISR after 5 s instead of 30 s: visible in a demo
    "replica.lag.time.max.ms": "5000",
    # a dead broker is fenced after 6 s instead of 9 s
    "broker.session.timeout.ms": "6000",
    "broker.heartbeat.interval.ms": "1000",
    # consumer groups form at once; the 3 s default delay only slows experiments
    "group.initial.rebalance.delay.ms": "0",
    # the consumer rebalance protocol (KIP-848, Kafka 4.x): the broker, not the client, sets the heartbeat
    # and session; Kafka's 5 s / 45 s would make every step of a demo take seconds. Each value within the
    # allowed min/max, which are lowered too. (3.9 knows these settings; its groups use the classic protocol.)
    "group.consumer.min.heartbeat.interval.ms": "500",
    "group.consumer.heartbeat.interval.ms": "1000",
    "group.consumer.min.session.timeout.ms": "6000",
    "group.consumer.session.timeout.ms": "10000",
    # share groups (KIP-932, Kafka 4.2+; the share page): a record's acquisition lock runs out after 5 s instead
    # of 30 s and a record is archived after 3 deliveries instead of 5, so a crash's redelivery and a poison
    # record fit in a demo; the allowed minimums are lowered so a run may set a group's own values down to
    # 1 s and 2 deliveries. Heartbeat and session as for consumer groups. (3.9 brokers ignore what they lack.)
    "group.share.min.record.lock.duration.ms": "1000",
    "group.share.record.lock.duration.ms": "5000",
    "group.share.min.delivery.count.limit": "2",
    "group.share.delivery.count.limit": "3",
    "group.share.min.heartbeat.interval.ms": "500",
    "group.share.heartbeat.interval.ms": "1000",
    "group.share.min.session.timeout.ms": "6000",
    "group.share.session.timeout.ms": "10000",
    "auto.create.topics.enable": "false",
    "unclean.leader.election.enable": "false",
    # the log cleaner checks often so compaction is visible within seconds
    "log.cleaner.backoff.ms": "2000",
    "log.segment.delete.delay.ms": "1000",
    "log.retention.check.interval.ms": "10000",
    "num.network.threads": "2",
    "num.io.threads": "4",
    "num.replica.fetchers": "1",
}


# --- ports and ids ------------------------------------------------------------------------------------
def port_is_free(port: int) -> bool:
    """True when nothing listens on ``port``; TIME_WAIT leftovers do not count (Kafka sets SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pick_ports(preferred: tuple[int, ...] | None, taken: set[int]) -> list[int]:
    """Preferred ports where free, else ephemeral ones; never two the same."""
    out: list[int] = []
    for i in range(len(NODE_IDS)):
        p = preferred[i] if preferred else 0
        if not p or p in taken or not port_is_free(p):
            p = free_port()
            while p in taken:
                p = free_port()
        taken.add(p)
        out.append(p)
    return out


def new_nodes(preferred_client_ports: tuple[int, ...] | None) -> dict[int, NodeState]:
    """Ports for a new cluster: the preferred ones where free (none preferred: all ephemeral), all distinct."""
    taken: set[int] = set()
    client = pick_ports(preferred_client_ports, taken)
    ctrl = pick_ports(PREFERRED_CONTROLLER_PORTS if preferred_client_ports else None, taken)
    jmx = pick_ports(PREFERRED_JMX_PORTS if preferred_client_ports else None, taken)
    return {nid: NodeState(nid, client[i], ctrl[i], jmx[i]) for i, nid in enumerate(NODE_IDS)}


def new_state(version: str, preferred_client_ports: tuple[int, ...] | None, overrides: dict[str, str],
              security: str = "plaintext") -> LocalState:
    """The state of a cluster about to be made: a fresh cluster id and free ports."""
    return LocalState(version, new_cluster_id(), new_nodes(preferred_client_ports), dict(overrides), security)


def ports_note(st: LocalState, preferred_client_ports: tuple[int, ...] | None) -> str | None:
    """What to tell the user when the preferred client ports were not all free, else None."""
    ports = tuple(st.nodes[n].client_port for n in NODE_IDS)
    if not preferred_client_ports or ports == tuple(preferred_client_ports):
        return None
    return (f"Ports {', '.join(map(str, preferred_client_ports))} were not all free, so the brokers listen on "
            f"{', '.join(map(str, ports))}; clients must use the bootstrap shown.")


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    Never starting with "-" (as Kafka's own ``Uuid.randomUuid()``): `kafka-storage format -t -abc…`
    would read the id as an option and refuse to format (1 cluster in 64 otherwise).
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


# --- files ------------------------------------------------------------------------------------------------
def server_properties(
    node: NodeState, nodes: dict[int, NodeState], data_dir: Path, overrides: dict[str, str],
    security: dict[str, str] | None = None,
) -> str:
    """The ``server.properties`` of one combined broker+controller node; ``security`` (a secured cluster's
    listener, TLS, SASL and authorizer settings, ``secure.broker_properties``) replaces the plain listeners."""
    voters = ",".join(f"{n}@{HOST}:{nodes[n].controller_port}" for n in sorted(nodes))
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{HOST}:{node.client_port},CONTROLLER://{HOST}:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{node.client_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        **LAB_BROKER_SETTINGS,
        **overrides,
        **(security or {}),
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def log4j_config(log_dir: Path, log4j2: bool) -> str:
    """Broker logging to ``<log_dir>/server.log`` (rolling, small), warnings also to stdout."""
    if log4j2:
        return f"""status = error
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_dir}/server.log
appender.file.filePattern = {log_dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.clients.name = org.apache.kafka.clients
logger.clients.level = warn
"""
    return f"""log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={log_dir}/server.log
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""


def write_node_config(rt: KafkaRuntime, f: NodeFiles, node: NodeState, nodes: dict[int, NodeState],
                      overrides: dict[str, str], security: dict[str, str] | None = None) -> Path:
    """Write one node's server.properties (mode 0600: a secured node's holds the inter-broker password) and
    logging config (making its folders); returns the latter's path."""
    f.data.mkdir(parents=True, exist_ok=True)
    f.logs.mkdir(parents=True, exist_ok=True)
    fd = os.open(f.props, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(server_properties(node, nodes, f.data, overrides, security))
    log_cfg = f.dir / ("log4j2.properties" if rt.uses_log4j2 else "log4j.properties")
    log_cfg.write_text(log4j_config(f.logs, rt.uses_log4j2))
    return log_cfg


def prepare_launch(rt: KafkaRuntime, f: NodeFiles, node: NodeState, nodes: dict[int, NodeState],
                   overrides: dict[str, str], security: dict[str, str] | None = None,
                   jolokia_policy: Path | None = None) -> list[str]:
    """Write one node's config files and return its JVM command line.

    The Jolokia agent is added when the runtime has it and its port is free; the node's marker file says so.
    """
    log_cfg = write_node_config(rt, f, node, nodes, overrides, security)
    with_agent = rt.jolokia_agent is not None and port_is_free(node.jmx_port)
    if with_agent:
        f.jolokia_marker.touch()
    else:
        f.jolokia_marker.unlink(missing_ok=True)
    return broker_command(rt, f.props, log_cfg, f.logs, node.jmx_port if with_agent else None, jolokia_policy)


def broker_command(rt: KafkaRuntime, props: Path, log_cfg: Path, logs: Path, jolokia_port: int | None,
                   jolokia_policy: Path | None = None) -> list[str]:
    """The JVM command line of one broker; ``props`` (its server.properties) is how the lab recognises it.
    ``jolokia_policy``: a Jolokia access policy file (a secured cluster's agents answer reads only)."""
    cmd = [rt.java, *HEAP.split(), *JVM_OPTS.split()]
    if rt.uses_log4j2:
        cmd.append(f"-Dlog4j2.configurationFile=file:{log_cfg}")
    else:
        cmd.append(f"-Dlog4j.configuration=file:{log_cfg}")
    cmd.append(f"-Dkafka.logs.dir={logs}")
    if rt.jolokia_agent is not None and jolokia_port is not None:
        policy = f",policyLocation=file:{jolokia_policy}" if jolokia_policy is not None else ""
        cmd.append(f"-javaagent:{rt.jolokia_agent}=host={HOST},port={jolokia_port},discoveryEnabled=false{policy}")
    return [*cmd, "-cp", rt.classpath, "kafka.Kafka", str(props)]


def format_command(rt: KafkaRuntime, cluster_id: str, props: Path) -> list[str]:
    """`kafka-storage format` for one node, as a JVM command line (logging off: its output is captured)."""
    log_prop = "-Dlog4j2.configurationFile=" if rt.uses_log4j2 else "-Dlog4j.configuration="
    return [rt.java, "-Xmx256m", f"{log_prop}file:/dev/null", "-cp", rt.classpath, "kafka.tools.StorageTool",
            "format", "-t", cluster_id, "-c", str(props)]
