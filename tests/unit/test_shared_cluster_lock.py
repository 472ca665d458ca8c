"""The shared test cluster's bookkeeping (tests/shared_cluster.py), without a cluster: readers share,
a writer has it alone and is not starved by readers, the first user starts and the last stops, a turn
left half-way by a dead process is healed first. Two ``ClusterAccess`` objects on one directory behave
as two workers (each ``flock`` is on its own open file description)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.shared_cluster import ClusterAccess, _start_time


def test_shared_turns_overlap_and_an_exclusive_one_waits_for_them(tmp_path: Path) -> None:
    a, b, w = ClusterAccess(tmp_path), ClusterAccess(tmp_path), ClusterAccess(tmp_path)
    with a.hold(False), b.hold(False) as waited:
        assert waited < 0.5
        got: list[float] = []
        t = threading.Thread(target=lambda: got.append(_hold_once(w, True)))
        t.start()
        time.sleep(0.4)
        assert not got, "a writer got the cluster while readers held it"
    t.join(5)
    assert got and got[0] >= 0.3


def _hold_once(access: ClusterAccess, exclusive: bool, order: list[str] | None = None, name: str = "",
               hold_s: float = 0.0) -> float:
    with access.hold(exclusive) as waited:
        if order is not None:
            order.append(name)
        time.sleep(hold_s)
    return waited


def test_a_waiting_writer_goes_before_readers_that_come_after_it(tmp_path: Path) -> None:
    reader, writer, late = ClusterAccess(tmp_path), ClusterAccess(tmp_path), ClusterAccess(tmp_path)
    order: list[str] = []
    with reader.hold(False):
        tw = threading.Thread(target=_hold_once, args=(writer, True, order, "writer", 0.2))
        tw.start()
        time.sleep(0.3)  # the writer queues at the turnstile
        tl = threading.Thread(target=_hold_once, args=(late, False, order, "late reader"))
        tl.start()
        time.sleep(0.3)
        assert order == [], "nobody may start while the first reader holds the cluster and a writer waits"
    tw.join(5)
    tl.join(5)
    assert order == ["writer", "late reader"]


def test_turns_nest_in_one_process_but_alone_inside_shared_is_refused(tmp_path: Path) -> None:
    a = ClusterAccess(tmp_path)
    with a.hold(False), a.hold(False) as inner:
        assert inner == 0.0
        with pytest.raises(RuntimeError, match="inside a shared turn"), a.hold(True, "t"):
            pass
    with a.hold(True), a.hold(False):
        pass


def test_an_exclusive_turn_heals_after_itself_and_a_dead_holders_turn_is_healed_first(tmp_path: Path) -> None:
    a = ClusterAccess(tmp_path)
    healed: list[str] = []
    a.heal = lambda: healed.append("heal")
    with a.hold(True, "breaks"):
        assert json.loads(a.breaking.read_text())["what"] == "breaks"
    assert healed == ["heal"] and not a.breaking.exists()
    with a.hold(True, "only alone", breaks=False):
        assert not a.breaking.exists()
    assert healed == ["heal"], "a turn alone that breaks nothing heals nothing"
    a.breaking.write_text("{}")  # as a worker killed half-way through an exclusive turn leaves it
    with a.hold(False):
        assert healed == ["heal", "heal"] and not a.breaking.exists()


def test_a_failed_heal_leaves_the_marker_for_the_next_turn(tmp_path: Path) -> None:
    a = ClusterAccess(tmp_path)

    def broken() -> None:
        raise RuntimeError("brokers did not come back")

    a.heal = broken
    with pytest.raises(RuntimeError, match="did not come back"), a.hold(True):
        pass
    assert a.breaking.exists()


def test_first_user_starts_last_user_stops_and_dead_users_do_not_count(tmp_path: Path) -> None:
    a = ClusterAccess(tmp_path)
    calls: list[str] = []
    assert a.join(lambda: calls.append("start")) is True
    # another live process uses it too (stands in for the other worker)
    other = os.getppid()
    users = json.loads(a.users_file.read_text())
    users[str(other)] = _start_time(other)
    a.users_file.write_text(json.dumps(users))
    assert a.leave(lambda: calls.append("stop")) is False
    assert a.join(lambda: calls.append("start")) is False
    # the other one dies without leaving (a pid that is not running, or one reused by a newer process)
    users = json.loads(a.users_file.read_text())
    users[str(other)] = 1.0
    a.users_file.write_text(json.dumps(users))
    assert a.leave(lambda: calls.append("stop")) is True
    assert calls == ["start", "stop"]
