"""The exactly-once lab's results as terminal text (``kafka-lab eos …``): pure functions, a result in,
a string out."""

from __future__ import annotations

from lab.core.text import fmt, stopped_line, table
from lab.eos.duplicates import IDEMPOTENCE_REQUIRES, DuplicateResult, FaultRun
from lab.eos.eosstats import ProducerIdentity
from lab.eos.fencing import FencingResult
from lab.eos.pipeline_run import PipelineResult
from lab.eos.transactions import TransactionResult

#: The transaction protocol of the lab's client, and what Kafka 4.x's version 2 changes (KIP-890, "Transactions
#: Server-Side Defense"; librdkafka has not implemented it: confluentinc/librdkafka issue 5423 is open).
TRANSACTION_PROTOCOL = (
    "The lab's Python client (librdkafka) speaks transaction protocol v1: a producer keeps one epoch for all its "
    "transactions, and only a new producer with the same transactional.id (init_transactions) bumps it. That "
    "leaves a gap: a write delayed in the network can arrive after its transaction ended, with an epoch that is "
    "still current, and either become part of the next transaction or open one the coordinator knows nothing "
    "of — a hanging transaction that never times out and holds the last stable offset, and every read_committed "
    "consumer, until an operator aborts it. Kafka 4.x closes the gap from both sides (KIP-890). Partition leaders "
    "ask the transaction coordinator whether the producer's transaction is open before they take a transactional "
    "write (transaction.partition.verification.enable, on by default; it keeps v1 clients from hanging "
    "transactions too). And with transaction protocol v2 — when the cluster's transaction.version feature is 2, "
    "as on a new 4.x cluster, and the producer supports it (the Java producer of 4.x does) — the coordinator "
    "bumps the producer epoch on every commit or abort, so anything late from a finished transaction carries an "
    "old epoch and is refused instead of joining the next one.")


def epoch_line(ident: ProducerIdentity | None, transactions: int) -> str:
    """What the producer's epoch after ``transactions`` transactions shows about the protocol it spoke."""
    if ident is None:
        return "producer epoch: not seen (librdkafka's statistics had no producer id yet)"
    return (f"producer epoch after {transactions} transaction(s): {ident.producer_epoch} (protocol v1: one epoch "
            "for all of a producer's transactions; under KIP-890's v2 it would grow by one per transaction)")


def identity(ident: ProducerIdentity | None) -> str:
    return "-" if ident is None else f"PID {ident.producer_id}, epoch {ident.producer_epoch}"


def _dups(run: FaultRun) -> str:
    shown = [f"{n}×{c}" for p in run.partitions for n, c in list(p.duplicated.items())[:6]]
    return ", ".join(shown) or "-"


def duplicates(res: DuplicateResult) -> str:
    s = res.settings
    head = [
        f"leader broker {s.leader} frozen (SIGSTOP) for {s.pause_ms} ms; socket.timeout.ms={s.socket_timeout_ms}, "
        f"broker.session.timeout.ms={res.session_timeout_ms}: the pause outlasts the client's request timeout "
        "and stays under the session timeout, so requests are retried while the frozen leader still holds the "
        "originals",
        f"{s.rate_per_s} numbered records/s to {s.partitions} partition(s), acks={s.acks}, retries={s.retries}, "
        f"max.in.flight={s.max_in_flight}",
    ]
    rows = []
    for r in res.runs:
        t = r.total()
        rows.append([r.label, r.sent, r.acked, r.failed, r.timeouts, t.records if r.read_back else "-",
                     t.duplicates if r.read_back else "-", t.gaps if r.read_back else "-",
                     t.lost if r.read_back else "-", t.order_violations if r.read_back else "-", identity(r.identity)])
    body = table(rows, ["producer", "sent", "acked", "failed", "timeouts", "in log", "duplicates", "gaps", "lost",
                        "order violations", "producer id"])
    tail = [f"duplicated ({r.label}): {_dups(r)}" for r in res.runs if r.read_back and r.total().duplicates]
    tail.append("enable.idempotence=true requires " + ", ".join(f"{k} {v}" if v[0] in "≤>" else f"{k}={v}"
                                                              for k, v in IDEMPOTENCE_REQUIRES.items()))
    return "\n".join([*head, "", body, "", *tail, *stopped_line(res)])


def transactions(res: TransactionResult) -> str:
    s = res.settings
    head = [f"transactional.id {res.transactional_id} ({identity(res.identity)}); {s.transactions} transactions of "
            f"{s.records_per_transaction} records over {s.partitions} partitions, {s.aborted} aborted"]
    rows = [[o.index, "commit" if o.committed else "abort",
             " ".join(f"p{p}:{n}" for p, n in sorted(o.records.items())),
             " ".join(f"p{p}:{n}" for p, n in sorted(o.offsets_taken.items())) or "-", fmt(o.end_ms, 1)]
            for o in res.outcomes]
    body = table(rows, ["txn", "outcome", "records per partition", "offsets taken", "commit/abort ms"])
    lines = [
        f"read back: read_committed {fmt(res.read_committed)}, read_uncommitted {fmt(res.read_uncommitted)}; "
        f"aborted records seen: read_committed {fmt(res.aborted_seen_committed)}, "
        f"read_uncommitted {fmt(res.aborted_seen_uncommitted)} (of {res.aborted_records} aborted)",
        "offsets holding control markers per partition: "
        + (" ".join(f"p{p}:{n}" for p, n in sorted(res.marker_offsets.items())) or "-")
        + " (expected one per transaction: "
        + (" ".join(f"p{p}:{n}" for p, n in sorted(res.expected_markers.items())) or "-") + ")",
    ]
    if res.held_hw:
        lines.append("while the last transaction was open: " + "; ".join(
            f"p{p} HW {res.held_hw[p]} LSO {res.held_lso.get(p)} read_committed consumer at {res.held_position.get(p)}"
            for p in sorted(res.held_hw)))
    if res.lso_after:
        lines.append("after its commit, LSO: " + " ".join(f"p{p}:{v}" for p, v in sorted(res.lso_after.items())))
    lines.append(epoch_line(res.identity, len(res.outcomes)))
    return "\n".join([*head, "", body, "", *lines, *stopped_line(res)])


def fencing(res: FencingResult) -> str:
    lines = [
        f"transactional.id {res.transactional_id}",
        f"zombie (first producer):    {identity(res.zombie)}",
        f"successor (same id):        {identity(res.successor)}",
        f"zombie's next call:         {res.fenced_error or 'not fenced'} on {res.fenced_on or '-'}"
        + (" (fatal: the producer cannot be used again)" if res.fenced_fatal else ""),
        f"zombie's records:           read_committed {fmt(res.zombie_committed)}, "
        f"read_uncommitted {fmt(res.zombie_uncommitted)} (its open transaction was aborted)",
        f"successor's records:        read_committed {fmt(res.successor_committed)}, "
        f"read_uncommitted {fmt(res.successor_uncommitted)}",
    ]
    if res.fenced_message:
        lines.append(f"librdkafka: {res.fenced_message}")
    lines.append("The epoch moved because a new producer called init_transactions: under transaction protocol v1 "
                 "(librdkafka) that is the only fence; v2 (KIP-890, Kafka 4.x) also bumps it after every transaction.")
    return "\n".join(lines + stopped_line(res))


def pipeline(res: PipelineResult) -> str:
    s = res.settings
    head = [f"{s.records} input records at {s.rate_per_s}/s over {s.partitions} partitions; rounds of "
            f"{s.commit_interval_ms} ms; the pipeline process SIGKILLed {s.kills}× mid-round and restarted after "
            f"{s.restart_after_s:g} s"]
    rows = [[r.mode, fmt(r.input_records), fmt(r.output_records), fmt(r.distinct), fmt(r.duplicates),
             fmt(r.missing), " ".join(f"{t:.1f}s" for t in r.kills_at_s) or "-", r.processes,
             " ".join(map(str, r.exit_codes)) or "-",
             "-" if r.broker_killed is None else f"{r.broker_killed} at {fmt(r.broker_killed_at_s)}s"]
            for r in res.runs]
    body = table(rows, ["mode", "input", "output (read_committed)", "distinct", "duplicates", "missing",
                        "killed at", "processes", "exit codes", "broker killed"])
    return "\n".join([*head, "", body, *stopped_line(res)])


def step_lines(partial: object) -> list[str]:
    """The steps of a partial eos result so far, for the CLI's live output."""
    steps = getattr(partial, "steps", ())
    return [f"{x.t:7.2f} s  {x.label}" for x in steps]
