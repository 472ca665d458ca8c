"""Number fields that use what a person typed or refuse it with a message, never replace it.

Streamlit's number widget cannot say what was typed: it cuts ``1.5`` to ``1`` in a whole-number field and
puts an emptied field or letters back to the page's default without a word. These fields are text inputs
read by the page's link parameter (``lab.export.params.Param``: kind, bounds, default), so the page, its
links and the sidebar agree on what is allowed::

    fields = Fields("producer")
    linger = fields.number(sb, "linger.ms", key="linger_ms", help="…")   # the parsed value (float)
    size = fields.number(sb, "Message size (bytes)", key="msg_size")     # an int
    runner.controls(make, sb, invalid=fields.invalid())                  # Run is off until every field is fixed

A refused field shows its message under it (naming the field and what is allowed); the page keeps drawing
with the field's last accepted value and Run stays off until it is fixed.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lab.core.errors import SettingsError
from lab.export import links
from lab.export.params import Param, format_number

#: Session-state key prefix of a field's last accepted value.
_LAST = "fields_last_"


def refusal(label: str, param: Param, typed: str) -> str | None:
    """Why ``typed`` is not a value of ``param`` (the field called ``label``), or None when it is."""
    text = typed.strip()
    allowed = param.allowed()
    if not text:
        return f"**{label}** is empty: type a value ({allowed})."
    try:
        param.parse(text)
    except ValueError:
        if param.kind == "int":
            try:
                number = float(text)
            except ValueError:
                return f"**{label}**: `{typed}` is not a number (allowed: {allowed})."
            if number == number and number not in (float("inf"), float("-inf")) and number != int(number):
                return f"**{label}**: `{typed}` is not a whole number (allowed: {allowed})."
        else:
            try:
                float(text)
            except ValueError:
                return f"**{label}**: `{typed}` is not a number (allowed: {allowed})."
        return f"**{label}**: `{typed}` is out of range (allowed: {allowed})."
    return None


class Fields:
    """The typed number fields of one page during one script run."""

    def __init__(self, page: str | None) -> None:
        self.spec = links.page_links(page) if page is not None else None
        #: field label -> its refusal message, for the fields refused this run
        self.refused: dict[str, str] = {}

    def _param(self, key: str, default: Any, lo: float | None, hi: float | None) -> Param:
        if self.spec is not None and any(q.key == key for q in self.spec.params):
            return self.spec.param(key)
        kind = "int" if isinstance(default, int) else "float"
        return Param(key, kind, default, lo=lo, hi=hi)

    def number(self, where: Any, label: str, *, key: str, default: Any = None, lo: float | None = None,
               hi: float | None = None, bind: str | None = "query-params", help: str | None = None,
               disabled: bool = False) -> Any:
        """A number field: the page's link parameter ``key`` says its kind, bounds and default (or, for a
        field that is not in links, ``default``/``lo``/``hi``). Returns the typed value as an int or a float;
        when refused, the field's last accepted value (and ``invalid()`` says why)."""
        p = self._param(key, default, lo, hi)
        kw: dict[str, Any] = {"bind": bind} if bind else {}
        typed = where.text_input(label, format_number(p.default), key=key, help=help, disabled=disabled, **kw)
        why = refusal(label, p, str(typed))
        if why is None:
            value = p.parse(str(typed).strip())
            st.session_state[_LAST + key] = value
            return value
        where.error(why, icon=":material/block:")
        self.refused[label] = why
        return st.session_state.get(_LAST + key, p.default)

    def invalid(self) -> SettingsError | None:
        """Why Run is off: the refused fields of this run, or None when every field holds a value."""
        if not self.refused:
            return None
        names = ", ".join(self.refused)
        return SettingsError(f"Not run: {names} {'holds a value' if len(self.refused) == 1 else 'hold values'} "
                             "the lab cannot use.",
                             hint="Fix the field(s) marked in red; nothing was replaced.")
