"""Shareable links: settings -> query parameters -> the same settings, for every experiment with a page;
no secret in any link; tampered values refused with a note naming them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lab.export import links
from lab.export.pages import PAGES
from lab.export.params import Param
from lab.producer.settings import PRESETS, ProducerSettings
from lab.registry import REGISTRY

#: words that mark a connection setting or a credential: never a link parameter or value
SECRET = re.compile(r"bootstrap|sasl|ssl|password|passwd|username|jaas|token|security|secret|credential", re.I)


def variant(p: Param) -> Any:
    """A valid value of ``p`` other than its default."""
    if p.kind == "bool":
        return not p.default
    if p.kind in ("choice",):
        return next(c for c in p.choices if c != p.default)
    if p.kind == "multi":
        return tuple(p.choices[:1]) if tuple(p.choices[:1]) != p.default else tuple(p.choices[1:2])
    if p.kind == "text":
        return p.default + "-x"
    step = 1 if p.kind == "int" else 0.5
    value = p.default + step
    if p.hi is not None and value > p.hi:
        value = p.default - step
    return value


def page_modes() -> list[tuple[str, str]]:
    return [(page, mode) for page, spec in PAGES.items() for mode in spec.modes]


def test_every_page_of_the_registry_has_links_and_every_experiment_a_mode() -> None:
    pages = {e.page for e in REGISTRY.values() if e.page is not None}
    assert pages == set(PAGES)
    for e in REGISTRY.values():
        if e.page is not None:
            assert e.name in PAGES[e.page].modes.values(), e.name


def test_keys_are_unique_short_and_readable_per_page() -> None:
    for page, spec in PAGES.items():
        keys = spec.keys()
        assert len(keys) == len(set(keys)), page
        assert spec.mode_key in keys
        assert "run" not in keys  # the runner's ?run=<id>
        for k in keys:
            assert re.fullmatch(r"[a-z][a-z0-9_]{0,19}", k), k
            assert all(p.is_default(p.default) for p in spec.params)


@pytest.mark.parametrize(("page", "mode"), page_modes())
def test_round_trip_of_defaults_and_of_each_changed_knob(page: str, mode: str) -> None:
    spec = PAGES[page]
    base = {**spec.defaults(), spec.mode_key: mode}
    cases = [base] + [{**base, p.key: variant(p)} for p in spec.params if p.key != spec.mode_key and p.shows_in(mode)]
    for values in cases:
        try:
            settings = spec.from_values(mode, values)
        except ValueError:  # a variant the settings refuse (e.g. idempotence with acks=1): not a link
            continue
        assert type(settings) is REGISTRY[spec.modes[mode]].settings_type
        params = links.settings_to_params(page, settings)
        back, notes = links.params_to_settings(page, params)
        assert notes == []
        assert back == settings, (page, mode, params)


def test_link_for_a_stored_run() -> None:
    link = links.link_for("produce", ProducerSettings(acks="1", compression="lz4", linger_ms=20.0,
                                                      duration_s=5.0, count=None, rate=5000.0))
    assert link == "/producer?acks=1&codec=lz4&linger_ms=20"
    url = urlsplit(link)
    params = {k: v[-1] for k, v in parse_qs(url.query).items()}
    settings, notes = links.params_to_settings(url.path.strip("/"), params)
    assert notes == [] and settings.acks == "1" and settings.compression == "lz4" and settings.linger_ms == 20.0


def test_link_for_defaults_is_the_bare_page_and_multi_values_repeat() -> None:
    spec = PAGES["lag"]
    assert links.link_for("lag.watch", spec.from_values("watch", {**spec.defaults(), "group": "g"})) == "/lag?group=g"
    assert links.link_for("eos.fencing", PAGES["eos"].from_values("fencing", PAGES["eos"].defaults())) \
        == "/eos?scenario=fencing"
    demo = spec.from_values("scenario", {**spec.defaults(), "phases": ("slow", "stop")})
    assert links.link_for("lag.scenario", demo) == "/lag?mode=scenario&phases=slow&phases=stop"


def test_link_for_an_experiment_without_a_page_is_refused() -> None:
    from lab.core.errors import SettingsError
    with pytest.raises(SettingsError):
        links.link_for("produce.cross-check", object())


@pytest.mark.parametrize(("page", "mode"), page_modes())
def test_no_secret_in_any_link(page: str, mode: str) -> None:
    spec = PAGES[page]
    for key in spec.keys():  # noqa: SIM118 (PageLinks.keys(), not a dict)
        assert not SECRET.search(key), key
    values = {**spec.defaults(), **{p.key: variant(p) for p in spec.params}, spec.mode_key: mode}
    try:
        settings = spec.from_values(mode, values)
    except ValueError:
        settings = spec.from_values(mode, {**spec.defaults(), spec.mode_key: mode})
    for key, value in links.settings_to_params(page, settings).items():
        assert not SECRET.search(key) and not SECRET.search(links.shown(value)), (key, value)


@pytest.mark.parametrize(("key", "raw"), [
    ("linger_ms", "abc"), ("linger_ms", "-1"), ("acks", "2"), ("codec", "brotli"), ("idempotence", "yes"),
    ("batch_size", "999"), ("msg_size", "1.5"), ("rate", "nan"), ("mode", "bogus"),
])
def test_tampered_values_fall_back_to_the_default_with_a_note(key: str, raw: str) -> None:
    settings, notes = links.params_to_settings("producer", {key: raw, "acks": "1"} if key != "acks" else {key: raw})
    default, _ = links.params_to_settings("producer", {"acks": "1"} if key != "acks" else {})
    assert settings == default
    assert len(notes) == 1 and f"`{key}={raw}`" in notes[0] and "allowed:" in notes[0]


def test_note_names_the_range_and_the_default() -> None:
    _, notes = links.params_to_settings("eos", {"scenario": "idempotent", "socket_timeout_ms": "99999"})
    assert notes == ["Link parameter `socket_timeout_ms=99999` was not valid (allowed: 200–5000); "
                     "the default 1000 is used."]


def test_unknown_and_run_params_are_ignored() -> None:
    settings, notes = links.params_to_settings("producer", {"run": "abc123", "bootstrap": "evil:9092", "x": "1"})
    assert notes == [] and settings == links.params_to_settings("producer", {})[0]


def test_multi_values_are_checked_item_by_item() -> None:
    _, notes = links.params_to_settings("consumer", {"mode": "strategies", "strategies": ["range", "bogus"]})
    assert len(notes) == 1 and "strategies=range&bogus" in notes[0]
    s, notes = links.params_to_settings("consumer", {"mode": "strategies", "strategies": ["roundrobin"]})
    assert notes == [] and s.strategies == ("roundrobin",)


def test_the_preset_is_found_again_from_its_settings() -> None:
    spec = PAGES["producer"]
    for name in PRESETS:
        settings = spec.from_values("single", {**spec.defaults(), "preset": name})
        assert links.settings_to_params("producer", settings).get("preset") == name
