"""Pure parts of the replication lab: event detection, Jolokia parsing, segment names, settings."""

from __future__ import annotations

import pytest

from lab.cluster import jmx
from lab.core.errors import SettingsError
from lab.kafka import load
from lab.kafka.observe import EventKind, PartitionState, Snapshot, detect_events
from lab.replication import scenarios as replication
from lab.replication import segments
from lab.replication import settings as replication_settings
from lab.replication.scenarios import hw_stall_s


def snap(t: float, leader: int, isr: tuple[int, ...], epoch: int | None, hw: int | None = None) -> Snapshot:
    return Snapshot(t, (PartitionState("t", 0, leader, (1, 2, 3), isr, epoch, hw),))


def kinds(prev: Snapshot | None, cur: Snapshot, known: dict[tuple[str, int], int] | None = None) -> list[EventKind]:
    return [e.kind for e in detect_events(prev, cur, known)]


def test_first_snapshot_has_no_events() -> None:
    assert kinds(None, snap(0, 1, (1, 2, 3), 0)) == []


def test_no_change_no_event() -> None:
    assert kinds(snap(0, 1, (1, 2, 3), 0), snap(1, 1, (1, 2, 3), 0)) == []


def test_shrink_and_expand_name_the_broker() -> None:
    ev = detect_events(snap(0, 1, (1, 2, 3), 0), snap(1, 1, (1, 3), 0))
    assert [e.kind for e in ev] == [EventKind.ISR_SHRINK] and "broker 2 left" in ev[0].detail
    ev = detect_events(snap(1, 1, (1, 3), 0), snap(2, 1, (1, 2, 3), 0))
    assert [e.kind for e in ev] == [EventKind.ISR_EXPAND] and "broker 2 rejoined" in ev[0].detail


def test_leader_kill_gives_shrink_leader_and_epoch_change() -> None:
    got = kinds(snap(0, 1, (1, 2, 3), 4), snap(1, 2, (2, 3), 5))
    assert got == [EventKind.ISR_SHRINK, EventKind.LEADER_CHANGE, EventKind.EPOCH_CHANGE]


def test_offline_and_online() -> None:
    assert kinds(snap(0, 1, (1,), 0), snap(1, -1, (1,), None)) == [EventKind.OFFLINE]
    assert EventKind.ONLINE in kinds(snap(1, -1, (1,), None), snap(2, 2, (2,), 1))


def test_epoch_change_across_an_unknown_gap_uses_the_last_known_epoch() -> None:
    prev, cur = snap(0, 1, (1, 2), None), snap(1, 1, (1, 2), 3)
    assert kinds(prev, cur) == []
    assert kinds(prev, cur, {("t", 0): 2}) == [EventKind.EPOCH_CHANGE]


def test_hw_stall_measures_the_longest_flat_stretch() -> None:
    snaps = [snap(t, 1, (1, 2, 3), 0, hw) for t, hw in [(0, 10), (1, 20), (2, 20), (3, 20), (4.5, 20), (5, 90)]]
    assert hw_stall_s(snaps, "t", 0, 0, 10) == 4.0  # seen at 20 from 1 s until 90 was seen at 5 s
    # the last value before the window counts from the window's start (the HW only grows)
    assert hw_stall_s(snaps, "t", 0, 4.6, 10) == 0.4
    assert hw_stall_s(snaps, "t", 0, 1.5, 4) == 1.5  # 20 before 1.5 s, still 20 at 3 s (the last seen in it)
    assert hw_stall_s(snaps[:1], "t", 0, 0.5, 10) == 0.0  # nothing seen in the window


def test_behind_uses_the_leaders_leo() -> None:
    p = PartitionState("t", 0, 1, (1, 2, 3), (1, 3), 0, 100, {1: 150, 2: 90, 3: None})
    assert p.behind(2) == 60 and p.behind(3) is None and p.out_of_sync == (2,)


def test_jolokia_pattern_read_is_parsed_per_partition() -> None:
    payload = {"status": 200, "request": {"mbean": "kafka.log:name=LogEndOffset,partition=*,topic=x,type=Log"},
               "value": {"kafka.log:name=LogEndOffset,partition=0,topic=x,type=Log": {"Value": 50},
                         "kafka.log:name=LogEndOffset,partition=1,topic=x,type=Log": {"Value": 7},
                         "kafka.log:name=LogEndOffset,partition=0,topic=other,type=Log": {"Value": 9}}}
    assert jmx.parse_log_end_offsets(payload, "x") == {0: 50, 1: 7}


def test_jolokia_single_read_and_errors() -> None:
    single = {"status": 200, "request": {"mbean": "kafka.log:type=Log,name=LogEndOffset,topic=x,partition=3"},
              "value": {"Value": 12}}
    assert jmx.parse_log_end_offsets(single, "x") == {3: 12}
    assert jmx.parse_log_end_offsets({"status": 404, "error": "no such mbean"}, "x") == {}


def test_jolokia_unreachable_is_none() -> None:
    assert jmx.log_end_offsets("http://127.0.0.1:1/jolokia/", "x", timeout_s=0.2) is None


def test_segment_names() -> None:
    assert segments.parse_segment_name("00000000000000001234.log") == (1234, "log")
    assert segments.parse_segment_name("00000000000000000000.timeindex") == (0, "timeindex")
    assert segments.parse_segment_name("00000000000000000000.log.deleted") is None
    assert segments.parse_segment_name("leader-epoch-checkpoint") is None


def test_leader_epoch_checkpoint() -> None:
    assert segments.parse_leader_epoch_checkpoint("0\n3\n0 0\n2 50\n3 96\n") == [(0, 0), (2, 50), (3, 96)]
    with pytest.raises(ValueError):
        segments.parse_leader_epoch_checkpoint("garbage")


def test_latest_per_key() -> None:
    assert segments.latest_per_key([("a", "1"), ("b", "1"), ("a", "2")]) == {"a": "2", "b": "1"}


@pytest.mark.parametrize("kwargs", [
    {"in_sync_broker": 2, "lagging_broker": 2}, {"lagging_broker": 4}, {"messages_before": 0},
    {"topic_prefix": "bad name"},
])
def test_unclean_settings_refuse_bad_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        replication.UncleanSettings(**kwargs)  # type: ignore[arg-type]


def test_unclean_settings_pick_the_quorum_broker() -> None:
    assert replication.UncleanSettings(in_sync_broker=3, lagging_broker=1).quorum_broker == 2


@pytest.mark.parametrize("make", [
    lambda: replication_settings.MinIsrSettings(min_insync_replicas=4),
    lambda: replication_settings.MinIsrSettings(probe_messages=0),
    lambda: replication_settings.MonitorSettings(duration_s=0),
    lambda: replication_settings.HwLeoSettings(rate_per_s=0),
    lambda: load.BackgroundProducerSettings(acks="2"),
    lambda: replication_settings.StorageSettings(segment_bytes=10),
    lambda: replication_settings.StorageSettings(topic="same", compact_topic="same"),
])
def test_settings_refuse_bad_input(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as err:
        make()
    assert err.value.hint  # says what is allowed
