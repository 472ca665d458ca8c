"""The registry drives both faces: every CLI command that runs an experiment is an entry, every entry's
commands exist, every page's experiments exist as pages, names are unique and stable."""

from __future__ import annotations

import argparse
from pathlib import Path

from lab import registry as experiments
from lab.cli.app import build_parser
from lab.core.results import Result

ROOT = Path(__file__).resolve().parents[2]
#: CLI commands that are not experiment runs (instant reads, cluster control, housekeeping).
NOT_EXPERIMENTS = {("cluster", "up"), ("cluster", "down"), ("cluster", "status"), ("broker",),
                   ("topics", "create"), ("topics", "describe"), ("producer", "cleanup"), ("replication", "describe"),
                   ("runs", "list"), ("runs", "show"), ("runs", "rerun"), ("runs", "delete"), ("runs", "export"),
                   ("share", "describe"),
                   # a lesson runs its registered experiment by the lesson's id (tests/unit/test_lessons.py)
                   ("lesson", "list"), ("lesson", "show"), ("lesson", "run"), ("lesson", "export"),
                   ("class", "start"), ("class", "status"), ("class", "end")}


def command_paths() -> set[tuple[str, ...]]:
    parser, handlers = build_parser()
    paths: set[tuple[str, ...]] = set()
    groups = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for gname, gparser in groups.choices.items():
        subs = [a for a in gparser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            paths.add((gname,))
        for s in subs:
            paths.update((gname, v) for v in s.choices)
    assert paths == set(handlers), "every parsed command has a handler and vice versa"
    return paths


def test_every_cli_run_is_a_registered_experiment() -> None:
    paths = command_paths()
    runs = paths - NOT_EXPERIMENTS
    declared = {p for e in experiments.REGISTRY.values() for p in e.cli}
    assert runs == declared, (runs - declared, declared - runs)
    for p in runs:
        assert experiments.for_command(p) is not None


def test_entries_are_consistent() -> None:
    assert len(experiments.REGISTRY) >= 8
    for name, e in experiments.REGISTRY.items():
        assert e.name == name and e.title
        assert issubclass(e.result_type, Result), f"{name}: {e.result_type} does not derive from Result"
        assert e.page is None or (ROOT / "pages" / f"{e.page}.py").exists(), name
        assert callable(e.fn) and callable(e.time_limit) and callable(e.render_text)
    broker_changers = {n for n, e in experiments.REGISTRY.items() if e.changes_brokers}
    assert broker_changers == {"replication.min-isr", "replication.hw-leo", "replication.unclean", "replication.elr",
                               "eos.idempotent", "eos.pipeline"}


def test_pages_offer_their_experiments() -> None:
    assert {e.name for e in experiments.for_page("producer")} == {"produce", "produce.sweep"}
    assert {e.name for e in experiments.for_page("replication")} == {
        "replication.monitor", "replication.min-isr", "replication.hw-leo", "replication.unclean",
        "replication.elr", "replication.storage"}
    assert {e.name for e in experiments.for_page("consumer")} == {
        "consumer.seed", "consumer.benchmark", "consumer.sweep", "consumer.cross-check", "consumer.strategies",
        "consumer.static-membership", "consumer.protocols"}
    assert {e.name for e in experiments.for_page("eos")} == {
        "eos.idempotent", "eos.transactional", "eos.fencing", "eos.pipeline"}


def test_lag_page_offers_the_lag_watch() -> None:
    assert {e.name for e in experiments.for_page("lag")} >= {"lag.watch"}


def test_unknown_experiment_says_what_is_known() -> None:
    import pytest

    from lab.core.errors import SettingsError

    with pytest.raises(SettingsError) as info:
        experiments.get("nope")
    assert "replication.min-isr" in str(info.value)


def test_every_experiment_asks_one_question() -> None:
    """A report and a page lead with the question a run answers: one sentence, asked."""
    for e in experiments.REGISTRY.values():
        assert e.question.endswith("?") and e.question[0].isupper() and e.question.count("?") == 1, e.name
