"""Rebalance arithmetic on recorded callback timelines (hand-written from what librdkafka's callbacks said
in the lab's own runs): eager revokes everything, cooperative only what moves."""

from __future__ import annotations

from lab.consumer.groups import generation_of
from lab.consumer.pauses import CallbackEvent, empty_seconds, moved, owned_by, owners_at, revoked_count, unowned_seconds

A0, A1, A2, B0 = "a[0]", "a[1]", "a[2]", "b[0]"
ALL = (A0, A1, A2, B0)

#: eager (range): two members, a third joins at t=10; everyone revokes at 10.0-10.1, assigns at 10.5-10.6
EAGER = [
    CallbackEvent(0.0, "m0", "assign", (A0, A1), 1), CallbackEvent(0.0, "m1", "assign", (A2, B0), 1),
    CallbackEvent(10.0, "m0", "revoke", (A0, A1), 1), CallbackEvent(10.1, "m1", "revoke", (A2, B0), 1),
    CallbackEvent(10.5, "m2", "assign", (B0,), 2), CallbackEvent(10.5, "m0", "assign", (A0,), 2),
    CallbackEvent(10.6, "m1", "assign", (A1, A2), 2),
]
#: cooperative: m0 gives up A1 at 10.0 (first round), m2 gets it at 11.0 (second round); the rest stay
COOP = [
    CallbackEvent(0.0, "m0", "assign", (A0, A1), 1), CallbackEvent(0.0, "m1", "assign", (A2, B0), 1),
    CallbackEvent(10.0, "m0", "revoke", (A1,), 1), CallbackEvent(10.2, "m2", "assign", (), 2),
    CallbackEvent(10.2, "m1", "assign", (), 2), CallbackEvent(11.0, "m2", "assign", (A1,), 3),
]


def test_owned_and_owners() -> None:
    assert owned_by(EAGER, 5.0) == {"m0": {A0, A1}, "m1": {A2, B0}}
    assert owned_by(EAGER, 10.2) == {"m0": frozenset(), "m1": frozenset()}
    assert owners_at(EAGER, 11.0) == {A0: ("m0",), A1: ("m1",), A2: ("m1",), B0: ("m2",)}
    assert owned_by(COOP, 10.5)["m0"] == {A0}


def test_unowned_time_eager_stops_every_partition() -> None:
    un = unowned_seconds(EAGER, ALL, 9.0, 12.0)
    assert un == {A0: 0.5, A1: 0.6, A2: 0.5, B0: 0.4}


def test_unowned_time_cooperative_only_the_moved_partition() -> None:
    un = unowned_seconds(COOP, ALL, 9.0, 12.0)
    assert un == {A0: 0.0, A1: 1.0, A2: 0.0, B0: 0.0}


def test_member_empty_time() -> None:
    assert empty_seconds(EAGER, "m0", 9.0, 12.0) == 0.5
    assert empty_seconds(EAGER, "m1", 9.0, 12.0) == 0.5
    # the joiner owns nothing from its join (10.0) to its first partitions (10.5)
    assert empty_seconds(EAGER, "m2", 9.0, 12.0, present=(10.0, None)) == 0.5
    assert empty_seconds(COOP, "m0", 9.0, 12.0) == 0.0 and empty_seconds(COOP, "m1", 9.0, 12.0) == 0.0
    assert empty_seconds(COOP, "m2", 9.0, 12.0, present=(10.0, None)) == 1.0
    # a member that left before the window is not counted
    assert empty_seconds(COOP, "m9", 9.0, 12.0, present=(0.0, 5.0)) == 0.0


def test_moved_and_revoked() -> None:
    before, after = owned_by(EAGER, 9.0), owned_by(EAGER, 12.0)
    assert moved(before, after) == {A1, B0}
    assert revoked_count(EAGER, 9.0, 12.0) == 4  # eager: all four, though two did not move
    assert revoked_count(COOP, 9.0, 12.0) == 1
    assert moved(owned_by(COOP, 9.0), owned_by(COOP, 12.0)) == {A1}


def test_generation_from_librdkafka_group_metadata() -> None:
    # as Consumer.consumer_group_metadata() returned it in a run: magic, int32 generation, group, member
    raw = b"CGMDv2:\x03\x00\x00\x00g1\x00rdkafka-b784391a\x00\x01"
    assert generation_of(raw) == 3
    assert generation_of(b"other") is None and generation_of(None) is None
