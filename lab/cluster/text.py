"""The cluster as plain text for a terminal: brokers running vs registered, and `kafka-lab cluster status`.
"""

from __future__ import annotations

from lab.cluster.base import BrokerState, ClusterStatus
from lab.core.text import table


# --- cluster -------------------------------------------------------------------------------------
def broker_counts(st: ClusterStatus) -> str:
    """"2 of 3 running, 3 registered": what the processes do and what the cluster's metadata lists differ
    for a while after a crash (a killed broker stays registered until its session times out)."""
    registered = sum(b.registered for b in st.brokers)
    if st.backend == "external":
        return f"{registered} registered"
    running = sum(b.state is BrokerState.RUNNING for b in st.brokers)
    return f"{running} of {len(st.brokers)} running, {registered} registered"


def status(st: ClusterStatus) -> str:
    head = [
        f"backend:     {st.backend}" + (f" (Kafka {st.kafka_version})" if st.kafka_version else ""),
        f"bootstrap:   {st.bootstrap_servers}",
        f"reachable:   {'yes' if st.reachable else 'NO'}",
        f"security:    {st.security}",
        f"cluster id:  {st.cluster_id or '-'}",
        f"controller:  {st.controller_id if st.controller_id is not None else '- (not known: no JMX)'}"
        + (" (the KRaft quorum's active controller)" if st.controller_id is not None else ""),
        f"brokers:     {broker_counts(st)}",
    ]
    if st.state_dir:
        head.append(f"state dir:   {st.state_dir}")
    if not st.controls_enabled:
        head.append(f"controls:    off — {st.controls_disabled_reason}")
    rows = [(b.node_id, f"{b.host}:{b.port}", b.state.value, "yes" if b.registered else "no", b.pid or "")
            for b in st.brokers]
    out = "\n".join(head) + "\n\n" + table(rows, ["broker", "address", "state", "registered", "pid"])
    if st.broker_settings:
        out += "\n\nbroker settings chosen for the lab:\n" + "\n".join(
            f"  {k}={v}" for k, v in st.broker_settings.items()
        )
    return out
