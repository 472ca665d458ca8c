"""The lesson of phase 3 from the transactions scenario: what each isolation level sees of aborted
transactions, and where a read_committed consumer waits while one is open."""

from __future__ import annotations

from lab.eos.settings import TransactionSettings
from lab.eos.transactions import TransactionResult
from lab.lessons.base import Choice, Figure, Finding, Lesson, TryNext

PRESET = TransactionSettings(transactions=6, records_per_transaction=9, aborted=2, hold_open_s=3.0)


def find_read_committed(r: TransactionResult) -> Finding:
    s = r.settings
    aborted = r.aborted_records
    figures = [Figure("transactions", "transactions", float(len(r.outcomes))),
               Figure("aborted_records", "records in aborted transactions", float(aborted), "records")]
    sentences = [f"{len(r.outcomes)} transactions of {s.records_per_transaction} records over {s.partitions} "
                 f"partitions; {sum(1 for o in r.outcomes if not o.committed)} aborted, holding {aborted} records."]
    doubts: list[str] = []
    rc, ru = r.aborted_seen_committed, r.aborted_seen_uncommitted
    if r.read_committed is None or r.read_uncommitted is None or rc is None or ru is None:
        doubts.append("the topic was not read back")
        return Finding(None, tuple(sentences), tuple(figures), tuple(doubts))
    figures += [Figure("read_committed.records", "records read with read_committed", float(r.read_committed),
                       "records"),
                Figure("read_committed.aborted_seen", "aborted records seen with read_committed", float(rc), "records"),
                Figure("read_uncommitted.records", "records read with read_uncommitted", float(r.read_uncommitted),
                       "records"),
                Figure("read_uncommitted.aborted_seen", "aborted records seen with read_uncommitted", float(ru),
                       "records")]
    sentences.append(f"read_committed read {r.read_committed} records, {rc} of them from aborted transactions; "
                     f"read_uncommitted read {r.read_uncommitted}, {ru} from aborted ones.")
    if r.held_hw and r.held_lso:
        p = min(r.held_hw)
        hw, lso = r.held_hw[p], r.held_lso.get(p)
        pos = r.held_position.get(p)
        figures += [Figure("held.hw", f"high watermark of partition {p} while the last transaction was open",
                           float(hw)),
                    Figure("held.lso", f"last stable offset of partition {p} meanwhile", float(lso or 0))]
        waited = f"; the read_committed consumer waited at {pos}" if pos is not None and pos >= 0 else ""
        sentences.append(f"While the last transaction was open, partition {p} had its high watermark at {hw} and "
                         f"its last stable offset at {lso}{waited}.")
    outcome = None
    if aborted == 0:
        doubts.append("no transaction was aborted, so there was nothing for read_committed to hide")
    elif rc == 0 and ru == aborted:
        outcome = "committed-only"
    elif rc == aborted and ru == aborted:
        outcome = "both-all"
    elif rc == 0 and ru == 0:
        outcome = "both-none"
    else:
        doubts.append(f"read_committed saw {rc} and read_uncommitted {ru} of {aborted} aborted records, which fits "
                      "no choice cleanly")
    return Finding(outcome, tuple(sentences), tuple(figures), tuple(doubts))


READ_COMMITTED = Lesson(
    id="read-committed", phase=3, page="eos", title="What consumers see of aborted transactions",
    question=("A transactional producer commits some transactions and aborts others: what do read_committed and "
              "read_uncommitted consumers see?"),
    source="Practice 003e, phase 3 (transactional producers)",
    choices=(
        Choice("committed-only", "read_committed sees only committed records; read_uncommitted sees the aborted "
                                 "ones too"),
        Choice("both-all", "Both see every record: an abort only tells the producer"),
        Choice("both-none", "Neither sees aborted records: the broker deletes them"),
    ),
    experiment="eos.transactional", settings=PRESET, find=find_read_committed,
    why=("Why: aborted records stay in the log; the transaction coordinator writes an abort marker after them, and "
         "a read_committed consumer skips them using the aborted-transaction list the broker sends with each "
         "fetch. It also reads only up to the last stable offset (LSO), so an open transaction holds it back "
         "while read_uncommitted reads on up to the high watermark."),
    try_next=(
        TryNext("No aborted transactions", TransactionSettings(transactions=6, records_per_transaction=9, aborted=0,
                                                               hold_open_s=3.0),
                "both isolation levels read the same records: the difference is only the aborted ones."),
        TryNext("Hold the last transaction open longer", TransactionSettings(transactions=6, records_per_transaction=9,
                                                                             aborted=2, hold_open_s=10.0),
                "the LSO stays behind the high watermark for the whole hold, and read_committed waits there."),
    ),
    takes="about 10 s",
    key_figures=("read_committed.aborted_seen", "read_uncommitted.aborted_seen", "aborted_records"),
    chart="hw-vs-lso",
)

LESSONS = (READ_COMMITTED,)
