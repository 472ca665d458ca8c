"""The fetch benchmark with N member processes on the real cluster: the members' counts add up to what was
read and each read its share; a cancel keeps what was measured and leaves no member process alive."""

from __future__ import annotations

import threading

import psutil

from lab.cluster import LocalCluster, clients
from lab.consumer import fetch as consume
from lab.consumer.fetch import BenchSettings, ConsumerSettings
from lab.core.context import RunContext
from lab.kafka import topics


def _backlog(cluster: LocalCluster, partitions: int, per_partition: int) -> tuple[str, int]:
    """A fresh topic with ``per_partition`` 100-byte records in every partition (written to each partition, so
    none is empty), and the records it holds (its primer record per partition included)."""
    topic = topics.fresh_topic(cluster, partitions, 3, prefix="t-members-")
    p = clients.producer(cluster, {"linger.ms": 5})
    for i in range(partitions * per_partition):
        p.produce(topic, b"x" * 100, partition=i % partitions)
        p.poll(0)
    assert p.flush(30) == 0
    return topic, partitions * (per_partition + 1)


def _members_alive() -> set[int]:
    """This process's member processes (``python -m lab.consumer.member``), zombies left out."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "lab.consumer.member" in p.cmdline():
                out.add(p.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_two_members_read_the_backlog_between_them(cluster: LocalCluster) -> None:
    topic, held = _backlog(cluster, 4, 1_000)
    try:
        r = consume.bench(cluster, BenchSettings(ConsumerSettings(topic=topic, count=held), members=2),
                          RunContext(120))
        assert r.stopped is None, r.stopped
        assert r.processes == 2 and [m.partitions for m in r.members] == [(0, 2), (1, 3)]
        assert r.consumed == sum(m.consumed for m in r.members) == held == r.expected
        assert r.bytes == sum(m.bytes for m in r.members) == 4_000 * 100
        assert all(m.consumed > 0 and m.consumed == m.expected and not m.died for m in r.members), r.members
        assert sum(s.msgs for s in r.samples) == r.consumed, "the merged samples hold every message"
        assert r.fetch.fetch_requests == sum(m.fetch.fetch_requests for m in r.members) > 0
        assert r.msgs_per_s > 0 and r.consume_s > 0 and all(m.cpu_s > 0 for m in r.members)
        assert not any(d.code == "member-died" for d in r.verdict)
        assert all(m.pid > 0 for m in r.members) and not _members_alive(), "no member outlived the run"
    finally:
        topics.delete_topic(cluster, topic)


def test_cancel_stops_every_member_and_keeps_what_was_measured(cluster: LocalCluster) -> None:
    topic, held = _backlog(cluster, 2, 1_000)
    try:
        ctx = RunContext(120)
        seen: list[int] = []

        def cancel_once_reading() -> None:
            # cancel once the members read something (a condition, not a guess at how long they take)
            while not ctx.wait(0.05):
                partial = ctx.progress().partial
                if isinstance(partial, consume.BenchProgress) and partial.consumed > 0:
                    seen.extend(_members_alive())
                    ctx.cancel()
                    return

        watcher = threading.Thread(target=cancel_once_reading, daemon=True)
        watcher.start()
        # a processing delay keeps the members reading for a minute unless cancelled
        s = BenchSettings(ConsumerSettings(topic=topic, count=held, processing_delay_ms=30.0), members=2)
        r = consume.bench(cluster, s, ctx)
        watcher.join(5)
        assert seen, "the members were reading when the run was cancelled"
        assert r.stopped is not None and "cancelled" in r.stopped
        assert r.processes == 2 and not any(m.died for m in r.members), "each member sent what it measured"
        assert 0 < r.consumed < held and r.consumed == sum(m.consumed for m in r.members)
        assert set(seen) == {m.pid for m in r.members}
        assert not _members_alive() and not [pid for pid in seen if psutil.pid_exists(pid)], "no member is left"
    finally:
        topics.delete_topic(cluster, topic)


def test_a_member_that_dies_is_reported_not_waited_for(cluster: LocalCluster) -> None:
    topic, held = _backlog(cluster, 2, 1_000)
    try:
        ctx = RunContext(120)
        killed: list[int] = []

        def kill_one_once_reading() -> None:
            while not ctx.wait(0.05):
                partial = ctx.progress().partial
                if isinstance(partial, consume.BenchProgress) and partial.consumed > 0 and _members_alive():
                    pid = min(_members_alive())
                    psutil.Process(pid).kill()
                    killed.append(pid)
                    return

        watcher = threading.Thread(target=kill_one_once_reading, daemon=True)
        watcher.start()
        # the survivor reads its 1 000 records at 2 ms each: about 2 s
        s = BenchSettings(ConsumerSettings(topic=topic, count=held, processing_delay_ms=2.0), members=2)
        r = consume.bench(cluster, s, ctx)
        watcher.join(5)
        assert killed, "a member was killed while reading"
        dead = [m for m in r.members if m.died]
        assert [m.pid for m in dead] == killed and "exit code -9" in dead[0].died
        assert any(d.code == "member-died" for d in r.verdict)
        alive = [m for m in r.members if not m.died]
        assert len(alive) == 1 and alive[0].consumed == alive[0].expected, "the other member read its share"
        assert r.consumed < held and not _members_alive()
    finally:
        topics.delete_topic(cluster, topic)
