"""Shareable links in a real browser: a link opens the Producer page with its widgets as the link says and
starts nothing; changing a widget changes the address bar, and the link box follows."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lab.cluster import LocalCluster
from tests.browser.app_state import wait_idle

SHOTS = Path(__file__).resolve().parents[2] / ".pytest_cache" / "screenshots"


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def shows(page, key: str) -> str:  # type: ignore[no-untyped-def]
    """What a widget shows: its text and the values of its inputs (a selectbox keeps its value in one)."""
    return str(page.locator(f"[class*='st-key-{key}']").first.evaluate(
        "el => el.innerText + ' ' + Array.from(el.querySelectorAll('input')).map(i => i.value).join(' ')"))


def test_a_link_restores_the_producer_page_and_the_address_bar_follows(  # type: ignore[no-untyped-def]
        page, app_url: str, cluster: LocalCluster) -> None:
    page.goto(f"{app_url}/producer?acks=1&codec=lz4&linger_ms=20&mode=codec")
    try:
        page.get_by_text("compression.type").first.wait_for()
        acks = page.locator("[class*='st-key-acks'] input[type='radio']")
        page.wait_for_function("() => document.querySelectorAll(\"[class*='st-key-acks'] input\").length === 3")
        assert [acks.nth(i).is_checked() for i in range(3)] == [False, True, False]  # 0, 1, all
        assert "lz4" in shows(page, "codec")
        assert page.locator("[class*='st-key-linger_ms'] input").first.input_value() == "20"
        assert "Codec comparison" in shows(page, "producer_mode")
        # offered, not started: Run is on, Cancel off, no run in the address bar, no progress
        assert page.locator("[class*='st-key-producer_run_btn'] button").first.is_enabled()
        assert not page.locator("[class*='st-key-producer_cancel_btn'] button").first.is_enabled()
        page.get_by_text("Set the knobs in the sidebar and press").first.wait_for()
        assert "run" not in query(page.url)
        assert query(page.url)["acks"] == ["1"] and query(page.url)["codec"] == ["lz4"]
        assert "Link parameter" not in page.inner_text("body")

        page.locator("[class*='st-key-acks'] label", has_text="all").first.click()  # the default: leaves the URL
        page.wait_for_function("() => !new URLSearchParams(location.search).has('acks')")
        field = page.locator("[class*='st-key-linger_ms'] input").first
        field.fill("50")
        field.press("Enter")
        page.wait_for_function("() => new URLSearchParams(location.search).get('linger_ms') === '50'")
        q = query(page.url)
        assert q["codec"] == ["lz4"] and q["mode"] == ["codec"] and "acks" not in q
        page.wait_for_function("() => document.body.innerText.includes('linger_ms=50')")  # the link box too
        assert "acks=" not in page.locator("[data-testid='stCode']").last.inner_text()

        # another page takes none of these parameters, and does not call them tampered
        page.get_by_text("5 · Consumer tuning").first.click()
        page.get_by_text("Fetch parameters").first.wait_for()
        wait_idle(page)  # the page's run has ended: its link notes (drawn last, in the sidebar) are there or never
        assert "Link parameter" not in page.inner_text("body"), page.url
        assert "codec" not in query(page.url) and "linger_ms" not in query(page.url), page.url
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "links-fail.png"), full_page=True)
        (SHOTS / "links-fail.txt").write_text(page.url + "\n" + page.inner_text("body"))
        raise


def test_a_tampered_link_is_refused_not_replaced(page, app_url: str, cluster: LocalCluster) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{app_url}/producer?linger_ms=abc&acks=2&codec=lz4")
    page.get_by_text("Link parameter", exact=False).first.wait_for()
    page.get_by_text("is not a number", exact=False).first.wait_for()
    wait_idle(page)
    body = page.inner_text("body")
    assert "acks=2" in body and "allowed: 0, 1, all" in body, "a choice the widget cannot hold: a note"
    assert "linger.ms" in body and "not a number" in body, "a typed number it cannot use: refused"
    page.wait_for_function(  # kept as typed (the field is drawn after the messages)
        "() => document.querySelector(\"[class*='st-key-linger_ms'] input\")?.value === 'abc'")
    assert page.locator("[class*='st-key-producer_run_btn'] button").first.is_disabled()
    assert query(page.url)["codec"] == ["lz4"] and query(page.url)["linger_ms"] == ["abc"]
