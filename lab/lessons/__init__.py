"""The course's questions, each answered from one measured run: lesson -> experiment + preset settings ->
answer from the result.

    base.py         Lesson, Choice, TryNext, Finding, Answer, Figure: what a lesson is and what it answers
    replication.py  phase 1 (why three brokers) and phase 2 (min.insync.replicas 1 or 2)
    eos.py          phase 3 (what each isolation level sees of aborted transactions)
    producer.py     phase 4 (a codec for latency, a codec for bandwidth)
    consumer.py     phase 5 (why cooperative rebalancing)
    lag.py          phase 6 (lag growing and draining)
    share.py        phase 7 (a share group vs a consumer group, more readers than partitions)
    catalogue.py    every lesson by id, per page
    text.py         a lesson and its answer as terminal text

Pure: the experiment runs elsewhere (the launcher, from the CLI or a page); a lesson only reads its result.
"""

from __future__ import annotations

from lab.lessons.base import Answer, Choice, Figure, Finding, Lesson, TryNext
from lab.lessons.catalogue import LESSONS, for_page, get

__all__ = ["LESSONS", "Answer", "Choice", "Figure", "Finding", "Lesson", "TryNext", "for_page", "get"]
