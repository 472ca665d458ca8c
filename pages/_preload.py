"""Imports every page's modules in a background thread once the server has drawn its first page, so the
first visit of each other page does not wait for them (pandas, Altair and the lab's chart modules take
seconds to import on a loaded 2-core machine; the first page pays only for its own).

The modules are read from the pages' own import statements, so a page's new import is preloaded too.
Plain Python: no Streamlit in here (the pages' Streamlit imports are already loaded anyway).
"""

from __future__ import annotations

import ast
import importlib
import logging
import threading
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent
log = logging.getLogger(__name__)

_once = threading.Lock()  # taken by the first start(), never released


def page_imports(pages_dir: Path = PAGES_DIR) -> list[str]:
    """The modules the page files import (absolute imports only), in first-seen order."""
    seen: dict[str, None] = {}
    for path in sorted(pages_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                seen.update((a.name, None) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                seen[node.module] = None
                # `from lab.eos import charts`: charts is a module of its own
                seen.update((f"{node.module}.{a.name}", None) for a in node.names)
    return list(seen)


def _load(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # `from package import name` where name is not a module: nothing to load
            pass
        except Exception:  # noqa: BLE001 - a page that fails to import says so when it is opened
            log.debug("preloading %s failed", name, exc_info=True)


def start() -> None:
    """Start the preload (once per process; later calls do nothing)."""
    if not _once.acquire(blocking=False):
        return
    threading.Thread(target=lambda: _load(page_imports()), name="lab-page-preload", daemon=True).start()
