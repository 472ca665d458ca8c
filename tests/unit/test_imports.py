"""The house holds together: every `lab` module imports, the top level holds packages, modules stay small,
and both CLI entry points answer --help."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
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


def test_every_lab_module_imports() -> None:
    """Each module loads (cycles, Streamlit and the floors are import-linter's: tests/unit/test_layers.py)."""
    names = lab_modules()
    assert {"lab.cli", "lab.registry", "lab.core.codec", "lab.cluster.lock"} <= set(names)
    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            failed[name] = repr(exc)
    assert not failed, failed


def test_the_top_level_holds_only_packages_and_entry_modules() -> None:
    """A phase's code lives in its package; the top level keeps the registry and the few entry modules."""
    modules = sorted(p.name for p in (ROOT / "lab").glob("*.py"))
    assert modules == ["__init__.py", "open_browser.py", "registry.py"]


def test_no_module_grows_past_the_limit() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for p in (ROOT / "lab").rglob("*.py")}
    too_big = {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_big, f"split these by responsibility: {too_big}"


def test_python_m_lab_cli_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "lab.cli", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    for group in ("cluster", "broker", "topics", "replication", "eos", "producer", "consumer", "lag", "runs"):
        assert group in proc.stdout


def test_kafka_lab_entry_point_help() -> None:
    exe = shutil.which("kafka-lab", path=str(Path(sys.executable).parent)) or shutil.which("kafka-lab")
    assert exe, "the kafka-lab script is not installed next to this interpreter (uv sync installs it)"
    proc = subprocess.run([exe, "replication", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "min-isr" in proc.stdout and "hw-leo" in proc.stdout
