"""Kafka Tuning Lab: the engine under the app and the CLI (no Streamlit in here)."""

from __future__ import annotations

from lab.core.errors import (
    BrokerStartError,
    Cancelled,
    ClusterBusy,
    ClusterError,
    ControlsDisabled,
    KafkaOperationError,
    LabError,
    ProvisionError,
    SettingsError,
    UnreachableError,
)

__version__ = "0.1.0"

__all__ = [
    "BrokerStartError",
    "Cancelled",
    "ClusterBusy",
    "ClusterError",
    "ControlsDisabled",
    "KafkaOperationError",
    "LabError",
    "ProvisionError",
    "SettingsError",
    "UnreachableError",
    "__version__",
]
