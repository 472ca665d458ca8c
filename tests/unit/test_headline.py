"""Headline figures: per result type the few that answer the question, in words with units; any other
result gets its own top-level figures, readable."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sample_runs import lag_watch, monitor, produce
from test_codec import strategy_for

from lab.core.results import Result
from lab.producer.sweep import SweepResult, SweepSettings
from lab.registry import REGISTRY
from lab.runs.headline import PICKERS, Figure, generic, headline, headline_table
from lab.runs.readable import quantity

#: Result types read well enough by the generic headline (their story is in their tables and charts).
GENERIC = {"StrategiesResult", "ProtocolsResult"}


def texts(result: object) -> dict[str, str]:
    return {f.label: f.text for f in headline(result)}


def test_every_experiment_has_a_headline_of_its_own_or_is_named_generic() -> None:
    own = {t.__name__ for t in PICKERS}
    assert {e.result_type.__name__ for e in REGISTRY.values()} - own == GENERIC


def test_produce() -> None:
    h = texts(produce("r1", rate=332_700.4))
    assert h["throughput"] == "332,700 msg/s (33.3 MB/s)" and h["send→ack latency (p99)"] == "12.5 ms"
    assert h["acknowledged"] == "1,000 of 1,000 sent" and "target rate" not in h
    paced = texts(produce("r2", paced=True, e2e=True))
    assert paced["target rate"] == "1,000 msg/s" and paced["send delay (p99)"] == "2.25 ms"
    assert paced["end-to-end latency (p99)"] == "15 ms"


def test_sweep() -> None:
    a, b = produce("r-a", linger_ms=0, rate=1000.0), produce("r-b", linger_ms=20, rate=2100.0)
    h = texts(SweepResult(SweepSettings("batch", a.settings), (a, b), 3, 4.0))
    assert h["cells run"] == "2 of 3" and h["fastest ÷ slowest"] == "2.1×"
    assert h["fastest"].startswith("2,100 msg/s with ") and "linger=20" in h["fastest"]


def test_replication_and_lag() -> None:
    assert texts(monitor())["replication events"] == "1 (1 ISR shrink)"
    h = texts(lag_watch())
    assert h["group status"] == "OK" and h["total lag at the end"] == "120 messages"


@dataclass(frozen=True)
class Unknown(Result):
    sent_msgs: int
    elapsed_s: float
    ratio_x: float


def test_an_unknown_result_gets_its_own_figures_readable() -> None:
    h = headline(Unknown(sent_msgs=1200, elapsed_s=3.25, ratio_x=0.5))
    assert h == generic(Unknown(sent_msgs=1200, elapsed_s=3.25, ratio_x=0.5))
    assert [(f.label, f.text) for f in h] == [("sent messages", "1,200"), ("elapsed", "3.2 s"), ("ratio x", "0.5")]


def test_side_by_side() -> None:
    rows = dict(headline_table([produce("r1"), produce("r2", paced=True)]))
    assert rows["throughput"] == ["1,000 msg/s (0.1 MB/s)"] * 2 and rows["target rate"] == ["—", "1,000 msg/s"]
    assert Figure("x", None).text == "—"


@pytest.mark.parametrize("cls", sorted(PICKERS, key=lambda c: c.__name__), ids=lambda c: c.__name__)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_picker_reads_any_stored_result(cls: type, data: st.DataObject) -> None:
    """Whatever a stored run holds (NaN, None where the run did not get that far, empty tuples), its own
    headline reads it — the generic fallback is for unknown types, not for odd values."""
    result = data.draw(strategy_for(cls))
    for f in PICKERS[cls](result):
        value = quantity(f.value, f.unit)  # the note may quote a name made of the drawn settings
        assert isinstance(f.text, str) and f.label and "e+" not in value and "e-0" not in value, f
