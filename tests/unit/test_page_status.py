"""The pages' shared answers (pages/_status.py): one question in flight at a time however many sessions ask,
a failure kept like an answer, ``forget`` asks again."""

from __future__ import annotations

import threading

import pytest

from lab import LabError
from pages import _status


def test_concurrent_askers_share_one_question() -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def ask() -> int:
        calls.append(1)
        started.set()
        release.wait()
        return 42

    shared = _status.Shared(ask)
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(shared.get(max_age=60))) for _ in range(4)]
    threads[0].start()
    started.wait()
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert got == [42] * 4
    assert len(calls) == 1


def test_a_failure_is_an_answer_until_forgotten() -> None:
    calls: list[int] = []

    def ask() -> int:
        calls.append(1)
        raise LabError("no broker answered")

    shared = _status.Shared(ask)
    for _ in range(3):
        with pytest.raises(LabError, match="no broker answered"):
            shared.get(max_age=60)
    assert len(calls) == 1
    shared.forget()
    with pytest.raises(LabError):
        shared.get(max_age=60)
    assert len(calls) == 2
