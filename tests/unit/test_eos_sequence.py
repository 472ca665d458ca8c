"""Counting duplicates, gaps, lost records and order violations on crafted sequences (no Kafka)."""

from __future__ import annotations

import json

import pytest

from lab.core.errors import SettingsError
from lab.eos import eosstats, sequence
from lab.eos.duplicates import check_window
from lab.eos.settings import DuplicateSettings, check_idempotence


def test_a_clean_sequence_has_nothing_to_report() -> None:
    c = sequence.count([0, 1, 2, 3], acked=[0, 1, 2, 3])
    assert (c.records, c.distinct, c.duplicates, c.gaps, c.lost, c.order_violations) == (4, 4, 0, 0, 0, 0)


def test_a_retried_batch_appended_again_is_duplicates_and_one_order_violation() -> None:
    # batch 2-3 timed out, was retried, and both copies were appended: the copy lands behind 4-5
    c = sequence.count([0, 1, 2, 3, 4, 5, 2, 3, 6], acked=range(7))
    assert c.duplicates == 2 and c.duplicated == {2: 2, 3: 2} and c.duplicated_numbers == 2
    assert c.order_violations == 1 and c.gaps == 0 and c.lost == 0
    assert c.records - c.distinct == c.duplicates


def test_a_number_written_three_times_counts_two_duplicates() -> None:
    c = sequence.count([0, 1, 1, 1, 2])
    assert c.duplicates == 2 and c.duplicated == {1: 3} and c.order_violations == 0


def test_gaps_are_holes_below_the_highest_number_and_lost_is_acked_but_absent() -> None:
    c = sequence.count([0, 1, 4, 5], acked=[0, 1, 2, 4, 5, 6])
    assert c.gaps == 2 and c.gap_sample == (2, 3)
    assert c.lost == 2 and c.lost_sample == (2, 6)


def test_reordering_without_duplicates_is_an_order_violation_only() -> None:
    c = sequence.count([0, 2, 1, 3, 5, 4])
    assert (c.duplicates, c.gaps, c.order_violations) == (0, 0, 2)


def test_samples_are_bounded_but_counts_complete() -> None:
    seqs = list(range(100)) + list(range(100))
    c = sequence.count(seqs)
    assert c.duplicates == 100 and c.duplicated_numbers == 100 and len(c.duplicated) == sequence.SAMPLE_SIZE


def test_totals_add_partitions_up() -> None:
    t = sequence.totals([sequence.count([0, 0, 1], partition=0), sequence.count([0, 2], partition=1)])
    assert (t.records, t.distinct, t.duplicates, t.gaps) == (5, 4, 1, 1)


def test_encode_decode_round_trip_and_foreign_values() -> None:
    assert sequence.encode(17, 8) == b"17      "
    assert sequence.decode(sequence.encode(17, 8)) == 17
    assert sequence.decode(b"hello") is None and sequence.decode(None) is None


def test_eos_section_of_statistics() -> None:
    stats = {"eos": {"idemp_state": "Assigned", "txn_state": "Ready", "producer_id": 1004, "producer_epoch": 2},
             "brokers": {"a": {"req_timeouts": 3}, "b": {"req_timeouts": 1}}}
    assert eosstats.identity(stats) == eosstats.ProducerIdentity(1004, 2, "Assigned", "Ready")
    assert eosstats.identity({"brokers": {}}) is None
    assert eosstats.request_timeouts(stats) == 4
    trace = eosstats.ClientTrace()
    trace.on_stats(json.dumps(stats))
    assert trace.identity is not None and trace.identity.producer_epoch == 2 and trace.req_timeouts == 4


@pytest.mark.parametrize(("acks", "inflight", "retries", "word"),
                         [("1", 5, 10, "acks=all"), ("all", 6, 10, "at most 5"), ("all", 5, 0, "retries > 0")])
def test_settings_that_conflict_with_idempotence_say_which(acks: str, inflight: int, retries: int, word: str) -> None:
    with pytest.raises(SettingsError, match=word):
        check_idempotence(acks, inflight, retries)
    with pytest.raises(SettingsError, match=word):
        DuplicateSettings(idempotence="both", acks=acks, max_in_flight=inflight, retries=retries)
    DuplicateSettings(idempotence="off", acks=acks, max_in_flight=inflight, retries=retries)  # fine without it


def test_the_pause_must_outlast_the_socket_timeout_and_stay_under_the_session_timeout() -> None:
    with pytest.raises(SettingsError, match="does not outlast socket.timeout.ms"):
        DuplicateSettings(pause_ms=900, socket_timeout_ms=1000)
    s = DuplicateSettings(pause_ms=3500)
    check_window(s, 6000)
    with pytest.raises(SettingsError, match="broker.session.timeout.ms=4000"):
        check_window(s, 4000)
