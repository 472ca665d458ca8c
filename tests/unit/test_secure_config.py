"""The secured cluster's pure parts: the broker and client settings it writes, the java @argfile, the Java
tools' client config, the ACL refusal message, and that every name the lab uses starts with lab-."""

from __future__ import annotations

import dataclasses
import ipaddress
import stat
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, KafkaException
from cryptography import x509

from lab.cluster import secure
from lab.cluster.external import ExternalCluster, security_settings
from lab.cluster.local_config import server_properties
from lab.cluster.local_state import NodeState
from lab.consumer.seed import SeedSettings
from lab.consumer.settings import ConsumerSettings
from lab.core.errors import AuthorizationError, SettingsError
from lab.eos import settings as eos_settings
from lab.kafka import acl
from lab.kafka.admin import LAB_TOPICS
from lab.kafka.tools import java_security_properties, properties_text
from lab.replication import settings as repl_settings

PASSWORD = "pw-Secret_123"


def _files(tmp_path: Path) -> secure.SecureFiles:
    files = secure.SecureFiles(tmp_path)
    files.dir.mkdir(parents=True)
    for user in (secure.ADMIN_USER, secure.STUDENT_USER):
        secure.write_private(files.properties(user), secure.client_properties(user, PASSWORD + user, files.ca))
    return files


def test_a_secured_node_has_no_unauthenticated_listener(tmp_path: Path) -> None:
    files = _files(tmp_path)
    nodes = {n: NodeState(n, 9000 + n, 9100 + n, 9200 + n) for n in (1, 2, 3)}
    sec = secure.broker_properties("127.0.0.1", 9001, 9101, files)
    props = dict(line.split("=", 1) for line in server_properties(nodes[1], nodes, tmp_path, {}, sec).splitlines())
    assert props["listeners"] == "CLIENT://127.0.0.1:9001,CONTROLLER://127.0.0.1:9101"
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,CONTROLLER:SSL"
    assert "PLAINTEXT" not in "".join(props.values())
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["super.users"] == "User:admin;User:CN=kafka-lab-node"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    holding = [k for k, v in props.items() if PASSWORD in v]
    assert holding == ["listener.name.client.scram-sha-512.sasl.jaas.config"]
    assert PASSWORD + "admin" in props[holding[0]] and PASSWORD + "student" not in props[holding[0]]


def test_client_properties_serve_the_lab_and_javas_tools(tmp_path: Path) -> None:
    files = _files(tmp_path)
    path = files.properties(secure.STUDENT_USER)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cfg = security_settings({"KAFKA_LAB_CLIENT_CONFIG": str(path)})
    assert cfg == {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "student",
                   "sasl.password": PASSWORD + "student", "ssl.ca.location": str(files.ca)}
    text = path.read_text()  # what kafka-acls.sh --command-config reads
    assert 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="student"' \
        in text
    assert f"ssl.truststore.location={files.ca}" in text and "ssl.truststore.type=PEM" in text


def test_the_argfile_quotes_every_argument_and_is_private_and_deleted(tmp_path: Path) -> None:
    assert secure.argfile_line('a "b" \\c') == '"a \\"b\\" \\\\c"'
    with secure.java_argfile(["format", "--add-scram", "SCRAM-SHA-512=[name=admin,password=x y]"], tmp_path) as f:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert f.read_text().splitlines()[-1] == '"SCRAM-SHA-512=[name=admin,password=x y]"'
    assert not f.exists()
    files = _files(tmp_path / "s")
    assert secure.scram_args(files) == [
        "--add-scram", f"SCRAM-SHA-512=[name=admin,password={PASSWORD}admin]",
        "--add-scram", f"SCRAM-SHA-512=[name=student,password={PASSWORD}student]"]


def test_the_lab_makes_a_ca_and_a_node_certificate_for_localhost() -> None:
    ca_pem, node_pem = secure.make_tls()
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    assert node_pem.startswith("-----BEGIN PRIVATE KEY-----")  # unencrypted PKCS#8, as Kafka's PEM keystore reads
    node = x509.load_pem_x509_certificates(node_pem.split("-----END PRIVATE KEY-----\n", 1)[1].encode())[0]
    assert node.issuer == ca.subject
    san = node.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_security_modes_are_checked() -> None:
    assert secure.check_mode("SASL_SSL") == "sasl_ssl"
    with pytest.raises(SettingsError, match="plaintext, sasl_ssl"):
        secure.check_mode("tls")


def test_java_tools_get_the_security_settings_under_javas_names(tmp_path: Path) -> None:
    cfg = {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "student",
           "sasl.password": 'p"w', "ssl.ca.location": "/ca.pem", "ssl.endpoint.identification.algorithm": "none"}
    assert java_security_properties(cfg) == {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required username="student"'
                            ' password="p\\"w";',
        "ssl.truststore.type": "PEM", "ssl.truststore.location": "/ca.pem",
        "ssl.endpoint.identification.algorithm": ""}
    assert java_security_properties({}) == {"security.protocol": "PLAINTEXT"}
    with pytest.raises(SettingsError, match="GSSAPI"):
        java_security_properties({"security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI"})
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("CERT\nLINE\n")
    key.write_text("KEY\n")
    mtls = java_security_properties({"security.protocol": "SSL", "ssl.certificate.location": str(cert),
                                     "ssl.key.location": str(key)})
    assert mtls["ssl.keystore.certificate.chain"] == "CERT\nLINE\n" and mtls["ssl.keystore.type"] == "PEM"
    assert properties_text({"k": "a\nb\\c"}) == "k=a\\nb\\\\c\n"


STUDENT = {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "student",
           "sasl.password": PASSWORD}


def test_an_acl_refusal_names_principal_operation_resource_and_the_acl_to_add() -> None:
    cluster = ExternalCluster("127.0.0.1:9092,127.0.0.1:9093", security=STUDENT)
    err = KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."))
    with pytest.raises(AuthorizationError) as raised:
        acl.raise_if_denied(err, cluster, "Write", topic="orders")
    e = raised.value
    assert (e.principal, e.operation, e.resource_type, e.resource) == ("User:student", "Write", "topic", "orders")
    assert e.message == ("The cluster's ACLs do not allow User:student to Write topic 'orders' "
                         "(Kafka said: TOPIC_AUTHORIZATION_FAILED).")
    assert ("kafka-acls.sh --bootstrap-server 127.0.0.1:9092,127.0.0.1:9093 --command-config admin.properties "
            "--add --allow-principal User:student --operation Write --topic orders") in (e.hint or "")
    assert PASSWORD not in str(e)
    acl.raise_if_denied(KafkaException(KafkaError(KafkaError._TIMED_OUT)), cluster, "Write", topic="orders")


@pytest.mark.parametrize(("error", "kind"), [
    (KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED), "group"),
    (KafkaError(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED), "transactional-id"),
    (KafkaError(KafkaError.CLUSTER_AUTHORIZATION_FAILED), "cluster"),
    ("Could not describe the group 'g': Broker: Group authorization failed", "group"),
    ("KafkaError{code=TOPIC_AUTHORIZATION_FAILED,val=29}", "topic"),
    ("Broker: Not enough in-sync replicas", None),
])
def test_refusals_are_recognised_by_code_and_by_text(error: KafkaError | str, kind: str | None) -> None:
    assert acl.denial_of(error) == kind


def test_a_refusal_no_layer_named_takes_its_resource_from_the_settings(tmp_path: Path) -> None:
    (tmp_path / "student.properties").write_text("")
    (tmp_path / "admin.properties").write_text("")
    cluster = ExternalCluster("127.0.0.1:9092", security=STUDENT)
    cluster.config_file = str(tmp_path / "student.properties")
    exc = RuntimeError("consume failed")
    exc.__cause__ = KafkaException(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED))
    denial = acl.translate(exc, cluster, SimpleSettings(group="my-group"))
    assert denial is not None and denial.resource == "my-group" and denial.operation == "All"
    assert f"--command-config {tmp_path / 'admin.properties'} " in (denial.hint or "")
    assert acl.translate(RuntimeError("other"), cluster) is None


@dataclasses.dataclass(frozen=True)
class SimpleSettings:
    group: str


def test_every_name_the_lab_uses_starts_with_lab() -> None:
    """The student's ACLs are prefixed 'lab-': a default outside it would be refused on a secured cluster."""
    names = [t.name for t in LAB_TOPICS]
    names += [ConsumerSettings().topic, SeedSettings().topic, eos_settings.DuplicateSettings().topic,
              eos_settings.TransactionSettings().topic, eos_settings.FencingSettings().topic,
              eos_settings.PipelineSettings().topic_prefix, repl_settings.MonitorSettings().topic,
              repl_settings.MinIsrSettings().topic, repl_settings.HwLeoSettings().topic,
              repl_settings.StorageSettings().topic, repl_settings.StorageSettings().compact_topic,
              repl_settings.UncleanSettings().topic_prefix]
    bad = [n for n in names if not n.startswith(secure.LAB_PREFIX)]
    assert not bad, bad
