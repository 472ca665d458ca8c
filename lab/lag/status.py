"""Judging consumer lag over a window, and lag in seconds — pure functions on recorded samples.

Status per partition, after Burrow's evaluation rules (a window of the most recent samples, samples
closer than ``min_distance_s`` merged so a 5 s auto-commit does not shrink the window):

- ``OK``     lag within the allowed lag at some point of the window, or the consumer keeps up;
- ``WARN``   the committed offset moves, but lag grew between every pair of samples of the window, or at
             each of the (at least three) commits in the window;
- ``STALL``  the committed offset did not move through the window while lag stayed above zero (a member
             still owns the partition: it is alive but its commits do not advance);
- ``STOP``   no member owns the partition and nothing was committed for longer than the window spans,
             while lag is above zero;
- ``REWIND`` the committed offset went backwards inside the window;
- ``NO_COMMIT`` the group has never committed an offset for the partition (not "zero lag").

The group is ``ERR`` when any partition is STOP, STALL or REWIND, ``WARN`` when any is WARN (or when its
total lag grew in every sample of the window), else ``OK``.

Lag in seconds (as kafka-lag-exporter estimates it): from the history of (time, end offset) points,
the time at which the end offset was equal to the committed offset, interpolated linearly between the
two points around it; the lag is now minus that time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class PartitionStatus(StrEnum):
    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"
    NO_COMMIT = "NO_COMMIT"


class GroupStatus(StrEnum):
    OK = "OK"
    WARN = "WARN"
    ERR = "ERR"


#: Partition statuses that make the group ERR.
ERRORS = (PartitionStatus.STOP, PartitionStatus.STALL, PartitionStatus.REWIND)


@dataclass(frozen=True)
class Point:
    """One observation of one partition: when (seconds on the run's clock), where the log ends, where the
    group has committed (None: never)."""

    t_s: float
    end_offset: int
    committed: int | None
    #: the member that owned the partition then, or None (no member has it)
    owner: str | None = None

    @property
    def lag(self) -> int | None:
        return None if self.committed is None else max(0, self.end_offset - self.committed)


@dataclass(frozen=True)
class Verdict:
    status: PartitionStatus
    #: the reason in words, e.g. "lag grew in all 10 samples over 50 s"
    reason: str


def merge_close(points: Sequence[Point], min_distance_s: float) -> list[Point]:
    """Points at least ``min_distance_s`` apart (the first of each stretch kept), plus the newest point.

    At 1 Hz sampling of a group that auto-commits every 5 s, four of five samples repeat the committed
    offset; spacing the window's points by the commit interval keeps the window as long in time as it
    is meant to be.
    """
    kept: list[Point] = []
    for p in points:
        if not kept or p.t_s - kept[-1].t_s >= min_distance_s:
            kept.append(p)
    if points and kept[-1] is not points[-1]:
        kept.append(points[-1])
    return kept


def window(points: Sequence[Point], samples: int, min_distance_s: float) -> list[Point]:
    """The last ``samples`` points after merging close ones."""
    return merge_close(points, min_distance_s)[-samples:]


def evaluate(points: Sequence[Point], now_s: float, *, samples: int = 10, min_distance_s: float = 0.0,
             allowed_lag: int = 0) -> Verdict:
    """One partition's status over its window (see the module docstring)."""
    w = window(points, samples, min_distance_s)
    if not w:
        return Verdict(PartitionStatus.OK, "no samples yet")
    if all(p.committed is None for p in w):
        return Verdict(PartitionStatus.NO_COMMIT, "the group has not committed an offset for this partition")
    w = [p for p in w if p.committed is not None]
    last = w[-1]
    lags = [p.lag or 0 for p in w]
    span = w[-1].t_s - w[0].t_s
    committed = [p.committed or 0 for p in w]
    for a, b in zip(committed, committed[1:], strict=False):
        if b < a:
            return Verdict(PartitionStatus.REWIND, f"the committed offset went back from {a:,} to {b:,}")
    if min(lags) <= allowed_lag:
        return Verdict(PartitionStatus.OK, f"lag was within {allowed_lag:,} in the window (now {lags[-1]:,})"
                       if allowed_lag else f"the group caught up in the window (lag now {lags[-1]:,})")
    moved_at = _last_move(points)
    since_commit = now_s - (moved_at if moved_at is not None else points[0].t_s)
    if len(w) >= 2 and since_commit > span and span > 0 and last.owner is None:
        return Verdict(PartitionStatus.STOP, f"no member and no commit for {since_commit:.0f} s, longer than the "
                       f"window ({span:.0f} s), with lag {last.lag:,}")
    if len(w) < 2:
        return Verdict(PartitionStatus.OK, f"one sample so far (lag {last.lag:,})")
    if committed[0] == committed[-1]:
        who = f" although {last.owner} owns it" if last.owner else ""
        return Verdict(PartitionStatus.STALL, f"the committed offset stayed at {committed[-1]:,} for "
                       f"{since_commit:.0f} s{who}, while lag was {min(lags):,}..{max(lags):,}")
    if all(b > a for a, b in zip(lags, lags[1:], strict=False)):
        return Verdict(PartitionStatus.WARN, f"lag grew in all {len(w)} samples over {span:.0f} s "
                       f"({lags[0]:,} -> {lags[-1]:,})")
    commits = commit_points(points)  # those in the window, after the one in force when the window began
    first = next((i for i, c in enumerate(commits) if c.t_s >= w[0].t_s), len(commits))
    at_commits = commits[max(0, first - 1):][-samples:]
    commit_lags = [c.lag or 0 for c in at_commits]
    if len(at_commits) >= 3 and all(b > a for a, b in zip(commit_lags, commit_lags[1:], strict=False)):
        return Verdict(PartitionStatus.WARN, f"lag grew at each of the last {len(at_commits)} commits over "
                       f"{at_commits[-1].t_s - at_commits[0].t_s:.0f} s ({commit_lags[0]:,} -> {commit_lags[-1]:,})")
    return Verdict(PartitionStatus.OK, f"the group is consuming (lag {lags[0]:,} -> {lags[-1]:,} over {span:.0f} s)")


def commit_points(points: Sequence[Point]) -> list[Point]:
    """The first sample after each change of the committed offset: the lag as each commit left it. Burrow
    keeps one point per commit, and so sees a slow group's trend where periodic samples of a member that
    works through a big fetch for seconds between commits see its lag saw up and down."""
    out: list[Point] = []
    for p in points:
        if p.committed is not None and (not out or p.committed != out[-1].committed):
            out.append(p)
    return out


def _last_move(points: Sequence[Point]) -> float | None:
    """When the committed offset last changed (its first sample at the current value), or None."""
    known = [p for p in points if p.committed is not None]
    if not known:
        return None
    at = known[-1].t_s
    for p in reversed(known):
        if p.committed != known[-1].committed:
            break
        at = p.t_s
    return at


def total_trend(totals: Sequence[tuple[float, int]], *, samples: int = 10,
                min_distance_s: float = 0.0) -> Verdict | None:
    """WARN when the group's total lag grew between every pair of the window's samples, else None.

    One member reading several partitions drains them in bursts, so each partition's lag saws up and
    down while the total climbs steadily: the total shows the trend the partitions hide.
    """
    pts = merge_close([Point(t, lag, 0) for t, lag in totals], min_distance_s)[-samples:]
    lags = [p.end_offset for p in pts]
    if len(pts) >= 3 and all(b > a for a, b in zip(lags, lags[1:], strict=False)):
        return Verdict(PartitionStatus.WARN, f"the group's total lag grew in all {len(pts)} samples over "
                       f"{pts[-1].t_s - pts[0].t_s:.0f} s ({lags[0]:,} -> {lags[-1]:,})")
    return None


def group_status(verdicts: Sequence[Verdict]) -> GroupStatus:
    if any(v.status in ERRORS for v in verdicts):
        return GroupStatus.ERR
    if any(v.status is PartitionStatus.WARN for v in verdicts):
        return GroupStatus.WARN
    return GroupStatus.OK


@dataclass(frozen=True)
class TimeLag:
    """Lag in seconds; ``lower_bound`` when the committed offset is older than the whole history."""

    seconds: float | None
    lower_bound: bool = False


def time_lag(history: Sequence[tuple[float, int]], committed: int | None, now_s: float) -> TimeLag:
    """Seconds since the end offset was where the group has committed, from (t, end offset) points."""
    if committed is None or not history:
        return TimeLag(None)
    pts = sorted(history)
    if committed >= pts[-1][1]:
        return TimeLag(0.0)
    if committed < pts[0][1]:
        return TimeLag(now_s - pts[0][0], lower_bound=True)
    for (t0, o0), (t1, o1) in zip(pts, pts[1:], strict=False):
        if o0 <= committed <= o1:
            if o1 == o0:
                return TimeLag(max(0.0, now_s - t1))
            at = t0 + (committed - o0) / (o1 - o0) * (t1 - t0)
            return TimeLag(max(0.0, now_s - at))
    return TimeLag(max(0.0, now_s - pts[0][0]))  # single point equal to committed handled above
