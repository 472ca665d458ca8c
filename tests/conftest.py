"""Shared fixtures. Unit tests start nothing; anything that asks for ``cluster`` gets a real 3-broker cluster
of this test run, started by the lab's own launcher on free ports in its own state directory, and stopped
(data deleted) at the end. Under pytest-xdist (`-n 2`, the default) the workers share two clusters
(``tests/shared_cluster.py``): the first worker that needs one starts it, the last one stops it.

- the shared cluster: ordinary tests use it together (a shared turn), and the served app of the browser
  tests points at it;
- the breakable cluster: every test that must have a cluster alone runs there, one at a time, so the
  ordinary tests never wait for it: tests that break brokers (``breaks_brokers``: marked here for every
  ``whole_cluster`` test, by hand for the rest) or see what other tests do (``alone_on_cluster``). An AppTest
  (``app_env``) is pointed at whichever of the two its test has. Only a test that breaks what the served app
  shows (``app_url`` + a marker) takes the shared cluster alone."""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from confluent_kafka import KafkaException, TopicPartition

import lab.registry  # noqa: F401  (fills the experiment catalogue that the codec and the run store read)
from lab.cluster import DEFAULT_KAFKA_VERSION, LocalCluster, clients
from lab.cluster.base import BrokerAction
from lab.core.errors import LabError
from lab.kafka import admin
from tests import scheduling
from tests.shared_cluster import ClusterAccess

#: Shorter than the user's settings so failure tests finish quickly; the user's cluster keeps its own.
#: The broker session is the user's 6 s (not shorter): on a loaded 2-core machine running two clusters a
#: broker's heartbeats can stall for 4 s, and a broker fenced for that drops out of the metadata mid-test.
TEST_BROKER_OVERRIDES = {
    "replica.lag.time.max.ms": "3000",
    "broker.session.timeout.ms": "6000",
    "broker.heartbeat.interval.ms": "500",
}


#: The test cluster's Kafka version: the lab's default, or e.g. 3.9.2 to run the version-sensitive tests on
#: the last 3.x (`KAFKA_LAB_TEST_KAFKA_VERSION=3.9.2 pytest -m …`; a new KAFKA_LAB_TEST_STATE_DIR too).
TEST_KAFKA_VERSION_ENV = "KAFKA_LAB_TEST_KAFKA_VERSION"


def kafka_version_under_test() -> str:
    return os.environ.get(TEST_KAFKA_VERSION_ENV) or DEFAULT_KAFKA_VERSION


#: Fixtures that start (or use) the real cluster: a test that asks for one is an integration test.
CLUSTER_FIXTURES = {"cluster", "shared_cluster", "whole_cluster", "app_env", "app_url"}
#: Markers of tests that must have the shared cluster to themselves (see tests/shared_cluster.py).
ALONE_MARKERS = ("breaks_brokers", "alone_on_cluster")
#: How long, after a test that had the cluster alone, its partitions may take to be fully in sync again.
SETTLE_ISR_S = 30.0


def is_unit(item: pytest.Item) -> bool:
    """A test under tests/unit/: pure, or with stand-ins of its own (a ``cluster`` fixture there is one)."""
    return f"{os.sep}unit{os.sep}" in str(item.fspath)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers from where a test lives and what it uses, so `-m "not integration"` runs only pure tests;
    every test that uses ``whole_cluster`` breaks brokers (that is what the fixture is for)."""
    for item in items:
        path = str(item.fspath)
        fixtures = set(getattr(item, "fixturenames", ()))
        if "/browser/" in path:
            item.add_marker(pytest.mark.browser)
        if not is_unit(item) and ("/integration/" in path or CLUSTER_FIXTURES & fixtures):
            item.add_marker(pytest.mark.integration)
        if "whole_cluster" in fixtures and item.get_closest_marker("breaks_brokers") is None:
            item.add_marker(pytest.mark.breaks_brokers)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the controller's scheduler puts these on one worker
        breakable = [item.nodeid for item in items if runs_on_breakable(item)]
        scheduling.write_list(config._tmp_path_factory.getbasetemp(), breakable)  # type: ignore[attr-defined]


def runs_on_breakable(item: pytest.Item) -> bool:
    """Whether a test runs on the breakable cluster (``on_breakable``, from what collection knows)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    alone = any(item.get_closest_marker(m) for m in ALONE_MARKERS)
    return bool(alone and "app_url" not in fixtures and CLUSTER_FIXTURES & fixtures) and not is_unit(item)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Files as ``--dist loadfile``, the breakable cluster's tests on one worker (``tests/scheduling.py``)."""
    return scheduling.BreakableTogether(config, log, basetemp=config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long tests waited for their turn on the shared cluster, per worker (the cost of sharing it)."""
    waits: dict[str, tuple[str, float]] = {}
    for reports in terminalreporter.stats.values():
        for r in reports:
            for key, value in getattr(r, "user_properties", ()):
                if key == "cluster_turn_wait_s":
                    worker = getattr(getattr(getattr(r, "node", None), "gateway", None), "id", "main")
                    waits[r.nodeid] = (str(worker), float(value))
    if not waits:
        return
    longest = max(waits, key=lambda k: waits[k][1])
    per_worker = {w: sum(s for ww, s in waits.values() if ww == w) for w in sorted({w for w, _ in waits.values()})}
    terminalreporter.write_line(
        f"shared test cluster: {len(waits)} tests took turns, waiting "
        + ", ".join(f"{s:.1f} s on {w}" for w, s in per_worker.items())
        + f" (longest {waits[longest][1]:.1f} s: {longest})")


@pytest.fixture(scope="session", autouse=True)
def runs_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every run a test launches is saved in a store of this session, never in the user's home (the
    variable is inherited by CLI and app subprocesses the tests start)."""
    path = tmp_path_factory.mktemp("runs") / "runs.sqlite"
    old = os.environ.get("KAFKA_LAB_RUNS_DB")
    os.environ["KAFKA_LAB_RUNS_DB"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("KAFKA_LAB_RUNS_DB", None)
        else:
            os.environ["KAFKA_LAB_RUNS_DB"] = old


@pytest.fixture(scope="session", autouse=True)
def class_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The class file of this session's tests (no class is open unless a test opens one), never the user's."""
    path = tmp_path_factory.mktemp("class") / "class.json"
    old = os.environ.get("KAFKA_LAB_CLASS_FILE")
    os.environ["KAFKA_LAB_CLASS_FILE"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("KAFKA_LAB_CLASS_FILE", None)
        else:
            os.environ["KAFKA_LAB_CLASS_FILE"] = old


def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every worker of this run sees: the parent of the workers' base temp directories under
    pytest-xdist, the base temp directory itself in one process (`-n 0`)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-cluster"


def unsettled_partitions(c: LocalCluster, timeout_s: float) -> list[str]:
    """Wait (up to ``timeout_s``) until every partition has a leader and all its replicas in sync; what is
    still not, if anything."""
    client = c.admin()
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            md = client.list_topics(timeout=5)
            behind = [f"{t}[{p}]" for t, tm in md.topics.items() for p, pm in tm.partitions.items()
                      if pm.leader < 0 or len(pm.isrs) < len(pm.replicas)]
        except KafkaException as exc:
            behind = [f"(no metadata: {exc})"]
        if not behind or time.monotonic() > deadline:
            return behind
        time.sleep(0.5)


def make_whole(c: LocalCluster) -> None:
    """After a test had the cluster alone: every broker running and registered, then (best effort) every
    partition's replicas back in sync, so the next tests do not start on a cluster still recovering."""
    c.up(timeout_s=180)
    behind = unsettled_partitions(c, SETTLE_ISR_S)
    if behind:
        print(f"shared test cluster: {len(behind)} partition(s) not in sync {SETTLE_ISR_S:.0f} s after a "
              f"test that had the cluster alone: {behind[:10]}", file=sys.stderr)


@pytest.fixture(scope="session")
def cluster_access(tmp_path_factory: pytest.TempPathFactory) -> ClusterAccess:
    """The run's shared-cluster directory and its locks (see tests/shared_cluster.py)."""
    return ClusterAccess(shared_dir(tmp_path_factory))


@pytest.fixture(scope="session")
def breakable_access(tmp_path_factory: pytest.TempPathFactory) -> ClusterAccess:
    """The breakable cluster's directory and locks: the same machinery, another cluster."""
    return ClusterAccess(shared_dir(tmp_path_factory).with_name("breakable-cluster"))


def session_cluster(access: ClusterAccess, state: Path) -> Iterator[LocalCluster]:
    """One cluster for every worker of the run: started by the first worker that needs it (with the lab's
    catalogue topics, so tests that create them again find them), stopped by the last to finish."""
    c = LocalCluster(state, version=kafka_version_under_test(), preferred_ports=None,
                     broker_overrides=TEST_BROKER_OVERRIDES)

    def start() -> None:
        try:
            c.up(timeout_s=180)
            admin.create_topics(c)
        except BaseException:
            c.down(purge=True)
            raise

    access.join(start)
    access.heal = lambda: make_whole(c)
    try:
        yield c
    finally:
        access.leave(lambda: discard(c))


def discard(c: LocalCluster) -> None:
    """Stop a test cluster whose data is deleted next: killed (a controlled shutdown of three brokers on a
    loaded machine took 30 s here, and nothing is kept), then ``down --purge`` (which stops any straggler)."""
    for b in c.status().brokers:
        with contextlib.suppress(LabError):  # stopped meanwhile: nothing to kill
            c.broker(BrokerAction.KILL, b.node_id)
    c.down(purge=True)


@pytest.fixture(scope="session")
def shared_cluster(cluster_access: ClusterAccess) -> Iterator[LocalCluster]:
    """The run's shared cluster: ordinary tests use it together; the served app (browser tests) points at it."""
    state = Path(os.environ.get("KAFKA_LAB_TEST_STATE_DIR") or cluster_access.dir / "kafka-cluster")
    yield from session_cluster(cluster_access, state)


@pytest.fixture(scope="session")
def breakable_cluster(breakable_access: ClusterAccess) -> Iterator[LocalCluster]:
    """A second cluster for the tests that must have a cluster alone (they break brokers, hold the lab's lock,
    or see what any other test would do): they take turns on it while the ordinary tests go on on the shared
    one, instead of stopping them all."""
    override = os.environ.get("KAFKA_LAB_TEST_STATE_DIR")
    state = Path(f"{override}-breakable") if override else breakable_access.dir / "kafka-cluster"
    yield from session_cluster(breakable_access, state)


def on_breakable(request: pytest.FixtureRequest) -> bool:
    """Whether this test's cluster is the breakable one: it must have a cluster alone (``ALONE_MARKERS``) and
    no served app of the run (``app_url``, on the shared cluster) looks at it. An AppTest (``app_env``) is
    pointed at whichever cluster the test has."""
    if "app_url" in request.fixturenames:
        return False
    return any(request.node.get_closest_marker(m) for m in ALONE_MARKERS)


@pytest.fixture(autouse=True)
def cluster_turn(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that uses a cluster holds it shared, or alone when marked so (``ALONE_MARKERS``), from
    before its first fixture that touches the cluster until after the last one's teardown."""
    names = set(request.fixturenames)
    if not {"cluster", "shared_cluster", "whole_cluster", "app_env"} & names or is_unit(request.node):
        yield  # (a unit test's ``cluster`` is a stand-in of its own: unit tests start nothing)
        return
    breakable = on_breakable(request)
    request.getfixturevalue("breakable_cluster" if breakable else "shared_cluster")
    access: ClusterAccess = request.getfixturevalue("breakable_access" if breakable else "cluster_access")
    alone = any(request.node.get_closest_marker(m) for m in ALONE_MARKERS)
    breaks = request.node.get_closest_marker("breaks_brokers") is not None
    with access.hold(alone, request.node.nodeid, breaks=breaks) as waited:
        request.node.user_properties.append(("cluster_turn_wait_s", round(waited, 2)))
        yield


@pytest.fixture
def cluster(request: pytest.FixtureRequest, cluster_turn: None) -> LocalCluster:
    """This test's cluster, in its turn: the shared one, or the breakable one for a test that must have a
    cluster alone and that no served app looks at (``on_breakable``)."""
    c: LocalCluster = request.getfixturevalue("breakable_cluster" if on_breakable(request) else "shared_cluster")
    return c


@pytest.fixture
def whole_cluster(request: pytest.FixtureRequest, cluster_turn: None) -> Iterator[LocalCluster]:
    """A cluster this test may break (it has it to itself: it is marked ``breaks_brokers``), made whole
    again (all brokers running) afterwards: the breakable cluster, or the shared one when an app of the run
    looks at it."""
    c: LocalCluster = request.getfixturevalue("cluster")
    try:
        yield c
    finally:
        c.up(timeout_s=120)


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A fresh topic name per test: ``<test>-<uuid>`` (the topic is created by the test)."""
    base = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:60]
    return f"t-{base}-{uuid.uuid4().hex[:8]}"


# --- a consumer group with known lag (lag lab tests) ----------------------------------------------------
#: records produced per partition; the group consumes and commits CONSUMED of them (partition 2: none)
LAGGING_PRODUCED = {0: 100, 1: 80, 2: 50}
LAGGING_CONSUMED = {0: 30, 1: 45}


def produce(cluster: LocalCluster, topic: str, counts: dict[int, int]) -> None:
    with clients.producer(cluster, {"acks": "all", "linger.ms": 5}) as p:
        for part, n in counts.items():
            for i in range(n):
                p.produce(topic, f"{part}-{i}".encode(), partition=part)
        assert p.flush(30) == 0


def consume_and_commit(cluster: LocalCluster, topic: str, group: str, per_partition: dict[int, int]) -> None:
    """Read exactly ``n`` records of each partition, then commit synchronously where reading stopped."""
    c = clients.consumer(cluster, {"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        for part, n in per_partition.items():
            c.assign([TopicPartition(topic, part, 0)])
            got = 0
            for _ in range(200):
                for m in c.consume(num_messages=n - got, timeout=1.0):
                    assert m.error() is None
                    got += 1
                if got >= n:
                    break
            assert got == n
            c.commit(offsets=[TopicPartition(topic, part, n)], asynchronous=False)
    finally:
        c.close()


class LaggingGroup(NamedTuple):
    topic: str
    group: str
    #: records produced per partition, and read + committed per partition (partition 2: never committed)
    produced: dict[int, int]
    consumed: dict[int, int]


@pytest.fixture
def lagging_group(cluster: LocalCluster, topic_name: str) -> LaggingGroup:
    """A 3-partition topic with LAGGING_PRODUCED records per partition, and a group that has read and
    committed LAGGING_CONSUMED of them (partition 2: never committed)."""
    from lab.kafka import admin
    from lab.kafka.specs import TopicSpec

    admin.create_topics(cluster, [TopicSpec(topic_name, 3, 3)])
    produce(cluster, topic_name, LAGGING_PRODUCED)
    group = f"lag-test-{uuid.uuid4().hex[:8]}"
    consume_and_commit(cluster, topic_name, group, LAGGING_CONSUMED)
    return LaggingGroup(topic_name, group, dict(LAGGING_PRODUCED), dict(LAGGING_CONSUMED))
