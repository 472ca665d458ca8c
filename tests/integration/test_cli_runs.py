"""The run history end to end on the real cluster: a CLI run is stored (listed with its status and
figures, shown as its experiment's text), and `runs rerun` runs it again with the same settings as a new,
stored run."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from lab.cli import main
from lab.cluster import LocalCluster
from lab.eos.fencing import FencingResult
from lab.eos.settings import FencingSettings
from lab.export import files as export
from lab.runs import recorder
from lab.runs import store as runs


def test_a_cli_run_is_listed_shown_and_rerun(cluster: LocalCluster, topic_name: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    state = ["--state-dir", str(cluster.state_dir)]
    assert main(["eos", "fencing", "--records", "3", "--topic", topic_name, "--json", *state]) == 0
    first = json.loads(capsys.readouterr().out)["run"]["run_id"]

    assert main(["runs", "list", "--experiment", "eos.fencing", "--search", topic_name, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == [first] and rows[0]["status"] == "finished" and rows[0]["face"] == "cli"

    assert main(["runs", "show", first]) == 0
    shown = capsys.readouterr().out
    assert f"run:         {first}" in shown and "status:      finished" in shown and f"topic = {topic_name}" in shown
    assert "fenced" in shown.lower()

    assert main(["runs", "rerun", first, "--quiet", *state]) == 0
    out = capsys.readouterr().out
    assert f": a re-run of {first}" in out
    second = out.rsplit("\nrun ", 1)[1].split(":", 1)[0]
    assert second != first and recorder.last_problem() is None

    assert main(["runs", "list", "--search", topic_name, "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == [second, first]
    again = runs.open_store().get(second)
    assert again is not None and again.status == "finished" and isinstance(again.result, FencingResult)
    assert again.settings == FencingSettings(topic=topic_name, records=3)


def test_a_stored_producer_run_exports_png_html_and_omb(cluster: LocalCluster, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["producer", "run", "--duration", "2", "--rate", "2000", "--json", "--quiet",
                 "--state-dir", str(cluster.state_dir)]) == 0
    rid = json.loads(capsys.readouterr().out)["run"]["run_id"]
    got = {}
    for fmt in ("html", "omb"):
        out = tmp_path / f"run.{fmt}"
        assert main(["runs", "export", rid, "--format", fmt, "--out", str(out)]) == 0, capsys.readouterr().err
        got[fmt] = out.read_bytes()
    capsys.readouterr()
    # a produce run has several charts: a file named .png is refused, with the charts named ...
    assert main(["runs", "export", rid, "--format", "png", "--out", str(tmp_path / "run.png")]) == 2
    err = capsys.readouterr().err
    assert "would be one file" in err and "--chart" in err and not (tmp_path / "run.png").exists()
    # ... a directory gets one PNG per chart, --chart one of them as a .png, a .zip all of them
    assert main(["runs", "export", rid, "--format", "png", "--out", str(tmp_path / "charts") + "/"]) == 0
    pngs = sorted((tmp_path / "charts").iterdir())
    assert len(pngs) >= 2 and all(p.suffix == ".png" for p in pngs)
    for png in (p.read_bytes() for p in pngs):  # each a PNG fit for a projector
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and export.png_size(png)[0] >= 1600
    chart = pngs[0].stem
    assert main(["runs", "export", rid, "--format", "png", "--chart", chart, "--out", str(tmp_path / "one.png")]) == 0
    assert (tmp_path / "one.png").read_bytes() == pngs[0].read_bytes()
    assert main(["runs", "export", rid, "--format", "csv", "--out", str(tmp_path / "all.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "all.zip") as z:
        assert sorted(z.namelist()) == sorted(p.stem + ".csv" for p in pngs)
    capsys.readouterr()
    html = got["html"].decode()
    assert "<svg" in html and "<script" not in html and rid in html
    assert html.index("<h1>Produce run</h1>") < html.index("What it found") < html.index("<h2>Settings</h2>")
    omb = json.loads(got["omb"])
    assert omb["publishRate"] and all(r >= 0 for r in omb["publishRate"])
    assert len(omb["publishDelayLatency99pct"]) == len(omb["publishRate"])
    assert omb["aggregatedPublishDelayLatencyQuantiles"]
    assert omb["aggregatedPublishLatency99pct"] >= omb["aggregatedPublishLatency50pct"] > 0
    with pytest.raises(SystemExit) as bad:  # argparse names the formats allowed
        main(["runs", "export", rid, "--format", "bogus"])
    assert bad.value.code == 2 and "choose from 'json', 'png'" in capsys.readouterr().err
