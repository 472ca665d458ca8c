"""Who this browser session is in the open class: the session-state keys and ``identity()``, read by the
page runner (the launcher's role and name) and by the Class panel (``pages._class``) that sets them."""

from __future__ import annotations

import streamlit as st

from lab import LabError
from lab.classroom import roles
from lab.classroom import session as classes
from lab.classroom.session import ClassSession
from pages._shared import show_error

#: Session-state keys: this session's role and name in the class it joined (by class id), following, last seen.
ROLE_KEY, NAME_KEY, CLASS_KEY, FOLLOW_KEY, SEEN_KEY = ("class_role", "class_name", "class_id", "class_follow",
                                                       "class_seen_seq")


def current() -> ClassSession | None:
    """The open class, or None (a damaged class file is shown and treated as none)."""
    try:
        return classes.current()
    except LabError as exc:
        show_error(exc)
        return None


def identity(klass: ClassSession | None = None) -> tuple[str | None, str | None]:
    """(role, display name) of this browser session in the open class; (None, None) outside one."""
    klass = klass if klass is not None else current()
    if klass is None or st.session_state.get(CLASS_KEY) != klass.class_id:
        return None, None
    return st.session_state.get(ROLE_KEY), st.session_state.get(NAME_KEY)


def may_change_brokers(what: str = "stop, pause, kill or start brokers") -> None:
    """``NotAllowed`` when a class is open and this session is not the teacher's."""
    klass = current()
    roles.may_change_brokers(klass, identity(klass)[0], "app", what)
