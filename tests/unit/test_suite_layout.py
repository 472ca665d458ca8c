"""The suite collects every test module: pytest imports them by basename (the test folders are not
packages), so two ``test_x.py`` in different folders make the second one an "import file mismatch" error
instead of tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_has_its_own_basename() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert not [n for n, c in names.items() if c > 1], names
