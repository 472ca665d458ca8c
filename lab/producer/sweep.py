"""Sweeps: several produce runs that differ in one or two knobs, as one experiment.

``SweepSettings(kind, base, ...)`` names the knob and the values it takes; ``variants()`` gives the
``ProducerSettings`` of each run (validated when the settings are made). ``run(cluster, settings, ctx)``
runs them one after another, each on its own fresh topic, reporting progress per run (``SweepProgress``);
a cancel or the time limit stops the sweep and returns the runs finished so far with ``stopped`` set.

- ``codec``: the five compression codecs (or a subset), each at its default level.
- ``batch``: linger.ms x batch.size — the quick 3 x 3 grid, the full 5 x 5, or explicit values.
- ``acks``: 0, 1 and all (idempotence only where acks=all allows it).
- ``presets``: the seeds' producer presets, each with the base's workload.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from lab.cluster.base import Cluster
from lab.core.context import ChildContext, RunContext
from lab.core.errors import Cancelled
from lab.core.results import Result
from lab.core.validate import is_whole, require
from lab.core.verdict import Doubt, others_running
from lab.kafka import topics
from lab.producer import run as produce
from lab.producer.run import ProduceProgress, ProduceResult
from lab.producer.settings import (
    ACKS,
    CODECS,
    MAX_BATCH_SIZE,
    MAX_LINGER_MS,
    MAX_RATE,
    PRESETS,
    ProducerSettings,
    check_limits,
)
from lab.producer.verdict import sweep_verdict

SWEEP_KINDS = ("codec", "batch", "acks", "presets")
#: The full linger.ms x batch.size grid (5 x 5): from "send at once" to the seeds' 10 ms and beyond, and
#: from 1 KiB to 256 KiB batches around the seeds' 16 KiB and 64 KiB.
BATCH_LINGERS_MS = (0.0, 1.0, 5.0, 10.0, 50.0)
BATCH_SIZES = (1_024, 4_096, 16_384, 65_536, 262_144)
#: The quick grid (3 x 3, the app's default): the same story in a third of the runs.
QUICK_BATCH_LINGERS_MS = (0.0, 5.0, 20.0)
QUICK_BATCH_SIZES = (4_096, 16_384, 65_536)
BATCH_GRIDS: dict[str, tuple[tuple[float, ...], tuple[int, ...]]] = {
    "quick": (QUICK_BATCH_LINGERS_MS, QUICK_BATCH_SIZES),
    "full": (BATCH_LINGERS_MS, BATCH_SIZES),
}
#: Most runs one sweep may plan: each is a fresh topic and a full run, so more is a mistake, not a study.
MAX_SWEEP_RUNS = 100
#: The workload fields a preset sweep takes from its base (the presets differ in the producer knobs only).
PRESET_WORKLOAD = ("message_size", "payload", "key_spread", "partitions", "replication_factor", "count",
                   "duration_s", "rate", "end_to_end", "topic_max_message_bytes", "delivery_timeout_ms")
#: Time bound of one run: its duration plus room for topic creation, flush and counting; or, for a
#: message count, a generous default.
RUN_SLACK_S = 30.0
COUNT_RUN_LIMIT_S = 120.0
#: Latency below saturation: after the cells' maximum-throughput runs, every cell runs again at one common
#: fixed rate for ``fixed_rate_s`` seconds. Chosen automatically as this share of the slowest cell's maximum,
#: so every cell sustains it with room to spare (its latency is service time, not queueing).
FIXED_RATE_SHARE = 0.5
#: Seconds of each fixed-rate run: 1 s of warm-up, then 2.5 s measured (the verdict trusts 2 s and more;
#: a 3 s run measured 2.00 s minus a few ms and was doubted as too short in every cell).
FIXED_RATE_S = 3.5
MIN_FIXED_RATE_S, MAX_FIXED_RATE_S = 1.5, 60.0
#: Most times one sweep may repeat each of its runs.
MAX_REPEATS = 10
#: The row figures a repeated cell reports as the median of its repeats, with their min..max as ``_lo``/``_hi``.
REPEATED_FIGURES = ("msgs_per_s", "mb_per_s", "p50_ms", "p99_ms")
#: ... and of the whole experiment on top.
EXPERIMENT_SLACK_S = 30.0


@dataclass(frozen=True)
class SweepSettings:
    """One sweep: which knob (``kind``), the workload and other knobs (``base``), and the values.

    - ``grid``: for ``batch``, "quick" (linger 0/5/20 ms x batch 4/16/64 KiB) or "full" (5 x 5);
      ``lingers_ms`` and ``batch_sizes`` replace the grid's values on their axis when given.
    - ``codecs``, ``acks``, ``presets``: a subset (in the order given) for their kind; empty = all.

    Values for another kind's axis are refused, so a setting never silently does nothing.
    """

    kind: str
    base: ProducerSettings
    grid: str = "quick"
    lingers_ms: tuple[float, ...] = ()
    batch_sizes: tuple[int, ...] = ()
    codecs: tuple[str, ...] = ()
    acks: tuple[str, ...] = ()
    presets: tuple[str, ...] = ()
    #: msg/s of the fixed-rate latency runs; None = FIXED_RATE_SHARE of the slowest cell's maximum
    fixed_rate: float | None = None
    fixed_rate_s: float = FIXED_RATE_S
    #: False: only the maximum-throughput runs (half the time, no latency below saturation)
    at_fixed_rate: bool = True
    #: each cell runs this many times, the order reversed every other round; the figures are the medians,
    #: their spread (min..max) drawn as whiskers and judged by the verdict
    repeats: int = 1

    def __post_init__(self) -> None:
        require(self.kind in SWEEP_KINDS, f"Sweep kind {self.kind!r} is not known.",
                f"Use one of: {', '.join(SWEEP_KINDS)}.")
        require(isinstance(self.base, ProducerSettings), "A sweep's base must be a ProducerSettings.",
                "Build the base with ProducerSettings(...) (or a preset) and sweep over it.")
        require(isinstance(self.grid, str) and self.grid in BATCH_GRIDS, f"Batch grid {self.grid!r} is not known.",
                "Use 'quick' (3 x 3: linger 0/5/20 ms x batch 4/16/64 KiB) or 'full' (5 x 5: linger 0/1/5/10/50 ms "
                "x batch 1 KiB..256 KiB).")
        axes = {"lingers_ms": "batch", "batch_sizes": "batch", "codecs": "codec", "acks": "acks",
                "presets": "presets"}
        for name, kind in axes.items():
            value = getattr(self, name)
            require(isinstance(value, (tuple, list)), f"{name} must be a list of values, not {value!r}.",
                    f"Give {name} as a list or tuple (empty = the default).")
            object.__setattr__(self, name, tuple(value))  # lists from a CLI or a form become tuples
            require(not value or self.kind == kind, f"{name} applies to the {kind} sweep, not to {self.kind}.",
                    f"Leave {name} empty for a {self.kind} sweep.")
            dupes = sorted({str(v) for v in value if list(value).count(v) > 1})
            require(not dupes, f"{name} lists {', '.join(dupes)} more than once.", "Give each value once.")
        for lg in self.lingers_ms:
            require(isinstance(lg, (int, float)) and not isinstance(lg, bool) and math.isfinite(lg)
                    and 0 <= lg <= MAX_LINGER_MS, f"linger.ms {lg!r} in lingers_ms is out of range.",
                    f"Use values from 0 to {MAX_LINGER_MS} ms.")
        object.__setattr__(self, "lingers_ms", tuple(float(lg) for lg in self.lingers_ms))
        for b in self.batch_sizes:
            require(is_whole(b) and 1 <= b <= MAX_BATCH_SIZE, f"batch.size {b!r} in batch_sizes is out of range.",
                    f"Use whole numbers of bytes from 1 to {MAX_BATCH_SIZE}.")
        for c in self.codecs:
            require(c in CODECS, f"{c!r} in codecs is not a codec.", f"Use some of: {', '.join(CODECS)}.")
        for a in self.acks:
            require(a in ACKS, f"acks={a!r} in acks is not valid.", f"Use some of: {', '.join(ACKS)}.")
        for p in self.presets:
            require(p in PRESETS, f"{p!r} in presets is not a producer preset.", f"Use some of: {', '.join(PRESETS)}.")
        require(self.fixed_rate is None or (isinstance(self.fixed_rate, (int, float))
                                            and not isinstance(self.fixed_rate, bool)
                                            and math.isfinite(self.fixed_rate) and 1 <= self.fixed_rate <= MAX_RATE),
                f"fixed rate {self.fixed_rate!r} msg/s is out of range.",
                f"Use 1 to {MAX_RATE:.0f} msg/s, or None to choose it from the cells' maxima.")
        require(isinstance(self.fixed_rate_s, (int, float)) and not isinstance(self.fixed_rate_s, bool)
                and MIN_FIXED_RATE_S <= self.fixed_rate_s <= MAX_FIXED_RATE_S,
                f"fixed-rate run length {self.fixed_rate_s!r} s is out of range.",
                f"Use {MIN_FIXED_RATE_S:g} to {MAX_FIXED_RATE_S:g} s.")
        require(isinstance(self.at_fixed_rate, bool), f"at_fixed_rate={self.at_fixed_rate!r} is not a yes/no value.",
                "Use True or False.")
        require(is_whole(self.repeats) and 1 <= self.repeats <= MAX_REPEATS,
                f"repeats={self.repeats!r} is out of range.", f"Use 1 to {MAX_REPEATS} runs of each cell.")
        planned = len(self.variants()) * self.repeats  # builds (and so validates) every run's settings
        require(planned <= MAX_SWEEP_RUNS, f"The sweep plans {planned} runs; at most {MAX_SWEEP_RUNS} are allowed.",
                "Sweep fewer values or repeat less (each run creates its own topic and takes its full count or "
                "duration).")

    @property
    def batch_grid(self) -> tuple[tuple[float, ...], tuple[int, ...]]:
        """The (linger.ms values, batch.size values) a batch sweep crosses."""
        lingers, sizes = BATCH_GRIDS[self.grid]
        return self.lingers_ms or lingers, self.batch_sizes or sizes

    def variants(self) -> list[ProducerSettings]:
        """The settings of each run, in order; each labelled for tables and charts."""
        base = self.base
        if self.kind == "codec":
            return [base.replace(compression=c, compression_level=-1, label=c) for c in self.codecs or CODECS]
        if self.kind == "batch":
            lingers, sizes = self.batch_grid
            return [base.replace(linger_ms=float(lg), batch_size=int(b), label=f"linger {lg:g} ms / batch {b}")
                    for lg in lingers for b in sizes]
        if self.kind == "acks":
            # idempotence needs acks=all: switch it off for the others so the comparison is about acks alone
            return [base.replace(acks=a, enable_idempotence=base.enable_idempotence and a == "all", label=f"acks={a}")
                    for a in self.acks or ACKS]
        workload = {k: getattr(base, k) for k in PRESET_WORKLOAD}
        return [PRESETS[n].replace(**workload, label=n) for n in self.presets or tuple(PRESETS)]

    def fixed_variants(self, rate: float) -> list[ProducerSettings]:
        """Each variant again at ``rate`` msg/s for ``fixed_rate_s`` seconds (same labels, same order)."""
        return [v.replace(rate=float(rate), count=None, duration_s=float(self.fixed_rate_s)) for v in self.variants()]


@dataclass(frozen=True)
class SweepProgress:
    """The live partial result of a sweep: the runs finished so far and the current run's progress."""

    settings: SweepSettings
    finished: tuple[ProduceResult, ...]
    total: int
    current: ProduceProgress | None = None

    @property
    def kind(self) -> str:
        return self.settings.kind


@dataclass(frozen=True)
class SweepResult(Result):
    """Several produce runs that differ in one or two knobs (``stopped``: why the sweep ended early)."""

    settings: SweepSettings
    runs: tuple[ProduceResult, ...]
    planned: int
    elapsed_s: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: the sweep's own reasons to doubt it (``lab.verdict``); each run keeps its own in ``runs[i].verdict``
    verdict: tuple[Doubt, ...] = ()
    #: the common rate of the latency runs (msg/s), and those runs, in the order of ``runs``
    fixed_rate: float | None = None
    fixed: tuple[ProduceResult, ...] = ()
    #: with ``settings.repeats`` > 1: every repeat of each cell of ``runs`` (and of ``fixed``), same order;
    #: ``runs[i]`` is then the repeat with the median msg/s (``fixed[i]``: the median p99)
    repeats: tuple[tuple[ProduceResult, ...], ...] = ()
    fixed_repeats: tuple[tuple[ProduceResult, ...], ...] = ()

    @property
    def kind(self) -> str:
        """"codec", "batch", "acks" or "presets"."""
        return self.settings.kind

    def repeats_of(self, i: int) -> tuple[ProduceResult, ...]:
        return self.repeats[i] if i < len(self.repeats) else (self.runs[i],)

    def rows(self) -> list[dict[str, Any]]:
        """One row per cell: its maximum-throughput figures, then (``fixed_*``) its latency at the fixed rate."""
        out = []
        for i, r in enumerate(self.runs):
            row = r.row()
            reps = self.repeats_of(i)
            if len(reps) > 1:
                row["repeats"] = len(reps)
            _spread_into(row, [x.row() for x in reps], REPEATED_FIGURES)
            f = self.fixed[i] if i < len(self.fixed) else None
            row.update(fixed_rate=self.fixed_rate, **_fixed_figures(f),
                       fixed_doubts="" if f is None else ", ".join(d.code for d in f.verdict))
            if f is not None and i < len(self.fixed_repeats):
                _spread_into(row, [_fixed_figures(x) for x in self.fixed_repeats[i]], ("fixed_p50_ms", "fixed_p99_ms"))
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fixed_figures(f: ProduceResult | None) -> dict[str, float]:
    """A fixed-rate run's latency figures (its intended-time latency when measured: no coordinated omission)."""
    lat = None if f is None else (f.intended_latency or f.latency)
    return {"fixed_p50_ms": math.nan if lat is None else lat.p50_ms,
            "fixed_p99_ms": math.nan if lat is None else lat.p99_ms}


def _spread_into(row: dict[str, Any], reps: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    """With several repeats: ``row[k]`` becomes their median, ``k_lo``/``k_hi`` their min and max."""
    if len(reps) < 2:
        return
    for k in keys:
        vals = [float(x[k]) for x in reps if x.get(k) is not None and math.isfinite(float(x[k]))]
        if vals:
            row[k], row[f"{k}_lo"], row[f"{k}_hi"] = statistics.median(vals), min(vals), max(vals)


def median_run(reps: list[ProduceResult], key: Any) -> ProduceResult:
    """The repeat whose ``key`` is the (lower) median: a real run, so all its figures belong together."""
    ordered = sorted(reps, key=key)
    return ordered[(len(ordered) - 1) // 2]


class _Slice(ChildContext):
    """One run's view of a sweep's context: its progress becomes a slice of the sweep's bar."""

    def __init__(self, parent: RunContext, index: int, settings: SweepSettings, total: int,
                 finished: list[ProduceResult]) -> None:
        super().__init__(parent)
        self._index, self._settings, self._total, self._finished = index, settings, total, finished

    def report(self, fraction: float | None = None, message: str = "", partial: Any = None) -> None:
        frac = (self._index + (fraction or 0.0)) / self._total
        self.parent.report(frac, f"run {self._index + 1}/{self._total} — {message}",
                           SweepProgress(self._settings, tuple(self._finished), self._total,
                                         partial if isinstance(partial, ProduceProgress) else None))


def run(cluster: Cluster, settings: SweepSettings, ctx: RunContext) -> SweepResult:
    """Run each variant on its own fresh topic, one after another; then (``at_fixed_rate``) each again at one
    common rate, for its latency below saturation (see the module docstring)."""
    variants = settings.variants()
    limits = topics.cluster_limits(cluster)
    for v in variants:  # an impossible variant is refused before the first run makes a topic
        check_limits(v, limits)
    t0 = time.perf_counter()
    per_phase = len(variants) * settings.repeats
    total = per_phase * (2 if settings.at_fixed_rate else 1)
    cells, stopped = _run_all(cluster, settings, variants, ctx, 0, total, [])
    cells = [c for c in cells if c]
    finished = [median_run(c, lambda r: r.msgs_per_s) for c in cells]
    fixed_rate: float | None = None
    fixed_cells: list[list[ProduceResult]] = []
    if settings.at_fixed_rate and stopped is None and finished:
        fixed_rate = settings.fixed_rate or common_rate([r.msgs_per_s for r in finished])
        fixed_cells, stopped = _run_all(cluster, settings, settings.fixed_variants(fixed_rate), ctx, per_phase,
                                        total, finished)
        fixed_cells = [c for c in fixed_cells if c]
    fixed = [median_run(c, lambda r: _fixed_figures(r)["fixed_p99_ms"]) for c in fixed_cells]
    done = sum(map(len, cells)) + sum(map(len, fixed_cells))
    ctx.report(1.0 if stopped is None else None, f"{done}/{total} runs done",
               SweepProgress(settings, tuple(finished), len(variants)))
    many = settings.repeats > 1
    out = SweepResult(settings, tuple(finished), len(variants), time.perf_counter() - t0, stopped=stopped,
                      fixed_rate=fixed_rate, fixed=tuple(fixed),
                      repeats=tuple(tuple(c) for c in cells) if many else (),
                      fixed_repeats=tuple(tuple(c) for c in fixed_cells) if many else ())
    return replace(out, verdict=sweep_verdict(out, others_running(ctx, cluster.lock_holder())))


def _run_all(cluster: Cluster, settings: SweepSettings, variants: list[ProducerSettings], ctx: RunContext,
             offset: int, total: int, shown: list[ProduceResult]) -> tuple[list[list[ProduceResult]], str | None]:
    """Run every variant ``settings.repeats`` times, in order and then in reverse order every other round
    (so a drift of the machine does not favour the first cells); progress slices ``offset``.. of ``total``.
    Each variant's results, and why it stopped."""
    cells: list[list[ProduceResult]] = [[] for _ in variants]
    live: list[ProduceResult] = shown or []  # what the live view shows as the finished cells (first round)
    n = offset
    for rnd in range(settings.repeats):
        order = range(len(variants)) if rnd % 2 == 0 else range(len(variants) - 1, -1, -1)
        ctx.report(n / total, f"creating {len(variants)} fresh topics", SweepProgress(settings, tuple(live), total))
        try:  # the round's topics in one go (each run deletes its own when done)
            made = topics.fresh_topics(cluster, [(variants[i].partitions, variants[i].replication_factor,
                                                  variants[i].topic_configs()) for i in order],
                                       purpose="a produce sweep", ctx=ctx)
        except Cancelled:
            return cells, ctx.stopped_text()
        unused = list(made)
        try:
            for i, topic in zip(order, made, strict=True):
                if ctx.cancelled:
                    return cells, ctx.stopped_text()
                try:
                    result = produce.run(cluster, variants[i], _Slice(ctx, n, settings, total, live), topic=topic)
                except Cancelled:  # cancelled before it began: nothing measured in this run
                    return cells, ctx.stopped_text()
                unused.remove(topic)  # (the run deleted it; on an error it is deleted below, harmlessly again)
                n += 1
                cells[i].append(result)
                if rnd == 0 and not shown:
                    live.append(result)
                if result.stopped and ctx.cancelled:
                    return cells, result.stopped
        finally:
            topics.delete_topics(cluster, unused)  # a stopped sweep leaves none of its topics behind
    return cells, None


def common_rate(maxima: list[float]) -> float:
    """FIXED_RATE_SHARE of the slowest cell's maximum, rounded down to two significant digits (>= 1 msg/s)."""
    slowest = min((m for m in maxima if m > 0), default=1.0) * FIXED_RATE_SHARE
    digits = max(0, int(math.floor(math.log10(slowest))) - 1) if slowest >= 1 else 0
    return float(max(1.0, math.floor(slowest / 10**digits) * 10**digits))


def time_limit_for(settings: ProducerSettings | SweepSettings, runs: int = 1) -> float:
    """A generous time bound (seconds) for ``runs`` produce runs of ``settings``, or for a whole sweep
    (then ``runs`` is its number of variants)."""
    if isinstance(settings, SweepSettings):
        cells = len(settings.variants()) * settings.repeats
        fixed = cells * (settings.fixed_rate_s + RUN_SLACK_S) if settings.at_fixed_rate else 0.0
        return time_limit_for(settings.base, cells) + fixed
    per_run = (settings.duration_s + RUN_SLACK_S) if settings.duration_s is not None else COUNT_RUN_LIMIT_S
    return per_run * runs + EXPERIMENT_SLACK_S


__all__ = [
    "BATCH_GRIDS", "BATCH_LINGERS_MS", "BATCH_SIZES", "QUICK_BATCH_LINGERS_MS", "QUICK_BATCH_SIZES", "SWEEP_KINDS",
    "FIXED_RATE_SHARE", "FIXED_RATE_S", "SweepProgress", "SweepResult", "SweepSettings", "common_rate", "run",
    "time_limit_for",
]
