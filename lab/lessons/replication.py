"""Lessons of phases 1 and 2: from the min.insync.replicas scenario, why RF 3 with min.insync.replicas=2 wants
three brokers and when 1 is the right choice instead of 2; from the HW vs LEO scenario, what the high watermark
does while a follower is stopped."""

from __future__ import annotations

from lab.kafka.load import ProbeOutcome
from lab.lessons.base import Choice, Figure, Finding, Lesson, TryNext
from lab.replication.scenarios import (
    PHASE_ALL_UP,
    PHASE_ONE_DOWN,
    PHASE_TWO_DOWN,
    HwLeoResult,
    MinIsrPhase,
    MinIsrResult,
)
from lab.replication.settings import HwLeoSettings, MinIsrSettings

#: Probe writes per phase and acks setting: enough to see "all" or "none", quick to send (about 15 s in all).
PROBES = 20
#: What a presenter shows large: acks=all with one and with two brokers down, and acks=1 with two down.
KEY_PROBES = ("one_down.acks_all_acked", "two_down.acks_all_acked", "two_down.acks_1_acked")


def _ok(p: ProbeOutcome) -> bool:
    return p.sent > 0 and p.acked == p.sent


def _refused(p: ProbeOutcome) -> bool:
    return p.sent > 0 and p.acked == 0


def _errors(p: ProbeOutcome) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(p.errors.items())) or "no error reported"


def _phase_sentence(ph: MinIsrPhase) -> str:
    down = (f"broker{'s' if len(ph.brokers_down) > 1 else ''} {' and '.join(map(str, ph.brokers_down))} stopped"
            if ph.brokers_down else "all three brokers up")
    a, b = ph.acks_all, ph.acks_1
    refused = f" ({_errors(a)})" if a.failed else ""
    return (f"With {down} (ISR {', '.join(map(str, ph.isr)) or 'empty'}), acks=all wrote {a.acked}/{a.sent}{refused} "
            f"and acks=1 wrote {b.acked}/{b.sent}.")


def _phases(r: MinIsrResult) -> tuple[MinIsrPhase | None, MinIsrPhase | None, MinIsrPhase | None]:
    by = {p.name: p for p in r.phases}
    return by.get(PHASE_ALL_UP), by.get(PHASE_ONE_DOWN), by.get(PHASE_TWO_DOWN)


def _figures(r: MinIsrResult) -> tuple[Figure, ...]:
    out = [Figure("min_insync_replicas", "min.insync.replicas", float(r.settings.min_insync_replicas))]
    for key, ph in zip(("all_up", "one_down", "two_down"), _phases(r), strict=True):
        if ph is None:
            continue
        out += [Figure(f"{key}.isr", f"ISR size ({ph.name})", float(len(ph.isr))),
                Figure(f"{key}.acks_all_acked", f"acks=all writes acknowledged ({ph.name})", float(ph.acks_all.acked),
                       "messages"),
                Figure(f"{key}.acks_all_sent", f"acks=all writes sent ({ph.name})", float(ph.acks_all.sent),
                       "messages"),
                Figure(f"{key}.acks_1_acked", f"acks=1 writes acknowledged ({ph.name})", float(ph.acks_1.acked),
                       "messages")]
    return tuple(out)


def _story(r: MinIsrResult) -> tuple[list[str], list[str]]:
    """The sentences of the phases that ran, and what is missing."""
    sentences = [f"Topic with replication factor 3 and min.insync.replicas={r.settings.min_insync_replicas}, "
                 f"{r.settings.probe_messages} probe writes per acks setting in each state."]
    missing = []
    for name, ph in zip((PHASE_ALL_UP, PHASE_ONE_DOWN, PHASE_TWO_DOWN), _phases(r), strict=True):
        if ph is None:
            missing.append(f"the run has no “{name}” phase")
        else:
            sentences.append(_phase_sentence(ph))
    return sentences, missing


# --- phase 1: why three brokers -------------------------------------------------------------------------
def find_three_brokers(r: MinIsrResult) -> Finding:
    sentences, doubts = _story(r)
    _, one, two = _phases(r)
    outcome = None
    if one is not None and two is not None:
        if r.settings.min_insync_replicas != 2:
            doubts.append(f"this run used min.insync.replicas={r.settings.min_insync_replicas}, not the 2 the "
                          "question is about")
        elif _ok(one.acks_all) and _refused(two.acks_all):
            outcome = "one-down-ok"
        elif _refused(one.acks_all):
            outcome = "one-down-refused"
        elif _ok(one.acks_all) and _ok(two.acks_all):
            outcome = "never-refused"
        else:
            doubts.append("some acks=all writes were accepted and some refused in the same state "
                          f"({one.acks_all.acked}/{one.acks_all.sent} with one down, "
                          f"{two.acks_all.acked}/{two.acks_all.sent} with two down)")
    return Finding(outcome, tuple(sentences), _figures(r), tuple(doubts))


MIN_ISR_RF3 = Lesson(
    id="min-isr-rf3", phase=1, page="cluster", title="Why three brokers for min.insync.replicas=2",
    question=("Why does Kafka need at least three brokers for min.insync.replicas=2 with replication factor 3 "
              "to be meaningful?"),
    source="Practice 003e, phase 1 (key question)",
    choices=(
        Choice("one-down-ok", "With one broker down acks=all writes go on; with two down they are refused"),
        Choice("one-down-refused", "acks=all writes are refused as soon as one broker is down"),
        Choice("never-refused", "acks=all writes go on even with two brokers down"),
    ),
    experiment="replication.min-isr", settings=MinIsrSettings(min_insync_replicas=2, probe_messages=PROBES),
    find=find_three_brokers,
    why=("Why: acks=all with min.insync.replicas=2 needs two in-sync copies of every write. Three brokers are what "
         "lets one of them fail, or restart for an upgrade, while two copies remain and writes go on. With only "
         "two brokers a single failure leaves one copy, and every acks=all write is refused, as in the "
         "two-down state above."),
    try_next=(
        TryNext("min.insync.replicas=1", MinIsrSettings(min_insync_replicas=1, probe_messages=PROBES),
                "acks=all writes are accepted even with two brokers down: each lives on the leader alone."),
        TryNext("min.insync.replicas=3", MinIsrSettings(min_insync_replicas=3, probe_messages=PROBES),
                "acks=all writes are refused as soon as one broker is down: no room for a failure at all."),
    ),
    takes="about 20 s; stops and restarts two brokers",
    key_figures=KEY_PROBES, chart="isr",
)


# --- phase 2: min.insync.replicas 1 or 2 ----------------------------------------------------------------
def find_one_vs_two(r: MinIsrResult) -> Finding:
    sentences, doubts = _story(r)
    _, one, two = _phases(r)
    n = r.settings.min_insync_replicas
    outcome = None
    if one is not None and two is not None:
        if n == 1 and _ok(two.acks_all):
            outcome = "1-available"
            sentences.append(f"Those {two.acks_all.acked} acks=all writes with two brokers down were acknowledged "
                             f"by an ISR of {len(two.isr)}: each existed on one broker only when the producer was "
                             "told it was safe.")
        elif n == 2 and _ok(one.acks_all) and _refused(two.acks_all):
            outcome = "1-available"
            sentences.append("min.insync.replicas=2 refused acks=all writes once only one copy could be made; "
                             "every write it accepted was on at least two brokers.")
        elif (n == 1 and _ok(one.acks_all) and _refused(two.acks_all)) or (n == 2 and _ok(two.acks_all)):
            outcome = "same"  # 1 refused like 2 would, or 2 accepted like 1 would
        elif n == 3:
            doubts.append("this run used min.insync.replicas=3; the question compares 1 and 2")
        else:
            doubts.append(f"acks=all wrote {one.acks_all.acked}/{one.acks_all.sent} with one broker down and "
                          f"{two.acks_all.acked}/{two.acks_all.sent} with two down, which fits no choice cleanly")
    return Finding(outcome, tuple(sentences), _figures(r), tuple(doubts))


MIN_ISR_ONE_VS_TWO = Lesson(
    id="min-isr-1-vs-2", phase=2, page="replication", title="min.insync.replicas: 1 or 2?",
    question="When would you choose min.insync.replicas=1 vs 2?",
    source="Practice 003e, phase 6 reflection (the phase 2 scenario answers it)",
    choices=(
        Choice("1-available", "1 keeps acks=all writes going with a single copy left (availability); 2 refuses "
                              "them (durability)"),
        Choice("same", "With acks=all both behave the same: every in-sync replica must have the write"),
        Choice("1-refuses", "1 refuses writes sooner than 2"),
    ),
    experiment="replication.min-isr", settings=MinIsrSettings(min_insync_replicas=1, probe_messages=PROBES),
    find=find_one_vs_two,
    why=("Why: acks=all waits for the in-sync replicas there are, and min.insync.replicas is the floor below which "
         "the leader refuses. Choose 1 when staying writable matters more than losing the last writes if the one "
         "remaining broker dies (metrics, logs); choose 2 with replication factor 3 for data you must not lose "
         "(payments, orders): writes stop instead of living on one disk."),
    try_next=(
        TryNext("min.insync.replicas=2", MinIsrSettings(min_insync_replicas=2, probe_messages=PROBES),
                "with two brokers down, acks=all writes get NOT_ENOUGH_REPLICAS while acks=1 writes still succeed."),
        TryNext("More probe writes", MinIsrSettings(min_insync_replicas=1, probe_messages=200),
                "the same pattern with ten times the writes: none lost, none refused, one copy each."),
    ),
    takes="about 20 s; stops and restarts two brokers",
    key_figures=KEY_PROBES, chart="isr",
)


# --- phase 2: the high watermark when a follower stops ---------------------------------------------------
#: A high watermark flat for less than this is normal (the producer writes every 10 ms, polls see it move).
MIN_STALL_S = 1.0
#: The stall "ended when the follower left the ISR" if it ended within this much of that moment.
LEFT_SLACK_S = 2.0


def find_hw_stall(r: HwLeoResult) -> Finding:
    s = r.settings
    follower, leader = (x if x is not None else "?" for x in (r.follower, r.leader))
    sentences = [f"An acks=all producer at {s.rate_per_s} messages/s; follower broker {follower} of leader {leader} "
                 f"paused (SIGSTOP), and resumed {s.hold_s:g} s after it left the ISR."]
    figures: list[Figure] = []
    for key, label, value, unit in (("replica_lag_time_max_ms", "replica.lag.time.max.ms", r.replica_lag_time_max_ms,
                                     "ms"),
                                    ("hw_stalled_s", "longest time the HW stood still", r.hw_stalled_s, "s"),
                                    ("left_isr_after_s", "paused follower left the ISR after", r.left_isr_after_s, "s"),
                                    ("rejoined_after_s", "resumed follower rejoined the ISR after", r.rejoined_after_s,
                                     "s"),
                                    ("max_follower_behind", "most messages the follower was behind",
                                     r.max_follower_behind, "messages")):
        if value is not None:
            figures.append(Figure(key, label, round(float(value), 3), unit))
    stall, left = r.hw_stalled_s, r.left_isr_after_s
    if stall is None or left is None:
        return Finding(None, tuple(sentences), tuple(figures),
                       ("the run ended before the follower left the ISR and the stall could be measured",))
    lag_ms = f" (replica.lag.time.max.ms={r.replica_lag_time_max_ms})" if r.replica_lag_time_max_ms else ""
    sentences.append(f"The high watermark stood still for {stall:.1f} s; the paused follower left the ISR "
                     f"{left:.1f} s after the pause{lag_ms}.")
    if r.max_follower_behind is not None:
        sentences.append(f"While out, the follower fell up to {r.max_follower_behind:,} messages behind the leader's "
                         "log end offset" + (f", and rejoined the ISR {r.rejoined_after_s:.1f} s after it was "
                                             "resumed." if r.rejoined_after_s is not None else "."))
    if stall < MIN_STALL_S:
        return Finding("keeps-moving", tuple(sentences), tuple(figures))
    if stall <= left + LEFT_SLACK_S:
        return Finding("stalls-then-jumps", tuple(sentences), tuple(figures))
    return Finding("stops-for-good", tuple(sentences), tuple(figures))


HW_STALL = Lesson(
    id="hw-stall", phase=2, page="replication", title="The high watermark when a follower stops",
    question="Under acks=all, what happens to the high watermark when one follower stops fetching?",
    source="Practice 003e, phase 2 (ISR, HW and LEO)",
    choices=(
        Choice("stalls-then-jumps", "It stands still until the follower leaves the ISR, then moves on without it"),
        Choice("keeps-moving", "It keeps moving: the leader and the other follower are enough"),
        Choice("stops-for-good", "It stands still until the follower comes back"),
    ),
    experiment="replication.hw-leo", settings=HwLeoSettings(), find=find_hw_stall,
    why=("Why: the leader advances the high watermark only to the offset every ISR member has fetched, and acks=all "
         "answers when the HW passes a write. A stopped follower is still in the ISR until replica.lag.time.max.ms "
         "has passed without it catching up, so for that long nothing new is committed or visible to consumers; "
         "then the leader drops it and the HW moves on, confirmed by fewer copies. min.insync.replicas is the "
         "floor under that shrinking set."),
    try_next=(
        TryNext("Hold the follower out 15 s", HwLeoSettings(hold_s=15.0),
                "the HW moves on the whole time; the follower's LEO falls further behind and it takes longer to "
                "catch up and rejoin."),
        TryNext("500 messages/s", HwLeoSettings(rate_per_s=500),
                "the stall lasts as long (it is a timeout, not a rate), but five times as many writes wait in it."),
    ),
    takes="about 20 s; pauses a follower broker",
    key_figures=("hw_stalled_s", "left_isr_after_s", "replica_lag_time_max_ms"), chart="hw-vs-leo",
)

LESSONS = (MIN_ISR_RF3, MIN_ISR_ONE_VS_TWO, HW_STALL)
