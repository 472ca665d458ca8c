"""Stored runs as text for a terminal: the listing table and one run's header (its result reads as its
experiment's own ``render_text``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lab.core.codec import to_jsonable
from lab.core.text import table
from lab.runs.store import RunRecord, RunSummary

#: Characters of a stopped/error note shown in a listing row (``runs show`` has the whole text).
NOTE_WIDTH = 60


def when(iso: str | None) -> str:
    """``2026-12-01T10:00:00.123+00:00`` -> ``2026-12-01 10:00:00`` (the store's times are UTC)."""
    return "-" if not iso else iso[:19].replace("T", " ")


def took(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _note(s: RunSummary) -> str:
    text = (s.error or s.stopped or "").splitlines()
    first = text[0] if text else ""
    return first if len(first) <= NOTE_WIDTH else first[: NOTE_WIDTH - 1] + "…"


def listing(rows: Sequence[RunSummary], total: int, offset: int = 0) -> str:
    """The runs as a table, newest first, with how many of how many are shown."""
    if not rows:
        return "No stored runs match." if total == 0 else f"No runs on this page ({total} match; lower --offset)."
    body = table([(r.run_id, when(r.started_at), r.experiment, r.status, took(r.elapsed_s), r.face, _note(r))
                  for r in rows], ["run", "started (UTC)", "experiment", "status", "took", "from", "note"])
    shown = f"{offset + 1}-{offset + len(rows)}" if offset else str(len(rows))
    more = " (see more with --limit / --offset)" if offset + len(rows) < total else ""
    return f"{body}\n\n{shown} of {total} run(s){more}. `kafka-lab runs show RUN` for one."


def settings_lines(settings: Any) -> list[str]:
    """``name = value`` per top-level setting (nested ones as compact JSON)."""
    data = to_jsonable(settings)
    if not isinstance(data, dict):
        return [f"  {json.dumps(data)}"]
    return [f"  {k} = {v if isinstance(v, str) else json.dumps(v, separators=(',', ':'))}" for k, v in data.items()]


def header(rec: RunRecord, title: str | None = None) -> str:
    """Who, when, where and how a run ended, and its settings."""
    lines = [f"run:         {rec.run_id}",
             f"experiment:  {rec.experiment}" + (f" ({title})" if title else ""),
             f"status:      {rec.status}",
             f"started:     {when(rec.started_at)} UTC, from the {rec.face}",
             f"ended:       {when(rec.ended_at)}" + (f" UTC, took {took(rec.elapsed_s)}" if rec.ended_at else "")]
    if rec.cluster is not None:
        c = rec.cluster
        lines.append(f"cluster:     {c.backend} at {c.bootstrap_servers}"
                     + (f", Kafka {c.kafka_version}" if c.kafka_version else "")
                     + (f", {c.broker_count} brokers" if c.broker_count else "")
                     + (f", id {c.cluster_id}" if c.cluster_id else ""))
    if rec.stopped:
        lines.append(f"stopped:     {rec.stopped}")
    if rec.error:
        lines.append("error:       " + rec.error.replace("\n", "\n             "))
    if rec.note:
        lines.append(f"note:        {rec.note}")
    lines.append("settings:")
    lines.extend(settings_lines(rec.settings))
    return "\n".join(lines)
