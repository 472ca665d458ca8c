"""The link parameters of every page: each is the key of one page widget, so a link restores the widgets
and the page builds the same settings object from them. ``to_values`` reads a settings object back
into widget values (for a stored run's link), ``from_values`` builds what the page builds.

Connection settings (bootstrap servers, SASL/SSL, credentials) are never parameters: they come from the
environment of whoever opens the link.
"""

from __future__ import annotations

from typing import Any

from lab.consumer.fetch import BenchSettings, SeedSettings
from lab.consumer.perftest import ConsumerCrossCheckSettings
from lab.consumer.protocols import ProtocolsSettings
from lab.consumer.settings import STRATEGIES, ConsumerSettings
from lab.consumer.static import CASES, StaticSettings
from lab.consumer.strategies import StrategiesSettings
from lab.consumer.sweep import DEFAULT_RATE as SWEEP_DEFAULT_RATE
from lab.consumer.sweep import ConsumerSweepSettings
from lab.core.errors import SettingsError
from lab.eos import settings as eos_settings
from lab.eos.settings import FencingSettings, TransactionSettings
from lab.export.params import PageLinks, choice, flag, integer, multi, number, text
from lab.kafka.load import BackgroundProducerSettings
from lab.kafka.timeline import POLL_INTERVAL_S
from lab.lag import sample as lag
from lab.lag.settings import PHASES, LagDemoSettings, LagWatchSettings, SustainableRateSettings
from lab.producer.settings import (
    ACKS,
    CODECS,
    FIRST_RUN_DURATION_S,
    FIRST_RUN_RATE,
    PAYLOADS,
    PRESETS,
    ProducerSettings,
)
from lab.producer.sweep import SweepSettings
from lab.queues.settings import FAILURES, ShareAcksSettings, ShareCompareSettings, ShareCrashSettings
from lab.replication.elr import VersionsSettings
from lab.replication.settings import HwLeoSettings, MinIsrSettings, MonitorSettings, StorageSettings, UncleanSettings

# --- producer -------------------------------------------------------------------------------------------
#: batch.size choices of the producer page's slider (bytes)
BATCH_CHOICES = (1, 1_024, 4_096, 16_384, 32_768, 65_536, 131_072, 262_144, 1_000_000)
#: the producer page's "no preset" choice
NO_PRESET = "(none)"
_P = ProducerSettings()
_PRODUCER_MODES = {"single": "produce", "codec": "produce.sweep", "batch": "produce.sweep",
                   "acks": "produce.sweep", "presets": "produce.sweep"}
_SWEEPS = tuple(m for m in _PRODUCER_MODES if m != "single")

PRODUCER_PARAMS = (
    choice("mode", list(_PRODUCER_MODES), "single"),
    choice("preset", [NO_PRESET, *PRESETS], NO_PRESET),
    choice("acks", ACKS, _P.acks),
    choice("codec", CODECS, _P.compression),
    number("linger_ms", _P.linger_ms, 0),
    choice("batch_size", BATCH_CHOICES, _P.batch_size),
    flag("idempotence", _P.enable_idempotence),
    integer("msg_size", _P.message_size, 1),
    choice("payload", PAYLOADS, _P.payload),
    choice("run_for", ("count", "duration"), "duration"),
    integer("count", 20_000, 1, requires=("run_for", "count")),
    number("duration_s", FIRST_RUN_DURATION_S, 0.1, requires=("run_for", "duration")),
    integer("rate", int(FIRST_RUN_RATE), 0),
    flag("e2e", False),
    integer("fixed_rate", 0, 0, modes=_SWEEPS),
    integer("repeats", 1, 1, modes=_SWEEPS),
    flag("full_grid", False, modes=("batch",)),
)


def _producer_base(v: dict[str, Any]) -> ProducerSettings:
    base = PRESETS.get(v["preset"], ProducerSettings())
    return base.replace(
        acks=v["acks"], compression=v["codec"], compression_level=-1, linger_ms=float(v["linger_ms"]),
        batch_size=int(v["batch_size"]), enable_idempotence=bool(v["idempotence"]), message_size=int(v["msg_size"]),
        payload=v["payload"], count=int(v["count"]) if v["run_for"] == "count" else None,
        duration_s=None if v["run_for"] == "count" else float(v["duration_s"]),
        rate=float(v["rate"]) if v["rate"] else None, end_to_end=bool(v["e2e"]), label="")


def _producer_from(mode: str, v: dict[str, Any]) -> Any:
    base = _producer_base(v)
    if mode == "single":
        return base
    return SweepSettings(kind=mode, base=base, grid="full" if v["full_grid"] else "quick",
                         fixed_rate=float(v["fixed_rate"]) if v["fixed_rate"] else None, repeats=int(v["repeats"]))


def _producer_to(s: Any) -> tuple[str, dict[str, Any]]:
    mode, v = "single", dict[str, Any]()
    if isinstance(s, SweepSettings):
        mode = s.kind
        v = {"full_grid": s.grid == "full", "fixed_rate": int(s.fixed_rate or 0), "repeats": s.repeats}
        s = s.base
    p: ProducerSettings = s
    v.update(acks=p.acks, codec=p.compression, linger_ms=float(p.linger_ms), idempotence=p.enable_idempotence,
             batch_size=min(BATCH_CHOICES, key=lambda b: abs(b - p.batch_size)), msg_size=p.message_size,
             payload=p.payload, e2e=p.end_to_end, rate=int(p.rate or 0))
    if p.duration_s is None:
        v.update(run_for="count", count=int(p.count or 20_000))
    else:
        v.update(run_for="duration", duration_s=float(p.duration_s))
    v["preset"] = NO_PRESET
    full = {**{q.key: q.default for q in PRODUCER_PARAMS}, **v}
    for name in PRESETS:  # the preset whose other knobs (retries, buffers, in-flight) these settings have
        try:
            same = _producer_base({**full, "preset": name}) == p.replace(label="", compression_level=-1)
        except SettingsError:  # these knobs do not fit that preset's others
            same = False
        if same:
            v["preset"] = name
            break
    return mode, v


# --- replication ----------------------------------------------------------------------------------------
_REPL_MODES = {"monitor": "replication.monitor", "min-isr": "replication.min-isr", "hw-leo": "replication.hw-leo",
               "unclean": "replication.unclean", "elr": "replication.elr", "storage": "replication.storage"}
_M, _MI, _HW, _UN, _ST = MonitorSettings(), MinIsrSettings(), HwLeoSettings(), UncleanSettings(), StorageSettings()
_BG = BackgroundProducerSettings()
#: segment.bytes choices of the storage scenario's slider: 1 MiB is the least Kafka 4.x accepts
SEGMENT_CHOICES = (1024 * 1024, 2 * 1024 * 1024, 4 * 1024 * 1024)

REPLICATION_PARAMS = (
    choice("scenario", list(_REPL_MODES), "monitor"),
    text("mon_topic", _M.topic, modes=("monitor",), allowed_text="a topic of this cluster"),
    integer("mon_s", 120, 10, 600, modes=("monitor",)),
    flag("mon_producer", True, modes=("monitor",)),
    integer("mon_rate", _BG.rate_per_s, 1, 500, modes=("monitor",)),
    choice("mon_acks", ("all", "1"), "all", modes=("monitor",)),
    text("mi_topic", _MI.topic, modes=("min-isr",)),
    choice("min_isr", (1, 2, 3), _MI.min_insync_replicas, modes=("min-isr",)),
    integer("mi_writes", _MI.probe_messages, 1, 1000, modes=("min-isr",)),
    text("hw_topic", _HW.topic, modes=("hw-leo",)),
    integer("hw_rate", _HW.rate_per_s, 10, 1000, modes=("hw-leo",)),
    integer("hw_hold_s", int(_HW.hold_s), 0, 30, modes=("hw-leo",)),
    text("un_prefix", _UN.topic_prefix, modes=("unclean", "elr")),
    choice("un_leader", (1, 2, 3), _UN.in_sync_broker, modes=("unclean", "elr")),
    choice("un_lagging", (1, 2, 3), _UN.lagging_broker, modes=("unclean", "elr")),
    integer("un_missed", _UN.messages_while_lagging, 1, 10_000, modes=("unclean", "elr")),
    integer("un_after", _UN.messages_after, 1, 10_000, modes=("unclean", "elr")),
    choice("segment_bytes", SEGMENT_CHOICES, _ST.segment_bytes, modes=("storage",)),
    integer("st_msgs", _ST.messages, 100, 100_000, modes=("storage",)),
    integer("st_keys", _ST.keys, 1, 1000, modes=("storage",)),
    integer("st_updates", _ST.updates_per_key, 1, 1000, modes=("storage",)),
)


def _repl_from(mode: str, v: dict[str, Any]) -> Any:
    if mode == "monitor":
        prod = BackgroundProducerSettings(int(v["mon_rate"]), v["mon_acks"]) if v["mon_producer"] else None
        return MonitorSettings(v["mon_topic"], float(v["mon_s"]), POLL_INTERVAL_S, prod)
    if mode == "min-isr":
        return MinIsrSettings(v["mi_topic"], int(v["min_isr"]), int(v["mi_writes"]))
    if mode == "hw-leo":
        return HwLeoSettings(v["hw_topic"], int(v["hw_rate"]), 3.0, float(v["hw_hold_s"]))
    if mode in ("unclean", "elr"):
        un = UncleanSettings(v["un_prefix"], int(v["un_leader"]), int(v["un_lagging"]), 50, int(v["un_missed"]),
                             int(v["un_after"]))
        return un if mode == "unclean" else VersionsSettings(un)
    return StorageSettings(segment_bytes=int(v["segment_bytes"]), messages=int(v["st_msgs"]), keys=int(v["st_keys"]),
                           updates_per_key=int(v["st_updates"]))


def _repl_to(s: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(s, MonitorSettings):
        p = s.producer
        return "monitor", {"mon_topic": s.topic, "mon_s": int(s.duration_s), "mon_producer": p is not None,
                           **({"mon_rate": p.rate_per_s, "mon_acks": p.acks} if p is not None else {})}
    if isinstance(s, MinIsrSettings):
        return "min-isr", {"mi_topic": s.topic, "min_isr": s.min_insync_replicas, "mi_writes": s.probe_messages}
    if isinstance(s, HwLeoSettings):
        return "hw-leo", {"hw_topic": s.topic, "hw_rate": s.rate_per_s, "hw_hold_s": int(s.hold_s)}
    if isinstance(s, VersionsSettings):
        return "elr", _repl_to(s.scenario)[1]
    if isinstance(s, UncleanSettings):
        return "unclean", {"un_prefix": s.topic_prefix, "un_leader": s.in_sync_broker, "un_lagging": s.lagging_broker,
                           "un_missed": s.messages_while_lagging, "un_after": s.messages_after}
    return "storage", {"segment_bytes": s.segment_bytes, "st_msgs": s.messages, "st_keys": s.keys,
                       "st_updates": s.updates_per_key}


# --- eos ------------------------------------------------------------------------------------------------
_EOS_MODES = {"idempotent": "eos.idempotent", "transactional": "eos.transactional", "fencing": "eos.fencing",
              "pipeline": "eos.pipeline"}
_D, _T, _F = eos_settings.DuplicateSettings(), TransactionSettings(), FencingSettings()
_PL = eos_settings.PipelineSettings()
_ID, _TX, _PI = ("idempotent",), ("transactional",), ("pipeline",)

EOS_PARAMS = (
    choice("scenario", list(_EOS_MODES), "idempotent"),
    choice("idem_mode", list(eos_settings.IDEMPOTENCE_MODES), _D.idempotence, modes=_ID),
    integer("socket_timeout_ms", _D.socket_timeout_ms, 200, 5000, modes=_ID),
    # its bounds and default follow socket.timeout.ms and the brokers' session timeout
    integer("pause_ms", _D.pause_ms, 300, always=True, modes=_ID,
            allowed_text="above socket_timeout_ms + 100 and below the brokers' session timeout"),
    integer("idem_rate", _D.rate_per_s, 50, 2000, modes=_ID),
    integer("max_in_flight", _D.max_in_flight, 1, 10, modes=_ID),
    integer("retries", _D.retries, 0, 2_147_483_647, modes=_ID),
    choice("idem_acks", ("all", "1"), _D.acks, modes=_ID),
    integer("txns", _T.transactions, 2, 20, modes=_TX),
    integer("txn_records", _T.records_per_transaction, 1, 100, modes=_TX),
    integer("txn_aborted", _T.aborted, 0, 19, always=True, modes=_TX, allowed_text="0 to txns - 1"),
    integer("txn_hold_s", int(_T.hold_open_s), 0, 20, modes=_TX),
    integer("fence_records", _F.records, 1, 100, modes=("fencing",)),
    choice("pipe_mode", list(eos_settings.PIPELINE_MODES), _PL.modes, modes=_PI),
    integer("pipe_records", _PL.records, 500, 10_000, modes=_PI),
    integer("pipe_rate", _PL.rate_per_s, 50, 2000, modes=_PI),
    integer("commit_ms", _PL.commit_interval_ms, 200, 5000, modes=_PI),
    integer("kills", _PL.kills, 0, 3, modes=_PI),
    flag("kill_broker", _PL.kill_broker, modes=_PI),
)


def _eos_from(mode: str, v: dict[str, Any]) -> Any:
    if mode == "idempotent":
        return eos_settings.DuplicateSettings(idempotence=v["idem_mode"], rate_per_s=int(v["idem_rate"]),
                                            pause_ms=int(v["pause_ms"]), socket_timeout_ms=int(v["socket_timeout_ms"]),
                                            retries=int(v["retries"]), max_in_flight=int(v["max_in_flight"]),
                                            acks=v["idem_acks"])
    if mode == "transactional":
        return TransactionSettings(transactions=int(v["txns"]), records_per_transaction=int(v["txn_records"]),
                                   aborted=int(v["txn_aborted"]), hold_open_s=float(v["txn_hold_s"]))
    if mode == "fencing":
        return FencingSettings(records=int(v["fence_records"]))
    return eos_settings.PipelineSettings(modes=v["pipe_mode"], records=int(v["pipe_records"]),
                                         rate_per_s=int(v["pipe_rate"]), commit_interval_ms=int(v["commit_ms"]),
                                         kills=int(v["kills"]), kill_broker=bool(v["kill_broker"]))


def _eos_to(s: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(s, eos_settings.DuplicateSettings):
        return "idempotent", {"idem_mode": s.idempotence, "socket_timeout_ms": s.socket_timeout_ms,
                              "pause_ms": s.pause_ms, "idem_rate": s.rate_per_s, "max_in_flight": s.max_in_flight,
                              "retries": s.retries, "idem_acks": s.acks}
    if isinstance(s, TransactionSettings):
        return "transactional", {"txns": s.transactions, "txn_records": s.records_per_transaction,
                                 "txn_aborted": s.aborted, "txn_hold_s": int(s.hold_open_s)}
    if isinstance(s, FencingSettings):
        return "fencing", {"fence_records": s.records}
    return "pipeline", {"pipe_mode": s.modes, "pipe_records": s.records, "pipe_rate": s.rate_per_s,
                        "commit_ms": s.commit_interval_ms, "kills": s.kills, "kill_broker": s.kill_broker}


# --- consumer -------------------------------------------------------------------------------------------
#: fetch.min.bytes and max.partition.fetch.bytes choices of the consumer page's sliders
MIN_BYTES = (1, 1_024, 10_240, 102_400, 1_048_576)
PARTITION_BYTES = (16_384, 65_536, 262_144, 1_048_576, 4_194_304)
#: librdkafka's prefetch threshold per partition (``queued.min.messages``; 100 000 is its default)
QUEUED_MIN = (10_000, 100_000, 1_000_000)
#: the consumer page's sweeps
CONSUMER_SWEEPS = ("fetch-matrix", "partition-fetch", "profiles")
_CONSUMER_MODES = {"benchmark": "consumer.benchmark", "sweep": "consumer.sweep", "cross-check": "consumer.cross-check",
                   "strategies": "consumer.strategies", "static": "consumer.static-membership",
                   "protocols": "consumer.protocols", "seed": "consumer.seed"}
_C = ConsumerSettings()
#: the group experiments' producer rate when the page's live rate is 0 (msg/s)
GROUP_DEFAULT_RATE = 200
#: the fetch benchmark's consumer processes ("auto": one per core, at most one per partition)
PROCESS_CHOICES = ("auto", "1", "2", "3", "4", "6", "8")

CONSUMER_PARAMS = (
    choice("mode", list(_CONSUMER_MODES), "benchmark"),
    choice("fetch_min_bytes", MIN_BYTES, _C.fetch_min_bytes),
    integer("fetch_wait_ms", _C.fetch_wait_max_ms, 0, 10_000),
    choice("partition_bytes", PARTITION_BYTES, _C.max_partition_fetch_bytes),
    choice("queued_min", QUEUED_MIN, _C.queued_min_messages),
    integer("rate", 0, 0, 5_000),
    number("duration_s", 4.0, 1.0, 120.0),
    multi("strategies", STRATEGIES, STRATEGIES),
    integer("members", 2, 1, 8),
    number("delay_ms", 0.0, 0.0, 1_000.0),
    choice("protocol", ("classic", "consumer"), "classic"),
    choice("sweep", CONSUMER_SWEEPS, "fetch-matrix", modes=("sweep",)),
    choice("processes", PROCESS_CHOICES, "auto", modes=("benchmark", "sweep", "cross-check")),
)


def processes_members(choice: str) -> int | None:
    """The page's "Consumer processes" as ``BenchSettings.members`` ("auto": None)."""
    return None if choice == "auto" else int(choice)


def sweep_members(rate: int, choice: str) -> tuple[int | None, ...]:
    """A backlog sweep with processes other than 1 runs at 1 and at them, side by side (a live sweep, or 1
    process, runs one consumer as before)."""
    return () if rate or choice == "1" else (1, processes_members(choice))


def _processes(members: int | None) -> str:
    return "auto" if members is None else str(members)


def _consumer(v: dict[str, Any], rate: int | None = None) -> ConsumerSettings:
    rate = v["rate"] if rate is None else rate
    return ConsumerSettings(fetch_min_bytes=int(v["fetch_min_bytes"]), fetch_wait_max_ms=int(v["fetch_wait_ms"]),
                            max_partition_fetch_bytes=int(v["partition_bytes"]),
                            queued_min_messages=int(v["queued_min"]),
                            processing_delay_ms=float(v["delay_ms"]),
                            duration_s=float(v["duration_s"]) if rate else None, group_protocol=v["protocol"])


def _sweep_rate(kind: str, rate: int) -> int:
    """The page's sweep rate: the fetch matrix runs live (the sweep's own rate when none is set)."""
    return rate or (SWEEP_DEFAULT_RATE if kind == "fetch-matrix" else 0)


def _consumer_from(mode: str, v: dict[str, Any]) -> Any:
    rate, members, delay = int(v["rate"]), int(v["members"]), float(v["delay_ms"])
    if mode == "seed":
        return SeedSettings()
    if mode == "benchmark":
        return BenchSettings(_consumer(v), rate, members=processes_members(v["processes"]))
    if mode == "sweep":
        sweep_rate = _sweep_rate(v["sweep"], rate)
        return ConsumerSweepSettings(v["sweep"], BenchSettings(_consumer(v, sweep_rate), sweep_rate),
                                     members=sweep_members(sweep_rate, v["processes"]))
    if mode == "cross-check":
        return ConsumerCrossCheckSettings(_consumer(v).replace(duration_s=None, processing_delay_ms=0.0),
                                          members=processes_members(v["processes"]))
    if mode == "strategies":
        return StrategiesSettings(tuple(v["strategies"]), members, produce_rate=rate or GROUP_DEFAULT_RATE,
                                  processing_delay_ms=delay)
    if mode == "protocols":
        group = StrategiesSettings(("range",), members, produce_rate=rate or GROUP_DEFAULT_RATE,
                                   processing_delay_ms=delay)
        return ProtocolsSettings(group, classic_strategy=next(iter(v["strategies"]), "range"))
    return StaticSettings(CASES, max(2, members + 1), session_timeout_ms=10_000)


def _consumer_values(c: ConsumerSettings, rate: int) -> dict[str, Any]:
    v: dict[str, Any] = {"fetch_min_bytes": c.fetch_min_bytes, "fetch_wait_ms": c.fetch_wait_max_ms,
                         "partition_bytes": c.max_partition_fetch_bytes, "queued_min": c.queued_min_messages,
                         "delay_ms": float(c.processing_delay_ms),
                         "protocol": c.group_protocol, "rate": rate}
    if c.duration_s is not None and rate:  # a backlog run's duration is the lab's own (BACKLOG_S), not a knob
        v["duration_s"] = float(c.duration_s)
    return v


def _group_rate(rate: int) -> int:
    return 0 if rate == GROUP_DEFAULT_RATE else rate


def _consumer_to(s: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(s, SeedSettings):
        return "seed", {}
    if isinstance(s, BenchSettings):
        return "benchmark", {**_consumer_values(s.consumer, s.produce_rate), "processes": _processes(s.members)}
    if isinstance(s, ConsumerSweepSettings):
        v = _consumer_values(s.base.consumer, s.base.produce_rate)
        if v["rate"] == _sweep_rate(s.kind, 0):  # the fetch matrix's own rate: the page sets it when none is
            v["rate"] = 0
        counts = [m for m in s.members if m != 1]
        return "sweep", {"sweep": s.kind, **v, "processes": _processes(counts[-1]) if counts else "1"}
    if isinstance(s, ConsumerCrossCheckSettings):
        return "cross-check", {**_consumer_values(s.consumer, 0), "processes": _processes(s.members)}
    if isinstance(s, StrategiesSettings):
        return "strategies", {"strategies": s.strategies, "members": s.members,
                              "rate": _group_rate(s.produce_rate), "delay_ms": float(s.processing_delay_ms)}
    if isinstance(s, ProtocolsSettings):
        g = s.group
        return "protocols", {"strategies": (s.classic_strategy,), "members": g.members,
                             "rate": _group_rate(g.produce_rate), "delay_ms": float(g.processing_delay_ms)}
    return "static", {"members": max(1, s.members - 1)}


# --- lag ------------------------------------------------------------------------------------------------
_LAG_MODES = {"watch": "lag.watch", "scenario": "lag.scenario", "rate": "lag.sustainable-rate"}
_W, _LD, _LR = LagWatchSettings("any"), LagDemoSettings(), SustainableRateSettings()

LAG_PARAMS = (
    choice("mode", list(_LAG_MODES), "watch"),
    # a choice among the cluster's groups, or typed when it has none: the same parameter either way
    text("group", "", modes=("watch",), allowed_text="a consumer group of this cluster"),
    integer("watch_s", 60, 5, 3600, modes=("watch",)),
    choice("isolation", lag.ISOLATION_LEVELS, lag.ISOLATION_LEVELS[0], modes=("watch",)),
    integer("window", _W.window_samples, 2, 60, modes=("watch",)),
    number("merge_s", _W.min_distance_s, 0.0, 600.0, modes=("watch",)),
    integer("allowed_lag", _W.allowed_lag, 0, 10_000_000, modes=("watch",)),
    integer("partitions", _LD.partitions, 1, 12, modes=("scenario", "rate")),
    integer("rate", _LD.rate_per_s, 1, 5000, modes=("scenario",)),
    number("delay_ms", _LD.processing_delay_ms, 0.1, 1000.0, modes=("scenario", "rate")),
    integer("phase_s", int(_LD.phase_s), 6, 600, modes=("scenario",)),
    multi("phases", PHASES, PHASES, modes=("scenario",)),
    integer("members", _LR.members, 1, 12, modes=("rate",)),
    integer("start_rate", _LR.start_rate, 1, 5000, modes=("rate",)),
    integer("rate_step", _LR.step, 1, 5000, modes=("rate",)),
    integer("max_rate", _LR.max_rate, 1, 5000, modes=("rate",)),
    integer("step_s", int(_LR.step_s), 8, 300, modes=("rate",)),
)


def _lag_from(mode: str, v: dict[str, Any]) -> Any:
    if mode == "watch":
        return LagWatchSettings(str(v["group"]), float(v["watch_s"]), 1.0, str(v["isolation"]), int(v["window"]),
                                float(v["merge_s"]), int(v["allowed_lag"]))
    if mode == "rate":
        return SustainableRateSettings(int(v["partitions"]), int(v["members"]), float(v["delay_ms"]),
                                       int(v["start_rate"]), int(v["rate_step"]), int(v["max_rate"]),
                                       float(v["step_s"]))
    return LagDemoSettings(int(v["partitions"]), int(v["rate"]), float(v["delay_ms"]), float(v["phase_s"]),
                           tuple(v["phases"]))


def _lag_to(s: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(s, LagWatchSettings):
        return "watch", {"group": s.group, "watch_s": int(s.duration_s), "isolation": s.isolation,
                         "window": s.window_samples, "merge_s": float(s.min_distance_s), "allowed_lag": s.allowed_lag}
    if isinstance(s, SustainableRateSettings):
        return "rate", {"partitions": s.partitions, "members": s.members, "delay_ms": float(s.processing_delay_ms),
                        "start_rate": s.start_rate, "rate_step": s.step, "max_rate": s.max_rate,
                        "step_s": int(s.step_s)}
    return "scenario", {"partitions": s.partitions, "rate": s.rate_per_s, "delay_ms": float(s.processing_delay_ms),
                        "phase_s": int(s.phase_s), "phases": tuple(s.phases)}


# --- share groups --------------------------------------------------------------------------------------
_SHARE_MODES = {"compare": "share.compare", "acks": "share.acks", "crash": "share.crash"}
_SC, _SA, _SK = ShareCompareSettings(), ShareAcksSettings(), ShareCrashSettings()
_SHARED = ("compare", "acks", "crash")

# each experiment's own defaults for the knobs they share (a mode's fields show its own)
SHARE_PARAMS = (
    choice("mode", list(_SHARE_MODES), "compare"),
    integer("partitions", _SC.partitions, 1, 12),
    integer("members", _SC.members, 1, 12, modes=("compare",)),
    integer("records", _SC.records, 10, 20_000, modes=("compare",)),
    number("delay_ms", _SC.processing_delay_ms, 0.0, 1000.0, modes=("compare",)),
    integer("max_poll", _SC.max_poll_records, 1, 500, modes=_SHARED),
    integer("a_members", _SA.members, 1, 12, modes=("acks",)),
    integer("a_records", _SA.records, 10, 20_000, modes=("acks",)),
    number("a_delay_ms", _SA.processing_delay_ms, 0.0, 1000.0, modes=("acks",)),
    number("release", _SA.release_fraction, 0.0, 0.5, modes=("acks",)),
    number("reject", _SA.reject_fraction, 0.0, 0.5, modes=("acks",)),
    flag("poison", _SA.poison, modes=("acks",)),
    integer("limit", _SA.delivery_count_limit, 2, 10, modes=("acks",)),
    integer("lock_ms", _SA.lock_duration_ms, 1000, 60_000, modes=("acks",)),
    integer("k_members", _SK.members, 1, 12, modes=("crash",)),
    integer("k_records", _SK.records, 10, 20_000, modes=("crash",)),
    number("k_delay_ms", _SK.processing_delay_ms, 0.0, 1000.0, modes=("crash",)),
    integer("k_lock_ms", _SK.lock_duration_ms, 1000, 60_000, modes=("crash",)),
    choice("failure", FAILURES, _SK.failure, modes=("crash",)),
)


def _share_from(mode: str, v: dict[str, Any]) -> Any:
    if mode == "acks":
        return ShareAcksSettings(int(v["partitions"]), int(v["a_members"]), int(v["a_records"]),
                                 float(v["a_delay_ms"]), int(v["max_poll"]), float(v["release"]), float(v["reject"]),
                                 bool(v["poison"]), int(v["limit"]), int(v["lock_ms"]))
    if mode == "crash":
        return ShareCrashSettings(int(v["partitions"]), int(v["k_members"]), int(v["k_records"]),
                                  float(v["k_delay_ms"]), int(v["max_poll"]), int(v["k_lock_ms"]), str(v["failure"]))
    return ShareCompareSettings(int(v["partitions"]), int(v["members"]), int(v["records"]), float(v["delay_ms"]),
                                int(v["max_poll"]))


def _share_to(s: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(s, ShareAcksSettings):
        return "acks", {"partitions": s.partitions, "a_members": s.members, "a_records": s.records,
                        "a_delay_ms": float(s.processing_delay_ms), "max_poll": s.max_poll_records,
                        "release": float(s.release_fraction), "reject": float(s.reject_fraction),
                        "poison": s.poison, "limit": s.delivery_count_limit, "lock_ms": s.lock_duration_ms}
    if isinstance(s, ShareCrashSettings):
        return "crash", {"partitions": s.partitions, "k_members": s.members, "k_records": s.records,
                         "k_delay_ms": float(s.processing_delay_ms), "max_poll": s.max_poll_records,
                         "k_lock_ms": s.lock_duration_ms, "failure": s.failure}
    return "compare", {"partitions": s.partitions, "members": s.members, "records": s.records,
                       "delay_ms": float(s.processing_delay_ms), "max_poll": s.max_poll_records}


#: page -> its link parameters; a page not listed has no settings to link (the cluster page)
PAGES: dict[str, PageLinks] = {
    "producer": PageLinks("producer", "mode", _PRODUCER_MODES, PRODUCER_PARAMS, _producer_to, _producer_from),
    "replication": PageLinks("replication", "scenario", _REPL_MODES, REPLICATION_PARAMS, _repl_to, _repl_from),
    "eos": PageLinks("eos", "scenario", _EOS_MODES, EOS_PARAMS, _eos_to, _eos_from),
    "consumer": PageLinks("consumer", "mode", _CONSUMER_MODES, CONSUMER_PARAMS, _consumer_to, _consumer_from),
    "lag": PageLinks("lag", "mode", _LAG_MODES, LAG_PARAMS, _lag_to, _lag_from),
    "share": PageLinks("share", "mode", _SHARE_MODES, SHARE_PARAMS, _share_to, _share_from),
}
