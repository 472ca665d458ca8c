"""The house holds together: every `lab` module imports on its own in a fresh interpreter (an import
cycle fails here), `lab` never imports Streamlit, and both CLI entry points answer --help."""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lab

ROOT = Path(__file__).resolve().parents[2]
#: Modules past this many lines should be split by responsibility (the house rule is ~500).
MAX_MODULE_LINES = 560


def lab_modules() -> list[str]:
    names = ["lab"]
    for info in pkgutil.walk_packages(lab.__path__, "lab."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def import_alone(name: str) -> tuple[str, int, str]:
    code = (f"import sys, {name}\n"
            "bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
            "sys.exit(3 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return name, proc.returncode, proc.stderr[-2000:]


def test_every_lab_module_imports_alone_without_streamlit() -> None:
    names = lab_modules()
    assert {"lab.cli", "lab.experiments", "lab.codec", "lab.cluster.lock"} <= set(names)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(import_alone, names))
    failed = {n: err for n, rc, err in results if rc != 0}
    assert not failed, "modules that do not import alone (3 = imports streamlit):\n" + "\n".join(
        f"{n}: {e}" for n, e in failed.items())


def test_no_module_grows_past_the_limit() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for p in (ROOT / "lab").rglob("*.py")}
    too_big = {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_big, f"split these by responsibility: {too_big}"


def test_python_m_lab_cli_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "lab.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    for group in ("cluster", "broker", "topics", "bench", "replication"):
        assert group in proc.stdout


def test_kafka_lab_entry_point_help() -> None:
    exe = shutil.which("kafka-lab", path=str(Path(sys.executable).parent)) or shutil.which("kafka-lab")
    assert exe, "the kafka-lab script is not installed next to this interpreter (uv sync installs it)"
    proc = subprocess.run([exe, "replication", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "min-isr" in proc.stdout and "hw-leo" in proc.stdout
