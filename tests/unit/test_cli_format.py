"""CLI output helpers: plain tables and JSON conversion of typed results."""

from __future__ import annotations

import json

from lab.cluster import BrokerInfo, BrokerState
from lab.codec import to_jsonable
from lab.text import table


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
