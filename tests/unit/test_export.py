"""Exports: PNG at a projector size, SVG that parses, CSV of a chart's data, the JSON record back, a
self-contained HTML report (inline SVG, nothing fetched), OMB-named fields in OMB's units, and every
``export_run`` format — offline."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from sample_runs import lag_watch, monitor, produce

from lab.core import codec
from lab.core.errors import LabError
from lab.export import files as export
from lab.producer.sweep import SweepResult, SweepSettings
from lab.runs.charts import charts_for

ROOT = Path(__file__).resolve().parents[2]
#: What "projector-friendly" means here: at least this wide, and no wider than a 4K screen.
MIN_PNG_WIDTH, MAX_PNG_WIDTH = 1600, 3840
#: A URL that would be fetched (a script, style, image or font from elsewhere).
OUTSIDE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def test_png_has_a_projector_size() -> None:
    png = export.chart_png(charts_for(produce("r1"))["throughput"])
    assert png.startswith(b"\x89PNG")
    width, height = export.png_size(png)
    assert MIN_PNG_WIDTH <= width <= MAX_PNG_WIDTH and 300 <= height < width


def test_spec_inlines_the_data_and_leaves_the_chart_alone() -> None:
    """Exports inline the data without Altair's (process-global) data transformer, and without touching the
    chart a page keeps drawing."""
    import pandas as pd

    chart = charts_for(monitor())["isr"]  # a layered chart: data on its layers
    spec = export.chart_spec(chart)
    assert all(isinstance(layer.data, pd.DataFrame) for layer in chart.layer if isinstance(layer.data, pd.DataFrame)
               ) and any(isinstance(layer.data, pd.DataFrame) for layer in chart.layer)
    assert spec["datasets"] and all(rows for rows in spec["datasets"].values())


def test_svg_parses() -> None:
    svg = export.chart_svg(charts_for(produce("r1"))["latency"])
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")


def test_csv_is_the_data_behind_the_chart() -> None:
    text = export.chart_csv(charts_for(produce("r1", n=2))["throughput"])
    lines = text.strip().splitlines()
    assert lines[0].split(",")[:3] == ["run", "t_s", "msgs_per_s"] and len(lines) == 3
    assert ",1001.0," in lines[2]


def test_run_json_is_the_full_record() -> None:
    r = produce("20261202T030112-ab12cd")
    back = codec.loads(export.run_json(r))
    assert back.run.run_id == r.run.run_id and back.samples == r.samples


def assert_self_contained(page: str) -> None:
    assert "<svg" in page
    assert not OUTSIDE.search(page), OUTSIDE.search(page)
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page


def test_html_report_of_one_run_is_self_contained() -> None:
    page = export.html_report([produce("20261202T030112-ab12cd", stopped="cancelled after 2 s")])
    assert_self_contained(page)
    assert "20261202T030112-ab12cd" in page and "cancelled after 2 s" in page
    assert "linger" in page and "send→ack latency (p99)" in page and "127.0.0.1:9092" in page and "3.9.2" in page


def test_html_report_of_a_comparison_overlays_the_runs() -> None:
    page = export.html_report([produce("20261202T030112-ab12cd", linger_ms=10),
                               produce("20261202T030500-cd34ef", linger_ms=50)], title="linger 10 vs 50")
    assert_self_contained(page)
    assert "<title>linger 10 vs 50</title>" in page and "÷ first" in page
    assert page.count("<svg") >= 3 and "linger 50 ms" in page


def test_html_report_of_other_experiments() -> None:
    for r in (monitor(), lag_watch()):
        assert_self_contained(export.html_report([r]))


def files_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_export_run_every_format() -> None:
    r = produce("20261202T030112-ab12cd")
    got = {fmt: export.export_run(r, fmt) for fmt in export.FORMATS}
    assert got["json"][1] == "produce-20261202T030112-ab12cd.json"
    assert codec.loads(got["json"][0].decode()).run.run_id == "20261202T030112-ab12cd"
    assert_self_contained(got["html"][0].decode())
    assert json.loads(got["omb"][0])["publishRate"][0] == 1000.0 and got["omb"][1].endswith("-omb.json")
    for fmt in ("png", "svg", "csv"):  # two charts (throughput, latency): a zip with one file per chart
        data, name = got[fmt]
        assert name == f"produce-20261202T030112-ab12cd-{fmt}.zip"
        files = files_of(data)
        assert sorted(files) == [f"latency.{fmt}", f"throughput.{fmt}"]
    assert files_of(got["png"][0])["throughput.png"].startswith(b"\x89PNG")
    ET.fromstring(files_of(got["svg"][0])["latency.svg"])
    with pytest.raises(LabError, match="No export format"):
        export.export_run(r, "pdf")


def test_export_run_sweep_gives_one_omb_document_per_point() -> None:
    a, b = produce("r-a", linger_ms=0), produce("r-b", linger_ms=20)
    sweep = SweepResult(SweepSettings("batch", a.settings), (a, b), 2, 4.0)
    data, name = export.export_run(sweep, "omb")
    assert name.endswith("-omb.zip")
    docs = {n: json.loads(v) for n, v in files_of(data).items()}
    assert len(docs) == 2 and all("publishRate" in d for d in docs.values())


def test_exports_work_without_network() -> None:
    """vl-convert renders from the inline spec alone: the HTML and PNG exports succeed with no network at all."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs `unshare -rn` (a user namespace without network) to cut the network off")
    code = ("import socket, sys; sys.path.insert(0, 'tests/unit')\n"
            "from sample_runs import produce\nfrom lab.export import files as export\n"
            "r = produce('r1')\nassert export.export_run(r, 'png')[0]\nassert '<svg' in export.html_report([r])\n"
            "try:\n    socket.create_connection(('pypi.org', 443), timeout=2)\n    sys.exit(5)\n"
            "except OSError:\n    pass\n")
    proc = subprocess.run([unshare, "-rn", sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_one_chart_by_name_is_one_file_of_its_kind() -> None:
    r = produce("20261202T030112-ab12cd")
    data, name = export.export_run(r, "png", chart="throughput")
    assert name == "produce-20261202T030112-ab12cd-throughput.png" and data.startswith(b"\x89PNG")
    assert export.export_files(r, "svg").keys() == {"latency.svg", "throughput.svg"}
    with pytest.raises(LabError, match="no chart 'nope'") as err:
        export.export_run(r, "png", chart="nope")
    assert "throughput" in (err.value.hint or "")
