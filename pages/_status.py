"""What pages ask the cluster on every run, asked once per server instead of once per session and widget:
each question costs a new admin client and a round trip (60-100 ms, 2 s against a dead cluster), and a
page used to ask several, before its first widget and again every few seconds in each session's badge.

- the cluster's status: one reader thread per cluster re-reads it every ``READ_EVERY_S`` while some page
  has asked in the last ``IDLE_AFTER_S``; a page gets the last value, read at once only when it is older
  than the page can use;
- topic lists: kept for ``TOPICS_TTL_S``.

After the app changes the cluster itself (a broker button, `Start the cluster`, creating topics),
``forget(cluster)`` makes the next question ask again. Plain Python: no Streamlit in here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from lab.cluster import Cluster, ClusterStatus
from lab.kafka import admin

#: How often the reader thread re-reads a cluster's status while pages look at it (seconds).
READ_EVERY_S = 2.0
#: The reader stops this long after the last page asked, and starts again with the next question.
IDLE_AFTER_S = 30.0
#: A status older than this is read again before a page uses it (the reader keeps it younger).
STATUS_MAX_AGE_S = 3 * READ_EVERY_S
#: How long a topic list is reused.
TOPICS_TTL_S = 1.5

T = TypeVar("T")


class Shared(Generic[T]):
    """One answer to one question, shared by every thread: asked by one thread at a time (the others
    wait for its answer instead of asking too), errors kept like answers (a dead cluster is an answer)."""

    def __init__(self, ask: Callable[[], T]) -> None:
        self._ask = ask
        self._lock = threading.Lock()
        #: (when, answer, error): replaced whole, so a reader never sees half of two answers
        self._answer: tuple[float, T | None, BaseException | None] = (float("-inf"), None, None)

    def age(self) -> float:
        return time.monotonic() - self._answer[0]

    def get(self, max_age: float) -> T:
        if self.age() > max_age:
            with self._lock:
                if self.age() > max_age:  # not answered while this thread waited for the lock
                    self._refresh()
        _, value, error = self._answer
        if error is not None:
            raise error.with_traceback(None)  # raised again and again: do not grow its traceback
        return value  # type: ignore[return-value]

    def refresh(self) -> None:
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        try:
            value, error = self._ask(), None
        except Exception as exc:  # noqa: BLE001 - handed to every caller of get()
            value, error = None, exc
        self._answer = (time.monotonic(), value, error)

    def forget(self) -> None:
        self._answer = (float("-inf"), *self._answer[1:])


class _ClusterAnswers:
    """The shared answers of one cluster, and the thread that keeps its status fresh."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.status = Shared(cluster.status)
        self.topics = {cfg: Shared(self._topics_asker(cfg)) for cfg in (True, False)}
        self._asked = time.monotonic()
        self._wake = threading.Event()
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()

    def _topics_asker(self, with_configs: bool) -> Callable[[], list[Any]]:
        return lambda: admin.describe_topics(self.cluster, with_configs=with_configs)

    def asked(self) -> None:
        """A page asked: keep (or start) the reader."""
        self._asked = time.monotonic()
        with self._lock:
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="lab-status-reader", daemon=True)
                self._reader.start()
            else:
                self._wake.set()

    def _read(self) -> None:
        while True:
            if time.monotonic() - self._asked > IDLE_AFTER_S:  # nobody looks: sleep until a page asks
                self._wake.clear()
                self._wake.wait()
            time.sleep(READ_EVERY_S)
            if self.status.age() >= READ_EVERY_S / 2:  # not just read for a page
                self.status.refresh()


_answers: dict[int, _ClusterAnswers] = {}
_answers_lock = threading.Lock()


def _of(cluster: Cluster) -> _ClusterAnswers:
    # keyed by the object: the app holds one Cluster per server (pages._shared.get_cluster)
    a = _answers.get(id(cluster))
    if a is None or a.cluster is not cluster:
        with _answers_lock:
            a = _answers.get(id(cluster))
            if a is None or a.cluster is not cluster:
                a = _answers[id(cluster)] = _ClusterAnswers(cluster)
    return a


def status(cluster: Cluster, max_age: float = STATUS_MAX_AGE_S) -> ClusterStatus:
    """The cluster's status as the reader last saw it (at most ``max_age`` seconds old)."""
    a = _of(cluster)
    a.asked()
    return a.status.get(max_age)


def topics(cluster: Cluster, *, with_configs: bool = True) -> list[Any]:
    """``admin.describe_topics``, reused for ``TOPICS_TTL_S``."""
    return _of(cluster).topics[with_configs].get(TOPICS_TTL_S)


def forget(cluster: Cluster) -> None:
    """The app just changed the cluster: ask again next time."""
    a = _of(cluster)
    a.status.forget()
    for t in a.topics.values():
        t.forget()
