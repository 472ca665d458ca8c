"""Open the app in the default browser as soon as its server answers: `./lab.sh start` runs Streamlit
headless (no first-run e-mail prompt, nothing opened on a projector-less server), and this opens the page
on a desktop instead. Gives up quietly after ``WAIT_S`` seconds.

    python -m lab.open_browser http://localhost:8501
"""

from __future__ import annotations

import sys
import time
import urllib.request
import webbrowser

WAIT_S = 60.0


def wait_then_open(url: str, wait_s: float = WAIT_S) -> bool:
    """Poll Streamlit's health endpoint until it answers, then open ``url``; False when it never did."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/_stcore/health", timeout=1):
                return webbrowser.open(url)
        except OSError:
            time.sleep(0.5)  # the server is still starting
    return False


if __name__ == "__main__":
    wait_then_open(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8501")
