"""The open class, kept in one small JSON file (``class.json`` beside the run store, or ``$KAFKA_LAB_CLASS_FILE``)
so the app's server, the CLI and a restarted server all see the same class.

The teacher key is random, shown once (``open_class`` returns it) and stored only as a salted PBKDF2 hash:
the file, the run store, links and exports never hold it. Every change is one locked read-modify-write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lab.cluster.local_state import default_state_dir
from lab.core.errors import LabError, SettingsError
from lab.core.results import now_iso

#: Environment variable naming the class file (tests point it at a temporary file).
CLASS_ENV = "KAFKA_LAB_CLASS_FILE"
CLASS_FILE = "class.json"
#: PBKDF2-SHA256 rounds for the teacher key (about 50 ms here: cheap once a session, dear to guess by the million).
KEY_ROUNDS = 200_000
#: Bytes of randomness in a teacher key (shown as ~22 URL-safe characters).
KEY_BYTES = 16
MAX_NAME = 40


def class_file() -> Path:
    """``$KAFKA_LAB_CLASS_FILE``, else ``class.json`` beside the cluster state directory (read now)."""
    env = os.environ.get(CLASS_ENV)
    return Path(env).expanduser() if env else default_state_dir().parent / CLASS_FILE


def _hash(key: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", key.encode(), salt, KEY_ROUNDS)


@dataclass(frozen=True)
class ClassSession:
    """An open class. ``students``: token -> display name (a token is a browser session's, never shown)."""

    class_id: str
    name: str
    opened_at: str
    key_salt: str
    key_hash: str
    students: dict[str, str] = field(default_factory=dict)
    #: the lesson the teacher sent everyone to, and a counter that grows with each "everyone to…"
    lesson: str | None = None
    lesson_seq: int = 0
    #: runs the teacher hid on the board, and the ones highlighted
    hidden: tuple[str, ...] = ()
    highlighted: tuple[str, ...] = ()

    def key_matches(self, key: str) -> bool:
        """Whether ``key`` is the teacher key (constant-time comparison of the hashes)."""
        if not isinstance(key, str) or not key:
            return False
        got = _hash(key.strip(), bytes.fromhex(self.key_salt))
        return hmac.compare_digest(got, bytes.fromhex(self.key_hash))

    def student_name(self, token: str) -> str | None:
        return self.students.get(token)


def check_name(name: str, what: str = "display name") -> str:
    """A name as typed, trimmed; refused (never altered) when empty, too long or with control characters."""
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise SettingsError(f"The {what} is empty.", hint=f"Type 1 to {MAX_NAME} characters.")
    if len(text) > MAX_NAME:
        raise SettingsError(f"The {what} {text[:MAX_NAME]!r}… has {len(text)} characters.",
                            hint=f"Use at most {MAX_NAME}.")
    if any(ord(c) < 32 or c in "<>" for c in text):
        raise SettingsError(f"The {what} {text!r} has a control character or < >.",
                            hint="Use letters, digits, spaces and punctuation.")
    return text


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(path: Path) -> ClassSession | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LabError(f"The class file {path} cannot be read ({exc}).",
                       hint=f"End the class with `kafka-lab class end`, or delete {path}.") from exc
    data["hidden"] = tuple(data.get("hidden", ()))
    data["highlighted"] = tuple(data.get("highlighted", ()))
    known = {f.name for f in dataclasses.fields(ClassSession)}
    return ClassSession(**{k: v for k, v in data.items() if k in known})


def _write(path: Path, session: ClassSession) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(dataclasses.asdict(session), f)
    os.replace(tmp, path)


def current(path: Path | None = None) -> ClassSession | None:
    """The open class, or None (the lab is then used alone, as without classes)."""
    return _read(path or class_file())


def open_class(name: str = "Kafka internals", path: Path | None = None) -> tuple[ClassSession, str]:
    """Open a class; returns it and the teacher key (shown once, kept nowhere). Refused while one is open."""
    p = path or class_file()
    title = check_name(name, "class name")
    with _locked(p):
        old = _read(p)
        if old is not None:
            raise LabError(f"A class is already open: {old.name!r}, since {old.opened_at[:16].replace('T', ' ')} UTC.",
                           hint="End it first: `kafka-lab class end` (or the teacher's End class button).")
        key = secrets.token_urlsafe(KEY_BYTES)
        salt = secrets.token_bytes(16)
        session = ClassSession(secrets.token_hex(4), title, now_iso(), salt.hex(), _hash(key, salt).hex())
        _write(p, session)
    return session, key


def end_class(path: Path | None = None) -> ClassSession | None:
    """Close the open class (its runs stay in the run store); returns it, or None when none was open."""
    p = path or class_file()
    with _locked(p):
        old = _read(p)
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return old


def change(fn: Callable[[ClassSession], ClassSession], path: Path | None = None) -> ClassSession:
    """One locked read-modify-write of the open class; ``LabError`` when no class is open."""
    p = path or class_file()
    with _locked(p):
        old = _read(p)
        if old is None:
            raise LabError("No class is open.", hint="Start one: `kafka-lab class start`.")
        new = fn(old)
        _write(p, new)
    return new


def join(token: str, name: str, path: Path | None = None) -> ClassSession:
    """A student joins under ``name`` (refused if another student has it)."""
    display = check_name(name)

    def add(s: ClassSession) -> ClassSession:
        taken = {v.casefold() for k, v in s.students.items() if k != token}
        if display.casefold() in taken:
            raise SettingsError(f"Someone in the class is already called {display!r}.",
                                hint="Pick another display name (add an initial or a number).")
        return dataclasses.replace(s, students={**s.students, token: display})

    return change(add, path)


def send_everyone_to(lesson_id: str, path: Path | None = None) -> ClassSession:
    """The teacher's "everyone to this lesson": students who follow the teacher are moved there."""
    return change(lambda s: dataclasses.replace(s, lesson=lesson_id, lesson_seq=s.lesson_seq + 1), path)


def set_marks(hidden: tuple[str, ...], highlighted: tuple[str, ...], path: Path | None = None) -> ClassSession:
    """The board's hidden and highlighted runs, as the teacher left them."""
    return change(lambda s: dataclasses.replace(s, hidden=tuple(hidden), highlighted=tuple(highlighted)), path)
