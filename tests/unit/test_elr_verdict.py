"""ELR (KIP-966) without a cluster: Kafka's kafka-topics/kafka-features output parsed, and the verdicts the
scenario draws from crafted results (3.9: the ISR keeps its last member; 4.x: it empties, the last to leave is
in the ELR)."""

from __future__ import annotations

import lab.registry  # noqa: F401  (the codec's type table)
from lab.core import codec
from lab.kafka.kafka_topics import ids_text, parse_describe, parse_features
from lab.kafka.load import ProbeOutcome
from lab.kafka.timeline import Timeline
from lab.replication import charts, elr, text
from lab.replication.settings import UncleanSettings
from lab.replication.unclean import (
    ELECTED_BY_CONTROLLER,
    MOMENT_CRASHED,
    MOMENT_HEALED,
    ReplicaSample,
    UncleanResult,
    UncleanTopicOutcome,
)

DESCRIBE_44 = (
    "Topic: d-clean\tTopicId: oPE0nVfmQHaqVi5fLoIKNA\tPartitionCount: 1\tReplicationFactor: 2\t"
    "Configs: min.insync.replicas=1,unclean.leader.election.enable=false\n"
    "\tTopic: d-clean\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: \tElr: 1\tLastKnownElr: \n"
    "\tTopic: d-unclean\tPartition: 0\tLeader: 2\tReplicas: 1,2\tIsr: 2\tElr: \tLastKnownElr: 1\n"
    "\tTopic: d-wide\tPartition: 11\tLeader: 3\tReplicas: 3,1,2\tIsr: 3\tElr: 1,2\tLastKnownElr: \n"
)
#: a tool without the KIP-966 fields (no Elr:/LastKnownElr: columns at all)
DESCRIBE_OLD = "\tTopic: d-clean\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: 1\n"
FEATURES = (
    "Feature: eligible.leader.replicas.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\t"
    "FinalizedVersionLevel: 1\tEpoch: 185\n"
    "Feature: metadata.version\tSupportedMinVersion: 3.3-IV3\tSupportedMaxVersion: 4.4-IV2\t"
    "FinalizedVersionLevel: 4.4-IV2\tEpoch: 185\n"
    "Feature: group.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 0\tEpoch: 185\n"
)


def test_describe_lines_with_elr_and_last_known_elr() -> None:
    parts = parse_describe(DESCRIBE_44)
    assert [(p.topic, p.partition) for p in parts] == [("d-clean", 0), ("d-unclean", 0), ("d-wide", 11)]
    clean, dirty, wide = parts
    assert clean.leader == -1 and clean.replicas == (1, 2) and clean.isr == () and clean.elr == (1,)
    assert clean.last_known_elr == ()
    assert dirty.leader == 2 and dirty.isr == (2,) and dirty.elr == () and dirty.last_known_elr == (1,)
    assert wide.elr == (1, 2)


def test_describe_lines_without_elr_fields_say_not_reported() -> None:
    (p,) = parse_describe(DESCRIBE_OLD)
    assert p.isr == (1,) and p.elr is None and p.last_known_elr is None
    assert ids_text(p.elr) == "n/a" and ids_text(()) == "-" and ids_text((1, 2)) == "1,2"


def test_feature_levels() -> None:
    assert parse_features(FEATURES) == {"eligible.leader.replicas.version": 1, "group.version": 0}


S = UncleanSettings("d", 1, 2, 20, 100, 10)


def outcome(topic: str, enabled: bool, crash: tuple[tuple[int, ...], tuple[int, ...] | None], *,
            leader_after_crash: int, leader_after_restart: int, lost: int, after_acked: int) -> UncleanTopicOutcome:
    isr, elr_ = crash
    samples = (ReplicaSample(MOMENT_CRASHED, 30.0, -1 if not enabled else 2, isr, elr_, () if elr_ is not None
                             else None),
               ReplicaSample(MOMENT_HEALED, 60.0, leader_after_restart, (1, 2), () if elr_ is not None else None,
                             () if elr_ is not None else None))
    acked = 20 + 100 + after_acked
    return UncleanTopicOutcome(
        topic, enabled, 20, 100, ProbeOutcome("all", 10, after_acked, 10 - after_acked), leader_after_crash, 0, 1,
        ELECTED_BY_CONTROLLER if enabled else "", acked - lost, lost, written=130,
        leader_after_restart=leader_after_restart, samples=samples)


def result(version: str, level: int, clean_crash: tuple[tuple[int, ...], tuple[int, ...] | None]) -> UncleanResult:
    clean = outcome("d-clean", False, clean_crash, leader_after_crash=-1, leader_after_restart=1, lost=0,
                    after_acked=0)
    dirty = outcome("d-unclean", True, ((2,), clean_crash[1] and ()), leader_after_crash=2,
                    leader_after_restart=2, lost=100, after_acked=10)
    return UncleanResult(settings=S, clean=clean, unclean=dirty, timeline=Timeline(), kafka_version=version,
                         elr_feature_level=level, elr_source="test")


def test_4x_clean_topic_is_led_again_from_the_elr_without_loss() -> None:
    v = elr.version_verdict(result("4.4.0", 1, ((), (1,))))
    assert v.elr is True
    assert v.clean.via == elr.VIA_ELR and v.clean.leader == 1 and v.clean.isr_emptied is True
    assert v.clean.lost == 0 and "ELR" in v.clean.text and "unavailable until broker 1" in v.clean.text
    assert v.unclean.via == elr.VIA_UNCLEAN and v.unclean.leader == 2 and v.unclean.lost == 100
    assert "not eligible" in v.unclean.text


def test_39_clean_topic_keeps_its_last_isr_member() -> None:
    v = elr.version_verdict(result("3.9.2", 0, ((1,), None)))
    assert v.elr is False
    assert v.clean.via == elr.VIA_ISR and v.clean.isr_emptied is False and v.clean.lost == 0
    assert "no ELR" in v.clean.text and "no ELR" in v.text
    assert v.unclean.via == elr.VIA_UNCLEAN and v.unclean.lost == 100


def test_a_leader_in_none_of_the_sets_is_unclean_and_no_sample_is_not_guessed() -> None:
    r = result("4.4.0", 1, ((), ()))  # an empty ELR: the returning broker was in no set
    assert elr.version_verdict(r).clean.via == elr.VIA_UNCLEAN
    bare = UncleanTopicOutcome("x", False, 1, 1, None, -1, 0, None, "", 2, 0, leader_after_restart=1)
    assert elr.topic_verdict(bare, S).via == elr.VIA_UNKNOWN
    gone = UncleanTopicOutcome("x", False, 1, 1, None, -1, 0, None, "", None, None)
    assert elr.topic_verdict(gone, S).via == elr.VIA_NONE


def test_other_version() -> None:
    assert elr.other_version("4.4.0") == "3.9.2"
    assert elr.other_version("3.9.2").startswith("4.")
    assert elr.other_version(None).startswith("4.")


def test_side_by_side_text_and_codec_round_trip() -> None:
    res = elr.VersionsResult(settings=elr.VersionsSettings(S), runs=(result("4.4.0", 1, ((), (1,))),
                                                                      result("3.9.2", 0, ((1,), None))),
                             app_version="4.4.0", other_version="3.9.2", other_cluster="/tmp/x")
    out = text.elr_versions(res)
    assert "4.4.0" in out and "3.9.2" in out and elr.VIA_ELR in out and "eligible.leader.replicas.version=0" in out
    back = codec.loads(codec.dumps(res))
    assert back == res
    assert [v.clean.via for v in back.verdicts()] == [elr.VIA_ELR, elr.VIA_ISR]


def test_side_by_side_chart_has_a_panel_per_version() -> None:
    verdicts = [elr.version_verdict(result("4.4.0", 1, ((), (1,)))),
                elr.version_verdict(result("3.9.2", 0, ((1,), None)))]
    frame = charts.versions_frame(verdicts)
    assert len(frame) == 12 and set(frame["Kafka"]) == {"4.4.0", "3.9.2"}
    lost = frame[(frame["measure"] == "lost")].set_index(["Kafka", "topic"])["messages"].to_dict()
    assert lost == {("4.4.0", "unclean election off"): 0, ("4.4.0", "unclean election on"): 100,
                    ("3.9.2", "unclean election off"): 0, ("3.9.2", "unclean election on"): 100}
    spec = charts.versions_chart(frame).to_dict()
    assert spec["facet"]["column"]["field"] == "Kafka"
