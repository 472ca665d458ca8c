"""Producer settings (phase 4): a typed, self-validating ``ProducerSettings`` mapped to librdkafka's keys,
the course's presets, and the check against what the brokers allow. Validation happens here, once, and
every message names the setting, the bad value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.core.errors import SettingsError
from lab.core.validate import is_whole, require
from lab.kafka.specs import DEFAULT_TOPIC_MAX_MESSAGE_BYTES, ClusterLimits

# --- producer ------------------------------------------------------------------------------------
ACKS = ("0", "1", "all")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
#: compression.level ranges librdkafka accepts per codec (-1 = the codec's own default everywhere).
CODEC_LEVELS: dict[str, tuple[int, int]] = {"gzip": (0, 9), "lz4": (0, 12), "zstd": (0, 12), "snappy": (0, 0)}
PAYLOADS = ("text", "json", "random")
#: linger.ms above a minute only makes a demo look hung; librdkafka itself allows up to 900 000.
MAX_LINGER_MS = 60_000
#: batch.size cap: librdkafka also caps a batch at message.max.bytes (default 1 000 000).
MAX_BATCH_SIZE = 1_000_000
#: librdkafka's own default message.max.bytes: the lab raises it only when a record needs more.
RDKAFKA_MESSAGE_MAX_BYTES = 1_000_000
#: The largest value a run may send. Kafka takes up to socket.request.max.bytes (100 MiB by default), but the
#: lab's brokers run in 256 MB heaps and hold a request whole while they validate it: large messages are a
#: lesson here, not a stress test.
MAX_MESSAGE_SIZE = 64 * 1024 * 1024
MAX_IN_FLIGHT = 1_000
#: Idempotence keeps ordering only with at most this many requests in flight per connection (KIP-679).
IDEMPOTENT_MAX_IN_FLIGHT = 5
#: queue.buffering.max.kbytes: 1 KiB .. 2 GiB (librdkafka's ceiling).
MAX_BUFFER_KBYTES = 2_097_151
MAX_BUFFER_MESSAGES = 10_000_000
#: Bytes a one-record batch adds around key+value (61-byte batch header, record framing): the record
#: must fit the topic's max.message.bytes with this on top.
RECORD_OVERHEAD_BYTES = 128
MAX_KEY_SPREAD = 1_000_000
MAX_PARTITIONS_PRODUCE = 100
MAX_COUNT = 100_000_000
MAX_DURATION_S = 3_600.0
MAX_RATE = 10_000_000.0
#: message.timeout.ms bounds how long one record may wait for its ack (librdkafka default 300 000).
MIN_DELIVERY_TIMEOUT_MS, MAX_DELIVERY_TIMEOUT_MS = 1_000, 300_000


#: The first run's defaults on the page and in the CLI: long enough that the figures settle here (1 s of
#: warm-up, then 4 s measured), short enough for a first click; at a rate far below what one producer
#: sustains here, so the latency is service time, not queueing behind a burst.
FIRST_RUN_DURATION_S = 5.0
FIRST_RUN_RATE = 5_000.0


def _num(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN


@dataclass(frozen=True)
class ProducerSettings:
    """One producer experiment: the librdkafka knobs, the workload, and how long it runs.

    Give either ``count`` (messages) or ``duration_s`` (seconds). ``rate`` (messages/s) turns on the
    fixed-rate mode whose latency is also measured from each message's intended send time.
    """

    acks: str = "all"
    compression: str = "none"
    #: -1 = the codec's default level.
    compression_level: int = -1
    linger_ms: float = 5.0
    batch_size: int = 16_384
    enable_idempotence: bool = False
    max_in_flight: int = 5
    #: queue.buffering.max.kbytes: how much the producer may hold before produce() pushes back.
    buffer_kbytes: int = 1_048_576
    #: queue.buffering.max.messages
    buffer_messages: int = 100_000
    #: retries after a retriable error (librdkafka default: effectively unlimited).
    retries: int = 2_147_483_647
    delivery_timeout_ms: int = 30_000
    #: value size in bytes
    message_size: int = 100
    payload: str = "text"
    #: number of distinct keys; 0 = no keys (librdkafka's sticky partitioner spreads batches)
    key_spread: int = 0
    partitions: int = 3
    replication_factor: int = 3
    count: int | None = 10_000
    duration_s: float | None = None
    rate: float | None = None
    #: also consume what is produced and report produce->consume latency on the same clock
    end_to_end: bool = False
    #: max.message.bytes of the topic the run creates, at least: the lab raises it to fit the run's largest
    #: batch (``topic_limit_bytes``), so a large message needs no setting of its own
    topic_max_message_bytes: int = DEFAULT_TOPIC_MAX_MESSAGE_BYTES
    #: a short name for tables and charts ("" = derived from the knobs)
    label: str = ""

    def __post_init__(self) -> None:
        require(self.acks in ACKS, f"acks={self.acks!r} is not valid.", "Use '0', '1' or 'all'.")
        require(self.compression in CODECS, f"compression={self.compression!r} is not a codec.",
                f"Use one of: {', '.join(CODECS)}.")
        lo, hi = CODEC_LEVELS.get(self.compression, (-1, -1))
        level = self.compression_level
        require(is_whole(level) and (level == -1 or lo <= level <= hi),
                f"compression level {self.compression_level!r} does not fit codec {self.compression}.",
                "Use -1 (the codec's default)" + (f" or {lo}..{hi} for {self.compression}." if hi > 0 else
                                                  f"; {self.compression} has no levels."))
        require(_num(self.linger_ms) and 0 <= self.linger_ms <= MAX_LINGER_MS,
                f"linger.ms={self.linger_ms!r} is out of range.", f"Use 0 to {MAX_LINGER_MS} ms.")
        require(is_whole(self.batch_size) and 1 <= self.batch_size <= MAX_BATCH_SIZE,
                f"batch.size={self.batch_size!r} is out of range.", f"Use 1 to {MAX_BATCH_SIZE} bytes.")
        require(isinstance(self.enable_idempotence, bool), f"enable.idempotence={self.enable_idempotence!r} "
                "is not a yes/no value.", "Use True or False.")
        require(is_whole(self.max_in_flight) and 1 <= self.max_in_flight <= MAX_IN_FLIGHT,
                f"max.in.flight={self.max_in_flight!r} is out of range.", f"Use 1 to {MAX_IN_FLIGHT}.")
        if self.enable_idempotence:
            require(self.acks == "all", f"enable.idempotence needs acks=all, not acks={self.acks}.",
                    "Set acks='all' or turn idempotence off.")
            require(self.max_in_flight <= IDEMPOTENT_MAX_IN_FLIGHT,
                    f"enable.idempotence allows at most {IDEMPOTENT_MAX_IN_FLIGHT} requests in flight, "
                    f"not {self.max_in_flight}.", f"Use max.in.flight 1 to {IDEMPOTENT_MAX_IN_FLIGHT}.")
            require(is_whole(self.retries) and self.retries > 0,
                    f"enable.idempotence needs retries > 0, not {self.retries!r}.", "Leave retries at its default.")
        require(is_whole(self.buffer_kbytes) and 1 <= self.buffer_kbytes <= MAX_BUFFER_KBYTES,
                f"buffer_kbytes={self.buffer_kbytes!r} is out of range.", f"Use 1 to {MAX_BUFFER_KBYTES} KiB.")
        require(is_whole(self.buffer_messages) and 1 <= self.buffer_messages <= MAX_BUFFER_MESSAGES,
                f"buffer_messages={self.buffer_messages!r} is out of range.", f"Use 1 to {MAX_BUFFER_MESSAGES}.")
        require(is_whole(self.retries) and 0 <= self.retries <= 2_147_483_647,
                f"retries={self.retries!r} is out of range.", "Use 0 to 2147483647.")
        require(is_whole(self.delivery_timeout_ms)
                and MIN_DELIVERY_TIMEOUT_MS <= self.delivery_timeout_ms <= MAX_DELIVERY_TIMEOUT_MS,
                f"delivery timeout {self.delivery_timeout_ms!r} ms is out of range.",
                f"Use {MIN_DELIVERY_TIMEOUT_MS} to {MAX_DELIVERY_TIMEOUT_MS} ms.")
        require(self.delivery_timeout_ms > self.linger_ms,
                f"linger.ms={self.linger_ms:g} is not below the delivery timeout (message.timeout.ms="
                f"{self.delivery_timeout_ms}): a batch could wait longer than its messages may live.",
                f"Use linger.ms below {self.delivery_timeout_ms} ms, or raise the delivery timeout (up to "
                f"{MAX_DELIVERY_TIMEOUT_MS} ms) above the linger.")
        require(is_whole(self.topic_max_message_bytes) and 1024 <= self.topic_max_message_bytes <= 100 * 1024 * 1024,
                f"topic max.message.bytes={self.topic_max_message_bytes!r} is out of range.",
                "Use 1024 to 104857600 bytes.")
        require(is_whole(self.message_size) and 1 <= self.message_size <= MAX_MESSAGE_SIZE,
                f"message_size={self.message_size!r} bytes is out of range.",
                f"Use 1 to {MAX_MESSAGE_SIZE} bytes ({MAX_MESSAGE_SIZE // 2**20} MiB); the run's topic "
                "(max.message.bytes) and librdkafka (message.max.bytes) are sized to fit it.")
        require(self.message_size * 1 <= self.buffer_kbytes * 1024,
                f"message size {self.message_size} bytes does not fit the producer buffer of {self.buffer_kbytes} KiB.",
                "Raise buffer_kbytes or send smaller messages.")
        require(self.payload in PAYLOADS, f"payload={self.payload!r} is not a payload kind.",
                f"Use one of: {', '.join(PAYLOADS)}.")
        require(is_whole(self.key_spread) and 0 <= self.key_spread <= MAX_KEY_SPREAD,
                f"key spread {self.key_spread!r} is out of range.",
                f"Use 0 (no keys) to {MAX_KEY_SPREAD} distinct keys.")
        require(is_whole(self.partitions) and 1 <= self.partitions <= MAX_PARTITIONS_PRODUCE,
                f"partitions={self.partitions!r} is out of range.", f"Use 1 to {MAX_PARTITIONS_PRODUCE}.")
        require(is_whole(self.replication_factor) and 1 <= self.replication_factor <= 3,
                f"replication factor {self.replication_factor!r} is out of range.",
                "Use 1, 2 or 3 (the lab's cluster has three brokers).")
        require((self.count is None) != (self.duration_s is None),
                "Give either a message count or a duration, not "
                + ("both." if self.count is not None else "neither."),
                "Set count (e.g. 10000) or duration_s (e.g. 10), and leave the other None.")
        if self.count is not None:
            require(is_whole(self.count) and 1 <= self.count <= MAX_COUNT,
                    f"count={self.count!r} is out of range.", f"Use 1 to {MAX_COUNT} messages.")
        if self.duration_s is not None:
            require(_num(self.duration_s) and 0.1 <= self.duration_s <= MAX_DURATION_S,
                    f"duration {self.duration_s!r} s is out of range.", f"Use 0.1 to {MAX_DURATION_S:.0f} s.")
        if self.rate is not None:
            require(_num(self.rate) and 1 <= self.rate <= MAX_RATE,
                    f"target rate {self.rate!r} msg/s is out of range.",
                    f"Use 1 to {MAX_RATE:.0f} messages/s, or None for as fast as possible.")
        require(isinstance(self.end_to_end, bool), f"end_to_end={self.end_to_end!r} is not a yes/no value.",
                "Use True or False.")
        require(isinstance(self.label, str) and len(self.label) <= 80, "label must be text of at most 80 characters.",
                "Use a short name such as 'lz4 / linger 10'.")

    @property
    def batch_bound_bytes(self) -> int:
        """The largest record batch this producer can send: librdkafka closes a batch at batch.size, but its
        first record goes in whatever its size (key, value and framing: ``RECORD_OVERHEAD_BYTES``)."""
        return max(self.batch_size, self.message_size) + RECORD_OVERHEAD_BYTES

    @property
    def topic_limit_bytes(self) -> int:
        """max.message.bytes of the run's topic: ``topic_max_message_bytes``, raised to the largest batch."""
        return max(self.topic_max_message_bytes, self.batch_bound_bytes)

    @property
    def name(self) -> str:
        """A short label for tables and charts."""
        return self.label or (f"acks={self.acks} {self.compression} linger={self.linger_ms:g}ms "
                              f"batch={self.batch_size}")

    def to_config(self) -> dict[str, str | int | float | bool]:
        """The librdkafka properties, dotted keys, in one place."""
        cfg: dict[str, str | int | float | bool] = {
            "acks": self.acks,
            "compression.type": self.compression,
            "linger.ms": self.linger_ms,
            "batch.size": self.batch_size,
            "enable.idempotence": self.enable_idempotence,
            "max.in.flight.requests.per.connection": self.max_in_flight,
            "queue.buffering.max.kbytes": self.buffer_kbytes,
            "queue.buffering.max.messages": self.buffer_messages,
            "retries": self.retries,
            "message.timeout.ms": self.delivery_timeout_ms,
        }
        if self.compression_level != -1:
            cfg["compression.level"] = self.compression_level
        # librdkafka refuses records above its own message.max.bytes (default 1 000 000), and caps a batch there
        if self.batch_bound_bytes > RDKAFKA_MESSAGE_MAX_BYTES:
            cfg["message.max.bytes"] = self.batch_bound_bytes
        return cfg

    def java_config(self) -> dict[str, str]:
        """The same producer for Kafka's Java client (ProducerPerformance), where the names differ."""
        return {
            "acks": self.acks,
            "compression.type": self.compression,
            "linger.ms": str(int(round(self.linger_ms))),
            "batch.size": str(self.batch_size),
            "enable.idempotence": str(self.enable_idempotence).lower(),
            "max.in.flight.requests.per.connection": str(self.max_in_flight),
            "buffer.memory": str(self.buffer_kbytes * 1024),
            "retries": str(self.retries),
            "delivery.timeout.ms": str(max(self.delivery_timeout_ms, int(self.linger_ms) + 30_000)),
            **({"max.request.size": str(self.batch_bound_bytes)} if self.batch_bound_bytes > 1_048_576 else {}),
        }

    def topic_configs(self) -> dict[str, str]:
        """Configs of the fresh topic each run creates: keep the producer's codec as sent, and take its
        largest batch (``topic_limit_bytes``)."""
        return {"compression.type": "producer", "max.message.bytes": str(self.topic_limit_bytes)}

    def replace(self, **changes: object) -> ProducerSettings:
        """A copy with some fields changed, validated again."""
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]


#: The seeds' four producer profiles ("Production-Ready Configuration Examples"), as ProducerSettings.
#: "default" is the seeds' table of defaults (16 KiB batches, linger.ms 0, no compression, 32 MiB buffer,
#: 5 in flight, no idempotence) with acks=all, the default of librdkafka and of Kafka >= 3.0.
PRESETS: dict[str, ProducerSettings] = {
    "default": ProducerSettings(linger_ms=0, buffer_kbytes=32_768, label="default"),
    "high throughput": ProducerSettings(acks="1", compression="lz4", linger_ms=10, batch_size=65_536,
                                        buffer_kbytes=65_536, retries=3, label="high throughput"),
    "high reliability": ProducerSettings(acks="all", enable_idempotence=True, retries=10, max_in_flight=5,
                                         batch_size=16_384, linger_ms=5, compression="gzip",
                                         label="high reliability"),
    "low latency": ProducerSettings(acks="1", linger_ms=0, batch_size=1, compression="none", retries=0,
                                    label="low latency"),
}


#: Bytes a produce request adds around one batch (request header, topic and partition framing).
REQUEST_OVERHEAD_BYTES = 1_024


def check_limits(settings: ProducerSettings, limits: ClusterLimits) -> None:
    """Refuse ``settings`` (``SettingsError``, with the broker setting to raise) when the cluster could not
    take its records; called before a run creates its topic, so an impossible run costs nothing.

    The lab sets its own topic's max.message.bytes, which overrides the brokers' message.max.bytes, and a
    follower or consumer fetches a batch larger than its fetch limits alone (``ClusterLimits``). What no
    setting of the topic or the client can pass is the brokers' socket.request.max.bytes: every produce
    request must fit it.
    """
    largest = limits.socket_request_max_bytes - REQUEST_OVERHEAD_BYTES
    limit = settings.topic_limit_bytes
    if limit <= largest:
        return
    raise_to = f"or raise socket.request.max.bytes on every broker to at least {limit + REQUEST_OVERHEAD_BYTES}."
    if settings.topic_max_message_bytes > largest:
        raise SettingsError(f"topic max.message.bytes={settings.topic_max_message_bytes} is larger than any request "
                            f"the brokers accept (socket.request.max.bytes={limits.socket_request_max_bytes}).",
                            hint=f"Use a topic max.message.bytes of at most {largest} bytes, and messages of at most "
                                 f"{largest - RECORD_OVERHEAD_BYTES} bytes, " + raise_to)
    raise SettingsError(f"A {settings.message_size}-byte message makes batches of up to {limit} bytes: larger than "
                        f"any request the brokers accept (socket.request.max.bytes={limits.socket_request_max_bytes}).",
                        hint=f"Use messages of at most {largest - RECORD_OVERHEAD_BYTES} bytes, " + raise_to)


def preset(name: str, **workload: object) -> ProducerSettings:
    """One of ``PRESETS`` with the workload fields (count, message_size, ...) replaced."""
    require(name in PRESETS, f"Unknown producer preset {name!r}.", f"Use one of: {', '.join(PRESETS)}.")
    return PRESETS[name].replace(**workload)
