"""The exactly-once lab's charts and text on crafted results (no Kafka): what is drawn, what is said."""

from __future__ import annotations

import dataclasses
import json

from lab.eos import charts as charts_eos
from lab.eos import sequence
from lab.eos import text as text_eos
from lab.eos.duplicates import DuplicateResult, FaultRun, Second
from lab.eos.eosstats import ProducerIdentity
from lab.eos.pipeline_run import PipelineModeRun, PipelineResult, PipelineSample
from lab.eos.settings import DuplicateSettings, PipelineSettings, TransactionSettings
from lab.eos.transactions import OffsetSample, TransactionResult, TxnOutcome


def dup_result() -> DuplicateResult:
    plain = FaultRun(False, "t-plain", {}, sent=6, acked=6, timeouts=2, pause_from_s=1.0, pause_to_s=3.5,
                     partitions=(sequence.count([0, 1, 2, 3, 2, 3, 4, 5], range(6)),), read_back=True)
    idem = FaultRun(True, "t-idem", {}, sent=6, acked=6, timeouts=1, identity=ProducerIdentity(7, 0),
                    pause_from_s=8.0, pause_to_s=10.5, partitions=(sequence.count(list(range(6)), range(6)),),
                    read_back=True)
    secs = (Second(0.0, "plain", 2, 0, 0), Second(1.0, "plain", 0, 0, 2), Second(3.0, "plain", 4, 0, 0))
    return DuplicateResult(DuplicateSettings(), 4000, (plain, idem), secs)


def test_duplicate_counts_are_drawn_per_producer() -> None:
    frame = charts_eos.counts_frame(dup_result())
    got = {(r.run, r.measure): r.count for r in frame.itertuples()}
    assert got[("plain", "duplicates")] == 2 and got[("plain", "order violations")] == 1
    assert got[("idempotent", "duplicates")] == 0 and got[("idempotent", "lost")] == 0
    spec = charts_eos.counts_chart(frame).to_dict()
    assert spec["encoding"]["xOffset"]["field"] == "run" and spec["encoding"]["y"]["field"] == "count"


def test_acks_per_second_with_the_fault_band_and_timeouts() -> None:
    res = dup_result()
    bands = charts_eos.fault_bands(res)
    assert list(zip(bands["from"], bands["to"], strict=True)) == [(1.0, 3.5), (8.0, 10.5)]
    frame = charts_eos.seconds_frame(res)
    acked = frame[frame["series"] == "acknowledged"]["value"].tolist()
    assert acked == [2, 0, 4]
    spec = json.dumps(charts_eos.acked_per_second(frame, bands).to_dict())
    assert '"rect"' in spec and '"bar"' in spec and "triangle-down" in spec


def test_hw_vs_lso_frame_and_band() -> None:
    samples = (OffsetSample(1.0, 0, 15, 12, 12), OffsetSample(2.0, 0, 16, 16, -1))
    res = TransactionResult(TransactionSettings(), "tid", None, (TxnOutcome(0, True, {0: 3}, {0: 4}),), samples, (),
                            open_from_s=0.5, open_to_s=1.5)
    frame = charts_eos.offsets_frame(res)
    at1 = frame[frame["t"] == 1.0].set_index("series")["offset"].to_dict()
    assert at1 == {"high watermark": 15, "last stable offset": 12, "read_committed consumer": 12}
    assert len(frame[frame["t"] == 2.0]) == 2  # no consumer position yet: not drawn
    band = charts_eos.open_band(res)
    assert band.iloc[0].to_dict() == {"from": 0.5, "to": 1.5, "label": "transaction open"}
    assert "p0:3" in text_eos.transactions(res) and "p0:4" in text_eos.transactions(res)
    assert "producer epoch: not seen" in text_eos.transactions(res)
    seen = text_eos.transactions(dataclasses.replace(res, identity=ProducerIdentity(9, 3)))
    assert "producer epoch after 1 transaction(s): 3 (protocol v1" in seen


def test_pipeline_counts_per_mode_and_text() -> None:
    def run(mode: str, out: int, dup: int, kill: float) -> PipelineModeRun:
        return PipelineModeRun(mode, "i", "o", (kill,), 2, (-9, 0), broker_killed=2, broker_killed_at_s=kill + 3,
                               input_records=100, output_records=out, distinct=100, duplicates=dup, missing=0)

    runs = (run("exactly-once", 100, 0, 5.0), run("at-least-once", 130, 30, 6.0))
    res = PipelineResult(PipelineSettings(), runs, (PipelineSample(1.0, "exactly-once", 50, 40, 30, 30),))
    frame = charts_eos.pipeline_counts_frame(res)
    got = {(r.mode, r.measure): r.count for r in frame.itertuples()}
    assert got[("at-least-once", "duplicates")] == 30 and got[("exactly-once", "output")] == 100
    kills = charts_eos.kills_frame(res)
    assert kills["t"].tolist() == [5.0, 6.0, 8.0, 9.0]
    assert kills["label"].tolist()[2:] == ["SIGKILL broker 2"] * 2
    txt = text_eos.pipeline(res)
    assert "at-least-once  100" in txt and "-9 0" in txt and "2 at 8.0s" in txt


def test_duplicates_text_names_the_window_and_the_duplicated_numbers() -> None:
    txt = text_eos.duplicates(dup_result())
    assert "frozen (SIGSTOP) for 2500 ms" in txt and "broker.session.timeout.ms=4000" in txt
    assert "2×2, 3×2" in txt and "PID 7, epoch 0" in txt
