"""The sidebar's Class panel and who this browser session is in the open class (``lab.classroom``).

No class open: a "Start a class" button (the key is shown once, here). A class open: join with a display
name, or enter the teacher key (a password field: never in the address bar); the teacher sends everyone to
this page's lesson and ends the class; a student may follow the teacher. Pages pass ``identity()`` to the
launcher (role and name) and ask ``may_change_brokers()`` before a broker button acts.
"""

from __future__ import annotations

import streamlit as st

from lab import LabError
from lab.classroom import keyguard, roles
from lab.classroom import session as classes
from lab.classroom.session import ClassSession
from lab.lessons import LESSONS
from pages._runner import session_id
from pages._shared import show_error
from pages._whoami import CLASS_KEY, FOLLOW_KEY, NAME_KEY, ROLE_KEY, SEEN_KEY, current, identity

#: How often a follower's page looks whether the teacher sent everyone somewhere (seconds).
FOLLOW_EVERY_S = 3.0


def _enter_key(klass: ClassSession) -> None:
    key = st.session_state.pop("class_key_input", "")
    try:
        keyguard.GUARD.check(klass, session_id() or "?", key)
    except LabError as exc:
        st.session_state["class_msg"] = exc
        return
    st.session_state.update({CLASS_KEY: klass.class_id, ROLE_KEY: roles.TEACHER, NAME_KEY: "Teacher"})


def _join(klass: ClassSession) -> None:
    name = st.session_state.get("class_name_input", "")
    try:
        classes.join(session_id() or "?", name)
    except LabError as exc:
        st.session_state["class_msg"] = exc
        return
    st.session_state.update({CLASS_KEY: klass.class_id, ROLE_KEY: roles.STUDENT, NAME_KEY: name.strip(),
                             SEEN_KEY: klass.lesson_seq})


def _start() -> None:
    try:
        klass, key = classes.open_class(st.session_state.get("class_title_input") or "Kafka internals")
    except LabError as exc:
        st.session_state["class_msg"] = exc
        return
    st.session_state.update({CLASS_KEY: klass.class_id, ROLE_KEY: roles.TEACHER, NAME_KEY: "Teacher"})
    st.session_state["class_new_key"] = key  # shown once, then gone from the session


def _everyone_to(page: str) -> None:
    lesson = st.session_state.get(f"lesson_{page}_pick")
    if lesson:
        classes.send_everyone_to(lesson)


def _end() -> None:
    classes.end_class()
    for k in (CLASS_KEY, ROLE_KEY, NAME_KEY):
        st.session_state.pop(k, None)


def follow_the_teacher(klass: ClassSession | None) -> None:
    """A follower whose teacher sent everyone to a lesson goes there (its page, that lesson picked)."""
    if klass is None or not st.session_state.get(FOLLOW_KEY) or klass.lesson not in LESSONS:
        return
    if st.session_state.get(SEEN_KEY, 0) >= klass.lesson_seq:
        return
    st.session_state[SEEN_KEY] = klass.lesson_seq
    lesson = LESSONS[klass.lesson]
    st.session_state[f"lesson_{lesson.page}_pick"] = lesson.id
    st.switch_page(f"pages/{lesson.page}.py")


def class_panel(page: str | None) -> None:
    """The sidebar's Class panel (see the module docstring); a follower whose teacher sent everyone to a
    lesson is moved there first. Every phase page calls it (through its Lesson panel), and the board."""
    klass = current()
    follow_the_teacher(klass)
    with st.sidebar.expander("Class" if klass is None else f"Class: {klass.name}", expanded=klass is not None):
        msg = st.session_state.pop("class_msg", None)
        if msg is not None:
            show_error(msg)
        new_key = st.session_state.pop("class_new_key", None)
        if new_key:
            st.success("Class started. The teacher key, shown this once (keep it to yourself):")
            st.code(new_key, language=None)
        if klass is None:
            st.caption("One teacher, many students on this server: broker failures become the teacher's, runs "
                       "take turns fairly, and the Class board draws everyone's results together.")
            st.text_input("Class name", key="class_title_input", placeholder="Kafka internals")
            st.button("Start a class", key="class_start_btn", on_click=_start)
            return
        role, name = identity(klass)
        if role == roles.TEACHER:
            st.markdown(f"You are the **teacher** · {len(klass.students)} students joined")
            st.button("Everyone to this lesson", key="class_everyone_btn", on_click=_everyone_to, args=(page,),
                      disabled=page is None, help="Students who follow the teacher open this page's lesson.")
            st.button("End class", key="class_end_btn", on_click=_end)
        elif role == roles.STUDENT:
            st.markdown(f"You are **{name}** in this class.")
            st.checkbox("Follow the teacher", key=FOLLOW_KEY,
                        help="When the teacher sends everyone to a lesson, this page goes there.")
        else:
            # each in a form: what was typed and the click reach the server in one message (typed, then clicked
            # at once on a busy server, the click could come without the name)
            with st.form("class_join_form", border=False):
                st.text_input("Your name", key="class_name_input")
                st.form_submit_button("Join", key="class_join_btn", on_click=_join, args=(klass,))
            with st.form("class_teacher_form", border=False):
                st.text_input("Teacher key", key="class_key_input", type="password")
                st.form_submit_button("I am the teacher", key="class_teacher_btn", on_click=_enter_key,
                                      args=(klass,))
    if klass is not None and st.session_state.get(FOLLOW_KEY):
        _watch(klass.class_id)


def _watch(class_id: str) -> None:
    @st.fragment(run_every=FOLLOW_EVERY_S)
    def watch() -> None:
        now = current()
        if now is None or now.class_id != class_id or now.lesson_seq > st.session_state.get(SEEN_KEY, 0):
            st.rerun(scope="app")

    with st.sidebar:
        watch()
