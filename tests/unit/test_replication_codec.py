"""Every replication scenario's settings and result type survives ``lab.core.codec``: dumps, then decode, gives
the same value back (NaN floats, infinities, ``dict[int, ...]`` keys, enums, tuples, nested dataclasses,
None for what a stopped run could not measure), and every scenario has the experiment signature."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import math
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.core import codec
from lab.core.results import ClusterFacts, Result, RunInfo
from lab.kafka.load import BackgroundProducerSettings, ProbeOutcome, ProduceSample
from lab.kafka.observe import EventKind, PartitionState, ReplicationEvent, Snapshot
from lab.kafka.timeline import Step, Timeline
from lab.replication import scenarios as replication
from lab.replication import segments, unclean
from lab.replication.scenarios import DescribeResult, HwLeoResult, MinIsrPhase, MinIsrResult, MonitorResult
from lab.replication.segments import CompactionOutcome, SegmentFile, SegmentSnapshot, StorageResult
from lab.replication.settings import HwLeoSettings, MinIsrSettings, MonitorSettings, StorageSettings, UncleanSettings
from lab.replication.unclean import UncleanResult, UncleanTopicOutcome


def same(a: Any, b: Any, path: str = "") -> None:
    """Assert ``a`` and ``b`` are the same value of the same types all the way down (NaN equals NaN)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b, f"{path}: {a!r} != {b!r}"
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"
        if isinstance(a, enum.Enum):
            assert a is b


def round_trip(obj: Any) -> None:
    text = codec.dumps(obj)
    same(obj, codec.decode(type(obj), text), type(obj).__name__)


def test_same_sees_nan_and_types() -> None:
    same(math.nan, math.nan)
    with pytest.raises(AssertionError):
        same((1,), [1])
    with pytest.raises(AssertionError):
        same({1: 2}, {"1": 2})


# --- strategies --------------------------------------------------------------------------------------
#: plain ``float`` fields: NaN and infinities included (the codec writes null / "inf")
floats = st.floats(allow_nan=True, allow_infinity=True)
#: ``float | None`` fields: None is "not measured"; NaN there reads back as None, so it is not generated
opt_floats = st.none() | st.floats(allow_nan=False, allow_infinity=True)
nodes = st.integers(-1, 5)
node_tuples = st.lists(nodes, max_size=3).map(tuple)
counts = st.integers(0, 2**53)
opt_ints = st.none() | st.integers(-1, 2**40)
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
error_counts = st.dictionaries(words, st.integers(0, 1000), max_size=3)

partition_states = st.builds(
    PartitionState, topic=words, partition=st.integers(0, 5), leader=nodes, replicas=node_tuples, isr=node_tuples,
    leader_epoch=opt_ints, high_watermark=opt_ints,
    log_end_offsets=st.dictionaries(nodes, opt_ints, max_size=3), stale_leo=node_tuples)
snapshots = st.builds(Snapshot, t=floats, partitions=st.lists(partition_states, max_size=3).map(tuple))
events = st.builds(ReplicationEvent, t=floats, topic=words, partition=st.integers(0, 5),
                   kind=st.sampled_from(EventKind), detail=words, leader=nodes, isr=node_tuples, leader_epoch=opt_ints)
samples = st.builds(ProduceSample, t=floats, acked=counts, failed=counts, errors=error_counts,
                    max_latency_ms=opt_floats)
timelines = st.builds(
    Timeline, snapshots=st.lists(snapshots, max_size=3).map(tuple), events=st.lists(events, max_size=3).map(tuple),
    produce=st.lists(samples, max_size=3).map(tuple),
    steps=st.lists(st.builds(Step, t=floats, label=words), max_size=3).map(tuple), leo_note=words)
probes = st.builds(ProbeOutcome, acks=st.sampled_from(["0", "1", "all"]), sent=counts, acked=counts, failed=counts,
                   errors=error_counts, acked_ids=st.lists(counts, max_size=5).map(tuple))
stopped = st.none() | words
run_infos = st.none() | st.builds(
    RunInfo, run_id=words, experiment=words, started_at=words, ended_at=words,
    cluster=st.builds(ClusterFacts, backend=words, bootstrap_servers=words, cluster_id=st.none() | words,
                      kafka_version=st.none() | words, broker_count=st.integers(0, 3)),
    face=words, elapsed_s=floats)
base = {"stopped": stopped, "run": run_infos}

#: settings validate themselves on construction, so they are picked from hand-made valid ones
monitor_settings = st.sampled_from([
    MonitorSettings(),
    MonitorSettings("watched", 10.0, 0.5, BackgroundProducerSettings(20, "1", 2, 3000, 100, 5,
                                                                   {"compression.type": "lz4"})),
])
min_isr_settings = st.sampled_from([MinIsrSettings(), MinIsrSettings("m", 3, 7)])
hw_leo_settings = st.sampled_from([HwLeoSettings(), HwLeoSettings("h", 5, 0.5, 12.25)])
unclean_settings = st.sampled_from([UncleanSettings(), UncleanSettings("u", 3, 1, 1, 2, 3, 0.5)])
storage_settings = st.sampled_from([StorageSettings(), StorageSettings("s", 8192, 600, 10, 3, "c", 10, 20, 7.5)])

min_isr_results = st.builds(
    MinIsrResult, settings=min_isr_settings, leader=st.none() | nodes, followers=node_tuples,
    phases=st.lists(st.builds(MinIsrPhase, name=words, t=floats, brokers_down=node_tuples, leader=nodes,
                              isr=node_tuples, acks_all=probes, acks_1=probes), max_size=5).map(tuple),
    timeline=timelines, **base)
hw_leo_results = st.builds(
    HwLeoResult, settings=hw_leo_settings, leader=st.none() | nodes, follower=st.none() | nodes,
    replica_lag_time_max_ms=opt_ints, paused_at=opt_floats, left_isr_at=opt_floats, resumed_at=opt_floats,
    rejoined_at=opt_floats, hw_stalled_s=opt_floats, max_follower_behind=opt_ints, timeline=timelines, **base)
topic_outcomes = st.builds(
    UncleanTopicOutcome, topic=words, unclean_enabled=st.booleans(), acked_before=opt_ints,
    acked_while_lagging=opt_ints, after=st.none() | probes, leader_after_crash=st.none() | nodes,
    epoch_before=opt_ints, epoch_after=opt_ints, elected_by=words, consumed=opt_ints, lost_acked=opt_ints,
    lost_ids_sample=st.lists(counts, max_size=5).map(tuple))
unclean_results = st.builds(UncleanResult, settings=unclean_settings, clean=topic_outcomes, unclean=topic_outcomes,
                            timeline=timelines, **base)
monitor_results = st.builds(MonitorResult, settings=monitor_settings, timeline=timelines, poll_errors=counts, **base)
segment_files = st.builds(SegmentFile, name=words, base_offset=counts, kind=st.sampled_from(["log", "index"]),
                          size_bytes=counts, disk_bytes=counts)
segment_snapshots = st.builds(SegmentSnapshot, t=floats, messages_written=counts,
                              files=st.lists(segment_files, max_size=3).map(tuple))
compactions = st.builds(
    CompactionOutcome, topic=words, keys=counts, produced=counts, before=counts, after=counts,
    distinct_keys_after=counts, latest_values_kept=st.booleans(), waited_s=floats,
    segments_before=st.lists(segment_files, max_size=2).map(tuple),
    segments_after=st.lists(segment_files, max_size=2).map(tuple))
storage_results = st.builds(
    StorageResult, settings=storage_settings, node=nodes, directory=words,
    snapshots=st.lists(segment_snapshots, max_size=3).map(tuple), compaction=st.none() | compactions, **base)
describe_results = st.builds(DescribeResult, topic=words, partitions=st.lists(partition_states, max_size=3).map(tuple),
                             leo_note=words, active_controller=st.none() | nodes, **base)

every_type = st.one_of(monitor_settings, min_isr_settings, hw_leo_settings, unclean_settings, storage_settings,
                       monitor_results, min_isr_results, hw_leo_results, unclean_results, storage_results,
                       describe_results)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(every_type)
def test_every_settings_and_result_round_trips(obj: Any) -> None:
    round_trip(obj)


def test_hand_made_results_with_nan_and_int_keys_round_trip() -> None:
    part = PartitionState("t", 0, 1, (1, 2, 3), (1, 3), 4, 100, {1: 150, 2: None, 3: 90}, (2,))
    tl = Timeline((Snapshot(math.nan, (part,)), Snapshot(math.inf, ())),
                  (ReplicationEvent(-math.inf, "t", 0, EventKind.ISR_SHRINK, "ISR 1,2,3 -> 1,3", 1, (1, 3), None),),
                  (ProduceSample(0.0, 1, 2, {"NOT_ENOUGH_REPLICAS": 2}, None),), (Step(math.nan, "pause broker 2"),),
                  "note")
    res = HwLeoResult(HwLeoSettings(), 1, 2, None, 1.5, None, None, None, None, None, tl,
                      stopped="stopped early: cancelled by the user")
    round_trip(res)
    back = codec.decode(HwLeoResult, codec.dumps(res))
    assert back.timeline.snapshots[0].partitions[0].log_end_offsets == {1: 150, 2: None, 3: 90}
    assert math.isnan(back.timeline.snapshots[0].t) and back.left_isr_after_s is None
    assert back.timeline.events[0].kind is EventKind.ISR_SHRINK
    round_trip(MonitorResult(MonitorSettings(), Timeline(), 0))
    round_trip(StorageResult(StorageSettings(), 1, "/x", (), None, stopped="stopped early: cancelled"))


SCENARIOS = [
    (replication.monitor, MonitorSettings, MonitorResult),
    (replication.min_isr, MinIsrSettings, MinIsrResult),
    (replication.hw_leo, HwLeoSettings, HwLeoResult),
    (replication.unclean, UncleanSettings, UncleanResult),
    (unclean.unclean, UncleanSettings, UncleanResult),
    (segments.storage, StorageSettings, StorageResult),
]


@pytest.mark.parametrize(("fn", "settings_type", "result_type"), SCENARIOS,
                         ids=lambda x: getattr(x, "__name__", str(x)))
def test_every_scenario_is_an_experiment(fn: Any, settings_type: type, result_type: type[Result]) -> None:
    sig = inspect.signature(fn)
    assert list(sig.parameters) == ["cluster", "settings", "ctx"]
    assert sig.parameters["settings"].annotation == settings_type.__name__
    assert sig.return_annotation == result_type.__name__
    assert issubclass(result_type, Result)
    hints = typing.get_type_hints(result_type)  # every field's type resolves at run time (the codec needs it)
    assert hints["stopped"] == str | None
    assert not {"stopped_early"} & set(hints)
