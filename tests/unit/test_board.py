"""The class board's data from a run store: each student's run as a point (the knob they turned, the figures
of the result), the knobs the class varied, the hidden runs left out, and the offline HTML export."""

from __future__ import annotations

from pathlib import Path

from lab.lessons import board
from lab.runs.store import RunRecord, RunStore
from tests.unit import sample_runs


def test_the_class_assembles_a_linger_sweep(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    for i, linger in enumerate((0.0, 5.0, 20.0)):
        run_id = f"20261206T10000{i}-aaaaa{i}"
        store.save(RunRecord.of(sample_runs.produce(run_id, linger_ms=linger)))
        store.set_person(run_id, "class-1", f"student {i}")
    store.save(RunRecord.of(sample_runs.produce("20261206T100009-zzzzzz")))  # not made in the class
    pts = board.points(store, "class-1")["produce"]
    assert sorted(p.who for p in pts) == ["student 0", "student 1", "student 2"]
    assert board.varying(pts)[0] == "linger_ms"
    assert "msgs_per_s" in board.figure_names(pts) and board.figure_names(pts)[0] == "msgs_per_s"
    df = board.frame(pts, "linger_ms", "msgs_per_s", hidden=(pts[0].run_id,), highlighted=(pts[1].run_id,))
    assert len(df) == 2 and pts[0].run_id not in set(df["run"]) and df["highlighted"].sum() == 1
    assert sorted(df["x"]) == sorted(p.knobs["linger_ms"] for p in pts[1:])
    spec = board.chart(df, "linger_ms", "msgs_per_s", "t").to_dict()
    assert spec["encoding"]["x"]["type"] == "quantitative"
    page = board.board_html("Tuesday <b>", "produce", df, "linger_ms", "msgs_per_s")
    assert "<svg" in page and "<script" not in page and "Tuesday &lt;b&gt;" in page and "student 1" in page
