"""`kafka-lab …`: the lab's experiments from a terminal; one module per command group.

    base.py         what every group shares: the handler type, common flags, the JSON/text output
    run.py          the one runner for registered experiments (progress on stderr, Ctrl-C keeps results)
    cluster.py      cluster up|down|status, broker ACTION N, topics create|describe
    replication.py  replication describe|monitor|min-isr|hw-leo|unclean|storage   (phase 2)
    eos.py          eos idempotent|transactional|fencing|pipeline                  (phase 3)
    producer.py     producer run|compression|batch|acks|presets|perf-test|cleanup  (phase 4)
    consumer.py     consumer seed|benchmark|sweep|perf-test|strategies|static-membership|protocols (phase 5)
    lag.py          lag watch|scenario|rate                                        (phase 6)
    share.py        share compare|acks|crash|describe: share groups                (phase 7)
    runs.py         runs list|show|rerun|delete|export: the run history
    lesson.py       lesson list|show|run: the course's questions answered from a measured run
    klass.py        class start|status|end: a class on this server (the teacher key, printed once)
    app.py          the parser built from the groups, the old names (``bench``, ``lag-scenario``,
                    ``lag-rate``) as aliases, and ``main``
"""

from __future__ import annotations

from lab.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
