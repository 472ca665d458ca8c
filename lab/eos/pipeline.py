"""A consume-transform-produce pipeline, run as its own process: ``python -m lab.eos.pipeline ...``.

It reads numbered records from an input topic and writes each one, transformed, to the same partition of
an output topic, in rounds of ``--commit-interval-ms``:

- ``exactly-once``: each round is one transaction: the output records *and* the input offsets
  (``send_offsets_to_transaction``) are committed together or not at all. A new process with the same
  ``transactional.id`` aborts what the old one left open and resumes from the committed offsets, so a
  ``read_committed`` reader of the output sees every input record exactly once whenever the process dies.
- ``at-least-once``: the output records are flushed, then the input offsets committed. A process that
  dies between the two leaves outputs whose inputs are not committed: they are processed again.

It prints one JSON line per round to stdout (``{"round": 3, "records": 412, "mode": ...}``) and stops at
SIGTERM after finishing its round. The lab's scenario (``lab.eos.pipeline_run``) starts it, SIGKILLs it
mid-run, starts it again and reads the output back.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

MODES = ("exactly-once", "at-least-once")
#: Records fetched per consume call.
CONSUME_BATCH = 200
#: How long one consume call waits for records.
CONSUME_WAIT_S = 0.1
#: Bound of each init/commit call. A failure neither retriable nor abortable exits the process with status 3
#: (the scenario restarts it).
CALL_TIMEOUT_S = 30.0
#: Tries of a transaction call that fails with a retriable error before the process gives up (status 3).
CALL_ATTEMPTS = 4
#: Suffix the transformation adds to each record (its sequence number is kept first, to be counted).
TRANSFORMED = b" transformed"


def transform(value: bytes | None) -> bytes:
    """The pipeline's work on one record: keep the number, mark it as processed."""
    return (value or b"").rstrip(b" ") + TRANSFORMED


def _clients(args: argparse.Namespace) -> tuple[Consumer, Producer]:
    base: dict[str, Any] = {"bootstrap.servers": args.bootstrap}
    if args.client_config:  # the cluster's connection settings (security too), written by the scenario
        with open(args.client_config, encoding="utf-8") as f:
            base = {str(k): v for k, v in json.load(f).items()}
    cons = Consumer({**base, "group.id": args.group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    pcfg: dict[str, Any] = {**base, "linger.ms": 5}
    if args.mode == "exactly-once":
        pcfg.update({"transactional.id": args.transactional_id, "transaction.timeout.ms": 30_000})
    else:
        pcfg.update({"acks": "all", "enable.idempotence": False})
    return cons, Producer(pcfg)


def _positions(cons: Consumer, topic: str, partitions: int) -> list[TopicPartition]:
    return [tp for tp in cons.position([TopicPartition(topic, p) for p in range(partitions)]) if tp.offset >= 0]


def _kafka_error(exc: KafkaException) -> KafkaError | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None


def _retrying(call: Any, what: str) -> None:
    """``call()``, again while it fails with a retriable error (a coordinator that moved, a timeout):
    a broker that fails mid-round must not end the process when the transaction can still commit."""
    for attempt in range(1, CALL_ATTEMPTS + 1):
        try:
            call()
            return
        except KafkaException as exc:
            err = _kafka_error(exc)
            if err is None or not err.retriable() or attempt == CALL_ATTEMPTS:
                raise
            print(json.dumps({"retry": what, "error": str(err)}), flush=True)


def _rewind(cons: Consumer, topic: str, partitions: int) -> None:
    """Back to the committed input offsets: an aborted round's records are processed again."""
    got = cons.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=CALL_TIMEOUT_S)
    cons.assign([TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                 for tp in got])


def _commit_round(prod: Producer, cons: Consumer, offsets: list[TopicPartition], args: argparse.Namespace) -> bool:
    """Commit the round's transaction (output and input offsets); True when committed. A transaction the
    cluster says must be aborted (a produce that failed) is aborted and the input rewound: False."""
    try:
        if offsets:
            _retrying(lambda: prod.send_offsets_to_transaction(offsets, cons.consumer_group_metadata(),
                                                               CALL_TIMEOUT_S), "send_offsets_to_transaction")
        _retrying(lambda: prod.commit_transaction(CALL_TIMEOUT_S), "commit_transaction")
        return True
    except KafkaException as exc:
        err = _kafka_error(exc)
        if err is None or not err.txn_requires_abort():
            raise
        print(json.dumps({"aborted": str(err)}), flush=True)
        _retrying(lambda: prod.abort_transaction(CALL_TIMEOUT_S), "abort_transaction")
        _rewind(cons, args.input, args.partitions)
        return False


def run(args: argparse.Namespace) -> int:
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))
    cons, prod = _clients(args)
    eos = args.mode == "exactly-once"
    total = 0
    try:
        if eos:  # first: fences the previous process with this id and aborts what it left open
            prod.init_transactions(CALL_TIMEOUT_S)
        # assign (no group membership): a restarted process takes over at once, from the committed offsets
        cons.assign([TopicPartition(args.input, p) for p in range(args.partitions)])
        rnd = 0
        last_committed: list[tuple[int, int]] = []
        while not stop["now"]:
            rnd += 1
            if eos:
                prod.begin_transaction()
            n = 0
            end = time.monotonic() + args.commit_interval_ms / 1000
            while time.monotonic() < end and not stop["now"]:
                for msg in cons.consume(CONSUME_BATCH, CONSUME_WAIT_S):
                    if msg.error() is None:
                        prod.produce(args.output, transform(msg.value()), partition=msg.partition() or 0)
                        n += 1
                prod.poll(0)
            offsets = _positions(cons, args.input, args.partitions)
            if eos:
                if not _commit_round(prod, cons, offsets, args):
                    continue
            elif prod.flush(CALL_TIMEOUT_S) == 0:  # every output acknowledged: now its inputs may count as done
                done = [(tp.partition, tp.offset) for tp in offsets]
                if done and done != last_committed:
                    cons.commit(offsets=offsets, asynchronous=False)
                    last_committed = done
            total += n
            print(json.dumps({"round": rnd, "records": total, "mode": args.mode}), flush=True)
    except KafkaException as exc:
        print(json.dumps({"error": str(_kafka_error(exc) or exc)}), flush=True)
        return 3
    finally:
        prod.flush(5)
        cons.close()
    return 0


def parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m lab.eos.pipeline", description=__doc__.split("\n")[0])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--client-config", help="a JSON file of librdkafka connection settings (replaces --bootstrap)")
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--partitions", type=int, required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--transactional-id", default="lab-eos-pipeline")
    p.add_argument("--commit-interval-ms", type=int, default=1000)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse(sys.argv[1:])))
