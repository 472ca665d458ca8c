"""What a student may not do while a class is open: change brokers (the buttons, and the scenarios that stop,
pause or kill them) and cancel another person's run. The teacher (who entered the key in this browser
session) and the server's own terminal (the CLI) may. Outside a class everyone may do everything."""

from __future__ import annotations

from lab.classroom.session import ClassSession
from lab.core.errors import NotAllowed

TEACHER = "teacher"
STUDENT = "student"
#: Faces that are the server's own terminal, not a browser: whoever types there runs the server.
OPERATOR_FACES = ("cli", "test")


def may_change_brokers(session: ClassSession | None, role: str | None, face: str = "app",
                       what: str = "change brokers") -> None:
    """Raise ``NotAllowed`` when a class is open and this browser session is not the teacher's."""
    if session is None or role == TEACHER or face in OPERATOR_FACES:
        return
    raise NotAllowed(f"While the class {session.name!r} is open, only the teacher may {what}.",
                     hint="Everything that leaves the brokers alone is yours to run; the teacher runs the broker "
                          "failures for everyone (watch them on the projector). Teacher: enter the key in the "
                          "sidebar's Class panel.")


def may_cancel(session: ClassSession | None, role: str | None, me: str | None, owner: str | None) -> None:
    """Raise ``NotAllowed`` when a class is open and a student would cancel someone else's run."""
    if session is None or role == TEACHER or owner is None or owner == me:
        return
    raise NotAllowed("In a class, a run can be cancelled only by the one who started it (or the teacher).")
