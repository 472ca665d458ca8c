"""What every page shares: the cluster it talks to, the sidebar badge, and how errors are shown.
UI only; the work happens in `lab`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from lab import LabError
from lab.cluster import Cluster, ClusterStatus, from_env
from lab.cluster.text import broker_counts
from pages import _status

#: How often the sidebar badge redraws from the server's shared status (``pages._status`` re-reads it
#: every 2 s in one thread for all sessions), so a stopped broker shows within about 5 s.
BADGE_REFRESH_S = 3

#: Environment variables that choose the cluster; the cached cluster is keyed on their values.
CLUSTER_ENV = ("KAFKA_LAB_BOOTSTRAP", "KAFKA_LAB_BACKEND", "KAFKA_LAB_STATE_DIR", "KAFKA_LAB_KAFKA_VERSION")


@st.cache_resource
def _cluster_for(env: tuple[tuple[str, str], ...]) -> Cluster:
    return from_env()


def get_cluster() -> Cluster:
    """The cluster chosen by the environment (KAFKA_LAB_BOOTSTRAP / KAFKA_LAB_BACKEND), one per server."""
    return _cluster_for(tuple((k, os.environ.get(k, "")) for k in CLUSTER_ENV))


#: Session-state flag: this session already switched from pages-directory mode to the app's navigation.
_NAV_FIXED = "shared_nav_fixed"


def _in_pages_directory_mode() -> bool:
    """This script run runs a page file alone, in Streamlit's pages-directory mode: its navigation (the
    files of ``pages/``) lists the main script itself, which the app's ``st.navigation`` never does."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    main = Path(ctx.pages_manager.main_script_path).resolve()
    return any(Path(p["script_path"]).resolve() == main for p in ctx.pages_manager.get_pages().values())


def _leave_pages_directory_mode() -> None:
    """A link straight to a page (``/producer?acks=1``) opened first on a fresh server makes Streamlit run
    that page file alone, as an old-style ``pages/`` directory app (no shared sidebar, file names as the
    navigation), and keeps doing so for every later session. Switch to the app's ``st.navigation`` and
    run again: the same page (same URL path), with the link's parameters.

    Decided by this run, not by Streamlit's process-wide flag: when several sessions open links at once on a
    fresh server, all their first runs start in that mode, and the first to get here clears the flag for
    everyone; the others must switch too. Once per session: AppTest sets the flag again before each of its
    runs, and a rerun there would swallow the click being tested."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or _in_pages_directory_mode():
        PagesManager.uses_pages_directory = False
        if not st.session_state.get(_NAV_FIXED):
            st.session_state[_NAV_FIXED] = True
            st.rerun()


def cluster_or_stop() -> Cluster:
    """The cluster, or an explanation on the page (then stop) when it cannot even be configured."""
    _leave_pages_directory_mode()
    try:
        return get_cluster()
    except LabError as exc:
        st.error(str(exc))
        st.stop()
        raise  # unreachable: st.stop() ends the run


def status() -> ClusterStatus:
    return cluster_status(cluster_or_stop())


def cluster_status(cluster: Cluster) -> ClusterStatus:
    """The cluster's status, shared by every session of this server and at most a few seconds old (asking
    the cluster costs a round trip per call); ``cluster.status()`` still asks it directly."""
    return _status.status(cluster)


def cluster_topics(cluster: Cluster, *, with_configs: bool = True) -> list[Any]:
    """``admin.describe_topics``, shared by every session of this server for a second or two."""
    return _status.topics(cluster, with_configs=with_configs)


def cluster_changed(cluster: Cluster) -> None:
    """The app just changed the cluster (brokers, topics): the next question asks it again."""
    _status.forget(cluster)


def require_reachable() -> Cluster:
    """For pages that need a live cluster: say how to start it instead of raising. The shared status
    answers when the cluster is up; only when it says "down" is the cluster probed, for the reason."""
    c = cluster_or_stop()
    try:
        if not cluster_status(c).reachable:
            c.probe(timeout_s=2.0)
    except LabError as exc:
        st.info(f"The {c.backend} cluster is not reachable, so this page cannot run yet.\n\n{exc}")
        st.stop()
    return c


def show_error(exc: LabError) -> None:
    st.error(exc.message + (f"\n\n**What to do:** {exc.hint}" if exc.hint else ""))


@st.fragment(run_every=BADGE_REFRESH_S)
def _badge_body() -> None:
    # into the fragment's own container (it is called in the sidebar): a fragment run may not write to
    # `st.sidebar`, a container made outside it, unless the last full run wrote there too, and a full run
    # stopped early for a rerun has not (StreamlitInvalidLayoutContextError in place of the badge)
    try:
        c = get_cluster()
    except LabError as exc:
        st.error(f"Cluster settings are invalid: {exc.message}")
        return
    try:
        s = cluster_status(c)  # the server's last reading: no round trip per session
    except LabError as exc:
        st.error(f"● {c.backend} cluster: {exc.message}")
        return
    if s.reachable:
        st.success(f"● {c.backend} cluster reachable — brokers: {broker_counts(s)}", icon=None)
    else:
        st.error(f"● {c.backend} cluster not reachable")
        st.caption(c.start_hint())
    user = c.security_settings().get("sasl.username")  # a name, not a secret: says whose ACLs apply
    secured = "" if s.security == "PLAINTEXT" else f" · {s.security}" + (f" as `{user}`" if user else "")
    st.caption(f"bootstrap: `{s.bootstrap_servers}`{secured}")


def cluster_badge() -> None:
    """The sidebar badge every page shows: backend and whether the cluster answers."""
    with st.sidebar:
        st.markdown("**Kafka Tuning Lab**")
        _badge_body()
