"""Shareable links: a page's settings as query parameters and back.

The parameter names are the page widgets' keys (the widgets are bound to the URL), so a link made here
from a stored run's settings opens its page with every widget restored::

    link_for("produce", ProducerSettings(acks="1", compression="lz4"))   # "/producer?acks=1&codec=lz4"
    settings, notes = params_to_settings("producer", {"acks": "1", "linger_ms": "abc"})
    # notes == ["Link parameter `linger_ms=abc` was not valid (allowed: a number ≥ 0); the default 5 is used."]

A value equal to its default is left out (as Streamlit leaves it out of the address bar). A tampered or
invalid value is replaced by its default, with a note naming it. Connection settings are never part of
a link. Pure: no Streamlit.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from lab.core import catalogue
from lab.core.errors import SettingsError
from lab.export.pages import PAGES
from lab.export.params import PageLinks, Param, Params, Raw

__all__ = ["PAGES", "PRESENT_PARAM", "PageLinks", "Param", "Params", "bad_value_note", "bound_keys", "link_for",
           "page_links", "params_to_settings", "parse_present", "settings_to_params", "with_present"]

#: The query parameter of presenter mode (``?present=1``): how a page is shown, never what it runs, so a link
#: keeps it and it carries nothing secret.
PRESENT_PARAM = "present"
#: What turns presenter mode on and off in a link.
PRESENT_ON = ("1", "true")
PRESENT_OFF = ("0", "false")


def page_links(page: str) -> PageLinks:
    """The link parameters of ``page``; ``SettingsError`` for a page without any."""
    try:
        return PAGES[page]
    except KeyError:
        raise SettingsError(f"The {page!r} page has no link parameters.",
                            hint=f"Pages with settings in their links: {', '.join(PAGES)}.") from None


def bound_keys(page: str) -> tuple[str, ...]:
    """Every query parameter the page binds (its widgets' keys); none for a page without settings."""
    return PAGES[page].keys() if page in PAGES else ()


def shown(value: Raw) -> str:
    return "&".join(value) if isinstance(value, list) else value


def bad_value_note(param: Param, raw: Raw, used: Any) -> str:
    """The note a page shows when the link's ``raw`` value of ``param`` was refused and ``used`` taken."""
    was = "the default" if param.is_default(used) else "instead"
    return (f"Link parameter `{param.key}={shown(raw)}` was not valid (allowed: {param.allowed()}); "
            f"{was} {shown(param.format(used))} is used.")


def settings_to_params(page: str, settings: Any) -> Params:
    """``settings`` (a settings object the page builds) as the page's link parameters; defaults left out."""
    links = page_links(page)
    mode, values = links.to_values(settings)
    values = {**values, links.mode_key: mode}
    out: Params = {}
    for p in links.params:
        if p.key not in values or not p.shows_in(mode, values):
            continue
        if p.always or not p.is_default(values[p.key]):
            out[p.key] = p.format(values[p.key])
    return out


def params_to_settings(page: str, params: dict[str, Raw]) -> tuple[Any, list[str]]:
    """The settings a link opens, and a note per refused parameter (its default is used instead).
    Parameters the page does not bind (``run``, another page's) are ignored. ``SettingsError`` when the
    values are each valid but do not fit together (the page shows that error instead of running)."""
    links = page_links(page)
    values, notes = links.defaults(), []
    for p in links.params:
        if p.key not in params:
            continue
        try:
            values[p.key] = p.parse(params[p.key])
        except ValueError:
            notes.append(bad_value_note(p, params[p.key], p.default))
    mode = values[links.mode_key]
    return links.from_values(mode, values), notes


def link_for(experiment: str, settings: Any) -> str:
    """A relative link that opens the experiment's page with its widgets set to ``settings``:
    ``"/producer?acks=all&codec=lz4"`` (just ``"/producer"`` for default settings). ``SettingsError``
    for an experiment that no page offers."""
    page = catalogue.get(experiment).page
    if page is None:
        raise SettingsError(f"No page offers {experiment!r}, so it has no link.",
                            hint="Run it from the CLI: `kafka-lab --help` lists its command.")
    query = urlencode(settings_to_params(page, settings), doseq=True)
    return f"/{page}" + (f"?{query}" if query else "")


def parse_present(raw: Raw | None) -> tuple[bool, str | None]:
    """(presenter mode on, a note when the link's ``present`` value was refused): ``1``/``true`` on, ``0``/
    ``false`` or absent off, anything else off with a note saying what is allowed."""
    text = raw[-1] if isinstance(raw, list) and raw else raw if isinstance(raw, str) else None
    if text is None or text.strip().lower() in PRESENT_OFF:
        return False, None
    if text.strip().lower() in PRESENT_ON:
        return True, None
    return False, (f"Link parameter `{PRESENT_PARAM}={shown(raw or '')}` was not valid (allowed: 1 for presenter "
                   "mode, 0 for the usual page); the usual page is shown.")


def with_present(link: str, on: bool = True) -> str:
    """``link`` with presenter mode kept (``present=1`` added) when ``on``; unchanged otherwise."""
    if not on:
        return link
    return link + ("&" if "?" in link else "?") + f"{PRESENT_PARAM}=1"
