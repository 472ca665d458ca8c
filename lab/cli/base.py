"""What every command group shares: the handler type, the common flags, and how output is written."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from lab.cluster import BACKENDS, Cluster
from lab.core.codec import to_jsonable

#: A command: parsed arguments and the chosen cluster -> a string for people, or an object for --json.
Handler = Callable[[argparse.Namespace, Cluster], Any]
#: A group adds its sub-parsers and returns its handlers by command path.
Register = Callable[[Any, argparse.ArgumentParser], dict[tuple[str, ...], Handler]]


def common_parent() -> argparse.ArgumentParser:
    """Flags every command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("--bootstrap", help="use an external cluster at host:port[,host:port] "
                        "(or set KAFKA_LAB_BOOTSTRAP; security settings come from KAFKA_LAB_* variables)")
    common.add_argument("--backend", choices=BACKENDS, help="local (default), compose or external")
    common.add_argument("--state-dir", help="local backend: where the cluster keeps its data "
                        "(default $KAFKA_LAB_STATE_DIR or ~/.local/state/kafka-lab/cluster)")
    return common


def write(result: Any, as_json: bool) -> None:
    """Print a handler's result: JSON (strict: NaN as null) for --json, else its text."""
    if as_json and not isinstance(result, str):
        print(json.dumps(to_jsonable(result), indent=2, allow_nan=False))
    elif result is not None:
        print(result)


def progress(line: str, quiet: bool) -> None:
    if not quiet:
        print(line, file=sys.stderr, flush=True)
