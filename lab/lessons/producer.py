"""Lessons of phase 4 from one codec sweep: which codec for a latency-sensitive system, which for a
bandwidth-constrained one (the course's first reflection question, in its two halves)."""

from __future__ import annotations

from dataclasses import dataclass

from lab.lessons.base import Choice, Figure, Finding, Lesson, TryNext, fmt_ms, pct
from lab.producer.run import ProduceResult
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepResult, SweepSettings

#: The codecs the lessons compare: no compression as the baseline, the quickest (lz4), the modern middle
#: (zstd) and the densest classic (gzip); snappy sits with lz4 and is left out to keep the run short.
CODECS = ("none", "lz4", "zstd", "gzip")
#: Seconds of each maximum-throughput run: 1 s of warm-up, then 2 s measured (the verdict trusts 2 s).
RUN_S = 3.0
#: One codec must be this much better than the next to count as shown (below it is noise on a shared machine).
LATENCY_MARGIN = 0.10
RATIO_MARGIN = 0.05
#: A payload that compresses by less than this does not show the bandwidth question at all.
MIN_USEFUL_RATIO = 1.2

PRESET = SweepSettings(kind="codec", base=ProducerSettings(count=None, duration_s=RUN_S, payload="json",
                                                           message_size=500),
                       codecs=CODECS)


@dataclass(frozen=True)
class _Cell:
    codec: str
    run: ProduceResult
    fixed: ProduceResult | None

    @property
    def p99(self) -> float | None:
        if self.fixed is None:
            return None
        lat = self.fixed.intended_latency or self.fixed.latency
        return lat.p99_ms if lat.count else None

    @property
    def p50(self) -> float | None:
        if self.fixed is None:
            return None
        lat = self.fixed.intended_latency or self.fixed.latency
        return lat.p50_ms if lat.count else None

    @property
    def wire_bytes_per_msg(self) -> float:
        return self.run.stats.wire_bytes / self.run.delivered if self.run.delivered else 0.0


def _cells(s: SweepResult) -> list[_Cell]:
    return [_Cell(r.settings.compression, r, s.fixed[i] if i < len(s.fixed) else None) for i, r in enumerate(s.runs)]


def _codec_figures(cells: list[_Cell]) -> list[Figure]:
    out: list[Figure] = []
    for c in cells:
        out += [Figure(f"{c.codec}.msgs_per_s", f"{c.codec}: max messages/s", round(c.run.msgs_per_s, 1), "msg/s"),
                Figure(f"{c.codec}.ratio", f"{c.codec}: compression ratio", round(c.run.stats.compression_ratio, 3)),
                Figure(f"{c.codec}.wire_bytes_per_msg", f"{c.codec}: bytes on the wire per message",
                       round(c.wire_bytes_per_msg, 1), "B")]
        if c.p99 is not None and c.p50 is not None:
            out += [Figure(f"{c.codec}.p50_ms", f"{c.codec}: p50 send→ack at the fixed rate", round(c.p50, 3), "ms"),
                    Figure(f"{c.codec}.p99_ms", f"{c.codec}: p99 send→ack at the fixed rate", round(c.p99, 3), "ms")]
    return out


def _workload(s: SweepResult) -> str:
    b = s.settings.base
    return (f"{b.message_size}-byte {b.payload} messages, acks={b.acks}, linger.ms={b.linger_ms:g}, each codec on "
            "its own fresh topic")


def _doubts(s: SweepResult, cells: list[_Cell]) -> list[str]:
    """The sweep's own doubts (other experiments alongside, repeats that disagree) and the compared runs'."""
    out = [d.text for d in s.verdict if d.code != "cells"]
    out += [f"{c.codec} at the fixed rate: {d.text}" for c in cells if c.fixed is not None for d in c.fixed.verdict]
    return out


# --- latency -------------------------------------------------------------------------------------------
def find_latency(s: SweepResult) -> Finding:
    cells = _cells(s)
    figures = _codec_figures(cells)
    if s.fixed_rate:
        figures.append(Figure("fixed_rate", "the common rate of the latency runs", float(s.fixed_rate), "msg/s"))
    sentences = [f"{len(cells)} codecs, {_workload(s)}."]
    timed = [c for c in cells if c.p99 is not None]
    if timed:
        sentences.append(f"At a common {s.fixed_rate or 0:,.0f} msg/s (below every codec's maximum), send→ack p50 / "
                         "p99: " + "; ".join(f"{c.codec} {fmt_ms(c.p50 or 0)} / {fmt_ms(c.p99 or 0)}"
                                              for c in timed) + ".")
    sentences.append("Maximum throughput: " + "; ".join(f"{c.codec} {c.run.msgs_per_s:,.0f} msg/s" for c in cells)
                     + ".")
    compressed = sorted((c for c in timed if c.codec != "none"), key=lambda c: c.p99 or 0.0)
    if len(compressed) < 2:
        return Finding(None, tuple(sentences), tuple(figures),
                       ("fewer than two codecs have latency measured at a fixed rate",))
    best, second = compressed[0], compressed[1]
    doubts = _doubts(s, [best, second])
    gap = pct(best.p99 or 0.0, second.p99 or 0.0)
    figures.append(Figure("p99_gap", f"how much lower {best.codec}'s p99 was than {second.codec}'s", round(gap, 3)))
    if gap < LATENCY_MARGIN:
        doubts.append(f"{best.codec}'s p99 ({fmt_ms(best.p99 or 0)}) is within {LATENCY_MARGIN:.0%} of "
                      f"{second.codec}'s ({fmt_ms(second.p99 or 0)}): on this machine the difference is noise")
    if doubts:
        return Finding(None, tuple(sentences), tuple(figures), tuple(doubts))
    sentences.append(f"Of the compressing codecs, {best.codec} had the lowest p99: {fmt_ms(best.p99 or 0)}, "
                     f"{gap:.0%} below {second.codec}.")
    return Finding(best.codec, tuple(sentences), tuple(figures))


# --- bandwidth -----------------------------------------------------------------------------------------
def find_bandwidth(s: SweepResult) -> Finding:
    cells = _cells(s)
    figures = _codec_figures(cells)
    sentences = [f"{len(cells)} codecs, {_workload(s)}.",
                 "Compression ratio (bytes handed over / bytes on the wire) and bytes per message on the wire: "
                 + "; ".join(f"{c.codec} {c.run.stats.compression_ratio:.2f}x, {c.wire_bytes_per_msg:,.0f} B"
                             for c in cells) + "."]
    ranked = sorted((c for c in cells if c.codec != "none"), key=lambda c: -c.run.stats.compression_ratio)
    if len(ranked) < 2:
        return Finding(None, tuple(sentences), tuple(figures), ("fewer than two compressing codecs ran",))
    best, second = ranked[0], ranked[1]
    ratio, runner_up = best.run.stats.compression_ratio, second.run.stats.compression_ratio
    doubts = []
    if ratio < MIN_USEFUL_RATIO:
        doubts.append(f"the best ratio was {ratio:.2f}x: this payload ({s.settings.base.payload}) hardly compresses, "
                      "so no codec saves bandwidth")
    elif ratio < runner_up * (1 + RATIO_MARGIN):
        doubts.append(f"{best.codec} ({ratio:.2f}x) and {second.codec} ({runner_up:.2f}x) are within "
                      f"{RATIO_MARGIN:.0%} of each other")
    if doubts:
        return Finding(None, tuple(sentences), tuple(figures), tuple(doubts))
    sentences.append(f"{best.codec} shrank the data most: {ratio:.2f}x against {second.codec}'s {runner_up:.2f}x, "
                     f"at {best.run.msgs_per_s:,.0f} msg/s flat out.")
    return Finding(best.codec, tuple(sentences), tuple(figures))


_CHOICES = tuple(Choice(c, c if c != "none" else "none (no compression)") for c in CODECS if c != "none")
_RANDOM = SweepSettings(kind="codec", base=PRESET.base.replace(payload="random"), codecs=CODECS)
_BIG = SweepSettings(kind="codec", base=PRESET.base.replace(message_size=5000), codecs=CODECS)
_LINGER = SweepSettings(kind="codec", base=PRESET.base.replace(linger_ms=50.0), codecs=CODECS)

CODEC_LATENCY = Lesson(
    id="codec-latency", phase=4, page="producer", title="A codec for a latency-sensitive system",
    question="Which compression codec would you choose for a latency-sensitive system?",
    source="Practice 003e, phase 6 reflection (phase 4's compression benchmark answers it)",
    choices=_CHOICES, experiment="produce.sweep", settings=PRESET, find=find_latency,
    why=("Why: compression happens per batch on the producer and decompression on the consumer, so a codec adds its "
         "CPU time to every message's trip. lz4 (and snappy) are built for speed; gzip spends the most CPU per byte. "
         "Latency is compared at one common rate below every codec's maximum, so it is the codec's own cost and not "
         "queueing."),
    try_next=(
        TryNext("linger.ms=50", _LINGER, "every codec waits for fuller batches: latency grows by about the linger, "
                "and ratios improve (bigger batches compress better)."),
        TryNext("5000-byte messages", _BIG, "more bytes per message to compress: the CPU cost of gzip and zstd shows "
                "more in throughput and latency."),
    ),
    takes="about 35 s (four codecs, each flat out and then at a fixed rate)",
    key_figures=("*.p99_ms",), chart="latency",
)

CODEC_BANDWIDTH = Lesson(
    id="codec-bandwidth", phase=4, page="producer", title="A codec for a bandwidth-constrained system",
    question="Which compression codec would you choose for a bandwidth-constrained system?",
    source="Practice 003e, phase 6 reflection (phase 4's compression benchmark answers it)",
    choices=_CHOICES, experiment="produce.sweep", settings=PRESET, find=find_bandwidth,
    why=("Why: zstd and gzip find more repetition than lz4 and snappy, at more CPU per byte, so they put fewer bytes "
         "on the network and on the brokers' disks (the batch is stored compressed as sent). zstd usually gets "
         "gzip's ratio for less CPU, which is why the course calls it the modern choice."),
    try_next=(
        TryNext("Random payload", _RANDOM, "random bytes do not compress: every ratio drops to about 1, and the "
                "codecs only cost CPU."),
        TryNext("linger.ms=50", _LINGER, "fuller batches give the codec more to work with: the ratios rise."),
    ),
    takes="about 35 s (the same run as the latency lesson)",
    key_figures=("*.ratio",), chart="tradeoff",
)

LESSONS = (CODEC_LATENCY, CODEC_BANDWIDTH)
