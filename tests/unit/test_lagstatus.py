"""The lag status rules, the window merging and the time-lag interpolation on crafted samples."""

from __future__ import annotations

import pytest

from lab.lag.status import (
    ERRORS,
    GroupStatus,
    PartitionStatus,
    Point,
    Verdict,
    evaluate,
    group_status,
    merge_close,
    time_lag,
)


def pts(*rows: tuple[float, int, int | None]) -> list[Point]:
    return [Point(t, end, c) for t, end, c in rows]


def test_caught_up_is_ok() -> None:
    v = evaluate(pts((0, 100, 90), (1, 110, 110), (2, 120, 115)), 2)
    assert v.status is PartitionStatus.OK and "caught up" in v.reason


def test_allowed_lag_counts_as_caught_up() -> None:
    p = pts((0, 100, 50), (1, 200, 120), (2, 300, 190))  # lag 50, 80, 110
    assert evaluate(p, 2).status is PartitionStatus.WARN
    assert evaluate(p, 2, allowed_lag=50).status is PartitionStatus.OK


def test_lag_growing_in_every_sample_warns_with_the_count() -> None:
    v = evaluate(pts(*[(t * 5, 1000 + 100 * t, 900 + 50 * t) for t in range(10)]), 45)
    assert v.status is PartitionStatus.WARN
    assert v.reason.startswith("lag grew in all 10 samples over 45 s")


def test_lag_that_shrinks_once_is_not_a_warning() -> None:
    v = evaluate(pts((0, 100, 50), (1, 200, 120), (2, 300, 260), (3, 400, 300)), 3)
    assert v.status is PartitionStatus.OK


def test_committed_offset_standing_still_with_lag_is_a_stall() -> None:
    v = evaluate(pts((0, 100, 50), (1, 150, 50), (2, 200, 50)), 2)
    assert v.status is PartitionStatus.STALL and "stayed at 50" in v.reason


def test_no_commit_for_longer_than_the_window_is_stop() -> None:
    # commits moved until t=4, then nothing: at t=20 the last commit is 16 s old, the window spans 4 s
    p = pts((0, 100, 10), (2, 100, 20), (4, 100, 30))
    v = evaluate(p, 20)
    assert v.status is PartitionStatus.STOP and "no commit for 16 s" in v.reason


def test_committed_offset_going_back_is_rewind() -> None:
    v = evaluate(pts((0, 100, 80), (1, 110, 90), (2, 120, 40)), 2)
    assert v.status is PartitionStatus.REWIND and "from 90 to 40" in v.reason


def test_never_committed_is_not_zero_lag() -> None:
    v = evaluate(pts((0, 100, None), (1, 120, None)), 1)
    assert v.status is PartitionStatus.NO_COMMIT
    assert Point(0, 100, None).lag is None


def test_window_takes_the_last_samples() -> None:
    # a stall long ago, then healthy consuming: only the last 3 samples count
    p = pts((0, 100, 10), (1, 110, 10), (2, 120, 10), (3, 130, 60), (4, 140, 100), (5, 150, 150))
    assert evaluate(p, 5, samples=3).status is PartitionStatus.OK
    assert evaluate(p[:3], 2, samples=3).status is PartitionStatus.STALL


def test_close_samples_merge_so_auto_commit_does_not_look_like_a_stall() -> None:
    # 1 Hz samples of a group that commits every 5 s: without merging, 3 samples see one committed offset
    p = pts(*[(t, 1000 + 10 * t, 995 + 50 * (t // 5)) for t in range(14)])
    assert evaluate(p, 13, samples=3).status in ERRORS  # "stopped" or "stalled": a healthy group looks broken
    merged = merge_close(p, 5.0)
    assert [x.t_s for x in merged] == [0, 5, 10, 13]
    assert evaluate(p, 13, samples=3, min_distance_s=5.0).status is PartitionStatus.OK


def test_merge_keeps_the_newest_point() -> None:
    assert [x.t_s for x in merge_close(pts((0, 1, 0), (1, 2, 1), (2, 3, 2)), 5.0)] == [0, 2]
    assert merge_close([], 5.0) == []


def test_group_status() -> None:
    ok, warn, stall = (Verdict(PartitionStatus.OK, ""), Verdict(PartitionStatus.WARN, ""),
                       Verdict(PartitionStatus.STALL, ""))
    assert group_status([ok, ok]) is GroupStatus.OK
    assert group_status([ok, warn]) is GroupStatus.WARN
    assert group_status([warn, stall]) is GroupStatus.ERR
    assert group_status([Verdict(PartitionStatus.NO_COMMIT, "")]) is GroupStatus.OK


def test_time_lag_interpolates_between_the_points_around_the_commit() -> None:
    history = [(0.0, 0), (10.0, 1000), (20.0, 2000)]
    assert time_lag(history, 1500, 20.0).seconds == pytest.approx(5.0)
    assert time_lag(history, 1000, 25.0).seconds == pytest.approx(15.0)
    assert time_lag(history, 2000, 25.0).seconds == 0.0  # caught up with the newest end offset


def test_time_lag_with_few_points_or_an_old_commit() -> None:
    assert time_lag([], 10, 5.0).seconds is None
    assert time_lag([(0.0, 100)], None, 5.0).seconds is None
    assert time_lag([(0.0, 100)], 100, 5.0).seconds == 0.0
    old = time_lag([(3.0, 100), (4.0, 200)], 50, 10.0)
    assert old.lower_bound and old.seconds == pytest.approx(7.0)
    flat = time_lag([(0.0, 100), (5.0, 100), (9.0, 200)], 100, 10.0)
    assert flat.seconds == pytest.approx(5.0)  # the end offset stood at 100 until t=5


def test_a_member_that_owns_the_partition_but_never_commits_is_a_stall_not_a_stop() -> None:
    owned = [Point(float(t), 100 + 10 * t, 50, "m1@host") for t in range(8)]
    gone = [Point(float(t), 100 + 10 * t, 50, None) for t in range(8)]
    # the committed offset last moved before the window: without a member that is STOP, with one STALL
    v = evaluate(owned, 7, samples=3)
    assert v.status is PartitionStatus.STALL and "m1@host owns it" in v.reason
    assert evaluate(gone, 7, samples=3).status is PartitionStatus.STOP


def test_the_total_shows_the_trend_that_bursty_partitions_hide() -> None:
    from lab.lag.status import total_trend

    totals = [(float(t), 100 + 30 * t) for t in range(6)]
    w = total_trend(totals, samples=5)
    assert w is not None and w.status is PartitionStatus.WARN and "grew in all 5 samples over 4 s" in w.reason
    assert total_trend([(0.0, 100), (1.0, 130), (2.0, 120), (3.0, 150)], samples=4) is None
    assert total_trend([(0.0, 1), (1.0, 2)]) is None  # too few samples to call a trend


#: partition 0 of a recorded "slow" phase (`kafka-lab lag scenario --phases slow --phase 12 --json`): one
#: member at 10 ms a record against 50 records/s per partition works through a big fetch for seconds between
#: commits, so the lag it leaves at each commit grows (15, 37, 210) while the samples saw up and down
SLOW_PHASE = [(1.0, 59, None), (2.1, 112, 97), (3.0, 160, 97), (4.0, 207, 97), (5.0, 258, 221), (6.0, 313, 221),
              (7.0, 359, 221), (8.0, 406, 221), (9.0, 454, 221), (10.0, 503, 221), (11.0, 556, 346)]


def test_a_group_falling_behind_between_bursty_commits_warns_from_the_commits() -> None:
    v = evaluate(pts(*SLOW_PHASE), 11.0, samples=5, min_distance_s=2.0)
    assert v.status is PartitionStatus.WARN, v
    assert v.reason == "lag grew at each of the last 3 commits over 9 s (15 -> 210)"
    # (the periodic samples alone saw lag 63, 37, 138, 233, 210: no trend) and a last commit that leaves less
    # lag than the one before is no warning
    assert evaluate(pts(*SLOW_PHASE[:-1], (11.0, 556, 530)), 11.0, samples=5, min_distance_s=2.0).status \
        is PartitionStatus.OK


def test_a_keeping_up_group_whose_lag_at_commits_goes_up_and_down_is_ok() -> None:
    rows = [(float(t), 100 * (t + 1), 100 * (t + 1) - lag) for t, lag in enumerate((30, 50, 20, 60, 40, 45))]
    assert evaluate(pts(*rows), 5.0, samples=10).status is PartitionStatus.OK
