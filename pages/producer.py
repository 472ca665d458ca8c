"""Phase 4 — producer tuning: acks, compression and batching, with honest throughput and latency.
Sidebar knobs -> one ProducerSettings -> lab.producer.run (in the background) -> lab.charts."""

from __future__ import annotations

from typing import Any

import streamlit as st

from lab import registry as experiments
from lab.core.verdict import Doubt
from lab.export.pages import BATCH_CHOICES, NO_PRESET
from lab.export.params import format_number
from lab.producer import charts
from lab.producer.run import ProduceProgress, ProduceResult
from lab.producer.settings import (
    ACKS,
    CODECS,
    PAYLOADS,
    PRESETS,
    ProducerSettings,
)
from lab.producer.sweep import SweepProgress, SweepResult, SweepSettings
from lab.registry import Experiment
from pages._charts import show_chart
from pages._fields import Fields
from pages._links import PageLink
from pages._present import lesson_panel
from pages._runner import PageRunner
from pages._shared import require_reachable

MODES = {
    "single": "One run",
    "codec": "Codec comparison (all five)",
    "batch": "linger.ms x batch.size matrix",
    "acks": "acks 0 / 1 / all",
    "presets": "The four presets side by side",
}
#: The knobs' defaults: ProducerSettings' own (a link leaves out every knob at its default).
DEFAULTS = ProducerSettings()
#: Bound to the address bar (the key is the link parameter): widget options=..., bind=BIND.
BIND = "query-params"

st.title("Producer tuning")
st.caption(
    "Produce to a fresh topic on the real cluster and see what each knob does to throughput and to the "
    "time from send to acknowledgement. Latency comes from librdkafka's delivery reports; batch sizes, "
    "requests and the compression ratio from its statistics."
)
cluster = require_reachable()
lesson_panel("producer", cluster)
link = PageLink("producer")
fields = Fields("producer")

# --- sidebar: the knobs -------------------------------------------------------------------------
sb = st.sidebar
sb.header("Producer")
mode = link.choice(sb.selectbox, "Experiment", MODES, key="producer_mode",
                   help="A sweep runs one experiment per variant, each on its own fresh topic.")


def short_ms(value: float) -> str:
    """A latency that fits a metric tile on a projector: whole ms from 100 ms up, one decimal below."""
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def nearest_batch(size: int) -> int:
    return min(BATCH_CHOICES, key=lambda b: abs(b - size))


def apply_preset(p: ProducerSettings) -> None:
    """Put a preset's knobs into the widgets (their state lives in st.session_state under their keys)."""
    st.session_state.update({
        "acks": p.acks, "codec": p.compression, "linger_ms": format_number(p.linger_ms),
        "batch_size": nearest_batch(p.batch_size), "idempotence": p.enable_idempotence,
    })


def on_preset() -> None:
    apply_preset(PRESETS.get(st.session_state["preset"], ProducerSettings()))


start_from = sb.selectbox("Start from preset", [NO_PRESET, *PRESETS], key="preset", on_change=on_preset, bind=BIND,
                          help="The course's profiles: choosing one sets the knobs below (and the preset's "
                               "retries, buffer and in-flight limits); change any knob afterwards.")
base_preset = PRESETS.get(start_from, ProducerSettings())

acks = sb.radio("acks", ACKS, ACKS.index(DEFAULTS.acks), horizontal=True, key="acks", bind=BIND)
sb.caption("How many replicas must have a message before it counts as sent: 0 = nobody waits (fastest, may "
           "lose data), 1 = the leader, all = every in-sync replica (slowest, survives a broker loss).")
codec = sb.selectbox("compression.type", CODECS, CODECS.index(DEFAULTS.compression), key="codec", bind=BIND)
sb.caption("Compresses whole batches: gzip and zstd shrink most but cost CPU, lz4 and snappy are quick. "
           "Bigger batches compress better.")
linger = fields.number(sb, "linger.ms", key="linger_ms")
sb.caption("How long a batch may wait for more messages. 0 sends at once (low latency, tiny batches); "
           "5-50 ms fills batches and raises throughput at the cost of that wait.")
batch = sb.select_slider("batch.size (bytes)", BATCH_CHOICES, DEFAULTS.batch_size, key="batch_size", bind=BIND)
sb.caption("Upper bound of one partition's batch. A full batch is sent without waiting for linger.ms.")
idempotent = sb.checkbox("enable.idempotence", DEFAULTS.enable_idempotence, key="idempotence", bind=BIND,
                         help="No duplicates on retry; needs acks=all.")
size = fields.number(sb, "Message size (bytes)", key="msg_size")
sb.caption("Value bytes per message. Small messages are bound by per-message cost, large ones by bandwidth.")
payload = sb.selectbox("Payload", PAYLOADS, PAYLOADS.index(DEFAULTS.payload), key="payload", bind=BIND,
                       help="text and JSON compress well; random bytes do not compress at all.")
by = sb.radio("Run for", ["count", "duration"], index=1, horizontal=True, key="run_for", bind=BIND,
              help="A duration gives every setting the same time to settle; the first second is warm-up and is "
                   "left out of the summary.")
if by == "count":
    count: int | None = int(fields.number(sb, "Messages", key="count"))
    duration: float | None = None
else:
    count, duration = None, float(fields.number(sb, "Seconds", key="duration_s"))
rate = fields.number(sb, "Target rate (msg/s, 0 = as fast as possible)", key="rate")
sb.caption("With a rate, messages are sent on a schedule and latency is also measured from when each one "
           "*should* have been sent, so a stalled producer cannot hide its delay.")
e2e = sb.checkbox("End-to-end latency", False, key="e2e", bind=BIND,
                  help="Also consume the topic and time send -> consume on the same clock.")
fixed_rate = 0 if mode == "single" else fields.number(
    sb, "Fixed rate for the latency figures (msg/s, 0 = half the slowest cell's maximum)", key="fixed_rate",
    help="After each cell's maximum-throughput run, every cell runs again at this common rate: the latency "
         "that linger.ms, batching, codecs and acks cost below saturation.")
repeats = 1 if mode == "single" else fields.number(
    sb, "Repeat each run (x N)", key="repeats",
    help="Each cell runs N times, the order reversed every other round; the figures are the medians and the "
         "charts draw the repeats' min..max as whiskers. The verdict flags cells whose repeats disagree.")
full_grid = mode == "batch" and sb.checkbox(
    "Full 5 x 5 grid", False, key="full_grid", bind=BIND,
    help="linger.ms 0/1/5/10/50 x batch.size 1 KiB..256 KiB (25 runs) instead of the quick 3 x 3.")


# Widgets take any value of the right type (no upper bound): ProducerSettings says what is allowed, so a
# value out of range is refused with its reason instead of being silently replaced by the last good one.
def build_settings() -> ProducerSettings:
    return base_preset.replace(
        acks=acks, compression=codec, compression_level=-1, linger_ms=float(linger), batch_size=int(batch),
        enable_idempotence=bool(idempotent), message_size=int(size), payload=payload, count=count,
        duration_s=duration, rate=float(rate) if rate else None, end_to_end=bool(e2e), label="",
    )


def make() -> tuple[Experiment[Any, Any], Any]:
    """The experiment and its one settings object for the chosen mode."""
    settings = build_settings()
    if mode == "single":
        return experiments.get("produce"), settings
    grid = "full" if full_grid else "quick"
    return experiments.get("produce.sweep"), SweepSettings(kind=mode, base=settings, grid=grid,
                                                           fixed_rate=float(fixed_rate) if fixed_rate else None,
                                                           repeats=int(repeats))


runner = PageRunner("producer", cluster)
runner.controls(make, sb, invalid=fields.invalid())
link.finish(sb)


# --- results --------------------------------------------------------------------------------------
def draw_verdict(verdict: tuple[Doubt, ...], what: str = "these figures") -> None:
    """The computed reasons to doubt a result, next to its figures (or that none was found)."""
    if not verdict:
        st.success(f"Verdict: no reason found to doubt {what}.")
        return
    st.warning(f"Verdict: {len(verdict)} reason(s) to doubt {what}:\n\n"
               + "\n".join(f"- **{d.code}**: {d.text}" for d in verdict))


def draw_single(r: ProduceResult) -> None:
    draw_verdict(r.verdict)
    c = st.columns(5)
    c[0].metric("messages/s", f"{r.msgs_per_s:,.0f}")
    c[1].metric("MB/s", f"{r.mb_per_s:,.2f}")
    c[2].metric("p50 send->ack", short_ms(r.latency.p50_ms))
    c[3].metric("p99 send->ack", short_ms(r.latency.p99_ms))
    c[4].metric("compression ratio", f"{r.stats.compression_ratio:.2f}x",
                help="Key+value bytes handed to the producer / record-batch bytes on the wire. Without a codec it "
                     "is a little below 1: record and batch framing add bytes.")
    not_sent = f", {r.not_sent:,} not sent: taken back by the stop" if r.not_sent else ""
    st.caption(f"{r.delivered:,} of {r.sent:,} acknowledged ({r.failed:,} failed{not_sent}) in {r.elapsed_s:.2f} s "
               f"on topic `{r.topic}`; {r.stats.avg_msgs_per_batch:,.1f} messages and "
               f"{r.stats.avg_batch_bytes:,.0f} bytes per batch, {r.stats.requests_per_s:,.0f} requests/s, "
               "broker round trip "
               f"{r.stats.broker_rtt_avg_ms:,.2f} ms.")
    if r.broker_limits is not None:
        lim = r.broker_limits
        st.caption(f"Size limits: the run's topic takes batches up to {r.settings.topic_limit_bytes:,} bytes "
                   f"(max.message.bytes, sized by the lab from the message); the brokers' message.max.bytes="
                   f"{lim.message_max_bytes:,} (for topics without their own), replica.fetch.max.bytes="
                   f"{lim.replica_fetch_max_bytes:,} (not a hard limit), socket.request.max.bytes="
                   f"{lim.socket_request_max_bytes:,} (the ceiling).")
    if r.warmup is not None:
        w = r.warmup
        st.caption(f"Figures above leave out the first {w.duration_s:.1f} s (warm-up: connections, metadata, first "
                   f"batches): {w.delivered:,} messages at {w.msgs_per_s:,.0f} msg/s, p99 {w.latency.p99_ms:,.1f} ms.")
    else:
        st.caption("The run ended within its warm-up, so the figures include connection set-up and first batches.")
    if r.intended_latency is not None:
        st.caption(f"At the target rate: p99 from the intended send time {r.intended_latency.p99_ms:,.1f} ms vs "
                   f"{r.latency.p99_ms:,.1f} ms from the actual send (the difference is time the producer fell "
                   "behind its schedule).")
    if r.errors or r.client_errors:
        st.warning(f"Errors — delivery: {r.errors or 'none'}; client: {r.client_errors or 'none'}")
    for note in r.notes():
        st.info(note)
    left, right = st.columns(2)
    show_chart(charts.throughput_chart(charts.samples_frame([(r.settings.name, r.samples)])), "throughput",
               key="producer_tp", where=left)
    show_chart(charts.latency_chart(charts.latency_frame([r])), "latency", key="producer_lat", where=right)


def draw_sweep(s: SweepResult) -> None:
    if not s.runs:
        st.info("No run finished.")
        return
    draw_verdict(s.verdict, "this sweep")
    frame = charts.sweep_frame(s)
    st.caption("**max messages/s**: each cell as fast as it goes (its latency there is mostly queueing). "
               + (f"**at {s.fixed_rate:,.0f} msg/s**: every cell again at that common rate, below saturation — "
                  "the latency the knob itself costs." if s.fixed_rate else "No fixed-rate latency was measured."))
    if s.kind == "codec":
        show_chart(charts.codec_chart(frame), "codecs", key="producer_codecs", width=None)
    if s.kind == "batch":
        show_chart(charts.batch_heatmap(frame), "batch-heatmap", key="producer_heatmap")
    left, right = st.columns(2)
    show_chart(charts.tradeoff_chart(frame), "tradeoff", key="producer_sweep_tradeoff", where=left)
    show_chart(charts.latency_chart(charts.latency_frame(s.runs)), "latency", key="producer_sweep_lat", where=right)
    show_chart(charts.throughput_chart(charts.samples_frame([(r.settings.name, r.samples) for r in s.runs])),
               "throughput", key="producer_sweep_tp")
    st.dataframe(charts.readable_table(frame), hide_index=True, key="producer_table")


def draw_partial(partial: object) -> None:
    if isinstance(partial, SweepProgress):
        if partial.finished:
            draw_sweep(SweepResult(partial.settings, partial.finished, partial.total, 0.0))
        partial = partial.current
    if isinstance(partial, ProduceProgress) and partial.samples:
        show_chart(charts.throughput_chart(charts.samples_frame([(partial.label, partial.samples)]),
                                           title="Throughput (live)"), "throughput", key="producer_live_tp")


def draw_result(result: object) -> None:
    if isinstance(result, ProduceResult):
        draw_single(result)
    elif isinstance(result, SweepResult):
        st.caption(f"{len(result.runs)}/{result.planned} runs in {result.elapsed_s:.1f} s, each on its own topic.")
        draw_sweep(result)


runner.show(draw_result, draw_partial)
