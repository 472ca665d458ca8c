"""Phase 1 — the cluster and its topics: brokers with live state and controls, topics with their
partitions, leaders, replicas, ISR and the configs set on them."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab.kafka import admin
from lab.kafka.kafka_topics import ids_text
from pages import _brokers
from pages._brokers import STATE_COLOUR
from pages._present import lesson_panel
from pages._shared import broker_counts, cluster_changed, cluster_or_stop, cluster_status, cluster_topics, show_error

#: How often the broker and topic tables refresh themselves (seconds).
REFRESH_S = 2

st.title("Cluster & topics")
st.caption(
    "Three Kafka nodes, each both a broker and a KRaft controller. Stop, kill or freeze one and watch "
    "the in-sync replica sets (ISR) below react; start it again and watch them heal."
)

cluster = cluster_or_stop()
lesson_panel("cluster", cluster)
#: How long one kafka-topics reading of the ELR is shown before it is read again (a JVM start each time).
ELR_TTL_S = 15.0


@st.fragment(run_every=REFRESH_S)
def live_view() -> None:
    st_ = cluster_status(cluster)
    _brokers.outcome("cluster_msg")

    cols = st.columns([1, 1, 1, 2])
    cols[0].metric("Backend", st_.backend)
    cols[1].metric("Active controller", st_.controller_id if st_.controller_id is not None else "—",
                   help="The KRaft quorum's active controller, as the nodes' JMX reports it (— when no JMX is "
                        "available, e.g. an external cluster, or while the quorum has no leader).")
    cols[2].metric("Kafka", st_.kafka_version or "—")
    cols[3].markdown(f"**Cluster id**  \n`{st_.cluster_id or '—'}`  \n**Bootstrap**  \n`{st_.bootstrap_servers}`")

    if not st_.reachable:
        st.warning(f"The cluster at `{st_.bootstrap_servers}` does not answer.")
        if cluster.backend == "local":
            st.info("Start it here, or from a terminal with `./lab.sh start` (or `kafka-lab cluster up`).")
            if st.button("Start the cluster", key="cluster_up", type="primary"):
                with st.spinner("Starting three brokers (about 15 s)…"):
                    try:
                        rep = cluster.up(face="app")
                        cluster_changed(cluster)
                        st.session_state["cluster_msg"] = ("success", f"Cluster ready in {rep.seconds:.1f} s.",
                                                           time.monotonic())
                    except LabError as exc:
                        show_error(exc)
                        return
                st.rerun()
        else:
            st.info(cluster.start_hint())
        if not st_.brokers:
            return

    st.subheader("Brokers")
    st.caption(broker_counts(st_) + ". Each node is a broker and a KRaft controller; a stopped broker leaves the "
               "in-sync replica sets (ISR) in the table below, and comes back into them once it has caught up.")
    if not st_.controls_enabled:
        st.info(f"Broker controls are off: {st_.controls_disabled_reason}")
    for b in st_.brokers:
        row = st.columns([1.3, 1.5, 1.1, 1.2, 4], vertical_alignment="center")
        ctrl = "  \n:gray[active controller]" if b.node_id == st_.controller_id else ""
        row[0].markdown(f"**Broker {b.node_id}**{ctrl}")
        row[1].markdown(f"`{b.host}:{b.port}`")
        row[2].markdown(f":{STATE_COLOUR[b.state]}[● {b.state.value}]")
        row[3].markdown("registered" if b.registered else ":gray[not registered]")
        _brokers.buttons(cluster, st_, b, "cluster", row[4].container(horizontal=True))
    why = _brokers.busy_caption(cluster)
    if why:
        st.caption(why)

    st.subheader("Topics")
    if not st_.reachable:
        return
    try:
        topics = cluster_topics(cluster)
    except LabError as exc:
        show_error(exc)
        return
    if not topics:
        st.info("No topics yet. Create the lab's topics with the button below.")
    rows = [
        {"topic": t.name, "partition": p.partition, "leader": p.leader if p.leader >= 0 else "none",
         "replicas": ", ".join(map(str, p.replicas)), "ISR": ", ".join(map(str, p.isr)),
         "in sync": f"{len(p.isr)}/{len(p.replicas)}", "under-replicated": p.under_replicated}
        for t in topics for p in t.partitions
    ]
    if rows:  # a static table: readable on a projector, and its text is in the page
        st.table(pd.DataFrame(rows).set_index(["topic", "partition"]))
        shown = {t.name for t in topics}
        st.caption("What the lab's topics are for: " + "; ".join(
            f"**{spec.name}** — {spec.purpose.rstrip('.')}" for spec in admin.LAB_TOPICS if spec.name in shown) + ".")
    with st.expander("Configs set on each topic (everything else is the broker default)"):
        st.dataframe(
            pd.DataFrame([{"topic": t.name, "config": k, "value": v} for t in topics for k, v in t.configs.items()]),
            hide_index=True, width="stretch",
        )


live_view()


@st.cache_data(ttl=ELR_TTL_S, show_spinner="Running Kafka's kafka-topics --describe…")
def elr_topics(bootstrap: str) -> list[Any]:
    """Every topic with its ELR (a JVM start), shared by the sessions of this server for ``ELR_TTL_S``."""
    return admin.describe_topics(cluster, with_configs=False, with_elr=True)


def elr_table() -> None:
    """ELR and last known ELR of every topic on request: Kafka's own kafka-topics is a JVM start, not a refresh."""
    with st.expander("Eligible leader replicas (ELR) and last known ELR (KIP-966)"):
        st.caption("Not in the Admin API the lab uses: Kafka's own `kafka-topics --describe` prints them. On Kafka "
                   "4.1+ the ISR may empty; a replica that left it while it was below min.insync.replicas stays "
                   "eligible (ELR). 3.9 has no ELR.")
        if not st.toggle("Show ELR (runs kafka-topics, a few seconds)", key="cluster_show_elr"):
            return
        try:
            topics = elr_topics(cluster.bootstrap_servers())
        except LabError as exc:
            show_error(exc)
            return
        st.dataframe(pd.DataFrame([
            {"topic": t.name, "partition": p.partition, "leader": p.leader if p.leader >= 0 else "none",
             "ISR": ids_text(p.isr), "ELR": ids_text(p.elr), "last known ELR": ids_text(p.last_known_elr)}
            for t in topics for p in t.partitions]), hide_index=True, width="stretch")
        if topics:
            level = topics[0].elr_feature_level
            st.caption(f"eligible.leader.replicas.version={level}"
                       + (": no ELR on this cluster" if level == 0 else "") + f" — from {topics[0].elr_source}; "
                       f"read again after {ELR_TTL_S:.0f} s")


elr_table()

def create_lab_topics() -> None:
    try:
        outcomes = admin.create_topics(cluster)
        cluster_changed(cluster)
        st.session_state["cluster_msg"] = ("success", ", ".join(f"{o.name}: {o.action}" for o in outcomes),
                                           time.monotonic())
    except LabError as exc:
        st.session_state["cluster_msg"] = ("error", str(exc), time.monotonic())


st.button("Create the lab's topics", key="cluster_create_topics", on_click=create_lab_topics,
          help="Creates the course's topics with their settings; existing ones get their configs set again.")

with st.expander("Broker settings chosen for the lab"):
    st.dataframe(pd.DataFrame(sorted(cluster_status(cluster).broker_settings.items()), columns=["setting", "value"]),
                 hide_index=True)
