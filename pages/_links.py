"""Shareable links on a page: its settings widgets are bound to the address bar (``bind="query-params"``,
the widget key is the parameter name, ``lab.export.pages`` lists them), so the address is always a link to
the same experiment. This module adds what Streamlit does not:

- the mode/scenario selectors, whose labels are long, keep a short id in the URL (``?mode=codec``);
- a parameter Streamlit dropped or changed (invalid, tampered, out of range) gets a visible note naming it;
- a "Link to these settings" box at the bottom of the sidebar, with a copy button.

    link = PageLink("producer")          # before any widget: captures the address bar as it was opened
    mode = link.choice(sb.selectbox, "Experiment", MODES, key="producer_mode")
    ... widgets with key=<param>, bind="query-params" ...
    link.finish(sb)                      # notes for refused parameters, and the link

Opening a link only sets widgets: nothing runs until Run is pressed. The runner's ``?run=<id>`` is left
alone, and connection settings are never bound (they come from the environment).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from lab.export import links
from lab.export.params import Param, Raw

#: Session-state key prefix of the notes found when a page was opened from a link.
NOTES_KEY = "links_notes_"


def _raw(key: str) -> Raw:
    values = st.query_params.get_all(key)
    return values[0] if len(values) == 1 else values


class PageLink:
    """The link of one page during one script run (see the module docstring)."""

    def __init__(self, page: str) -> None:
        self.page = page
        self.spec = links.page_links(page)
        #: the address bar's parameters at the start of the run, before any widget changed them
        self.captured: dict[str, Raw] = {k: _raw(k) for k in st.query_params}
        #: param -> widget key, where they differ (the selectors kept by this module)
        self.widget_keys: dict[str, str] = {}
        #: param -> (widget option -> link value), for selectors whose options are not their link values
        self.ids: dict[str, dict[str, str]] = {}

    # --- selectors with long labels: a short id in the URL ----------------------------------------------
    def choice(self, widget: Callable[..., Any], label: str, labels: dict[str, str], *, key: str,
               param: str | None = None, ids: dict[str, str] | None = None, **kw: Any) -> Any:
        """A selector over ``labels`` (option -> label) kept in the link parameter ``param`` (default: the
        page's mode parameter) as the option itself, or as its id where ``ids`` (id -> option) says so.
        Its first option is the parameter's default. Returns the chosen option."""
        p = self.spec.param(param or self.spec.mode_key)
        to_option = ids or {}
        to_id = {o: i for i, o in to_option.items()}
        self.widget_keys[p.key] = key
        self.ids[p.key] = to_id
        if key not in st.session_state and p.key in self.captured:  # first run here: the link decides
            try:
                parsed = p.parse(self.captured[p.key])
                st.session_state[key] = to_option.get(parsed, parsed)
            except ValueError:
                pass  # the default stays; finish() says so
        option = widget(label, list(labels), format_func=labels.__getitem__, key=key, **kw)
        value = to_id.get(option, option)
        if p.is_default(value):
            if p.key in st.query_params:
                del st.query_params[p.key]
        elif st.query_params.get(p.key) != p.format(value):
            st.query_params[p.key] = p.format(value)
        return option

    # --- after the widgets --------------------------------------------------------------------------
    def _raw_value(self, p: Param) -> tuple[bool, Any]:
        key = self.widget_keys.get(p.key, p.key)
        if key not in st.session_state:
            return False, None
        value = st.session_state[key]
        ids = self.ids.get(p.key)
        return True, ids.get(value, value) if ids else value

    def _value(self, p: Param) -> tuple[bool, Any]:
        """(shown this run, its value as a link value). A widget of another mode can linger in the session
        state for one run after a switch: the registry says which ones this mode shows."""
        shown, value = self._raw_value(p)
        if not shown or p.key == self.spec.mode_key:
            return shown, value
        _, mode = self._raw_value(self.spec.param(self.spec.mode_key))
        if p.requires is not None:
            other = self._raw_value(self.spec.param(p.requires[0]))[1]
            shown = other == p.requires[1]
        return shown and p.shows_in(mode), value

    def notes(self) -> list[tuple[str, Raw, str]]:
        """(parameter, value used instead, note) per link parameter of this page that the widgets did not
        take as it was written."""
        out = []
        for p in self.spec.params:
            if p.key not in self.captured:
                continue
            shown, value = self._value(p)
            if not shown:  # no such widget in this mode (a parameter of another scenario)
                continue
            raw = self.captured[p.key]
            try:
                taken = p.format(p.parse(raw)) == p.format(value)
            except ValueError:
                taken = p.format(value) == raw
            if not taken:
                out.append((p.key, p.format(value), links.bad_value_note(p, raw, value)))
        return out

    def params(self) -> dict[str, Raw]:
        """The page's settings as they are now, as link parameters (defaults left out)."""
        out: dict[str, Raw] = {}
        for p in self.spec.params:
            shown, value = self._value(p)
            if shown and value is not None and (p.always or not p.is_default(value)):
                out[p.key] = p.format(value)
        return out

    def url(self) -> str:
        params = self.params()
        if links.parse_present(st.query_params.get(links.PRESENT_PARAM))[0]:  # the link keeps presenter mode
            params[links.PRESENT_PARAM] = "1"
        query = urlencode(params, doseq=True)
        here = st.context.url
        base = f"{here.rsplit('/', 1)[0]}/{self.page}" if here else f"/{self.page}"
        return base + (f"?{query}" if query else "")

    def finish(self, where: Any = None) -> None:
        """Notes for refused parameters (found when the page was opened; each shown until its widget is
        changed) and the link to the current settings, into ``where`` (default: the sidebar)."""
        box = where if where is not None else st.sidebar
        key = NOTES_KEY + self.page
        if key not in st.session_state:
            st.session_state[key] = self.notes()
        now = self.params()
        for param, used, note in st.session_state[key]:
            if now.get(param, self.spec.param(param).format(self.spec.param(param).default)) == used:
                box.warning(note, icon=":material/link_off:")
        box.caption("Link to these settings (opens this page with every knob as it is now; nothing runs until "
                    "**Run**):")
        box.code(self.url(), language=None, wrap_lines=True)
