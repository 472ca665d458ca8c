"""How pytest-xdist hands out the tests: each file's tests to one worker (as ``--dist loadfile``), except the
tests of the breakable cluster (``tests/conftest.py``), which all go to one worker as one unit, one after the
other, so none waits for its turn there and the other worker never touches that cluster.

(``--dist loadgroup`` with ``xdist_group`` marks would say the same, but it works by rewriting node ids,
which this pytest no longer honours: pytest-xdist issue #1386. So: a scheduler of our own.) The workers
write the breakable tests' node ids to a file beside their base temp directories when they have collected;
the controller reads it when it splits the collection into units, after every worker has collected."""

from __future__ import annotations

from pathlib import Path

from xdist.scheduler import LoadFileScheduling

#: The unit (scope) of the breakable cluster's tests, and the file the workers list them in.
BREAKABLE_SCOPE = "breakable-cluster"
LIST_NAME = "breakable-nodeids.txt"


def list_file(worker_basetemp: Path) -> Path:
    return worker_basetemp.parent / LIST_NAME


def write_list(worker_basetemp: Path, nodeids: list[str]) -> None:
    """A worker's list (every worker collects the same tests: the last writer writes what the first did)."""
    target = list_file(worker_basetemp)
    tmp = target.with_name(f"{LIST_NAME}.{worker_basetemp.name}")
    tmp.write_text("\n".join(nodeids))
    tmp.replace(target)


class BreakableTogether(LoadFileScheduling):
    """``loadfile``, with the breakable cluster's tests as one more unit."""

    def __init__(self, config: object, log: object = None, *, basetemp: Path) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self._list = basetemp / LIST_NAME
        self._breakable: set[str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._breakable is None:
            self._breakable = set(self._list.read_text().splitlines()) if self._list.exists() else set()
        return BREAKABLE_SCOPE if nodeid in self._breakable else super()._split_scope(nodeid)
