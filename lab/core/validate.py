"""The checks every settings dataclass uses in ``__post_init__``: each refusal names the setting, the bad
value and what is allowed (``SettingsError`` with a hint).
"""

from __future__ import annotations

from lab.core.errors import SettingsError


def require(cond: bool, message: str, allowed: str) -> None:
    """Raise ``SettingsError(message, hint=allowed)`` unless ``cond``."""
    if not cond:
        raise SettingsError(message, hint=allowed)


def is_choices(value: object, allowed: tuple[str, ...] | set[str] | frozenset[str]) -> bool:
    """A non-empty list or tuple of distinct names, each one of ``allowed`` (for multi-choice settings)."""
    return (isinstance(value, (tuple, list)) and bool(value) and len(set(map(str, value))) == len(value)
            and all(isinstance(v, str) and v in allowed for v in value))


def is_whole(value: object) -> bool:
    """An int that is not a bool (``True`` would otherwise pass as 1 partition)."""
    return isinstance(value, int) and not isinstance(value, bool)
