"""`./lab.sh start` opens the app only once the server answers, and gives up in bounded time."""

from __future__ import annotations

import http.server
import threading

from lab import open_browser


def test_gives_up_when_nothing_answers(monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(open_browser.webbrowser, "open", opened.append)
    assert open_browser.wait_then_open("http://127.0.0.1:9", wait_s=0.3) is False
    assert opened == []


def test_opens_once_the_health_endpoint_answers(monkeypatch) -> None:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    opened: list[str] = []
    monkeypatch.setattr(open_browser.webbrowser, "open", lambda url: opened.append(url) or True)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert open_browser.wait_then_open(url, wait_s=5) is True
        assert opened == [url]
    finally:
        server.shutdown()
        server.server_close()
