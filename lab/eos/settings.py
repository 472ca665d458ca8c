"""The eos experiments' settings: typed, self-validating dataclasses (each refusal names the setting, the
bad value and what is allowed), one per experiment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.core.validate import is_whole, require
from lab.eos import pipeline
from lab.kafka.specs import check_topic_name

#: Which producer runs a scenario makes: without idempotence, with it, or one after the other.
IDEMPOTENCE_MODES = {"off": (False,), "on": (True,), "both": (False, True)}
#: The lab's brokers (node ids).
LAB_BROKERS = (1, 2, 3)
#: Longest phase of producing before or after the fault.
MAX_PHASE_S = 60.0


@dataclass(frozen=True)
class DuplicateSettings:
    """One topic (recreated per producer run), its partitions led by ``leader``, frozen for ``pause_ms``.

    Defaults that work on the lab's clusters: ``socket_timeout_ms=1000`` and ``pause_ms=2500`` (past that
    plus librdkafka's once-a-second timeout scan, and under the lab cluster's 6000 ms session timeout less
    the margin), 300 records/s so each timed-out request holds a few batches.
    """

    topic: str = "lab-eos-duplicates"
    #: "off", "on" or "both" (without, then with ``enable.idempotence``)
    idempotence: str = "both"
    leader: int = 2
    partitions: int = 1
    rate_per_s: int = 300
    record_bytes: int = 100
    pause_ms: int = 2500
    socket_timeout_ms: int = 1000
    retries: int = 1_000_000
    max_in_flight: int = 5
    acks: str = "all"
    before_s: float = 1.0
    after_s: float = 2.0
    message_timeout_ms: int = 30_000

    def __post_init__(self) -> None:
        require(isinstance(self.topic, str), f"The topic must be a name, not {self.topic!r}.",
                "Give a topic name (letters, digits, . _ -).")
        check_topic_name(self.topic + "-plain")
        require(isinstance(self.idempotence, str) and self.idempotence in IDEMPOTENCE_MODES,
                f"idempotence={self.idempotence!r} is not a mode.",
                "Use off, on or both.")
        require(is_whole(self.leader) and self.leader in LAB_BROKERS, f"Leader broker {self.leader!r} is not one "
                "of the lab's brokers.", "Use 1, 2 or 3.")
        require(is_whole(self.partitions) and 1 <= self.partitions <= 6, f"partitions={self.partitions!r} is out "
                "of range.", "Use 1 to 6 (all led by the frozen broker).")
        require(is_whole(self.rate_per_s) and 10 <= self.rate_per_s <= 5000, f"rate {self.rate_per_s!r}/s is out "
                "of range.", "Use 10 to 5000 records per second.")
        require(is_whole(self.record_bytes) and 0 <= self.record_bytes <= 10_000,
                f"record size {self.record_bytes!r} is out of range.", "Use 0 (just the number) to 10000 bytes.")
        require(is_whole(self.socket_timeout_ms) and 100 <= self.socket_timeout_ms <= 60_000,
                f"socket.timeout.ms={self.socket_timeout_ms!r} is out of range.", "Use 100 to 60000 ms.")
        require(is_whole(self.pause_ms) and self.pause_ms > self.socket_timeout_ms,
                f"A pause of {self.pause_ms!r} ms does not outlast socket.timeout.ms={self.socket_timeout_ms}.",
                "Pause longer than socket.timeout.ms, or no request times out and nothing is sent twice.")
        require(isinstance(self.acks, str) and self.acks in ("1", "all"), f"acks={self.acks!r} is not allowed here.",
                "Use 1 or all (acks=0 has no acknowledgement to time out).")
        require(is_whole(self.retries) and 0 <= self.retries <= 2_147_483_647,
                f"retries={self.retries!r} is out of range.", "Use 0 to 2147483647.")
        require(is_whole(self.max_in_flight) and 1 <= self.max_in_flight <= 1_000_000,
                f"max.in.flight={self.max_in_flight!r} is out of range.", "Use 1 to 1000000.")
        for name in ("before_s", "after_s"):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and 0 <= v <= MAX_PHASE_S, f"{name}={v!r} is out of range.",
                    f"Use 0 to {MAX_PHASE_S:.0f} seconds.")
        require(is_whole(self.message_timeout_ms) and self.message_timeout_ms >= self.pause_ms + 5000
                and self.message_timeout_ms <= 300_000,
                f"message.timeout.ms={self.message_timeout_ms!r} would give up during the fault.",
                f"Use {self.pause_ms + 5000} to 300000 ms (the pause plus time to retry).")
        if True in IDEMPOTENCE_MODES[self.idempotence]:
            check_idempotence(self.acks, self.max_in_flight, self.retries)

    def to_config(self, idempotence: bool) -> dict[str, Any]:
        """The librdkafka properties of one producer run, dotted keys, in one place."""
        return {"enable.idempotence": idempotence, "acks": self.acks, "retries": self.retries,
                "max.in.flight.requests.per.connection": self.max_in_flight,
                "socket.timeout.ms": self.socket_timeout_ms, "message.timeout.ms": self.message_timeout_ms,
                "linger.ms": 5, "retry.backoff.ms": 100}

    def topic_for(self, idempotence: bool) -> str:
        return f"{self.topic}-{'idempotent' if idempotence else 'plain'}"


def check_idempotence(acks: str, max_in_flight: int, retries: int) -> None:
    """``SettingsError`` naming the setting that conflicts with ``enable.idempotence=true``."""
    require(acks == "all", f"enable.idempotence=true needs acks=all, not acks={acks}.",
            "The PID/sequence check happens on the leader after the ISR has the batch; set acks=all "
            "or turn idempotence off.")
    require(max_in_flight <= 5, f"enable.idempotence=true allows at most 5 requests in flight, not {max_in_flight}.",
            "The broker remembers the last 5 batches per producer and partition; use max.in.flight 1 to 5.")
    require(retries > 0, "enable.idempotence=true needs retries > 0.",
            "Idempotence exists to make retries safe; without retries a timed-out batch is simply lost.")
#: librdkafka's transaction.timeout.ms for the lab: the coordinator aborts a transaction open longer.
TRANSACTION_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class TransactionSettings:
    """``transactions`` batches of ``records_per_transaction``; ``aborted`` of them (spread evenly among all
    but the last) are aborted; the last is held open ``hold_open_s`` and then committed."""

    topic: str = "lab-eos-transactions"
    partitions: int = 3
    transactions: int = 6
    records_per_transaction: int = 9
    aborted: int = 2
    hold_open_s: float = 3.0
    record_bytes: int = 100

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(is_whole(self.partitions) and 1 <= self.partitions <= 12, f"partitions={self.partitions!r} is out "
                "of range.", "Use 1 to 12.")
        require(is_whole(self.transactions) and 2 <= self.transactions <= 200,
                f"transactions={self.transactions!r} is out of range.", "Use 2 to 200.")
        require(is_whole(self.records_per_transaction) and 1 <= self.records_per_transaction <= 10_000,
                f"records per transaction {self.records_per_transaction!r} is out of range.", "Use 1 to 10000.")
        require(is_whole(self.aborted) and 0 <= self.aborted <= self.transactions - 1,
                f"aborted={self.aborted!r} is out of range.",
                f"Use 0 to {self.transactions - 1}: the last transaction is the one held open and committed.")
        require(isinstance(self.hold_open_s, (int, float)) and 0 <= self.hold_open_s <= 50,
                f"hold_open_s={self.hold_open_s!r} is out of range.",
                f"Use 0 to 50 s (under transaction.timeout.ms={TRANSACTION_TIMEOUT_MS}).")
        require(is_whole(self.record_bytes) and 0 <= self.record_bytes <= 10_000,
                f"record size {self.record_bytes!r} is out of range.", "Use 0 to 10000 bytes.")

    def is_aborted(self, i: int) -> bool:
        """Whether transaction ``i`` (0-based) is aborted: ``aborted`` of the first ``transactions-1``, evenly."""
        n = self.transactions - 1
        return i < n and (i + 1) * self.aborted // n > i * self.aborted // n

    def partition_of(self, seq: int) -> int:
        return seq % self.partitions


@dataclass(frozen=True)
class FencingSettings:
    topic: str = "lab-eos-fencing"
    #: records each producer writes in its transaction
    records: int = 5

    def __post_init__(self) -> None:
        check_topic_name(self.topic)
        require(is_whole(self.records) and 1 <= self.records <= 10_000, f"records={self.records!r} is out of range.",
                "Use 1 to 10000.")

#: scenario mode -> the pipeline modes it runs, in order
PIPELINE_MODES = {"both": pipeline.MODES, "exactly-once": ("exactly-once",), "at-least-once": ("at-least-once",)}


@dataclass(frozen=True)
class PipelineSettings:
    topic_prefix: str = "lab-eos-pipeline"
    #: "both", "exactly-once" or "at-least-once"
    modes: str = "both"
    records: int = 3000
    rate_per_s: int = 300
    partitions: int = 3
    commit_interval_ms: int = 1000
    kills: int = 1
    restart_after_s: float = 1.0
    #: the second fault: SIGKILL the leader broker of output partition 0 once the pipeline is past the
    #: process kills, and start it again ``BROKER_DOWN_S`` later (needs broker controls)
    kill_broker: bool = True

    def __post_init__(self) -> None:
        require(isinstance(self.topic_prefix, str), f"The topic prefix must be a name, not {self.topic_prefix!r}.",
                "Give a topic prefix (letters, digits, . _ -).")
        check_topic_name(self.topic_prefix + "-eos-out")
        require(isinstance(self.modes, str) and self.modes in PIPELINE_MODES,
                f"mode {self.modes!r} is not known.", "Use both, exactly-once or at-least-once.")
        require(is_whole(self.records) and 100 <= self.records <= 100_000, f"records={self.records!r} is out of range.",
                "Use 100 to 100000.")
        require(is_whole(self.rate_per_s) and 10 <= self.rate_per_s <= 5000, f"rate {self.rate_per_s!r}/s is out of "
                "range.", "Use 10 to 5000 records per second.")
        require(is_whole(self.partitions) and 1 <= self.partitions <= 12, f"partitions={self.partitions!r} is out of "
                "range.", "Use 1 to 12.")
        require(is_whole(self.commit_interval_ms) and 100 <= self.commit_interval_ms <= 10_000,
                f"commit interval {self.commit_interval_ms!r} ms is out of range.", "Use 100 to 10000 ms.")
        require(is_whole(self.kills) and 0 <= self.kills <= 5, f"kills={self.kills!r} is out of range.", "Use 0 to 5.")
        require(isinstance(self.restart_after_s, (int, float)) and 0 <= self.restart_after_s <= 30,
                f"restart_after_s={self.restart_after_s!r} is out of range.", "Use 0 to 30 seconds.")

    def broker_threshold(self) -> int:
        """Output records at which the output leader is killed: after the process kills."""
        return int(self.records * 0.8 * (self.kills + 0.5) / (self.kills + 1))

    def kill_thresholds(self) -> list[int]:
        """Output records (summed over partitions) at which each SIGKILL is sent: spread over the run."""
        return [int(self.records * 0.8 * (k + 1) / (self.kills + 1)) for k in range(self.kills)]
