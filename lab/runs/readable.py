"""Figures as a person reads them: numbers with thousands separators and a few sensible decimals (never
scientific notation), durations in ms, s or min, ratios as ``2.1×``, and the lab's field names
(``stats.broker_rtt_avg_ms``) as labels with their unit (``broker round trip (avg)``, ms). Pure.

A name's unit comes from the lab's naming convention (``_ms``, ``_s``, ``msgs_per_s`` …); its words are
spelled out from ``WORDS``; a statistic at its end (``avg``, ``p99``, ``count``) goes in brackets. Parts
that are data rather than names (an error ``_MSG_TIMED_OUT``, a phase ``one-down``) are kept as they are.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Joins the levels of a nested name (``warm-up · latency (count)``).
SEP = " · "
#: Shown for a figure that has no value (NaN, None).
MISSING = "—"
#: Endings of a field name -> its unit, longest first (the lab's naming convention).
UNIT_SUFFIXES = (("msgs_per_s", "msg/s"), ("records_per_s", "records/s"), ("mb_per_s", "MB/s"),
                 ("bytes_per_s", "bytes/s"), ("per_s", "/s"), ("_ms", "ms"), ("_s", "s"), ("_bytes", "bytes"),
                 ("_mb", "MB"), ("_pct", "%"))
#: Whole names that read better said differently: name -> (label, unit).
NAMES = {
    "msgs_per_s": ("throughput", "msg/s"), "mb_per_s": ("throughput", "MB/s"),
    "records_per_s": ("throughput", "records/s"), "bytes": ("bytes", "bytes"),
    "elapsed_s": ("elapsed", "s"), "measured_s": ("measured for", "s"), "cpu_s": ("CPU time", "s"),
    "topic_messages": ("messages in the topic", ""), "queue_full": ("local queue full", "times"),
    "stats.compression_ratio": ("compression ratio", "×"), "throughput_ratio": ("throughput, lab ÷ perf tool", "×"),
    "p50_ratio": ("p50 latency, lab ÷ perf tool", "×"), "p99_ratio": ("p99 latency, lab ÷ perf tool", "×"),
    "stats.avg_msgs_per_batch": ("messages per batch", ""), "stats.avg_batch_bytes": ("batch size (avg)", "bytes"),
    "written_but_not_acknowledged": ("written but not acknowledged", "messages"),
}
#: Settings whose unit their name does not say.
SETTING_UNITS = {"batch_size": "bytes", "message_size": "bytes", "rate": "msg/s", "rate_per_s": "records/s",
                 "produce_rate": "msg/s", "buffer_kbytes": "KB", "segment_bytes": "bytes"}
#: A first part that names a measure the lab has several of.
PREFIXES = {"latency": "send→ack latency", "intended_latency": "intended→ack latency",
            "e2e_latency": "end-to-end latency", "e2e": "end-to-end latency", "publish_delay": "send delay",
            "warmup": "warm-up", "stats": "", "fetch": "fetch", "samples": "per interval"}
#: One part said differently.
PARTS = {"acks_all": "acks=all", "acks_1": "acks=1", "acks_0": "acks=0"}
#: Words spelled out; "" drops the word.
WORDS = {"msgs": "messages", "msg": "message", "rtt": "round trip", "e2e": "end-to-end", "warmup": "warm-up",
         "cpu": "CPU", "mb": "MB", "isr": "ISR", "hw": "high watermark", "leo": "log end offset",
         "lso": "last stable offset", "txn": "transaction", "txns": "transactions", "num": "number of",
         "avg": "avg", "req": "request", "reqs": "requests", "tx": "sent", "rx": "received", "kbytes": "KB"}
#: Statistics at the end of a name (said in brackets after the measure).
STATS = {"avg": "avg", "p50": "p50", "p75": "p75", "p95": "p95", "p99": "p99", "p999": "p99.9", "max": "max",
         "min": "min", "count": "count", "mean": "mean"}
_IDENT = re.compile(r"[a-z][a-z0-9_]*\Z")


def _words(part: str) -> list[str]:
    if part in PARTS:
        return [PARTS[part]]
    return [w for w in (WORDS.get(x, x) for x in part.split("_") if x) if w]


def _unit_of(part: str) -> tuple[str, str]:
    """(the part without its unit ending, the unit)."""
    for suffix, unit in UNIT_SUFFIXES:
        if part.endswith(suffix) and len(part) > len(suffix):
            return part[: -len(suffix)].rstrip("_"), unit
    return part, ""


def label(name: str, *, stats: bool = True) -> tuple[str, str]:
    """A field's (dotted) name as (label, unit): ``stats.broker_rtt_avg_ms`` -> ("broker round trip (avg)",
    "ms"). ``stats=False`` (settings) reads a trailing ``count`` or ``max`` as a word, not a statistic."""
    if name in NAMES:
        return NAMES[name]
    parts = name.split(".")
    if len(parts) > 1 and parts[-1] in NAMES:  # warmup.msgs_per_s: the warm-up's throughput
        own, unit = NAMES[parts[-1]]
        return SEP.join([label(".".join(parts[:-1]), stats=stats)[0], own]), unit
    head, unit = _unit_of(parts[-1]) if _IDENT.match(parts[-1]) else (parts[-1], "")
    parts[-1] = head
    stat = ""
    shown: list[str] = []
    for i, part in enumerate(parts):
        if not _IDENT.match(part):  # data, not a name: an error code, a phase, a partition
            shown.append(part)
            continue
        if i == 0 and part in PREFIXES and len(parts) > 1:
            if PREFIXES[part]:
                shown.append(PREFIXES[part])
            continue
        words = _words(part)
        if stats and i == len(parts) - 1 and words and words[-1] in STATS:
            stat = STATS[words.pop()]
        if words:
            shown.append(" ".join(words))
    text = SEP.join(shown) or stat or name
    if stat and shown:
        text += f" ({stat})"
    if stat == "count":
        unit = ""
    return text, unit


# --- numbers -----------------------------------------------------------------------------------------
def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x: Any, digits: int | None = None) -> str:
    """``332700.4`` -> ``332,700``; ``36.824`` -> ``36.8``; ``0.0042`` -> ``0.0042``; NaN/None -> ``—``.
    ``digits``: that many decimals. Never scientific notation."""
    if _missing(x):
        return MISSING
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if not isinstance(x, float):
        return str(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if digits is None:
        a = abs(x)
        if a == 0 or a >= 100 or x.is_integer():
            digits = 0
        elif a >= 10:
            digits = 1
        elif a >= 1:
            digits = 2
        else:  # two significant digits, however small
            digits = min(12, 1 - math.floor(math.log10(a)))
    text = f"{x:,.{digits}f}"
    if abs(x) < 1 and "." in text:  # 0.2, not 0.20
        text = text.rstrip("0").rstrip(".")
    return "0" if re.fullmatch(r"-?0\.?0*", text) else text


def duration_ms(ms: Any) -> str:
    """``0.84 ms``, ``512 ms``, ``3.7 s``, ``2.5 min``."""
    if _missing(ms):
        return MISSING
    a = abs(ms)
    if a >= 60_000:
        return f"{number(ms / 60_000, 1)} min"
    if a >= 1_000:
        return f"{number(ms / 1_000, 1)} s"
    return f"{number(float(ms))} ms"


def ratio(x: Any) -> str:
    """``2.1×``, ``1.05×``, ``0.95×``, ``12×``."""
    if _missing(x):
        return MISSING
    text = f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.2f}".rstrip("0").rstrip(".")
    return f"{text}×"


def quantity(value: Any, unit: str = "") -> str:
    """A value with its unit, as a person reads it (durations scaled, ratios with ×)."""
    if isinstance(value, str):
        return value
    if _missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "ms":
        return duration_ms(value)
    if unit == "s":
        return duration_ms(value * 1000.0)
    if unit == "×":
        return ratio(value)
    if unit == "%":
        return f"{number(value)} %"
    if unit.startswith("/"):
        return f"{number(value)}{unit}"
    return f"{number(value)} {unit}".rstrip()


def setting(name: str, value: Any) -> tuple[str, str]:
    """A setting as (label, value as text), e.g. ``linger_ms`` 5.0 -> ("linger", "5 ms"); None -> "none".
    Settings keep their unit (a person typed milliseconds), only with separators."""
    text, unit = label(name, stats=False)
    unit = SETTING_UNITS.get(name.rsplit(".", 1)[-1], unit)
    if value is None:
        return text, "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return text, f"{number(value)}{'' if unit.startswith('/') else ' '}{unit}".rstrip()
    return text, quantity(value)


__all__ = ["MISSING", "SEP", "duration_ms", "label", "number", "quantity", "ratio", "setting"]
