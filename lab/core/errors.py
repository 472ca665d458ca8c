"""The lab's one error family.

Every failure a person can cause or meet (bad settings, no Java, a broker that will not start, an
unreachable cluster) surfaces as a ``LabError`` whose message says what went wrong *and what to do*.
Lower-level errors (``KafkaException``, ``OSError``, ``subprocess`` failures) are translated at the
boundary with ``raise LabError(...) from exc`` so pages and the CLI need to catch only this tree::

    LabError
    ├── SettingsError        a setting is out of range or inconsistent (says what is allowed)
    ├── ProvisionError       Java, Maven or the Kafka jars cannot be had
    ├── ClusterError         the cluster cannot be started, reached or controlled
    │   ├── BrokerStartError a broker did not come up in time (carries its log tail)
    │   ├── UnreachableError no broker answered at the bootstrap servers
    │   ├── ControlsDisabled the backend cannot stop/start brokers (external clusters)
    │   └── ClusterBusy      another experiment (tab, CLI) holds the cluster lock; names it
    ├── KafkaOperationError  an admin/produce/consume call failed on a reachable cluster
    │   └── AuthorizationError   the cluster's ACLs refused it; names principal, operation, resource
    │                            and the kafka-acls line that would allow it
    ├── RunStoreError        the run store's file cannot be opened, read or written (names the file)
    └── Cancelled            the user cancelled a running experiment
"""

from __future__ import annotations


class LabError(Exception):
    """Base of every error the lab raises on purpose; ``str(err)`` is the message to show."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class SettingsError(LabError, ValueError):
    """A setting is invalid; the message names the setting, the bad value and what is allowed."""


class ProvisionError(LabError):
    """The Kafka runtime cannot be provisioned (no Java, no Maven, Maven Central unreachable)."""


class ClusterError(LabError):
    """The cluster cannot be started, reached or controlled."""


class BrokerStartError(ClusterError):
    """A broker did not come up in time; ``log_tail`` holds the last lines it wrote."""

    def __init__(self, message: str, *, hint: str | None = None, log_tail: str = "") -> None:
        super().__init__(message, hint=hint)
        self.log_tail = log_tail

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n--- last lines of the broker log ---\n{self.log_tail}" if self.log_tail else base


class UnreachableError(ClusterError):
    """No broker answered at the configured bootstrap servers."""


class ControlsDisabled(ClusterError):
    """This backend cannot stop, pause or start brokers."""


class ClusterBusy(ClusterError):
    """Another experiment holds the cluster lock (it stops, pauses or kills brokers); ``holder`` says who."""

    def __init__(self, message: str, *, hint: str | None = None, holder: object = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder


class KafkaOperationError(LabError):
    """A Kafka call failed on a reachable cluster (translated from ``KafkaException``)."""


class AuthorizationError(KafkaOperationError):
    """The cluster's ACLs refused an operation: ``principal`` (e.g. "User:student") may not ``operation``
    (Kafka's ACL operation name: Read, Write, Create, Describe, ...) the ``resource_type`` ("topic", "group",
    "transactional-id", "cluster") named ``resource``; the hint holds the kafka-acls line that allows it."""

    def __init__(self, message: str, *, hint: str | None = None, principal: str = "", operation: str = "",
                 resource_type: str = "", resource: str = "") -> None:
        super().__init__(message, hint=hint)
        self.principal, self.operation = principal, operation
        self.resource_type, self.resource = resource_type, resource


class RunStoreError(LabError):
    """The run store's SQLite file cannot be opened, read or written; the message names the file."""


class Cancelled(LabError):
    """The user cancelled a running experiment; partial results may be attached by the caller."""


class NotAllowed(LabError):
    """A class is open and this is the teacher's to do (or the key was wrong, or tried too often)."""
