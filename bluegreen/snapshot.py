"""What one deployment looked like at one moment (GetDeployment + GetDeploymentTarget, or an
ECS-native service deployment): the frozen ``DeploymentSnapshot`` and its parts."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.native_status import NativeState
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus, TargetLabel
from bluegreen.task_set import TaskSetProgress
from bluegreen.traffic import Schedule

__all__ = [
    "ROLLBACK_CREATOR",
    "DeploymentSnapshot",
    "LifecycleEventProgress",
    "TaskSetProgress",
    "Transition",
    "TransitionState",
]

ROLLBACK_CREATOR = "codeDeployRollback"
"""The ``creator`` of the deployments CodeDeploy starts to roll one back."""


@attrs.frozen(kw_only=True)
class LifecycleEventProgress:
    """One lifecycle event of the deployment's ECS target."""

    name: LifecycleEvent
    status: LifecycleEventStatus
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    diagnostics: str | None = None
    """``diagnostics.message``: why the event failed, e.g. what a hook reported."""
    error_code: str | None = None
    """``diagnostics.errorCode``, e.g. ``ScriptFailed``."""
    log_tail: str | None = None
    """``diagnostics.logTail``: the last 4 KB of the hook's log, when CodeDeploy has it."""

    @classmethod
    def from_api(cls, event: Mapping[str, Any]) -> LifecycleEventProgress:
        diagnostics = event.get("diagnostics") or {}
        return cls(
            name=LifecycleEvent(event["lifecycleEventName"]),
            status=LifecycleEventStatus(event.get("status", "Unknown")),
            start=event.get("startTime"),
            end=event.get("endTime"),
            diagnostics=diagnostics.get("message") or None,
            error_code=diagnostics.get("errorCode") or None,
            log_tail=diagnostics.get("logTail") or None,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; times in ISO 8601."""
        return {
            "name": str(self.name),
            "status": str(self.status),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "diagnostics": self.diagnostics,
            "error_code": self.error_code,
            "log_tail": self.log_tail,
        }

    @property
    def has_started(self) -> bool:
        return self.status not in (LifecycleEventStatus.PENDING, LifecycleEventStatus.UNKNOWN)


def _override_alarms(info: Mapping[str, Any]) -> tuple[str, ...]:
    override = info.get("overrideAlarmConfiguration") or {}
    if not override.get("enabled"):
        return ()
    return tuple(a.get("name", "") for a in override.get("alarms") or ())


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.astimezone(dt.UTC).isoformat()


class TransitionState(enum.StrEnum):
    """Whether an expected transition of the schedule has happened."""

    EXPECTED = "expected"
    HAPPENED = "happened"
    SKIPPED = "skipped"
    """It will not happen: the deployment ended without it."""


@attrs.frozen(kw_only=True)
class Transition:
    """One change the schedule expects: a traffic step, the end of a wait.

    ``due`` is None until the event it counts from has started (a traffic step's time is
    known once AllowTraffic starts).
    """

    what: str
    due: dt.datetime | None
    state: TransitionState

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "due": _iso(self.due), "state": str(self.state)}


_EVENT_WAITS = {
    LifecycleEvent.INSTALL: "green to reach steady state (Install)",
    LifecycleEvent.ALLOW_TEST_TRAFFIC: "test traffic to move to green (AllowTestTraffic)",
}


@attrs.frozen(kw_only=True)
class DeploymentSnapshot:
    """What one deployment looked like at one moment (GetDeployment + GetDeploymentTarget).

    ``events`` and ``task_sets`` are empty while the deployment has not started.
    """

    deployment_id: str
    status: DeploymentStatus
    application: str | None = None
    deployment_group: str | None = None
    deployment_config: str | None = None
    creator: str | None = None
    create_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    complete_time: dt.datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    rollback_deployment_id: str | None = None
    rollback_of: str | None = None
    override_alarms: tuple[str, ...] = ()
    """The alarms CreateDeployment's ``overrideAlarmConfiguration`` named (an analysis's
    alarm net among them), when it was given and enabled."""
    target_status: str | None = None
    events: tuple[LifecycleEventProgress, ...] = ()
    task_sets: tuple[TaskSetProgress, ...] = ()
    schedule: Schedule | None = None
    """What the deployment config and the group's waits make it do, when known."""
    observed_at: dt.datetime | None = None
    """When this snapshot was read, on the reader's clock (UTC)."""
    native: NativeState | None = None
    """ECS-native: its own words (status, stage, hooks; ``bluegreen.native_snapshot``)."""

    @classmethod
    def from_api(
        cls,
        info: Mapping[str, Any],
        target: Mapping[str, Any] | None = None,
        *,
        schedule: Schedule | None = None,
        observed_at: dt.datetime | None = None,
    ) -> DeploymentSnapshot:
        """From GetDeployment's ``deploymentInfo`` and GetDeploymentTarget's ``ecsTarget``.

        Args:
            schedule: the expected timeline (``TrafficConfig.schedule`` with the group's
                waits), to compare with what happened.
            observed_at: when the answers were read.
        """
        error = info.get("errorInformation") or {}
        rollback = info.get("rollbackInfo") or {}
        target = target or {}
        return cls(
            deployment_id=info["deploymentId"],
            status=DeploymentStatus(info["status"]),
            application=info.get("applicationName"),
            deployment_group=info.get("deploymentGroupName"),
            deployment_config=info.get("deploymentConfigName"),
            creator=info.get("creator"),
            create_time=info.get("createTime"),
            start_time=info.get("startTime"),
            complete_time=info.get("completeTime"),
            error_code=error.get("code") or None,
            error_message=error.get("message") or None,
            rollback_deployment_id=rollback.get("rollbackDeploymentId") or None,
            rollback_of=rollback.get("rollbackTriggeringDeploymentId") or None,
            override_alarms=_override_alarms(info),
            target_status=target.get("status"),
            events=tuple(
                LifecycleEventProgress.from_api(e) for e in target.get("lifecycleEvents", ())
            ),
            task_sets=tuple(TaskSetProgress.from_api(ts) for ts in target.get("taskSetsInfo", ())),
            schedule=schedule,
            observed_at=observed_at,
        )

    # -- reading it -------------------------------------------------------------------

    def event(self, name: LifecycleEvent | str) -> LifecycleEventProgress | None:
        """The lifecycle event ``name``, or None when the target does not list it (yet)."""
        return next((e for e in self.events if e.name == name), None)

    @property
    def failed_event(self) -> LifecycleEventProgress | None:
        """The first lifecycle event that failed."""
        return next((e for e in self.events if e.status is LifecycleEventStatus.FAILED), None)

    @property
    def current_event(self) -> LifecycleEventProgress | None:
        """The event running now, else the next one due."""
        running = [e for e in self.events if e.status is LifecycleEventStatus.IN_PROGRESS]
        if running:
            return running[0]
        return next((e for e in self.events if e.status is LifecycleEventStatus.PENDING), None)

    def task_set(self, label: TargetLabel) -> TaskSetProgress | None:
        return next((ts for ts in self.task_sets if ts.label is label), None)

    @property
    def kind(self) -> str:
        """``codedeploy``, or ``ecs`` for an ECS-native service deployment."""
        return "codedeploy" if self.native is None else "ecs"

    @property
    def where(self) -> str:
        """``application/group`` for CodeDeploy, ``cluster/service`` for ECS-native."""
        return self.native.where if self.native else f"{self.application}/{self.deployment_group}"

    @property
    def latest_timestamp(self) -> dt.datetime | None:
        """The latest moment the deployment reports (creation, start, end, a lifecycle
        event's start or end): the server's clock has passed it."""
        moments = [self.create_time, self.start_time, self.complete_time]
        for e in self.events:
            moments += [e.start, e.end]
        known = [m for m in moments if m is not None]
        return max(known) if known else None

    @property
    def is_rollback(self) -> bool:
        """True for a deployment CodeDeploy started to roll another one back."""
        return self.rollback_of is not None or self.creator == ROLLBACK_CREATOR

    @property
    def succeeded(self) -> bool:
        """Succeeded, not rolled back, and not itself a rollback: the new version is live."""
        return (
            self.status is DeploymentStatus.SUCCEEDED
            and self.rollback_deployment_id is None
            and not self.is_rollback
        )

    @property
    def in_termination_wait(self) -> bool:
        """InProgress with every event done: traffic shifted, blue kept (ECS: BAKE_TIME)."""
        return (
            self.status is DeploymentStatus.IN_PROGRESS
            and bool(self.events)
            and all(e.status.is_done for e in self.events)
            and self.failed_event is None
        )

    @property
    def waiting_for(self) -> str | None:
        """What the deployment waits for now, as the end of "waiting for ...", or None once
        it has ended (``outcome`` then says how)."""
        if self.native is not None:
            return self.native.waiting_for
        status = self.status
        if status in (DeploymentStatus.CREATED, DeploymentStatus.QUEUED):
            return "CodeDeploy to start the deployment"
        if status.is_terminal:
            return None
        if status is DeploymentStatus.READY:
            return "promotion (ContinueDeployment READY_WAIT)"
        if self.in_termination_wait:
            return "the termination wait to end (blue is kept until then)"
        event = self.current_event
        if event is None:
            return f"CodeDeploy ({status})"
        if event.name in _EVENT_WAITS:
            return _EVENT_WAITS[event.name]
        if event.name is LifecycleEvent.ALLOW_TRAFFIC:
            green = self.task_set(TargetLabel.GREEN)
            weight = f", green at {green.traffic_weight:g}%" if green else ""
            return f"production traffic to shift to green (AllowTraffic{weight})"
        return f"the {event.name} hook"

    @property
    def ending(self) -> str | None:
        """How it ended, as one keyword, or None while it runs: ``succeeded``,
        ``rolled_back`` (rolled back, or a rollback that put blue back), ``failed`` or
        ``stopped``."""
        if self.native is not None:
            return self.native.ending
        status = self.status
        if not status.is_terminal:
            return None
        if self.rollback_deployment_id or (self.is_rollback and status.is_success):
            return "rolled_back"
        if status is DeploymentStatus.SUCCEEDED:
            return "succeeded"
        return "failed" if status is DeploymentStatus.FAILED else "stopped"

    @property
    def outcome(self) -> str | None:
        """How the deployment ended, as a sentence, or None while it runs: ``succeeded``,
        ``failed (rolled back by d-...)``, ``succeeded (the rollback of d-...)``."""
        if self.native is not None:
            return self.native.outcome
        status = self.status
        if not status.is_terminal:
            return None
        text = "succeeded" if status.is_success else str(status).lower()
        if self.is_rollback and self.rollback_of:
            text += f" (the rollback of {self.rollback_of})"
        if self.rollback_deployment_id:
            text += f"; rolled back by {self.rollback_deployment_id}"
        return text

    @property
    def state_line(self) -> str:
        """``waiting for ...`` while it runs, ``ended: ...`` once it has ended."""
        waiting = self.waiting_for
        return f"waiting for {waiting}" if waiting is not None else f"ended: {self.outcome}"

    # -- the schedule ---------------------------------------------------------------------

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """The schedule's expected changes, each with its due time and whether it happened.

        In order: the end of the ready wait (groups that wait for a promotion), each
        production traffic step, and the end of the termination wait (blue removed).
        Empty without a ``schedule``.
        """
        schedule = self.schedule
        if schedule is None:
            return ()
        ended = self.status.is_terminal
        out: list[Transition] = []

        def state(happened: bool) -> TransitionState:
            if happened:
                return TransitionState.HAPPENED
            return TransitionState.SKIPPED if ended else TransitionState.EXPECTED

        before_shift = self.event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC)
        if schedule.ready_wait_minutes:
            earlier = [
                e for e in self.events if e.name < LifecycleEvent.BEFORE_ALLOW_TRAFFIC and e.end
            ]
            ready_since = (
                max(e.end for e in earlier if e.end)
                if earlier and all(e.status.is_done for e in earlier)
                else None
            )
            out.append(
                Transition(
                    what="ready wait ends",
                    due=_after(ready_since, schedule.ready_wait_minutes),
                    state=state(before_shift is not None and before_shift.has_started),
                )
            )

        shift = self.event(LifecycleEvent.ALLOW_TRAFFIC)
        shift_start = shift.start if shift is not None and shift.has_started else None
        shifted = shift is not None and shift.status is LifecycleEventStatus.SUCCEEDED
        green = self.task_set(TargetLabel.GREEN)
        weight = green.traffic_weight if green is not None else 0.0
        for step in schedule.steps:
            happened = shifted or (
                shift is not None
                and shift.status is LifecycleEventStatus.IN_PROGRESS
                and weight >= step.green_percent - 0.01
            )
            out.append(
                Transition(
                    what=f"green {step.green_percent}%",
                    due=_after(shift_start, step.minute),
                    state=state(happened),
                )
            )

        last = self.event(LifecycleEvent.AFTER_ALLOW_TRAFFIC) or (
            self.events[-1] if self.events else None
        )
        held_since = last.end if last is not None and self.in_termination_wait else None
        out.append(
            Transition(
                what="termination wait ends (blue removed)",
                due=_after(held_since, schedule.termination_wait_minutes),
                state=state(self.status is DeploymentStatus.SUCCEEDED),
            )
        )
        return tuple(out)

    @property
    def next_transition(self) -> Transition | None:
        """The first expected transition that has not happened yet, or None."""
        return next((t for t in self.transitions if t.state is TransitionState.EXPECTED), None)

    @property
    def last_change(self) -> dt.datetime | None:
        """The latest moment something is known to have changed: a lifecycle event's start
        or end, a traffic step that happened, the deployment's start or creation."""
        moments = [self.create_time, self.start_time, self.complete_time]
        for e in self.events:
            moments += [e.start, e.end]
        for t in self.transitions:
            if t.state is TransitionState.HAPPENED and t.due is not None:
                moments.append(t.due)
        known = [m for m in moments if m is not None]
        if self.observed_at is not None:
            # Happened means by now: a Date header's whole seconds can put a change just
            # past the reading; dropping it read as minutes without a change (a long pause).
            known = [min(m, self.observed_at) for m in known]
        return max(known) if known else None

    # -- output -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything in the snapshot as a JSON-ready dict (times in ISO 8601, UTC)."""
        schedule = self.schedule
        next_transition = self.next_transition
        return {
            "deployment_id": self.deployment_id,
            "kind": self.kind,
            "status": str(self.status),
            "application": self.application,
            "deployment_group": self.deployment_group,
            "deployment_config": self.deployment_config,
            "creator": self.creator,
            "create_time": _iso(self.create_time),
            "start_time": _iso(self.start_time),
            "complete_time": _iso(self.complete_time),
            "observed_at": _iso(self.observed_at),
            "waiting_for": self.waiting_for,
            "succeeded": self.succeeded,
            "is_rollback": self.is_rollback,
            "in_termination_wait": self.in_termination_wait,
            "error": None
            if not (self.error_code or self.error_message)
            else {"code": self.error_code, "message": self.error_message},
            "rollback_deployment_id": self.rollback_deployment_id,
            "rollback_of": self.rollback_of,
            "target_status": self.target_status,
            "native": None if self.native is None else self.native.to_dict(),
            "events": [e.to_dict() for e in self.events],
            "task_sets": [ts.to_dict() for ts in self.task_sets],
            "schedule": None
            if schedule is None
            else {
                "steps": [
                    {"minute": step.minute, "green_percent": step.green_percent}
                    for step in schedule.steps
                ],
                "ready_wait_minutes": schedule.ready_wait_minutes,
                "termination_wait_minutes": schedule.termination_wait_minutes,
                "transitions": [t.to_dict() for t in self.transitions],
                "next_transition": next_transition.to_dict() if next_transition else None,
            },
        }

    def __repr__(self) -> str:
        origin = ""
        if self.rollback_of:
            origin = f", rollback of {self.rollback_of}"
        by = f" ({self.native})" if self.native else f", by {self.creator}"
        lines = [
            f"<DeploymentSnapshot {self.deployment_id} {self.status}{by}{origin}",
            f"  {self.where}  {self.deployment_config}",
            f"  {self.state_line}",
        ]
        if self.error_code or self.error_message:
            code = f" {self.error_code}" if self.error_code else ""
            lines.append(f"  error{code}: {self.error_message}")
        upcoming = self.next_transition
        if upcoming is not None and upcoming.due is not None:
            lines.append(f"  next {upcoming.what} due {upcoming.due:%H:%M:%S}")
        for e in self.events:
            times = ""
            if e.start is not None:
                times = f"{e.start:%H:%M:%S}"
                if e.end is not None:
                    times += f"-{e.end:%H:%M:%S}"
            line = f"  {e.name:<21} {e.status:<10} {times}"
            if e.diagnostics:
                line += f"  {e.diagnostics}"
            lines.append(line.rstrip())
        for ts in self.task_sets:
            lines.append(
                f"  {ts.label or '?':<5} {ts.status or '?':<8} {ts.target_group or '?':<14}"
                f" running {ts.running_count}/{ts.desired_count}"
                f"  traffic {ts.traffic_weight:g}%"
            )
        return "\n".join(lines) + ">"

    __str__ = __repr__


def _after(start: dt.datetime | None, minutes: int) -> dt.datetime | None:
    return None if start is None else start + dt.timedelta(minutes=minutes)
