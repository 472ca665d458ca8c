"""ProducerSettings: every rule, presets, the librdkafka and Java mappings, and random settings that
either validate or fail with a message that says what is allowed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.core.errors import SettingsError
from lab.kafka.specs import DEFAULT_TOPIC_MAX_MESSAGE_BYTES, ClusterLimits
from lab.producer.settings import (
    ACKS,
    CODECS,
    MAX_MESSAGE_SIZE,
    PAYLOADS,
    PRESETS,
    RECORD_OVERHEAD_BYTES,
    REQUEST_OVERHEAD_BYTES,
    ProducerSettings,
    check_limits,
    preset,
)


def test_defaults_validate_and_map_to_dotted_keys() -> None:
    cfg = ProducerSettings().to_config()
    assert cfg["acks"] == "all"
    assert cfg["compression.type"] == "none"
    assert cfg["linger.ms"] == 5.0
    assert cfg["batch.size"] == 16_384
    assert cfg["enable.idempotence"] is False
    assert cfg["max.in.flight.requests.per.connection"] == 5
    assert "compression.level" not in cfg
    assert all("." in k or k == "acks" or k == "retries" for k in cfg)


def test_level_and_large_messages_reach_the_config() -> None:
    s = ProducerSettings(compression="gzip", compression_level=9, message_size=1_000_000,
                         topic_max_message_bytes=2_000_000)
    cfg = s.to_config()
    assert cfg["compression.level"] == 9
    assert cfg["message.max.bytes"] == 1_000_000 + RECORD_OVERHEAD_BYTES
    assert s.topic_configs()["max.message.bytes"] == "2000000", "an explicit topic limit above the need is kept"


def test_the_topic_and_librdkafka_are_sized_from_the_message() -> None:
    """Issue 18: a 2 MiB message needs no setting of its own: the run's topic and librdkafka take it."""
    s = ProducerSettings(message_size=2 * 1024 * 1024)
    need = 2 * 1024 * 1024 + RECORD_OVERHEAD_BYTES
    assert s.batch_bound_bytes == s.topic_limit_bytes == need
    assert s.topic_configs()["max.message.bytes"] == str(need)
    assert s.to_config()["message.max.bytes"] == need
    assert s.java_config()["max.request.size"] == str(need)
    small = ProducerSettings(message_size=100, batch_size=16_384)
    assert small.topic_configs()["max.message.bytes"] == str(DEFAULT_TOPIC_MAX_MESSAGE_BYTES), "Kafka's default kept"
    assert "message.max.bytes" not in small.to_config()


def test_a_message_past_what_the_brokers_take_is_refused_naming_the_broker_setting() -> None:
    s = ProducerSettings(message_size=8 * 1024 * 1024, count=10)
    check_limits(s, ClusterLimits())  # Kafka's defaults take it (socket.request.max.bytes is 100 MiB)
    with pytest.raises(SettingsError) as err:
        check_limits(s, ClusterLimits(socket_request_max_bytes=4 * 1024 * 1024))
    assert "socket.request.max.bytes=4194304" in err.value.message
    hint = err.value.hint or ""
    need = s.topic_limit_bytes + REQUEST_OVERHEAD_BYTES
    assert f"socket.request.max.bytes on every broker to at least {need}" in hint
    assert f"at most {4 * 1024 * 1024 - REQUEST_OVERHEAD_BYTES - RECORD_OVERHEAD_BYTES} bytes" in hint


def test_java_config_uses_java_names() -> None:
    s = ProducerSettings(acks="1", compression="lz4", linger_ms=10, batch_size=65_536, buffer_kbytes=65_536)
    j = s.java_config()
    assert j["buffer.memory"] == str(64 * 1024 * 1024)
    assert j["linger.ms"] == "10" and j["batch.size"] == "65536" and j["acks"] == "1"
    assert int(j["delivery.timeout.ms"]) >= 10 + 30_000  # Java insists on linger + request timeout


@pytest.mark.parametrize(
    ("changes", "needle", "allowed"),
    [
        ({"acks": "2"}, "acks='2'", "'0', '1' or 'all'"),
        ({"compression": "brotli"}, "not a codec", "gzip"),
        ({"compression": "gzip", "compression_level": 10}, "does not fit codec gzip", "0..9"),
        ({"compression": "snappy", "compression_level": 3}, "does not fit codec snappy", "no levels"),
        ({"linger_ms": -1}, "linger.ms=-1", "0 to 60000"),
        ({"linger_ms": float("nan")}, "linger.ms=nan", "0 to"),
        ({"batch_size": 0}, "batch.size=0", "1 to"),
        ({"batch_size": True}, "batch.size=True", "1 to"),
        ({"max_in_flight": 0}, "max.in.flight=0", "1 to"),
        ({"enable_idempotence": True, "acks": "1"}, "needs acks=all", "acks='all'"),
        ({"enable_idempotence": True, "max_in_flight": 6}, "at most 5", "1 to 5"),
        ({"enable_idempotence": True, "retries": 0}, "retries > 0", "default"),
        ({"buffer_kbytes": 0}, "buffer_kbytes=0", "KiB"),
        ({"buffer_messages": 0}, "buffer_messages=0", "1 to"),
        ({"retries": -1}, "retries=-1", "0 to"),
        ({"delivery_timeout_ms": 10}, "delivery timeout", "1000 to 300000"),
        ({"message_size": MAX_MESSAGE_SIZE + 1}, f"message_size={MAX_MESSAGE_SIZE + 1}", f"1 to {MAX_MESSAGE_SIZE}"),
        ({"message_size": 0}, "message_size=0", "Use 1 to"),
        ({"message_size": 4_000, "buffer_kbytes": 1}, "does not fit the producer buffer", "buffer_kbytes"),
        ({"payload": "xml"}, "payload='xml'", "text, json, random"),
        ({"key_spread": -1}, "key spread", "0 (no keys)"),
        ({"partitions": 0}, "partitions=0", "1 to 100"),
        ({"replication_factor": 4}, "replication factor 4", "1, 2 or 3"),
        ({"count": None}, "not neither", "count"),
        ({"duration_s": 5}, "not both", "count"),
        ({"count": 0}, "count=0", "1 to"),
        ({"count": None, "duration_s": 0.0}, "duration 0.0", "0.1 to"),
        ({"rate": 0}, "target rate 0", "None for as fast"),
        ({"end_to_end": 1}, "end_to_end=1", "True or False"),
        ({"topic_max_message_bytes": 10}, "max.message.bytes=10", "1024 to"),
        ({"label": "x" * 81}, "label", "short name"),
    ],
)
def test_each_rule_says_what_is_allowed(changes: dict[str, Any], needle: str, allowed: str) -> None:
    with pytest.raises(SettingsError) as info:
        ProducerSettings(**changes)
    assert needle in info.value.message
    assert info.value.hint is not None and allowed in info.value.hint


def test_replace_validates_again() -> None:
    s = ProducerSettings()
    assert s.replace(acks="1").acks == "1"
    with pytest.raises(SettingsError):
        s.replace(acks="many")


def test_presets_follow_the_seeds() -> None:
    ht, hr, ll = PRESETS["high throughput"], PRESETS["high reliability"], PRESETS["low latency"]
    assert (ht.acks, ht.compression, ht.linger_ms, ht.batch_size, ht.buffer_kbytes) == ("1", "lz4", 10, 65_536, 65_536)
    assert (hr.acks, hr.enable_idempotence, hr.compression, hr.linger_ms, hr.batch_size) == \
        ("all", True, "gzip", 5, 16_384)
    assert (ll.acks, ll.linger_ms, ll.batch_size, ll.compression, ll.retries) == ("1", 0, 1, "none", 0)
    assert PRESETS["default"].linger_ms == 0 and PRESETS["default"].batch_size == 16_384
    p = preset("low latency", count=5, message_size=10)
    assert (p.count, p.message_size, p.batch_size) == (5, 10, 1)
    with pytest.raises(SettingsError, match="Unknown producer preset"):
        preset("turbo")


def test_name_is_the_label_or_the_knobs() -> None:
    assert ProducerSettings(label="mine").name == "mine"
    assert "lz4" in ProducerSettings(compression="lz4").name


ANY = st.one_of(st.none(), st.booleans(), st.integers(-10, 3_000_000), st.floats(allow_nan=True), st.text(max_size=5))
FIELDS = {
    "acks": st.one_of(st.sampled_from(ACKS), ANY),
    "compression": st.one_of(st.sampled_from(CODECS), ANY),
    "compression_level": st.one_of(st.integers(-2, 13), ANY),
    "linger_ms": st.one_of(st.floats(-1, 70_000), ANY),
    "batch_size": st.one_of(st.integers(0, 1_100_000), ANY),
    "enable_idempotence": st.one_of(st.booleans(), ANY),
    "max_in_flight": st.one_of(st.integers(0, 10), ANY),
    "message_size": st.one_of(st.integers(0, 1_100_000), ANY),
    "payload": st.one_of(st.sampled_from(PAYLOADS), ANY),
    "key_spread": st.one_of(st.integers(-1, 100), ANY),
    "partitions": st.one_of(st.integers(0, 101), ANY),
    "count": st.one_of(st.integers(0, 1000), st.none()),
    "duration_s": st.one_of(st.none(), st.floats(0, 100)),
    "rate": st.one_of(st.none(), st.floats(-1, 1e5), ANY),
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_random_settings_validate_or_explain(fields: dict[str, Any]) -> None:
    try:
        s = ProducerSettings(**fields)
    except SettingsError as exc:
        assert exc.message and exc.hint, "every refusal names the problem and what is allowed"
        assert "\n" in str(exc)
        return
    cfg = s.to_config()  # a valid object always maps to a config
    assert cfg["acks"] in ACKS and cfg["compression.type"] in CODECS
    assert (s.count is None) != (s.duration_s is None)
    if s.enable_idempotence:
        assert s.acks == "all" and s.max_in_flight <= 5
