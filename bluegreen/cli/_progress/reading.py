"""What the progress reporters read from a deployment snapshot: its outcome, the production
weights, how long an event or the deployment took, the expected schedule in words, and the
summary line a followed deployment ends with."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bluegreen.clock import format_duration
from bluegreen.errors import DeploymentError
from bluegreen.status import LifecycleEventStatus, TargetLabel

if TYPE_CHECKING:
    from bluegreen.deployment import DeploymentSnapshot, LifecycleEventProgress
    from bluegreen.traffic import Schedule


def outcome_of(snapshot: DeploymentSnapshot) -> str:
    """``DeploymentSnapshot.ending``, or ``reached`` (a milestone short of the end)."""
    return snapshot.ending or "reached"


def production_weights(snapshot: DeploymentSnapshot) -> tuple[float, float] | None:
    """(blue %, green %) of production traffic, or None before the task sets are known."""
    blue = snapshot.task_set(TargetLabel.BLUE)
    green = snapshot.task_set(TargetLabel.GREEN)
    if blue is None and green is None:
        return None
    return (
        blue.traffic_weight if blue is not None else 0.0,
        green.traffic_weight if green is not None else 0.0,
    )


def _seconds_between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def event_seconds(event: LifecycleEventProgress, now: dt.datetime) -> float | None:
    """How long the event took, or has been running."""
    if event.end is not None:
        return _seconds_between(event.start, event.end)
    if event.status is LifecycleEventStatus.IN_PROGRESS:
        return _seconds_between(event.start, now)
    return None


def elapsed_seconds(snapshot: DeploymentSnapshot, now: dt.datetime) -> float | None:
    """From the deployment's start (or creation) to its end, or to now while it runs."""
    start = snapshot.start_time or snapshot.create_time
    end = snapshot.complete_time if snapshot.status.is_terminal else now
    return _seconds_between(start, end or now)


def describe_expected(schedule: Schedule) -> str:
    """``~10 min after install (shift 5 min, keep blue 5 min)``."""
    parts = [f"shift {schedule.shift_minutes} min"]
    if schedule.ready_wait_minutes:
        parts.insert(0, f"promotion up to {schedule.ready_wait_minutes} min")
    parts.append(f"keep blue {schedule.termination_wait_minutes} min")
    return f"~{schedule.total_minutes} min after install ({', '.join(parts)})"


def summary(snapshot: DeploymentSnapshot, now: dt.datetime) -> str:
    """The last line of a followed deployment, e.g. ``d-X Succeeded after 12m 30s``."""
    outcome = outcome_of(snapshot)
    elapsed = elapsed_seconds(snapshot, now)
    after = f" after {format_duration(elapsed)}" if elapsed is not None else ""
    d = snapshot.deployment_id
    if outcome == "reached":
        return f"{d} {snapshot.status}{after}: waiting for {snapshot.waiting_for}"
    if outcome == "rolled_back" and snapshot.native is not None:
        return f"{d} {snapshot.native.status}{after}: blue serves production again"
    if outcome == "rolled_back" and snapshot.is_rollback:
        return (
            f"{d} (rollback of {snapshot.rollback_of or 'the deployment'}) "
            f"{snapshot.status}{after}: blue serves production again"
        )
    if snapshot.rollback_deployment_id:
        return f"{d} {snapshot.status}{after}, rolled back by {snapshot.rollback_deployment_id}"
    return f"{d} {snapshot.status}{after}"


def rollback_note(
    exc: BaseException, last: DeploymentSnapshot | None, now: dt.datetime
) -> str | None:
    """For a deployment that was rolled back: how the rollback ended, when the last
    snapshot shows it ended, else how to follow it. None for any other error."""
    if not (isinstance(exc, DeploymentError) and exc.rollback_deployment_id):
        return None
    rollback = exc.rollback_deployment_id
    if last is not None and last.deployment_id == rollback and last.status.is_terminal:
        return f"{exc.deployment_id} was rolled back: {summary(last, now)}"
    return (
        f"{exc.deployment_id} was rolled back by {rollback}; follow the rollback with: "
        f"bluegreen wait --deployment-id {rollback}"
    )


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)
