"""One link parameter: its name in the address bar (the page widget's key), what values it takes, its
default, and how a value is written the way Streamlit writes a bound widget's value into the URL
(``5.0`` -> ``"5"``, ``True`` -> ``"true"``, a multiselect as the key repeated).

Pure: no Streamlit. ``lab.export.pages`` declares the parameters of every page, ``lab.export.links`` uses them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: A raw link value as it comes out of a query string: one string, or several for a repeated key.
Raw = str | list[str]
#: Link parameters as they go into a query string.
Params = dict[str, Raw]

Kind = Literal["choice", "int", "float", "bool", "multi", "text"]


def format_number(v: float) -> str:
    """A number as Streamlit writes it into the URL: 5.0 -> "5", 5.5 -> "5.5"."""
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return str(int(v))
    return str(v)


def _last(raw: Raw) -> str:
    return raw[-1] if isinstance(raw, list) and raw else raw if isinstance(raw, str) else ""


@dataclass(frozen=True)
class Param:
    """One bound widget of a page, seen as a link parameter."""

    #: the query parameter name == the widget's key
    key: str
    kind: Kind
    default: Any
    #: allowed values of a choice or multi parameter
    choices: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None
    #: the default depends on other widgets (e.g. a slider bound by another): always written into links
    always: bool = False
    #: the settings modes that show this widget (empty: every mode)
    modes: tuple[str, ...] = field(default=())
    #: shown only while another widget has this value: (its key, the value)
    requires: tuple[str, Any] | None = None
    #: what a note says is allowed, where the widget knows better than the kind (a choice among topics)
    allowed_text: str = ""

    # --- writing -------------------------------------------------------------------------------------
    def format(self, value: Any) -> Raw:
        """``value`` as the widget writes it into the URL."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "multi":
            return [str(v) for v in value]
        if self.kind in ("int", "float"):
            if isinstance(value, str):  # a number field's text: as typed, when it is not a value
                try:
                    value = self.parse(value)
                except ValueError:
                    return value
            return format_number(float(value) if self.kind == "float" else int(value))
        return str(value)

    def is_default(self, value: Any) -> bool:
        if self.kind == "multi":
            return tuple(value) == tuple(self.default)
        if self.kind in ("int", "float") and isinstance(value, str):  # a number field's text
            try:
                value = self.parse(value)
            except ValueError:
                return False
        return bool(value == self.default)

    # --- reading -------------------------------------------------------------------------------------
    def allowed(self) -> str:
        """What the parameter accepts, for a note: "0–5000", "all, 1, 0", "true or false"."""
        if self.allowed_text:
            return self.allowed_text
        if self.kind in ("choice", "multi"):
            shown = ", ".join(str(c) for c in self.choices)
            return shown if self.kind == "choice" else f"any of {shown}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "any text"
        what = "a whole number" if self.kind == "int" else "a number"
        lo = None if self.lo is None else format_number(float(self.lo))
        hi = None if self.hi is None else format_number(float(self.hi))
        if lo is not None and hi is not None:
            return f"{lo}–{hi}"
        if lo is not None:
            return f"{what} ≥ {lo}"
        return what

    def parse(self, raw: Raw) -> Any:
        """The value ``raw`` stands for; ``ValueError`` when the widget would not take it."""
        if self.kind == "multi":
            items = raw if isinstance(raw, list) else [raw]
            by_text = {str(c): c for c in self.choices}
            if not items or any(i not in by_text for i in items):
                raise ValueError(raw)
            return tuple(dict.fromkeys(by_text[i] for i in items))
        text = _last(raw)
        if self.kind == "choice":
            by_text = {str(c): c for c in self.choices}
            if text not in by_text:
                raise ValueError(text)
            return by_text[text]
        if self.kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if self.kind == "text":
            return text
        number = float(text)  # ValueError for "abc"
        if not math.isfinite(number):
            raise ValueError(text)
        if self.kind == "int":
            if number != int(number):
                raise ValueError(text)
            number = int(number)
        if (self.lo is not None and number < self.lo) or (self.hi is not None and number > self.hi):
            raise ValueError(text)
        return number

    def shows_in(self, mode: str, values: dict[str, Any] | None = None) -> bool:
        """Whether the page shows this widget in ``mode`` (with the other widgets at ``values``)."""
        if self.modes and mode not in self.modes:
            return False
        return self.requires is None or values is None or values.get(self.requires[0]) == self.requires[1]


def choice(key: str, choices: Sequence[Any], default: Any, **kw: Any) -> Param:
    return Param(key, "choice", default, tuple(choices), **kw)


def multi(key: str, choices: Sequence[Any], default: Sequence[Any], **kw: Any) -> Param:
    return Param(key, "multi", tuple(default), tuple(choices), **kw)


def integer(key: str, default: int, lo: float | None = None, hi: float | None = None, **kw: Any) -> Param:
    return Param(key, "int", default, lo=lo, hi=hi, **kw)


def number(key: str, default: float, lo: float | None = None, hi: float | None = None, **kw: Any) -> Param:
    return Param(key, "float", float(default), lo=lo, hi=hi, **kw)


def flag(key: str, default: bool, **kw: Any) -> Param:
    return Param(key, "bool", default, **kw)


def text(key: str, default: str, **kw: Any) -> Param:
    return Param(key, "text", default, **kw)


@dataclass(frozen=True)
class PageLinks:
    """The link parameters of one page and how they map to its settings objects."""

    #: the page (file stem under pages/, the registry's ``Experiment.page``)
    page: str
    #: the parameter that picks the experiment/scenario on the page
    mode_key: str
    #: mode (link value) -> registry experiment name
    modes: dict[str, str]
    #: every bound parameter, the mode parameter included
    params: tuple[Param, ...]
    #: settings -> (mode, widget values by key); values missing from the dict keep their defaults
    to_values: Callable[[Any], tuple[str, dict[str, Any]]]
    #: (mode, widget values by key, every key present) -> the settings object the page builds
    from_values: Callable[[str, dict[str, Any]], Any]

    def param(self, key: str) -> Param:
        return next(p for p in self.params if p.key == key)

    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.key: p.default for p in self.params}
