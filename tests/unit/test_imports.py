"""The house holds together: every `lab` module imports on its own in a fresh interpreter (an import
cycle fails here), `lab` never imports Streamlit, and both CLI entry points answer --help."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


#: Run in one fresh interpreter: load the third-party libraries `lab` uses (never `lab` itself, never
#: Streamlit), then fork one child per module named on stdin; each child imports its module into a
#: `sys.modules` that holds no `lab` module yet, so a cycle fails as it would alone, without paying for
#: pandas, altair and librdkafka once per module. Prints "name<TAB>status<TAB>error" per module.
FORKING_IMPORTER = r"""
import io, os, sys, traceback
import altair, confluent_kafka, confluent_kafka.admin, docker, numpy, pandas, psutil, requests, vl_convert
assert not any(m == "lab" or m.startswith(("lab.", "streamlit")) for m in sys.modules)
for name in sys.stdin.read().split():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        status, err = 0, ""
        try:
            __import__(name)
            if any(m == "streamlit" or m.startswith("streamlit.") for m in sys.modules):
                status = 3
        except BaseException:
            status, err = 1, traceback.format_exc()[-2000:]
        os.write(w, err.encode())
        os._exit(status)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        err = f.read().decode(errors="replace")
    _, code = os.waitpid(pid, 0)
    print(name, os.waitstatus_to_exitcode(code), err.replace("\n", " | "), sep="\t", flush=True)
"""


def imports_alone(names: list[str]) -> dict[str, tuple[int, str]]:
    """Each module's exit status (0 ok, 1 failed, 3 imported Streamlit) and error, imported alone."""
    proc = subprocess.run([sys.executable, "-c", FORKING_IMPORTER], input="\n".join(names), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split("\t", 2) for line in proc.stdout.splitlines()]
    return {name: (int(code), err) for name, code, err in rows}


def test_every_lab_module_imports_alone_without_streamlit() -> None:
    names = lab_modules()
    assert {"lab.cli", "lab.experiments", "lab.codec", "lab.cluster.lock"} <= set(names)
    results = imports_alone(names)
    assert sorted(results) == names, "every module was tried"
    failed = {n: err for n, (rc, err) in results.items() if rc != 0}
    assert not failed, "modules that do not import alone (3 = imports streamlit):\n" + "\n".join(
        f"{n}: {e}" for n, e in failed.items())


def test_the_check_catches_an_import_cycle_and_streamlit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forking importer fails what a fresh interpreter would fail."""
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyc.b import B\nA = 1\n")
    (pkg / "b.py").write_text("from cyc.a import A\nB = 2\n")
    (pkg / "ok.py").write_text("X = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    got = imports_alone(["cyc.a", "cyc.ok", "cyc.b"])
    assert got["cyc.ok"][0] == 0
    assert got["cyc.a"][0] == 1 and "partially initialized" in got["cyc.a"][1]
    assert got["cyc.b"][0] == 1


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
