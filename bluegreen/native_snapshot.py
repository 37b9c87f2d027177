"""An ECS-native service deployment (DescribeServiceDeployments' ``serviceDeployment``) as a
``DeploymentSnapshot``, in the words CodeDeploy deployments use, so waiting, polling, the live
view, the JSON lines, notifications and summaries work on both kinds unchanged.

The mapping: the status (a PAUSE hook awaiting action makes ``IN_PROGRESS`` read as
``Ready``, waiting for ``promote()``; a rollback in flight stays ``InProgress`` until it
ends), the lifecycle events from the stage reached (``STAGE_EVENTS``; BAKE_TIME is the
termination wait), the task sets from the source (blue) and target (green) service
revisions with their production weights, and the schedule from the strategy. The
deployment's own words stay in ``snapshot.native``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.native_status import (
    STAGE_EVENTS,
    LifecycleStage,
    NativeHook,
    NativeState,
    ServiceDeploymentStatus,
    Strategy,
    service_of,
)
from bluegreen.snapshot import DeploymentSnapshot, LifecycleEventProgress
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus, TargetLabel
from bluegreen.task_set import TaskSetProgress
from bluegreen.traffic import Schedule, TrafficStep

__all__ = ["native_schedule", "native_snapshot", "strategy_summary"]

_STATUS = {
    ServiceDeploymentStatus.PENDING: DeploymentStatus.CREATED,
    ServiceDeploymentStatus.IN_PROGRESS: DeploymentStatus.IN_PROGRESS,
    ServiceDeploymentStatus.STOP_REQUESTED: DeploymentStatus.IN_PROGRESS,
    ServiceDeploymentStatus.ROLLBACK_REQUESTED: DeploymentStatus.IN_PROGRESS,
    ServiceDeploymentStatus.ROLLBACK_IN_PROGRESS: DeploymentStatus.IN_PROGRESS,
    ServiceDeploymentStatus.SUCCESSFUL: DeploymentStatus.SUCCEEDED,
    ServiceDeploymentStatus.STOPPED: DeploymentStatus.STOPPED,
    ServiceDeploymentStatus.ROLLBACK_SUCCESSFUL: DeploymentStatus.FAILED,
    ServiceDeploymentStatus.ROLLBACK_FAILED: DeploymentStatus.FAILED,
}
"""A rolled-back deployment reads as Failed, as a CodeDeploy one whose rollback ran does:
the new version did not go live (``ending`` says ``rolled_back``)."""

_FORWARD = (
    ServiceDeploymentStatus.PENDING,
    ServiceDeploymentStatus.IN_PROGRESS,
    ServiceDeploymentStatus.SUCCESSFUL,
)
"""The statuses whose ``lifecycleStage`` is how far the deployment went forward."""


def native_snapshot(
    deployment: Mapping[str, Any],
    *,
    forward_stage: str | None = None,
    stage_times: Mapping[str, dt.datetime] | None = None,
    observed_at: dt.datetime | None = None,
) -> DeploymentSnapshot:
    """A ``DeploymentSnapshot`` of one ``serviceDeployment``.

    Args:
        deployment: one element of DescribeServiceDeployments' ``serviceDeployments``.
        forward_stage: the furthest stage seen while it went forward (the reader keeps it):
            once it rolls back or stops, ``lifecycleStage`` no longer says where it failed,
            and the event of that stage is marked Failed, the later ones Skipped.
        stage_times: when each stage was first seen (its ``updatedAt`` then; the reader
            keeps them): the events' start and end, as near as polling knows them.
        observed_at: when it was read.
    """
    arn = deployment["serviceDeploymentArn"]
    raw_status = str(deployment.get("status", ""))
    state = next((s for s in ServiceDeploymentStatus if s.value == raw_status), None)
    stage = deployment.get("lifecycleStage")
    hooks = tuple(
        NativeHook.from_api(h, stage=stage) for h in deployment.get("lifecycleHookDetails") or ()
    )
    task_sets = _task_sets(deployment)
    green = next((ts for ts in task_sets if ts.label is TargetLabel.GREEN), None)
    status = _STATUS.get(state, DeploymentStatus.IN_PROGRESS)  # type: ignore[arg-type]
    if status is DeploymentStatus.IN_PROGRESS and any(h.is_paused for h in hooks):
        status = DeploymentStatus.READY
    failing = state is not None and state not in _FORWARD
    reason = (deployment.get("rollback") or {}).get("reason") or deployment.get("statusReason")
    config = deployment.get("deploymentConfiguration") or {}
    cluster, service = service_of(arn) if _is_arn(arn) else ("", "")
    terminal = state is not None and state.is_terminal
    return DeploymentSnapshot(
        deployment_id=arn,
        status=status,
        deployment_config=strategy_summary(config) or None,
        create_time=deployment.get("createdAt"),
        start_time=deployment.get("startedAt"),
        complete_time=(deployment.get("finishedAt") or deployment.get("stoppedAt"))
        if terminal
        else None,
        error_message=(reason or None) if failing else None,
        events=_timed(
            _events(
                state,
                stage if not failing else _failed_at(reason) or forward_stage,
                green,
                reason,
                failing,
            ),
            stage_times or {},
        ),
        task_sets=task_sets,
        schedule=native_schedule(config),
        observed_at=observed_at,
        native=NativeState(
            status=raw_status,
            stage=stage,
            status_reason=reason or None,
            hooks=hooks,
            strategy=config.get("strategy"),
            green_weight=green.traffic_weight if green else 0.0,
            cluster=cluster,
            service=service,
        ),
    )


def _failed_at(reason: str | None) -> str | None:
    """The lifecycle stage a failure's reason names (a hook's failure or time-out names its
    stage), which beats the furthest stage a reader happened to see: a short stage can fall
    between two reads."""
    found = re.search(r"\b(" + "|".join(s.value for s in LifecycleStage) + r")\b", reason or "")
    return found.group(1) if found else None


def _is_arn(arn: str) -> bool:
    try:
        service_of(arn)
    except ValueError:
        return False
    return True


def _task_sets(deployment: Mapping[str, Any]) -> tuple[TaskSetProgress, ...]:
    """Blue from the (first) source revision, green from the target revision."""
    out = []
    sources = deployment.get("sourceServiceRevisions") or ()
    for i, revision in enumerate(sources):
        out.append(_revision(revision, TargetLabel.BLUE if i == 0 else None))
    target = deployment.get("targetServiceRevision")
    if target:
        out.append(_revision(target, TargetLabel.GREEN))
    return tuple(out)


def _revision(revision: Mapping[str, Any], label: TargetLabel | None) -> TaskSetProgress:
    return TaskSetProgress(
        id=revision.get("arn", ""),
        label=label,
        status=None,
        desired_count=int(revision.get("requestedTaskCount") or 0),
        pending_count=int(revision.get("pendingTaskCount") or 0),
        running_count=int(revision.get("runningTaskCount") or 0),
        traffic_weight=float(revision.get("requestedProductionTrafficWeight") or 0.0),
    )


def _events(
    state: ServiceDeploymentStatus | None,
    stage_name: str | None,
    green: TaskSetProgress | None,
    reason: str | None,
    failing: bool,
) -> tuple[LifecycleEventProgress, ...]:
    """The eight CodeDeploy events as the stage reached makes them: done before it, at work
    at it, pending after; when it failed (rolled back, stopped), failed at it and skipped
    after. Empty when it failed and where is not known."""
    stage = LifecycleStage.parse(stage_name)
    if state is ServiceDeploymentStatus.SUCCESSFUL:
        return tuple(_event(e, LifecycleEventStatus.SUCCEEDED) for e in LifecycleEvent)
    if failing and stage is None:
        return ()
    if stage is None or stage is LifecycleStage.RECONCILE_SERVICE:
        return tuple(_event(e, LifecycleEventStatus.PENDING) for e in LifecycleEvent)
    current = stage.event
    if (
        stage is LifecycleStage.PRE_PRODUCTION_TRAFFIC_SHIFT
        and green is not None
        and green.traffic_weight > 0
    ):
        current = LifecycleEvent.ALLOW_TRAFFIC  # a later step of a linear or canary shift
    events = []
    for event in LifecycleEvent:
        if current is None or event < current:  # BAKE_TIME, CLEAN_UP: every event is done
            status = LifecycleEventStatus.SUCCEEDED
        elif event == current:
            status = LifecycleEventStatus.FAILED if failing else LifecycleEventStatus.IN_PROGRESS
        else:
            status = LifecycleEventStatus.SKIPPED if failing else LifecycleEventStatus.PENDING
        failed = status is LifecycleEventStatus.FAILED
        events.append(_event(event, status, reason if failed else None))
    return tuple(events)


def _timed(
    events: tuple[LifecycleEventProgress, ...], times: Mapping[str, dt.datetime]
) -> tuple[LifecycleEventProgress, ...]:
    """The events with the times their stages were first seen: an event starts when its
    stage was, and (once done) ends when a later stage was."""
    if not times:
        return events
    stages = {event: stage for stage, event in STAGE_EVENTS.items()}
    out = []
    for event in events:
        stage = stages[event.name]
        start = times.get(stage)
        later = [
            when
            for name, when in times.items()
            if (seen := LifecycleStage.parse(name)) is not None and seen.position > stage.position
        ]
        end = min(later) if later and event.status.is_done else None
        if event.status is LifecycleEventStatus.PENDING:
            start = None
        out.append(attrs.evolve(event, start=start, end=end))
    return tuple(out)


def _event(
    name: LifecycleEvent, status: LifecycleEventStatus, diagnostics: str | None = None
) -> LifecycleEventProgress:
    return LifecycleEventProgress(name=name, status=status, diagnostics=diagnostics or None)


def _percent(value: float) -> int:
    """A step's share of production as the schedule's whole percent (never more than it)."""
    return min(100, math.floor(value + 1e-9))


def native_schedule(config: Mapping[str, Any]) -> Schedule | None:
    """The production steps and the bake time a blue/green ``deploymentConfiguration`` makes
    (the minutes are the least they take: hooks at each step add to them). None for a
    rolling deployment or an unknown strategy.

    Linear moves ``stepPercent`` every ``stepBakeTimeInMinutes`` (no bake after 100 %);
    canary moves ``canaryPercent``, then the rest after ``canaryBakeTimeInMinutes``. A
    fractional percentage is shown whole, rounded down.
    """
    strategy = next((s for s in Strategy if s.value == config.get("strategy")), None)
    if strategy is None or not strategy.is_blue_green:
        return None
    bake = int(config.get("bakeTimeInMinutes") or 0)
    steps: list[TrafficStep] = []
    if strategy is Strategy.CANARY:
        canary = config.get("canaryConfiguration") or {}
        percent = float(canary.get("canaryPercent", 5.0))
        wait = int(canary.get("canaryBakeTimeInMinutes", 10))
        steps = [TrafficStep(0, _percent(percent)), TrafficStep(wait, 100)]
    elif strategy is Strategy.LINEAR:
        linear = config.get("linearConfiguration") or {}
        percent = float(linear.get("stepPercent", 10.0))
        wait = int(linear.get("stepBakeTimeInMinutes", 6))
        count = max(1, math.ceil(100 / percent - 1e-9))
        steps = [TrafficStep(i * wait, _percent(percent * (i + 1))) for i in range(count - 1)]
        steps.append(TrafficStep((count - 1) * wait, 100))
    else:
        steps = [TrafficStep(0, 100)]
    return Schedule(steps=tuple(steps), termination_wait_minutes=bake)


def strategy_summary(config: Mapping[str, Any]) -> str:
    """``ECS CANARY 5% then 100% after 10 min, bake 15 min``: the deployment's config, in
    the place a CodeDeploy deployment config's name goes ('' when there is none)."""
    strategy = config.get("strategy")
    if not strategy:
        return ""
    text = f"ECS {strategy}"
    if strategy == Strategy.CANARY:
        canary = config.get("canaryConfiguration") or {}
        text += (
            f" {float(canary.get('canaryPercent', 5.0)):g}% then 100% after "
            f"{int(canary.get('canaryBakeTimeInMinutes', 10))} min"
        )
    elif strategy == Strategy.LINEAR:
        linear = config.get("linearConfiguration") or {}
        text += (
            f" {float(linear.get('stepPercent', 10.0)):g}% every "
            f"{int(linear.get('stepBakeTimeInMinutes', 6))} min"
        )
    if config.get("bakeTimeInMinutes") is not None:
        text += f", bake {int(config['bakeTimeInMinutes'])} min"
    return text
