"""Simulated ECS tasks: a task set's tasks start and pass health checks on the clock, drain,
and resize in an Application Auto Scaling activity (moto runs no tasks)."""

from __future__ import annotations

from typing import Any

from bluegreen.testing._context import SimContext
from bluegreen.testing._moto import MotoState

__all__ = ["drain", "resize", "start_tasks"]


def start_tasks(sim: SimContext, task_set: Any) -> None:
    """Tasks of a new task set start and pass health checks after ``task_start_seconds``,
    unless ``faults.unhealthy_green``."""
    unhealthy = sim.faults.unhealthy_green

    def started() -> None:
        with sim.lock:
            if unhealthy or task_set.status == "DRAINING":
                return
            desired = int(getattr(task_set, "computed_desired_count", 0))
            sim.moto.update_task_set(task_set, running=desired, pending=0, steady=True)

    sim.clock.call_later(sim.settings.task_start_seconds, started)


def drain(moto: MotoState, task_set: Any) -> None:
    """Scale a task set to 0 and mark it DRAINING."""
    moto.update_task_set(task_set, scale=0.0, status="DRAINING", running=0, pending=0, steady=False)


def resize(
    sim: SimContext, cluster: str, service: str, desired_count: int, settle_seconds: float | None
) -> Any | None:
    """An Application Auto Scaling activity sets the service's desired count; every task set
    resizes and is steady again ``settle_seconds`` later (default ``task_start_seconds``).

    Honours the scalable target's ``SuspendedState``. Call it under the simulator's lock.

    Returns:
        The resized moto service, or None if the desired count did not change.
    """
    svc = sim.moto.service(cluster, service)
    if svc is None:
        raise LookupError(f"no service {cluster}/{service}")
    target = sim.moto.scalable_target(cluster, service)
    suspended = dict(getattr(target, "suspended_state", None) or {})
    out = desired_count > svc.desired_count
    if out and suspended.get("DynamicScalingOutSuspended"):
        return None
    if not out and suspended.get("DynamicScalingInSuspended"):
        return None
    if desired_count == svc.desired_count:
        return None
    sim.moto.set_desired_count(svc, desired_count)
    settle = sim.settings.task_start_seconds if settle_seconds is None else settle_seconds
    for task_set in list(svc.task_sets):
        if task_set.status == "DRAINING":
            continue
        wanted = int(task_set.computed_desired_count)
        running = int(getattr(task_set, "running_count", 0))
        sim.moto.update_task_set(
            task_set,
            running=min(wanted, running),
            pending=max(0, wanted - running),
            steady=False,
        )

        def settled(ts: Any = task_set) -> None:
            with sim.lock:
                if ts.status == "DRAINING":
                    return
                n = int(ts.computed_desired_count)
                sim.moto.update_task_set(ts, running=n, pending=0, steady=True)

        sim.clock.call_later(settle, settled)
    return svc
