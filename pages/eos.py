"""Phase 3 — idempotence and transactions: duplicates provoked by a real fault and counted, idempotence
that removes them, transactions and the last stable offset, fencing, and an exactly-once pipeline that
survives a crash. Widgets -> one settings object -> PageRunner -> `lab.eos.charts` -> shown live."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab import registry as experiments
from lab.eos import about, duplicates, fencing, pipeline_run, transactions
from lab.eos import charts as charts_eos
from lab.eos import settings as eos_settings
from lab.eos import text as text_eos
from pages._charts import show_chart
from pages._fields import Fields
from pages._links import PageLink
from pages._present import lesson_panel
from pages._runner import PageRunner
from pages._shared import cluster_status, require_reachable

#: The scenarios, by registry name, as the page names them.
SCENARIOS = {
    "eos.idempotent": "Duplicates & idempotence",
    "eos.transactional": "Transactions & LSO",
    "eos.fencing": "Fencing",
    "eos.pipeline": "Exactly-once pipeline",
}
#: The scenarios' knobs are bound to the address bar (the key is the link parameter).
BIND = "query-params"

st.title("Idempotence & transactions")
st.caption(
    "A retry can write a record twice; idempotence stops that per partition, transactions make writes to "
    "several partitions (and the consumer's offsets) visible all together or not at all. Each scenario makes "
    "the problem happen on the real cluster and counts what ends up in the log."
)

cluster = require_reachable()
lesson_panel("eos", cluster)
link = PageLink("eos")
fields = Fields("eos")


def session_timeout_ms() -> int:
    try:
        raw = cluster_status(cluster).broker_settings.get(duplicates.SESSION_TIMEOUT_KEY, "")
    except LabError:
        raw = ""
    return int(raw) if raw.isdigit() else duplicates.DEFAULT_SESSION_TIMEOUT_MS


# --- settings ----------------------------------------------------------------------------------------
def idempotent_form() -> eos_settings.DuplicateSettings:
    session = session_timeout_ms()
    mode = st.radio("Idempotence", list(eos_settings.IDEMPOTENCE_MODES), index=2, horizontal=True, key="idem_mode",
                    bind=BIND, help="off: a plain producer; on: enable.idempotence=true; both: off first, then on, "
                         "through the same fault.")
    sto = st.slider("socket.timeout.ms", 200, 5000, 1000, 100, key="socket_timeout_ms", bind=BIND,
                    help="librdkafka's client-side timeout for a request in flight. When it passes, the "
                         "connection is dropped and the batches are sent again (retries on).")
    limit = max(sto + 100, session - duplicates.SESSION_MARGIN_MS)
    pause = st.slider("Freeze the leader for (ms)", sto + 100, limit, min(max(2500, sto + 500), limit), 100,
                      key="pause_ms", bind=BIND,
                      help=f"SIGSTOP, then SIGCONT. Longer than socket.timeout.ms (so requests time out and are "
                           f"retried) and shorter than broker.session.timeout.ms={session} minus a margin "
                           "(so the controller does not fence the broker and move leadership).")
    rate = st.slider("Records/s", 50, 2000, 300, 50, key="idem_rate", bind=BIND,
                     help="More records per second put more batches into each timed-out request.")
    inflight = st.slider("max.in.flight", 1, 10, 5, key="max_in_flight", bind=BIND,
                         help="Requests sent before the first is answered; idempotence allows at most 5.")
    retries = fields.number(st, "retries", key="retries",
                              help="0: a timed-out batch is not retried (lost instead of duplicated).")
    acks = st.radio("acks", ["all", "1"], horizontal=True, key="idem_acks", bind=BIND,
                    help="Idempotence needs acks=all.")
    st.caption(f"Fault window here: socket.timeout.ms **{sto}** < pause **{pause}** ms < "
               f"broker.session.timeout.ms **{session}** − {duplicates.SESSION_MARGIN_MS} ms.")
    return eos_settings.DuplicateSettings(idempotence=mode, rate_per_s=int(rate), pause_ms=int(pause),
                                        socket_timeout_ms=int(sto), retries=int(retries),
                                        max_in_flight=int(inflight), acks=acks)


def transactional_form() -> eos_settings.TransactionSettings:
    n = st.slider("Transactions", 2, 20, 6, key="txns", bind=BIND, help="Batches, each one transaction.")
    size = st.slider("Records per transaction", 1, 100, 9, key="txn_records", bind=BIND,
                     help="Written round-robin over 3 partitions, so each transaction spans all three.")
    aborted = st.slider("Of which aborted", 0, n - 1, min(2, n - 1), key="txn_aborted", bind=BIND,
                        help="Spread evenly among all but the last; the last is held open, then committed.")
    hold = st.slider("Hold the last one open (s)", 0, 20, 3, key="txn_hold_s", bind=BIND,
                     help="Meanwhile HW and LSO are sampled: the HW moves on, the LSO and the "
                          "read_committed consumer wait for the commit.")
    st.caption("Both isolation levels read the topic at the end: read_committed and read_uncommitted side by side.")
    return eos_settings.TransactionSettings(transactions=n, records_per_transaction=size, aborted=aborted,
                                            hold_open_s=float(hold))


def fencing_form() -> eos_settings.FencingSettings:
    n = st.slider("Records in each producer's transaction", 1, 100, 5, key="fence_records", bind=BIND,
                  help="The zombie's stay in the log as aborted records; the successor's are committed.")
    return eos_settings.FencingSettings(records=n)


def pipeline_form() -> eos_settings.PipelineSettings:
    mode = st.radio("Mode", list(eos_settings.PIPELINE_MODES), index=0, key="pipe_mode", bind=BIND,
                    help="exactly-once: one transaction per round, offsets inside it; at-least-once: "
                         "flush the output, then commit the offsets.")
    records = st.slider("Input records", 500, 10_000, 3000, 500, key="pipe_records", bind=BIND)
    rate = st.slider("Input records/s", 50, 2000, 300, 50, key="pipe_rate", bind=BIND)
    interval = st.slider("Commit every (ms)", 200, 5000, 1000, 100, key="commit_ms", bind=BIND,
                         help="One round: a transaction, or the records between two offset commits.")
    kills = st.slider("SIGKILLs of the pipeline", 0, 3, 1, key="kills", bind=BIND,
                      help="Each lands mid-round, while outputs are written but not committed.")
    broker = st.checkbox("Then kill an output leader broker", value=True, key="kill_broker", bind=BIND,
                         help=f"SIGKILL the leader of output partition 0, start it again "
                              f"{pipeline_run.BROKER_DOWN_S:g} s later: leadership and possibly the "
                              "transaction coordinator move.")
    return eos_settings.PipelineSettings(modes=mode, records=records, rate_per_s=rate,
                                         commit_interval_ms=interval, kills=kills, kill_broker=broker)


FORMS = {"eos.idempotent": idempotent_form, "eos.transactional": transactional_form,
         "eos.fencing": fencing_form, "eos.pipeline": pipeline_form}


# --- drawing ----------------------------------------------------------------------------------------
def draw_duplicates(res: duplicates.DuplicateResult, final: bool) -> None:
    frame, bands = charts_eos.seconds_frame(res), charts_eos.fault_bands(res)
    if not frame.empty:
        st.markdown("**Acknowledged records per second** — shaded: the leader frozen; red triangles: requests "
                    "that timed out on the client (each one is sent again)")
        show_chart(charts_eos.acked_per_second(frame, bands), "acked-per-second", key="eos_acked")
    rows = []
    for r in res.runs:
        t = r.total()
        rows.append({"producer": r.label, "sent": r.sent, "acknowledged": r.acked, "failed": r.failed,
                     "request timeouts": r.timeouts, "in the log": t.records if r.read_back else None,
                     "duplicates": t.duplicates if r.read_back else None, "gaps": t.gaps if r.read_back else None,
                     "lost": t.lost if r.read_back else None,
                     "order violations": t.order_violations if r.read_back else None,
                     "producer id / epoch": text_eos.identity(r.identity)})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    counts = charts_eos.counts_frame(res)
    if final and not counts.empty:
        st.markdown("**What each producer left in the log**")
        show_chart(charts_eos.counts_chart(counts), "records-in-the-log", key="eos_counts")
        for r in res.runs:
            if r.read_back and r.total().duplicates:
                shown = ", ".join(f"#{n} ×{c}" for p in r.partitions for n, c in list(p.duplicated.items())[:10])
                st.caption(f"{r.label}: numbers written more than once (first ones): {shown}")
        st.caption("enable.idempotence=true enforces acks=all, max.in.flight ≤ 5 and retries > 0; librdkafka "
                   "gets a producer id (PID) and epoch from the cluster and numbers every batch per partition.")


def draw_transactions(res: transactions.TransactionResult, final: bool) -> None:
    frame = charts_eos.offsets_frame(res)
    if not frame.empty:
        st.markdown("**High watermark vs last stable offset per partition** — shaded: the last transaction open; "
                    "the read_committed consumer waits at the LSO")
        show_chart(charts_eos.hw_vs_lso(frame, charts_eos.open_band(res)), "hw-vs-lso", key="eos_hw_lso")
    if res.outcomes:
        st.dataframe(pd.DataFrame([{
            "transaction": o.index, "outcome": "committed" if o.committed else "aborted",
            "records": sum(o.records.values()),
            "offsets taken": sum(o.offsets_taken.values()) if o.offsets_taken else None,
            "per partition": " ".join(f"p{p}: {n} rec → {o.offsets_taken.get(p, '?')} offsets"
                                      for p, n in sorted(o.records.items())),
            "commit/abort (ms)": o.end_ms} for o in res.outcomes]), hide_index=True, width="stretch")
    if final and res.read_committed is not None:
        c = st.columns(4)
        c[0].metric("read_committed reads", res.read_committed)
        c[1].metric("read_uncommitted reads", res.read_uncommitted)
        c[2].metric("aborted, seen by read_committed", res.aborted_seen_committed)
        c[3].metric("aborted, seen by read_uncommitted", res.aborted_seen_uncommitted)
        st.caption("Offsets holding a control marker (no record): " + ", ".join(
            f"p{p}: {n} (expected {res.expected_markers.get(p)})" for p, n in sorted(res.marker_offsets.items()))
            + f". Producer: {text_eos.identity(res.identity)}; "
            + text_eos.epoch_line(res.identity, len(res.outcomes)) + ".")


def draw_fencing(res: fencing.FencingResult) -> None:
    c = st.columns(3)
    c[0].metric("zombie epoch", res.zombie.producer_epoch if res.zombie else "—")
    c[1].metric("successor epoch", res.successor.producer_epoch if res.successor else "—")
    c[2].metric("zombie's next call", res.fenced_error or "not fenced")
    if res.fenced:
        # the lesson, not a failure: the broker refused the old epoch, as it must
        st.success(f"Zombie fenced on {res.fenced_on}, as it should be: {res.fenced_message}")
    if res.zombie_committed is not None:
        st.dataframe(pd.DataFrame([
            {"producer": "zombie (aborted by the fence)", "read_committed": res.zombie_committed,
             "read_uncommitted": res.zombie_uncommitted},
            {"producer": "successor (committed)", "read_committed": res.successor_committed,
             "read_uncommitted": res.successor_uncommitted}]), hide_index=True, width="stretch")
    if res.steps:
        st.dataframe(pd.DataFrame([{"t (s)": s.t, "step": s.label} for s in res.steps]), hide_index=True)


def draw_pipeline(res: pipeline_run.PipelineResult, final: bool) -> None:
    frame = charts_eos.pipeline_timeline_frame(res)
    if not frame.empty:
        st.markdown("**Offsets over time** (all partitions) — red: the pipeline process SIGKILLed")
        show_chart(charts_eos.pipeline_timeline(frame, charts_eos.kills_frame(res)), "pipeline-offsets",
                   key="eos_pipeline_offsets")
    counts = charts_eos.pipeline_counts_frame(res)
    if final and not counts.empty:
        st.markdown("**Input vs output (read_committed), duplicates and missing, per mode**")
        show_chart(charts_eos.pipeline_counts(counts), "pipeline-counts", key="eos_pipeline_counts")
        st.dataframe(pd.DataFrame([{"mode": r.mode, "input": r.input_records, "output": r.output_records,
                                    "duplicates": r.duplicates, "missing": r.missing, "processes": r.processes,
                                    "broker killed": r.broker_killed,
                                    "exit codes": " ".join(map(str, r.exit_codes))} for r in res.runs]),
                     hide_index=True, width="stretch")


def draw(res: Any, final: bool) -> None:
    if isinstance(res, duplicates.DuplicateResult):
        draw_duplicates(res, final)
    elif isinstance(res, transactions.TransactionResult):
        draw_transactions(res, final)
    elif isinstance(res, fencing.FencingResult):
        draw_fencing(res)
    elif isinstance(res, pipeline_run.PipelineResult):
        draw_pipeline(res, final)


# --- layout ---------------------------------------------------------------------------------------
with st.sidebar:
    kind = link.choice(st.radio, "Scenario", SCENARIOS, key="eos_kind", ids=link.spec.modes)
    try:
        settings = FORMS[kind]()
        bad: LabError | None = None
    except LabError as exc:
        settings, bad = None, exc
    runner = PageRunner("eos", cluster, SCENARIOS, key="eos")
    runner.controls((lambda: (experiments.get(kind), settings)) if settings is not None else None,
                    invalid=fields.invalid() or bad)
    link.finish()

st.caption(about.ABOUT[kind])  # what the chosen scenario shows, next to it (not collapsed at the bottom)
runner.show(lambda r: draw(r, True), lambda p: draw(p, False),
            idle="Choose a scenario in the sidebar and press **Run**.")
