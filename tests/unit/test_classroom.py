"""Class sessions without a cluster: the class file and its teacher key (hashed, never stored), the key's
rate limit, who may change brokers or cancel, and the fair queue's order (round-robin between people, light
runs together, measured runs alone), also through the launcher."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.classroom import keyguard, queue, roles
from lab.classroom import session as classes
from lab.core.catalogue import Experiment
from lab.core.context import RunContext
from lab.core.errors import LabError, NotAllowed, SettingsError
from lab.runs import launcher
from lab.runs import store as runs
from tests.unit.test_launcher import CountResult, CountSettings, OfflineCluster, count, exp


@pytest.fixture
def klass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[classes.ClassSession, str]:
    monkeypatch.setenv("KAFKA_LAB_CLASS_FILE", str(tmp_path / "class.json"))
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(tmp_path / "runs.sqlite"))
    return classes.open_class("Tuesday")


def test_the_key_is_shown_once_and_only_its_salted_hash_is_kept(klass: tuple[classes.ClassSession, str]) -> None:
    session, key = klass
    text = classes.class_file().read_text()
    assert key not in text and session.key_hash in text and len(key) >= 20
    assert oct(classes.class_file().stat().st_mode & 0o777) == "0o600"
    again = classes.current()
    assert again is not None and again.key_matches(key) and not again.key_matches(key + "x")
    assert not again.key_matches("") and again.name == "Tuesday"
    with pytest.raises(LabError, match="already open"):
        classes.open_class("Wednesday")
    assert classes.end_class() is not None and classes.current() is None


def test_students_join_with_a_name_of_their_own(klass: tuple[classes.ClassSession, str]) -> None:
    classes.join("tok-a", "Ada")
    with pytest.raises(SettingsError, match="already called 'ada'"):
        classes.join("tok-b", "ada")
    for bad, why in (("", "empty"), ("x" * 41, "41 characters"), ("<b>", "control character")):
        with pytest.raises(SettingsError, match=why):
            classes.join("tok-b", bad)
    classes.join("tok-a", "Ada L.")  # a student may change their own name
    s = classes.current()
    assert s is not None and s.students == {"tok-a": "Ada L."}
    assert json.loads(classes.class_file().read_text())["students"] == {"tok-a": "Ada L."}


def test_a_few_wrong_keys_a_minute_then_a_wait(klass: tuple[classes.ClassSession, str]) -> None:
    session, key = klass
    guard = keyguard.KeyGuard(per_client=3, per_server=6, window_s=60)
    for _ in range(3):
        with pytest.raises(NotAllowed, match="not the teacher key"):
            guard.check(session, "browser-1", "guess")
    with pytest.raises(NotAllowed, match="Too many tries"):
        guard.check(session, "browser-1", key)  # even the right key waits: no oracle for a guesser
    guard.check(session, "browser-2", key)  # another browser, the right key
    for _ in range(2):
        with pytest.raises(NotAllowed, match="not the teacher key"):
            guard.check(session, "browser-3", "guess")
    with pytest.raises(NotAllowed, match="Too many tries"):  # the server's limit: many tabs are many browsers
        guard.check(session, "browser-4", "guess")


def test_students_may_not_change_brokers_or_cancel_others_runs(klass: tuple[classes.ClassSession, str]) -> None:
    session, _ = klass
    with pytest.raises(NotAllowed, match="only the teacher may stop a broker"):
        roles.may_change_brokers(session, roles.STUDENT, "app", "stop a broker")
    roles.may_change_brokers(session, roles.TEACHER, "app")
    roles.may_change_brokers(session, None, "cli")  # the server's own terminal
    roles.may_change_brokers(None, roles.STUDENT, "app")  # no class: as always
    with pytest.raises(NotAllowed, match="only by the one who started it"):
        roles.may_cancel(session, roles.STUDENT, "me", "someone-else")
    roles.may_cancel(session, roles.STUDENT, "me", "me")
    roles.may_cancel(session, roles.TEACHER, "me", "someone-else")


def test_a_student_cannot_launch_a_broker_changing_scenario(klass: tuple[classes.ClassSession, str],
                                                           tmp_path: Path) -> None:
    cluster = OfflineCluster(tmp_path / "state")
    with pytest.raises(NotAllowed, match="only the teacher"):
        launcher.launch(exp(count, changes_brokers=True), cluster, CountSettings(1), face="app", role="student")
    assert cluster.lock_holder() is None


def test_round_robin_between_people_light_runs_together() -> None:
    q = queue.RunQueue()
    a1, a2, a3 = (q.enter("ann", "Ann", "produce run", light=False) for _ in range(3))
    b1 = q.enter("bob", "Bob", "produce run", light=False)
    c1 = q.enter("cid", "Cid", "produce run", light=False)
    assert q.snapshot()[1] == [a1, b1, c1, a2, a3], "one each before anyone's second"
    assert q.place(c1).place == 3 and q.place(a3).place == 5
    assert q.wait_turn(a1, lambda: False, lambda p: None)
    assert q.place(b1).place == 1 and q.place(b1).wait_s > 0
    q.leave(a1)
    assert q.snapshot()[1] == [b1, c1, a2, a3]  # after Ann: Bob, Cid, then Ann again
    for t in (b1, c1, a2, a3):
        assert q.wait_turn(t, lambda: False, lambda p: None)
        q.leave(t)
    lights = [q.enter(f"s{i}", f"S{i}", "transactions", light=True) for i in range(queue.LIGHT_AT_ONCE + 1)]
    granted = [q.wait_turn(t, lambda: False, lambda p: None) for t in lights[:queue.LIGHT_AT_ONCE]]
    assert all(granted) and len(q.snapshot()[0]) == queue.LIGHT_AT_ONCE
    assert not q.wait_turn(lights[-1], lambda: True, lambda p: None), "the fifth waits (and may leave)"
    heavy = q.enter("t", "T", "produce run", light=False)
    waited: list[queue.Place] = []
    stop = threading.Event()
    got: list[bool] = []
    th = threading.Thread(target=lambda: got.append(q.wait_turn(heavy, stop.is_set, waited.append)))
    th.start()
    time.sleep(3 * queue.POLL_S)  # it waits while light runs hold the cluster (a measured run goes alone)
    assert not got and waited and waited[-1].running == queue.LIGHT_AT_ONCE
    for t in lights[:queue.LIGHT_AT_ONCE]:
        q.leave(t)
    th.join(5)
    assert got == [True]


def test_the_lock_file_keeps_another_process_out(tmp_path: Path) -> None:
    a, b = queue.RunQueue(tmp_path / "q.lock"), queue.RunQueue(tmp_path / "q.lock")  # as two processes would
    ta = a.enter("x", "X", "produce run", light=False)
    assert a.wait_turn(ta, lambda: False, lambda p: None)
    tb = b.enter("y", "Y", "produce run", light=False)
    deadline = time.monotonic() + 1.0
    assert not b.wait_turn(tb, lambda: time.monotonic() > deadline, lambda p: None)
    a.leave(ta)
    tb = b.enter("y", "Y", "produce run", light=False)
    assert b.wait_turn(tb, lambda: False, lambda p: None)
    b.leave(tb)


def test_in_a_class_runs_queue_and_remember_who_ran_them(klass: tuple[classes.ClassSession, str],
                                                        tmp_path: Path) -> None:
    session, _ = klass
    cluster = OfflineCluster(tmp_path / "state")
    first = launcher.launch(exp(count), cluster, CountSettings(20), face="app", owner="ann", who="Ann")
    second = launcher.launch(exp(count), cluster, CountSettings(2), face="app", owner="bob", who="Bob")
    deadline = time.monotonic() + 5
    while "queued: place 1" not in second.progress().message and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "queued: place 1 of 1 (1 running)" in second.progress().message
    third = launcher.launch(exp(count), cluster, CountSettings(2), face="app", owner="cid", who="Cid")
    with pytest.raises(NotAllowed, match="only by the one who started it"):  # Bob may not take Cid's place
        third.cancel_as("bob", roles.STUDENT)
    assert not third.ctx.cancelled
    third.cancel("left the queue")
    with pytest.raises(LabError, match="left the class's queue before its turn: left the queue"):
        third.wait()
    assert first.wait().counted == 20 and second.wait().counted == 2
    assert second.result is not None and second.result.run is not None
    assert second.result.run.elapsed_s < 1.0, "its elapsed time is the run's, not its wait"
    store = runs.open_store()
    assert store.class_runs(session.class_id) == {first.run_id: "Ann", second.run_id: "Bob", third.run_id: "Cid"}
    rec = store.get(third.run_id)
    assert rec is not None and rec.status == "cancelled"


@dataclass(frozen=True)
class TopicSettings:
    topic: str = "lab-one-topic"
    n: int = 20


def count_on_topic(cluster: object, settings: TopicSettings, ctx: RunContext) -> CountResult:
    return count(cluster, CountSettings(settings.n), ctx)


def topic_exp() -> Experiment[TopicSettings, CountResult]:
    return Experiment("test.topic", "topic run", TopicSettings, CountResult, count_on_topic,  # type: ignore[arg-type]
                      lambda s: 10.0, lambda r: str(r.counted), own_topic=True)


def test_two_runs_that_remake_one_topic_never_run_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_LAB_CLASS_FILE", str(tmp_path / "class.json"))
    monkeypatch.setenv("KAFKA_LAB_RUNS_DB", str(tmp_path / "runs.sqlite"))
    cluster = OfflineCluster(tmp_path / "state")
    first = launcher.launch(topic_exp(), cluster, TopicSettings(), face="test")
    with pytest.raises(SettingsError, match="'lab-one-topic' is in use by topic run"):
        launcher.launch(topic_exp(), cluster, TopicSettings(), face="test")
    other = launcher.launch(topic_exp(), cluster, TopicSettings("lab-another-topic", 2), face="test")
    assert other.wait().counted == 2 and first.wait().counted == 20
    classes.open_class("Friday")  # in a class the second waits for the first instead
    q = queue.RunQueue()
    a = q.enter("ann", "Ann", "transactions", light=True, topic="t")
    b = q.enter("bob", "Bob", "transactions", light=True, topic="t")
    c = q.enter("cid", "Cid", "transactions", light=True, topic="u")
    assert q.wait_turn(a, lambda: False, lambda p: None)
    assert not q.wait_turn(b, lambda: True, lambda p: None), "same topic: waits (here: leaves)"
    assert q.wait_turn(c, lambda: False, lambda p: None), "another topic: light runs go together"
