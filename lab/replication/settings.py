"""The replication experiments' settings: typed, self-validating dataclasses (each refusal names the setting, the
bad value and what is allowed), one per experiment."""

from __future__ import annotations

from dataclasses import dataclass

from lab.core.validate import is_whole, require
from lab.kafka.load import BackgroundProducerSettings
from lab.kafka.specs import check_topic_name
from lab.kafka.timeline import POLL_INTERVAL_S


# =================================================================================================
# Scenario: monitor
# =================================================================================================
@dataclass(frozen=True)
class MonitorSettings:
    """Watch one topic for ``duration_s`` seconds; optionally write to it with a background producer."""

    topic: str = "lab-replication-demo"
    duration_s: float = 60.0
    interval_s: float = POLL_INTERVAL_S
    producer: BackgroundProducerSettings | None = None

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(isinstance(self.duration_s, (int, float)) and 2 <= self.duration_s <= 3600,
                f"Monitor duration {self.duration_s!r} s is out of range.", "Use 2 to 3600 seconds.")
        require(isinstance(self.interval_s, (int, float)) and 0.2 <= self.interval_s <= 10,
                f"Poll interval {self.interval_s!r} s is out of range.", "Use 0.2 to 10 seconds.")


# =================================================================================================
# Scenario: min.insync.replicas
# =================================================================================================
@dataclass(frozen=True)
class MinIsrSettings:
    """Stop the two followers of a replication-factor-3 partition one at a time and probe writes."""

    topic: str = "lab-min-isr-demo"
    min_insync_replicas: int = 2
    #: Messages written with acks=all and with acks=1 in every phase.
    probe_messages: int = 20

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(is_whole(self.min_insync_replicas) and 1 <= self.min_insync_replicas <= 3,
                f"min.insync.replicas={self.min_insync_replicas!r} is out of range.",
                "Use 1, 2 or 3 (the topic has three replicas).")
        require(is_whole(self.probe_messages) and 1 <= self.probe_messages <= 10_000,
                f"probe_messages={self.probe_messages!r} is out of range.", "Use 1 to 10000.")


# =================================================================================================
# Scenario: high watermark vs log end offset
# =================================================================================================
@dataclass(frozen=True)
class HwLeoSettings:
    """Pause (SIGSTOP) one follower while an acks=all producer writes; resume it after it left the ISR."""

    topic: str = "lab-hw-leo-demo"
    rate_per_s: int = 100
    #: Steady state recorded before the pause (seconds).
    baseline_s: float = 3.0
    #: How long the follower stays paused after it has left the ISR (seconds): the HW races ahead meanwhile.
    hold_s: float = 5.0

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(is_whole(self.rate_per_s) and 1 <= self.rate_per_s <= 5000,
                f"rate_per_s={self.rate_per_s!r} is out of range.", "Use 1 to 5000 messages per second.")
        for name, hi in (("baseline_s", 60), ("hold_s", 300)):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and 0 <= v <= hi, f"{name}={v!r} is out of range.",
                    f"Use 0 to {hi} seconds.")
#: The smallest segment the lab asks for: Kafka 3.x accepts tiny ones, but thousands of files help no one.
MIN_DEMO_SEGMENT_BYTES = 1024
#: Kafka 4.0 refuses segment.bytes under 1 MiB (KIP-1030), so the demo rolls 1 MiB segments with enough data.
MIN_SEGMENT_BYTES_4X = 1024 * 1024


@dataclass(frozen=True)
class StorageSettings:
    """Roll segments of a topic with the smallest ``segment.bytes`` Kafka 4.x allows; then compact a keyed topic.

    ~6 MB of 1 KB messages fill five 1 MiB segments in a few seconds (3.x also took 16 KiB segments of 100 B
    messages; 4.x refuses segments under 1 MiB)."""

    topic: str = "lab-storage-demo"
    segment_bytes: int = MIN_SEGMENT_BYTES_4X
    messages: int = 6000
    message_bytes: int = 1000
    bursts: int = 5
    compact_topic: str = "lab-compaction-demo"
    keys: int = 20
    updates_per_key: int = 50
    compaction_wait_s: float = 60.0

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        check_topic_name(self.compact_topic)
        require(self.topic != self.compact_topic, "The two storage topics have the same name.",
                "Give the compacted topic another name.")
        require(is_whole(self.segment_bytes) and MIN_DEMO_SEGMENT_BYTES <= self.segment_bytes <= 1024 ** 3,
                f"segment.bytes={self.segment_bytes!r} is out of range.",
                f"Use {MIN_DEMO_SEGMENT_BYTES} to {1024 ** 3} bytes.")
        for name, hi in (("messages", 1_000_000), ("message_bytes", 100_000), ("bursts", 100), ("keys", 10_000),
                         ("updates_per_key", 10_000)):
            v = getattr(self, name)
            require(is_whole(v) and 1 <= v <= hi, f"{name}={v!r} is out of range.", f"Use 1 to {hi}.")
        require(isinstance(self.compaction_wait_s, (int, float)) and 5 <= self.compaction_wait_s <= 600,
                f"compaction_wait_s={self.compaction_wait_s!r} is out of range.", "Use 5 to 600 seconds.")
#: Brokers of the lab's cluster (node ids).
LAB_BROKERS = (1, 2, 3)


def _check_broker(node: int, what: str) -> None:
    require(is_whole(node) and node in LAB_BROKERS, f"{what} broker {node!r} is not a broker of the lab's cluster.",
            "Use 1, 2 or 3.")


@dataclass(frozen=True)
class UncleanSettings:
    """Two topics on the same two brokers, one with unclean leader election and one without.

    ``in_sync_broker`` leads and receives every write; ``lagging_broker`` is stopped, misses
    ``messages_while_lagging`` acknowledged writes, and is the only replica left when the in-sync one
    crashes. Both topics (``<prefix>-clean``, ``<prefix>-unclean``) are deleted and created afresh on
    every run. The third broker holds no replica of these topics: it keeps the KRaft quorum (two of three
    nodes) alive so an election can happen at all.
    """

    topic_prefix: str = "lab-unclean-demo"
    in_sync_broker: int = 1
    lagging_broker: int = 2
    messages_before: int = 50
    messages_while_lagging: int = 100
    messages_after: int = 50
    #: How long to wait for the controller to elect the lagging replica by itself before asking for
    #: an unclean election through the admin API.
    election_wait_s: float = 20.0

    def __post_init__(self) -> None:
        check_topic_name(self.topic_prefix + "-unclean" if isinstance(self.topic_prefix, str) else self.topic_prefix)
        _check_broker(self.in_sync_broker, "The in-sync")
        _check_broker(self.lagging_broker, "The lagging")
        require(self.in_sync_broker != self.lagging_broker,
                f"The in-sync and lagging brokers are both {self.in_sync_broker}.", "Pick two different brokers.")
        for name in ("messages_before", "messages_while_lagging", "messages_after"):
            v = getattr(self, name)
            require(is_whole(v) and 1 <= v <= 100_000, f"{name}={v!r} is out of range.", "Use 1 to 100000.")
        require(isinstance(self.election_wait_s, (int, float)) and 0 <= self.election_wait_s <= 600,
                f"election_wait_s={self.election_wait_s!r} is out of range.", "Use 0 to 600 seconds.")

    @property
    def quorum_broker(self) -> int:
        return (set(LAB_BROKERS) - {self.in_sync_broker, self.lagging_broker}).pop()

    @property
    def clean_topic(self) -> str:
        return f"{self.topic_prefix}-clean"

    @property
    def unclean_topic(self) -> str:
        return f"{self.topic_prefix}-unclean"
