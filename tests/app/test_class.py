"""A class in the app, AppTest against the real cluster: the teacher starts it from the sidebar and sees the
key once; a student joins with a name, finds the broker buttons off and a broker-changing scenario refused,
cannot guess the key (a few tries, then a wait); the teacher sends everyone to a lesson and a follower's page
goes there; the key is nowhere in the address bar, the class file or the run store."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.classroom import keyguard
from lab.classroom import session as classes
from lab.cluster import LocalCluster

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def class_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "class.json"
    monkeypatch.setenv("KAFKA_LAB_CLASS_FILE", str(path))
    monkeypatch.setattr(keyguard, "GUARD", keyguard.KeyGuard())  # this test's tries only
    return path


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def sidebar_text(at: AppTest) -> str:
    return "\n".join(m.value for m in (*at.sidebar.markdown, *at.sidebar.caption, *at.sidebar.success))


def start_class(at: AppTest) -> str:
    at.sidebar.text_input(key="class_title_input").input("Tuesday").run()
    at.sidebar.button(key="class_start_btn").click().run()
    assert not at.exception, at.exception
    (code,) = [c.value for c in at.sidebar.code]
    return str(code)


def join(at: AppTest, name: str) -> None:
    at.sidebar.text_input(key="class_name_input").input(name)  # in its form: sent with the click
    at.sidebar.button(key="class_join_btn").click().run()
    assert not at.exception, at.exception


def test_teacher_starts_a_class_and_a_student_may_not_break_brokers(app_env: LocalCluster, class_file: Path,
                                                                     runs_db: Path) -> None:
    teacher = open_page("cluster")
    key = start_class(teacher)
    assert "You are the **teacher**" in sidebar_text(teacher)
    assert key not in class_file.read_text() and classes.current() is not None
    teacher.run()
    assert key not in [c.value for c in teacher.sidebar.code], "the key is shown once"

    student = open_page("cluster")
    join(student, "Ada")
    assert "You are **Ada**" in sidebar_text(student)
    assert classes.current().students and "Ada" in classes.current().students.values()  # type: ignore[union-attr]
    stops = [b for b in student.button if b.key and b.key.startswith("cluster_stop_")]
    assert stops and all(b.disabled for b in stops), "the broker buttons are the teacher's"
    assert not [b for b in teacher.button if b.key and b.key.startswith("cluster_stop_") and b.disabled]

    repl = open_page("replication")
    join(repl, "Bea")
    repl.radio(key="repl_kind").set_value("replication.min-isr").run()
    repl.button(key="repl_run_btn").click().run()
    assert any("only the teacher may run the min.insync.replicas scenario" in e.value for e in repl.error), \
        [e.value for e in repl.error]
    assert app_env.lock_holder() is None, "refused before anything was touched"

    for at in (teacher, student, repl):
        assert all(key not in str(v) for v in at.query_params.values())
    assert not runs_db.exists() or key.encode() not in runs_db.read_bytes()


def test_the_key_cannot_be_guessed_fast(app_env: LocalCluster, class_file: Path) -> None:
    _, key = classes.open_class("Wednesday")
    at = open_page("cluster")
    for _ in range(keyguard.TRIES_PER_CLIENT):
        at.sidebar.text_input(key="class_key_input").input("guess")
        at.sidebar.button(key="class_teacher_btn").click().run()
        assert any("not the teacher key" in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    at.sidebar.text_input(key="class_key_input").input(key)
    at.sidebar.button(key="class_teacher_btn").click().run()
    assert any("Too many tries" in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert "teacher" not in sidebar_text(at).lower() or "You are the **teacher**" not in sidebar_text(at)
    # another browser, the right key (AppTest sessions share one session id, so the guard is reset as a second
    # browser would find it; the per-browser and per-server limits are unit-tested)
    keyguard.GUARD = keyguard.KeyGuard()
    other = open_page("cluster")
    other.sidebar.text_input(key="class_key_input").input(key)
    other.sidebar.button(key="class_teacher_btn").click().run()
    assert "You are the **teacher**" in sidebar_text(other)


def test_everyone_to_a_lesson_moves_the_followers(app_env: LocalCluster, class_file: Path) -> None:
    _, key = classes.open_class("Thursday")
    follower = open_page("cluster")
    join(follower, "Cid")
    follower.sidebar.checkbox(key="class_follow").check().run()
    teacher = open_page("producer")
    teacher.sidebar.text_input(key="class_key_input").input(key)
    teacher.sidebar.button(key="class_teacher_btn").click().run()
    teacher.sidebar.button(key="class_everyone_btn").click().run()
    assert not teacher.exception, teacher.exception
    klass = classes.current()
    assert klass is not None and klass.lesson == "codec-latency" and klass.lesson_seq == 1
    follower.run()
    assert not follower.exception, follower.exception
    assert follower.session_state["lesson_producer_pick"] == "codec-latency"
    assert [t.value for t in follower.title] == ["Producer tuning"]


def test_the_board_draws_the_class_runs_and_the_teacher_hides_one(app_env: LocalCluster, class_file: Path) -> None:
    from lab.runs.store import RunRecord, open_store
    from tests.unit import sample_runs

    klass, key = classes.open_class("Friday")
    store = open_store()
    ids = [f"20261206T11000{i}-bbbbb{i}" for i in range(3)]
    for i, run_id in enumerate(ids):
        store.save(RunRecord.of(sample_runs.produce(run_id, linger_ms=5.0 * i)))
        store.set_person(run_id, klass.class_id, f"student {i}")
    at = open_page("board")
    assert at.selectbox(key="board_x").value == "linger_ms" and at.selectbox(key="board_y").value == "msgs_per_s"
    assert any("3 runs shown of 3, by 3 students" in c.value for c in at.caption), [c.value for c in at.caption]
    charts = [el for el in at.main if getattr(el, "type", None) == "vega_lite_chart"]
    assert charts, "the board's chart"
    with pytest.raises(KeyError):
        at.multiselect(key="board_hide")  # a student's board: nothing to hide
    at.sidebar.text_input(key="class_key_input").input(key)
    at.sidebar.button(key="class_teacher_btn").click().run()
    at.multiselect(key="board_hide").select(ids[0]).run()
    assert not at.exception, at.exception
    assert any("2 runs shown of 3, by 2 students" in c.value for c in at.caption), [c.value for c in at.caption]
    assert classes.current().hidden == (ids[0],)  # type: ignore[union-attr]
