"""What the app is doing right now, as the browser sees it: tests wait on these conditions, not on time.

Streamlit marks its root element with the connection state and the state of the session's script run
(``data-test-connection-state``, ``data-test-script-state``): the run is over when it is ``notRunning``.
Fragments (the sidebar badge, the broker buttons, a live view) run on their own every few seconds, so
"not running" is a moment between runs, caught by polling at every animation frame."""

from __future__ import annotations

from typing import Any

#: JavaScript condition: the session is connected and no script run (whole page or fragment) is going on.
_IDLE = ("(() => { const app = document.querySelector(\"[data-testid='stApp']\"); return !!app"
         " && app.dataset.testConnectionState === 'CONNECTED' && app.dataset.testScriptState === 'notRunning'; })()")
IDLE_JS = f"() => {_IDLE}"
#: JavaScript: as IDLE_JS, and the main area shows a page (its title), so a run has drawn something.
PAGE_SHOWN_JS = f"() => {_IDLE} && !!document.querySelector(\"[data-testid='stMain'] h1\")"


def wait_idle(page: Any, timeout_ms: float | None = None) -> None:
    """Until the session's current script run has ended (see the module docstring).

    Only meaningful once the browser has seen that run start: after text the run writes, or after
    ``goto`` (a new session shows ``initial`` until its first run)."""
    kw = {"timeout": timeout_ms} if timeout_ms is not None else {}
    page.wait_for_function(IDLE_JS, polling="raf", **kw)


def wait_page_shown(page: Any, timeout_ms: float | None = None) -> None:
    """After ``goto``: until the page's first run has ended and drawn its title."""
    kw = {"timeout": timeout_ms} if timeout_ms is not None else {}
    page.wait_for_function(PAGE_SHOWN_JS, polling="raf", **kw)
