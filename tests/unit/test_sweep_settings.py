"""SweepSettings: the variants of each kind, the quick and full batch grids, and what bad input says."""

from __future__ import annotations

import dataclasses

import pytest

from lab.core.errors import SettingsError
from lab.producer import sweep
from lab.producer.settings import ACKS, CODECS, PRESETS, ProducerSettings
from lab.producer.sweep import (
    BATCH_LINGERS_MS,
    BATCH_SIZES,
    MAX_SWEEP_RUNS,
    QUICK_BATCH_LINGERS_MS,
    QUICK_BATCH_SIZES,
    SweepSettings,
    time_limit_for,
)

BASE = ProducerSettings(count=100, message_size=50, compression="gzip", compression_level=9)


def test_codec_variants_all_or_a_subset_in_order() -> None:
    all_codecs = SweepSettings("codec", BASE).variants()
    assert [v.compression for v in all_codecs] == list(CODECS)
    assert [v.label for v in all_codecs] == list(CODECS)
    assert all(v.compression_level == -1 for v in all_codecs), "each codec at its own default level"
    assert all(v.count == 100 and v.message_size == 50 for v in all_codecs)
    some = SweepSettings("codec", BASE, codecs=("zstd", "none")).variants()
    assert [v.compression for v in some] == ["zstd", "none"]


def test_quick_and_full_batch_grids() -> None:
    quick = SweepSettings("batch", BASE).variants()
    assert QUICK_BATCH_LINGERS_MS == (0.0, 5.0, 20.0) and QUICK_BATCH_SIZES == (4_096, 16_384, 65_536)
    assert [(v.linger_ms, v.batch_size) for v in quick] == [
        (lg, b) for lg in QUICK_BATCH_LINGERS_MS for b in QUICK_BATCH_SIZES]
    full = SweepSettings("batch", BASE, grid="full")
    assert len(full.variants()) == 25
    assert {(v.linger_ms, v.batch_size) for v in full.variants()} == {
        (lg, b) for lg in BATCH_LINGERS_MS for b in BATCH_SIZES}
    assert full.variants()[0].label == "linger 0 ms / batch 1024"
    assert all(v.compression == "gzip" for v in full.variants()), "the base's other knobs are kept"


def test_explicit_lingers_or_sizes_replace_one_axis_of_the_grid() -> None:
    # a CLI's lists and whole-number lingers are accepted, and stored as tuples of floats / ints
    both = SweepSettings("batch", BASE, lingers_ms=[0, 20], batch_sizes=[1_024, 65_536])  # type: ignore[arg-type]
    assert both.lingers_ms == (0.0, 20.0) and both.batch_sizes == (1_024, 65_536)
    assert [(v.linger_ms, v.batch_size) for v in both.variants()] == [
        (0.0, 1_024), (0.0, 65_536), (20.0, 1_024), (20.0, 65_536)]
    lingers_only = SweepSettings("batch", BASE, grid="full", lingers_ms=(7.0,))
    assert lingers_only.batch_grid == ((7.0,), BATCH_SIZES)
    sizes_only = SweepSettings("batch", BASE, batch_sizes=(2_048,))
    assert sizes_only.batch_grid == (QUICK_BATCH_LINGERS_MS, (2_048,))


def test_acks_variants_keep_idempotence_only_with_acks_all() -> None:
    acks = SweepSettings("acks", ProducerSettings(enable_idempotence=True)).variants()
    assert [(v.acks, v.enable_idempotence) for v in acks] == [("0", False), ("1", False), ("all", True)]
    assert [v.acks for v in SweepSettings("acks", BASE).variants()] == list(ACKS)
    assert [v.label for v in SweepSettings("acks", BASE, acks=("all", "1")).variants()] == ["acks=all", "acks=1"]


def test_preset_variants_take_the_base_workload() -> None:
    base = ProducerSettings(count=None, duration_s=3, message_size=500, payload="json", rate=200, partitions=6)
    presets = SweepSettings("presets", base).variants()
    assert [p.label for p in presets] == list(PRESETS)
    for p in presets:
        assert (p.count, p.duration_s, p.message_size, p.payload, p.rate, p.partitions) == (None, 3, 500, "json",
                                                                                            200, 6)
    assert presets[1].compression == PRESETS["high throughput"].compression == "lz4"
    assert [p.label for p in SweepSettings("presets", base, presets=("low latency",)).variants()] == ["low latency"]


def test_time_limits_grow_with_the_runs() -> None:
    one = time_limit_for(ProducerSettings(count=None, duration_s=10))
    assert one > 10
    quick, full = SweepSettings("batch", BASE), SweepSettings("batch", BASE, grid="full")
    assert time_limit_for(full) > time_limit_for(quick) > time_limit_for(BASE)
    # issue 8: a sweep also runs every cell at the fixed rate, so its bound covers those runs too
    assert time_limit_for(dataclasses.replace(quick, at_fixed_rate=False)) == time_limit_for(BASE, 9)
    assert time_limit_for(quick) == time_limit_for(BASE, 9) + 9 * (sweep.FIXED_RATE_S + sweep.RUN_SLACK_S)


@pytest.mark.parametrize(("kwargs", "message", "hint"), [
    ({"kind": "linger"}, "Sweep kind 'linger' is not known", "codec, batch, acks, presets"),
    ({"kind": "batch", "grid": "huge"}, "Batch grid 'huge' is not known", "'quick'"),
    ({"kind": "codec", "lingers_ms": (5.0,)}, "lingers_ms applies to the batch sweep, not to codec", "Leave"),
    ({"kind": "batch", "codecs": ("lz4",)}, "codecs applies to the codec sweep, not to batch", "Leave codecs empty"),
    ({"kind": "codec", "presets": ("default",)}, "presets applies to the presets sweep", "Leave"),
    ({"kind": "codec", "codecs": ("brotli",)}, "'brotli' in codecs is not a codec", "none, gzip, snappy, lz4, zstd"),
    ({"kind": "codec", "codecs": "gzip"}, "codecs must be a list", "list or tuple"),
    ({"kind": "acks", "acks": ("2",)}, "acks='2' in acks is not valid", "0, 1, all"),
    ({"kind": "presets", "presets": ("warp",)}, "'warp' in presets is not a producer preset", "high throughput"),
    ({"kind": "batch", "lingers_ms": (-1.0,)}, "linger.ms -1.0 in lingers_ms is out of range", "0 to 60000"),
    ({"kind": "batch", "lingers_ms": (float("nan"),)}, "in lingers_ms is out of range", "0 to 60000"),
    ({"kind": "batch", "lingers_ms": (True,)}, "linger.ms True in lingers_ms", "0 to"),
    ({"kind": "batch", "batch_sizes": (0,)}, "batch.size 0 in batch_sizes is out of range", "1 to 1000000"),
    ({"kind": "batch", "batch_sizes": (1.5,)}, "batch.size 1.5 in batch_sizes", "whole numbers"),
    ({"kind": "batch", "batch_sizes": (1024, 1024)}, "batch_sizes lists 1024 more than once", "each value once"),
    ({"kind": "batch", "lingers_ms": tuple(range(11)), "batch_sizes": tuple(range(1, 11))},
     f"plans 110 runs; at most {MAX_SWEEP_RUNS}", "Sweep fewer values"),
])
def test_bad_input_says_what_is_allowed(kwargs: dict[str, object], message: str, hint: str) -> None:
    with pytest.raises(SettingsError) as info:
        SweepSettings(base=BASE, **kwargs)  # type: ignore[arg-type]
    assert message in info.value.message
    assert info.value.hint is not None and hint in info.value.hint


def test_a_base_that_is_not_producer_settings_is_refused() -> None:
    with pytest.raises(SettingsError, match="base must be a ProducerSettings"):
        SweepSettings("codec", {"acks": "1"})  # type: ignore[arg-type]


def test_variant_settings_are_validated_when_the_sweep_is_made() -> None:
    # a 50 MB record fits the base's 1 GiB buffer but not the "default" preset's 32 MiB: refused at once,
    # naming the setting, instead of failing run 1 of the sweep
    base = ProducerSettings(message_size=50_000_000, topic_max_message_bytes=100 * 1024 * 1024)
    with pytest.raises(SettingsError, match="does not fit the producer buffer of 32768 KiB"):
        SweepSettings("presets", base)
    assert len(SweepSettings("codec", base).variants()) == 5
