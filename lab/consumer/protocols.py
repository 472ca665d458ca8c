"""The new consumer-group protocol (KIP-848, ``group.protocol=consumer``) next to the classic one.

The same group shape as ``lab.consumer.strategies`` (two uneven topics, a producer at a fixed rate, a member
joins, later one leaves), once with ``group.protocol=classic`` and a client-side strategy, once with
``group.protocol=consumer`` and a broker-side assignor: time to the new stable assignment, partitions
owned by nobody, how long each member owned nothing, what was revoked.

It needs brokers on Kafka 4.0 or later: the lab's default cluster is. With a 3.x app cluster (``--version
3.9.2``), ``protocol_cluster(state_dir)`` is a second cluster of the default 4.x version in its own state
directory. Either way the brokers' consumer-group timing is lowered for the lab (``BROKER_OVERRIDES``, part
of ``LAB_BROKER_SETTINGS``: with the consumer protocol the broker, not the client, sets the heartbeat
interval and session timeout, and Kafka's defaults — 5 s heartbeats, 45 s sessions — would make every step
of a demo take seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.cluster import DEFAULT_KAFKA_VERSION, LAB_BROKER_SETTINGS, second
from lab.cluster.base import Cluster
from lab.consumer.settings import REMOTE_ASSIGNORS, STRATEGIES, ConsumerSettings
from lab.consumer.strategies import StrategiesSettings, StrategyRun, run_strategy
from lab.core.context import RunContext
from lab.core.errors import Cancelled, KafkaOperationError, SettingsError
from lab.core.results import Result
from lab.core.validate import is_choices, require
from lab.kafka import acl

#: The version of the second cluster a 3.x app cluster needs: the default (no second download).
NEW_PROTOCOL_VERSION = DEFAULT_KAFKA_VERSION
#: The brokers' group.consumer.* settings for the lab (each within Kafka's allowed min/max, which are
#: lowered too): heartbeats every second, a member gone after 10 s. Every lab cluster has them.
BROKER_OVERRIDES = {k: v for k, v in LAB_BROKER_SETTINGS.items() if k.startswith("group.consumer.")}
SHOWN_BROKER_CONFIGS = tuple(BROKER_OVERRIDES) + ("group.coordinator.rebalance.protocols",)
#: Kafka's own defaults for the two the lab lowers (GroupCoordinatorConfig in Kafka 4.4's group coordinator jar;
#: their allowed minimums are the same values, which is why the lab lowers the minimums too).
KAFKA_GROUP_DEFAULTS = {"group.consumer.session.timeout.ms": "45000", "group.consumer.heartbeat.interval.ms": "5000"}


#: Where the lab's 4.x cluster keeps its data (the page and the CLI use the same one).
PROTOCOL_STATE_ENV = "KAFKA_LAB_PROTOCOL_STATE_DIR"
DEFAULT_PROTOCOL_STATE_DIR = "~/.local/state/kafka-lab/cluster-4x"


def protocol_state_dir() -> str:
    return second.state_dir_from(PROTOCOL_STATE_ENV, DEFAULT_PROTOCOL_STATE_DIR)


def is_running_4x(cluster: Cluster) -> bool:
    """True when ``cluster`` answers and runs Kafka 4 or later (never raises)."""
    return (second.major(second.running_version(cluster)) or 0) >= 4


def protocol_cluster(state_dir: str | Path) -> Cluster:
    """The lab's second, 4.x cluster in ``state_dir`` (free ports, the group settings above); not started.

    A state dir made earlier with another 4.x (e.g. 4.1.1) keeps its own version."""
    return second.second_cluster(state_dir, NEW_PROTOCOL_VERSION, BROKER_OVERRIDES)


@dataclass(frozen=True)
class ProtocolsSettings:
    group: StrategiesSettings = field(default_factory=lambda: StrategiesSettings(strategies=("range",)))
    #: the classic side's client-side strategy, and the consumer side's broker-side assignor
    classic_strategy: str = "range"
    remote_assignor: str = "uniform"
    protocols: tuple[str, ...] = ("classic", "consumer")

    def __post_init__(self) -> None:
        require(self.classic_strategy in STRATEGIES, f"classic strategy {self.classic_strategy!r} is not valid.",
                f"Use one of: {', '.join(STRATEGIES)}.")
        require(self.remote_assignor in REMOTE_ASSIGNORS, f"group.remote.assignor={self.remote_assignor!r} is "
                "not valid.", f"Use one of: {', '.join(REMOTE_ASSIGNORS)}.")
        require(is_choices(self.protocols, ("classic", "consumer")),
                f"protocols={self.protocols!r} is not valid.", "Choose some of: classic, consumer.")

    def consumer(self, protocol: str) -> tuple[str, ConsumerSettings]:
        """(the run's label, its consumer settings) for one protocol."""
        if protocol == "classic":
            return f"classic/{self.classic_strategy}", self.group.consumer(self.classic_strategy)
        return f"consumer/{self.remote_assignor}", ConsumerSettings(
            group_protocol="consumer", group_remote_assignor=self.remote_assignor, auto_offset_reset="latest",
            fetch_wait_max_ms=100, processing_delay_ms=self.group.processing_delay_ms)


@dataclass(frozen=True)
class ProtocolsResult(Result):
    settings: ProtocolsSettings
    kafka_version: str
    #: the brokers' consumer-group settings as broker 1 reported them
    broker_configs: dict[str, str]
    runs: tuple[StrategyRun, ...] = ()


def broker_configs(cluster: Cluster) -> dict[str, str]:
    from confluent_kafka.admin import ConfigResource

    adm = cluster.admin()
    try:
        node = min(b for b in adm.list_topics(timeout=10).brokers)
        res = ConfigResource(ConfigResource.Type.BROKER, str(node))
        entries = adm.describe_configs([res])[res].result(timeout=15)
    except Exception as exc:  # noqa: BLE001 - translated at this edge
        acl.raise_if_denied(exc, cluster, "DescribeConfigs")  # a broker's configs: the cluster resource
        raise KafkaOperationError(f"Could not read the brokers' group settings: {exc}",
                                  hint=cluster.start_hint()) from exc
    return {k: str(entries[k].value) for k in SHOWN_BROKER_CONFIGS if k in entries}


def require_new_protocol(cluster: Cluster) -> str:
    """The cluster's Kafka version; ``SettingsError`` saying how to get a 4.x cluster when it is older."""
    version = cluster.status().kafka_version or "unknown"
    major = version.split(".")[0]
    if not major.isdigit() or int(major) < 4:
        raise SettingsError(
            f"group.protocol=consumer (KIP-848) needs brokers on Kafka 4.0 or later; this cluster runs {version}.",
            hint=f"Run `kafka-lab consumer protocols --start-cluster`: it starts the lab's {NEW_PROTOCOL_VERSION} "
                 "cluster in its own state directory (~/.local/state/kafka-lab/cluster-4x) and uses it.")
    return version


def compare(cluster: Cluster, settings: ProtocolsSettings, ctx: RunContext) -> ProtocolsResult:
    """Each protocol through the same join and leave; a cancel returns the protocols that finished."""
    version = require_new_protocol(cluster)
    configs = broker_configs(cluster)
    runs: list[StrategyRun] = []
    for protocol in settings.protocols:
        name, consumer = settings.consumer(protocol)
        try:
            runs.append(run_strategy(cluster, settings.group, name, ctx, tuple(runs), consumer))
        except Cancelled:
            break
    return ProtocolsResult(settings, version, configs, tuple(runs),
                           stopped=ctx.stopped_text() if ctx.cancelled else None)


def time_limit_for(settings: ProtocolsSettings) -> float:
    return len(settings.protocols) * (120.0 + 4 * settings.group.hold_s)


__all__ = ["BROKER_OVERRIDES", "DEFAULT_PROTOCOL_STATE_DIR", "NEW_PROTOCOL_VERSION", "PROTOCOL_STATE_ENV",
           "is_running_4x", "protocol_state_dir", "ProtocolsResult", "ProtocolsSettings", "broker_configs",
           "compare", "protocol_cluster", "require_new_protocol", "time_limit_for"]
