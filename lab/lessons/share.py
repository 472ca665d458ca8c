"""The lesson of phase 7 from the share-group comparison: with more readers than partitions, a share group
keeps every member busy where a consumer group leaves the extra ones idle, and pays with per-partition order."""

from __future__ import annotations

import math

from lab.lessons.base import Choice, Figure, Finding, Lesson, TryNext
from lab.queues.compare import ShareCompareResult
from lab.queues.settings import ShareCompareSettings

#: 2 partitions, 6 members, 20 ms a record: a consumer group has 2 busy members (~100 records/s at best), a
#: share group up to 6 (~300). 300 records keep the run near 10 s of reading plus the groups' joins.
PRESET = ShareCompareSettings(partitions=2, members=6, records=300, processing_delay_ms=20.0, max_poll_records=10)
#: One group must read this many times faster than the other to count as shown (below: noise on a busy machine).
FASTER = 1.3


def find_share(r: ShareCompareResult) -> Finding:
    s = r.settings
    sentences = [f"{s.records} records in {s.partitions} partitions, read by {s.members} members of each group; "
                 f"each member spends {s.processing_delay_ms:g} ms per record."]
    if r.share is None or r.group is None:
        return Finding(None, tuple(sentences), (), ("the run needs both groups' reads",))
    sh, gr = r.share, r.group
    figures = (
        Figure("share.records_per_s", "share group: records per second", round(sh.records_per_s, 1), "records/s"),
        Figure("group.records_per_s", "consumer group: records per second", round(gr.records_per_s, 1), "records/s"),
        Figure("speedup", "share group ÷ consumer group", round(r.speedup, 2), "×"),
        Figure("share.idle", "idle members (share group)", float(len(sh.idle))),
        Figure("group.idle", "idle members (consumer group)", float(len(gr.idle))),
        Figure("share.out_of_order", "records finished out of offset order (share group)",
               float(sum(sh.out_of_order.values())), "records"),
        Figure("group.out_of_order", "records finished out of offset order (consumer group)",
               float(sum(gr.out_of_order.values())), "records"),
    )
    sentences += [
        f"Share group: {sh.records_per_s:,.0f} records/s, {s.members - len(sh.idle)} of {s.members} members busy, "
        f"{sum(sh.out_of_order.values()):,} records finished after a record with a later offset.",
        f"Consumer group: {gr.records_per_s:,.0f} records/s, {s.members - len(gr.idle)} of {s.members} members busy, "
        f"{sum(gr.out_of_order.values()):,} out of order.",
    ]
    doubts = []
    if not (sh.complete and gr.complete):
        doubts.append("a group did not get through the whole backlog in its time")
    if math.isnan(r.speedup):
        doubts.append("a group finished no record")
    if doubts:
        return Finding(None, tuple(sentences), figures, tuple(doubts))
    if r.speedup >= FASTER:
        sentences.append(f"The share group read {r.speedup:.1f}× as fast.")
        return Finding("share-faster", tuple(sentences), figures)
    if r.speedup <= 1 / FASTER:
        sentences.append(f"The consumer group read {1 / r.speedup:.1f}× as fast.")
        return Finding("group-faster", tuple(sentences), figures)
    return Finding(None, tuple(sentences), figures,
                   (f"the two groups read within {FASTER:g}× of each other ({r.speedup:.2f}×)",))


SHARE_QUEUE = Lesson(
    id="share-queue", phase=7, page="share", title="Share groups: more readers than partitions",
    question=("Six readers, two partitions, each record takes 20 ms: does a share group get through the backlog "
              "faster than a consumer group of six, and what does it give up?"),
    source="KIP-932 (share groups, Kafka 4.2+): Kafka as a queue",
    choices=(
        Choice("share-faster", "The share group is faster: all six members work, the consumer group leaves four "
                               "idle"),
        Choice("same", "The same: two partitions cap any group at two busy readers"),
        Choice("group-faster", "The consumer group is faster: acknowledging record by record costs more than it "
                               "gains"),
    ),
    experiment="share.compare", settings=PRESET, find=find_share,
    why=("Why: a consumer group gives each partition to exactly one member, so it never has more busy members than "
         "partitions, and it processes each partition in offset order. A share group hands records out one "
         "acquisition at a time to every member, so all of them work at once — and a partition's records no "
         "longer finish in offset order. A queue suits independent work items; where order per key matters, a "
         "consumer group (and more partitions) is the model."),
    try_next=(
        TryNext("Six partitions", ShareCompareSettings(partitions=6, members=6, records=300, processing_delay_ms=20.0,
                                                      max_poll_records=10),
                "with a partition per member the consumer group has no idle member either: the gap closes."),
        TryNext("No processing time", ShareCompareSettings(partitions=2, members=6, records=300,
                                                           processing_delay_ms=0.0, max_poll_records=10),
                "with nothing to wait for, the extra members add little: the fetches and acknowledgements are the "
                "work."),
    ),
    takes="about 40 s",
    key_figures=("speedup", "share.records_per_s", "group.records_per_s", "group.idle"),
)

LESSONS = (SHARE_QUEUE,)
