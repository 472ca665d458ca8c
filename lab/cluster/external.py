"""Any Kafka cluster reachable at some bootstrap servers, with optional SASL/SSL client settings.

Security settings come from the environment (``KAFKA_LAB_<DOTTED_KEY>`` e.g. ``KAFKA_LAB_SASL_PASSWORD``)
or a properties file (``KAFKA_LAB_CLIENT_CONFIG``), never from a URL, so a shared link cannot leak them.
The lab does not own these brokers, so it will not stop or start them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from lab.cluster.base import BrokerInfo, BrokerState, Cluster, ClusterStatus, UpReport
from lab.cluster.lock import ClusterLease
from lab.core.errors import SettingsError, UnreachableError

#: Client settings an external cluster may need; anything else in the environment is ignored.
SECURITY_KEYS = (
    "security.protocol",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
)
#: Java client names a config file may also hold, so one file serves the lab and Kafka's Java tools (e.g.
#: `kafka-acls.sh --command-config admin.properties`); the lab reads its own keys above and skips these.
JAVA_ONLY_KEYS = ("sasl.jaas.config", "ssl.truststore.type", "ssl.truststore.location")
SECRET_KEYS = frozenset({"sasl.password", "ssl.key.password", "sasl.jaas.config"})
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")


def env_key(dotted: str) -> str:
    return "KAFKA_LAB_" + dotted.upper().replace(".", "_")


def parse_properties(text: str) -> dict[str, str]:
    """Java-style ``key=value`` lines; ``#`` and ``!`` start comments."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"Line {line!r} in the client config file has no '='.",
                                hint="Write one setting per line as key=value.")
        out[key.strip()] = value.strip()
    return out


def security_settings(env: dict[str, str] | None = None) -> dict[str, str]:
    """Collect and check the client security settings from a config file and the environment."""
    env = dict(os.environ if env is None else env)
    cfg: dict[str, str] = {}
    path = env.get("KAFKA_LAB_CLIENT_CONFIG")
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise SettingsError(f"KAFKA_LAB_CLIENT_CONFIG points at {p}, which is not a file.",
                                hint="Give the path of a key=value properties file, or unset it.")
        cfg.update({k: v for k, v in parse_properties(p.read_text()).items() if k not in JAVA_ONLY_KEYS})
    for key in SECURITY_KEYS:
        if env.get(env_key(key)):
            cfg[key] = env[env_key(key)]
    unknown = sorted(set(cfg) - set(SECURITY_KEYS))
    if unknown:
        raise SettingsError(f"Unsupported client setting(s) {unknown} in the client config.",
                            hint=f"Allowed: {', '.join(SECURITY_KEYS)}.")
    proto = cfg.get("security.protocol", "PLAINTEXT").upper()
    if proto not in PROTOCOLS:
        raise SettingsError(f"security.protocol={proto!r} is not valid.", hint=f"Use one of {', '.join(PROTOCOLS)}.")
    if "sasl.mechanism" in cfg and cfg["sasl.mechanism"].upper() not in MECHANISMS:
        raise SettingsError(f"sasl.mechanism={cfg['sasl.mechanism']!r} is not valid.",
                            hint=f"Use one of {', '.join(MECHANISMS)}.")
    if proto.startswith("SASL") and cfg.get("sasl.mechanism", "PLAIN").upper() in ("PLAIN", "SCRAM-SHA-256",
                                                                                   "SCRAM-SHA-512"):
        missing = [k for k in ("sasl.username", "sasl.password") if k not in cfg]
        if missing:
            raise SettingsError(f"security.protocol={proto} needs {' and '.join(missing)}.",
                                hint="Set " + ", ".join(env_key(k) for k in missing) + " in the environment.")
    return cfg


def check_bootstrap(bootstrap: str) -> str:
    """Validate ``host:port[,host:port…]`` and return it normalised."""
    parts = [p.strip() for p in bootstrap.split(",") if p.strip()]
    if not parts:
        raise SettingsError("The bootstrap servers are empty.", hint="Give host:port, e.g. broker1:9092.")
    for part in parts:
        host, sep, port = part.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SettingsError(f"Bootstrap server {part!r} is not host:port.",
                                hint="Write them as host:port[,host:port...], ports 1-65535, e.g. broker1:9092.")
    return ",".join(parts)


class ExternalCluster(Cluster):
    """A cluster somebody else runs: the lab reads and writes, but never stops brokers."""

    backend = "external"
    controls_disabled_reason = (
        "This cluster is not run by the lab, so it cannot stop, pause or start its brokers. "
        "Do that with your own tooling; the lab will show the effects."
    )

    def __init__(self, bootstrap: str, security: dict[str, str] | None = None) -> None:
        self._bootstrap = check_bootstrap(bootstrap)
        #: the client config file the settings came from (KAFKA_LAB_CLIENT_CONFIG), if any: a path, no secret
        self.config_file = (os.environ.get("KAFKA_LAB_CLIENT_CONFIG") or None) if security is None else None
        self.security = security_settings() if security is None else dict(security)

    def bootstrap_servers(self) -> str:
        return self._bootstrap

    def security_settings(self) -> dict[str, str]:
        return dict(self.security)

    def start_hint(self) -> str:
        return ("Check that the bootstrap servers are right and reachable from here, and that the security "
                "settings (KAFKA_LAB_SECURITY_PROTOCOL, KAFKA_LAB_SASL_*) match the cluster's listener.")

    def up(self, timeout_s: float = 30.0, *, lease: ClusterLease | None = None, face: str = "cli") -> UpReport:
        """Wait until the cluster answers; nothing to start (the lab does not run it), so no lock either."""
        t0 = time.monotonic()
        self.wait_until_reachable(timeout_s)
        return UpReport(True, time.monotonic() - t0, self.status())

    def down(self, purge: bool = False, *, lease: ClusterLease | None = None, face: str = "cli") -> None:
        """Refuse with the reason: the lab does not stop brokers it does not run."""
        self.broker("stop", 0)  # raises ControlsDisabled with the reason

    def status(self) -> ClusterStatus:
        try:
            cid, _, brokers = self.probe()
            reachable = True
        except UnreachableError:
            cid, brokers, reachable = None, {}, False
        infos = tuple(
            BrokerInfo(nid, addr.rpartition(":")[0], int(addr.rpartition(":")[2]), BrokerState.RUNNING, None, True)
            for nid, addr in sorted(brokers.items())
        )
        return ClusterStatus(
            backend=self.backend, bootstrap_servers=self._bootstrap, reachable=reachable, cluster_id=cid,
            # metadata's controller id is a random live broker under KRaft, and there is no JMX here
            controller_id=None, brokers=infos,
            controls_enabled=False, controls_disabled_reason=self.controls_disabled_reason,
            security=self.security_label(),
        )
