"""Running OpenMessaging Benchmark's own chart script (``bin/create_charts.py`` of an OMB checkout named by
``KAFKA_LAB_OMB_DIR``) on lab exports, to show that OMB's tooling reads them. OMB's code is not part of
the lab: without a checkout (or without pygal, which the script imports) the test using it is skipped.

    KAFKA_LAB_OMB_DIR=~/src/benchmark uv run --with pygal pytest tests/unit/test_export_omb.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: Names the OMB checkout (its root: the script is bin/create_charts.py under it).
OMB_DIR_ENV = "KAFKA_LAB_OMB_DIR"
#: The script draws ten charts per workload: seven time series and three quantile charts.
CHARTS_PER_WORKLOAD = 10


def chart_script() -> Path:
    """OMB's chart script, or a skip saying what is missing."""
    root = os.environ.get(OMB_DIR_ENV)
    if not root:
        pytest.skip(f"set {OMB_DIR_ENV} to an openmessaging/benchmark checkout to run its bin/create_charts.py")
    script = Path(root).expanduser() / "bin" / "create_charts.py"
    if not script.is_file():
        pytest.skip(f"{OMB_DIR_ENV}={root} has no bin/create_charts.py")
    if importlib.util.find_spec("pygal") is None:
        pytest.skip("OMB's chart script imports pygal: run with `uv run --with pygal pytest ...`")
    return script


def draw(docs: dict[str, dict[str, Any]], workdir: Path) -> list[Path]:
    """Write each document to ``workdir`` and run OMB's script on them there; the SVG files it drew."""
    script = chart_script()
    files = []
    for name, doc in docs.items():
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(doc, allow_nan=False))
        files.append(str(path))
    proc = subprocess.run([sys.executable, str(script), *files], cwd=workdir, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return sorted(workdir.glob("*.svg"))
