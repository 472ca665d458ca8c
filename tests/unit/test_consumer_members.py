"""The pure parts of an N-process consumer run: partitions dealt out, targets shared, the members' reports
merged onto one time axis, the ``members`` setting refused with what is allowed, and an old stored result
(without members) read back as one in-process consumer."""

from __future__ import annotations

import json

import pytest

from lab.consumer import memberstats
from lab.consumer.fetch import BenchResult, BenchSettings, ConsumerSettings
from lab.consumer.loop import ConsumeSample
from lab.consumer.memberstats import merge_fetch, merge_points, merge_samples, resolve_members, shares, split_partitions
from lab.consumer.stats import FetchPoint, FetchStats
from lab.core import codec
from lab.core.errors import SettingsError


def test_split_deals_partitions_in_turn() -> None:
    assert split_partitions(list(range(6)), 2) == [(0, 2, 4), (1, 3, 5)]
    assert split_partitions(list(range(5)), 3) == [(0, 3), (1, 4), (2,)]
    assert split_partitions([0], 1) == [(0,)]
    parts = split_partitions(list(range(12)), 5)
    assert sorted(p for ps in parts for p in ps) == list(range(12))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError):
        split_partitions([0, 1], 3)


def test_shares_add_up_and_follow_the_sizes() -> None:
    assert shares(3_000, [1_000, 1_000, 1_000]) == [1_000, 1_000, 1_000]
    assert sum(shares(1_001, [500, 500, 1])) == 1_001
    assert shares(10, [5, 5]) == [5, 5]
    assert shares(7, [2, 2]) == [2, 2], "never more than a member's partitions hold"
    s = shares(1_000, [400, 300, 300])
    assert sum(s) == 1_000 and s == [400, 300, 300]
    assert sum(shares(999, [334, 333, 333])) == 999
    assert shares(5, [0, 0]) == [0, 0]


def test_resolve_members_as_typed_or_refused() -> None:
    assert resolve_members(3, 6, "t") == 3
    assert 1 <= resolve_members(None, 6, "t") <= 6
    assert resolve_members(None, 1, "t") == 1, "auto: at most one per partition"
    with pytest.raises(SettingsError) as info:
        resolve_members(4, 3, "t")
    assert "members=4" in str(info.value) and "1 to 3" in (info.value.hint or "")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2", memberstats.MAX_MEMBERS + 1])
def test_members_setting_refused_with_what_is_allowed(bad: object) -> None:
    with pytest.raises(SettingsError) as info:
        BenchSettings(ConsumerSettings(), members=bad)  # type: ignore[arg-type]
    assert "members=" in str(info.value) and "whole number from 1" in (info.value.hint or "")


def test_members_need_the_backlog_mode() -> None:
    with pytest.raises(SettingsError) as info:
        BenchSettings(ConsumerSettings(), produce_rate=100, members=2)
    assert "backlog" in str(info.value)
    assert BenchSettings(ConsumerSettings(), produce_rate=100, members=None).live
    assert BenchSettings().members == 1, "the engine's default keeps the in-process consumer"


def test_merged_samples_keep_every_message_on_one_axis() -> None:
    a = [ConsumeSample(0.7, 100, 200.0, 0.02), ConsumeSample(1.2, 50, 100.0, 0.01), ConsumeSample(1.3, 10, 100.0, 0.01)]
    b = [ConsumeSample(0.9, 300, 600.0, 0.06), ConsumeSample(1.4, 30, 60.0, 0.006)]
    merged = merge_samples([a, b])
    assert [s.t_s for s in merged] == [1.0, 1.5]
    assert [s.msgs for s in merged] == [400, 90]
    assert sum(s.msgs for s in merged) == sum(s.msgs for s in a + b)
    assert merged[0].msgs_per_s == pytest.approx(800.0)
    assert merged[0].mb_per_s == pytest.approx((0.02 * 0.5 + 0.06 * 0.5) / 0.5)
    assert merge_samples([[], []]) == ()


def test_merged_points_sum_each_members_latest_window() -> None:
    a = [FetchPoint(0.25, 2, 200, 2), FetchPoint(0.5, 4, 400, 4)]
    b = [FetchPoint(0.4, 10, 1_000, 10)]
    merged = merge_points([a, b])
    assert merged == (FetchPoint(0.25, 2, 200, 2), FetchPoint(0.5, 14, 1_400, 14))
    assert merge_points([[], []]) == ()


def test_merged_fetch_figures() -> None:
    f = merge_fetch([FetchStats(10, 5.0, 1_000.0, 10.0, 4), FetchStats(30, 15.0, 2_000.0, 20.0, 5)], 2.0)
    assert f.fetch_requests == 40 and f.fetch_requests_per_s == 20.0
    assert f.bytes_per_fetch == pytest.approx((10_000 + 60_000) / 40)
    assert f.msgs_per_fetch == pytest.approx((100 + 600) / 40) and f.windows == 5


def test_old_stored_result_without_members_reads_back_as_one_process() -> None:
    r = BenchResult(BenchSettings(ConsumerSettings(count=10)), "t", "g", 10, 1_000, 10, 0.1, 0.2, 1.0, 10.0, 0.001,
                    FetchStats(1, 1.0, 1_000.0, 10.0, 1), (), ())
    doc = json.loads(codec.dumps(r))
    del doc["data"]["members"]
    del doc["data"]["settings"]["members"]
    back = codec.loads(json.dumps(doc), {"BenchResult": BenchResult})
    assert back.members == () and back.processes == 1 and back.settings.members == 1
    assert back.consumed == 10 and back.row()["processes"] == 1


def test_sweep_runs_each_variant_at_each_member_count() -> None:
    from lab.consumer.sweep import ConsumerSweepSettings

    s = ConsumerSweepSettings("profiles", BenchSettings(ConsumerSettings(), members=1), members=(1, 2))
    vs = s.variants()
    assert [v.members for v in vs] == [1, 1, 2, 2]
    assert vs[2].consumer.label == "low latency · 2 processes" and vs[0].consumer.label.endswith("· 1 process")
    with pytest.raises(SettingsError):
        ConsumerSweepSettings("profiles", BenchSettings(), members=(2, 2))
    with pytest.raises(SettingsError) as info:
        ConsumerSweepSettings("fetch-matrix", BenchSettings(produce_rate=500), members=(1, 2))
    assert "backlog" in str(info.value)


def test_page_link_carries_the_processes() -> None:
    from lab.export import links

    s, notes = links.params_to_settings("consumer", {"mode": "benchmark", "processes": "2"})
    assert notes == [] and s.members == 2
    assert links.params_to_settings("consumer", {"mode": "benchmark"})[0].members is None, "the page's auto"
    assert links.settings_to_params("consumer", BenchSettings(members=3)).get("processes") == "3"
    sweep, _ = links.params_to_settings("consumer", {"mode": "sweep", "sweep": "profiles", "processes": "auto"})
    assert sweep.members == (1, None), "a backlog sweep at 1 and at one process per core"
    live, _ = links.params_to_settings("consumer", {"mode": "sweep", "sweep": "fetch-matrix"})
    assert live.members == (), "the live fetch matrix runs one consumer"


def test_page_link_carries_the_prefetch_threshold() -> None:
    from lab.export import links

    s, notes = links.params_to_settings("consumer", {"mode": "benchmark", "queued_min": "1000000"})
    assert notes == [] and s.consumer.queued_min_messages == 1_000_000
    assert links.params_to_settings("consumer", {"mode": "benchmark"})[0].consumer.queued_min_messages == 100_000
    back = links.settings_to_params("consumer", BenchSettings(consumer=ConsumerSettings(queued_min_messages=10_000)))
    assert back.get("queued_min") == "10000"
    _, refused = links.params_to_settings("consumer", {"mode": "benchmark", "queued_min": "5"})
    assert refused and "queued_min" in refused[0], "a value the page does not offer is refused with a note"


def test_scaling_chart_groups_variants_by_processes() -> None:
    import pandas as pd

    from lab.consumer.charts import scaling_chart

    frame = pd.DataFrame([{"label": "low latency · 1 process", "processes": 1, "msgs_per_s": 1.0,
                           "fetch_requests_per_s": 1.0},
                          {"label": "low latency · 2 processes", "processes": 2, "msgs_per_s": 2.0,
                           "fetch_requests_per_s": 2.0}])
    spec = scaling_chart(frame).to_dict()
    assert spec["encoding"]["xOffset"]["field"] == "processes"
    assert sorted(spec["datasets"][next(iter(spec["datasets"]))][0]) == sorted(
        ["label", "processes", "msgs_per_s", "fetch_requests_per_s", "variant"])


def test_run_queue_wait_reads_each_threads_schedstat(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    for tid, line in (("1", "100 2000000000 5"), ("2", "7 500000000 1")):
        (root / tid).mkdir()
        (root / tid / "schedstat").write_text(line + "\n")
    assert memberstats.run_queue_wait_s(str(root)) == pytest.approx(2.5)
    assert memberstats.run_queue_wait_s(str(root / "missing")) != memberstats.run_queue_wait_s(str(root / "missing"))
