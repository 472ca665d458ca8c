"""What each EOS scenario shows and why, in a few sentences: the page puts the chosen scenario's explainer
right under its heading (next to what it explains). Plain markdown."""

from __future__ import annotations

from lab.eos.text import TRANSACTION_PROTOCOL

_TRANSACTIONS = (
    "**What do transactions add?** Atomicity across partitions and across restarts. A transaction's records are "
    "in the log at once (the high watermark moves), but the *last stable offset* stays at the first open "
    "transaction's first record, and a `read_committed` consumer reads no further until the commit or abort "
    "marker: aborted records are skipped, and every marker takes an offset (N records → N+1 offsets).")

#: scenario (registry name) -> its explainer
ABOUT: dict[str, str] = {
    "eos.idempotent": (
        "**What do the producer id and sequence numbers buy?** Without idempotence the broker cannot tell a retry "
        "from a new record: when a request times out on the client (here: the leader frozen longer than "
        "`socket.timeout.ms`) the batch is sent again and both copies are appended, the second behind newer "
        "records — duplicates *and* reordering, counted in the table. With `enable.idempotence=true` the producer "
        "has a producer id (PID) and epoch and numbers each batch per partition; the leader remembers the last "
        "five sequence numbers per PID and partition, acknowledges a retry it already has without writing it "
        "again, and refuses a gap. Hence `acks=all`, at most 5 requests in flight, and retries."),
    "eos.transactional": _TRANSACTIONS + " " + TRANSACTION_PROTOCOL,
    "eos.fencing": (
        "**Why fencing?** The `transactional.id` outlives the process: a new producer with the same id "
        "(`init_transactions`) bumps the epoch, aborts what the old one left open, and the old one — a zombie "
        "that still thinks it is alive — is refused (`_FENCED`) from then on, so two instances never both commit."),
    "eos.pipeline": (
        "**Exactly once, read-process-write.** Adding the consumer's offsets to the producer's transaction "
        "(`send_offsets_to_transaction`) commits the output and the input position together: a process killed "
        "mid-way restarts from the last committed position and its uncommitted output is aborted, so "
        "`read_committed` readers see each input once. Without the transaction, output written before the last "
        "offset commit is written again after a restart: at-least-once, duplicates counted."),
}
