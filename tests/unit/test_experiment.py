"""The background runner: progress, cancel, time bound and error hand-over."""

from __future__ import annotations

import threading
import time

import pytest

from lab.core import context as experiment
from lab.core.errors import Cancelled, LabError, SettingsError


def counting(n: int):
    def fn(ctx: experiment.RunContext) -> int:
        for i in range(n):
            ctx.check()
            ctx.report(i / n, f"step {i}", partial=i)
        return n

    return fn


def test_result_and_final_progress() -> None:
    assert experiment.run_sync(counting(1000), time_limit_s=30) == 1000


def test_progress_snapshots_are_reported() -> None:
    seen: list[experiment.Progress] = []
    gate = threading.Event()

    def fn(ctx: experiment.RunContext) -> str:
        ctx.report(0.5, "half", partial=[1, 2])
        gate.wait(10)
        return "ok"

    run = experiment.start(fn, time_limit_s=30)
    deadline = time.monotonic() + 10
    while run.progress().message != "half" and time.monotonic() < deadline:
        time.sleep(0.01)
    seen.append(run.progress())
    gate.set()
    assert run.wait() == "ok"
    assert seen[0].fraction == 0.5 and seen[0].partial == [1, 2]


def test_cancel_stops_a_waiting_experiment_promptly() -> None:
    def fn(ctx: experiment.RunContext) -> None:
        while True:
            ctx.sleep(60)

    run = experiment.start(fn, time_limit_s=120)
    run.cancel()
    with pytest.raises(Cancelled, match="cancelled by the user"):
        run.wait(timeout_s=5)


def test_cancelled_at_is_the_press_or_the_deadline_and_children_share_it() -> None:
    """A stop's clean-up is bounded from the moment of the cancel (``lab.producer.stopping``), not from when
    the experiment's loop noticed it."""
    ctx = experiment.RunContext(60)
    child = experiment.ChildContext(ctx)
    assert ctx.cancelled_at is None and child.cancelled_at is None
    before = time.monotonic()
    ctx.cancel()
    pressed = ctx.cancelled_at
    assert pressed is not None and before <= pressed <= time.monotonic()
    ctx.cancel("again")
    assert ctx.cancelled_at == pressed == child.cancelled_at, "a second cancel does not move it"
    timed = experiment.RunContext(0)
    assert timed.cancelled and timed.cancelled_at == timed.deadline


def test_time_limit_cancels() -> None:
    def fn(ctx: experiment.RunContext) -> None:
        while True:
            ctx.sleep(0.05)

    with pytest.raises(Cancelled, match="time limit of 0 s"):
        experiment.run_sync(fn, time_limit_s=0.2)


def test_lab_errors_pass_through_and_others_are_wrapped() -> None:
    def bad_settings(ctx: experiment.RunContext) -> None:
        raise SettingsError("acks=7 is not valid", hint="Use 0, 1 or all.")

    def bug(ctx: experiment.RunContext) -> None:
        raise ZeroDivisionError("boom")

    with pytest.raises(SettingsError, match="acks=7"):
        experiment.run_sync(bad_settings, time_limit_s=5)
    with pytest.raises(LabError, match="failed: ZeroDivisionError") as info:
        experiment.run_sync(bug, time_limit_s=5, name="bench")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_error_and_result_are_hidden_until_done() -> None:
    gate = threading.Event()
    run = experiment.start(lambda ctx: gate.wait(10), time_limit_s=30)
    assert not run.done and run.result is None and run.error is None
    gate.set()
    assert run.wait() is True and run.done
