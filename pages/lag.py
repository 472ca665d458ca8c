"""Phase 6 — consumer lag: for any group on the cluster, lag per partition live and as history, in records
and in seconds, with a status over a window. Widgets -> one LagWatchSettings -> the lag watch -> charts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab import registry as experiments
from lab.core.errors import SettingsError
from lab.lag import charts as charts_lag
from lab.lag import sample as lag
from lab.lag.rate import SustainableRateResult
from lab.lag.scenario import LagDemoResult
from lab.lag.settings import PHASES, LagDemoSettings, LagWatchSettings, SustainableRateSettings
from lab.lag.status import GroupStatus, PartitionStatus
from lab.lag.watch import LagWatchResult
from pages._charts import show_chart
from pages._fields import Fields
from pages._links import PageLink
from pages._present import lesson_panel
from pages._runner import PageRunner
from pages._shared import require_reachable, show_error

#: Status colours (Streamlit markdown colours).
STATUS_COLOUR = {PartitionStatus.OK: "green", PartitionStatus.WARN: "orange", PartitionStatus.STALL: "red",
                 PartitionStatus.STOP: "red", PartitionStatus.REWIND: "red", PartitionStatus.NO_COMMIT: "gray"}
GROUP_COLOUR = {GroupStatus.OK: "green", GroupStatus.WARN: "orange", GroupStatus.ERR: "red"}
#: The knobs are bound to the address bar (the key is the link parameter).
BIND = "query-params"

st.title("Consumer lag")
st.caption(
    "Lag is how far a consumer group is behind: per partition, the log's end offset minus the offset the "
    "group has committed. It is only worth something over time — a lag of 10 000 that shrinks is fine, one of "
    "50 that never moves is a stuck consumer — so the lab keeps every sample, judges a window of them, and "
    "estimates how many seconds behind the group is."
)
cluster = require_reachable()
lesson_panel("lag", cluster)
link = PageLink("lag")
fields = Fields("lag")

# --- sidebar: the group and how to judge it --------------------------------------------------------------
sb = st.sidebar
sb.header("Consumer lag")
MODES = {"watch": "Watch a group", "scenario": "Make lag happen (scenario)", "rate": "Find the sustainable rate"}
#: Session-state flag: this session's page started on the scenario because the cluster had no group.
STARTED_ON_SCENARIO = "lag_started_on_scenario"


@st.cache_data(ttl=5, show_spinner=False)
def cluster_groups(bootstrap: str) -> list[lag.GroupSummary]:
    """Every group on the cluster with its state and total lag; the ones with members first."""
    return sorted(lag.list_groups(cluster), key=lambda g: (g.members == 0, g.group))


try:
    groups = cluster_groups(cluster.bootstrap_servers())
    groups_error: LabError | None = None
except LabError as exc:
    groups, groups_error = [], exc
if not groups:  # "no group yet" is not reused: the next visit asks again, so a group just made shows at once
    cluster_groups.clear()
if "lag_mode" not in st.session_state and not groups and groups_error is None \
        and not {"mode", "group"} & set(link.captured):
    st.session_state["lag_mode"] = "scenario"  # nothing to watch yet: start where lag is made
    st.session_state[STARTED_ON_SCENARIO] = True
mode = link.choice(sb.radio, "What to do", MODES, key="lag_mode")


def group_label(g: lag.GroupSummary | None, name: str) -> str:
    if g is None:
        return f"{name} (not on this cluster)"
    lag_text = "no commit" if g.total_lag is None else f"lag {g.total_lag:,}"
    return f"{name} — {g.state}, {g.members} member(s), {lag_text}"


def watch_form() -> Any:
    if groups_error is not None:
        show_error(groups_error)
    if sb.button("Refresh the groups", key="lag_refresh"):
        cluster_groups.clear()
        st.rerun()
    by_name = {g.group: g for g in groups}
    linked = link.captured.get("group")
    labels = {name: group_label(g, name) for name, g in by_name.items()}
    if isinstance(linked, str) and linked and linked not in by_name:
        labels[linked] = group_label(None, linked)  # kept, so the link still opens on it; said below
    if labels:  # the name in the link (?group=…), its state and lag in the list
        group = link.choice(sb.selectbox, "Consumer group", labels, key="lag_group", param="group",
                            help="Every group the cluster knows, with its state, members and total lag: the lab's "
                                 "own and ones you run by hand.")
    else:
        group = sb.text_input("Consumer group", key="group", bind=BIND,
                              help="No group on the cluster yet: start a consumer (e.g. the consumer lab) or type one.")
    if group and group not in by_name and groups_error is None:
        st.warning(f"Consumer group `{group}` is not on this cluster (no member has joined it, nothing committed). "
                   "A watch shows it once a consumer of it commits; **Refresh the groups** to look again, or "
                   "choose *Make lag happen* to run a group of the lab's own.")
    if not group:
        raise SettingsError("No consumer group on this cluster yet, so there is nothing to watch.",
                            hint="Choose *Make lag happen (scenario)*: it runs a group of its own, which then shows "
                                 "up here; or start a consumer (e.g. the consumer lab) and press *Refresh the groups*.")
    duration = fields.number(sb, "Watch for (s)", key="watch_s")
    isolation = sb.radio("Isolation level of the group", lag.ISOLATION_LEVELS, horizontal=True, key="isolation",
                         bind=BIND)
    sb.caption("A read_committed group can only read up to the last stable offset (the first offset of a still-open "
               "transaction), so its lag is measured from there; a read_uncommitted one from the high watermark.")
    window = sb.slider("Samples in the status window", 2, 60, 10, key="window", bind=BIND)
    min_distance = fields.number(sb, "Merge samples closer than (s)", key="merge_s")
    sb.caption("Set it to the group's auto.commit.interval.ms (5 s by default): otherwise a window of 1 s samples "
               "sees the same committed offset several times and calls a healthy group stalled.")
    allowed = fields.number(sb, "Allowed lag (records)", key="allowed_lag")
    return LagWatchSettings(str(group or ""), float(duration), 1.0, str(isolation), int(window), float(min_distance),
                            int(allowed))


def scenario_form() -> Any:
    if st.session_state.get(STARTED_ON_SCENARIO) and not groups:
        st.info("No consumer group has joined or committed on this cluster yet, so there is nothing to watch: the "
                "page starts on **Make lag happen**. Its group then shows up under *Watch a group*.")
    partitions = sb.slider("Partitions (and members after scale-out)", 1, 12, 4, key="partitions", bind=BIND)
    rate = fields.number(sb, "Producer rate (records/s)", key="rate")
    delay = fields.number(sb, "Processing time per record (ms)", key="delay_ms")
    sb.caption(f"One member then handles {1000.0 / max(delay, 0.1):,.0f} records/s: below the producer's rate the "
               "group falls behind; with one member per partition it can catch up.")
    phase = fields.number(sb, "Seconds per phase", key="phase_s")
    phases = sb.multiselect("Phases, in order", list(PHASES), list(PHASES), key="phases", bind=BIND,
                            help="slow: one member · scale-out: one member per partition · stall: members that "
                                 "consume but never commit · stop: no member at all")
    return LagDemoSettings(int(partitions), int(rate), float(delay), float(phase), tuple(phases))


def rate_form() -> Any:
    partitions = sb.slider("Partitions", 1, 12, 4, key="partitions", bind=BIND)
    members = fields.number(sb, "Members of the group", key="members")
    delay = fields.number(sb, "Processing time per record (ms)", key="delay_ms")
    sb.caption(f"By arithmetic the group handles about {members * 1000.0 / max(delay, 0.1):,.0f} records/s; the "
               "search measures what it really keeps up with.")
    start = fields.number(sb, "First rate (records/s)", key="start_rate")
    step = fields.number(sb, "Added at each step (records/s)", key="rate_step")
    top = fields.number(sb, "Highest rate tried (records/s)", key="max_rate")
    step_s = fields.number(sb, "Seconds per step", key="step_s")
    sb.caption("Each step counts as kept up unless the group's lag grows through it (faster than a tenth of the "
               "rate, and by more than two seconds of records); the search stops at the first step that falls behind.")
    return SustainableRateSettings(int(partitions), int(members), float(delay), int(start), int(step), int(top),
                                   float(step_s))


NAMES = {"watch": "lag.watch", "scenario": "lag.scenario", "rate": "lag.sustainable-rate"}
FORMS = {"watch": watch_form, "scenario": scenario_form, "rate": rate_form}
try:
    settings = FORMS[mode]()
    invalid: LabError | None = None
except LabError as exc:
    settings, invalid = None, exc
runner = PageRunner("lag", cluster, {"lag.watch": "Lag watch", "lag.scenario": "Lag scenario",
                                     "lag.sustainable-rate": "Sustainable-rate search"})
runner.controls((lambda: (experiments.get(NAMES[mode]), settings)) if settings is not None else None, sb,
                invalid=fields.invalid() or invalid)
link.finish(sb)


# --- results ---------------------------------------------------------------------------------------------
def verdict_table(r: LagWatchResult) -> pd.DataFrame:
    last = {(p.topic, p.partition): p for p in r.samples[-1].partitions} if r.samples else {}
    rows = []
    for v in r.verdicts:
        p = last.get((v.topic, v.partition))
        rows.append({
            "partition": f"{v.topic}[{v.partition}]", "owner": (p.owner if p else None) or "(unassigned)",
            f"end offset ({r.end_offset_name})": p.end_offset if p else None,
            "committed": "no commit" if p is None or p.committed is None else f"{p.committed:,}",
            "lag (records)": "—" if v.lag is None else f"{v.lag:,}",
            "lag (time)": "—" if v.time_lag_s is None else (">" if v.time_lag_lower_bound else "")
            + f"{v.time_lag_s:.1f} s",
            "status": v.status.value, "why": v.reason,
        })
    return pd.DataFrame(rows)


def draw_rate(r: SustainableRateResult) -> None:
    s = r.settings
    c = st.columns(3)
    best = r.sustainable_rate
    c[0].metric("Sustainable rate (records/s)", "—" if best is None else (f"{best:,}" if r.found_limit
                                                                          else f"≥ {best:,}"),
                help="The highest step the group kept up with before the first one it fell behind at.")
    c[1].metric("By arithmetic (records/s)", f"{s.capacity:,.0f}",
                help=f"{s.members} member(s) x 1000 / {s.processing_delay_ms:g} ms per record")
    c[2].metric("Steps", f"{len(r.steps)} of {len(s.rates())}")
    if r.steps and not r.found_limit:
        st.caption("The group kept up with every step: raise the highest rate to find its limit.")
    if r.samples:
        show_chart(charts_lag.rate_search(r.lag_frame(), r.steps_frame()), "lag-rate-search", key="lag_rate_chart")
    if r.steps:
        st.dataframe(pd.DataFrame([{"records/s": x.rate_per_s, "from (s)": f"{x.start_s:.0f}",
                                    "to (s)": f"{x.end_s:.0f}", "lag at start": f"{x.lag_start:,}",
                                    "lag at end": f"{x.lag_end:,}",
                                    "lag growth (records/s)": "—" if x.growth_per_s != x.growth_per_s
                                    else f"{x.growth_per_s:,.1f}",
                                    "kept up": "yes" if x.kept_up else "no: fell behind"} for x in r.steps]),
                     hide_index=True, width="stretch")
    else:
        st.info("Waiting for the members to join and commit before the first step…")


def draw(r: object) -> None:
    if isinstance(r, SustainableRateResult):
        draw_rate(r)
        return
    if isinstance(r, LagDemoResult):
        draw_scenario(r)
        return
    if not isinstance(r, LagWatchResult):
        return
    if not r.samples:
        st.info("Waiting for the first sample…")
        return
    s = r.samples[-1]
    c = st.columns(4)
    c[0].metric("Total lag (records)", f"{s.total_lag:,}")
    c[1].markdown(f"**Group status**  \n:{GROUP_COLOUR[r.group_status]}[● {r.group_status.value}]")
    c[2].metric("Members", s.members, help=f"state {s.state}, protocol {s.protocol}")
    c[3].metric("Partitions without a commit", s.without_commit)
    st.caption(f"End offset = the {r.end_offset_name} ({r.settings.isolation}); {len(r.samples)} samples, "
               f"status judged over the last {r.settings.window_samples}.")
    for v in r.verdicts:
        if v.status is not PartitionStatus.OK:
            st.markdown(f":{STATUS_COLOUR[v.status]}[**{v.status.value}**] `{v.topic}[{v.partition}]` — {v.reason}")
    st.dataframe(verdict_table(r), hide_index=True, width="stretch")
    st.caption(f"**Lag** = end offset (`list_offsets`, the {r.end_offset_name}) − committed offset "
               "(`list_consumer_group_offsets`); *no commit* is not zero. **Lag (time)**: how long ago the log's end "
               "was where the group has committed now (`>`: before the first sample). **Status** over the last "
               f"{r.settings.window_samples} samples: WARN lag grew every time, STALL lag but no commit moved, STOP "
               "nothing committed for the whole window, REWIND a commit went back; any of the last three makes the "
               "group ERR.")
    frame = r.partitions_frame()
    show_chart(charts_lag.lag_per_partition(frame), "lag-per-partition", key="lag_per_partition")
    left, right = st.columns(2)
    show_chart(charts_lag.total_lag(frame), "total-lag", key="lag_total", where=left)
    show_chart(charts_lag.produce_vs_commit(r.rates_frame()), "produce-vs-commit", key="lag_rates", where=right)


def draw_scenario(r: LagDemoResult) -> None:
    s = r.settings
    st.markdown(f"Producer **{s.rate_per_s:,} records/s**; each member handles **{s.member_capacity:,.0f} "
                f"records/s** ({s.processing_delay_ms:g} ms per record); topic `{r.topic}` ({s.partitions} "
                f"partitions), group `{r.group}`.")
    if r.phases:
        st.table(pd.DataFrame([{"phase": p.name, "members": p.members, "from (s)": f"{p.start_s:.0f}",
                                "to (s)": f"{p.end_s:.0f}", "lag at start": f"{p.lag_start:,}",
                                "lag at end": f"{p.lag_end:,}", "status": p.status.value, "why": p.reason}
                               for p in r.phases]).set_index("phase"))
    draw(r.watch)


runner.show(draw, draw, idle="Pick a consumer group in the sidebar and press **Run** to watch its lag, or choose "
                              "the scenario to make lag happen.")
