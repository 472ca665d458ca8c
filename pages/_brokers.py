"""Broker buttons, shared by every page that has them: only the actions that make sense for each
broker's state, the outcome of the last click (or why it was refused), and no buttons at all while an
experiment holds the cluster lock (it names that experiment)."""

from __future__ import annotations

import time

import streamlit as st

from lab import LabError
from lab.cluster import BrokerAction, BrokerInfo, BrokerState, Cluster, ClusterStatus
from pages._shared import cluster_changed, cluster_status
from pages._whoami import may_change_brokers

#: What each broker button does, shown as its tooltip.
ACTION_HELP = {
    BrokerAction.STOP: "Controlled shutdown: the broker leaves every ISR and hands its leaderships over, then exits.",
    BrokerAction.KILL: "SIGKILL: a crash. Nothing is handed over; the controller notices after the broker "
                       "session timeout.",
    BrokerAction.PAUSE: "SIGSTOP: the process freezes but keeps its sockets, like a long GC pause or a hung disk; "
                        "its followers leave the ISR after replica.lag.time.max.ms.",
    BrokerAction.RESUME: "SIGCONT: the frozen broker carries on, catches up and rejoins the ISR.",
    BrokerAction.START: "Start the broker again on the same data directory.",
}
#: Colour per broker state (Streamlit markdown colours; emoji fonts are missing on many Linux machines).
STATE_COLOUR = {BrokerState.RUNNING: "green", BrokerState.PAUSED: "orange", BrokerState.STOPPED: "red",
                BrokerState.UNKNOWN: "gray"}
#: The actions offered for a broker in each state.
ACTIONS_FOR = {
    BrokerState.RUNNING: (BrokerAction.STOP, BrokerAction.KILL, BrokerAction.PAUSE),
    BrokerState.PAUSED: (BrokerAction.RESUME, BrokerAction.KILL),
    BrokerState.STOPPED: (BrokerAction.START,),
    BrokerState.UNKNOWN: (),
}
#: How long the outcome of a broker button stays on the page (seconds).
MESSAGE_SHOWN_S = 10.0


def teacher_or_alone() -> bool:
    """No class is open, or this session is its teacher: the broker buttons are this session's to press."""
    try:
        may_change_brokers()
    except LabError:
        return False
    return True


def actions_for(b: BrokerInfo) -> tuple[BrokerAction, ...]:
    return ACTIONS_FOR[b.state]


def _do(cluster: Cluster, action: BrokerAction, node_id: int, key: str) -> None:
    t0 = time.monotonic()
    try:
        may_change_brokers(f"{action.value} a broker")
        info = cluster.broker(action, node_id, face="app")
        st.session_state[key] = ("success", f"Broker {node_id}: {action.value} done in "
                                 f"{time.monotonic() - t0:.1f} s; it is now {info.state.value}.", time.monotonic())
    except LabError as exc:
        st.session_state[key] = ("error", f"Broker {node_id}: {action.value} refused. {exc}", time.monotonic())
    cluster_changed(cluster)  # the rerun after this click shows the broker as it is now


def outcome(key: str) -> None:
    """The last button's outcome, shown for ``MESSAGE_SHOWN_S`` (a popped message could be lost when one
    fragment's rerun replaces another's before it reaches the browser)."""
    msg = st.session_state.get(key)
    if msg and time.monotonic() - msg[2] < MESSAGE_SHOWN_S:
        (st.success if msg[0] == "success" else st.error)(msg[1])


def busy_caption(cluster: Cluster) -> str | None:
    """Why the buttons are off right now, or None when they are on."""
    holder = cluster.lock_holder()
    return None if holder is None else f"{holder.describe()} is changing brokers; the buttons come back when it ends."


def buttons(cluster: Cluster, status: ClusterStatus, b: BrokerInfo, prefix: str, container: object = None) -> None:
    """One broker's buttons (only those that fit its state) into ``container`` (default: a new row)."""
    where = container if container is not None else st.container(horizontal=True, gap="small")
    busy = cluster.lock_holder() is not None or not teacher_or_alone()
    for action in actions_for(b):
        where.button(action.value, key=f"{prefix}_{action.value}_{b.node_id}",  # type: ignore[attr-defined]
                     help=ACTION_HELP[action], disabled=busy or not status.controls_enabled,
                     on_click=_do, args=(cluster, action, b.node_id, f"{prefix}_msg"))


def panel(cluster: Cluster, prefix: str) -> None:
    """Every broker with its state and buttons (compact, for a sidebar)."""
    status = cluster_status(cluster)
    outcome(f"{prefix}_msg")
    if not status.controls_enabled:
        st.info(f"Broker controls are off: {status.controls_disabled_reason} The scenarios tell you what to "
                "stop and wait for it.")
    for b in status.brokers:
        st.markdown(f"**Broker {b.node_id}** :{STATE_COLOUR[b.state]}[● {b.state.value}]")
        buttons(cluster, status, b, prefix)
    why = busy_caption(cluster)
    if why:
        st.caption(why)
    if not teacher_or_alone():
        st.caption("In this class the teacher stops and starts brokers, for everyone.")
