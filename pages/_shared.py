"""What every page shares: the cluster it talks to, the sidebar badge, and how errors are shown.
UI only; the work happens in `lab`."""

from __future__ import annotations

import os

import streamlit as st

from lab import LabError
from lab.cluster import BrokerAction, BrokerState, Cluster, ClusterStatus, from_env

#: How often the sidebar badge re-checks that the cluster answers (seconds).
BADGE_REFRESH_S = 5

#: Colour per broker state (Streamlit markdown colours; emoji fonts are missing on many Linux machines).
STATE_COLOUR = {BrokerState.RUNNING: "green", BrokerState.PAUSED: "orange", BrokerState.STOPPED: "red",
                BrokerState.UNKNOWN: "gray"}
#: What each broker button does, shown as its tooltip on every page that has broker buttons.
ACTION_HELP = {
    BrokerAction.STOP: "Controlled shutdown: the broker leaves every ISR and hands its leaderships over, then exits.",
    BrokerAction.KILL: "SIGKILL: a crash. Nothing is handed over; the controller notices after the broker "
                       "session timeout.",
    BrokerAction.PAUSE: "SIGSTOP: the process freezes but keeps its sockets, like a long GC pause or a hung disk; "
                        "its followers leave the ISR after replica.lag.time.max.ms.",
    BrokerAction.RESUME: "SIGCONT: the frozen broker carries on, catches up and rejoins the ISR.",
    BrokerAction.START: "Start the broker again on the same data directory.",
}


#: Environment variables that choose the cluster; the cached cluster is keyed on their values.
CLUSTER_ENV = ("KAFKA_LAB_BOOTSTRAP", "KAFKA_LAB_BACKEND", "KAFKA_LAB_STATE_DIR", "KAFKA_LAB_KAFKA_VERSION")


@st.cache_resource
def _cluster_for(env: tuple[tuple[str, str], ...]) -> Cluster:
    return from_env()


def get_cluster() -> Cluster:
    """The cluster chosen by the environment (KAFKA_LAB_BOOTSTRAP / KAFKA_LAB_BACKEND), one per server."""
    return _cluster_for(tuple((k, os.environ.get(k, "")) for k in CLUSTER_ENV))


def cluster_or_stop() -> Cluster:
    """The cluster, or an explanation on the page (then stop) when it cannot even be configured."""
    try:
        return get_cluster()
    except LabError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop() ends the run


def status() -> ClusterStatus:
    return cluster_or_stop().status()


def require_reachable() -> Cluster:
    """For pages that need a live cluster: say how to start it instead of raising."""
    c = cluster_or_stop()
    try:
        c.probe(timeout_s=2.0)
    except LabError as exc:
        st.info(f"The {c.backend} cluster is not reachable, so this page cannot run yet.\n\n{exc}")
        st.stop()
    return c


def show_error(exc: LabError) -> None:
    st.error(exc.message + (f"\n\n**What to do:** {exc.hint}" if exc.hint else ""))


@st.fragment(run_every=BADGE_REFRESH_S)
def _badge_body() -> None:
    try:
        c = get_cluster()
    except LabError as exc:
        st.sidebar.error(f"Cluster settings are invalid: {exc.message}")
        return
    try:
        _, _, brokers = c.probe(timeout_s=1.5)
        st.sidebar.success(f"● {c.backend} cluster reachable — {len(brokers)} broker(s)", icon=None)
    except LabError:
        st.sidebar.error(f"● {c.backend} cluster not reachable")
        st.sidebar.caption(c.start_hint())
    st.sidebar.caption(f"bootstrap: `{c.bootstrap_servers()}`")


def cluster_badge() -> None:
    """The sidebar badge every page shows: backend and whether the cluster answers."""
    with st.sidebar:
        st.markdown("**Kafka Tuning Lab**")
        _badge_body()
