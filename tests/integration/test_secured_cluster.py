"""The lab's secured cluster (`cluster up --security sasl_ssl`): one for this module, started through the
same ``LocalCluster.up`` as the CLI on free ports, stopped (and purged) by the CLI at the end. Every kind of
experiment runs against it as an external cluster, as the ``student`` user, through the client config file
real clusters use (KAFKA_LAB_CLIENT_CONFIG); a name outside ``lab-`` is refused with a message that names
principal, operation, resource and the kafka-acls line; and neither password leaks into the run store,
the exports, links, logs or any command line (``ps``) of what the lab starts."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import registry
from lab.cli import main
from lab.cluster import LocalCluster, clients
from lab.cluster.external import ExternalCluster
from lab.cluster.secure import ADMIN_USER, STUDENT_USER
from lab.consumer.perftest import ConsumerCrossCheckSettings
from lab.consumer.seed import SeedSettings
from lab.consumer.settings import ConsumerSettings
from lab.consumer.strategies import StrategiesSettings
from lab.core.errors import AuthorizationError, ControlsDisabled
from lab.eos.settings import TransactionSettings
from lab.export import files, links
from lab.kafka import admin
from lab.kafka.specs import TopicSpec
from lab.lag import sample as lag_sample
from lab.producer.run import ProduceResult
from lab.producer.settings import ProducerSettings
from lab.producer.sweep import SweepSettings
from lab.runs import launcher

pytestmark = pytest.mark.integration

#: How often the process list is read while a broker and a perf tool run (the tool lives a few seconds).
PS_EVERY_S = 0.2


class Secured:
    """The module's secured cluster: the lab's own view (admin), the student's external view, the secrets."""

    def __init__(self, local: LocalCluster, student: ExternalCluster) -> None:
        self.local, self.student = local, student
        self.dir = local.state_dir
        self.bootstrap = local.bootstrap_servers()
        self.passwords = [local.secure_files.password(ADMIN_USER), local.secure_files.password(STUDENT_USER)]
        self.results: list[object] = []

    def run(self, experiment: str, settings: object) -> object:
        """One registered experiment as the student, the way every face launches it."""
        res = launcher.run_sync(registry.get(experiment), self.student, settings, face="test")
        self.results.append(res)
        return res

    def assert_no_secret(self, text: str | bytes, where: str) -> None:
        blob = text if isinstance(text, bytes) else text.encode()
        for pw in self.passwords:
            assert pw.encode() not in blob, f"a password leaked into {where}"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    state = tmp_path_factory.mktemp("secured") / "cluster"
    local = LocalCluster(state, preferred_ports=None, security="sasl_ssl")
    try:
        report = local.up(timeout_s=240)
        assert any("KAFKA_LAB_CLIENT_CONFIG=" in n for n in report.notes), report.notes
        old = os.environ.get("KAFKA_LAB_CLIENT_CONFIG")
        os.environ["KAFKA_LAB_CLIENT_CONFIG"] = str(state / "student.properties")
        try:
            student = ExternalCluster(local.bootstrap_servers())  # reads the file, as `--bootstrap` does
        finally:
            if old is None:
                os.environ.pop("KAFKA_LAB_CLIENT_CONFIG")
            else:
                os.environ["KAFKA_LAB_CLIENT_CONFIG"] = old
        yield Secured(local, student)
    finally:
        assert main(["cluster", "down", "--purge", "--state-dir", str(state)]) == 0


class ProcessWatch:
    """``ps -ww -eo args`` (full width) read every PS_EVERY_S while the block runs: every command line seen."""

    def __init__(self) -> None:
        self.lines: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        while True:
            out = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True).stdout
            self.lines.update(out.splitlines())
            if self._stop.wait(PS_EVERY_S):
                return

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_status_and_files_of_the_secured_cluster(secured: Secured, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "status", "--json", "--state-dir", str(secured.dir)]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["reachable"] is True and st["security"] == "SASL_SSL (SCRAM-SHA-512)"
    assert sum(b["registered"] for b in st["brokers"]) == 3
    for name in ("admin.properties", "student.properties", "security/node.pem", "node-1/server.properties"):
        assert (secured.dir / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
    secured.assert_no_secret(json.dumps(st), "cluster status")
    props = (secured.dir / "node-1" / "server.properties").read_text()
    assert "PLAINTEXT" not in props, "no unauthenticated listener"
    assert "listener.name.controller.ssl.client.auth=required" in props
    url = secured.local.jmx_url(1)
    if url is not None:  # the brokers' JMX over HTTP: reads only (no exec, e.g. a heap dump with the passwords)
        assert _jolokia(url + "read/java.lang:type=Runtime/VmName")["status"] == 200
        assert _jolokia(url + "exec/java.lang:type=Memory/gc")["status"] == 403


def _jolokia(url: str) -> dict[str, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - the test cluster's loopback agent
            body = resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    out: dict[str, object] = json.loads(body)
    return out


def test_producer_run_and_sweep_as_student(secured: Secured) -> None:
    res = secured.run("produce", ProducerSettings(count=2_000))
    assert res.stopped is None and res.delivered == 2_000 and res.failed == 0  # type: ignore[attr-defined]
    sweep = secured.run("produce.sweep", SweepSettings("acks", ProducerSettings(count=300), acks=("1", "all"),
                                                       at_fixed_rate=False))
    assert [r.delivered for r in sweep.runs] == [300, 300]  # type: ignore[attr-defined]
    assert res.run.cluster.backend == "external"  # type: ignore[attr-defined]


def test_transactions_as_student(secured: Secured) -> None:
    s = TransactionSettings(topic=f"lab-sec-txn-{uuid.uuid4().hex[:6]}", transactions=3, records_per_transaction=4,
                            aborted=1, hold_open_s=0.5)
    res = secured.run("eos.transactional", s)
    assert res.stopped is None, res.stopped  # type: ignore[attr-defined]
    assert res.read_committed == 2 * 4 and res.read_uncommitted == 3 * 4  # type: ignore[attr-defined]


def test_consumer_benchmark_and_perf_tool_as_student_no_secret_on_a_command_line(secured: Secured) -> None:
    topic = f"lab-sec-consume-{uuid.uuid4().hex[:6]}"
    secured.run("consumer.seed", SeedSettings(topic=topic, messages=3_000, partitions=3))
    with ProcessWatch() as ps:
        res = secured.run("consumer.cross-check", ConsumerCrossCheckSettings(ConsumerSettings(topic=topic,
                                                                                               count=3_000)))
    assert res.stopped is None and res.lab.consumed == 3_000, res.stopped  # type: ignore[attr-defined]
    assert res.perf is not None and res.perf.records == 3_000  # type: ignore[attr-defined]
    seen = "\n".join(ps.lines)
    assert "ConsumerPerformance" in seen and "kafka.Kafka" in seen, "the watch saw the tool and the brokers"
    assert str(secured.dir) in seen, "the watch saw this module's brokers"
    secured.assert_no_secret(seen, "a command line (ps)")
    assert "--command-config" in " ".join(res.command)  # type: ignore[attr-defined]  # 4.2+ names it so


def test_strategies_lag_and_describe_as_student(secured: Secured) -> None:
    res = secured.run("consumer.strategies", StrategiesSettings(strategies=("range",), members=2,
                                                                partitions=(3, 2), produce_rate=50, hold_s=0.3))
    assert res.stopped is None and len(res.runs) == 1, res.stopped  # type: ignore[attr-defined]

    topic, group = f"lab-sec-lag-{uuid.uuid4().hex[:6]}", f"lab-sec-group-{uuid.uuid4().hex[:6]}"
    admin.create_topics(secured.student, [TopicSpec(topic, 1, 3)])
    with clients.producer(secured.student, {"acks": "all"}) as p:
        for i in range(20):
            p.produce(topic, str(i).encode())
        assert p.flush(30) == 0
    c = clients.consumer(secured.student, {"group.id": group, "auto.offset.reset": "earliest",
                                           "enable.auto.commit": False})
    try:
        c.subscribe([topic])
        got = 0
        while got < 5:
            got += sum(1 for m in c.consume(5 - got, timeout=10) if m.error() is None)
        c.commit(asynchronous=False)
    finally:
        c.close()
    lag = lag_sample.sample(secured.student, group)
    assert lag.total_lag == 15, lag

    described = admin.describe_topics(secured.student, [topic], with_elr=True)
    assert described[0].name == topic and len(described[0].partitions) == 1
    # ISR, ELR and the feature level from Kafka's own tools, which got the student's settings in a file
    assert described[0].elr_feature_level == 1 and described[0].partitions[0].elr == (), described[0]
    with pytest.raises(ControlsDisabled):
        secured.student.broker("stop", 1)


def test_a_name_outside_lab_is_refused_with_the_acl_to_add(secured: Secured,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    name = f"sec-denied-{uuid.uuid4().hex[:6]}"
    os.environ["KAFKA_LAB_CLIENT_CONFIG"] = str(secured.dir / "student.properties")
    try:
        code = main(["consumer", "seed", "--topic", name, "--messages", "10", "--quiet",
                     "--bootstrap", secured.bootstrap])
    finally:
        os.environ.pop("KAFKA_LAB_CLIENT_CONFIG")
    err = capsys.readouterr().err
    assert code == 2
    assert f"do not allow User:student to Create topic '{name}'" in err, err
    assert (f"kafka-acls.sh --bootstrap-server {secured.bootstrap} --command-config "
            f"{secured.dir / 'admin.properties'} --add --allow-principal User:student --operation Create "
            f"--topic {name}") in err, err
    secured.assert_no_secret(err, "an error message")

    with pytest.raises(AuthorizationError) as denied:  # the same through the launcher, from the engine
        launcher.run_sync(registry.get("eos.transactional"), secured.student,
                          TransactionSettings(topic=name, transactions=2, records_per_transaction=1, aborted=1,
                                              hold_open_s=0.5))
    assert (denied.value.principal, denied.value.operation, denied.value.resource) == ("User:student", "Create", name)


def test_no_secret_in_the_run_store_exports_links_or_logs(secured: Secured, runs_db: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    produced = [r for r in secured.results if isinstance(r, ProduceResult)]
    if not produced:  # run alone or first: a producer run of its own
        produced = [secured.run("produce", ProducerSettings(count=200))]
    secured.assert_no_secret(runs_db.read_bytes(), f"the run store {runs_db}")
    for wal in runs_db.parent.glob(runs_db.name + "-*"):
        secured.assert_no_secret(wal.read_bytes(), f"the run store's {wal.name}")
    # every run as JSON (all it holds, the cluster's description too); a producer run in every format (it has
    # them all: charts for CSV, the OMB form), which draw on the same fields
    exports = [(r, "json") for r in secured.results] + [(produced[0], f) for f in ("html", "csv", "omb")]
    for res, fmt in exports:
        for name, blob in files.export_files(res, fmt).items():
            secured.assert_no_secret(blob, f"the {fmt} export {name}")
    linked = [links.link_for(r.run.experiment, r.settings) for r in secured.results  # type: ignore[attr-defined]
              if registry.get(r.run.experiment).page is not None]  # type: ignore[attr-defined]
    assert linked, "at least one run has a page, so a link"
    for link in linked:
        secured.assert_no_secret(link, f"the link {link}")
    st = secured.student.status()  # what the app's cluster badge and Cluster page show of an external cluster
    assert st.reachable and st.security == "SASL_SSL (SCRAM-SHA-512)"
    secured.assert_no_secret(json.dumps(st.to_dict(), default=str), "the external cluster's status")
    secured.assert_no_secret(repr(secured.student.facts()), "a run's cluster facts")
    for log in secured.dir.glob("node-*/logs/*"):
        secured.assert_no_secret(log.read_bytes(), f"the broker log {log}")
    secured.assert_no_secret(caplog.text, "the captured logs")


def _page_text(at: object) -> str:
    """Everything the page drew (every element's protobuf, sidebar included), as one text."""
    out: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)  # type: ignore[attr-defined]
    return "\n".join(out)


def test_pages_as_student_run_and_show_no_secret(secured: Secured, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app pointed at the secured cluster as the student (bootstrap + client config file, as a person
    sets it up): the Cluster page and a producer run on the Producer page, whose drawn elements hold
    neither password."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KAFKA_LAB_BOOTSTRAP", secured.bootstrap)
    monkeypatch.setenv("KAFKA_LAB_CLIENT_CONFIG", str(secured.dir / "student.properties"))
    app = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
    at = AppTest.from_file(app, default_timeout=60)
    at.switch_page("pages/cluster.py")
    at.run()
    assert not at.exception, at.exception
    shown = _page_text(at)
    assert "SASL_SSL" in shown, "the Cluster page says how it connects"
    secured.assert_no_secret(shown, "the Cluster page")

    at.switch_page("pages/producer.py")
    at.run()
    at.sidebar.radio(key="run_for").set_value("count").run()
    at.sidebar.text_input(key="count").input("500")
    at.sidebar.button(key="producer_run_btn").click().run()
    assert not at.exception, at.exception
    run = launcher.get(at.session_state["producer_run_id"])
    assert run is not None and run.join(90), "the run did not finish in time"
    at.run()
    assert not at.exception, at.exception
    assert run.result.delivered == 500, run.result
    secured.assert_no_secret(_page_text(at), "the Producer page after a run")
