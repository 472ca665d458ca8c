"""Broker faults with a guaranteed heal: stop, kill, pause, resume or start one broker while a ``Recorder``
keeps the timeline moving, and put every broker back up however the scenario ends.

Every action runs under the run's cluster lock (``ctx.lease``, taken by the runner for an experiment
that changes brokers); without a lease each action takes the lock for its own duration, so nothing else
breaks brokers meanwhile. On a cluster the lab cannot control (external), the person is asked to do the
step and the scenario waits until the cluster shows it.

    with faults.restoring(cluster, ctx):
        faults.act(rec, BrokerAction.STOP, 2, lambda s: ..., "broker 2 has left the ISR")
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from lab.cluster.base import BrokerAction, Cluster
from lab.core.errors import Cancelled, LabError
from lab.kafka.observe import Snapshot
from lab.kafka.timeline import CHANGE_TIMEOUT_S, Recorder

if TYPE_CHECKING:
    from lab.core.context import RunContext

#: What to tell a person on a cluster the lab cannot control.
MANUAL_HINT = "e.g. `docker compose stop kafka-internals-N` or your platform's own controls"
#: How long one broker action may take (a controlled shutdown moves leadership away first).
ACTION_TIMEOUT_S = 60.0
#: How long a cancelled scenario waits for a broker action in flight (a stop may take its full timeout).
ACTION_JOIN_S = 90.0
#: How long ``cluster.up()`` may take when a scenario restores the cluster.
RESTORE_TIMEOUT_S = 150.0
#: How long a scenario waits for the user to act on an external cluster (no broker controls there).
MANUAL_STEP_TIMEOUT_S = 180.0


def change_timeout(cluster: Cluster) -> float:
    """How long to wait for a change the scenario caused: longer when a person has to cause it."""
    return CHANGE_TIMEOUT_S if cluster.controls_enabled else MANUAL_STEP_TIMEOUT_S


def act(rec: Recorder, action: BrokerAction, node: int, confirm: Callable[[Snapshot], bool] | None = None,
        what: str = "") -> None:
    """Apply ``action`` to ``node`` while the recorder keeps polling; then wait for ``confirm`` (if given).

    On a cluster without broker controls the user is asked to do it (a step on the timeline), and the
    scenario waits until the cluster shows the change. Raises ``Cancelled`` on cancel, once an action
    already in flight has finished (so the restore that follows sees the broker's real state).
    """
    cluster, ctx = rec.cluster, rec.ctx
    if not cluster.controls_enabled:
        rec.step(f"Please {action.value} broker {node} now ({MANUAL_HINT}); waiting until {what}")
        if confirm is not None:
            rec.wait_until(confirm, what, MANUAL_STEP_TIMEOUT_S)
        return
    rec.step(f"{action.value} broker {node}")
    err: list[BaseException] = []

    def work() -> None:
        try:
            cluster.broker(action, node, ACTION_TIMEOUT_S, lease=ctx.lease)
        except BaseException as exc:  # handed back to the scenario thread below
            err.append(exc)

    th = threading.Thread(target=work, name=f"lab-broker-{action.value}-{node}", daemon=True)
    th.start()
    try:
        while th.is_alive():  # a restart takes seconds: keep the timeline (and the page) moving meanwhile
            rec.poll()
            rec.report()
            th.join(rec.interval_s)
            ctx.check()
    finally:
        # on cancel, let the action finish first: restoring the cluster while a broker is still
        # shutting down would count it as running and then wait for it in vain
        th.join(ACTION_JOIN_S)
    if err:
        raise err[0]
    if confirm is not None:
        rec.wait_until(confirm, what)


def restore(cluster: Cluster, ctx: RunContext) -> None:
    """All brokers up again (local/compose), under the run's lease. Nothing to do without broker controls:
    there the person made every change and is asked to undo it."""
    if cluster.controls_enabled:
        cluster.up(timeout_s=RESTORE_TIMEOUT_S, lease=ctx.lease)


@contextlib.contextmanager
def restoring(cluster: Cluster, ctx: RunContext) -> Iterator[None]:
    """Restore every broker on leaving the block, however it is left.

    After success or a cancel a failing restore raises (the cluster is not whole: that is the news);
    after a scenario's own failure that failure is what is raised, and a failing restore is not.
    """
    try:
        yield
    except Cancelled:
        restore(cluster, ctx)
        raise
    except BaseException:
        with contextlib.suppress(LabError):
            restore(cluster, ctx)
        raise
    restore(cluster, ctx)
