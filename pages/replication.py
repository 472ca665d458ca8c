"""Phase 2 — replication: watch the ISR shrink and heal, the high watermark stall, writes get refused and
a new leader with a new epoch take over. Widgets -> one settings object -> one `lab` scenario run in the
background -> `lab.charts` -> shown live."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError, admin, charts, experiment, replication, storage
from lab.cluster import BrokerAction
from lab.experiment import Run
from pages._shared import ACTION_HELP, STATE_COLOUR, require_reachable, show_error

#: Events listed under the charts (the newest ones); the chart above shows them all.
EVENTS_SHOWN = 20
#: How long the outcome of a broker button stays on the page (seconds).
MESSAGE_SHOWN_S = 10.0
#: How often the live part of the page redraws while a scenario runs (seconds).
LIVE_REFRESH_S = 1.0
SCENARIOS = {
    "monitor": "Live monitor",
    "min_isr": "min.insync.replicas",
    "hw_leo": "HW vs LEO",
    "unclean": "Unclean leader election",
    "storage": "Storage: segments & compaction",
}
#: Time bound per scenario (seconds): generous for a loaded laptop, still finite.
TIME_LIMITS = {"monitor": 3600.0, "min_isr": 300.0, "hw_leo": 300.0, "unclean": 400.0, "storage": 300.0}

st.title("Replication & ISR")
st.caption(
    "Each partition has a leader and followers. The ISR (in-sync replicas) are the followers that keep up; "
    "the high watermark (HW) is the offset every ISR member has, and consumers read only below it. "
    "Break a broker with the buttons in the sidebar, or run a scenario below, and watch it happen."
)

cluster = require_reachable()


# --- broker controls -------------------------------------------------------------------------------
def run_action(action: BrokerAction, node_id: int) -> None:
    try:
        cluster.broker(action, node_id)
        st.session_state["repl_msg"] = ("success", f"Broker {node_id}: {action.value} done.", time.monotonic())
    except LabError as exc:
        st.session_state["repl_msg"] = ("error", str(exc), time.monotonic())


def active_run() -> tuple[str, Run[Any]] | None:
    got = st.session_state.get("repl_run")
    return got if got is not None else None


def scenario_busy() -> bool:
    """True while a scenario that drives the brokers itself runs (the buttons would fight it)."""
    got = active_run()
    return got is not None and not got[1].done and got[0] != "monitor"


@st.fragment(run_every=2.0)
def brokers_panel() -> None:
    status = cluster.status()
    # shown for a while rather than popped once: with several live fragments a rerun can be replaced
    # by another before it reaches the browser, and a popped message would be lost with it
    msg = st.session_state.get("repl_msg")
    if msg and time.monotonic() - msg[2] < MESSAGE_SHOWN_S:
        (st.success if msg[0] == "success" else st.error)(msg[1])
    if not status.controls_enabled:
        st.info(f"Broker controls are off: {status.controls_disabled_reason} The scenarios tell you what to "
                "stop and wait for it.")
    busy = scenario_busy()
    for b in status.brokers:
        st.markdown(f"**Broker {b.node_id}** :{STATE_COLOUR[b.state]}[● {b.state.value}]")
        buttons = st.container(horizontal=True, gap="small")
        for action in BrokerAction:
            buttons.button(action.value, key=f"repl_{action.value}_{b.node_id}", help=ACTION_HELP[action],
                           disabled=busy or not status.controls_enabled, on_click=run_action,
                           args=(action, b.node_id))
    if busy:
        st.caption("A scenario is driving the brokers; the buttons come back when it ends.")


# --- scenario settings -------------------------------------------------------------------------------
def topic_names() -> list[str]:
    try:
        return [t.name for t in admin.describe_topics(cluster, with_configs=False)]
    except LabError:
        return []


def settings_form(kind: str) -> Any:
    """The widgets of one scenario -> its settings object (validated by the lab)."""
    if kind == "monitor":
        names = topic_names() or ["replication-demo"]
        default = names.index("replication-demo") if "replication-demo" in names else 0
        c = st.columns(4)
        topic = c[0].selectbox("Topic", names, index=default, key="repl_mon_topic")
        duration = c[1].slider("Watch for (s)", 10, 600, 120, key="repl_mon_duration")
        with_producer = c[2].checkbox("Background producer", value=True, key="repl_mon_producer",
                                      help="Writes steadily so throughput and refused writes share the time axis.")
        rate = c[3].slider("Messages/s", 1, 500, 50, key="repl_mon_rate", disabled=not with_producer)
        acks = c[3].radio("acks", ["all", "1"], horizontal=True, key="repl_mon_acks", disabled=not with_producer)
        prod = replication.BackgroundProducerSettings(rate, acks) if with_producer else None
        return replication.MonitorSettings(topic, float(duration), replication.POLL_INTERVAL_S, prod)
    if kind == "min_isr":
        c = st.columns(3)
        topic = c[0].text_input("Topic (RF 3, created if missing)", "min-isr-demo", key="repl_mi_topic")
        mi = c[1].selectbox("min.insync.replicas", [1, 2, 3], index=1, key="repl_mi_min")
        n = c[2].number_input("Probe writes per phase", 1, 1000, 20, key="repl_mi_n")
        return replication.MinIsrSettings(topic, int(mi), int(n))
    if kind == "hw_leo":
        c = st.columns(3)
        topic = c[0].text_input("Topic (RF 3, created if missing)", "hw-leo-demo", key="repl_hw_topic")
        rate = c[1].slider("acks=all messages/s", 10, 1000, 100, key="repl_hw_rate")
        hold = c[2].slider("Keep paused after it left the ISR (s)", 0, 30, 5, key="repl_hw_hold")
        return replication.HwLeoSettings(topic, rate, 3.0, float(hold))
    if kind == "unclean":
        c = st.columns(5)
        prefix = c[0].text_input("Topic prefix", "unclean-demo", key="repl_un_prefix")
        in_sync = c[1].selectbox("In-sync leader (crashes)", [1, 2, 3], index=0, key="repl_un_insync")
        lagging = c[2].selectbox("Lagging replica", [1, 2, 3], index=1, key="repl_un_lagging")
        lag_n = c[3].number_input("Writes it misses", 1, 10_000, 100, key="repl_un_n")
        after = c[4].number_input("Writes after the crash", 1, 10_000, 50, key="repl_un_after")
        return replication.UncleanSettings(prefix, int(in_sync), int(lagging), 50, int(lag_n), int(after))
    c = st.columns(4)
    seg = c[0].select_slider("segment.bytes", [4096, 8192, 16384, 65536, 262144], 16384, key="repl_st_seg")
    msgs = c[1].number_input("Messages (100 B)", 100, 100_000, 2000, key="repl_st_msgs")
    keys = c[2].number_input("Compaction: keys", 1, 1000, 20, key="repl_st_keys")
    upd = c[3].number_input("Updates per key", 1, 1000, 50, key="repl_st_upd")
    return storage.StorageSettings(segment_bytes=int(seg), messages=int(msgs), keys=int(keys),
                                   updates_per_key=int(upd))


def start(kind: str, settings: Any) -> None:
    fns = {"monitor": replication.monitor, "min_isr": replication.min_isr, "hw_leo": replication.hw_leo,
           "unclean": replication.unclean, "storage": storage.storage}
    fn = fns[kind]
    run = experiment.start(lambda ctx: fn(cluster, settings, ctx), time_limit_s=TIME_LIMITS[kind],
                           name=SCENARIOS[kind])
    st.session_state["repl_run"] = (kind, run)


# --- drawing ----------------------------------------------------------------------------------------
def draw_timeline(tl: replication.Timeline, offsets: bool = False) -> None:
    isr, ev, prod, steps = tl.isr_frame(), tl.events_frame(), tl.produce_frame(), tl.steps_frame()
    off = tl.offsets_frame() if offsets else pd.DataFrame()
    dom = charts.time_domain(isr, ev, prod, steps, off)
    if offsets and not off.empty:
        st.markdown("**High watermark (black) vs each replica's log end offset** — dashed: a frozen broker's "
                    "last value")
        st.altair_chart(charts.hw_vs_leo(off, steps, dom), width="stretch")
    if not isr.empty:
        st.markdown("**In-sync replicas per partition** — dashed rules: what the scenario did")
        st.altair_chart(charts.isr_timeline(isr, steps, dom), width="stretch")
    if not prod.empty:
        st.markdown("**Background producer: writes acknowledged / failed per second**")
        st.altair_chart(charts.produce_timeline(prod, steps, dom), width="stretch")
    if not ev.empty:
        st.markdown("**Events**")
        st.altair_chart(charts.replication_events(ev, dom), width="stretch")
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


def fmt_probe(o: replication.ProbeOutcome) -> str:
    errs = ", ".join(f"{k}×{v}" for k, v in o.errors.items())
    return f"{o.acked}/{o.sent} ok" + (f" — {errs}" if errs else "")


def draw_result(kind: str, res: Any) -> None:
    if kind == "min_isr":
        r: replication.MinIsrResult = res
        st.markdown(f"Leader: broker **{r.leader}**; stopped one after the other: {', '.join(map(str, r.stopped))}.")
        st.table(pd.DataFrame([{"phase": p.name, "stopped": ", ".join(map(str, p.brokers_down)) or "—",
                                "ISR": ", ".join(map(str, p.isr)), "acks=all": fmt_probe(p.acks_all),
                                "acks=1": fmt_probe(p.acks_1)} for p in r.phases]).set_index("phase"))
        draw_timeline(r.timeline)
    elif kind == "hw_leo":
        h: replication.HwLeoResult = res
        c = st.columns(4)
        c[0].metric("Left the ISR after", f"{h.left_isr_after_s:.1f} s",
                    help=f"replica.lag.time.max.ms = {h.replica_lag_time_max_ms}")
        c[1].metric("HW stood still for", f"{h.hw_stalled_s:.1f} s")
        c[2].metric("Follower behind by (max)", h.max_follower_behind if h.max_follower_behind is not None else "—")
        c[3].metric("Rejoined after resume", f"{h.rejoined_after_s:.1f} s")
        st.caption(f"Leader broker {h.leader}; paused follower broker {h.follower}.")
        draw_timeline(h.timeline, offsets=True)
    elif kind == "unclean":
        u: replication.UncleanResult = res
        st.table(pd.DataFrame([{
            "topic": o.topic, "unclean election": "on" if o.unclean_enabled else "off",
            "available after the crash": "yes" if o.available_after_crash else "no (no leader)",
            "writes after the crash": fmt_probe(o.after),
            "acknowledged in total": o.acked_before + o.acked_while_lagging + o.after.acked,
            "read back": o.consumed, "acknowledged but lost": o.lost_acked,
            "leader epoch": f"{o.epoch_before} → {o.epoch_after if o.epoch_after is not None else '—'}",
        } for o in (u.clean, u.unclean)]).set_index("topic"))
        if u.unclean.elected_by:
            st.caption(f"The lagging replica was elected by {u.unclean.elected_by}.")
        draw_timeline(u.timeline)
    elif kind == "storage":
        s: storage.StorageResult = res
        frame = s.segments_frame()
        st.markdown("**The partition's .log segments after each burst of writes** (one colour per segment)")
        st.altair_chart(charts.segment_sizes(frame), width="stretch")
        last = s.snapshots[-1]
        st.markdown(f"`{s.directory}` on broker {s.node}: **{last.log_segments}** segments after "
                    f"{last.messages_written} messages.")
        st.dataframe(pd.DataFrame([{"file": f.name, "kind": f.kind, "size (bytes)": f.size_bytes,
                                    "on disk (bytes)": f.disk_bytes} for f in last.files]),
                     hide_index=True, width="stretch")
        st.caption("Each segment is named by its first offset. The newest (active) segment's .index and .timeindex "
                   "look about 10 MB: Kafka preallocates them (sparse, nearly nothing on disk) and trims them when "
                   "the segment rolls. A record batch must fit in one segment, so the lab keeps producer batches "
                   "below segment.bytes.")
        c = s.compaction
        cols = st.columns(4)
        cols[0].metric("Writes", c.produced)
        cols[1].metric("Records before cleaning", c.before)
        cols[2].metric("Records after cleaning", c.after, delta=c.after - c.before, delta_color="inverse")
        cols[3].metric("Latest value of every key kept", "yes" if c.latest_values_kept else "NO")
    else:
        m: replication.MonitorResult = res
        draw_timeline(m.timeline, offsets=True)


@st.fragment(run_every=LIVE_REFRESH_S)
def live() -> None:
    got = active_run()
    if got is None:
        return
    kind, run = got
    p = run.progress()
    if not run.done:
        st.progress(p.fraction if p.fraction is not None else 0.0,
                    text=f"{SCENARIOS[kind]} — {p.message or 'starting…'} ({p.elapsed_s:.0f} s)")
        if isinstance(p.partial, replication.Timeline):
            draw_timeline(p.partial, offsets=kind in ("hw_leo", "monitor"))
        return
    if run.error is not None:
        if isinstance(run.error, LabError):
            show_error(run.error)
        else:
            st.error(f"The {SCENARIOS[kind]} failed: {run.error!r}")
        if isinstance(p.partial, replication.Timeline):
            draw_timeline(p.partial, offsets=kind == "hw_leo")
        return
    st.success(f"{SCENARIOS[kind]} finished in {p.elapsed_s:.0f} s.")
    draw_result(kind, run.result)


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


# --- layout ---------------------------------------------------------------------------------------
with st.sidebar:  # beside every chart on the page, however far it is scrolled
    st.markdown("**Brokers of this cluster**")
    brokers_panel()
st.subheader("Right now")
names = topic_names()
if names:
    shown = st.selectbox("Topic", names, index=names.index("replication-demo") if "replication-demo" in names
                         else 0, key="repl_describe_topic")
    describe_panel(shown)
else:
    st.info("No topics yet: create the lab's topics on the Cluster page (or `kafka-lab topics create`).")

st.subheader("Scenario")
kind = st.radio("Scenario", list(SCENARIOS), format_func=lambda k: SCENARIOS[k], horizontal=True,
                key="repl_kind", label_visibility="collapsed")
running = active_run() is not None and not active_run()[1].done  # type: ignore[index]
try:
    settings = settings_form(kind)
    bad: LabError | None = None
except LabError as exc:
    settings, bad = None, exc
if bad is not None:
    show_error(bad)
c1, c2, _ = st.columns([1, 1, 6])
if c1.button("Run", key="repl_run_btn", type="primary", disabled=running or settings is None):
    start(kind, settings)
    st.rerun()
if c2.button("Cancel", key="repl_cancel_btn", disabled=not running):
    got = active_run()
    if got is not None:
        got[1].cancel()
live()

with st.expander("Why three brokers for min.insync.replicas=2 with replication factor 3?"):
    st.markdown(
        "With `acks=all` the leader answers only when every replica in the ISR has the write, and it refuses "
        "the write outright (`NOT_ENOUGH_REPLICAS`) while the ISR is smaller than `min.insync.replicas`. "
        "With three replicas and a minimum of two, one broker can be down (a crash, an upgrade) and writes go "
        "on, each acknowledged write still on two machines. Take a second one down and `acks=all` writes stop "
        "while `acks=1` writes still succeed on the leader alone: run **min.insync.replicas** and read the "
        "table. With only two brokers, any single failure would stop `acks=all` writes; with a minimum of one, "
        "an acknowledged write could exist on one disk only."
    )
with st.expander("What does acks=all wait for?"):
    st.markdown(
        "Not for *all replicas*: for all replicas *currently in the ISR*. Run **HW vs LEO**: while the paused "
        "follower is still in the ISR, the high watermark stands still and the producer's acks wait (the gap in "
        "the bars, the long ack latency). After `replica.lag.time.max.ms` the leader drops the follower from the "
        "ISR, the HW jumps to the leader's log end offset and acks flow again, now confirmed by fewer copies. "
        "That is why `min.insync.replicas` matters: it is the floor under that shrinking set."
    )
with st.expander("What does unclean leader election cost?"):
    st.markdown(
        "When every in-sync replica is down, a partition either waits (unclean election off: unavailable, "
        "nothing lost) or lets an out-of-sync replica lead (on: available again, but the writes it never "
        "received are gone, even after the old leader returns, because the old leader truncates its log to match "
        "the new one). Run **Unclean leader election**: the table counts the acknowledged messages that were lost. "
        "Kafka 3.9's KRaft controller performs this election itself when the topic has "
        "`unclean.leader.election.enable=true`; the lab falls back to `AdminClient.elect_leaders(UNCLEAN)` and "
        "says so if it did not."
    )
with st.expander("Why do the scenarios stop brokers in this order? (KRaft)"):
    st.markdown(
        "Each of the lab's three nodes is both a broker and a KRaft controller. The controllers need a majority "
        "(two of three) to change anything: with two nodes down there are no leader elections and no ISR changes. "
        "So **min.insync.replicas** stops the followers with a controlled shutdown one at a time (each leaves the "
        "ISR while two controllers are still up), and **unclean election** puts its two replicas on two brokers "
        "and keeps the third, which holds no replica, running for the quorum."
    )
