"""ConsumerSettings: librdkafka's ranges with the allowed range in each message, the group.protocol=consumer
rules naming what replaces the refused keys, and one mapping to librdkafka's dotted keys."""

from __future__ import annotations

import pytest

from lab.consumer.fetch import BenchSettings, ConsumerSettings, SeedSettings
from lab.consumer.settings import PROFILES
from lab.core.errors import SettingsError


def refused(**kw: object) -> SettingsError:
    with pytest.raises(SettingsError) as info:
        ConsumerSettings(**kw)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(("kw", "allowed"), [
    ({"fetch_min_bytes": 0}, "1 to 100,000,000"),
    ({"fetch_wait_max_ms": -1}, "0 to 10,000"),
    ({"fetch_max_bytes": 999_999}, "message.max.bytes"),
    ({"max_partition_fetch_bytes": 0}, "1 to 1,000,000,000"),
    ({"queued_max_messages_kbytes": 0}, "1 to 2,097,151"),
    ({"queued_min_messages": 0}, "1 to 10,000,000"),
    ({"fetch_queue_backoff_ms": -1}, "0 to 300,000"),
    ({"auto_commit_interval_ms": -5}, "0 to 86,400,000"),
    ({"session_timeout_ms": 0}, "1 to 3,600,000"),
    ({"processing_delay_ms": 5000.0}, "0 to 1,000 ms"),
    ({"count": 0}, "1 to 100,000,000"),
    ({"duration_s": float("nan")}, "0.1 to 3,600"),
    ({"isolation_level": "dirty"}, "read_committed, read_uncommitted"),
    ({"auto_offset_reset": "smallest"}, "earliest, latest, error"),
    ({"assignment_strategy": "sticky"}, "range, roundrobin, cooperative-sticky"),
    ({"group_protocol": "new"}, "classic, consumer"),
    ({"group_instance_id": " a"}, "1 to 249 characters"),
])
def test_out_of_range_names_the_setting_and_what_is_allowed(kw: dict[str, object], allowed: str) -> None:
    err = refused(**kw)
    key = next(iter(kw))
    assert repr(kw[key]) in err.message or str(kw[key]) in err.message
    assert allowed in (err.hint or ""), err.hint


def test_bools_are_not_numbers() -> None:
    assert "out of range" in refused(fetch_min_bytes=True).message


@pytest.mark.parametrize(("kw", "replacement"), [
    ({"session_timeout_ms": 10_000}, "group.consumer.session.timeout.ms"),
    ({"heartbeat_interval_ms": 1_000}, "group.consumer.heartbeat.interval.ms"),
    ({"assignment_strategy": "range"}, "group.remote.assignor"),
])
def test_consumer_protocol_refuses_classic_keys_and_names_their_replacement(kw: dict[str, object],
                                                                            replacement: str) -> None:
    err = refused(group_protocol="consumer", **kw)
    assert "group.protocol=consumer" in err.message
    assert replacement in (err.hint or "")


def test_consumer_protocol_maps_the_remote_assignor_and_leaves_classic_keys_out() -> None:
    cfg = ConsumerSettings(group_protocol="consumer", group_remote_assignor="uniform").to_config()
    assert cfg["group.protocol"] == "consumer" and cfg["group.remote.assignor"] == "uniform"
    assert not {"session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy"} & set(cfg)
    err = refused(group_remote_assignor="range")
    assert "needs group.protocol=consumer" in err.message
    assert "remote" in refused(group_protocol="consumer", group_remote_assignor="sticky").message


def test_classic_timing_rules() -> None:
    assert "not below session.timeout.ms" in refused(session_timeout_ms=6000, heartbeat_interval_ms=6000).message
    err = refused(session_timeout_ms=60_000, max_poll_interval_ms=30_000)
    assert "max.poll.interval.ms" in err.message and ">= session.timeout.ms" in (err.hint or "")
    # the default heartbeat (3 s) must also be below a shortened session timeout
    assert "heartbeat" in refused(session_timeout_ms=2000).message


def test_to_config_uses_librdkafka_keys_in_one_place() -> None:
    s = ConsumerSettings(fetch_min_bytes=10_240, fetch_wait_max_ms=50, session_timeout_ms=6000,
                         heartbeat_interval_ms=1000, assignment_strategy="cooperative-sticky", group_instance_id="m-1")
    cfg = s.to_config()
    assert cfg["fetch.min.bytes"] == 10_240 and cfg["fetch.wait.max.ms"] == 50
    assert cfg["partition.assignment.strategy"] == "cooperative-sticky" and cfg["group.instance.id"] == "m-1"
    assert cfg["session.timeout.ms"] == 6000 and cfg["group.protocol"] == "classic"
    assert "group.instance.id" not in ConsumerSettings().to_config()
    assert ConsumerSettings(queued_min_messages=1_000_000, fetch_queue_backoff_ms=0).to_config()[
        "queued.min.messages"] == 1_000_000
    assert ConsumerSettings().to_config()["fetch.queue.backoff.ms"] == 1_000, "librdkafka's default, said aloud"
    java = s.java_config()
    assert java["fetch.max.wait.ms"] == "50" and "fetch.wait.max.ms" not in java


def test_eager_and_profiles() -> None:
    assert ConsumerSettings().eager and ConsumerSettings(assignment_strategy="roundrobin").eager
    assert not ConsumerSettings(assignment_strategy="cooperative-sticky").eager
    assert PROFILES["low latency"].fetch_wait_max_ms < PROFILES["high throughput"].fetch_wait_max_ms
    assert PROFILES["low latency"].fetch_min_bytes < PROFILES["high throughput"].fetch_min_bytes
    assert ConsumerSettings().replace(fetch_min_bytes=5).fetch_min_bytes == 5
    with pytest.raises(SettingsError):
        ConsumerSettings().replace(fetch_min_bytes=-5)


def test_seed_and_bench_settings() -> None:
    assert SeedSettings().messages == 50_000 and SeedSettings().topic == "lab-consumer-tuning"
    with pytest.raises(SettingsError) as info:
        SeedSettings(messages=0)
    assert "1 to 10,000,000" in (info.value.hint or "")
    with pytest.raises(SettingsError) as info:
        BenchSettings(produce_rate=10**6)
    assert "5,000" in (info.value.hint or "")
    assert BenchSettings(produce_rate=100).live and not BenchSettings().live
