"""The table of experiments that layers below the registry read: the codec's types, the run store's
settings and result types, a link's page, the launcher's ``Experiment`` type.

``lab.registry`` declares every experiment and fills this table when it is imported (the faces, the CLI
and the tests import it at start-up); nothing here imports a phase, so the run store and the codec stay
below the experiments they store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lab.core.context import RunContext
from lab.core.errors import SettingsError
from lab.core.results import Result

S = TypeVar("S")
R = TypeVar("R", bound=Result)


@dataclass(frozen=True)
class Experiment(Generic[S, R]):
    """One experiment of the lab: what it is called, what it takes and returns, how it runs and reads."""

    #: stable id, stored with every run: "produce", "replication.min-isr", …
    name: str
    #: what a person calls it: "min.insync.replicas under broker failure"
    title: str
    settings_type: type[S]
    result_type: type[R]
    #: ``fn(cluster, settings, ctx) -> result`` (a ``lab.cluster.Cluster``, a ``RunContext``)
    fn: Callable[[Any, S, RunContext], R]
    #: the run's time bound for these settings (seconds)
    time_limit: Callable[[S], float]
    #: the result as text for a terminal
    render_text: Callable[[R], str]
    #: stops, pauses, kills or starts brokers: runs under the cluster lock, one at a time per cluster
    changes_brokers: bool = False
    #: the page that offers it (file stem under pages/), or None
    page: str | None = None
    #: CLI commands that run it, e.g. (("replication", "min-isr"),)
    cli: tuple[tuple[str, ...], ...] = ()
    #: lines to print while it runs, from its live partial result (e.g. timeline events); all lines so far
    live_lines: Callable[[Any], Sequence[str]] | None = None
    #: the question a run answers, one sentence (a report and a page lead with it)
    question: str = ""
    #: counts rather than times things and loads the cluster little: in a class's queue a few run together
    light: bool = False
    #: deletes and makes again the topic its settings name (``topic``/``topic_prefix``): two runs on one topic
    #: would destroy each other's, so a second is refused (in a class: it waits for the first)
    own_topic: bool = False


#: name -> experiment, in declaration order (filled by ``lab.registry``)
TABLE: dict[str, Experiment[Any, Any]] = {}


def register(entries: Iterable[Experiment[Any, Any]]) -> None:
    """Add experiments; a name declared twice with another definition is a programming error."""
    for e in entries:
        old = TABLE.get(e.name)
        if old is not None and old is not e:
            raise ValueError(f"Experiment {e.name!r} is declared twice.")
        TABLE[e.name] = e


def find(name: str) -> Experiment[Any, Any] | None:
    return TABLE.get(name)


def get(name: str) -> Experiment[Any, Any]:
    """The experiment called ``name``; ``SettingsError`` listing the known ones otherwise."""
    try:
        return TABLE[name]
    except KeyError:
        raise SettingsError(f"No experiment is called {name!r}.",
                            hint=f"Known experiments: {', '.join(TABLE) or 'none (lab.registry not imported)'}.") \
            from None


def for_result(result: object) -> Experiment[Any, Any] | None:
    """The experiment whose result type ``result`` is."""
    return next((e for e in TABLE.values() if e.result_type is type(result)), None)


def types() -> dict[str, type]:
    """Every settings and result type declared, by class name (the codec's default table)."""
    out: dict[str, type] = {}
    for exp in TABLE.values():
        out[exp.settings_type.__name__] = exp.settings_type
        out[exp.result_type.__name__] = exp.result_type
    return out
