"""The launcher's writes to the run store: a run began, answers a lesson, was made in a class, ended. None of
them raises — a store problem must never stop or fail a run; the last problem is kept for the pages and the
CLI to show (``last_problem``) and logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from lab.runs.store import RunRecord, RunStoreError, open_store

LOG = logging.getLogger("lab.runs.store")
_problem: list[str | None] = [None]


def last_problem() -> str | None:
    """Why the launcher's latest write to the store failed, or None when it worked (also logged)."""
    return _problem[0]


def _note(run_id: str, exc: BaseException | None) -> None:
    if exc is None:
        _problem[0] = None
        return
    text = str(exc) if isinstance(exc, RunStoreError) else f"The run could not be saved: {exc!r}"
    _problem[0] = text
    LOG.warning("run %s not saved: %s", run_id, text)


def record_start(run_id: str, experiment: str, settings: Any, face: str, started_at: str) -> None:
    """The launcher's "a run began" (never raises: a store problem must not stop a run)."""
    try:
        open_store().begin(run_id, experiment, settings, face, started_at)
    except Exception as exc:  # noqa: BLE001 - kept for last_problem(); the run goes on
        _note(run_id, exc)
    else:
        _note(run_id, None)


def record_lesson(run_id: str, lesson: str, prediction: str | None) -> None:
    """The launcher's "this run answers a lesson" (never raises, like ``record_start``)."""
    try:
        open_store().set_lesson(run_id, lesson, prediction)
    except Exception as exc:  # noqa: BLE001 - kept for last_problem(); the run goes on
        _note(run_id, exc)


def record_person(run_id: str, class_id: str, who: str) -> None:
    """The launcher's "this run was made in a class, by…" (never raises, like ``record_start``)."""
    try:
        open_store().set_person(run_id, class_id, who)
    except Exception as exc:  # noqa: BLE001 - kept for last_problem(); the run goes on
        _note(run_id, exc)


def record_end(run_id: str, build: Callable[[], RunRecord]) -> None:
    """The launcher's "a run ended": ``build()`` the record and save it. Never raises (not even when
    building the record does): the run's result is returned whatever happens here."""
    try:
        open_store().save(build())
    except Exception as exc:  # noqa: BLE001 - kept for last_problem(); the result is still returned
        _note(run_id, exc)
    else:
        _note(run_id, None)


__all__ = ["last_problem", "record_end", "record_lesson", "record_person", "record_start"]
