"""A tiny reader for Kafka's JMX MBeans over a Jolokia HTTP agent (standard library only).

The local backend attaches the Jolokia JVM agent to every broker (``cluster.jmx_url(node)``), which
exposes each MBean as JSON. The lab reads just a few of them, e.g. each replica's log end offset::

    kafka.log:type=Log,name=LogEndOffset,topic=T,partition=P   -> {"Value": 1234}

A paused (SIGSTOP) broker's agent is frozen with it, so every read has a short timeout and a failure
is returned as ``None`` rather than raised: the caller shows "unknown" and carries on polling.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

#: Short: the monitor polls about once a second, and a frozen broker must not stall the loop.
JOLOKIA_TIMEOUT_S = 1.0
#: ``kafka.log:name=LogEndOffset,partition=0,topic=t,type=Log`` -> its key=value properties.
_PROP_RE = re.compile(r"([A-Za-z]+)=([^,]*)")


def mbean_properties(name: str) -> dict[str, str]:
    """The key properties of an MBean name: ``"kafka.log:type=Log,topic=t"`` -> ``{"type": "Log", "topic": "t"}``."""
    _, _, props = name.partition(":")
    return dict(_PROP_RE.findall(props))


def parse_log_end_offsets(payload: dict[str, Any], topic: str) -> dict[int, int]:
    """Partition -> log end offset from a Jolokia ``read`` answer for a wildcard LogEndOffset pattern.

    Jolokia answers a pattern read with ``{"value": {<mbean name>: {"Value": n}, ...}}`` and a read of a
    single MBean with ``{"value": {"Value": n}}``; both are handled. Entries for other topics are ignored.
    """
    if payload.get("status") != 200:
        return {}
    value = payload.get("value")
    if not isinstance(value, dict):
        return {}
    out: dict[int, int] = {}
    if "Value" in value:  # a single MBean: the caller asked for one partition
        req = payload.get("request", {})
        props = mbean_properties(str(req.get("mbean", "")))
        if props.get("topic") == topic and props.get("partition", "").isdigit():
            out[int(props["partition"])] = int(value["Value"])
        return out
    for name, attrs in value.items():
        props = mbean_properties(name)
        if props.get("topic") != topic or not props.get("partition", "").isdigit():
            continue
        if isinstance(attrs, dict) and isinstance(attrs.get("Value"), int):
            out[int(props["partition"])] = int(attrs["Value"])
    return out


def read(url: str, mbean: str, timeout_s: float = JOLOKIA_TIMEOUT_S) -> dict[str, Any] | None:
    """One Jolokia ``read`` of an MBean (patterns allowed); ``None`` when the agent does not answer."""
    full = url.rstrip("/") + "/read/" + urllib.parse.quote(mbean, safe=":=,*")
    try:
        with urllib.request.urlopen(full, timeout=timeout_s) as resp:  # noqa: S310 (our own loopback agent)
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError, http.client.HTTPException):
        # refused, timed out, or cut off mid-answer (IncompleteRead) by a broker shutting down
        return None
    return data if isinstance(data, dict) else None


def log_end_offsets(url: str, topic: str, timeout_s: float = JOLOKIA_TIMEOUT_S) -> dict[int, int] | None:
    """Partition -> log end offset of every replica of ``topic`` this broker holds; ``None`` if unreachable."""
    payload = read(url, f"kafka.log:type=Log,name=LogEndOffset,topic={topic},partition=*", timeout_s)
    if payload is None:
        return None
    if payload.get("status") == 404:  # no replica of the topic on this broker: no such MBean
        return {}
    return parse_log_end_offsets(payload, topic)


#: The MBean whose value is 1 on the KRaft quorum's active controller and 0 on the others.
ACTIVE_CONTROLLER_MBEAN = "kafka.controller:type=KafkaController,name=ActiveControllerCount"


def active_controller(urls: dict[int, str], timeout_s: float = JOLOKIA_TIMEOUT_S) -> int | None:
    """The node whose agent says it is the active KRaft controller; None when none says so.

    (Metadata's ``controller_id`` is no use for this under KRaft: brokers answer with a random live
    broker there, so it changes from one request to the next.) The agents are asked in parallel, so a
    paused node costs one timeout, not one per node.
    """
    from concurrent.futures import ThreadPoolExecutor

    if not urls:
        return None
    with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="lab-jmx-ctrl") as pool:
        answers = dict(zip(urls, pool.map(lambda u: read(u, ACTIVE_CONTROLLER_MBEAN, timeout_s), urls.values()),
                           strict=True))
    for node in sorted(answers):
        data = answers[node]
        if data and isinstance(data.get("value"), dict) and data["value"].get("Value") == 1:
            return node
    return None
