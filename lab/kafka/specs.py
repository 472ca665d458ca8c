"""Topics as typed, self-validating specs (name, partitions, replication factor, configs) and what the
brokers allow (``ClusterLimits``); every message names the setting, the bad value and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lab.core.validate import is_whole, require

TOPIC_NAME_RE = re.compile(r"[a-zA-Z0-9._-]{1,249}")
MAX_PARTITIONS = 1000
#: Topic configs the lab checks itself before asking the broker (the broker checks the rest).
CLEANUP_POLICIES = ("delete", "compact", "compact,delete", "delete,compact")
TOPIC_COMPRESSION = ("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")
NON_NEGATIVE_INT_CONFIGS = (
    "segment.bytes",
    "segment.ms",
    "retention.ms",
    "retention.bytes",
    "min.insync.replicas",
    "max.message.bytes",
    "min.compaction.lag.ms",
    "delete.retention.ms",
)
#: Kafka refuses segments smaller than this (log.segment.bytes has a floor of 1 MiB... for topics 14 bytes);
#: the lab keeps a practical floor so a demo never creates thousands of files.
MIN_SEGMENT_BYTES = 1024

#: The broker's default max.message.bytes for a topic (1 MiB + 12 bytes of batch overhead).
DEFAULT_TOPIC_MAX_MESSAGE_BYTES = 1_048_588
#: The broker's default replica.fetch.max.bytes.
DEFAULT_REPLICA_FETCH_MAX_BYTES = 1_048_576


def check_topic_name(name: str) -> None:
    require(
        isinstance(name, str) and bool(TOPIC_NAME_RE.fullmatch(name)) and name not in (".", ".."),
        f"Topic name {name!r} is not valid.",
        "Use 1-249 characters from a-z, A-Z, 0-9, '.', '_' and '-' (not '.' or '..' alone).",
    )


@dataclass(frozen=True)
class TopicSpec:
    """A topic the lab creates: name, partitions, replication factor and topic-level configs."""

    name: str
    partitions: int = 3
    replication_factor: int = 3
    configs: dict[str, str] = field(default_factory=dict)
    #: One line shown to users: why this topic exists.
    purpose: str = ""

    def __post_init__(self) -> None:
        check_topic_name(self.name)
        require(
            is_whole(self.partitions) and 1 <= self.partitions <= MAX_PARTITIONS,
            f"partitions={self.partitions!r} for topic {self.name!r} is out of range.",
            f"Use a whole number from 1 to {MAX_PARTITIONS}.",
        )
        require(
            is_whole(self.replication_factor) and 1 <= self.replication_factor <= 3,
            f"replication factor {self.replication_factor!r} for topic {self.name!r} is out of range.",
            "Use 1, 2 or 3 (the lab's cluster has three brokers).",
        )
        for key, value in self.configs.items():
            require(
                isinstance(value, str),
                f"Topic config {key}={value!r} must be given as a string.",
                'Write values as strings, e.g. {"segment.bytes": "1048576"}.',
            )
            if key in NON_NEGATIVE_INT_CONFIGS:
                require(
                    # ASCII digits only: "--1" or "１" must be refused here, not crash int() later
                    re.fullmatch(r"[0-9]+", value) is not None
                    or (key.startswith("retention.") and value == "-1"),
                    f"Topic config {key}={value!r} is not a non-negative whole number.",
                    f"Give {key} as a whole number >= 0"
                    + (" (or -1 for unlimited)." if key.startswith("retention") else "."),
                )
        policy = self.configs.get("cleanup.policy")
        if policy is not None:
            require(policy in CLEANUP_POLICIES, f"cleanup.policy={policy!r} is not valid.",
                    f"Use one of: {', '.join(CLEANUP_POLICIES)}.")
        codec = self.configs.get("compression.type")
        if codec is not None:
            require(codec in TOPIC_COMPRESSION, f"compression.type={codec!r} is not valid for a topic.",
                    f"Use one of: {', '.join(TOPIC_COMPRESSION)}.")
        seg = self.configs.get("segment.bytes")
        if seg is not None:
            require(int(seg) >= MIN_SEGMENT_BYTES, f"segment.bytes={seg} is too small.",
                    f"Use at least {MIN_SEGMENT_BYTES} bytes.")
        min_isr = self.configs.get("min.insync.replicas")
        if min_isr is not None:
            require(
                1 <= int(min_isr) <= self.replication_factor,
                f"min.insync.replicas={min_isr} cannot be met with replication factor {self.replication_factor}.",
                f"Use a value from 1 to {self.replication_factor}.",
            )


@dataclass(frozen=True)
class ClusterLimits:
    """The cluster's limits a produce run must fit, as its brokers report them (``topics.cluster_limits``).

    A topic's ``max.message.bytes`` overrides the broker's ``message.max.bytes`` (the lab sets it on every
    run's topic), but no request may exceed ``socket.request.max.bytes``: a record above that can never be
    sent, whatever the topic allows. ``replica.fetch.max.bytes`` is no hard limit either (since Kafka 0.10.1
    a follower fetches a larger batch alone), but it is what a large-message lesson looks at next.
    """

    #: the broker default for topics that set no max.message.bytes of their own
    message_max_bytes: int = DEFAULT_TOPIC_MAX_MESSAGE_BYTES
    #: the largest request a broker reads (Kafka's default 100 MiB)
    socket_request_max_bytes: int = 104_857_600
    #: bytes a follower asks for per partition in one fetch (Kafka's default 1 MiB)
    replica_fetch_max_bytes: int = DEFAULT_REPLICA_FETCH_MAX_BYTES
    #: False: the brokers could not be asked, these are Kafka's defaults
    read_from_brokers: bool = False
