"""What each share-group experiment shows and why (KIP-932), in a few sentences: the page puts the chosen
experiment's explainer right above its result (next to what it explains). Plain markdown."""

from __future__ import annotations

#: experiment mode (the page's) -> its explainer
ABOUT: dict[str, str] = {
    "compare": (
        "**When is a queue the right model?** A share group hands the records of one partition to several members, "
        "so more workers than partitions all get work — for independent items (jobs, e-mails, image resizes) where "
        "a failed item is simply tried again or set aside. It costs the order: records finish in any order. Keep "
        "a consumer group when order per key matters or state is kept per partition. The backlog is written one "
        "record per batch (a share fetch acquires whole batches), and the lab sets `share.auto.offset.reset="
        "earliest` on its groups (the default is the latest offset) so the backlog is read."),
    "acks": (
        "**Accept, release, reject.** Each delivered record is acquired under a lock; the member acknowledges it: "
        "*accept* (done), *release* (give it back for another try: its delivery count goes up) or *reject* (archive "
        "it, never delivered again). A record that keeps failing comes back until the group's delivery-count limit "
        "archives it — a poison message cannot block the queue."),
    "crash": (
        "**A member that dies.** Records a member acquired and never acknowledged are locked for "
        "`group.share.record.lock.duration.ms`: a member that hangs holds them until the lock runs out; one that "
        "dies and leaves the group gives them back as soon as the broker sees it gone — then another member gets "
        "them, with a higher delivery count."),
}
