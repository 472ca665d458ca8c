"""The Runs page driven by AppTest: two producer runs that differ in linger.ms, stored by the launcher as
every run is, are overlaid in one chart (one colour per run), their differing setting highlighted and
their figures side by side with ratios; one run alone offers its exports; a re-run lands next to it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab import registry as experiments
from lab.cluster import LocalCluster
from lab.core.results import new_run_id
from lab.producer.run import ProduceResult
from lab.producer.settings import ProducerSettings
from lab.runs import launcher
from lab.runs import store as runs
from tests.shared_cluster import ClusterAccess

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture(scope="module")
def two_runs(shared_cluster: LocalCluster, cluster_access: ClusterAccess) -> tuple[ProduceResult, ProduceResult]:
    exp = experiments.get("produce")
    out = []
    with cluster_access.hold(False, "two_runs"):  # set up before any test's own turn: takes one of its own
        for linger in (0.0, 20.0):
            s = ProducerSettings(count=None, duration_s=1.5, rate=1000.0, linger_ms=linger)
            out.append(launcher.run_sync(exp, shared_cluster, s, face="test"))
    return out[0], out[1]


def open_runs(ids: list[str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/runs.py")
    at.query_params["runs"] = ",".join(ids)
    at.run()
    assert not at.exception, at.exception
    return at


def chart_payloads(at: AppTest) -> list[str]:
    """Each chart's spec and data as text (the data may be inline or in the element's datasets)."""
    out = []
    for el in at.get("arrow_vega_lite_chart") + [e for e in at.main if getattr(e, "type", None) == "vega_lite_chart"]:
        proto = el.proto
        out.append(proto.spec + json.dumps([str(d) for d in getattr(proto, "datasets", [])]))
    return out


def test_two_runs_are_overlaid_with_their_differences(app_env: LocalCluster,
                                                      two_runs: tuple[ProduceResult, ProduceResult]) -> None:
    a, b = two_runs
    assert a.run is not None and b.run is not None
    at = open_runs([a.run.run_id, b.run.run_id])
    assert at.multiselect(key="runs_selected").value == [a.run.run_id, b.run.run_id]
    assert any("2 runs of produce run" in s.value for s in at.subheader), [s.value for s in at.subheader]
    # one chart with a line per run: both runs' labels are in the same chart's data
    both = [p for p in chart_payloads(at) if a.run.run_id in p and b.run.run_id in p]
    assert both, "no chart holds both runs"
    assert any("msgs_per_s" in p for p in both)
    frames = [df.value for df in at.dataframe]
    settings = next(f for f in frames if "setting" in getattr(f.index, "names", []) or "linger_ms" in f.index)
    assert "linger_ms" in settings.index
    figures = next(f for f in frames if any("÷ first" in str(c) for c in f.columns))
    assert "msgs_per_s" in figures.index
    labels = [btn.proto.label for btn in at.get("download_button")]
    assert "Download the comparison (HTML report)" in labels and labels.count("PNG") >= 1


def test_one_run_offers_its_exports_and_reruns_next_to_it(app_env: LocalCluster,
                                                          two_runs: tuple[ProduceResult, ProduceResult]) -> None:
    a, _ = two_runs
    assert a.run is not None
    before = runs.open_store().count(experiment="produce")
    at = open_runs([a.run.run_id])
    labels = [btn.proto.label for btn in at.get("download_button")]
    assert "Download report (HTML)" in labels and "Download run (JSON)" in labels and "PNG" in labels
    assert any("OpenMessaging" in x for x in labels)
    assert any(f"/producer?run={a.run.run_id}" in m.value for m in at.markdown)
    at.button(key=f"runs_rerun_{a.run.run_id}_run_btn").click().run()
    assert not at.exception, at.exception
    rid = at.session_state[f"runs_rerun_{a.run.run_id}_run_id"]
    done = launcher.get(rid)
    assert done is not None and done.join(60)
    at.run()
    new = runs.open_store().get(rid)
    assert new is not None and new.status == "finished" and new.settings == a.settings
    assert runs.open_store().count(experiment="produce") == before + 1


def test_a_link_to_an_unknown_run_says_so(app_env: LocalCluster,
                                          two_runs: tuple[ProduceResult, ProduceResult]) -> None:
    at = open_runs(["20000101T000000-nosuch"])
    assert any("20000101T000000-nosuch" in w.value for w in at.warning)


def test_a_link_to_a_stored_run_opens_its_result_on_its_page(app_env: LocalCluster,
                                                             two_runs: tuple[ProduceResult, ProduceResult]) -> None:
    a, _ = two_runs
    assert a.run is not None
    # a run this server process never ran (as after a restart): only the store knows it
    info = dataclasses.replace(a.run, run_id=new_run_id())
    runs.open_store().save(runs.RunRecord.of(dataclasses.replace(a, run=info)))
    assert launcher.get(info.run_id) is None
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/producer.py")
    at.query_params["run"] = info.run_id
    at.run()
    assert not at.exception, at.exception
    assert any(f"Stored run `{info.run_id}`" in i.value for i in at.info)
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["messages/s"].replace(",", "")) == pytest.approx(a.msgs_per_s, rel=0.01)
    assert not launcher.active(), "opening a link runs nothing"
