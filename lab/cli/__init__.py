"""`kafka-lab …`: the lab's experiments from a terminal; one module per command group.

    base.py         what every group shares: the handler type, common flags, the JSON/text output
    run.py          the one runner for registered experiments (progress on stderr, Ctrl-C keeps results)
    cluster.py      cluster up|down|status, broker ACTION N, topics create|describe
    bench.py        bench produce|compression|batch|acks|presets|perf-test|cleanup
    replication.py  replication describe|monitor|min-isr|hw-leo|unclean|storage
    runs.py         runs list|show|rerun|delete|export: the run history
    app.py          the parser built from the groups, and ``main``
"""

from __future__ import annotations

from lab.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
