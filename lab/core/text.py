"""Helpers every phase's text module shares: aligned tables, figures, id lists, the stopped and
verdict lines.

Pure functions (no printing, no Kafka). Tables are aligned columns, so they read in a terminal, in a log
and in a CI transcript alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.core.verdict import lines as doubt_lines


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(x: Any, digits: int = 1) -> str:
    """A figure for a table: NaN as "-", floats with thousands separators."""
    if isinstance(x, float):
        return "-" if x != x else f"{x:,.{digits}f}"
    return "-" if x is None else str(x)


def ids(xs: Sequence[int]) -> str:
    return ",".join(map(str, xs)) or "-"


def stopped_line(result: Any) -> list[str]:
    return [f"NOTE: {result.stopped}"] if getattr(result, "stopped", None) else []


def verdict_text(verdict: Sequence[Any]) -> str:
    """``verdict: no doubt found`` or one line per doubt."""
    return "\n".join(["verdict:    " + ("no doubt found" if not verdict else f"{len(verdict)} reason(s) to doubt"),
                      *doubt_lines(verdict)])


def with_spread(x: dict[str, Any], key: str, digits: int) -> str:
    """A figure, and with repeats the min..max of them: ``1,000 (900..1,300)``."""
    if f"{key}_lo" not in x:
        return fmt(x[key], digits)
    return f"{fmt(x[key], digits)} ({fmt(x[key + '_lo'], digits)}..{fmt(x[key + '_hi'], digits)})"
