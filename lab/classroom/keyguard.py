"""The teacher key, tried: a few tries a minute per browser session and a limit for the whole server, so a
student cannot guess it by trying fast (the key itself is compared as a salted hash in constant time)."""

from __future__ import annotations

import threading
import time
from collections import deque

from lab.classroom.session import ClassSession
from lab.core.errors import NotAllowed

#: Tries per browser session within ``WINDOW_S``, and for the whole server (many tabs are many sessions).
TRIES_PER_CLIENT = 3
TRIES_PER_SERVER = 20
WINDOW_S = 60.0


class KeyGuard:
    """Counts tries in a sliding window; ``check`` raises ``NotAllowed`` for a wrong key or too many tries."""

    def __init__(self, per_client: int = TRIES_PER_CLIENT, per_server: int = TRIES_PER_SERVER,
                 window_s: float = WINDOW_S) -> None:
        self.per_client, self.per_server, self.window_s = per_client, per_server, window_s
        self._now = time.monotonic
        self._lock = threading.Lock()
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def _wait_s(self, tries: deque[float], limit: int, now: float) -> float:
        while tries and now - tries[0] >= self.window_s:
            tries.popleft()
        return self.window_s - (now - tries[0]) if len(tries) >= limit else 0.0

    def check(self, session: ClassSession, client: str, key: str) -> None:
        """Accept the teacher key for ``client`` (a browser session id), or raise ``NotAllowed`` saying why."""
        with self._lock:
            now = self._now()
            mine = self._clients.setdefault(client, deque())
            mine_wait = self._wait_s(mine, self.per_client, now)
            all_wait = self._wait_s(self._all, self.per_server, now)
            if mine_wait > 0 or all_wait > 0:
                limit = (f"{self.per_client} tries a minute per browser" if mine_wait >= all_wait
                         else f"{self.per_server} tries a minute on this server")
                raise NotAllowed("Too many tries of the teacher key.",
                                 hint=f"Try again in {max(mine_wait, all_wait):.0f} s ({limit}).")
            mine.append(now)
            self._all.append(now)
        if not session.key_matches(key):
            raise NotAllowed("That is not the teacher key of this class.",
                             hint="The key was printed once when the class started (`kafka-lab class start`).")
        with self._lock:
            self._clients.pop(client, None)  # the right key: this browser starts afresh


#: The server's guard (one per process: the app's server).
GUARD = KeyGuard()
