"""Shareable links, driven by AppTest on the real session cluster: a page opened with query parameters
shows every widget as the link says and starts nothing; a tampered parameter falls back to the default
with a note naming it; every page's bound widgets start at the defaults the links leave out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.export import links
from lab.export.pages import PAGES
from lab.export.params import Param, Raw

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
#: the widget key of each page's mode/scenario selector (not bound: it keeps a short id in the URL)
MODE_WIDGET = {"producer": "producer_mode", "replication": "repl_kind", "eos": "eos_kind",
               "consumer": "consumer_mode", "lag": "lag_mode", "share": "share_mode"}
#: the session-state key of each page's run (set only when a run started)
RUN_KEY = {"producer": "producer_run_id", "replication": "repl_run_id", "eos": "eos_run_id",
           "consumer": "consumer_run_id", "lag": "lag_run_id", "share": "share_run_id"}
#: the widget kinds whose protos say which query parameter they are bound to
WIDGETS = ("radio", "selectbox", "number_input", "slider", "select_slider", "checkbox", "multiselect", "text_input")
SECRET = re.compile(r"bootstrap|sasl|ssl|password|username|jaas|token|security", re.I)


def open_page(page: str, params: dict[str, Raw] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def widget_value(at: AppTest, page: str, p: Param) -> Any:
    """The widget's value as its link value (the mode selector's option mapped to its id)."""
    spec = PAGES[page]
    if p.key == spec.mode_key:
        option = at.session_state[MODE_WIDGET[page]]
        return {o: i for i, o in spec.modes.items()}.get(option, option)
    return at.session_state[p.key]


def notes(at: AppTest) -> list[str]:
    return [str(w.value) for w in at.sidebar.warning if "Link parameter" in str(w.value)]


def test_producer_link_restores_the_widgets_and_runs_nothing(app_env: LocalCluster) -> None:
    at = open_page("producer", {"mode": "codec", "acks": "1", "codec": "lz4", "linger_ms": "20", "run_for": "count",
                                "count": "500", "batch_size": "65536", "idempotence": "false", "preset": "(none)"})
    assert at.session_state["producer_mode"] == "codec"
    assert at.sidebar.radio(key="acks").value == "1"
    assert at.sidebar.selectbox(key="codec").value == "lz4"
    assert at.sidebar.text_input(key="linger_ms").value == "20"
    assert at.sidebar.radio(key="run_for").value == "count"
    assert at.sidebar.text_input(key="count").value == "500"
    assert at.sidebar.select_slider(key="batch_size").value == 65_536
    assert notes(at) == []
    assert "producer_run_id" not in at.session_state and "run" not in at.query_params
    assert not at.sidebar.button(key="producer_run_btn").disabled  # offered, not started
    link = at.sidebar.code[-1].value
    assert link.startswith("/producer?") and "mode=codec" in link and "acks=1" in link and "codec=lz4" in link \
        and "linger_ms=20" in link and "count=500" in link
    assert all(not SECRET.search(k) for k in re.findall(r"[?&]([^=&]+)=", link))


def test_a_tampered_parameter_is_refused_or_noted_never_used_silently(app_env: LocalCluster) -> None:
    at = open_page("producer", {"linger_ms": "abc", "acks": "2", "codec": "lz4", "mode": "nope", "run": "zzz"})
    assert at.sidebar.text_input(key="linger_ms").value == "abc", "the typed text stays as typed"
    assert any("linger.ms" in e.value and "not a number" in e.value for e in at.sidebar.error), at.sidebar.error
    assert at.sidebar.button(key="producer_run_btn").disabled, "refused until fixed"
    assert at.sidebar.radio(key="acks").value == "all"
    assert at.sidebar.selectbox(key="codec").value == "lz4"
    assert at.session_state["producer_mode"] == "single"
    found = notes(at)
    assert len(found) == 2, found
    assert any("`acks=2`" in n and "allowed: 0, 1, all" in n for n in found)
    assert any("`mode=nope`" in n for n in found)
    assert "producer_run_id" not in at.session_state
    at.sidebar.selectbox(key="codec").set_value("gzip").run()  # the page goes on as usual
    assert not at.exception and "codec=gzip" in at.sidebar.code[-1].value
    assert len(notes(at)) == 2  # still true: those knobs are at their defaults because of the link
    at.sidebar.text_input(key="linger_ms").input("7").run()
    assert not at.sidebar.error and not at.sidebar.button(key="producer_run_btn").disabled
    assert "linger_ms=7" in at.sidebar.code[-1].value


def variant(p: Param) -> Any:
    """A valid value of ``p`` other than its default."""
    if p.kind == "bool":
        return not p.default
    if p.kind == "choice":
        return next(c for c in p.choices if c != p.default)
    if p.kind == "multi":
        return tuple(p.choices[:1])
    if p.kind == "text":
        return f"{p.default}-x"
    value = p.default + 1
    return value if p.hi is None or value <= p.hi else p.default - 1


#: per page, a mode whose widgets take any valid value (no topic or group chosen from the cluster)
LINKED_MODE = {"producer": "batch", "replication": "unclean", "eos": "pipeline", "consumer": "strategies",
               "lag": "scenario", "share": "acks"}


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_restores_a_link_made_from_its_settings(app_env: LocalCluster, page: str) -> None:
    spec, mode = PAGES[page], LINKED_MODE[page]
    values = {**spec.defaults(), spec.mode_key: mode}
    for p in spec.params:
        if p.key != spec.mode_key and p.shows_in(mode):
            try:
                spec.from_values(mode, {**values, p.key: variant(p)})
            except ValueError:
                continue
            values[p.key] = variant(p)
    settings = spec.from_values(mode, values)
    params = links.settings_to_params(page, settings)
    assert len(params) > 3, params
    at = open_page(page, params)
    assert notes(at) == []
    for key, raw in params.items():
        assert spec.param(key).format(widget_value(at, page, spec.param(key))) == raw, key
    assert RUN_KEY[page] not in at.session_state


@pytest.mark.parametrize("page", list(PAGES))
def test_bound_widgets_start_at_the_link_defaults_in_every_mode(app_env: LocalCluster, page: str) -> None:
    spec = PAGES[page]
    at = open_page(page)
    for mode in spec.modes:
        if widget_value(at, page, spec.param(spec.mode_key)) != mode:
            option = mode if page in ("producer", "lag", "share") else spec.modes[mode]  # their options are the ids
            widget = next(w for w in (at.selectbox, at.radio) for w in w if w.key == MODE_WIDGET[page])
            widget.set_value(option).run()
            assert not at.exception, at.exception
        shown = [p for p in spec.params if p.key in at.session_state and not p.always and p.key != spec.mode_key]
        for p in shown:
            if p.kind == "text" and page in ("replication", "lag") and p.key in ("mon_topic", "group"):
                continue  # a choice among the cluster's topics/groups
            assert p.is_default(widget_value(at, page, p)), (mode, p.key, widget_value(at, page, p))
        bound = {w.proto.query_param_key for kind in WIDGETS for w in at.get(kind)
                 if getattr(w.proto, "query_param_key", "")}
        assert bound, mode
        assert bound <= set(spec.keys()), (mode, bound - set(spec.keys()))  # the registry lists every one
        values = {p.key: at.session_state[p.key] for p in spec.params if p.key in at.session_state}
        assert {p.key for p in spec.params if p.key in values and p.key != spec.mode_key
                and p.shows_in(mode, values)} <= bound
        assert not [k for k in bound if SECRET.search(k)], bound  # no connection setting is in the URL
        assert notes(at) == []


def test_a_link_whose_values_do_not_fit_together_shows_why_and_runs_nothing(app_env: LocalCluster) -> None:
    at = open_page("eos", {"scenario": "idempotent", "idem_mode": "on", "idem_acks": "1"})
    assert at.sidebar.radio(key="idem_acks").value == "1" and notes(at) == []
    assert any("needs acks=all" in e.value for e in at.sidebar.error), [e.value for e in at.sidebar.error]
    assert at.sidebar.button(key="eos_run_btn").disabled and "eos_run_id" not in at.session_state

    at = open_page("producer", {"acks": "0", "idempotence": "true"})
    assert at.sidebar.checkbox(key="idempotence").value is True and notes(at) == []
    at.sidebar.button(key="producer_run_btn").click().run()  # the settings refuse themselves, with the fix
    assert not at.exception, at.exception
    assert any("needs acks=all" in e.value for e in at.error), ([e.value for e in at.error], at.session_state)
    assert "producer_run_id" not in at.session_state
