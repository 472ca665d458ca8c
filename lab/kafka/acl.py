"""An ACL refusal as a clear message: who (principal) may not do what (operation) to which resource, and
the ``kafka-acls.sh`` line an admin runs to allow it.

librdkafka reports a refusal as one of four error codes; the place that knows the operation and the name
(creating a topic, describing a group, starting a transaction) calls ``raise_if_denied``; what slips
through is caught by ``translate`` at the faces' boundary (the launcher, the CLI), which names the
resource from the settings where it can.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException

from lab.cluster.base import Cluster
from lab.core.errors import AuthorizationError

#: librdkafka's refusal codes -> the resource type they are about (kafka-acls.sh's option name).
DENIAL_CODES: dict[int, str] = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "group",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional-id",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "cluster",
}
#: The same refusals as they appear in an error's text (code names, and librdkafka's "Broker: ..." words).
DENIAL_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"TOPIC_AUTHORIZATION_FAILED|Topic authorization failed", re.I), "topic"),
    (re.compile(r"GROUP_AUTHORIZATION_FAILED|Group authorization failed", re.I), "group"),
    (re.compile(r"TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Transactional Id authorization failed", re.I),
     "transactional-id"),
    (re.compile(r"CLUSTER_AUTHORIZATION_FAILED|Cluster authorization failed", re.I), "cluster"),
)
#: What kafka-acls.sh calls each resource type's option.
ACL_OPTION = {"topic": "--topic", "group": "--group", "transactional-id": "--transactional-id", "cluster": "--cluster"}
#: Settings fields that name a resource of each type (for refusals whose error does not name it).
SETTINGS_FIELDS = {"topic": ("topic", "topic_prefix"), "group": ("group",), "transactional-id": ("transactional_id",)}


def denial_of(err: BaseException | KafkaError | str | None) -> str | None:
    """The resource type an ACL refusal is about ("topic", "group", ...), or None when ``err`` is not one.

    Looks through a ``KafkaException``'s ``KafkaError``, the exception's text and its causes."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, KafkaError):
            if err.code() in DENIAL_CODES:
                return DENIAL_CODES[err.code()]
            text = err.str()
        elif isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
            return denial_of(err.args[0]) or denial_of(err.__cause__)
        else:
            text = str(err)
        for pattern, rtype in DENIAL_TEXT:
            if pattern.search(text):
                return rtype
        err = err.__cause__ or err.__context__ if isinstance(err, BaseException) else None
    return None


def principal_of(cluster: Cluster) -> str:
    """The principal the cluster's ACLs see for this lab's clients (SASL username; else what TLS or no
    authentication gives)."""
    cfg = cluster.security_settings()
    if cfg.get("sasl.username"):
        return f"User:{cfg['sasl.username']}"
    if cfg.get("ssl.certificate.location"):
        return "User:<the subject of your client certificate>"
    return "User:ANONYMOUS"


def admin_config(cluster: Cluster) -> str:
    """The admin's client config to name in the kafka-acls line: the lab's ``admin.properties`` next to the
    config this cluster was given (the lab's secured clusters keep both side by side), else the bare name."""
    given = getattr(cluster, "config_file", None)
    if given:
        sibling = Path(given).with_name("admin.properties")
        if sibling.exists():
            return str(sibling)
    return "admin.properties"


def acl_command(cluster: Cluster, principal: str, operation: str, resource_type: str, resource: str) -> str:
    """The kafka-acls.sh line that allows ``principal`` to ``operation`` the resource."""
    target = ACL_OPTION[resource_type] + ("" if resource_type == "cluster" else f" {resource}")
    return (f"kafka-acls.sh --bootstrap-server {cluster.bootstrap_servers()} --command-config {admin_config(cluster)} "
            f"--add --allow-principal {principal} --operation {operation} {target}")


def denied(cluster: Cluster, resource_type: str, operation: str, resource: str, said: str = "") -> AuthorizationError:
    """The error for a refusal of ``operation`` on ``resource`` (type ``resource_type``)."""
    who = principal_of(cluster)
    what = "the cluster" if resource_type == "cluster" else f"{resource_type} {resource!r}"
    line = acl_command(cluster, who, operation, resource_type, resource)
    hint = (f"An admin of the cluster can allow it:\n  {line}\n"
            "(On the lab's secured cluster the student may use every topic, group and transactional id whose "
            "name starts with 'lab-': choose such a name instead.)")
    return AuthorizationError(f"The cluster's ACLs do not allow {who} to {operation} {what}"
                              + (f" (Kafka said: {said})." if said else "."),
                              hint=hint, principal=who, operation=operation, resource_type=resource_type,
                              resource=resource)


def raise_if_denied(err: BaseException | KafkaError | None, cluster: Cluster, operation: str, *,
                    topic: str | None = None, group: str | None = None, transactional_id: str | None = None) -> None:
    """Raise ``AuthorizationError`` when ``err`` is an ACL refusal; the resource is the one of the refused
    type among those given (the cluster for CLUSTER_AUTHORIZATION_FAILED). Otherwise return."""
    rtype = denial_of(err)
    if rtype is None:
        return
    names = {"topic": topic, "group": group, "transactional-id": transactional_id, "cluster": "kafka-cluster"}
    name = names[rtype]
    op = operation if name is not None else ("Describe" if rtype == "cluster" else "All")
    raise denied(cluster, rtype, op, name or "NAME", _code_text(err)) from (err if isinstance(err, BaseException)
                                                                          else None)


def translate(exc: BaseException, cluster: Cluster, settings: Any = None) -> AuthorizationError | None:
    """``exc`` as an ``AuthorizationError`` when it is (or was caused by) an ACL refusal, else None.

    For refusals no inner layer named: the operation is not known (the line allows All), the resource is
    read from the settings (their topic, group, ...) when they name one of the refused type."""
    if isinstance(exc, AuthorizationError):
        return exc
    rtype = denial_of(exc)
    if rtype is None:
        return None
    if rtype == "cluster":
        return denied(cluster, "cluster", "Describe", "kafka-cluster", _code_text(exc))
    name = next((v for f in SETTINGS_FIELDS.get(rtype, ()) if isinstance(v := getattr(settings, f, None), str) and v),
                None)
    return denied(cluster, rtype, "All", name or "NAME", _code_text(exc))


def _code_text(err: BaseException | KafkaError | None) -> str:
    """The refusal's code name as Kafka gave it (e.g. TOPIC_AUTHORIZATION_FAILED)."""
    rtype = denial_of(err)
    return {v: KafkaError(k).name() for k, v in DENIAL_CODES.items()}.get(rtype or "", "")
