"""Phase 4 — producer tuning: acks, compression and batching, with honest throughput and latency.
Sidebar knobs -> one ProducerSettings -> lab.produce (in the background) -> lab.charts."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lab import LabError, charts, experiment, produce
from lab.experiment import Run
from lab.produce import ProduceProgress, ProduceResult, SweepProgress, SweepResult
from lab.settings import ACKS, CODECS, PAYLOADS, PRESETS, ProducerSettings
from pages._shared import require_reachable, show_error

#: How often the live view redraws while a run goes on (seconds).
LIVE_REFRESH_S = 1.0
RUN_KEY = "producer_run"
MODES = {
    "single": "One run",
    "codec": "Codec comparison (all five)",
    "batch": "linger.ms x batch.size matrix",
    "acks": "acks 0 / 1 / all",
    "presets": "The four presets side by side",
}
BATCH_CHOICES = [1, 1_024, 4_096, 16_384, 32_768, 65_536, 131_072, 262_144, 1_000_000]

st.title("Producer tuning")
st.caption(
    "Produce to a fresh topic on the real cluster and see what each knob does to throughput and to the "
    "time from send to acknowledgement. Latency comes from librdkafka's delivery reports; batch sizes, "
    "requests and the compression ratio from its statistics."
)
cluster = require_reachable()

# --- sidebar: the knobs -------------------------------------------------------------------------
sb = st.sidebar
sb.header("Producer")
mode = sb.selectbox("Experiment", list(MODES), format_func=MODES.__getitem__, key="producer_mode",
                    help="A sweep runs one experiment per variant, each on its own fresh topic.")


def short_ms(value: float) -> str:
    """A latency that fits a metric tile on a projector: whole ms from 100 ms up, one decimal below."""
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def nearest_batch(size: int) -> int:
    return min(BATCH_CHOICES, key=lambda b: abs(b - size))


def apply_preset(p: ProducerSettings) -> None:
    """Put a preset's knobs into the widgets (their state lives in st.session_state under their keys)."""
    st.session_state.update({
        "producer_acks": p.acks, "producer_codec": p.compression, "producer_linger": float(p.linger_ms),
        "producer_batch": nearest_batch(p.batch_size), "producer_idempotence": p.enable_idempotence,
    })


def on_preset() -> None:
    apply_preset(PRESETS.get(st.session_state["producer_preset"], ProducerSettings()))


if "producer_acks" not in st.session_state:
    apply_preset(ProducerSettings())
start_from = sb.selectbox("Start from preset", ["(none)", *PRESETS], key="producer_preset", on_change=on_preset,
                          help="The course's profiles: choosing one sets the knobs below (and the preset's "
                               "retries, buffer and in-flight limits); change any knob afterwards.")
base_preset = PRESETS.get(start_from, ProducerSettings())

acks = sb.radio("acks", ACKS, horizontal=True, key="producer_acks")
sb.caption("How many replicas must have a message before it counts as sent: 0 = nobody waits (fastest, may "
           "lose data), 1 = the leader, all = every in-sync replica (slowest, survives a broker loss).")
codec = sb.selectbox("compression.type", CODECS, key="producer_codec")
sb.caption("Compresses whole batches: gzip and zstd shrink most but cost CPU, lz4 and snappy are quick. "
           "Bigger batches compress better.")
linger = sb.number_input("linger.ms", 0.0, 60_000.0, step=1.0, key="producer_linger")
sb.caption("How long a batch may wait for more messages. 0 sends at once (low latency, tiny batches); "
           "5-50 ms fills batches and raises throughput at the cost of that wait.")
batch = sb.select_slider("batch.size (bytes)", BATCH_CHOICES, key="producer_batch")
sb.caption("Upper bound of one partition's batch. A full batch is sent without waiting for linger.ms.")
idempotent = sb.checkbox("enable.idempotence", key="producer_idempotence",
                         help="No duplicates on retry; needs acks=all.")
size = sb.number_input("Message size (bytes)", 1, 1_000_000, 100, key="producer_size")
sb.caption("Value bytes per message. Small messages are bound by per-message cost, large ones by bandwidth.")
payload = sb.selectbox("Payload", PAYLOADS, key="producer_payload",
                       help="text and JSON compress well; random bytes do not compress at all.")
by = sb.radio("Run for", ["count", "duration"], horizontal=True, key="producer_by")
if by == "count":
    count: int | None = int(sb.number_input("Messages", 1, 10_000_000, 20_000, step=1_000, key="producer_count"))
    duration: float | None = None
else:
    count, duration = None, float(sb.number_input("Seconds", 0.5, 600.0, 5.0, key="producer_duration"))
rate = sb.number_input("Target rate (msg/s, 0 = as fast as possible)", 0, 1_000_000, 0, step=100, key="producer_rate")
sb.caption("With a rate, messages are sent on a schedule and latency is also measured from when each one "
           "*should* have been sent, so a stalled producer cannot hide its delay.")
e2e = sb.checkbox("End-to-end latency", False, key="producer_e2e",
                  help="Also consume the topic and time send -> consume on the same clock.")
full_grid = mode == "batch" and sb.checkbox(
    "Full 5 x 5 grid", False, key="producer_full_grid",
    help="linger.ms 0/1/5/10/50 x batch.size 1 KiB..256 KiB (25 runs) instead of the quick 3 x 3.")


def build_settings() -> ProducerSettings:
    return base_preset.replace(
        acks=acks, compression=codec, compression_level=-1, linger_ms=float(linger), batch_size=int(batch),
        enable_idempotence=bool(idempotent), message_size=int(size), payload=payload, count=count,
        duration_s=duration, rate=float(rate) if rate else None, end_to_end=bool(e2e), label="",
    )


def start_run(settings: ProducerSettings) -> Run[Any]:
    variants: list[ProducerSettings]
    if mode == "single":
        return experiment.start(lambda ctx: produce.run(cluster, settings, ctx),
                                time_limit_s=produce.time_limit_for(settings), name="produce run")
    if mode == "codec":
        variants = produce.codec_variants(settings)
    elif mode == "batch":
        variants = (produce.batch_variants(settings) if full_grid
                    else produce.batch_variants(settings, (0.0, 5.0, 20.0), (4_096, 16_384, 65_536)))
    elif mode == "acks":
        variants = produce.acks_variants(settings)
    else:
        variants = produce.preset_variants(settings)
    return experiment.start(lambda ctx: produce.sweep(cluster, variants, ctx, mode),
                            time_limit_s=produce.time_limit_for(settings, len(variants)), name=f"{mode} sweep")


cols = sb.columns(2)
current: Run[Any] | None = st.session_state.get(RUN_KEY)
running = current is not None and not current.done
if cols[0].button("Run", type="primary", key="producer_start", disabled=running):
    try:
        st.session_state[RUN_KEY] = current = start_run(build_settings())
        running = True
    except LabError as exc:
        show_error(exc)
if cols[1].button("Cancel", key="producer_cancel", disabled=not running) and current is not None:
    current.cancel()


# --- results --------------------------------------------------------------------------------------
def draw_single(r: ProduceResult) -> None:
    c = st.columns(5)
    c[0].metric("messages/s", f"{r.msgs_per_s:,.0f}")
    c[1].metric("MB/s", f"{r.mb_per_s:,.2f}")
    c[2].metric("p50 send->ack", short_ms(r.latency.p50_ms))
    c[3].metric("p99 send->ack", short_ms(r.latency.p99_ms))
    c[4].metric("compression ratio", f"{r.stats.compression_ratio:.2f}x")
    st.caption(f"{r.delivered:,} of {r.sent:,} acknowledged ({r.failed:,} failed) in {r.elapsed_s:.2f} s on topic "
               f"`{r.topic}`; {r.stats.avg_msgs_per_batch:,.1f} messages and {r.stats.avg_batch_bytes:,.0f} bytes "
               f"per batch, {r.stats.requests_per_s:,.0f} requests/s, broker round trip "
               f"{r.stats.broker_rtt_avg_ms:,.2f} ms.")
    if r.intended_latency is not None:
        st.caption(f"At the target rate: p99 from the intended send time {r.intended_latency.p99_ms:,.1f} ms vs "
                   f"{r.latency.p99_ms:,.1f} ms from the actual send (the difference is time the producer fell "
                   "behind its schedule).")
    if r.errors or r.client_errors:
        st.warning(f"Errors — delivery: {r.errors or 'none'}; client: {r.client_errors or 'none'}")
    for note in r.notes():
        st.info(note)
    left, right = st.columns(2)
    left.altair_chart(charts.throughput_chart(charts.samples_frame([(r.settings.name, r.samples)])),
                      width="stretch")
    right.altair_chart(charts.latency_chart(charts.latency_frame([r])), width="stretch")


def draw_sweep(s: SweepResult) -> None:
    if not s.runs:
        st.info("No run finished.")
        return
    frame = charts.sweep_frame(s)
    if s.kind == "codec":
        st.altair_chart(charts.codec_chart(frame))
    if s.kind == "batch":
        st.altair_chart(charts.batch_heatmap(frame), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(charts.tradeoff_chart(frame), width="stretch")
    right.altair_chart(charts.latency_chart(charts.latency_frame(s.runs)), width="stretch")
    st.altair_chart(charts.throughput_chart(charts.samples_frame([(r.settings.name, r.samples) for r in s.runs])),
                    width="stretch")
    st.dataframe(frame, hide_index=True, key="producer_table")


def draw_partial(partial: object) -> None:
    if isinstance(partial, SweepProgress):
        if partial.finished:
            draw_sweep(SweepResult(partial.kind, partial.finished, partial.total, 0.0))
        partial = partial.current
    if isinstance(partial, ProduceProgress) and partial.samples:
        st.altair_chart(charts.throughput_chart(charts.samples_frame([(partial.label, partial.samples)]),
                                                title="Throughput (live)"), width="stretch")


@st.fragment(run_every=LIVE_REFRESH_S)
def live() -> None:
    run: Run[Any] | None = st.session_state.get(RUN_KEY)
    if run is None:
        return
    if run.done:
        st.rerun()  # the whole page draws the final result
    p = run.progress()
    st.progress(p.fraction or 0.0, text=f"{p.message or 'starting…'} ({p.elapsed_s:.0f} s)")
    draw_partial(p.partial)


current = st.session_state.get(RUN_KEY)
if current is None:
    st.info("Set the knobs in the sidebar and press **Run**.")
elif not current.done:
    live()
    if current.done:  # finished between the button and here
        st.rerun()
elif current.error is not None:
    err = current.error
    show_error(err if isinstance(err, LabError) else LabError(f"The run failed: {err!r}"))
    st.caption("Partial results up to the failure:")
    draw_partial(current.progress().partial)
else:
    result = current.result
    if isinstance(result, ProduceResult):
        if result.stopped:
            st.warning(result.stopped)
        draw_single(result)
    elif isinstance(result, SweepResult):
        if result.stopped:
            st.warning(result.stopped)
        st.caption(f"{len(result.runs)}/{result.planned} runs in {result.elapsed_s:.1f} s, each on its own topic.")
        draw_sweep(result)
