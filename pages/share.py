"""Phase 7 — share groups (KIP-932, Kafka 4.2+): Kafka as a queue. More readers than partitions, measured
against a consumer group on the same backlog. Widgets -> one settings object -> PageRunner ->
`lab.queues.charts` -> shown live."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab import registry as experiments
from lab.queues import backlog
from lab.queues import charts as charts_share
from lab.queues.about import ABOUT
from lab.queues.acks import QUIET_S, ShareAcksResult
from lab.queues.compare import ShareCompareResult, SideResult
from lab.queues.crash import ShareCrashResult
from lab.queues.settings import (
    FAILURES,
    KAFKA_DEFAULT_DELIVERY_LIMIT,
    KAFKA_DEFAULT_LOCK_MS,
    Fate,
    ShareAcksSettings,
    ShareCompareSettings,
    ShareCrashSettings,
)
from lab.queues.state import ShareGroupState
from pages._charts import show_chart
from pages._class import class_panel
from pages._fields import Fields
from pages._links import PageLink
from pages._present import lesson_panel
from pages._runner import PageRunner
from pages._shared import cluster_status, require_reachable

MODES = {"compare": "More readers than partitions", "acks": "Accept, release, reject",
         "crash": "A member that dies"}
NAMES = {"compare": "share.compare", "acks": "share.acks", "crash": "share.crash"}
#: Broker settings of share groups the page shows (the lab's clusters lower some; see the Cluster page).
SHOWN_BROKER_SETTINGS = ("group.share.record.lock.duration.ms", "group.share.min.record.lock.duration.ms",
                         "group.share.delivery.count.limit", "group.share.min.delivery.count.limit",
                         "group.share.heartbeat.interval.ms", "group.share.session.timeout.ms")

st.title("Share groups")
st.caption(
    "A share group (KIP-932, generally available since Kafka 4.2) reads a topic like a queue: any number of "
    "members may read the same partition, each record is *acquired* by one member under a time lock and then "
    "accepted, released (delivered again, its delivery count one higher) or rejected (archived). A consumer "
    "group gives each partition to exactly one member instead — so it never has more busy members than "
    "partitions, and it keeps each partition's order."
)
cluster = require_reachable()
try:
    facts = cluster_status(cluster)
    version, broker_settings = facts.kafka_version, facts.broker_settings
except LabError:
    version, broker_settings = None, {}
refusal = backlog.version_refusal(version)
if refusal is not None:
    class_panel("share")
    st.warning(refusal.message)
    st.info(refusal.hint or "")
    st.stop()
lesson_panel("share", cluster)

link = PageLink("share")
fields = Fields("share")
sb = st.sidebar
sb.header("Share groups")
mode = link.choice(sb.radio, "Experiment", MODES, key="share_mode")


def compare_form() -> ShareCompareSettings:
    partitions = fields.number(sb, "Partitions", key="partitions")
    members = fields.number(sb, "Members (of each group)", key="members")
    records = fields.number(sb, "Records in the backlog", key="records")
    delay = fields.number(sb, "Processing time per record (ms)", key="delay_ms")
    max_poll = fields.number(sb, "max.poll.records", key="max_poll",
                             help="Records one poll returns. The backlog is written one record per batch, so a share "
                                  "fetch acquires about this many: fewer spread the records more evenly, more save "
                                  "round trips.")
    sb.caption(f"One member processes about {1000.0 / max(float(delay), 0.1):,.0f} records/s; a consumer group can "
               f"use at most {min(int(members), int(partitions))} of its {int(members)} members at once, a share "
               f"group all {int(members)}.")
    return ShareCompareSettings(int(partitions), int(members), int(records), float(delay), int(max_poll))


def acks_form() -> ShareAcksSettings:
    partitions = fields.number(sb, "Partitions", key="partitions")
    members = fields.number(sb, "Members", key="a_members")
    records = fields.number(sb, "Records in the backlog", key="a_records")
    delay = fields.number(sb, "Processing time per record (ms)", key="a_delay_ms")
    max_poll = fields.number(sb, "max.poll.records", key="max_poll")
    release = fields.number(sb, "Fraction released once (then accepted)", key="release")
    reject = fields.number(sb, "Fraction rejected (archived)", key="reject")
    poison = sb.checkbox("A poison record (fails every time)", key="poison", bind="query-params", value=True)
    limit = fields.number(sb, "share.delivery.count.limit (the group's)", key="limit",
                          help=f"Kafka's default is {KAFKA_DEFAULT_DELIVERY_LIMIT}; the lab's brokers allow 2 to 10.")
    lock = fields.number(sb, "share.record.lock.duration.ms (the group's)", key="lock_ms",
                         help=f"Kafka's default is {KAFKA_DEFAULT_LOCK_MS:,} ms; the lab's brokers allow 1 000 to "
                              "60 000.")
    return ShareAcksSettings(int(partitions), int(members), int(records), float(delay), int(max_poll), float(release),
                             float(reject), bool(poison), int(limit), int(lock))


def crash_form() -> ShareCrashSettings:
    partitions = fields.number(sb, "Partitions", key="partitions")
    members = fields.number(sb, "Members that survive", key="k_members")
    records = fields.number(sb, "Records in the backlog", key="k_records")
    delay = fields.number(sb, "Processing time per record (ms)", key="k_delay_ms")
    max_poll = fields.number(sb, "max.poll.records", key="max_poll",
                             help="About how many records the member that dies holds.")
    lock = fields.number(sb, "share.record.lock.duration.ms (the group's)", key="k_lock_ms",
                         help=f"Kafka's default is {KAFKA_DEFAULT_LOCK_MS:,} ms.")
    failure = sb.radio("How the member fails", FAILURES, FAILURES.index(ShareCrashSettings().failure),
                       format_func={"kill": "killed (SIGKILL)", "freeze": "frozen (SIGSTOP)"}.__getitem__,
                       key="failure", bind="query-params")
    return ShareCrashSettings(int(partitions), int(members), int(records), float(delay), int(max_poll), int(lock),
                              str(failure))


FORMS = {"compare": compare_form, "acks": acks_form, "crash": crash_form}
try:
    settings: Any = FORMS[mode]()
    invalid: LabError | None = None
except LabError as exc:
    settings, invalid = None, exc
runner = PageRunner("share", cluster, {"share.compare": "Share group vs consumer group",
                                       "share.acks": "Accept, release, reject", "share.crash": "A member that dies"})
runner.controls((lambda: (experiments.get(NAMES[mode]), settings)) if settings is not None else None, sb,
                invalid=fields.invalid() or invalid)
link.finish(sb)


# --- results ---------------------------------------------------------------------------------------------
def side_metrics(side: SideResult | None, label: str, where: Any) -> None:
    if side is None:
        where.metric(label, "—")
        return
    where.metric(f"{label}: records/s", f"{side.records_per_s:,.0f}",
                 help="Distinct records processed per second, from the members' start to the last record.")
    where.caption(f"{len(side.members) - len(side.idle)} of {len(side.members)} members busy · drained in "
                  f"{side.drain_s:.1f} s · records finished after a later offset of their partition: "
                  + (", ".join(f"p{p} {n:,}" for p, n in side.out_of_order.items()) or "—")
                  + ("" if side.complete else " · not every record processed"))


def state_table(stt: ShareGroupState | None, when: str = "after the drain, its members still in the group") -> None:
    if stt is None:
        st.caption("kafka-share-groups could not describe the share group during the run.")
        return
    rows = [{"partition": f"{p.topic}:{p.partition}", "members assigned": stt.members_of(f"{p.topic}:{p.partition}"),
             "start offset": p.start_offset, "lag": p.lag} for p in stt.partitions]
    st.markdown(f"**The share group as Kafka's own tool saw it** (`{' '.join(stt.command[:1] + stt.command[3:])}`, "
                f"{when}): {len(stt.members)} members.")
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("Several members may be assigned the same partition. The start offset is the first record the group "
               "has not finished with (everything below it is acknowledged or archived); the lag counts the records "
               "still to be delivered. Right after the last acknowledgements Kafka's start offset can trail the end by "
               "a few records while the lag already reads 0.")


def draw_compare(r: ShareCompareResult) -> None:
    s = r.settings
    st.markdown(f"{s.records:,} records on **{s.partitions} partition(s)**, **{s.members} members** per group, "
                f"{s.processing_delay_ms:g} ms per record; topic `{r.topic}`.")
    c = st.columns(3)
    side_metrics(r.share, "Share group", c[0])
    side_metrics(r.group, "Consumer group", c[1])
    c[2].metric("Share / consumer group", "—" if r.speedup != r.speedup else f"{r.speedup:.2f}x")
    if r.share is not None or r.group is not None:
        show_chart(charts_share.records_per_member(r), "share-records-per-member", key="share_per_member")
    left, right = st.columns(2)
    if r.share is not None:
        show_chart(charts_share.member_rates(r.share, "Share group: records/s per member"), "share-member-rates",
                   key="share_rates", where=left)
    if r.group is not None:
        show_chart(charts_share.member_rates(r.group, "Consumer group: records/s per member"), "group-member-rates",
                   key="group_rates", where=right)
    if r.share is not None:
        state_table(r.share.state)


def draw_acks(r: ShareAcksResult) -> None:
    s = r.settings
    exp = r.expected()
    st.markdown(f"{s.records:,} records, {s.members} members; the group's own settings: "
                + ", ".join(f"`{k}={v}`" for k, v in r.group_configs.items()) + ".")
    c = st.columns(4)
    c[0].metric("Accepted exactly once", f"{r.accepted_once:,}",
                help=f"expected {len(exp[Fate.ACCEPT]) + len(exp[Fate.RELEASE_ONCE]):,}; more than once: "
                     f"{r.accepted_twice:,}")
    c[1].metric("Released, then accepted", f"{r.released_then_accepted:,}",
                help="Released on the first delivery; came back with delivery count 2 and were accepted.")
    c[2].metric("Rejected (archived)", f"{r.rejected:,}",
                help="Rejected on their only delivery; never delivered again.")
    poison = r.fates.get(s.poison_seq) if s.poison_seq is not None else None
    c[3].metric("Poison record: deliveries", "—" if poison is None else f"{poison.deliveries}",
                help=f"Released every time; archived at the delivery-count limit ({s.delivery_count_limit}).")
    st.caption(f"Deliveries in the {QUIET_S:g} s after the last expected acknowledgement: {r.quiet_deliveries} "
               "(0: nothing archived came back). Log offsets no member received: "
               + (", ".join(f"p{p} {n}" for p, n in r.undelivered_offsets.items()) or "—") + ".")
    left, right = st.columns([1, 2])
    show_chart(charts_share.delivery_histogram(r), "share-delivery-histogram", key="share_hist", where=left)
    show_chart(charts_share.deliveries_over_time(r), "share-deliveries", key="share_deliveries", where=right)
    if r.samples:
        show_chart(charts_share.live_state(r), "share-live-state", key="share_live_state")
        last = r.samples[-1]
        st.caption(f"{len(r.samples)} samples of the group from Kafka's Admin API (describeShareGroups, "
                   f"listShareGroupOffsets), four a second while the members worked; the last: "
                   f"{len(last.members)} members, lag " + (", ".join(f"p{p.partition} {p.lag}" for p in last.partitions)
                                                          or "—") + ".")
    elif r.sampler_note:
        st.caption(r.sampler_note)
    if r.state_after is not None or r.complete:
        state_table(r.state_after, "after the members closed")


def draw_crash(r: ShareCrashResult) -> None:
    s = r.settings
    how = "killed (SIGKILL)" if s.failure == "kill" else "frozen (SIGSTOP)"
    st.markdown(f"One member acquired {len(r.victim_records)} record(s) and was **{how}** "
                f"{r.killed_at - r.acquired_at:.2f} s later, in the middle of the first; the group's "
                f"`share.record.lock.duration.ms` is **{s.lock_duration_ms:,}**.")
    c = st.columns(3)
    after_kill, after_acq = r.after_kill_s, r.after_acquire_s
    c[0].metric("Back to the others after the failure", f"{max(after_kill):.2f} s" if after_kill else "—")
    c[1].metric("… after the acquisition", f"{max(after_acq):.2f} s" if after_acq else "—",
                help=f"The lock alone would give {s.lock_duration_ms / 1000:g} s.")
    c[2].metric("Every record accepted", "yes" if r.complete else "no")
    if s.failure == "kill":
        st.caption("A killed process's connections close at once, and the broker then releases the records its share "
                   "session held — without waiting for the lock. The lock is what frees the records of a member "
                   "that hangs (try *frozen*).")
    else:
        st.caption("A frozen process keeps its connections open and sends nothing: its records stay locked until "
                   "the acquisition lock runs out, then go to the others with delivery count 2.")
    show_chart(charts_share.crash_timeline(r), "share-crash", key="share_crash")
    st.dataframe(pd.DataFrame([{"partition": v.partition, "offset": v.offset, "seq": v.seq,
                                "after the failure (s)": None if v.redelivered_at is None
                                else round(v.redelivered_at - r.killed_at, 2),
                                "after acquisition (s)": None if v.redelivered_at is None
                                else round(v.redelivered_at - r.acquired_at, 2),
                                "delivery count": v.redelivery_count} for v in r.victim_records]),
                 hide_index=True, width="stretch")


def draw(r: object) -> None:
    if isinstance(r, ShareCompareResult):
        draw_compare(r)
    elif isinstance(r, ShareAcksResult):
        draw_acks(r)
    elif isinstance(r, ShareCrashResult):
        draw_crash(r)


st.caption(ABOUT[mode])  # what the chosen experiment shows, next to it (not collapsed at the bottom)
runner.show(draw, draw)

with st.expander("Share-group settings of this cluster"):
    rows = [{"broker setting": k, "value": broker_settings.get(k, "(Kafka's default)")} for k in SHOWN_BROKER_SETTINGS]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("The lab's clusters shorten the acquisition lock to 5 s (Kafka: 30 s) and archive a record after 3 "
               "deliveries (Kafka: 5), and lower the minimums so a run may set its own group's values down to 1 s "
               "and 2 deliveries. Heartbeat and session are lowered as for consumer groups.")
