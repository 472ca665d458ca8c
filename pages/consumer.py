"""Phase 5 — consumer tuning: fetch parameters, assignment strategies, rebalances and static membership,
measured on the real cluster. Sidebar knobs -> one settings object -> one registered experiment (in the
background, PageRunner) -> lab.consumer.charts / lab.consumer.charts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lab import LabError
from lab import registry as experiments
from lab.cluster import Cluster
from lab.consumer import charts as consumer_charts
from lab.consumer import charts as group_charts
from lab.consumer import fetch, protocols
from lab.consumer import sweep as consumer_sweep
from lab.consumer import text as consumer_text
from lab.consumer.fetch import BenchProgress, BenchResult, BenchSettings, SeedResult, SeedSettings
from lab.consumer.perftest import ConsumerCrossCheckResult, ConsumerCrossCheckSettings
from lab.consumer.protocols import NEW_PROTOCOL_VERSION, ProtocolsResult, ProtocolsSettings
from lab.consumer.settings import STRATEGIES, ConsumerSettings
from lab.consumer.static import CASES, StaticProgress, StaticResult, StaticSettings
from lab.consumer.strategies import StrategiesProgress, StrategiesResult, StrategiesSettings
from lab.consumer.sweep import ConsumerSweepProgress, ConsumerSweepResult, ConsumerSweepSettings
from lab.core.errors import SettingsError
from lab.core.verdict import Doubt
from lab.export.pages import MIN_BYTES, PARTITION_BYTES, PROCESS_CHOICES, QUEUED_MIN, processes_members, sweep_members
from lab.registry import Experiment
from pages._charts import show_chart
from pages._fields import Fields
from pages._links import PageLink
from pages._present import lesson_panel
from pages._runner import PageRunner
from pages._shared import require_reachable, show_error

MODES = {
    "consumer.benchmark": "Fetch benchmark (one run)",
    "consumer.sweep": "Fetch sweep",
    "consumer.cross-check": "Cross-check with kafka-consumer-perf-test",
    "consumer.strategies": "Assignment strategies & rebalances",
    "consumer.static-membership": "Static membership",
    "consumer.protocols": "Classic vs consumer protocol (KIP-848, Kafka 4.x)",
    "consumer.seed": "Seed the lab-consumer-tuning topic",
}
SWEEPS = {"fetch-matrix": "fetch.min.bytes x fetch.wait.max.ms", "partition-fetch": "max.partition.fetch.bytes",
          "profiles": "low latency vs high throughput"}
#: The knobs are bound to the address bar (the key is the link parameter).
BIND = "query-params"

st.title("Consumer tuning")
st.caption(
    "How fast a consumer reads depends on how much each fetch brings back and how long the broker may hold "
    "it; how a group shares partitions decides who stops reading, and for how long, when members come and "
    "go. Everything below is measured on the real cluster: throughput from the messages consumed, fetch "
    "counts from librdkafka's statistics, pauses from the rebalance callbacks."
)
cluster = require_reachable()
lesson_panel("consumer", cluster)
link = PageLink("consumer")
fields = Fields("consumer")

sb = st.sidebar
sb.header("Consumer")
mode = link.choice(sb.selectbox, "Experiment", MODES, key="consumer_mode", ids=link.spec.modes)

sb.subheader("Fetch parameters")
min_bytes = sb.select_slider("fetch.min.bytes", MIN_BYTES, 1, key="fetch_min_bytes", bind=BIND)
sb.caption("The broker answers a fetch only once this many bytes are ready (or the wait below ran out). "
           "Bigger: fewer, fuller fetches, but a message may wait for company.")
wait_ms = fields.number(sb, "fetch.wait.max.ms", key="fetch_wait_ms")
sb.caption("How long the broker may hold a fetch to collect fetch.min.bytes (Java calls it fetch.max.wait.ms). "
           "The upper bound of that wait is added to latency on a quiet topic.")
part_bytes = sb.select_slider("max.partition.fetch.bytes", PARTITION_BYTES, 1_048_576, key="partition_bytes", bind=BIND)
sb.caption("Most bytes one fetch brings per partition: the size of each bite of a backlog.")
queued_min = sb.select_slider("queued.min.messages", QUEUED_MIN, 100_000, key="queued_min", bind=BIND)
sb.caption("The client's own prefetch (librdkafka): once a partition's local queue holds this many messages it "
           "stops fetching it for fetch.queue.backoff.ms (1 s). At the default one Python consumer reading a backlog "
           "spends much of its time waiting on this pause, not computing; 1 000 000 keeps the queue fed.")
live_rate = fields.number(sb, "Live producer (msg/s, 0 = read the seeded backlog)", key="rate")
sb.caption("With a rate, a producer writes to a fresh topic while the consumer tails it, and end-to-end latency "
           "(record timestamp to consumed) is measured. Without one, the benchmark reads "
           f"`{fetch.SEED_TOPIC}` from the start for {fetch.BACKLOG_S:g} s (timed from the first message), and "
           "seeds it first when it holds too little; the fetch matrix always runs live "
           f"({consumer_sweep.DEFAULT_RATE} msg/s unless a rate is set).")
duration = fields.number(sb, "Seconds per run (live)", key="duration_s")
procs = "auto"
if mode in ("consumer.benchmark", "consumer.sweep", "consumer.cross-check"):
    procs = sb.select_slider("Consumer processes", PROCESS_CHOICES, "auto", key="processes", bind=BIND)
    sb.caption("Reading the backlog: consumer processes sharing the topic's partitions (auto: one per core, at most "
               "one per partition; 1: one consumer in the lab's own process). One Python consumer is often the "
               "limit before the brokers are; a backlog sweep runs at 1 and at this many, side by side. The live "
               "mode runs one consumer.")

sb.subheader("Group")
strategy_pick = sb.multiselect("partition.assignment.strategy", list(STRATEGIES), list(STRATEGIES),
                               key="strategies", bind=BIND)
sb.caption("range: contiguous ranges per topic (uneven across topics); roundrobin: one by one over all topics; "
           "cooperative-sticky: keeps what it can and revokes only what moves.")
members = sb.slider("Group size (members at the start)", 1, 8, 2, key="members", bind=BIND)
sb.caption("One more member joins, later one leaves: each is a rebalance.")
delay = fields.number(sb, "Processing delay per message (ms)", key="delay_ms")
sb.caption("Simulated work per record: a slow consumer fetches less often and lags.")
protocol = sb.radio("group.protocol", ["classic", "consumer"], horizontal=True, key="protocol", bind=BIND)
sb.caption("classic: the members assign partitions among themselves; consumer (KIP-848): the broker assigns "
           "and sets the session and heartbeat timing. The new protocol needs brokers on Kafka 4.0 or later.")
with sb.expander("What group.protocol=consumer replaces"):
    st.markdown(consumer_text.new_protocol(markdown=True))


def protocol_cluster_panel() -> Cluster | None:
    """The protocol comparison on a 3.x app cluster: the lab's own 4.x cluster (its own state directory),
    used when it runs, with a button that starts it when it does not."""
    if mode != "consumer.protocols" or protocols.is_running_4x(cluster):
        return None
    c41 = protocols.protocol_cluster(protocols.protocol_state_dir())
    if protocols.is_running_4x(c41):
        sb.caption(f"Runs on the lab's {NEW_PROTOCOL_VERSION} cluster at `{c41.bootstrap_servers()}` "
                   f"(`{protocols.protocol_state_dir()}`). Stop it with `kafka-lab cluster down --state-dir "
                   f"{protocols.protocol_state_dir()}`.")
        return c41
    if sb.button(f"Start the lab's {NEW_PROTOCOL_VERSION} cluster", key="consumer_start41",
                 help="Three more brokers on this machine, in their own state directory, with the brokers' "
                      "consumer-group heartbeat (1 s) and session (10 s) lowered for the lab."):
        try:
            with st.spinner(f"Starting Kafka {NEW_PROTOCOL_VERSION} (about half a minute)…"):
                c41.up(timeout_s=240)
        except LabError as exc:
            show_error(exc)
            return None
        st.rerun()
    return None


target41 = protocol_cluster_panel()


def protocol_problem() -> LabError | None:
    """Why the new protocol cannot run here (None when it can, or is not asked for)."""
    if protocol == "classic" and mode != "consumer.protocols":
        return None
    if target41 is not None:
        return None
    version = cluster.status().kafka_version or "unknown"
    if not version.startswith(("4.", "5.")):
        return SettingsError(
            f"group.protocol=consumer (KIP-848) needs Kafka 4.0 or later; this cluster runs {version}.",
            hint=f"The broker takes over assignment and the session/heartbeat timing, which 3.x brokers do not do. "
                 f"Choose 'Classic vs consumer protocol' and start the lab's {NEW_PROTOCOL_VERSION} cluster from the "
                 "sidebar (or `kafka-lab consumer protocols --start-cluster`): it runs in its own state directory.")
    if protocol == "consumer" and mode not in ("consumer.protocols", "consumer.benchmark", "consumer.sweep"):
        return SettingsError("This experiment runs classic groups.",
                             hint="Choose 'Classic vs consumer protocol' to compare the two.")
    return None


def consumer_settings(rate: int) -> ConsumerSettings:
    return ConsumerSettings(fetch_min_bytes=int(min_bytes), fetch_wait_max_ms=int(wait_ms),
                            max_partition_fetch_bytes=int(part_bytes), queued_min_messages=int(queued_min),
                            processing_delay_ms=float(delay),
                            duration_s=float(duration) if rate else None, group_protocol=protocol)


sweep_kind = link.choice(sb.selectbox, "Sweep", SWEEPS, key="consumer_sweep", param="sweep") \
    if mode == "consumer.sweep" else "fetch-matrix"
#: the fetch matrix is about waiting for bytes, which only a live producer shows (its heatmaps are of latency)
sweep_rate = int(live_rate) or (consumer_sweep.DEFAULT_RATE if sweep_kind == "fetch-matrix" else 0)


def make() -> tuple[Experiment[Any, Any], Any]:
    exp = experiments.get(mode)
    if mode == "consumer.seed":
        return exp, SeedSettings()
    if mode == "consumer.benchmark":
        return exp, BenchSettings(consumer_settings(int(live_rate)), int(live_rate), members=processes_members(procs))
    if mode == "consumer.sweep":
        return exp, ConsumerSweepSettings(sweep_kind, BenchSettings(consumer_settings(sweep_rate), sweep_rate),
                                          members=sweep_members(sweep_rate, procs))
    if mode == "consumer.cross-check":
        return exp, ConsumerCrossCheckSettings(consumer_settings(0).replace(processing_delay_ms=0.0),
                                               members=processes_members(procs))
    if mode == "consumer.strategies":
        return exp, StrategiesSettings(tuple(strategy_pick), int(members), produce_rate=int(live_rate) or 200,
                                       processing_delay_ms=float(delay))
    if mode == "consumer.protocols":
        group = StrategiesSettings(("range",), int(members), produce_rate=int(live_rate) or 200,
                                   processing_delay_ms=float(delay))
        classic = next((x for x in strategy_pick), "range")
        return exp, ProtocolsSettings(group, classic_strategy=classic)
    return exp, StaticSettings(CASES, max(2, int(members) + 1), session_timeout_ms=10_000)


runner = PageRunner("consumer", target41 or cluster)
runner.controls(make, sb, invalid=fields.invalid() or protocol_problem())
link.finish(sb)


# --- results ----------------------------------------------------------------------------------------
def draw_verdict(verdict: tuple[Doubt, ...]) -> None:
    """The run's doubts (``lab.consumer.verdict``), or that no rule found one."""
    if not verdict:
        st.success("Verdict: no reason found to doubt these figures.")
        return
    st.warning(f"Verdict: {len(verdict)} reason(s) to doubt these figures:\n\n"
               + "\n".join(f"- **{d.code}**: {d.text}" for d in verdict))


def draw_bench(r: BenchResult) -> None:
    c = st.columns(5)
    c[0].metric("messages/s", f"{r.msgs_per_s:,.0f}")
    c[1].metric("MB/s", f"{r.mb_per_s:,.2f}")
    c[2].metric("fetch requests/s", f"{r.fetch.fetch_requests_per_s:,.1f}")
    c[3].metric("bytes per fetch", f"{r.fetch.bytes_per_fetch:,.0f}")
    c[4].metric("end-to-end p99", f"{r.e2e.p99_ms:,.1f} ms" if r.e2e and r.e2e.count else "—")
    s = r.settings.consumer
    read = (f"Read for {s.duration_s:g} s: {r.consumed:,} of the {r.expected:,} messages in `{r.topic}`"
            if not r.settings.live and s.count is None and s.duration_s
            else f"{r.consumed:,} of {r.expected:,} messages from `{r.topic}`")
    st.caption(f"{read} over {r.consume_s:.2f} s; joined the group in {r.join_s:.2f} s; throughput counted from "
               "the first message.")
    draw_verdict(r.verdict)
    lines = [(r.label if not r.members else f"all {r.processes} processes", r.samples),
             *((f"member {m.index}", m.samples) for m in r.members)]
    if r.members:
        st.caption(f"{r.processes} consumer processes, each assigned its share of the partitions, started in "
                   f"{r.join_s:.2f} s; the total counts from the first member's first message to the last one's "
                   "last. CPU s/s near 1 means that member's own loop was the limit.")
        st.dataframe(pd.DataFrame([{"member": m.index, "partitions": ", ".join(map(str, m.partitions)),
                                    "consumed": m.consumed, "msg/s": round(m.msgs_per_s), "CPU s/s": m.cpu_per_s,
                                    "first message s": m.first_message_s, "died": m.died or ""}
                                   for m in r.members]), hide_index=True, key="consumer_bench_members")
    left, right = st.columns(2)
    show_chart(consumer_charts.throughput_chart(consumer_charts.throughput_frame(lines)),
               "consumed-per-second", key="consumer_bench_tp", where=left)
    show_chart(consumer_charts.fetch_chart(consumer_charts.fetch_frame([r])), "fetch-requests",
               key="consumer_bench_fetch", where=right)


def draw_sweep(s: ConsumerSweepResult) -> None:
    if not s.runs:
        st.info("No run finished.")
        return
    frame = consumer_charts.rows_frame(s.runs)
    if s.settings.base.live:
        st.markdown("**The trade-off:** a fetch that waits for `fetch.min.bytes` makes fewer, fuller requests, and "
                    "every message in it waits up to `fetch.wait.max.ms` for company. At a low rate the bytes never "
                    "gather, so the wait is what you get.")
    if s.settings.kind == "fetch-matrix" and s.settings.base.live:
        left, right = st.columns(2)
        show_chart(consumer_charts.matrix_heatmap(frame, "p99_ms"), "p99-matrix", key="consumer_hm_p99", where=left)
        show_chart(consumer_charts.matrix_heatmap(frame, "fetch_requests_per_s"), "fetch-matrix",
                   key="consumer_hm_fetch", where=right)
    if s.settings.base.live:
        show_chart(consumer_charts.tradeoff_chart(frame), "fetch-tradeoff", key="consumer_tradeoff")
    if len(set(s.settings.members)) > 1:
        st.markdown("**One process or several?** The same fetch variants at each process count. Where one "
                    "process reads every variant alike and more processes read faster, the Python consumer was "
                    "the limit, not the fetch settings; where the bars of many processes differ, the fetch "
                    "settings start to matter.")
        show_chart(consumer_charts.scaling_chart(frame), "throughput-by-processes", key="consumer_scaling")
    else:
        show_chart(consumer_charts.bars_chart(frame), "throughput-per-variant", key="consumer_bars")
    st.dataframe(frame, hide_index=True, key="consumer_sweep_table")


def draw_strategies(r: StrategiesResult | ProtocolsResult) -> None:
    if isinstance(r, ProtocolsResult):
        st.caption(f"Kafka {r.kafka_version}; the brokers' group settings: "
                   + ", ".join(f"`{k}={v}`" for k, v in r.broker_configs.items()))
    if not r.runs:
        st.info("No strategy finished.")
        return
    frame = group_charts.pauses_frame(r)
    st.markdown("**Eager strategies revoke every partition on each rebalance; cooperative-sticky only what moves.**")
    show_chart(group_charts.pauses_chart(frame), "rebalance-pauses", key="consumer_pauses", width="content")
    st.dataframe(frame, hide_index=True, key="consumer_pauses_table")
    for i, run in enumerate(r.runs):
        show_chart(group_charts.group_chart(run.timeline, run.rebalances, title=run.strategy), f"group-{run.strategy}",
                   key=f"consumer_group_{i}")
        cols = st.columns(len(run.tables))
        for col, (stage, rows) in zip(cols, run.tables.items(), strict=True):
            col.caption(stage)
            col.table(pd.DataFrame([{"member": a.member, "partitions": ", ".join(a.partitions)} for a in rows]))


def draw_static(r: StaticResult) -> None:
    st.markdown("**Did the group rebalance when one member restarted?** The restarted member always sees its own "
                "revoke and assign (its consumer is new), so the verdict is the *other* members' callbacks and the "
                "generation. A static member (`group.instance.id`) back within `session.timeout.ms` gets its "
                "partitions back with neither; a dynamic one leaves and rejoins: two rebalances for everyone. The "
                "price of static membership: its partitions wait for it while it is away (`unowned_partition_s`).")
    st.dataframe(group_charts.static_frame(r), hide_index=True, key="consumer_static_table")
    for i, case in enumerate(r.cases):
        show_chart(group_charts.group_chart(case.timeline, title=case.case), f"group-{case.case}",
                   key=f"consumer_static_{i}")


def draw_result(result: object) -> None:
    if isinstance(result, BenchResult):
        draw_bench(result)
    elif isinstance(result, ConsumerSweepResult):
        draw_sweep(result)
    elif isinstance(result, (StrategiesResult, ProtocolsResult)):
        draw_strategies(result)
    elif isinstance(result, StaticResult):
        draw_static(result)
    elif isinstance(result, ConsumerCrossCheckResult):
        n = result.lab.processes if result.lab else 1
        one = result.one_process
        c = st.columns(5)
        c[0].metric(f"lab msg/s ({n} process{'es' if n > 1 else ''})",
                    f"{result.lab.msgs_per_s:,.0f}" if result.lab else "—")
        c[1].metric("lab msg/s (1 process)", f"{one.msgs_per_s:,.0f}" if one else "—")
        c[2].metric("perf tool fetch.nMsg.sec (1 JVM consumer)",
                    f"{result.perf.fetch_records_per_s:,.0f}" if result.perf else "—")
        c[3].metric(f"lab ({n}) / perf tool", f"{result.throughput_ratio:.2f}")
        c[4].metric("lab (1) / perf tool", f"{result.one_process_ratio:.2f}")
        if result.kafka_version:
            st.caption(f"The tool is Kafka {result.kafka_version}'s ConsumerPerformance; both count from the first "
                       "message (the group join left out). " + " ".join(result.notes))
    elif isinstance(result, SeedResult):
        st.metric("messages in the topic", f"{result.topic_messages or 0:,}")


def draw_partial(partial: object) -> None:
    if isinstance(partial, ConsumerSweepProgress):
        if partial.finished:
            draw_sweep(ConsumerSweepResult(partial.settings, partial.finished, len(partial.settings.variants())))
        partial = partial.current
    if isinstance(partial, BenchProgress) and partial.samples:
        total = partial.label if not partial.members else "all processes"
        show_chart(consumer_charts.throughput_chart(consumer_charts.throughput_frame(
            [(total, partial.samples), *partial.members]), title="Consumed per second (live)"),
            "consumed-per-second", key="consumer_live_tp")
    if isinstance(partial, (StrategiesProgress, StaticProgress)):
        title = partial.strategy if isinstance(partial, StrategiesProgress) else partial.case
        show_chart(group_charts.group_chart(partial.timeline, title=f"{title} (live)"), f"group-{title}",
                   key="consumer_live_group")


runner.show(draw_result, draw_partial)
