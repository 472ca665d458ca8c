"""Every number a person types into a page is used as typed or refused with a message that names the field
and what is allowed — never cut (1.5 -> 1) or put back to a default (empty, letters). Walks every page,
every mode, every number field, with the values a fuzz of the sidebar found replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.export.links import PAGES
from lab.export.params import Param

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
MODE_WIDGET = {"producer": "producer_mode", "replication": "repl_kind", "eos": "eos_kind",
               "consumer": "consumer_mode", "lag": "lag_mode"}
RUN_BUTTON = {"producer": "producer_run_btn", "replication": "repl_run_btn", "eos": "eos_run_btn",
              "consumer": "consumer_run_btn", "lag": "lag_run_btn"}
#: what a person may type: a decimal, nothing, letters, a negative and a huge number
TYPED = ("1.5", "", "abc", "-5", "1e12")


def number_fields(at: AppTest, page: str) -> dict[str, tuple[Param, object]]:
    """The page's number fields shown now: key -> (link parameter, the text input)."""
    spec = PAGES[page]
    numeric = {p.key: p for p in spec.params if p.kind in ("int", "float")}
    return {w.key: (numeric[w.key], w) for w in at.text_input if w.key in numeric}


def used_as_typed(p: Param, typed: str, value: object) -> bool:
    try:
        return p.parse(typed) == p.parse(str(value))
    except ValueError:
        return False


def expected_refusal(p: Param, typed: str) -> str | None:
    """The words the refusal must carry, or None when ``p`` takes ``typed``."""
    try:
        p.parse(typed)
        return None
    except ValueError:
        pass
    if not typed:
        return "is empty"
    if typed == "abc":
        return "not a number"
    if typed == "1.5" and p.kind == "int":
        return "not a whole number"
    return "out of range"


@pytest.mark.parametrize("page", list(MODE_WIDGET))
def test_every_typed_number_is_used_or_refused_never_replaced(app_env: LocalCluster, page: str) -> None:
    spec = PAGES[page]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    checked, seen = 0, set[str]()
    for mode in spec.modes:
        option = mode if page in ("producer", "lag") else spec.modes[mode]
        widget = next((w for kind in (at.selectbox, at.radio) for w in kind if w.key == MODE_WIDGET[page]), None)
        if widget is not None and widget.value != option:
            widget.set_value(option).run()
            assert not at.exception, at.exception
        for key, (p, field) in number_fields(at, page).items():
            if key in seen:  # the same field in another mode: checked once
                continue
            seen.add(key)
            label = field.label
            default = field.value
            for typed in TYPED:
                at.text_input(key=key).input(typed).run()
                assert not at.exception, (mode, key, typed, at.exception)
                words = expected_refusal(p, typed)
                errors = [str(e.value) for e in at.error]
                if words is None:  # taken: the value is what was typed, and nothing complains about the field
                    assert used_as_typed(p, typed, at.text_input(key=key).value), (mode, key, typed)
                    assert not [e for e in errors if f"**{label}**" in e], (mode, key, typed, errors)
                else:
                    assert any(f"**{label}**" in e and words in e for e in errors), (mode, key, typed, errors)
                    assert at.text_input(key=key).value == typed, "the typed text stays for fixing"
                    assert at.button(key=RUN_BUTTON[page]).disabled, (mode, key, typed, "Run must be off")
                checked += 1
            at.text_input(key=key).input(default).run()
            assert not [e for e in at.error if f"**{label}**" in str(e.value)], (mode, key)
    assert checked >= len(TYPED), f"no number field found on {page}"
