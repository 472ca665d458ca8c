"""Fuzz: random settings, valid and invalid, extremes included, through every experiment's validation.

Each settings object either validates (then maps to its config, its time bound and the cluster limits
check without an error) or is refused with a ``SettingsError`` that names the problem and what is
allowed. Nothing else may escape. The registry's settings types are fuzzed generically from their
fields, so an experiment that lands later is fuzzed too.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import registry as experiments
from lab.core.errors import SettingsError
from lab.kafka.specs import ClusterLimits
from lab.producer.settings import (
    ACKS,
    CODECS,
    MAX_BATCH_SIZE,
    MAX_DELIVERY_TIMEOUT_MS,
    PAYLOADS,
    PRESETS,
    ProducerSettings,
    check_limits,
)
from lab.producer.sweep import SWEEP_KINDS, SweepSettings

EXTREME_INTS = st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63, -(2**63), 1_000_000, 1_048_588, 104_857_600])
EXTREME_FLOATS = st.sampled_from([0.0, -0.0, 1e-9, 1e308, math.inf, -math.inf, math.nan, 0.1, 60_000.0, 60_000.1])
ANY = st.one_of(st.none(), st.booleans(), st.integers(-10, 3_000_000), EXTREME_INTS, EXTREME_FLOATS,
                st.floats(allow_nan=True), st.text(max_size=5), st.lists(st.integers(), max_size=2))

PRODUCER_FIELDS = {
    "acks": st.one_of(st.sampled_from(ACKS), ANY),
    "compression": st.one_of(st.sampled_from(CODECS), ANY),
    "compression_level": st.one_of(st.integers(-2, 13), ANY),
    "linger_ms": st.one_of(st.floats(-1, 400_000), ANY),
    "batch_size": st.one_of(st.integers(0, MAX_BATCH_SIZE + 10), ANY),
    "enable_idempotence": st.one_of(st.booleans(), ANY),
    "max_in_flight": st.one_of(st.integers(0, 10), ANY),
    "buffer_kbytes": st.one_of(st.integers(0, 3_000_000), ANY),
    "buffer_messages": st.one_of(st.integers(0, 20_000_000), ANY),
    "retries": st.one_of(st.integers(-1, 20), EXTREME_INTS),
    "delivery_timeout_ms": st.one_of(st.integers(0, MAX_DELIVERY_TIMEOUT_MS + 10), ANY),
    "message_size": st.one_of(st.integers(0, 110_000_000), EXTREME_INTS, ANY),
    "payload": st.one_of(st.sampled_from(PAYLOADS), ANY),
    "key_spread": st.one_of(st.integers(-1, 2_000_000), ANY),
    "partitions": st.one_of(st.integers(0, 101), ANY),
    "replication_factor": st.one_of(st.integers(0, 4), ANY),
    "count": st.one_of(st.integers(0, 1000), st.none(), EXTREME_INTS),
    "duration_s": st.one_of(st.none(), st.floats(0, 4000), EXTREME_FLOATS),
    "rate": st.one_of(st.none(), st.floats(-1, 1e8), ANY),
    "end_to_end": st.one_of(st.booleans(), ANY),
    "topic_max_message_bytes": st.one_of(st.integers(0, 200_000_000), EXTREME_INTS),
    "label": st.one_of(st.text(max_size=90), ANY),
}
LIMITS = st.builds(ClusterLimits, st.integers(1_000, 200_000_000), st.integers(1_000, 200_000_000))


def _refusal_is_clear(exc: SettingsError) -> None:
    assert exc.message and exc.hint, "every refusal names the problem and what is allowed"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=PRODUCER_FIELDS), LIMITS)
def test_random_producer_settings_validate_or_explain(fields: dict[str, Any], limits: ClusterLimits) -> None:
    try:
        s = ProducerSettings(**fields)
    except SettingsError as exc:
        _refusal_is_clear(exc)
        return
    cfg = s.to_config()
    assert float(cfg["message.timeout.ms"]) > float(cfg["linger.ms"]), "librdkafka refuses linger >= timeout"
    assert s.message_size + 128 <= s.topic_limit_bytes and s.batch_size + 128 <= s.topic_limit_bytes
    assert s.topic_limit_bytes >= s.topic_max_message_bytes
    assert int(cfg.get("message.max.bytes", 1_000_000)) >= s.message_size + 128, "librdkafka takes the record"
    assert experiments.get("produce").time_limit(s) > 0
    try:
        check_limits(s, limits)
    except SettingsError as exc:
        _refusal_is_clear(exc)
        assert str(limits.socket_request_max_bytes) in exc.message or "max.message.bytes" in exc.message


SWEEP_FIELDS = {
    "grid": st.one_of(st.sampled_from(["quick", "full"]), ANY),
    "lingers_ms": st.one_of(st.lists(st.one_of(st.floats(-1, 70_000), EXTREME_FLOATS), max_size=6), ANY),
    "batch_sizes": st.one_of(st.lists(st.one_of(st.integers(-1, 2_000_000), EXTREME_INTS), max_size=6), ANY),
    "codecs": st.one_of(st.lists(st.sampled_from([*CODECS, "brotli"]), max_size=6), ANY),
    "acks": st.one_of(st.lists(st.sampled_from([*ACKS, "2"]), max_size=4), ANY),
    "presets": st.one_of(st.lists(st.sampled_from([*PRESETS, "fast"]), max_size=5), ANY),
    "fixed_rate": st.one_of(st.none(), st.floats(-1, 1e8), ANY),
    "fixed_rate_s": st.one_of(st.floats(0, 100), ANY),
    "at_fixed_rate": st.one_of(st.booleans(), ANY),
}
BASES = st.sampled_from([ProducerSettings(), ProducerSettings(duration_s=2.0, count=None),
                         ProducerSettings(message_size=1_000_000, batch_size=1_000_000, count=30),
                         ProducerSettings(linger_ms=50_000, delivery_timeout_ms=60_000)])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.sampled_from(SWEEP_KINDS), ANY), BASES, st.fixed_dictionaries({}, optional=SWEEP_FIELDS))
def test_random_sweep_settings_validate_or_explain(kind: Any, base: ProducerSettings, fields: dict[str, Any]) -> None:
    try:
        s = SweepSettings(kind, base, **fields)
    except SettingsError as exc:
        _refusal_is_clear(exc)
        return
    assert 1 <= len(s.variants()) <= 100
    assert experiments.get("produce.sweep").time_limit(s) > 0


# --- every registered experiment, from its fields ------------------------------------------------
def _strategy_for(tp: Any, default: Any) -> st.SearchStrategy[Any]:
    base: st.SearchStrategy[Any] = ANY
    if tp in (int, float) or tp == (int | None) or tp == (float | None):
        base = st.one_of(ANY, st.integers(-5, 10_000), st.floats(-5, 10_000))
    if tp is str:
        base = st.one_of(ANY, st.from_regex(r"[a-z.-]{0,12}", fullmatch=True))
    return st.one_of(st.just(default), base) if default is not dataclasses.MISSING else base


def _fields_strategy(settings_type: type) -> st.SearchStrategy[dict[str, Any]]:
    hints = typing.get_type_hints(settings_type)
    out, required = {}, {}
    for f in dataclasses.fields(settings_type):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp) or "Settings" in str(tp):
            # nested settings are fuzzed on their own (and by the sweep test): a required one gets its defaults
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required[f.name] = st.just(tp())
            continue
        out[f.name] = _strategy_for(tp, f.default)
    return st.fixed_dictionaries(required, optional=out)


FUZZED = sorted({e.settings_type for e in experiments.REGISTRY.values()
                 if e.settings_type not in (ProducerSettings, SweepSettings)}, key=lambda t: t.__name__)


@pytest.mark.parametrize("settings_type", FUZZED, ids=lambda t: t.__name__)
def test_every_experiments_settings_validate_or_explain(settings_type: type) -> None:
    entry = next(e for e in experiments.REGISTRY.values() if e.settings_type is settings_type)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_fields_strategy(settings_type))
    def check(fields: dict[str, Any]) -> None:
        try:
            s = settings_type(**fields)
        except SettingsError as exc:
            _refusal_is_clear(exc)
            return
        limit = entry.time_limit(s)
        assert limit > 0 and math.isfinite(limit), f"{settings_type.__name__} has a finite time bound"

    check()
