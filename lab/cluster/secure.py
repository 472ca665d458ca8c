"""The local backend's secured mode (``kafka-lab cluster up --security sasl_ssl``): TLS from a CA the lab
makes, SCRAM-SHA-512 users, the StandardAuthorizer and the ACLs of the ``student`` user.

Listeners of a secured node::

    CLIENT      SASL_SSL (SCRAM-SHA-512)   clients and the brokers among themselves (as ``admin``)
    CONTROLLER  SSL, client certificate required (mutual TLS: only holders of the node key get in)

No listener accepts anybody unauthenticated. Two users, their passwords random (``secrets``):
``admin`` (a super user: the lab's own readiness checks and ACL set-up) and ``student``, allowed
everything on the topics, groups and transactional ids whose names start with ``lab-`` (every name the
lab's experiments use) and nothing else.

Files under ``<state_dir>/security/`` (secrets mode 0600; the folder 0700)::

    ca.pem                 the CA certificate clients trust (ssl.ca.location)
    node.pem               the nodes' private key + certificate (127.0.0.1 and localhost), PEM keystore
    admin.properties       librdkafka settings of the admin user (KAFKA_LAB_CLIENT_CONFIG format)
    student.properties     the same for the student

Passwords never reach a command line: SCRAM credentials are bootstrapped by ``kafka-storage format`` read
from a java ``@argfile`` (mode 0600, deleted right after), and the brokers read theirs from their
``server.properties`` (mode 0600).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from lab.cluster import clients
from lab.cluster.clients import HasClientConfig
from lab.cluster.external import JAVA_ONLY_KEYS, parse_properties
from lab.core.context import poll_until
from lab.core.errors import ClusterError, SettingsError

PLAINTEXT = "plaintext"
SASL_SSL = "sasl_ssl"
#: What `cluster up --security` accepts.
SECURITY_MODES = (PLAINTEXT, SASL_SSL)
MECHANISM = "SCRAM-SHA-512"
ADMIN_USER = "admin"
STUDENT_USER = "student"
#: Every topic, group and transactional id the lab's experiments use starts with this; the student's ACLs
#: are PREFIXED on it.
LAB_PREFIX = "lab-"
#: The nodes' certificate subject; with mutual TLS on the controller listener it is their principal.
NODE_CN = "kafka-lab-node"
NODE_PRINCIPAL = f"User:CN={NODE_CN}"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
#: How long the lab's certificates are valid: a lab cluster lives for a course, not for years.
CERT_DAYS = 825
#: The brokers' JMX over HTTP (Jolokia, on 127.0.0.1) has no login: on a secured cluster it answers reads
#: only, what the lab asks (log end offsets, the active controller). Without this anybody on the machine
#: could ``exec`` JVM operations, e.g. dump a broker's heap with the admin password in it.
JOLOKIA_POLICY = """<?xml version="1.0" encoding="utf-8"?>
<restrict>
  <commands>
    <command>read</command>
    <command>list</command>
    <command>search</command>
    <command>version</command>
  </commands>
</restrict>
"""
#: Random password length in bytes (token_urlsafe: ~1.3 characters per byte, letters, digits, - and _).
PASSWORD_BYTES = 24


def check_mode(mode: str) -> str:
    """``mode`` lower-cased when it is one of ``SECURITY_MODES``; else ``SettingsError``."""
    m = str(mode).lower()
    if m not in SECURITY_MODES:
        raise SettingsError(f"Security mode {mode!r} is not known.", hint=f"Use one of {', '.join(SECURITY_MODES)}.")
    return m


@dataclass(frozen=True)
class SecureFiles:
    """Where a secured local cluster keeps its TLS material and client settings."""

    state_dir: Path

    @property
    def dir(self) -> Path:
        return self.state_dir / "security"

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def node_pem(self) -> Path:
        return self.dir / "node.pem"

    def properties(self, user: str) -> Path:
        """Client settings of ``user`` (admin or student) — also written next to the state dir's top."""
        return self.state_dir / f"{user}.properties"

    @property
    def jolokia_policy(self) -> Path:
        """The brokers' Jolokia agents answer only reads (see ``JOLOKIA_POLICY``)."""
        return self.dir / "jolokia-access.xml"

    @property
    def ready(self) -> bool:
        return all(p.exists() for p in (self.ca, self.node_pem, self.properties(ADMIN_USER),
                                        self.properties(STUDENT_USER), self.jolokia_policy))

    def client_settings(self, user: str = ADMIN_USER) -> dict[str, str]:
        """``user``'s librdkafka security settings, read from its properties file."""
        path = self.properties(user)
        if not path.exists():
            raise ClusterError(f"The secured cluster's {path.name} is missing from {self.state_dir}.",
                               hint="Run `kafka-lab cluster down --purge` and `cluster up --security sasl_ssl` again.")
        return {k: v for k, v in parse_properties(path.read_text()).items() if k not in JAVA_ONLY_KEYS}

    def password(self, user: str) -> str:
        return self.client_settings(user)["sasl.password"]


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only (created so; never world-readable meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def client_properties(user: str, password: str, ca: Path) -> str:
    """One user's client settings as a properties file both the lab (librdkafka keys, as
    ``lab/cluster/external.py`` reads them) and Kafka's Java tools (``--command-config``) can use."""
    rdkafka = {"security.protocol": "SASL_SSL", "sasl.mechanism": MECHANISM, "sasl.username": user,
               "sasl.password": password, "ssl.ca.location": str(ca)}
    java = {"sasl.jaas.config": jaas(user, password), "ssl.truststore.type": "PEM", "ssl.truststore.location": str(ca)}
    return ("# kafka-lab: KAFKA_LAB_CLIENT_CONFIG=<this file> kafka-lab COMMAND --bootstrap HOST:PORT\n"
            + "".join(f"{k}={v}\n" for k, v in rdkafka.items())
            + "# Kafka's Java tools also read these (kafka-acls.sh --command-config <this file>)\n"
            + "".join(f"{k}={v}\n" for k, v in java.items()))


def prepare(state_dir: Path) -> SecureFiles:
    """Make the CA, the nodes' key and certificate, and both users' random passwords (once per cluster)."""
    files = SecureFiles(state_dir)
    if files.ready:
        return files
    files.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(files.dir, 0o700)
    files.jolokia_policy.write_text(JOLOKIA_POLICY)
    ca_pem, node_pem = make_tls()
    files.ca.write_text(ca_pem)
    write_private(files.node_pem, node_pem)
    for user in (ADMIN_USER, STUDENT_USER):
        write_private(files.properties(user),
                      client_properties(user, secrets.token_urlsafe(PASSWORD_BYTES), files.ca))
    return files


def make_tls() -> tuple[str, str]:
    """A fresh CA and a node certificate it signed for 127.0.0.1 and localhost (server and client use).

    Returns (the CA certificate, the node's unencrypted PKCS#8 key followed by its certificate chain), PEM.
    The CA's key is not kept: a new cluster gets a new CA.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kafka-lab CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    node = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NODE_CN)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return ca.public_bytes(pem).decode(), key_pem + node.public_bytes(pem).decode() + ca.public_bytes(pem).decode()


def jaas(user: str, password: str) -> str:
    """A ScramLoginModule JAAS line (Java's ``sasl.jaas.config``)."""
    return f'{SCRAM_MODULE} required username="{user}" password="{password}";'


def broker_properties(host: str, client_port: int, controller_port: int, files: SecureFiles) -> dict[str, str]:
    """The listener, TLS, SASL and authorizer settings of one secured node (they replace the plain ones)."""
    return {
        "listeners": f"CLIENT://{host}:{client_port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"CLIENT://{host}:{client_port}",
        "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SSL",
        "inter.broker.listener.name": "CLIENT",
        "controller.listener.names": "CONTROLLER",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.client.{MECHANISM.lower()}.sasl.jaas.config": jaas(ADMIN_USER, files.password(ADMIN_USER)),
        "listener.name.controller.ssl.client.auth": "required",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(files.node_pem),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(files.ca),
        "authorizer.class.name": AUTHORIZER,
        "super.users": f"User:{ADMIN_USER};{NODE_PRINCIPAL}",
        "allow.everyone.if.no.acl.found": "false",
    }


def argfile_line(arg: str) -> str:
    """One argument of a java ``@argfile``, quoted (backslash and double quote escaped)."""
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def java_argfile(args: list[str], directory: Path) -> Iterator[Path]:
    """``args`` in a java ``@argfile`` (mode 0600) for the block, deleted after: the JVM reads them from
    the file, so ``ps`` shows only ``java @FILE``."""
    path = directory / f".args-{secrets.token_hex(6)}"
    write_private(path, "\n".join(argfile_line(a) for a in args) + "\n")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def scram_args(files: SecureFiles) -> list[str]:
    """`kafka-storage format` arguments that bootstrap both users' SCRAM credentials (secrets: argfile only)."""
    out: list[str] = []
    for user in (ADMIN_USER, STUDENT_USER):
        out += ["--add-scram", f"{MECHANISM}=[name={user},password={files.password(user)}]"]
    return out


#: What the student may do: everything on the resources of these types whose names start with LAB_PREFIX.
STUDENT_RESOURCE_TYPES = ("TOPIC", "GROUP", "TRANSACTIONAL_ID")
#: Bound on creating the student's ACLs (the controller answers within a second once the cluster is ready),
#: and on each broker's metadata catching up with them.
ACL_TIMEOUT_S = 30.0
#: Pause between asking a broker whether it has the ACLs yet (metadata reaches brokers within milliseconds).
ACL_POLL_S = 0.2


def student_acls() -> list[AclBinding]:
    """The student's ACLs: ALLOW ALL on every ``lab-``-prefixed topic, group and transactional id."""
    return [AclBinding(ResourceType[rt], LAB_PREFIX, ResourcePatternType.PREFIXED, f"User:{STUDENT_USER}", "*",
                       AclOperation.ALL, AclPermissionType.ALLOW) for rt in STUDENT_RESOURCE_TYPES]


def grant_student(cluster: HasClientConfig, brokers: list[str]) -> None:
    """Create the student's ACLs (as admin; creating an existing ACL again is a no-op), then wait until each
    of ``brokers`` (host:port) has them: every broker authorizes from its own copy of the metadata, and one
    that lags would refuse the student's first request."""
    adm = clients.admin(cluster)  # kept until the futures are done: a dropped client cancels its requests
    futures = adm.create_acls(student_acls(), request_timeout=ACL_TIMEOUT_S)
    for binding, fut in futures.items():
        try:
            fut.result(timeout=ACL_TIMEOUT_S)
        except KafkaException as exc:
            raise ClusterError(f"Creating the student's ACL {binding} failed: {exc}",
                               hint="See the broker logs under the state dir.") from exc
    want = len(student_acls())
    # None: any name, any host (confluent-kafka's "match anything" for these two)
    flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,  # type: ignore[arg-type]
                           f"User:{STUDENT_USER}", None, AclOperation.ANY, AclPermissionType.ANY)  # type: ignore[arg-type]
    for addr in brokers:
        # a fresh client per broker, bootstrapped on it alone: librdkafka asks the broker it is connected to
        one = clients.admin(cluster, {"bootstrap.servers": addr})

        def listed(one: Any = one) -> bool:
            try:
                found = one.describe_acls(flt, request_timeout=ACL_TIMEOUT_S).result(timeout=ACL_TIMEOUT_S)
            except KafkaException:
                return False
            return len(found) >= want

        if not poll_until(listed, ACL_TIMEOUT_S, every_s=ACL_POLL_S):
            raise ClusterError(f"Broker {addr} did not list the student's ACLs within {ACL_TIMEOUT_S:.0f} s.",
                               hint="See the broker logs under the state dir; `kafka-lab cluster up` tries again.")
