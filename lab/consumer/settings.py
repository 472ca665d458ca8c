"""``ConsumerSettings``: one consumer's librdkafka knobs and workload, validated once, mapped to
librdkafka's dotted keys in one place (``to_config``).

Every message names the setting, the bad value and the allowed range. The ranges are librdkafka's own
(2.16), narrowed where a demo would only look hung. ``None`` for ``session_timeout_ms``,
``heartbeat_interval_ms`` and ``assignment_strategy`` means "not set" (librdkafka's default), which is
also what ``group.protocol=consumer`` (KIP-848) requires: with it the broker owns the session and
heartbeat settings (``group.consumer.session.timeout.ms``, ``group.consumer.heartbeat.interval.ms``)
and assigns partitions itself (``group.remote.assignor`` picks the broker-side assignor).

(Its own module so ``lab.consumer.fetch`` — the fetch benchmark — and ``lab.consumer.groups`` share it without one
importing the other's engine; ``lab.consumer.fetch`` re-exports it.)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from lab.core.validate import is_whole, require
from lab.kafka.specs import check_topic_name

STRATEGIES = ("range", "roundrobin", "cooperative-sticky")
#: Eager strategies revoke every partition of every member on each rebalance ("stop the world").
EAGER_STRATEGIES = ("range", "roundrobin")
PROTOCOLS = ("classic", "consumer")
#: Broker-side assignors of the consumer protocol (KIP-848).
REMOTE_ASSIGNORS = ("uniform", "range")
ISOLATION_LEVELS = ("read_committed", "read_uncommitted")
OFFSET_RESETS = ("earliest", "latest", "error")

# librdkafka's ranges (rdkafka_conf.c, 2.16)
FETCH_MIN_BYTES = (1, 100_000_000)
#: The broker holds a fetch at most this long; above 10 s a demo only looks hung (librdkafka: 300 000).
FETCH_WAIT_MAX_MS = (0, 10_000)
#: fetch.max.bytes must be at least message.max.bytes (librdkafka's default 1 000 000), which the lab keeps.
FETCH_MAX_BYTES = (1_000_000, 2_147_483_135)
MAX_PARTITION_FETCH_BYTES = (1, 1_000_000_000)
QUEUED_MAX_KBYTES = (1, 2_097_151)
QUEUED_MIN_MESSAGES = (1, 10_000_000)
FETCH_QUEUE_BACKOFF_MS = (0, 300_000)
AUTO_COMMIT_INTERVAL_MS = (0, 86_400_000)
SESSION_TIMEOUT_MS = (1, 3_600_000)
HEARTBEAT_INTERVAL_MS = (1, 3_600_000)
MAX_POLL_INTERVAL_MS = (1, 86_400_000)
#: A simulated per-message processing time; a second per message is already a stalled consumer.
MAX_PROCESSING_DELAY_MS = 1_000.0
MAX_COUNT = 100_000_000
MAX_DURATION_S = 3_600.0
MAX_INSTANCE_ID = 249
#: librdkafka's defaults the lab's text shows when a setting is left unset.
DEFAULT_SESSION_TIMEOUT_MS = 45_000
DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000
DEFAULT_ASSIGNMENT = "range,roundrobin"


def _in(value: object, bounds: tuple[int, int]) -> bool:
    return is_whole(value) and bounds[0] <= value <= bounds[1]  # type: ignore[operator]


def _range_text(name: str, bounds: tuple[int, int], unit: str = "") -> str:
    return f"Use a whole number from {bounds[0]:,} to {bounds[1]:,}{unit} for {name}."


@dataclass(frozen=True)
class ConsumerSettings:
    """One consumer: the topic, librdkafka's fetch/commit/group knobs, processing delay, count or duration."""

    topic: str = "lab-consumer-tuning"
    fetch_min_bytes: int = 1
    #: librdkafka's name; Java's is fetch.max.wait.ms
    fetch_wait_max_ms: int = 500
    fetch_max_bytes: int = 52_428_800
    max_partition_fetch_bytes: int = 1_048_576
    queued_max_messages_kbytes: int = 65_536
    #: librdkafka prefetches a partition until its local queue holds this many messages, then pauses it for
    #: ``fetch_queue_backoff_ms``: with the defaults (librdkafka's) one consumer read 208 k msg/s at 0.14 CPU s/s,
    #: with 1 000 000 here 1.49 M (README, consumer performance)
    queued_min_messages: int = 100_000
    fetch_queue_backoff_ms: int = 1_000
    enable_auto_commit: bool = True
    auto_commit_interval_ms: int = 5_000
    isolation_level: str = "read_committed"
    auto_offset_reset: str = "earliest"
    #: None: not set (librdkafka's 45 000; with group.protocol=consumer the broker decides)
    session_timeout_ms: int | None = None
    #: None: not set (librdkafka's 3 000; with group.protocol=consumer the broker decides)
    heartbeat_interval_ms: int | None = None
    max_poll_interval_ms: int = 300_000
    #: range, roundrobin or cooperative-sticky; None: librdkafka's default "range,roundrobin"
    assignment_strategy: str | None = None
    #: static membership (KIP-345): a stable identity that survives a restart within the session timeout
    group_instance_id: str | None = None
    group_protocol: str = "classic"
    #: group.protocol=consumer only: the broker-side assignor (uniform or range); None: the broker's default
    group_remote_assignor: str | None = None
    #: simulated work per message (ms), waited on the run's clock
    processing_delay_ms: float = 0.0
    #: stop after this many messages (None: the whole backlog, or the duration)
    count: int | None = None
    duration_s: float | None = None
    label: str = ""

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        self._check_fetch()
        self._check_group()
        d = self.processing_delay_ms
        require(isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d)
                and 0 <= d <= MAX_PROCESSING_DELAY_MS,
                f"processing delay {d!r} ms is out of range.",
                f"Use 0 to {MAX_PROCESSING_DELAY_MS:,.0f} ms per message.")
        require(self.count is None or _in(self.count, (1, MAX_COUNT)), f"count={self.count!r} is out of range.",
                f"Use a whole number from 1 to {MAX_COUNT:,} (or leave it unset for the whole backlog).")
        dur = self.duration_s
        require(dur is None or (isinstance(dur, (int, float)) and not isinstance(dur, bool) and math.isfinite(dur)
                                and 0.1 <= dur <= MAX_DURATION_S),
                f"duration {dur!r} s is out of range.",
                f"Use 0.1 to {MAX_DURATION_S:,.0f} seconds (or leave it unset).")

    def _check_fetch(self) -> None:
        for name, value, bounds, unit in (
            ("fetch.min.bytes", self.fetch_min_bytes, FETCH_MIN_BYTES, " bytes"),
            ("fetch.wait.max.ms", self.fetch_wait_max_ms, FETCH_WAIT_MAX_MS, " ms"),
            ("fetch.max.bytes", self.fetch_max_bytes, FETCH_MAX_BYTES, " bytes"),
            ("max.partition.fetch.bytes", self.max_partition_fetch_bytes, MAX_PARTITION_FETCH_BYTES, " bytes"),
            ("queued.max.messages.kbytes", self.queued_max_messages_kbytes, QUEUED_MAX_KBYTES, " KiB"),
            ("queued.min.messages", self.queued_min_messages, QUEUED_MIN_MESSAGES, " messages"),
            ("fetch.queue.backoff.ms", self.fetch_queue_backoff_ms, FETCH_QUEUE_BACKOFF_MS, " ms"),
            ("auto.commit.interval.ms", self.auto_commit_interval_ms, AUTO_COMMIT_INTERVAL_MS, " ms"),
            ("max.poll.interval.ms", self.max_poll_interval_ms, MAX_POLL_INTERVAL_MS, " ms"),
        ):
            require(_in(value, bounds), f"{name}={value!r} is out of range.",
                    _range_text(name, bounds, unit) + (" (it must be at least message.max.bytes, 1 000 000)"
                                                       if name == "fetch.max.bytes" else ""))
        require(isinstance(self.enable_auto_commit, bool), f"enable.auto.commit={self.enable_auto_commit!r} is not "
                "a yes/no value.", "Use True or False.")
        require(self.isolation_level in ISOLATION_LEVELS, f"isolation.level={self.isolation_level!r} is not valid.",
                f"Use one of: {', '.join(ISOLATION_LEVELS)}.")
        require(self.auto_offset_reset in OFFSET_RESETS, f"auto.offset.reset={self.auto_offset_reset!r} is not valid.",
                f"Use one of: {', '.join(OFFSET_RESETS)}.")

    def _check_group(self) -> None:
        require(self.group_protocol in PROTOCOLS, f"group.protocol={self.group_protocol!r} is not valid.",
                f"Use one of: {', '.join(PROTOCOLS)}.")
        if self.group_protocol == "consumer":
            for name, value, instead in (
                ("session.timeout.ms", self.session_timeout_ms, "the broker's group.consumer.session.timeout.ms"),
                ("heartbeat.interval.ms", self.heartbeat_interval_ms,
                 "the broker's group.consumer.heartbeat.interval.ms"),
                ("partition.assignment.strategy", self.assignment_strategy,
                 f"group.remote.assignor ({' or '.join(REMOTE_ASSIGNORS)}), chosen by the broker"),
            ):
                require(value is None, f"{name}={value!r} cannot be set with group.protocol=consumer (KIP-848).",
                        f"Leave {name} unset: with the consumer protocol it is replaced by {instead}.")
            require(self.group_remote_assignor is None or self.group_remote_assignor in REMOTE_ASSIGNORS,
                    f"group.remote.assignor={self.group_remote_assignor!r} is not valid.",
                    f"Use one of: {', '.join(REMOTE_ASSIGNORS)} (or leave it unset for the broker's default).")
        else:
            require(self.group_remote_assignor is None,
                    f"group.remote.assignor={self.group_remote_assignor!r} needs group.protocol=consumer.",
                    "Set group_protocol='consumer', or choose a client-side partition.assignment.strategy "
                    f"({', '.join(STRATEGIES)}) instead.")
            require(self.assignment_strategy is None or self.assignment_strategy in STRATEGIES,
                    f"partition.assignment.strategy={self.assignment_strategy!r} is not valid.",
                    f"Use one of: {', '.join(STRATEGIES)} (one strategy: librdkafka refuses to mix eager and "
                    "cooperative ones).")
        sess, hb = self.session_timeout_ms, self.heartbeat_interval_ms
        require(sess is None or _in(sess, SESSION_TIMEOUT_MS), f"session.timeout.ms={sess!r} is out of range.",
                _range_text("session.timeout.ms", SESSION_TIMEOUT_MS, " ms")
                + " The brokers also require it within group.min/max.session.timeout.ms (6 000 to 1 800 000 by "
                  "default).")
        require(hb is None or _in(hb, HEARTBEAT_INTERVAL_MS), f"heartbeat.interval.ms={hb!r} is out of range.",
                _range_text("heartbeat.interval.ms", HEARTBEAT_INTERVAL_MS, " ms"))
        eff_sess = DEFAULT_SESSION_TIMEOUT_MS if sess is None else sess
        if self.group_protocol == "classic":
            eff_hb = DEFAULT_HEARTBEAT_INTERVAL_MS if hb is None else hb
            require(eff_hb < eff_sess, f"heartbeat.interval.ms={eff_hb} is not below session.timeout.ms={eff_sess}.",
                    "Heartbeats must come well within the session timeout (about a third of it is usual).")
            require(self.max_poll_interval_ms >= eff_sess,
                    f"max.poll.interval.ms={self.max_poll_interval_ms} is below session.timeout.ms={eff_sess}.",
                    "librdkafka requires max.poll.interval.ms >= session.timeout.ms.")
        gid = self.group_instance_id
        require(gid is None or (isinstance(gid, str) and 1 <= len(gid) <= MAX_INSTANCE_ID and gid.strip() == gid),
                f"group.instance.id={gid!r} is not valid.",
                f"Use 1 to {MAX_INSTANCE_ID} characters without surrounding spaces (or leave it unset for a "
                "dynamic member).")

    # --- derived -----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """A short label for charts: the given label, else the fetch knobs."""
        return self.label or f"min={self.fetch_min_bytes:,}B wait={self.fetch_wait_max_ms}ms"

    @property
    def eager(self) -> bool:
        """True when a rebalance revokes every partition (range/roundrobin, or the classic default)."""
        return self.group_protocol == "classic" and self.assignment_strategy != "cooperative-sticky"

    def replace(self, **changes: Any) -> ConsumerSettings:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_config(self) -> dict[str, str | int | bool]:
        """librdkafka's properties, dotted keys, in one place (group.id is the experiment's to choose)."""
        cfg: dict[str, str | int | bool] = {
            "fetch.min.bytes": self.fetch_min_bytes,
            "fetch.wait.max.ms": self.fetch_wait_max_ms,
            "fetch.max.bytes": self.fetch_max_bytes,
            "max.partition.fetch.bytes": self.max_partition_fetch_bytes,
            "queued.max.messages.kbytes": self.queued_max_messages_kbytes,
            "queued.min.messages": self.queued_min_messages,
            "fetch.queue.backoff.ms": self.fetch_queue_backoff_ms,
            "enable.auto.commit": self.enable_auto_commit,
            "auto.commit.interval.ms": self.auto_commit_interval_ms,
            "isolation.level": self.isolation_level,
            "auto.offset.reset": self.auto_offset_reset,
            "max.poll.interval.ms": self.max_poll_interval_ms,
            "group.protocol": self.group_protocol,
        }
        optional = {"session.timeout.ms": self.session_timeout_ms, "heartbeat.interval.ms": self.heartbeat_interval_ms,
                    "partition.assignment.strategy": self.assignment_strategy,
                    "group.instance.id": self.group_instance_id, "group.remote.assignor": self.group_remote_assignor}
        cfg.update({k: v for k, v in optional.items() if v is not None})
        return cfg

    def java_config(self) -> dict[str, str]:
        """The same fetch settings under the Java consumer's names (for Kafka's ConsumerPerformance)."""
        return {
            "fetch.min.bytes": str(self.fetch_min_bytes), "fetch.max.wait.ms": str(self.fetch_wait_max_ms),
            "fetch.max.bytes": str(self.fetch_max_bytes),
            "max.partition.fetch.bytes": str(self.max_partition_fetch_bytes),
            "isolation.level": self.isolation_level, "auto.offset.reset": self.auto_offset_reset,
            "enable.auto.commit": str(self.enable_auto_commit).lower(),
        }


#: The course's two profiles: answer as soon as one byte is there and wait at most 100 ms, against
#: collect 10 KB (or 500 ms) per fetch and take bigger bites per partition.
PROFILES: dict[str, ConsumerSettings] = {
    "low latency": ConsumerSettings(fetch_min_bytes=1, fetch_wait_max_ms=100, label="low latency"),
    "high throughput": ConsumerSettings(fetch_min_bytes=10_240, fetch_wait_max_ms=500,
                                        max_partition_fetch_bytes=4 * 1_048_576, label="high throughput"),
}
