"""Pure parts of the load generator: its settings, message values and keys, and reading ids back."""

from __future__ import annotations

import pytest

from lab.core.errors import SettingsError
from lab.kafka.load import BACKGROUND_LINGER_MS, BackgroundProducerSettings, message_id


def test_defaults_map_to_librdkafka_keys() -> None:
    cfg = BackgroundProducerSettings().to_config()
    assert cfg == {"acks": "all", "retries": 0, "linger.ms": BACKGROUND_LINGER_MS, "message.timeout.ms": 6000,
                   "enable.idempotence": False}


def test_extra_config_is_applied_last() -> None:
    cfg = BackgroundProducerSettings(config={"linger.ms": "50", "compression.type": "lz4"}).to_config()
    assert cfg["linger.ms"] == "50" and cfg["compression.type"] == "lz4"


def test_values_carry_the_id_padded_to_the_message_size() -> None:
    s = BackgroundProducerSettings(message_bytes=10)
    assert s.value(17) == b"17        " and len(s.value(123456)) == 10
    assert BackgroundProducerSettings().value(17) == b"17"
    assert BackgroundProducerSettings(message_bytes=2).value(12345) == b"12345"  # never cut
    assert message_id(s.value(17)) == 17 and message_id(b"17") == 17
    assert message_id(b"roll") is None and message_id(None) is None


def test_keys_cycle_or_are_absent() -> None:
    assert BackgroundProducerSettings().key(5) is None
    s = BackgroundProducerSettings(keys=3)
    assert [s.key(i) for i in range(4)] == [b"key-0", b"key-1", b"key-2", b"key-0"]


@pytest.mark.parametrize("kwargs", [
    {"rate_per_s": 0}, {"rate_per_s": True}, {"acks": "2"}, {"retries": 11}, {"message_timeout_ms": 10},
    {"message_bytes": -1}, {"keys": -1}, {"config": {"bootstrap.servers": "elsewhere:9092"}},
    {"config": {"linger.ms": 5}},
])
def test_settings_refuse_bad_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(SettingsError) as err:
        BackgroundProducerSettings(**kwargs)  # type: ignore[arg-type]
    assert err.value.hint
