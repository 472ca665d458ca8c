"""The Share groups page driven by AppTest on the real default cluster: its default run (6 share consumers
vs a consumer group of 6 on 2 partitions) shows every share member busy and 4 consumer-group members
idle; the acks form refuses a lock below what the lab's brokers allow; the broker's share settings shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.cluster import LocalCluster
from lab.queues.about import ABOUT
from lab.queues.backlog import version_refusal
from lab.queues.compare import ShareCompareResult
from tests.conftest import kafka_version_under_test

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")

needs_share_groups = pytest.mark.skipif(version_refusal(kafka_version_under_test()) is not None,
                                        reason="the test cluster's Kafka has no share groups")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/share.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Share groups"
    return at


@pytest.mark.version_sensitive
def test_on_3_9_the_page_says_why_and_how(app_env: LocalCluster) -> None:
    if version_refusal(kafka_version_under_test()) is None:
        pytest.skip("the session's cluster runs share groups; run with KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2")
    at = open_page()
    assert any("cannot run share groups" in w.value and "3.9" in w.value for w in at.warning)
    assert any("--version" in i.value for i in at.info)
    assert not [b.key for b in at.sidebar.button if not str(b.key).startswith("class_")]  # nothing to run here


@needs_share_groups
def test_the_compare_explainer_is_next_to_its_controls(app_env: LocalCluster) -> None:
    at = open_page()
    assert ABOUT["compare"] in [c.value for c in at.caption], "the experiment's explainer is next to it"


def assert_default_compare_drawn(at: AppTest, result: ShareCompareResult) -> None:
    """The page's default run (its first click, run by test_first_clicks.py): the share group's figure as a metric,
    every share member busy, the consumer group's one member per partition, the charts."""
    assert result.share is not None and result.group is not None
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Share group: records/s"] == f"{result.share.records_per_s:,.0f}"
    captions = " ".join(c.value for c in at.caption)
    assert f"{result.settings.members} of {result.settings.members} members busy" in captions
    assert f"2 of {result.settings.members} members busy" in captions  # the consumer group: one per partition
    charts = [el for el in at.main if getattr(el, "type", None) == "vega_lite_chart"]
    assert len(charts) >= 3


@needs_share_groups
def test_acks_form_refuses_a_lock_below_the_brokers_minimum_and_shows_the_settings(app_env: LocalCluster) -> None:
    at = open_page()
    at.sidebar.radio(key="share_mode").set_value("acks").run()
    at.sidebar.text_input(key="lock_ms").input("500").run()
    assert not at.exception, at.exception
    assert any("share.record.lock.duration.ms" in e.value and "out of range" in e.value for e in at.sidebar.error)
    assert at.sidebar.button(key="share_run_btn").disabled
    captions = [c.value for c in at.caption]
    assert ABOUT["acks"] in captions and ABOUT["compare"] not in captions, "only the chosen experiment's explainer"
    settings = at.dataframe[-1].value.set_index("broker setting")["value"].to_dict()
    assert settings["group.share.record.lock.duration.ms"] == "5000"
    assert settings["group.share.delivery.count.limit"] == "3"
