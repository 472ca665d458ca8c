"""Runs — every stored run of every experiment: the history, one run with its charts and exports, two or
more runs of one experiment overlaid, and any run re-run with its settings. Widgets -> store queries ->
``lab.runs.compare`` / ``lab.export.files`` -> charts; the re-run goes through the same runner as every page."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab import registry as experiments
from lab.export import files as export
from lab.export import links
from lab.runs import compare, recorder
from lab.runs import store as runs
from lab.runs.charts import charts_for
from lab.runs.store import RunRecord, RunSummary
from pages._charts import run_downloads, show_chart
from pages._fields import Fields
from pages._runner import PageRunner
from pages._shared import _leave_pages_directory_mode, get_cluster, show_error

#: Runs listed per page of the history.
PAGE_SIZE = 50
#: Headline figures shown in the history, in this order where a run has them.
HEADLINES = ("msgs_per_s", "latency.p99_ms", "mb_per_s", "consumed", "total_lag", "duplicates")
#: Query parameter of the selected runs (a link to a comparison).
RUNS_PARAM = "runs"

_leave_pages_directory_mode()
st.title("Runs")
st.caption(
    "Every run of every experiment is kept here when it ends — finished, cancelled, failed or timed out — "
    "with its settings, the cluster it ran on, its figures and its samples. Pick one to see it again and "
    "export it; pick two or more runs of one experiment to overlay them; re-run any with its settings."
)

try:
    store = runs.open_store()
except LabError as exc:
    show_error(exc)
    st.info("The lab works without its history: every other page runs as usual; runs are not kept until "
            "the store can be opened.")
    st.stop()
if recorder.last_problem():
    st.warning(f"A run could not be saved: {recorder.last_problem()}")


def title_of(name: str) -> str:
    exp = experiments.REGISTRY.get(name)
    return exp.title if exp is not None else name


# --- sidebar: which runs -----------------------------------------------------------------------------------
sb = st.sidebar
sb.header("Runs")
stored = store.experiments()
experiment = sb.selectbox("Experiment", ["", *stored], format_func=lambda n: title_of(n) if n else "all",
                          key="runs_experiment")
search = sb.text_input("Search the settings", key="runs_search",
                       help="Text to find in a run's settings, e.g. lz4 or linger_ms\": 10.")
status = sb.selectbox("How it ended", ["", *runs.STATUSES], format_func=lambda s: s or "any", key="runs_status")
fields = Fields(None)
page_no = int(fields.number(sb, "Page", key="runs_page", default=1, lo=1, bind=None))
filters: dict[str, Any] = {"experiment": experiment or None, "search": search or None, "status": status or None}
total = store.count(**filters)
listed = store.list(**filters, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)


def headline(s: RunSummary) -> str:
    parts = [f"{k.split('.')[-1]} {s.figures[k]:,.4g}" for k in HEADLINES if k in s.figures]
    return ", ".join(parts[:2])


def history(rows: list[RunSummary]) -> pd.DataFrame:
    return pd.DataFrame([{
        "run": s.run_id, "experiment": title_of(s.experiment), "status": s.status,
        "started (UTC)": s.started_at[:19].replace("T", " "), "from": s.face,
        "seconds": None if s.elapsed_s is None else round(s.elapsed_s, 1), "figures": headline(s),
        "why it stopped": s.stopped or s.error or "",
    } for s in rows])


st.subheader(f"History — {total:,} run{'s' if total != 1 else ''}"
             + (f" of {title_of(experiment)}" if experiment else ""))
if not listed:
    st.info("No stored run matches. Run an experiment on any page (or from the CLI) and it appears here.")
    st.stop()
st.dataframe(history(listed), hide_index=True, width="stretch")

# --- which runs to look at: kept in the link (?runs=a,b) -------------------------------------------------
by_id = {s.run_id: s for s in listed}
wanted = [r for r in st.query_params.get(RUNS_PARAM, "").split(",") if r]
for rid in wanted:  # a link to runs not on this page of the history still opens them
    if rid not in by_id and (rec := store.get(rid)) is not None:
        by_id[rid] = rec.summary()
if "runs_selected" not in st.session_state:
    missing = [r for r in wanted if r not in by_id]
    if missing:
        st.warning(f"The link names run(s) this store does not have: {', '.join(missing)}.")
    st.session_state["runs_selected"] = [r for r in wanted if r in by_id]
chosen: list[str] = st.multiselect(
    "Runs to look at (one: the run; two or more of one experiment: a comparison)", list(by_id),
    format_func=lambda r: f"{r} · {title_of(by_id[r].experiment)} · {by_id[r].status}", key="runs_selected")
if chosen:
    st.query_params[RUNS_PARAM] = ",".join(chosen)
elif RUNS_PARAM in st.query_params:
    del st.query_params[RUNS_PARAM]
if not chosen:
    st.info("Pick runs above to see them.")
    st.stop()

records: list[RunRecord] = [rec for r in chosen if (rec := store.get(r)) is not None]
for rec in records:
    if rec.note:
        st.warning(f"Run `{rec.run_id}`: {rec.note}")


def rerun_controls(rec: RunRecord, where: Any) -> None:
    """Re-run with the stored settings (the new run is stored next to the old one), and a link that opens
    its page with the same settings."""
    exp = experiments.REGISTRY.get(rec.experiment)
    if exp is None or not isinstance(rec.settings, exp.settings_type):
        where.caption("This run's experiment or settings type is no longer known: it cannot be re-run.")
        return
    if exp.page:
        shown = [f"[this run on the {exp.page} page](/{exp.page}?run={rec.run_id})"]
        with contextlib.suppress(LabError):  # an experiment whose page keeps no link parameters
            shown.append(f"[its settings, ready to run](/{links.link_for(rec.experiment, rec.settings).lstrip('/')})")
        where.markdown("Links: " + " · ".join(shown))
    try:
        cluster = get_cluster()
    except LabError as exc:
        show_error(exc)
        return
    runner = PageRunner("runs", cluster, key=f"runs_rerun_{rec.run_id}")
    with where:
        st.caption("Re-run: the same settings on the current cluster.")
        runner.controls(lambda: (exp, rec.settings))
        runner.show(draw_one, lambda _p: None, idle="")


def draw_one(result: Any) -> None:
    """One run: its charts (each exportable), figures and settings."""
    rid = result.run.run_id if getattr(result, "run", None) else "run"
    for i, (name, chart) in enumerate(charts_for(result).items()):
        show_chart(chart, f"{rid}-{name}", key=f"runs_one_{rid}_{i}")
    figs = compare.figures(result)
    if figs:
        st.dataframe(pd.DataFrame({"figure": list(figs), "value": list(figs.values())}), hide_index=True)


if len(records) == 1:
    rec = records[0]
    st.subheader(f"{title_of(rec.experiment)} — run `{rec.run_id}` ({rec.status})")
    facts = rec.cluster
    st.caption(f"{rec.started_at[:19].replace('T', ' ')} UTC, from the {rec.face}"
               + (f", on the {facts.backend} cluster {facts.cluster_id or ''} (Kafka {facts.kafka_version or '?'}, "
                  f"{facts.broker_count} brokers)" if facts else ""))
    if rec.stopped:
        st.warning(f"Stopped early: {rec.stopped}")
    if rec.error:
        st.error(f"Failed: {rec.error}")
    if rec.result is not None:
        run_downloads(rec.result, key=f"runs_{rec.run_id}")
        if rec.experiment.startswith("produce"):
            st.download_button("Download OpenMessaging-Benchmark result (JSON)",
                               data=lambda: export.export_run(rec.result, "omb")[0],
                               file_name=export.file_stem(rec.result)
                               + ("-omb.zip" if rec.experiment == "produce.sweep" else "-omb.json"), on_click="ignore",
                               key=f"runs_omb_{rec.run_id}")
        draw_one(rec.result)
    with st.expander("Settings"):
        st.json(compare.settings_of(rec.result) if rec.result is not None else {"settings": str(rec.settings)})
    rerun_controls(rec, st.container())
    st.stop()

# --- a comparison ------------------------------------------------------------------------------------------
results = [rec.result for rec in records if rec.result is not None]
if len(results) < len(records):
    st.info("Runs that failed before measuring anything have no result to compare; they are left out.")
try:
    compare.check_comparable(results)
except LabError as exc:
    show_error(exc)
    st.stop()
if len(results) < 2:
    st.info("Pick at least two runs with results to compare them.")
    st.stop()
st.subheader(f"{len(results)} runs of {title_of(records[0].experiment)}")
st.download_button("Download the comparison (HTML report)", data=lambda: export.html_report(results),
                   file_name=f"comparison-{'-'.join(r.run.run_id for r in results if r.run)[:120]}.html",
                   mime="text/html", on_click="ignore", key="runs_compare_html", icon=":material/description:")

diff = compare.differing_settings(results)
st.markdown("**Settings** (the ones that differ first, highlighted)")
ordered = pd.concat([diff[diff["differs"]], diff[~diff["differs"]]]).drop(columns="differs")
differs = set(diff.index[diff["differs"]])
st.dataframe(ordered.style.apply(
    lambda row: ["background-color: #fff3b0" if row.name in differs else "" for _ in row], axis=1), width="stretch")
st.markdown("**Key figures** (and each run's ratio to the first)")
st.dataframe(compare.figures_table(results), width="stretch")
for i, (name, chart) in enumerate(compare.overlay_charts(results).items()):
    show_chart(chart, f"compare-{name}", key=f"runs_overlay_{i}")
