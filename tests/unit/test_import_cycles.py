"""No import cycles in the cluster layer: ``lab.clients`` imports nothing of ``lab.cluster``, and the modules
of ``lab/cluster/`` (with the few lab modules they use) import each other in one direction only. Read from
the source (every import counts, also those inside functions or under TYPE_CHECKING)."""

from __future__ import annotations

import ast
from pathlib import Path

LAB = Path(__file__).resolve().parents[2] / "lab"
#: The layer checked: the cluster package and what it builds on.
LAYER = ("lab.cluster", "lab.clients", "lab.errors", "lab.experiment")


def module_name(path: Path) -> str:
    parts = path.relative_to(LAB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The lab modules ``path`` imports (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m in known} - {module_name(path)}


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in LAB.rglob("*.py")}
    known = set(paths)
    return {name: imports(p, known) for name, p in paths.items() if name.startswith(LAYER)}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``g`` (as a path back to its start), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done or node not in g:
            return None
        for nxt in sorted(g[node]):
            if cycle := visit(nxt, [*path, node]):
                return cycle
        done.add(node)
        return None

    for start in sorted(g):
        if cycle := visit(start, []):
            return cycle
    return None


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_clients_import_nothing_of_the_cluster_package() -> None:
    assert not {m for m in graph()["lab.clients"] if m.startswith("lab.cluster")}


def test_no_import_cycle_in_the_cluster_layer() -> None:
    g = graph()
    assert {"lab.cluster.local", "lab.cluster.local_config", "lab.cluster.local_state", "lab.cluster.local_process",
            "lab.cluster.base", "lab.clients"} <= set(g), "the modules checked are found"
    assert find_cycle(g) is None
