"""Kafka Tuning Lab: the app's entry point. Navigation over the course phases and the shared sidebar
(which cluster, and whether it answers). Pages are thin: they read widgets, call one `lab` function,
and draw its result."""

from __future__ import annotations

import streamlit as st

from pages._present import sidebar_state
from pages._shared import cluster_badge

st.set_page_config(page_title="Kafka Tuning Lab", page_icon="🧪", layout="wide", initial_sidebar_state=sidebar_state())

#: One page per phase of the course; later phases append theirs here.
PAGES = [
    st.Page("pages/cluster.py", title="1 · Cluster & topics", icon=":material/dns:", default=True),
    st.Page("pages/replication.py", title="2 · Replication & ISR", icon=":material/content_copy:"),
    st.Page("pages/eos.py", title="3 · Idempotence & transactions", icon=":material/verified:"),
    st.Page("pages/producer.py", title="4 · Producer tuning", icon=":material/speed:"),
    st.Page("pages/consumer.py", title="5 · Consumer tuning", icon=":material/download:"),
    st.Page("pages/lag.py", title="6 · Consumer lag", icon=":material/hourglass_bottom:"),
    st.Page("pages/share.py", title="7 · Share groups", icon=":material/queue:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
    st.Page("pages/board.py", title="Class board", icon=":material/groups:"),
]

nav = st.navigation(PAGES)
cluster_badge()
nav.run()
