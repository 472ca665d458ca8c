"""The house's floors are declared as import-linter contracts in pyproject.toml (layers, phases that do not
import each other, no cycles, no Streamlit in the engine); this runs them, and proves on a copy of the
tree that a forbidden import — the function-level kind included — breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([exe, "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def copy_of_the_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "lab", tmp_path / "lab", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_function(path: Path, body: str) -> None:
    path.write_text(path.read_text() + "\n\ndef _smuggled() -> None:\n" + body)


def test_every_contract_is_kept() -> None:
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
    for contract in ("Floors", "Streamlit", "No import cycles", "core knows no Kafka"):
        assert contract in proc.stdout


def test_a_function_level_import_of_the_registry_breaks_the_floors(tmp_path: Path) -> None:
    """The codec once took its types from the registry inside a function: the contract sees that now."""
    root = copy_of_the_tree(tmp_path)
    add_function(root / "lab/core/codec.py", "    from lab.registry import REGISTRY  # noqa\n    del REGISTRY\n")
    proc = lint_imports(root)
    assert proc.returncode != 0
    assert "BROKEN" in proc.stdout and "lab.core.codec -> lab.registry" in proc.stdout, proc.stdout[-3000:]


def test_a_cycle_inside_a_phase_breaks_the_no_cycles_contract(tmp_path: Path) -> None:
    """``groups`` imports ``pauses``; ``pauses`` importing ``groups`` back (even in a function) is a cycle."""
    root = copy_of_the_tree(tmp_path)
    add_function(root / "lab/consumer/pauses.py", "    from lab.consumer import groups  # noqa\n    del groups\n")
    proc = lint_imports(root)
    assert proc.returncode != 0
    assert "No import cycles" in proc.stdout and "BROKEN" in proc.stdout, proc.stdout[-3000:]


def test_one_phase_importing_another_breaks_the_floors(tmp_path: Path) -> None:
    root = copy_of_the_tree(tmp_path)
    add_function(root / "lab/eos/sequence.py", "    from lab.producer import settings  # noqa\n    del settings\n")
    proc = lint_imports(root)
    assert proc.returncode != 0 and "lab.eos.sequence -> lab.producer.settings" in proc.stdout, proc.stdout[-3000:]
