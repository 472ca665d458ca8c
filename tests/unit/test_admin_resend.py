"""Topic creation when a request is cut off on the client (no Kafka: a fake admin client answers)."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from lab.core.errors import KafkaOperationError
from lab.kafka import admin
from lab.kafka.specs import TopicSpec


def _future(code: int | None) -> Future[None]:
    fut: Future[None] = Future()
    if code is None:
        fut.set_result(None)
    else:
        fut.set_exception(KafkaException(KafkaError(code)))
    return fut


class FakeAdmin:
    """Answers each CreateTopics with the next code per topic (None: created); lists ``topics``."""

    def __init__(self, answers: dict[str, list[int | None]], topics: tuple[str, ...] = ()) -> None:
        self.answers, self.topics = answers, topics
        self.sent: list[list[str]] = []

    def list_topics(self, timeout: float) -> Any:
        return SimpleNamespace(brokers={1: None, 2: None, 3: None}, topics={t: None for t in self.topics})

    def create_topics(self, new: list[Any], **_: Any) -> dict[str, Future[None]]:
        self.sent.append([t.topic for t in new])
        return {t.topic: _future(self.answers[t.topic].pop(0)) for t in new}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(answers: dict[str, list[int | None]], topics: tuple[str, ...] = ()) -> FakeAdmin:
        fa = FakeAdmin(answers, topics)
        monkeypatch.setattr(admin, "_wait_for_leaders", lambda cluster, names: None)
        monkeypatch.setattr(admin, "CREATE_RESEND_POLL_S", 0.0)
        return fa
    return make


def cluster_of(fa: FakeAdmin) -> Any:
    return SimpleNamespace(admin=lambda: fa)


def test_a_cut_off_request_is_sent_again_and_its_topic_counts_as_created(fake: Any) -> None:
    fa = fake({"a": [KafkaError._DESTROY_BROKER, KafkaError.TOPIC_ALREADY_EXISTS], "b": [None]})
    out = admin.create_topics(cluster_of(fa), [TopicSpec("a", 1, 3), TopicSpec("b", 1, 3)])
    assert [(o.name, o.action) for o in out] == [("a", "created"), ("b", "created")]
    assert fa.sent == [["a", "b"], ["a"]], "only the cut-off topic is sent again"


def test_a_topic_there_before_stays_existing_after_a_resend(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "_apply_configs", lambda cluster, specs: None)
    fa = fake({"a": [KafkaError._TRANSPORT, KafkaError.TOPIC_ALREADY_EXISTS]}, topics=("a",))
    fa.list_topics = lambda timeout: SimpleNamespace(
        brokers={1: None, 2: None, 3: None}, topics={"a": SimpleNamespace(partitions={0: None})})
    out = admin.create_topics(cluster_of(fa), [TopicSpec("a", 1, 3)])
    assert [(o.name, o.action) for o in out] == [("a", "exists")]


def test_requests_cut_off_until_the_bound_end_in_a_clear_error(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "CREATE_RESEND_S", 0.05)
    fa = fake({"a": [KafkaError._DESTROY_BROKER] * 100_000})
    with pytest.raises(KafkaOperationError, match=r"Creating topic\(s\) 'a' failed: every request was cut off"):
        admin.create_topics(cluster_of(fa), [TopicSpec("a", 1, 3)])


def test_other_errors_are_not_sent_again(fake: Any) -> None:
    fa = fake({"a": [KafkaError.UNSUPPORTED_VERSION]})
    with pytest.raises(KafkaOperationError, match="Creating topic 'a' failed"):
        admin.create_topics(cluster_of(fa), [TopicSpec("a", 1, 3)])
    assert fa.sent == [["a"]]
