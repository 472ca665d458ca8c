"""The lessons' catalogue and answers, on hand-made results of the real types (no Kafka): each answer quotes
its result's own figures, says "not shown" when the effect is absent, and judges the prediction."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
from lesson_results import (
    CODECS,
    codec_sweep,
    hw_leo,
    lag_demo,
    min_isr,
    share_compare,
    static,
    strategies,
    transactions,
)

from lab import lessons, registry
from lab.core.errors import SettingsError
from lab.core.verdict import Doubt
from lab.export.links import params_to_settings
from lab.lessons.base import NOT_SHOWN


def test_every_phase_has_a_lesson_and_ids_are_unique() -> None:
    assert {x.phase for x in lessons.LESSONS.values()} == {1, 2, 3, 4, 5, 6, 7}
    assert [x.phase for x in lessons.LESSONS.values()] == sorted(x.phase for x in lessons.LESSONS.values())


@pytest.mark.parametrize("lesson", list(lessons.LESSONS.values()), ids=list(lessons.LESSONS))
def test_lesson_names_a_registered_experiment_and_its_settings(lesson: lessons.Lesson) -> None:
    exp = registry.get(lesson.experiment)
    assert isinstance(lesson.settings, exp.settings_type)
    assert lesson.changes_brokers == exp.changes_brokers
    assert exp.time_limit(lesson.settings) > 0
    assert len({c.key for c in lesson.choices}) == len(lesson.choices) >= 2
    assert lesson.try_next


@pytest.mark.parametrize("lesson", list(lessons.LESSONS.values()), ids=list(lessons.LESSONS))
def test_try_next_links_change_one_knob_of_the_preset(lesson: lessons.Lesson) -> None:
    page = registry.get(lesson.experiment).page
    assert page is not None
    own = parse_qs(urlsplit(lesson.link()).query)
    for t, link in lesson.try_next_links():
        assert link.startswith(f"/{page}")
        params = parse_qs(urlsplit(link).query)
        changed = {k for k in own.keys() | params.keys() if own.get(k) != params.get(k)}
        assert len(changed) == 1, (t.label, own, params)
        settings, notes = params_to_settings(page, {k: v if len(v) > 1 else v[0] for k, v in params.items()})
        assert notes == []
        assert type(settings) is type(t.settings)


def test_unknown_lesson_and_choice_say_what_is_allowed() -> None:
    with pytest.raises(SettingsError) as e:
        lessons.get("codecs")
    assert "codec-latency" in (e.value.hint or "") and "lag-recovery" in (e.value.hint or "")
    with pytest.raises(SettingsError) as e:
        lessons.get("min-isr-rf3").answer(min_isr(), "maybe")
    assert "one-down-ok" in (e.value.hint or "")


def test_an_answer_refuses_another_experiments_result() -> None:
    with pytest.raises(SettingsError, match="MinIsrResult"):
        lessons.get("min-isr-rf3").answer(lag_demo())


# --- phase 1 and 2: min.insync.replicas ---------------------------------------------------------------
def test_three_brokers_answer_quotes_the_probes() -> None:
    a = lessons.get("min-isr-rf3").answer(min_isr(), "one-down-ok")
    assert a.shown and a.outcome == "one-down-ok" and a.held is True
    text = " ".join(a.sentences)
    assert "brokers 2 and 3 stopped (ISR 1), acks=all wrote 0/20 (NOT_ENOUGH_REPLICAS ×20)" in text
    assert "broker 2 stopped (ISR 1, 3), acks=all wrote 20/20" in text
    assert a.values["two_down.acks_all_acked"] == 0 and a.values["one_down.acks_all_acked"] == 20
    assert a.values["two_down.acks_1_acked"] == 20 and a.run_id == "20261206T160000-min1sr"


def test_three_brokers_prediction_that_did_not_hold() -> None:
    a = lessons.get("min-isr-rf3").answer(min_isr(), "one-down-refused")
    assert a.held is False and any("did not hold" in s for s in a.sentences)


def test_three_brokers_not_shown_when_writes_are_half_refused_or_the_run_stopped() -> None:
    lesson = lessons.get("min-isr-rf3")
    a = lesson.answer(min_isr(two_down_all=7), "one-down-ok")
    assert not a.shown and a.held is None and a.outcome is None
    assert any(s.startswith(NOT_SHOWN) and "7/20 with two down" in s for s in a.sentences)
    stopped = lesson.answer(dataclasses.replace(min_isr(), stopped="cancelled by the user"))
    assert not stopped.shown and "cancelled by the user" in stopped.doubts[0]
    other = lesson.answer(min_isr(min_insync=1, two_down_all=20))
    assert not other.shown and "min.insync.replicas=1" in " ".join(other.doubts)


def test_min_isr_one_answer_and_not_shown() -> None:
    lesson = lessons.get("min-isr-1-vs-2")
    a = lesson.answer(min_isr(min_insync=1, two_down_all=20), "1-available")
    assert a.shown and a.held is True
    assert "Those 20 acks=all writes with two brokers down were acknowledged by an ISR of 1" in " ".join(a.sentences)
    assert a.values["min_insync_replicas"] == 1 and a.values["two_down.isr"] == 1
    absent = lesson.answer(min_isr(min_insync=1, two_down_all=4), "1-available")
    assert not absent.shown and absent.held is None and "4/20 with two down" in " ".join(absent.doubts)


# --- phase 3: read_committed ---------------------------------------------------------------------------
def test_read_committed_answer_quotes_the_counts() -> None:
    a = lessons.get("read-committed").answer(transactions(), "committed-only")
    assert a.shown and a.held is True
    text = " ".join(a.sentences)
    assert "read_committed read 36 records, 0 of them from aborted transactions" in text
    assert "read_uncommitted read 54, 18 from aborted ones" in text
    assert "high watermark at 23 and its last stable offset at 20" in text
    assert a.values["read_uncommitted.aborted_seen"] == 18 and a.values["held.lso"] == 20


def test_read_committed_not_shown_without_aborts() -> None:
    a = lessons.get("read-committed").answer(transactions(ru_aborted=0, aborted=0), "committed-only")
    assert not a.shown and "no transaction was aborted" in " ".join(a.doubts)


# --- phase 4: codecs -----------------------------------------------------------------------------------
def test_codec_latency_answer_quotes_each_codecs_latency() -> None:
    a = lessons.get("codec-latency").answer(codec_sweep(), "lz4")
    assert a.shown and a.outcome == "lz4" and a.held is True
    text = " ".join(a.sentences)
    assert "lz4 0.80 ms / 2.4 ms" in text and "gzip 2.3 ms / 6.8 ms" in text  # p50 = p99 / 3 in these runs
    assert "gzip 19,500 msg/s" in text
    assert a.values["zstd.p99_ms"] == CODECS["zstd"][2] and a.values["lz4.msgs_per_s"] == 48_000


def test_codec_latency_not_shown_within_noise_or_with_a_doubt() -> None:
    lesson = lessons.get("codec-latency")
    close = dict(CODECS, zstd=(41_000.0, 3.62, 2.5))
    a = lesson.answer(codec_sweep(close), "zstd")
    assert not a.shown and a.held is None and "within 10%" in " ".join(a.doubts)
    doubted = lesson.answer(codec_sweep(doubt=Doubt("too-short", "measured over 0.9 s")))
    assert not doubted.shown and "lz4 at the fixed rate: measured over 0.9 s" in doubted.doubts
    assert not lesson.answer(codec_sweep(fixed=False)).shown


def test_codec_bandwidth_answer_and_a_payload_that_does_not_compress() -> None:
    lesson = lessons.get("codec-bandwidth")
    a = lesson.answer(codec_sweep(), "gzip")
    assert a.shown and a.outcome == "zstd" and a.held is False
    assert "zstd shrank the data most: 3.62x against gzip's 3.41x" in " ".join(a.sentences)
    assert a.values["zstd.ratio"] == 3.62
    random = {c: (tp, 1.01, p99) for c, (tp, _, p99) in CODECS.items()}
    b = lesson.answer(codec_sweep(random), "zstd")
    assert not b.shown and "hardly compresses" in " ".join(b.doubts)


# --- phase 5: cooperative rebalancing ------------------------------------------------------------------
def test_cooperative_answer_counts_member_stops_and_revocations() -> None:
    a = lessons.get("cooperative-rebalance").answer(strategies(), "fewer-stop")
    assert a.shown and a.held is True
    text = " ".join(a.sentences)
    assert "range stopped members 7 times and revoked 16 partitions" in text
    assert "cooperative-sticky stopped members 2 times and revoked 5" in text
    assert a.values["range.member_stops"] == 7 and a.values["cooperative-sticky.revoked"] == 5
    # its join took longer in all (1.70 s vs 0.83 s): "faster" does not hold
    faster = lessons.get("cooperative-rebalance").answer(strategies(), "faster")
    assert faster.held is False and "not faster" in text


def test_cooperative_not_shown_when_the_measures_disagree() -> None:
    # as many member stops as range (7), yet fewer partitions revoked: no clean answer
    a = lessons.get("cooperative-rebalance").answer(strategies(coop_join=(4, 2, 0.4), coop_leave=(3, 3, 0.3)),
                                                    "fewer-stop")
    assert not a.shown and a.held is None and "revoked 5 vs 16 but stopped members 7 vs 7 times" in a.doubts[0]
    b = lessons.get("cooperative-rebalance").answer(strategies(coop_join=(4, 8, 0.4), coop_leave=(3, 8, 0.3)))
    assert b.outcome == "no-difference"


# --- phase 6: lag --------------------------------------------------------------------------------------
def test_lag_answer_quotes_growth_and_drain() -> None:
    a = lessons.get("lag-recovery").answer(lag_demo(), "grows-then-drains")
    assert a.shown and a.held is True
    text = " ".join(a.sentences)
    assert "slow: 1 member, lag 0 → 1,150 records" in text and "fell by 1,110 once 4 members" in text
    assert a.values["slow.lag_end"] == 1150 and a.values["member_capacity"] == 100


def test_lag_not_shown_when_it_did_not_grow() -> None:
    a = lessons.get("lag-recovery").answer(lag_demo(slow=(0, 150), out=(150, 20)), "grows-then-drains")
    assert not a.shown and a.held is None and "grew by only 150 records" in " ".join(a.doubts)


# --- phase 2: the high watermark -----------------------------------------------------------------------
def test_hw_stall_answer_quotes_the_stall_and_the_isr_exit() -> None:
    a = lessons.get("hw-stall").answer(hw_leo(), "stalls-then-jumps")
    assert a.shown and a.held is True
    text = " ".join(a.sentences)
    assert "stood still for 5.4 s; the paused follower left the ISR 5.2 s after the pause" in text
    assert "(replica.lag.time.max.ms=5000)" in text and "up to 1,030 messages behind" in text
    assert a.values["hw_stalled_s"] == 5.4 and a.values["rejoined_after_s"] == 1.7


def test_hw_stall_other_outcomes_and_not_shown() -> None:
    lesson = lessons.get("hw-stall")
    assert lesson.answer(hw_leo(stalled_s=0.4), "stalls-then-jumps").held is False
    assert lesson.answer(hw_leo(stalled_s=12.0)).outcome == "stops-for-good"
    absent = lesson.answer(hw_leo(stalled_s=None, left_after_s=None), "stalls-then-jumps")
    assert not absent.shown and absent.held is None and "before the follower left the ISR" in absent.doubts[0]


# --- phase 5: static membership ------------------------------------------------------------------------
def test_static_answer_counts_the_others_callbacks() -> None:
    a = lessons.get("static-membership").answer(static(), "static-no-rebalance")
    assert a.shown and a.held is True
    text = " ".join(a.sentences)
    assert "static, back in time: member-2 closed and came back after 2.1 s; the other members got 0 rebalance " \
           "callbacks, generation 3 → 3, the same partitions back" in text
    assert "dynamic: member-2 closed and came back after 2.1 s; the other members got 8 rebalance callbacks, " \
           "generation 2 → 4" in text
    assert a.values["dynamic.others_callbacks"] == 8 and a.values["static.generation_change"] == 0


def test_static_that_rebalanced_is_not_the_textbook_answer() -> None:
    a = lessons.get("static-membership").answer(static(static_callbacks=4, static_gen=(3, 5)), "static-no-rebalance")
    assert a.shown and a.outcome == "both-rebalance" and a.held is False


def test_share_queue_lesson_reads_both_groups_and_calls_a_draw_a_draw() -> None:
    lesson = lessons.get("share-queue")
    a = lesson.answer(share_compare(), "share-faster")
    assert a.shown and a.held and a.outcome == "share-faster"
    v = a.values
    assert v["share.idle"] == 0 and v["group.idle"] == 4 and v["speedup"] > 1.3
    assert v["share.out_of_order"] > 0 and v["group.out_of_order"] == 0
    assert any("6 of 6 members busy" in s for s in a.sentences) and any("2 of 6" in s for s in a.sentences)
    near = lesson.answer(share_compare(share_per_s=80.0), "share-faster")
    assert not near.shown and near.held is None and any("within 1.3" in d for d in near.doubts)
    cut = lesson.answer(share_compare(complete=False))
    assert not cut.shown and "did not get through" in cut.doubts[0]
