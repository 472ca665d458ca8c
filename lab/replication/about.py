"""What each replication scenario shows and why, in a few sentences: the page puts the chosen scenario's
explainer right under its controls (next to what it explains), the CLI may print it. Plain markdown."""

from __future__ import annotations

#: Why the broker-stopping scenarios stop brokers in the order they do (KRaft's quorum).
KRAFT_ORDER = (
    "Each of the lab's three nodes is a broker and a KRaft controller, and the controllers need two of three to "
    "elect leaders or change an ISR: so **min.insync.replicas** stops followers one at a time with a controlled "
    "shutdown, and **unclean election** keeps the third node, which holds no replica, running for the quorum.")

#: scenario (registry name) -> its explainer
ABOUT: dict[str, str] = {
    "replication.monitor": (
        "The ISR is the set of replicas that keep up with the leader; the high watermark (HW) is the offset all "
        "of them have, and consumers read only below it. Stop or pause a broker in the sidebar while the monitor "
        "runs: its replicas leave the ISR after `replica.lag.time.max.ms`, the leaders it had move (with a new "
        "leader epoch), and it rejoins once it has caught up."),
    "replication.min-isr": (
        "**Why three brokers for min.insync.replicas=2 with RF 3?** With `acks=all` the leader answers once every "
        "ISR member has the write and refuses it (`NOT_ENOUGH_REPLICAS`) while the ISR is smaller than "
        "`min.insync.replicas`. Three replicas with a minimum of two survive one broker down, each acknowledged "
        "write still on two machines; a second one down stops `acks=all` writes while `acks=1` goes on. Two "
        "brokers would stop on any single failure; a minimum of one lets a write live on one disk only. "
        + KRAFT_ORDER),
    "replication.hw-leo": (
        "**What does acks=all wait for?** All replicas *currently in the ISR*, not all replicas. While the paused "
        "follower is still in the ISR the HW stands still and acks wait (the gap in the bars); after "
        "`replica.lag.time.max.ms` the leader drops it, the HW jumps to the leader's log end offset and acks flow "
        "again, confirmed by fewer copies. `min.insync.replicas` is the floor under that shrinking set."),
    "replication.unclean": (
        "**What does unclean leader election cost?** With every in-sync replica down, a partition waits "
        "(unavailable, nothing lost) or, with `unclean.leader.election.enable=true`, lets an out-of-sync replica "
        "lead: available again, but the writes it never got are gone, even after the old leader returns (it "
        "truncates to match). The table counts the acknowledged messages lost. On Kafka 4.x the ISR may empty "
        "and the **ELR** keeps the replicas that left while the ISR was below the minimum: they have every "
        "acknowledged write and may lead cleanly. " + KRAFT_ORDER),
    "replication.elr": (
        "**What changes with eligible leader replicas (KIP-966)?** Up to 3.9 the ISR never empties: its last "
        "member stays listed and only it may lead again cleanly. From 4.1 (on by default for new clusters) the "
        "ISR may shrink to nothing and the controller keeps the **ELR**: replicas that left while the ISR was "
        "below `min.insync.replicas` (acks=all writes were refused from then on), so they can be elected with no "
        "loss. A replica that left while the ISR still met the minimum is not eligible. This mode runs the same "
        "fault on a second cluster of the other version and draws both."),
    "replication.storage": (
        "A partition's log is a series of segment files; only the active (last) one is written. Retention and "
        "compaction work on closed segments: `segment.bytes` decides when one closes, `cleanup.policy=compact` "
        "keeps the last record per key (and a tombstone for a while), `delete` drops whole old segments."),
}
