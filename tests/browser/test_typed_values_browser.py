"""What a person sees when they type a number the lab cannot use: the text stays as typed, a message under
the field names it and what is allowed, Run is off; a good value brings Run back. In Chromium, where
Streamlit's number widget used to cut ``1.5`` to ``1`` and put an emptied field back to its default."""

from __future__ import annotations

from pathlib import Path

from tests.browser.app_state import wait_idle, wait_page_shown

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"
#: until the Run button is (not) disabled: the URL changes before the script run that redraws it
RUN_IS = "() => document.querySelector(\"[class*='st-key-producer_run_btn'] button\")?.disabled === {disabled}"


def test_a_decimal_message_size_is_refused_in_the_browser(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{app_url}/producer")
    wait_page_shown(page)
    field = page.locator("[class*='st-key-msg_size'] input").first
    try:
        page.wait_for_function(RUN_IS.format(disabled="false"))
        for typed, words in (("1.5", "not a whole number"), ("", "is empty"), ("ten", "not a number")):
            field.fill(typed)
            field.press("Enter")
            page.get_by_text(words, exact=False).first.wait_for()
            wait_idle(page)
            assert field.input_value() == typed, "the typed text stays"
            assert "Message size (bytes)" in page.locator("[data-testid='stAlertContentError']").first.inner_text()
            page.wait_for_function(RUN_IS.format(disabled="true"))
        field.fill("2048")
        field.press("Enter")
        page.wait_for_function("() => new URLSearchParams(location.search).get('msg_size') === '2048'")
        page.wait_for_function(RUN_IS.format(disabled="false"))  # the rerun that takes 2048 turns Run back on
        assert "not a number" not in page.inner_text("body")
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "typed-values-fail.png"), full_page=True)
        raise
