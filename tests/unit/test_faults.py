"""Bad input and faults that need no cluster: each gives one message saying what is wrong and what to do
(a ``LabError`` with a hint), never a traceback or a hang."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lab.cli import main
from lab.cluster import ExternalCluster, from_env
from lab.cluster.external import check_bootstrap, parse_properties, security_settings
from lab.core.errors import ControlsDisabled, LabError, SettingsError, UnreachableError
from lab.kafka.specs import TopicSpec

#: An unreachable cluster must be reported within the probe timeout plus client start-up, not hang.
UNREACHABLE_WITHIN_S = 10.0


def assert_clear(err: LabError, *needles: str) -> None:
    text = str(err)
    assert err.hint, f"no hint in: {text}"
    assert "Traceback" not in text
    for needle in needles:
        assert needle in text, f"{needle!r} missing from: {text}"


# --- external clusters --------------------------------------------------------------------------------
def test_unreachable_external_cluster_is_reported_fast() -> None:
    c = ExternalCluster("127.0.0.1:1", security={})
    t0 = time.monotonic()
    with pytest.raises(UnreachableError) as err:
        c.probe()
    assert time.monotonic() - t0 < UNREACHABLE_WITHIN_S
    assert_clear(err.value, "No Kafka broker answered at 127.0.0.1:1", "bootstrap servers are right")


def test_unreachable_external_cluster_status_does_not_raise() -> None:
    st = ExternalCluster("127.0.0.1:1", security={}).status()
    assert not st.reachable and st.brokers == () and not st.controls_enabled


def test_external_cluster_controls_say_why_they_are_off() -> None:
    with pytest.raises(ControlsDisabled) as err:
        ExternalCluster("127.0.0.1:1", security={}).broker("stop", 1)
    assert_clear(err.value, "external backend", "not run by the lab")


@pytest.mark.parametrize(
    "bootstrap",
    ["", " , ", "localhost", "localhost:", ":9092", "host:abc", "host:0", "host:70000", "a:1,b", "host:-1"],
)
def test_invalid_bootstrap(bootstrap: str) -> None:
    with pytest.raises(SettingsError) as err:
        check_bootstrap(bootstrap)
    assert_clear(err.value, "host:port")


def test_valid_bootstrap_is_normalised() -> None:
    assert check_bootstrap(" a:1 , b:2 ,") == "a:1,b:2"
    assert check_bootstrap("[::1]:9092") == "[::1]:9092"


def test_bad_security_protocol() -> None:
    with pytest.raises(SettingsError) as err:
        security_settings({"KAFKA_LAB_SECURITY_PROTOCOL": "TLS"})
    assert_clear(err.value, "security.protocol='TLS'", "SASL_SSL")


def test_bad_sasl_mechanism() -> None:
    with pytest.raises(SettingsError) as err:
        security_settings({"KAFKA_LAB_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_LAB_SASL_MECHANISM": "MD5"})
    assert_clear(err.value, "sasl.mechanism='MD5'", "SCRAM-SHA-512")


def test_sasl_without_credentials_names_the_variables() -> None:
    with pytest.raises(SettingsError) as err:
        security_settings({"KAFKA_LAB_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_LAB_SASL_USERNAME": "me"})
    assert_clear(err.value, "needs sasl.password", "KAFKA_LAB_SASL_PASSWORD")


def test_client_config_file_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        security_settings({"KAFKA_LAB_CLIENT_CONFIG": str(tmp_path / "nope.properties")})
    assert_clear(err.value, "not a file")


def test_client_config_file_with_unknown_key_and_bad_line(tmp_path: Path) -> None:
    cfg = tmp_path / "client.properties"
    cfg.write_text("# comment\nsecurity.protocol=SSL\nbootstrap.servers=evil:9092\n")
    with pytest.raises(SettingsError) as err:
        security_settings({"KAFKA_LAB_CLIENT_CONFIG": str(cfg)})
    assert_clear(err.value, "bootstrap.servers", "Allowed:")
    with pytest.raises(SettingsError) as err2:
        parse_properties("security.protocol SSL")
    assert_clear(err2.value, "has no '='", "key=value")


def test_good_security_settings_from_file_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "client.properties"
    cfg.write_text("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=lab\n")
    got = security_settings({"KAFKA_LAB_CLIENT_CONFIG": str(cfg), "KAFKA_LAB_SASL_PASSWORD": "s3cret",
                             "KAFKA_LAB_UNRELATED": "ignored"})
    assert got == {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "lab",
                   "sasl.password": "s3cret"}


def test_unknown_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_LAB_BOOTSTRAP", raising=False)
    with pytest.raises(SettingsError) as err:
        from_env(backend="kubernetes")
    assert_clear(err.value, "Unknown backend 'kubernetes'", "local, compose, external")


# --- topic settings -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "has space"}, "Topic name 'has space' is not valid"),
        ({"name": ""}, "Topic name '' is not valid"),
        ({"name": ".."}, "is not valid"),
        ({"name": "x" * 250}, "is not valid"),
        ({"partitions": 0}, "partitions=0"),
        ({"partitions": 1001}, "partitions=1001"),
        ({"partitions": True}, "partitions=True"),
        ({"partitions": "3"}, "partitions='3'"),
        ({"replication_factor": 4}, "replication factor 4"),
        ({"replication_factor": 0}, "replication factor 0"),
        ({"configs": {"segment.bytes": 1048576}}, "must be given as a string"),
        ({"configs": {"retention.ms": "-5"}}, "retention.ms='-5' is not a non-negative whole number"),
        ({"configs": {"retention.ms": "--1"}}, "retention.ms='--1'"),
        ({"configs": {"segment.ms": "-1"}}, "segment.ms='-1'"),
        ({"configs": {"segment.bytes": "1e6"}}, "segment.bytes='1e6'"),
        ({"configs": {"max.message.bytes": "１０"}}, "max.message.bytes='１０'"),
        ({"configs": {"segment.bytes": "100"}}, "segment.bytes=100 is too small"),
        ({"configs": {"cleanup.policy": "compacted"}}, "cleanup.policy='compacted'"),
        ({"configs": {"compression.type": "brotli"}}, "compression.type='brotli'"),
        ({"configs": {"min.insync.replicas": "3"}, "replication_factor": 2}, "cannot be met"),
    ],
)
def test_invalid_topic_settings(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"name": "lab-topic", **kwargs}
    with pytest.raises(SettingsError) as err:
        TopicSpec(**args)  # type: ignore[arg-type]
    assert_clear(err.value, needle)


def test_valid_topic_settings() -> None:
    spec = TopicSpec("lab.topic_1-a", 6, 3, {"retention.ms": "-1", "retention.bytes": "-1",
                                             "cleanup.policy": "compact,delete", "min.insync.replicas": "2"})
    assert spec.partitions == 6


# --- the CLI ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([], "usage: kafka-lab"),
        (["cluster", "explode"], "invalid choice: 'explode'"),
        (["broker", "stop", "x"], "invalid int value: 'x'"),
        (["broker", "fly", "1"], "invalid choice: 'fly'"),
        (["cluster", "status", "--backend", "cloud"], "invalid choice: 'cloud'"),
        (["cluster", "up", "--timeout", "soon"], "invalid float value: 'soon'"),
    ],
)
def test_cli_bad_arguments_exit_2_with_a_message(argv: list[str], needle: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors end this way, as they do for `kafka-lab`
        code = exc.code  # type: ignore[assignment]
    out = capsys.readouterr()
    assert code == 2
    assert needle in out.err and "Traceback" not in out.err and out.out == ""


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["cluster", "status", "--bootstrap", "nonsense"], "Bootstrap server 'nonsense' is not host:port"),
        (["cluster", "up", "--version", "2.8"], "Kafka version '2.8' is not supported"),
        (["broker", "stop", "2"], "There is no local cluster yet"),
        (["cluster", "down", "--bootstrap", "127.0.0.1:1"], "Broker controls are off"),
    ],
)
def test_cli_lab_errors_exit_2_with_the_fix(argv: list[str], needle: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KAFKA_LAB_STATE_DIR", str(tmp_path / "no-cluster"))
    for var in ("KAFKA_LAB_BOOTSTRAP", "KAFKA_LAB_BACKEND", "KAFKA_HOME"):
        monkeypatch.delenv(var, raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 2, "one message line and one hint line"
    assert main([*argv, "--json"]) == 2
    payload = json.loads(capsys.readouterr().err)
    assert needle in payload["error"] and payload["hint"]
