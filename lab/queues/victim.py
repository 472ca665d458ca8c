"""The share consumer that the crash experiment kills: a process of its own, so a SIGKILL really ends it
mid-record with its acquired records unacknowledged (a thread cannot be killed like that).

Started as ``python -m lab.queues.victim`` with one JSON object on stdin (never on the command line: the
client settings may hold credentials)::

    {"client": {...librdkafka settings...}, "group": "...", "topic": "...", "max_poll_records": 5}

It polls until it gets records, prints one JSON line per record it acquired (``{"partition", "offset",
"seq", "delivery_count"}``), then "processes" the first one until it is killed (or stdin closes: the
parent has gone, so it exits rather than linger).
"""

from __future__ import annotations

import json
import sys

from confluent_kafka import ShareConsumer

from lab.queues.members import seq_of

#: How long one poll waits (s).
POLL_S = 0.2


def main() -> int:
    cfg = json.loads(sys.stdin.readline())
    c = ShareConsumer({**cfg["client"], "group.id": cfg["group"], "share.acknowledgement.mode": "explicit",
                       "max.poll.records": int(cfg["max_poll_records"])})
    c.subscribe([cfg["topic"]])
    while True:
        msgs = [m for m in c.poll(POLL_S) if m.error() is None]
        if msgs:
            break
    for m in msgs:
        print(json.dumps({"partition": m.partition(), "offset": m.offset(), "seq": seq_of(m.value()),
                          "delivery_count": m.delivery_count()}), flush=True)
    print(json.dumps({"processing": True}), flush=True)
    sys.stdin.read()  # mid-record until killed; returns when the parent closes our stdin
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
