"""CLI output helpers: plain tables and JSON conversion of typed results."""

from __future__ import annotations

import json

from lab.cluster import BrokerInfo, BrokerState
from lab.core.codec import to_jsonable
from lab.core.text import table


def test_table_aligns_columns() -> None:
    out = table([(1, "running"), (10, None)], ["broker", "state"]).splitlines()
    assert out[0] == "broker  state"
    assert out[1] == "------  -------"
    assert out[2] == "1       running"
    assert out[3] == "10"


def test_to_jsonable_handles_dataclasses_enums_and_tuples() -> None:
    info = BrokerInfo(2, "127.0.0.1", 9093, BrokerState.PAUSED, 42, True)
    data = to_jsonable({"brokers": (info,)})
    assert json.loads(json.dumps(data)) == {
        "brokers": [{"node_id": 2, "host": "127.0.0.1", "port": 9093, "state": "paused", "pid": 42,
                     "registered": True}]
    }


def test_old_command_names_say_their_new_name_and_run_it() -> None:
    from lab.cli.app import canonical

    assert canonical(["bench", "produce", "--acks", "1"]) == (
        ["producer", "run", "--acks", "1"],
        "note: `kafka-lab bench produce` is now `kafka-lab producer run`; the old name still works")
    assert canonical(["bench", "acks", "--count", "3"])[0] == ["producer", "acks", "--count", "3"]
    assert canonical(["lag-scenario", "--phase", "5"])[0] == ["lag", "scenario", "--phase", "5"]
    assert canonical(["lag-rate"])[0] == ["lag", "rate"]
    assert canonical(["lag", "my-group", "--duration", "2"]) == (["lag", "watch", "my-group", "--duration", "2"], None)
    assert canonical(["lag"]) == (["lag", "watch"], None)
    assert canonical(["lag", "--help"]) == (["lag", "--help"], None)
    assert canonical(["producer", "run"]) == (["producer", "run"], None)


def test_a_cli_started_with_sigint_ignored_can_still_be_interrupted() -> None:
    """Shells start `cmd &` without job control with SIGINT ignored; the CLI takes it back (kill -INT)."""
    import signal
    import subprocess
    import sys

    code = ("import signal, sys\nfrom lab.cli.app import interruptible\n"
            "assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN\ninterruptible()\n"
            "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
