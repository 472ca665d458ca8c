"""What a lesson is and what its answer is: the course's question, the prediction choices, the registered
experiment and the preset settings it runs, and a function from that run's result to what it shows.

A lesson never asserts the textbook answer by itself: its ``find`` reads the result's own figures and
says which choice they support, or that this run does not show the effect (the result stopped early,
its verdict doubts it, the difference is within noise, a setting hides it). ``Lesson.answer`` adds the
prediction: held, did not hold, or cannot be judged. Pure: no Kafka, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.core import catalogue
from lab.core.errors import SettingsError
from lab.export.links import link_for

#: The course's phases (practice 003e): 1 cluster, 2 replication, 3 idempotence/transactions, 4 producer,
#: 5 consumer, 6 lag and reflection; and the lab's 7, share groups (KIP-932).
PHASES = (1, 2, 3, 4, 5, 6, 7)


@dataclass(frozen=True)
class Choice:
    """One prediction a learner can pick: ``key`` for links, the CLI and the run store; ``text`` for people."""

    key: str
    text: str


@dataclass(frozen=True)
class Figure:
    """One measured number an answer quotes (``key`` is stable, for --json and tests)."""

    key: str
    label: str
    value: float
    unit: str = ""


@dataclass(frozen=True)
class Finding:
    """What one run shows for a lesson (a lesson's ``find`` returns it).

    ``outcome``: the choice the figures support, or None when this run does not show the effect (then
    ``doubts`` say why). ``also``: other choices the figures support too (e.g. "faster" next to "fewer
    members stop"). ``sentences`` quote the measured numbers.
    """

    outcome: str | None
    sentences: tuple[str, ...]
    figures: tuple[Figure, ...]
    doubts: tuple[str, ...] = ()
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class TryNext:
    """One knob changed from the lesson's preset, and what to look for when it runs."""

    label: str
    settings: Any
    look_for: str


@dataclass(frozen=True)
class Answer:
    """A lesson's answer from one run: sentences with the measured numbers, the numbers, and the prediction.

    ``shown``: this run shows the effect (``outcome`` is the choice it supports); False is the explicit
    "not shown in this run" (``doubts`` say why). ``held``: the prediction held (None: no prediction, or
    nothing shown to judge it by).
    """

    lesson: str
    shown: bool
    outcome: str | None
    outcome_text: str | None
    prediction: str | None
    held: bool | None
    #: the measured story, then the verdict on the prediction, then (when shown) why, in the course's words
    sentences: tuple[str, ...]
    figures: tuple[Figure, ...]
    doubts: tuple[str, ...] = ()
    run_id: str | None = None

    @property
    def values(self) -> dict[str, float]:
        """The figures by key, as numbers."""
        return {f.key: f.value for f in self.figures}

    @property
    def headline(self) -> str:
        """One line: what the run showed, or that it did not."""
        return f"This run shows: {self.outcome_text}" if self.shown else "Not shown in this run."


#: the sentence an answer leads its doubts with
NOT_SHOWN = "Not shown in this run"


@dataclass(frozen=True)
class Lesson:
    """One of the course's questions, answered from one run of a registered experiment with preset settings."""

    id: str
    phase: int
    #: the page whose Lesson panel offers it (file stem under pages/)
    page: str
    title: str
    #: the question as the course asks it
    question: str
    #: where the course asks it
    source: str
    choices: tuple[Choice, ...]
    #: the registered experiment's name (``lab.registry``)
    experiment: str
    settings: Any
    find: Callable[[Any], Finding]
    #: why, in a few sentences, for when the run shows it (never said in place of the figures)
    why: str
    try_next: tuple[TryNext, ...] = ()
    #: what the preset costs, for the list ("about 20 s")
    takes: str = ""
    #: facts for the sidebar of a presenter or a handout: the knobs the preset sets, in words
    preset_text: str = ""
    #: the figures a presenter shows large (figure keys; ``*`` matches any part, e.g. ``*.p99_ms`` for every
    #: codec's p99); empty: the answer's first figures (``lab.lessons.present.key_figures``)
    key_figures: tuple[str, ...] = ()
    #: the run's chart that tells the story (a name from ``lab.runs.charts.charts_for``); empty: its first
    chart: str = ""

    # --- the registry's view ---------------------------------------------------------------------------
    @property
    def changes_brokers(self) -> bool:
        """The experiment stops, pauses or kills brokers (it runs under the cluster lock)."""
        exp = catalogue.find(self.experiment)
        return bool(exp and exp.changes_brokers)

    def choice(self, key: str) -> Choice:
        """The choice ``key``; ``SettingsError`` listing the allowed keys otherwise."""
        found = next((c for c in self.choices if c.key == key), None)
        if found is None:
            raise SettingsError(f"{key!r} is not a prediction of the lesson {self.id!r}.",
                                hint="Predict one of: " + "; ".join(f"{c.key} ({c.text})" for c in self.choices)
                                + ".")
        return found

    def link(self, settings: Any | None = None) -> str:
        """The page link that opens the experiment with the preset (or ``settings``)."""
        return link_for(self.experiment, self.settings if settings is None else settings)

    def try_next_links(self) -> list[tuple[TryNext, str]]:
        return [(t, self.link(t.settings)) for t in self.try_next]

    # --- the answer ------------------------------------------------------------------------------------
    def answer(self, result: Any, prediction: str | None = None) -> Answer:
        """The answer from ``result`` (a result of ``experiment``), judging ``prediction`` (a choice key)."""
        if prediction is not None:
            self.choice(prediction)
        exp = catalogue.find(self.experiment)
        if exp is not None and not isinstance(result, exp.result_type):
            raise SettingsError(f"The lesson {self.id!r} reads a {exp.result_type.__name__}, not "
                                f"{type(result).__name__}.", hint=f"Give it a result of {self.experiment!r}.")
        found = self.find(result)
        doubts = list(found.doubts)
        stopped = getattr(result, "stopped", None)
        if stopped:
            doubts.insert(0, f"the run stopped early ({stopped})")
        shown = found.outcome is not None and not stopped
        outcome = found.outcome if shown else None
        outcome_text = self.choice(outcome).text if outcome else None
        sentences = list(found.sentences)
        if not shown:
            sentences.append(f"{NOT_SHOWN}: " + "; ".join(doubts or ["the figures do not settle it"]) + ". "
                             "These figures do not confirm the textbook answer; run it again, or try a setting "
                             "below.")
        held: bool | None = None
        if prediction is None:
            sentences.append("No prediction was made before this run.")
        else:
            said = self.choice(prediction).text
            if not shown:
                sentences.append(f"Your prediction (“{said}”) cannot be judged from this run.")
            else:
                held = prediction == outcome or prediction in found.also
                sentences.append(f"Your prediction (“{said}”) held." if held else
                                 f"Your prediction (“{said}”) did not hold: this run showed “{outcome_text}”.")
        if shown:
            sentences.append(self.why)
        info = getattr(result, "run", None)
        return Answer(self.id, shown, outcome, outcome_text, prediction, held, tuple(sentences), found.figures,
                      tuple(doubts), getattr(info, "run_id", None))


def pct(a: float, b: float) -> float:
    """How much lower ``a`` is than ``b``, as a share of ``b`` (0.25 = 25 % lower); 0 when ``b`` is 0."""
    return (b - a) / b if b else 0.0


def fmt_ms(v: float) -> str:
    return f"{v:,.0f} ms" if v >= 100 else f"{v:.1f} ms" if v >= 1 else f"{v:.2f} ms"
