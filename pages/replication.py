"""Phase 2 — replication: watch the ISR shrink and heal, the high watermark stall, writes get refused and
a new leader with a new epoch take over. Widgets -> one settings object -> one `lab` scenario run in the
background -> `lab.charts` -> shown live."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab import registry as experiments
from lab.export.pages import SEGMENT_CHOICES
from lab.kafka import admin, kafka_topics, load, timeline
from lab.replication import about, elr, segments
from lab.replication import charts as replication_charts
from lab.replication import scenarios as replication
from lab.replication import settings as replication_settings
from pages import _brokers
from pages._charts import show_chart
from pages._fields import Fields
from pages._links import PageLink
from pages._present import lesson_panel
from pages._runner import PageRunner
from pages._shared import cluster_status, cluster_topics, require_reachable

#: Events listed under the charts (the newest ones); the chart above shows them all.
EVENTS_SHOWN = 20
#: The scenarios, by registry name, as the page names them.
SCENARIOS = {
    "replication.monitor": "Live monitor",
    "replication.min-isr": "min.insync.replicas",
    "replication.hw-leo": "HW vs LEO",
    "replication.unclean": "Unclean leader election",
    "replication.elr": "3.9 vs 4.x (ELR)",
    "replication.storage": "Storage: segments & compaction",
}
#: Scenarios whose charts include the HW vs LEO panel.
WITH_OFFSETS = ("replication.monitor", "replication.hw-leo")
#: The scenarios' knobs are bound to the address bar (the key is the link parameter).
BIND = "query-params"

st.title("Replication & ISR")
st.caption(
    "Each partition has a leader and followers. The ISR (in-sync replicas) are the followers that keep up; "
    "the high watermark (HW) is the offset every ISR member has, and consumers read only below it. "
    "Break a broker with the buttons in the sidebar, or run a scenario below, and watch it happen."
)

cluster = require_reachable()
lesson_panel("replication", cluster)
link = PageLink("replication")
fields = Fields("replication")


@st.fragment(run_every=2.0)
def brokers_panel() -> None:
    _brokers.panel(cluster, "repl")


# --- scenario settings -------------------------------------------------------------------------------
def topic_names() -> list[str]:
    try:
        return [t.name for t in cluster_topics(cluster, with_configs=False)]
    except LabError:
        return []


def settings_form(kind: str) -> Any:
    """The widgets of one scenario -> its settings object (validated by the lab)."""
    if kind == "replication.monitor":
        names = topic_names() or ["lab-replication-demo"]
        default = names.index("lab-replication-demo") if "lab-replication-demo" in names else 0
        c = st.columns(4)
        topic = c[0].selectbox("Topic", names, index=default, key="mon_topic", bind=BIND)
        duration = c[1].slider("Watch for (s)", 10, 600, 120, key="mon_s", bind=BIND)
        with_producer = c[2].checkbox("Background producer", value=True, key="mon_producer", bind=BIND,
                                      help="Writes steadily so throughput and refused writes share the time axis.")
        rate = c[3].slider("Messages/s", 1, 500, 50, key="mon_rate", bind=BIND, disabled=not with_producer)
        acks = c[3].radio("acks", ["all", "1"], horizontal=True, key="mon_acks", bind=BIND, disabled=not with_producer)
        prod = load.BackgroundProducerSettings(rate, acks) if with_producer else None
        return replication_settings.MonitorSettings(topic, float(duration), timeline.POLL_INTERVAL_S, prod)
    if kind == "replication.min-isr":
        c = st.columns(3)
        topic = c[0].text_input("Topic (RF 3, created if missing)", "lab-min-isr-demo", key="mi_topic", bind=BIND)
        mi = c[1].selectbox("min.insync.replicas", [1, 2, 3], index=1, key="min_isr", bind=BIND)
        n = fields.number(c[2], "Probe writes per phase", key="mi_writes")
        return replication_settings.MinIsrSettings(topic, int(mi), int(n))
    if kind == "replication.hw-leo":
        c = st.columns(3)
        topic = c[0].text_input("Topic (RF 3, created if missing)", "lab-hw-leo-demo", key="hw_topic", bind=BIND)
        rate = c[1].slider("acks=all messages/s", 10, 1000, 100, key="hw_rate", bind=BIND)
        hold = c[2].slider("Keep paused after it left the ISR (s)", 0, 30, 5, key="hw_hold_s", bind=BIND)
        return replication_settings.HwLeoSettings(topic, rate, 3.0, float(hold))
    if kind in ("replication.unclean", "replication.elr"):
        c = st.columns(5)
        prefix = c[0].text_input("Topic prefix", "lab-unclean-demo", key="un_prefix", bind=BIND)
        in_sync = c[1].selectbox("In-sync leader (crashes)", [1, 2, 3], index=0, key="un_leader", bind=BIND)
        lagging = c[2].selectbox("Lagging replica", [1, 2, 3], index=1, key="un_lagging", bind=BIND)
        lag_n = fields.number(c[3], "Writes it misses", key="un_missed")
        after = fields.number(c[4], "Writes after the crash", key="un_after")
        un = replication.UncleanSettings(prefix, int(in_sync), int(lagging), 50, int(lag_n), int(after))
        if kind == "replication.unclean":
            return un
        other = elr.other_version(cluster_status(cluster).kafka_version)
        st.caption(f"Runs the same fault on this cluster, then starts a second lab cluster on Kafka **{other}** (its "
                   "own state directory and ports, this cluster's broker settings; about half a minute, three more "
                   "JVMs on this machine), runs it there, and stops and deletes that cluster at the end.")
        return elr.VersionsSettings(un)
    c = st.columns(4)
    seg = c[0].select_slider("segment.bytes", SEGMENT_CHOICES, replication_settings.StorageSettings().segment_bytes,
                             key="segment_bytes", bind=BIND,
                             help="Kafka 4.x refuses segments under 1 MiB (3.x took a few KB).")
    msgs = fields.number(c[1], "Messages (1 KB)", key="st_msgs")
    keys = fields.number(c[2], "Compaction: keys", key="st_keys")
    upd = fields.number(c[3], "Updates per key", key="st_updates")
    return replication_settings.StorageSettings(segment_bytes=int(seg), messages=int(msgs), keys=int(keys),
                                   updates_per_key=int(upd))


# --- drawing ----------------------------------------------------------------------------------------
def draw_timeline(tl: timeline.Timeline, offsets: bool = False) -> None:
    isr, ev, prod, steps = tl.isr_frame(), tl.events_frame(), tl.produce_frame(), tl.steps_frame()
    off = tl.offsets_frame() if offsets else pd.DataFrame()
    dom = replication_charts.time_domain(isr, ev, prod, steps, off)
    if offsets and not off.empty:
        st.markdown("**High watermark (black) vs each replica's log end offset** — dashed: a frozen broker's "
                    "last value")
        show_chart(replication_charts.hw_vs_leo(off, steps, dom), "hw-vs-leo", key="repl_hw_leo")
    if not isr.empty:
        st.markdown("**In-sync replicas per partition** — dashed rules: what the scenario did")
        show_chart(replication_charts.isr_timeline(isr, steps, dom), "isr", key="repl_isr")
    if not prod.empty:
        st.markdown("**Background producer: writes acknowledged / failed per second**")
        show_chart(replication_charts.produce_timeline(prod, steps, dom), "writes", key="repl_writes")
    if not ev.empty:
        st.markdown("**Events**")
        show_chart(replication_charts.replication_events(ev, dom), "events", key="repl_events")
        # a static table (its text is in the page, readable on a projector); the newest events last
        shown = ev[["t", "partition", "event", "detail", "leader_epoch"]].tail(EVENTS_SHOWN)
        st.table(shown.assign(t=shown["t"].map(lambda x: f"{x:.1f} s")).set_index("t"))
        if len(ev) > EVENTS_SHOWN:
            st.caption(f"the last {EVENTS_SHOWN} of {len(ev)} events")
    if not steps.empty:
        with st.expander("What the scenario did, and when"):
            st.dataframe(steps, hide_index=True, width="stretch")
    if tl.leo_note:
        st.caption(tl.leo_note)


def fmt_probe(o: load.ProbeOutcome | None) -> str:
    if o is None:
        return "—"
    errs = ", ".join(f"{k}×{v}" for k, v in o.errors.items())
    return f"{o.acked}/{o.sent} ok" + (f" — {errs}" if errs else "")


def secs(x: float | None) -> str:
    return "—" if x is None or x != x else f"{x:.1f} s"


def dash(x: object) -> str:
    return "—" if x is None else str(x)


def draw_result(res: Any) -> None:
    if isinstance(res, replication.MinIsrResult):
        r = res
        st.markdown(f"Leader: broker **{r.leader if r.leader is not None else '—'}**; stopped one after the other: "
                    f"{', '.join(map(str, r.followers)) or '—'}.")
        st.table(pd.DataFrame([{"phase": p.name, "stopped": ", ".join(map(str, p.brokers_down)) or "—",
                                "ISR": ", ".join(map(str, p.isr)), "acks=all": fmt_probe(p.acks_all),
                                "acks=1": fmt_probe(p.acks_1)} for p in r.phases]).set_index("phase"))
        draw_timeline(r.timeline)
    elif isinstance(res, replication.HwLeoResult):
        h = res
        c = st.columns(4)
        c[0].metric("Left the ISR after", secs(h.left_isr_after_s),
                    help=f"replica.lag.time.max.ms = {h.replica_lag_time_max_ms}")
        c[1].metric("HW stood still for", secs(h.hw_stalled_s))
        c[2].metric("Follower behind by (max)", h.max_follower_behind if h.max_follower_behind is not None else "—")
        c[3].metric("Rejoined after resume", secs(h.rejoined_after_s))
        st.caption(f"Leader broker {h.leader}; paused follower broker {h.follower}.")
        draw_timeline(h.timeline, offsets=True)
    elif isinstance(res, replication.UncleanResult):
        u = res
        st.table(pd.DataFrame([{
            "topic": o.topic, "unclean election": "on" if o.unclean_enabled else "off",
            "available after the crash": "yes" if o.available_after_crash else "no (no leader)",
            "writes after the crash": fmt_probe(o.after),
            "acknowledged in total": sum(x or 0 for x in (o.acked_before, o.acked_while_lagging,
                                                           o.after.acked if o.after else 0)),
            "read back": dash(o.consumed), "acknowledged but lost": dash(o.lost_acked),
            "leader epoch": f"{o.epoch_before} → {o.epoch_after if o.epoch_after is not None else '—'}",
        } for o in (u.clean, u.unclean) if o is not None]).set_index("topic"))
        if u.unclean is not None and u.unclean.elected_by:
            st.caption(f"The lagging replica was elected by {u.unclean.elected_by}.")
        draw_replica_sets(u)
        draw_timeline(u.timeline)
    elif isinstance(res, elr.VersionsResult):
        verdicts = res.verdicts()
        if verdicts:
            st.markdown("**The same fault on each Kafka version: acknowledged writes, what was read back, what was "
                        "lost** (counted by reading each topic back from the start)")
            show_chart(replication_charts.versions_chart(replication_charts.versions_frame(verdicts)),
                       "elr-versions", key="repl_elr_versions")
        for col, r in zip(st.columns(max(1, len(res.runs))), res.runs, strict=False):
            with col:
                draw_replica_sets(r)
        if res.other_cluster:
            st.caption(f"Second cluster (Kafka {res.other_version}): {res.other_cluster}; stopped and deleted after "
                       "the run.")
        for r in res.runs:
            with st.expander(f"Kafka {r.kafka_version}: what the scenario did, and when"):
                draw_timeline(r.timeline)
    elif isinstance(res, segments.StorageResult):
        s = res
        frame = s.segments_frame()
        st.markdown("**The partition's .log segments after each burst of writes** (one colour per segment)")
        show_chart(replication_charts.segment_sizes(frame), "segment-sizes", key="repl_segments")
        if not s.snapshots:
            st.info("No segment snapshot was taken before the run stopped.")
            return
        last = s.snapshots[-1]
        st.markdown(f"`{s.directory}` on broker {s.node}: **{last.log_segments}** segments after "
                    f"{last.messages_written} messages.")
        st.dataframe(pd.DataFrame([{"file": f.name, "kind": f.kind, "size (bytes)": f.size_bytes,
                                    "on disk (bytes)": f.disk_bytes} for f in last.files]),
                     hide_index=True, width="stretch")
        st.caption("Each segment is named by its first offset. The newest (active) segment's .index and .timeindex "
                   "look about 10 MB: Kafka preallocates them (sparse, nearly nothing on disk) and trims them when "
                   "the segment rolls. A record batch must fit in one segment, so the lab keeps producer batches "
                   "below segment.bytes. Kafka 4.x refuses segment.bytes under 1 MiB, so the demo writes a few MB; "
                   "the compacted topic rolls by time instead (segment.ms=100), so its updates soon sit in closed "
                   "segments, the only ones the log cleaner compacts.")
        c = s.compaction
        if c is None:
            st.info("The run stopped before the compaction part.")
            return
        cols = st.columns(4)
        cols[0].metric("Writes", c.produced)
        cols[1].metric("Records before cleaning", c.before)
        cols[2].metric("Records after cleaning", c.after, delta=c.after - c.before, delta_color="inverse")
        cols[3].metric("Latest value of every key kept", "yes" if c.latest_values_kept else "NO")
    elif isinstance(res, replication.MonitorResult):
        draw_timeline(res.timeline, offsets=True)


def draw_replica_sets(u: replication.UncleanResult) -> None:
    """The ELR feature, ISR/ELR/last known ELR as sampled, and each topic's verdict."""
    v = elr.version_verdict(u)
    level = u.elr_feature_level
    st.markdown(f"**Kafka {u.kafka_version or '?'}** — " + (
        "eligible leader replicas **on**" if v.elr else "**no ELR** (the ISR keeps its last member)" if v.elr is False
        else "ELR feature not read") + (f" (`eligible.leader.replicas.version={level}`)" if level is not None else ""))
    rows = [{"topic": o.topic, "moment": x.moment, "t": f"{x.t:.1f} s", "leader": x.leader if x.leader >= 0 else "none",
             "ISR": kafka_topics.ids_text(x.isr), "ELR": kafka_topics.ids_text(x.elr),
             "last known ELR": kafka_topics.ids_text(x.last_known_elr)}
            for o in (u.clean, u.unclean) for x in o.samples]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for t in (v.clean, v.unclean):
        (st.success if t.lost == 0 else st.error if t.lost else st.info)(f"**{t.topic}** — led by {t.via}: {t.text}")
    if u.elr_source:
        st.caption(("ISR / ELR from " if rows else "") + u.elr_source)


def draw_partial(partial: Any) -> None:
    if isinstance(partial, timeline.Timeline):
        draw_timeline(partial, offsets=kind in WITH_OFFSETS)


@st.fragment(run_every=2.0)
def describe_panel(topic: str) -> None:
    try:
        d = replication.describe(cluster, topic)
    except LabError as exc:
        st.caption(f"Cannot describe {topic}: {exc.message}")
        return
    rows = [{"partition": p.partition, "leader": p.leader if p.leader >= 0 else "none",
             "epoch": p.leader_epoch, "replicas": ", ".join(map(str, p.replicas)),
             "ISR": ", ".join(map(str, p.isr)), "high watermark": p.high_watermark,
             "LEO per broker": "  ".join(f"{b}: {v if v is not None else '?'}" for b, v in p.log_end_offsets.items()),
             "out of sync (behind)": ", ".join(f"{b} ({p.behind(b) if p.behind(b) is not None else '?'})"
                                               for b in p.out_of_sync)} for p in d.partitions]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(d.leo_note + (f"; active controller: broker {d.active_controller}" if d.active_controller else ""))


def elr_panel(topic: str) -> None:
    """ELR and last known ELR on request: Kafka's own kafka-topics (a JVM start), not every refresh."""
    if not st.button("Read ELR with kafka-topics --describe", key="repl_read_elr",
                     help="Eligible leader replicas (KIP-966) are not in the Admin API the lab uses; Kafka's own "
                          "tool prints them. Starting it takes a few seconds."):
        return
    try:
        t = admin.describe_topics(cluster, [topic], with_configs=False, with_elr=True)[0]
    except LabError as exc:
        st.caption(f"Cannot read the ELR of {topic}: {exc.message}")
        return
    st.dataframe(pd.DataFrame([{"partition": p.partition, "leader": p.leader if p.leader >= 0 else "none",
                                "ISR": kafka_topics.ids_text(p.isr), "ELR": kafka_topics.ids_text(p.elr),
                                "last known ELR": kafka_topics.ids_text(p.last_known_elr)} for p in t.partitions]),
                 hide_index=True, width="stretch")
    level = t.elr_feature_level
    st.caption(f"eligible.leader.replicas.version={level}"
               + (": no ELR on this cluster (Kafka 3.9 keeps the ISR's last member instead of emptying it)"
                  if level == 0 else "") + f" — from {t.elr_source}")


# --- layout ---------------------------------------------------------------------------------------
with st.sidebar:  # beside every chart on the page, however far it is scrolled
    st.markdown("**Brokers of this cluster**")
    brokers_panel()
st.subheader("Right now")
names = topic_names()
shown: str | None = None
if names:
    shown = st.selectbox("Topic", names, index=names.index("lab-replication-demo") if "lab-replication-demo" in names
                         else 0, key="repl_describe_topic")
    right_now = st.container()  # filled after the Run button: describing takes several round trips
else:
    st.info("No topics yet: create the lab's topics on the Cluster page (or `kafka-lab topics create`).")

st.subheader("Scenario")
kind = link.choice(st.radio, "Scenario", SCENARIOS, key="repl_kind", ids=link.spec.modes, horizontal=True,
                   label_visibility="collapsed")
try:
    settings = settings_form(kind)
    bad: LabError | None = None
except LabError as exc:
    settings, bad = None, exc
runner = PageRunner("replication", cluster, SCENARIOS, key="repl")
runner.controls((lambda: (experiments.get(kind), settings)) if settings is not None else None,
                st.container(width=320), invalid=fields.invalid() or bad)
with st.sidebar:
    link.finish()
if shown is not None:
    with right_now:
        describe_panel(shown)
        elr_panel(shown)
if kind in about.ABOUT:  # what the chosen scenario shows, next to it (not collapsed at the bottom)
    st.caption(about.ABOUT[kind])
runner.show(draw_result, draw_partial, idle="Choose a scenario and press **Run**.")
