"""Follow and drive one CodeDeploy ECS blue/green deployment.

``Deployment.attach(deployment_id)`` (or ``Deployment.current(cluster, service)``) gives a
lifecycle object: ``status()`` reads a ``DeploymentSnapshot`` (GetDeployment plus
GetDeploymentTarget, two calls) that also carries the expected schedule and what happened
of it, ``wait(until=...)`` polls until a ``Milestone`` and raises ``DeploymentError`` if the
deployment fails or is rolled back, ``promote``, ``finish`` and ``abort`` are the console's
three buttons (ContinueDeployment READY_WAIT, ContinueDeployment TERMINATION_WAIT,
StopDeployment with rollback), and ``rollback`` deploys the last known good task
definition again after a deployment succeeded.

Two kinds of waiting are kept apart: retrying a call AWS refused (throttling, 5xx: capped
exponential backoff with jitter, on tenacity) and polling for progress (``poll_interval``:
often around expected transitions, rarely during long bakes, between a floor and a
ceiling, with an optional deadline). Every call also draws from a ``RateBudget`` shared by
the process. All of it reads the injected clock only, so a test passing the simulator's
virtual clock runs a 30-minute deployment in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs
import tenacity

from bluegreen._advice import advice
from bluegreen._aws import resolve_clients, translate_errors
from bluegreen.appspec import AppSpec
from bluegreen.clock import DEFAULT_BUDGET, Clock, MonotonicClock, RateBudget
from bluegreen.discovery import discover
from bluegreen.errors import (
    AWSError,
    DeploymentError,
    DeploymentStateError,
    ResourceNotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    TrafficConfigError,
    ValidationError,
    WaitTimeoutError,
)
from bluegreen.server_time import ServerClock, http_date, server_clock_for
from bluegreen.state import DeploymentGroup
from bluegreen.status import (
    DeploymentStatus,
    LifecycleEvent,
    LifecycleEventStatus,
    TargetLabel,
    TaskSetStatus,
)
from bluegreen.traffic import (
    PREDEFINED_CONFIGS,
    Schedule,
    TrafficConfig,
    get_deployment_config,
)

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.scaling import RestoreResult

__all__ = [
    "Clock",
    "ControlResult",
    "Deployment",
    "DeploymentSnapshot",
    "LifecycleEventProgress",
    "DEFAULT_BUDGET",
    "Milestone",
    "RateBudget",
    "TaskSetProgress",
    "Transition",
    "TransitionState",
    "RollbackOrigin",
    "poll_interval",
]

_T = TypeVar("_T")

ROLLBACK_CREATOR = "codeDeployRollback"


class Milestone(enum.StrEnum):
    """Points of a deployment that ``Deployment.wait(until=...)`` can wait for."""

    INSTALLED = "installed"
    """Install Succeeded: green runs in steady state."""
    TEST_TRAFFIC = "test_traffic"
    """AllowTestTraffic Succeeded (or Skipped, without a test listener)."""
    READY = "ready"
    """Status Ready (waiting for ``promote()``) or BeforeAllowTraffic started."""
    TRAFFIC_STEP = "traffic_step"
    """The next production traffic step after the wait starts (green's weight goes up),
    or all traffic shifted."""
    TRAFFIC_SHIFTED = "traffic_shifted"
    """AllowTraffic Succeeded: production traffic goes to green."""
    TERMINATION_WAIT = "termination_wait"
    """Every lifecycle event done and the deployment still InProgress: blue is kept."""
    END = "end"
    """Succeeded, Failed or Stopped."""


# -- what a control did -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ControlResult:
    """What ``promote()``, ``finish()`` or ``abort(wait=False)`` did, for a REPL or a log.

    Attributes:
        deployment_id: the deployment acted on.
        action: ``promoted``, ``finished`` or ``stopping``.
        request: the API request sent, e.g. ``ContinueDeployment(READY_WAIT)``.
        status_before: the deployment's status when the control checked it.
        status_after: its status read back right after the request.
        next: what happens now, as a sentence.
    """

    deployment_id: str
    action: str
    request: str
    status_before: DeploymentStatus
    status_after: DeploymentStatus
    next: str

    @property
    def follow(self) -> str:
        """How to follow the deployment from here, in the caller's words."""
        return advice(
            f"Deployment.attach({self.deployment_id!r}).wait()",
            f"bluegreen wait --deployment-id {self.deployment_id}",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "action": self.action,
            "request": self.request,
            "status_before": str(self.status_before),
            "status_after": str(self.status_after),
            "next": self.next,
        }

    def __str__(self) -> str:
        return (
            f"{self.action} {self.deployment_id} ({self.request}; "
            f"{self.status_before} -> {self.status_after}): {self.next}; "
            f"follow it with {self.follow}"
        )

    def __repr__(self) -> str:
        return (
            f"<{self.action.capitalize()} {self.deployment_id}: {self.request}, "
            f"{self.status_before} -> {self.status_after}; {self.next}>"
        )


@attrs.frozen(kw_only=True)
class RollbackOrigin:
    """What a deployment made by ``Deployment.rollback()`` goes back to, and from where.

    Attributes:
        rolled_back: the deployment rolled back (the one ``rollback()`` was called on).
        task_definition: the task definition (revision) the rollback deploys again.
        replaced_task_definition: the one ``rolled_back`` had put live, when known.
        last_good: the earlier successful deployment ``task_definition`` comes from.
    """

    rolled_back: str
    task_definition: str
    replaced_task_definition: str | None
    last_good: str

    def __str__(self) -> str:
        replaced = (
            f" ({_short(self.replaced_task_definition)})" if self.replaced_task_definition else ""
        )
        return (
            f"rolling back {self.rolled_back}{replaced} to {_short(self.task_definition)}, "
            f"the revision {self.last_good} deployed"
        )


_DEPLOYMENT_ID = re.compile(r"d-[A-Z0-9]{9}")
"""CodeDeploy deployment ids: ``d-`` and nine upper-case letters or digits (``d-A1B2C3123``,
``d-QZMRGSTEX`` in AWS's documentation)."""


def check_deployment_id(deployment_id: object) -> str:
    """``deployment_id`` if it has the form of a CodeDeploy deployment id.

    Raises:
        ValidationError: it does not (checked before any AWS call).
    """
    if isinstance(deployment_id, str) and _DEPLOYMENT_ID.fullmatch(deployment_id):
        return deployment_id
    hint = ""
    if isinstance(deployment_id, str) and _DEPLOYMENT_ID.fullmatch(deployment_id.strip().upper()):
        hint = f" (did you mean {deployment_id.strip().upper()!r}?)"
    raise ValidationError(
        [
            f"deployment id {deployment_id!r} is not a CodeDeploy deployment id: expected "
            f"'d-' followed by 9 upper-case letters or digits, like 'd-A1B2C3D4E'{hint}"
        ],
        subject=advice("deployment id", "--deployment-id"),
    )


# -- snapshot values --------------------------------------------------------------------


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


@attrs.frozen(kw_only=True)
class TaskSetProgress:
    """A task set as the deployment target reports it (``ECSTaskSet``)."""

    id: str
    label: TargetLabel | None
    status: TaskSetStatus | None
    desired_count: int
    pending_count: int
    running_count: int
    traffic_weight: float
    target_group: str | None = None

    @classmethod
    def from_api(cls, task_set: Mapping[str, Any]) -> TaskSetProgress:
        label = task_set.get("taskSetLabel")
        status = task_set.get("status")
        return cls(
            # "identifer" is how the wire format spells it.
            id=task_set.get("identifer") or task_set.get("identifier") or "",
            label=TargetLabel(label) if label else None,
            status=TaskSetStatus(status) if status else None,
            desired_count=int(task_set.get("desiredCount", 0)),
            pending_count=int(task_set.get("pendingCount", 0)),
            running_count=int(task_set.get("runningCount", 0)),
            traffic_weight=float(task_set.get("trafficWeight", 0.0)),
            target_group=(task_set.get("targetGroup") or {}).get("name"),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "label": str(self.label) if self.label else None,
            "status": str(self.status) if self.status else None,
            "desired": self.desired_count,
            "pending": self.pending_count,
            "running": self.running_count,
            "traffic_weight": self.traffic_weight,
            "target_group": self.target_group,
        }


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
    target_status: str | None = None
    events: tuple[LifecycleEventProgress, ...] = ()
    task_sets: tuple[TaskSetProgress, ...] = ()
    schedule: Schedule | None = None
    """What the deployment config and the group's waits make it do, when known."""
    observed_at: dt.datetime | None = None
    """When this snapshot was read, on the reader's clock (UTC)."""

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
        """InProgress with every lifecycle event done: traffic shifted, blue still kept."""
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
    def outcome(self) -> str | None:
        """How the deployment ended, as a sentence, or None while it runs: ``succeeded``,
        ``failed (rolled back by d-...)``, ``succeeded (the rollback of d-...)``."""
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
            known = [m for m in known if m <= self.observed_at]
        return max(known) if known else None

    # -- output -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything in the snapshot as a JSON-ready dict (times in ISO 8601, UTC)."""
        schedule = self.schedule
        next_transition = self.next_transition
        return {
            "deployment_id": self.deployment_id,
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
        lines = [
            f"<DeploymentSnapshot {self.deployment_id} {self.status}, by {self.creator}{origin}",
            f"  {self.application}/{self.deployment_group}  {self.deployment_config}",
            f"  {self.state_line}",
        ]
        if self.error_code or self.error_message:
            lines.append(f"  error {self.error_code}: {self.error_message}")
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


def _green_weight(snapshot: DeploymentSnapshot) -> float:
    green = snapshot.task_set(TargetLabel.GREEN)
    return green.traffic_weight if green is not None else 0.0


def _next_step() -> Callable[[DeploymentSnapshot], bool]:
    """A test for ``Milestone.TRAFFIC_STEP``: green's weight above its first reading."""
    first: list[float] = []

    def done(snapshot: DeploymentSnapshot) -> bool:
        weight = _green_weight(snapshot)
        if not first:
            first.append(weight)
        return _reached(snapshot, Milestone.TRAFFIC_SHIFTED) or weight > first[0]

    return done


def _short(task_definition: str) -> str:
    """``web:12`` from a task-definition ARN (or the text as given)."""
    return task_definition.rsplit("/", 1)[-1]


def _same_task_definition(a: str, b: str) -> bool:
    """Whether two task-definition references name the same revision (ARN or family:rev);
    a bare family name cannot be compared and counts as the same."""
    a, b = _short(a), _short(b)
    if ":" not in a or ":" not in b:
        return True
    return a == b


def _after(start: dt.datetime | None, minutes: int) -> dt.datetime | None:
    return None if start is None else start + dt.timedelta(minutes=minutes)


def _reached(snapshot: DeploymentSnapshot, milestone: Milestone) -> bool:
    """True once ``snapshot`` is at or past ``milestone`` (failures are checked first)."""
    if snapshot.status.is_terminal:
        return True
    event = snapshot.event
    done_ok = (LifecycleEventStatus.SUCCEEDED, LifecycleEventStatus.SKIPPED)
    if milestone is Milestone.INSTALLED:
        install = event(LifecycleEvent.INSTALL)
        return install is not None and install.status is LifecycleEventStatus.SUCCEEDED
    if milestone is Milestone.TEST_TRAFFIC:
        test = event(LifecycleEvent.ALLOW_TEST_TRAFFIC)
        if test is None:  # groups without a test listener may omit the event
            after = event(LifecycleEvent.AFTER_INSTALL)
            return after is not None and after.status in done_ok
        return test.status in done_ok
    if milestone is Milestone.READY:
        before = event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC)
        return snapshot.status is DeploymentStatus.READY or (
            before is not None and before.has_started
        )
    if milestone is Milestone.TRAFFIC_SHIFTED:
        shift = event(LifecycleEvent.ALLOW_TRAFFIC)
        return shift is not None and shift.status is LifecycleEventStatus.SUCCEEDED
    if milestone is Milestone.TERMINATION_WAIT:
        return snapshot.in_termination_wait
    return False


def _diagnostics(event: LifecycleEventProgress | None) -> str | None:
    if event is None:
        return None
    parts = [p for p in (event.diagnostics, event.log_tail) if p]
    if len(parts) == 2 and parts[1].strip() == parts[0].strip():
        parts = parts[:1]
    return "\n".join(parts) or None


def _deployment_error(snapshot: DeploymentSnapshot) -> DeploymentError:
    failed = snapshot.failed_event
    parts = [f"{snapshot.status}"]
    if snapshot.is_rollback and snapshot.rollback_of:
        parts.append(f" (the rollback of {snapshot.rollback_of})")
    if snapshot.error_message:
        parts.append(f": {snapshot.error_message}")
    elif snapshot.status is DeploymentStatus.SUCCEEDED:
        parts.append(": it succeeded but was then rolled back")
    if failed is not None and failed.diagnostics:
        parts.append(f" ({failed.name}: {failed.diagnostics})")
    return DeploymentError(
        "".join(parts),
        deployment_id=snapshot.deployment_id,
        lifecycle_event=str(failed.name) if failed else None,
        error_code=snapshot.error_code,
        error_message=snapshot.error_message,
        diagnostics=_diagnostics(failed),
        rollback_deployment_id=snapshot.rollback_deployment_id,
        status=str(snapshot.status),
    )


_RETRYABLE = (ThrottledError, ServiceUnavailableError)


def _recover() -> str:
    """How to restore autoscaling after the fact, in the reader's words."""
    return advice("bluegreen.recover(cluster, service)", "`bluegreen recover`")


_RAMP = 0.25
"""Away from an expected transition, poll after this fraction of the time since the last
change: a phase that has lasted ten minutes is read every two and a half."""

_ACTIVE_STATUSES = ("Created", "Queued", "InProgress", "Baking", "Ready")

NO_ACTIVE_DEPLOYMENT = "NoActiveDeployment"
"""The ``code`` of the ``ResourceNotFoundError`` that ``Deployment.current`` raises when the
service has no deployment in flight."""


def poll_interval(
    snapshot: DeploymentSnapshot,
    *,
    min_interval: float = 5.0,
    max_interval: float = 60.0,
    only_end: bool = False,
) -> float:
    """Seconds to wait before reading a deployment again, given what it looked like.

    Near an expected transition (a traffic step, the end of a wait) and right after a
    change this is ``min_interval``; the longer nothing has changed the longer the pause,
    up to ``max_interval``, but never past the next expected transition.

    With ``only_end`` (someone waits for the end and watches nothing on the way) only the
    expected end counts: the steps before it neither shorten the pause nor restart the
    slow-down, so a long linear shift costs a read every ``max_interval`` until the end
    is near.
    """
    now = snapshot.observed_at
    if now is None:
        return min_interval
    if only_end:
        expected = [t for t in snapshot.transitions if t.state is TransitionState.EXPECTED]
        due = expected[-1].due if expected else None
        last = snapshot.start_time or snapshot.create_time
    else:
        upcoming = snapshot.next_transition
        due = upcoming.due if upcoming is not None else None
        last = snapshot.last_change
    # A transition that is late counts as a change: poll often right after its due time,
    # then less and less, so a slow drain of blue does not cost a call every few seconds.
    moments = [m for m in (last, due) if m is not None and m <= now]
    quiet = (now - max(moments)).total_seconds() if moments else 0.0
    pause = min(max_interval, max(min_interval, quiet * _RAMP))
    if due is not None and due > now:
        pause = min(pause, max(min_interval, (due - now).total_seconds()))
    return pause


@attrs.define
class Deployment:
    """One CodeDeploy ECS deployment, followed and driven through the API.

    Make it with ``Deployment.attach`` or ``Deployment.current``. ``calls`` counts the API
    requests made (retries included), for reports and benchmarks; every one first draws
    from ``budget``.
    """

    id: str
    _clients: Clients = attrs.field(alias="clients", repr=False)
    _clock: Clock = attrs.field(alias="clock", repr=False)
    calls: int = 0
    budget: RateBudget = attrs.field(factory=lambda: DEFAULT_BUDGET, kw_only=True, repr=False)
    """The rate budget API calls draw from (shared by the process by default)."""
    retry_attempts: int = attrs.field(default=8, kw_only=True, repr=False)
    """The most attempts one call gets when AWS throttles it or answers 5xx."""
    retry_budget: float = attrs.field(default=120.0, kw_only=True, repr=False)
    """The most seconds one call may spend being retried."""
    server_clock: ServerClock = attrs.field(
        default=attrs.Factory(lambda self: server_clock_for(self._clock), takes_self=True),
        kw_only=True,
        repr=False,
    )
    """The endpoint's time, read from every answer (shared with the rollback's
    ``Deployment``): what elapsed times, ETAs and ``observed_at`` are measured in."""
    _target_id: str | None = attrs.field(default=None, init=False, repr=False)
    _traffic: dict[str, TrafficConfig | None] = attrs.field(factory=dict, init=False, repr=False)
    _service: tuple[str, str] | None = attrs.field(default=None, init=False, repr=False)
    _last_status: DeploymentStatus | None = attrs.field(default=None, init=False, repr=False)
    rollback_origin: RollbackOrigin | None = attrs.field(default=None, init=False, repr=False)
    """For a deployment ``rollback()`` made: the task definition it goes back to and the
    deployment it rolls back."""
    _where: str | None = attrs.field(default=None, init=False, repr=False)

    def server_now(self) -> dt.datetime:
        """The time now as the AWS endpoint sees it (see ``ServerClock``), as an aware
        UTC datetime: what elapsed times and ETAs are measured against."""
        return self.server_clock.now()

    @classmethod
    def attach(
        cls,
        deployment_id: str,
        *,
        clients: Clients | None = None,
        session: boto3.Session | None = None,
        clock: Clock | None = None,
        budget: RateBudget | None = None,
    ) -> Deployment:
        """Follow the deployment ``deployment_id``; no API call is made yet.

        Args:
            deployment_id: ``d-XXXXXXXXX``.
            clients: ready ``bluegreen.Clients``; or
            session: the ``boto3.Session`` to use (region and profile).
            clock: an object with ``time()`` and ``sleep(seconds)`` used by every wait and
                retry (default: the real monotonic clock). Pass the simulator's clock in
                tests.
            budget: the ``RateBudget`` API calls draw from (default: ``DEFAULT_BUDGET``,
                shared by the whole process).

        Raises:
            ValidationError: ``deployment_id`` is not ``d-`` followed by nine upper-case
                letters or digits (nothing is sent to AWS).
        """
        return cls(
            check_deployment_id(deployment_id),
            clients=resolve_clients(clients, session),
            clock=clock if clock is not None else MonotonicClock(),
            budget=budget if budget is not None else DEFAULT_BUDGET,
        )

    @classmethod
    def current(
        cls,
        cluster: str,
        service: str,
        *,
        application: str | None = None,
        deployment_group: str | None = None,
        clients: Clients | None = None,
        session: boto3.Session | None = None,
        clock: Clock | None = None,
        budget: RateBudget | None = None,
    ) -> Deployment:
        """Follow the deployment in flight for ``cluster``/``service``.

        Finds the service's deployment group as ``bluegreen.discover`` does, then lists the
        group's deployments that have not ended; with several (a rollback and the
        deployment it rolls back are both listed for a moment) the newest one wins. A
        rollback CodeDeploy started counts: it is what changes the service now.

        Costs discover's calls (about four, not counted in ``calls``), one
        ListDeployments, and one BatchGetDeployments when several are listed.

        Args:
            cluster: cluster name or ARN.
            service: service name or ARN.
            application: the CodeDeploy application; with ``deployment_group``, skips the
                lookup of the group.
            deployment_group: the CodeDeploy deployment group.
            clients, session, clock, budget: as for ``attach``.

        Raises:
            ResourceNotFoundError: the service, or its deployment group, does not exist, or
                no deployment is in flight (the message names the last one).
        """
        aws = resolve_clients(clients, session)
        state = discover(
            cluster,
            service,
            application=application,
            deployment_group=deployment_group,
            clients=aws,
        )
        group = state.deployment_group
        where = f"service {state.cluster}/{state.service}"
        if group is None:
            raise ResourceNotFoundError(
                f"{where} has no CodeDeploy deployment group (deployment controller "
                f"{state.deployment_controller}), so no CodeDeploy deployment can be in flight",
                operation="GetDeploymentGroup",
                code="DeploymentGroupNotFound",
            )
        finder = cls(
            "",
            clients=aws,
            clock=clock if clock is not None else MonotonicClock(),
            budget=budget if budget is not None else DEFAULT_BUDGET,
        )
        ids = finder._list_deployments(group.application, group.name, list(_ACTIVE_STATUSES))
        if not ids:
            last = "it has never deployed"
            if group.last_attempted_deployment_id:
                last = (
                    f"the last deployment was {group.last_attempted_deployment_id} "
                    f"({group.last_attempted_status or 'status unknown'}); attach to it with "
                    + advice(
                        f"Deployment.attach({group.last_attempted_deployment_id!r})",
                        f"--deployment-id {group.last_attempted_deployment_id}",
                    )
                )
            raise ResourceNotFoundError(
                f"no deployment is in flight for {where} in {group.application}/{group.name}: "
                f"{last}",
                operation="ListDeployments",
                code=NO_ACTIVE_DEPLOYMENT,
            )
        found = ids[0]
        if len(ids) > 1:
            infos = [
                i
                for start in range(0, len(ids), 25)
                for i in finder._batch_get(ids[start : start + 25])
            ]
            newest = max(
                infos,
                key=lambda i: i.get("createTime") or dt.datetime.min.replace(tzinfo=dt.UTC),
                default=None,
            )
            if newest is not None:
                found = newest["deploymentId"]
        finder.id = found
        return finder

    def _sibling(self, deployment_id: str) -> Deployment:
        """Another deployment followed with the same clients, clock, budget and retries."""
        return Deployment(
            deployment_id,
            clients=self._clients,
            clock=self._clock,
            budget=self.budget,
            retry_attempts=self.retry_attempts,
            retry_budget=self.retry_budget,
            server_clock=self.server_clock,
        )

    # -- API calls ----------------------------------------------------------------------

    def _stop(self, started: float) -> Callable[[tenacity.RetryCallState], bool]:
        """A tenacity stop that reads the injected clock (``stop_after_delay`` would read
        the real one and never fire under a virtual clock)."""

        def stop(state: tenacity.RetryCallState) -> bool:
            return (
                state.attempt_number >= self.retry_attempts
                or self._clock.time() - started >= self.retry_budget
            )

        return stop

    def _call(
        self,
        operation: str,
        function: Callable[..., _T],
        *,
        retry_on: tuple[type[BaseException], ...] = _RETRYABLE,
        counted: bool = True,
        **kwargs: Any,
    ) -> _T:
        """Call ``function`` through ``translate_errors``, retrying throttling and 5xx.

        Every attempt first takes a token from ``budget``.
        """

        def attempt() -> _T:
            self.budget.acquire(self._clock)
            self.calls += counted
            with translate_errors(operation):
                answer = function(**kwargs)
            date = http_date(answer)
            if date is not None:
                self.server_clock.observe(date)
            return answer

        retrying = tenacity.Retrying(
            sleep=self._clock.sleep,
            stop=self._stop(self._clock.time()),
            wait=tenacity.wait_exponential_jitter(initial=1.0, max=20.0, jitter=1.0),
            retry=tenacity.retry_if_exception_type(retry_on),
            reraise=True,
        )
        return retrying(attempt)

    def _find_target_id(self) -> str:
        if self._target_id is None:
            answer = self._call(
                "ListDeploymentTargets",
                self._clients.codedeploy.list_deployment_targets,
                deploymentId=self.id,
            )
            ids = answer.get("targetIds") or []
            if not ids:
                raise DeploymentStateError(
                    f"deployment {self.id} has no deployment target; it is not an ECS "
                    "deployment or has not started",
                    deployment_id=self.id,
                )
            self._target_id = ids[0]
        return self._target_id

    def _traffic_config(self, name: str) -> TrafficConfig | None:
        """The deployment config ``name``, read once (predefined ones need no call).

        None when it cannot be read (no permission, not an ECS config): the snapshot then
        has no schedule, which only makes polling less clever.
        """
        if name not in self._traffic:
            config: TrafficConfig | None
            try:
                if name in PREDEFINED_CONFIGS:
                    config = PREDEFINED_CONFIGS[name]
                else:
                    config = self._call(
                        "GetDeploymentConfig",
                        get_deployment_config,
                        name=name,
                        clients=self._clients,
                    )
            except (AWSError, TrafficConfigError):
                config = None
            self._traffic[name] = config
        return self._traffic[name]

    def _schedule(self, info: Mapping[str, Any]) -> Schedule | None:
        name = info.get("deploymentConfigName")
        config = self._traffic_config(name) if name else None
        if config is None:
            return None
        group = DeploymentGroup.from_api(info)  # the waits are copied into deploymentInfo
        return config.schedule(
            ready_wait_minutes=group.promotion_wait_minutes,
            termination_wait_minutes=group.termination_wait_minutes,
        )

    # -- reading ------------------------------------------------------------------------

    def status(self) -> DeploymentSnapshot:
        """The deployment now: GetDeployment, then GetDeploymentTarget once it has started.

        The first call after the start also lists the target (ListDeploymentTargets) to
        learn its id, ``<cluster>:<service>``, and a custom deployment config is read once
        (GetDeploymentConfig) for the expected schedule.

        Raises:
            ResourceNotFoundError: no such deployment.
            AWSError: an API call failed (throttling is retried first).
        """
        return self._snapshot(self._info())

    def _snapshot(self, info: Mapping[str, Any]) -> DeploymentSnapshot:
        target: Mapping[str, Any] | None = None
        if info["status"] not in (DeploymentStatus.CREATED, DeploymentStatus.QUEUED):
            answer = self._call(
                "GetDeploymentTarget",
                self._clients.codedeploy.get_deployment_target,
                deploymentId=self.id,
                targetId=self._find_target_id(),
            )
            target = answer["deploymentTarget"].get("ecsTarget") or {}
        snapshot = DeploymentSnapshot.from_api(info, target, schedule=self._schedule(info))
        # What the server has reported happening, it has lived through: a floor for its time.
        self.server_clock.observe(at_least=snapshot.latest_timestamp)
        self._last_status = snapshot.status
        if snapshot.application and snapshot.deployment_group:
            self._where = f"{snapshot.application}/{snapshot.deployment_group}"
        return attrs.evolve(snapshot, observed_at=self.server_clock.now())

    def _info(self) -> Mapping[str, Any]:
        answer = self._call(
            "GetDeployment", self._clients.codedeploy.get_deployment, deploymentId=self.id
        )
        return answer["deploymentInfo"]

    def wait(
        self,
        until: Milestone | str = Milestone.END,
        *,
        timeout: float | None = None,
        min_interval: float = 5.0,
        max_interval: float = 60.0,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> DeploymentSnapshot:
        """Poll until the deployment reaches ``until``; returns the snapshot that showed it.

        Polling follows the expected schedule (see ``poll_interval``): every
        ``min_interval`` seconds around an expected transition or right after a change,
        less often the longer nothing changes, up to ``max_interval``. ``calls`` counts
        what it cost.

        Args:
            until: a ``Milestone`` or its name (``"installed"``, ``"ready"``, ...).
            timeout: give up after this many seconds (of the injected clock); no cap when
                None.
            min_interval: the shortest pause between two reads, in seconds.
            max_interval: the longest pause between two reads, in seconds.
            on_progress: called with every snapshot read, the last one included (before
                an error is raised for it).

        Raises:
            DeploymentError: the deployment failed, was stopped or was rolled back; carries
                the error code and message, the failed lifecycle event and its
                diagnostics, and the rollback deployment id.
            WaitTimeoutError: ``timeout`` passed first.
            ValueError: the intervals are not ``0 < min_interval <= max_interval``.
        """
        milestone = Milestone(until)
        started = self._clock.time()
        done: Callable[[DeploymentSnapshot], bool] = (
            _next_step()
            if milestone is Milestone.TRAFFIC_STEP
            else functools.partial(_reached, milestone=milestone)
        )
        snapshot = self._poll(
            done,
            milestone=milestone,
            timeout=timeout,
            min_interval=min_interval,
            max_interval=max_interval,
            on_progress=on_progress,
        )
        failure: DeploymentError | None = None
        if snapshot.status.is_terminal and not (snapshot.succeeded or snapshot.is_rollback):
            failure = _deployment_error(snapshot)
        if snapshot.is_rollback and snapshot.status.is_failure:
            failure = _deployment_error(snapshot)
        if failure is not None and snapshot.rollback_deployment_id and not snapshot.is_rollback:
            remaining = None if timeout is None else timeout - (self._clock.time() - started)
            self._follow_rollback(
                snapshot.rollback_deployment_id,
                failure,
                timeout=remaining,
                min_interval=min_interval,
                max_interval=max_interval,
                on_progress=on_progress,
            )
        if snapshot.status.is_terminal:
            try:
                self._restore_scaling(snapshot)
            except AWSError as exc:
                if failure is None:
                    raise
                failure.add_note(str(exc))
                for note in getattr(exc, "__notes__", ()):
                    failure.add_note(note)
        if failure is not None:
            raise failure
        return snapshot

    def _follow_rollback(
        self,
        rollback_id: str,
        failure: DeploymentError,
        *,
        timeout: float | None,
        min_interval: float,
        max_interval: float,
        on_progress: Callable[[DeploymentSnapshot], None] | None,
    ) -> None:
        """Wait for the rollback a failed deployment started, so the autoscaling ``deploy``
        suspended is restored before the caller hears of the failure (the rollback's own
        wait restores it). What goes wrong with the rollback is noted on ``failure``."""
        if timeout is not None and timeout <= 0:
            failure.add_note(
                f"rollback {rollback_id} still runs; autoscaling stays suspended until it "
                "ends: " + _recover() + " restores it then"
            )
            return
        try:
            self._sibling(rollback_id).wait(
                timeout=timeout,
                min_interval=min_interval,
                max_interval=max_interval,
                on_progress=on_progress,
            )
        except (DeploymentError, WaitTimeoutError, AWSError) as exc:
            failure.add_note(f"rollback {rollback_id}: {exc}")
            if not isinstance(exc, DeploymentError):
                failure.add_note(
                    "autoscaling stays suspended until the rollback ends: "
                    + _recover()
                    + " restores it then"
                )

    def release_scaling(self) -> RestoreResult | None:
        """Restore now the autoscaling that ``deploy`` suspended for this deployment, even
        while it still runs: what a release process does when it is interrupted (Ctrl-C,
        SIGTERM), since nobody may be left to restore it at the end.

        Returns:
            What was restored, or None when the deployment group names no ECS service.
        """
        snapshot = self.status()
        where = self._scaling_service(snapshot)
        if where is None:
            return None
        from bluegreen.scaling import restore_scaling

        return restore_scaling(
            *where,
            deployment_id=snapshot.rollback_of or self.id,
            clients=self._clients,
            clock=self._clock,
        )

    def _restore_scaling(self, snapshot: DeploymentSnapshot) -> None:
        """Put back the scaling ``deploy`` suspended for this deployment, once it (and the
        rollback it started) has ended; a record of another deployment is left alone."""
        if snapshot.rollback_deployment_id and not snapshot.is_rollback:
            rollback = self._sibling(snapshot.rollback_deployment_id)._info()
            if not DeploymentStatus(rollback["status"]).is_terminal:
                return  # restored when the rollback is waited for, or by `bluegreen recover`
        where = self._scaling_service(snapshot)
        if where is None:
            return
        from bluegreen.scaling import restore_scaling

        restore_scaling(
            *where,
            deployment_id=snapshot.rollback_of or self.id,
            clients=self._clients,
            clock=self._clock,
        )

    def _scaling_service(self, snapshot: DeploymentSnapshot) -> tuple[str, str] | None:
        """The deployment group's ``(cluster, service)``, read once."""
        if self._service is None:
            if not (snapshot.application and snapshot.deployment_group):
                return None
            answer = self._call(
                "GetDeploymentGroup",
                self._clients.codedeploy.get_deployment_group,
                counted=False,  # part of restoring scaling, not of following the deployment
                applicationName=snapshot.application,
                deploymentGroupName=snapshot.deployment_group,
            )
            services = answer["deploymentGroupInfo"].get("ecsServices") or []
            if not services:
                return None
            self._service = (services[0]["clusterName"], services[0]["serviceName"])
        return self._service

    def _poll(
        self,
        done: Callable[[DeploymentSnapshot], bool],
        *,
        milestone: Milestone | str,
        timeout: float | None,
        min_interval: float,
        max_interval: float,
        on_progress: Callable[[DeploymentSnapshot], None] | None,
    ) -> DeploymentSnapshot:
        if not 0 < min_interval <= max_interval:
            raise ValueError(
                f"need 0 < min_interval <= max_interval, got {min_interval} and {max_interval}"
            )
        started = self._clock.time()
        only_end = milestone is Milestone.END and on_progress is None
        snapshot: DeploymentSnapshot | None = None
        while True:
            snapshot = self._read(snapshot, light=only_end)
            if on_progress is not None:
                on_progress(snapshot)
            if done(snapshot):
                return snapshot
            elapsed = self._clock.time() - started
            if timeout is not None and elapsed >= timeout:
                raise WaitTimeoutError(
                    deployment_id=self.id,
                    milestone=str(milestone),
                    waiting_for=snapshot.waiting_for or str(snapshot.status),
                    elapsed=elapsed,
                )
            # The schedule is in the server's seconds, the bounds and the sleep in ours.
            rate = self.server_clock.rate
            pause = (
                poll_interval(
                    snapshot,
                    min_interval=min_interval * rate,
                    max_interval=max_interval * rate,
                    only_end=only_end,
                )
                / rate
            )
            if timeout is not None:
                pause = min(pause, timeout - elapsed)
            self._clock.sleep(max(0.0, pause))

    def _read(self, previous: DeploymentSnapshot | None, *, light: bool) -> DeploymentSnapshot:
        """The next snapshot for a wait. During a termination wait whose end is known, a
        wait for the end reads only GetDeployment and keeps the previous snapshot's events
        while the status stays the same: half the calls over what is often the longest
        part of a deployment (60 minutes by default)."""
        if not light or previous is None or not previous.in_termination_wait:
            return self.status()
        expected = [t for t in previous.transitions if t.state is TransitionState.EXPECTED]
        due = expected[-1].due if expected else None
        now = self.server_clock.now()
        if due is None or now >= due:
            return self.status()
        info = self._info()
        if str(info["status"]) != str(previous.status):
            return self._snapshot(info)
        return attrs.evolve(previous, observed_at=now)

    # -- controls -----------------------------------------------------------------------

    def promote(self) -> ControlResult:
        """Start shifting production traffic: ContinueDeployment READY_WAIT.

        Returns:
            What was done: the status before and after, and what happens next.

        Raises:
            DeploymentStateError: the deployment is not Ready (the status says why).
        """
        snapshot = self.status()
        if snapshot.status is not DeploymentStatus.READY:
            if snapshot.status.is_terminal:
                hint = "it has ended; there is nothing to promote"
            elif _reached(snapshot, Milestone.READY):
                hint = (
                    "it is past the ready wait (already promoted, or the deployment group "
                    "reroutes without waiting)"
                )
            else:
                hint = (
                    f"it is waiting for {snapshot.waiting_for}; "
                    + advice("call wait('ready') first", "run `bluegreen wait --until ready` first")
                    + " (Ready needs a deployment group with a ready wait, STOP_DEPLOYMENT)"
                )
            raise DeploymentStateError(
                f"cannot promote deployment {self.id}: its status is {snapshot.status}, "
                f"not Ready; {hint}",
                deployment_id=self.id,
                status=snapshot.status,
            )
        self._call(
            "ContinueDeployment",
            self._clients.codedeploy.continue_deployment,
            deploymentId=self.id,
            deploymentWaitType="READY_WAIT",
        )
        shift = f" ({snapshot.deployment_config})" if snapshot.deployment_config else ""
        return self._result(
            "promoted",
            "ContinueDeployment(READY_WAIT)",
            snapshot.status,
            f"production traffic shifts to green{shift}",
        )

    def _result(
        self, action: str, request: str, before: DeploymentStatus, next_: str
    ) -> ControlResult:
        """A ``ControlResult``, with the status read back once (GetDeployment)."""
        after = DeploymentStatus(self._info()["status"])
        self._last_status = after
        return ControlResult(
            deployment_id=self.id,
            action=action,
            request=request,
            status_before=before,
            status_after=after,
            next=next_,
        )

    def finish(self) -> ControlResult:
        """End the termination wait now and remove blue: ContinueDeployment TERMINATION_WAIT.

        Returns:
            What was done: the status before and after, and what happens next.

        Raises:
            DeploymentStateError: the deployment is not in its termination wait.
        """
        snapshot = self.status()
        if not snapshot.in_termination_wait:
            if snapshot.status.is_terminal:
                hint = "it has ended"
            else:
                hint = f"it is waiting for {snapshot.waiting_for}; " + advice(
                    "call wait('termination_wait') first",
                    "run `bluegreen wait --until termination_wait` first",
                )
            raise DeploymentStateError(
                f"cannot finish deployment {self.id}: it is not in its termination wait "
                f"(status {snapshot.status}); {hint}",
                deployment_id=self.id,
                status=snapshot.status,
            )
        self._call(
            "ContinueDeployment",
            self._clients.codedeploy.continue_deployment,
            deploymentId=self.id,
            deploymentWaitType="TERMINATION_WAIT",
        )
        return self._result(
            "finished",
            "ContinueDeployment(TERMINATION_WAIT)",
            snapshot.status,
            "blue is being removed and the deployment succeeds",
        )

    @overload
    def abort(
        self,
        *,
        wait: Literal[True] = True,
        timeout: float | None = None,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> DeploymentSnapshot: ...

    @overload
    def abort(
        self,
        *,
        wait: Literal[False],
        timeout: float | None = None,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> ControlResult: ...

    def abort(
        self,
        *,
        wait: bool = True,
        timeout: float | None = None,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> DeploymentSnapshot | ControlResult:
        """Stop the deployment and roll it back: StopDeployment(autoRollbackEnabled=True).

        Args:
            wait: follow the rollback deployment to its end and return its snapshot.
            timeout: with ``wait``, give up after this many seconds (injected clock).
            on_progress: with ``wait``, called with every snapshot read (of this
                deployment while it stops, then of the rollback deployment).

        Returns:
            The rollback deployment's final snapshot (or the stopped deployment's, when
            CodeDeploy started no rollback); without ``wait``, a ``ControlResult`` saying
            what was asked.

        Raises:
            DeploymentStateError: the deployment has already ended; StopDeployment cannot
                roll back a finished deployment.
            DeploymentError: the rollback itself failed.
            WaitTimeoutError: ``timeout`` passed first.
        """
        snapshot = self.status()
        if snapshot.status.is_terminal:
            raise DeploymentStateError(
                f"cannot abort deployment {self.id}: it has already ended ({snapshot.status}); "
                "to roll back a deployment that succeeded, "
                + advice("call rollback()", "run `bluegreen rollback`"),
                deployment_id=self.id,
                status=snapshot.status,
            )
        self._call(
            "StopDeployment",
            self._clients.codedeploy.stop_deployment,
            deploymentId=self.id,
            autoRollbackEnabled=True,
        )
        if not wait:
            return self._result(
                "stopping",
                "StopDeployment(autoRollbackEnabled)",
                snapshot.status,
                "CodeDeploy stops it and moves production traffic back to blue in a "
                "rollback deployment",
            )
        started = self._clock.time()
        stopped = self._poll(
            lambda s: s.status.is_terminal,
            milestone="end (stopping)",
            timeout=timeout,
            min_interval=5.0,
            max_interval=60.0,
            on_progress=on_progress,
        )
        if stopped.rollback_deployment_id is None:
            return stopped
        rollback = self._sibling(stopped.rollback_deployment_id)
        left = None if timeout is None else max(0.0, timeout - (self._clock.time() - started))
        try:
            return rollback.wait(Milestone.END, timeout=left, on_progress=on_progress)
        finally:
            self.calls += rollback.calls

    def rollback(self, *, description: str | None = None) -> Deployment:
        """Deploy the last known good task definition again, after this deployment succeeded.

        The last known good version is the one the group's previous successful deployment
        (not counting CodeDeploy's own rollbacks) deployed. Its AppSpec is re-used, hooks
        included, rebuilt for the live service so that network and platform settings are
        today's. A running deployment is rolled back with ``abort()`` instead.

        Costs about ten calls: GetDeployment, ListDeploymentTargets, discover's (not
        counted in ``calls``), GetApplicationRevision twice, ListDeployments,
        BatchGetDeployments and CreateDeployment. CreateDeployment is retried only when
        throttled; when its answer is lost the group is searched for the deployment it may
        have created, so one call never makes two deployments.

        Args:
            description: the new deployment's description (default: ``bluegreen rollback
                of d-... to family:revision``).

        Returns:
            The new deployment, created and not waited for.

        Raises:
            DeploymentStateError: this deployment is still running, did not succeed (or was
                already rolled back), is no longer what the service runs, or no earlier
                successful deployment exists; the message says what to do instead.
            AWSError: an API call failed.
        """
        info = self._info()
        snapshot = DeploymentSnapshot.from_api(info)
        self._check_can_roll_back(snapshot)
        application = info["applicationName"]
        group_name = info["deploymentGroupName"]
        cluster, _, service = self._find_target_id().partition(":")

        state = discover(
            cluster,
            service,
            application=application,
            deployment_group=group_name,
            clients=self._clients,
        )
        group = state.deployment_group
        if group is not None and group.active_deployment_id:
            raise DeploymentStateError(
                f"cannot roll back deployment {self.id}: deployment "
                f"{group.active_deployment_id} is running in {application}/{group_name}; "
                "wait for it to end, or "
                + advice(
                    "abort() it",
                    f"stop it with `bluegreen abort --deployment-id {group.active_deployment_id}`",
                ),
                deployment_id=self.id,
                status=snapshot.status,
            )
        ours = self._appspec(application, info.get("revision") or {})
        live = state.primary.task_definition if state.primary else state.task_definition
        if ours is not None and live and not _same_task_definition(ours.task_definition, live):
            raise DeploymentStateError(
                f"cannot roll back deployment {self.id}: the service runs {_short(live)} now, "
                f"not {_short(ours.task_definition)} which this deployment put live; a later "
                "deployment replaced it, roll back that one instead",
                deployment_id=self.id,
                status=snapshot.status,
            )

        previous = self._previous_success(info)
        if previous is None:
            raise DeploymentStateError(
                f"cannot roll back deployment {self.id}: {application}/{group_name} has no "
                "successful deployment before it, so there is no known good version to go "
                "back to; deploy a task definition explicitly ("
                + advice(
                    "bluegreen.deploy(cluster, service, task_definition=...)",
                    "bluegreen deploy --task-definition ...",
                )
                + ")",
                deployment_id=self.id,
                status=snapshot.status,
            )
        previous_id, previous_revision = previous
        good = self._appspec(application, previous_revision)
        if good is None:
            raise DeploymentStateError(
                f"cannot roll back deployment {self.id}: the last known good deployment "
                f"{previous_id} used a {previous_revision.get('revisionType')} revision, "
                "whose AppSpec bluegreen cannot read back; deploy its task definition "
                "explicitly",
                deployment_id=self.id,
                status=snapshot.status,
            )
        appspec = AppSpec.for_service(state, good.task_definition, hooks=good.hooks)
        text = description or (
            f"bluegreen rollback of {self.id} to {_short(good.task_definition)} "
            f"(from {previous_id})"
        )
        created = self._create(application, group_name, appspec, text)
        created.rollback_origin = RollbackOrigin(
            rolled_back=self.id,
            task_definition=good.task_definition,
            replaced_task_definition=ours.task_definition if ours is not None else None,
            last_good=previous_id,
        )
        return created

    def _check_can_roll_back(self, snapshot: DeploymentSnapshot) -> None:
        why = None
        if not snapshot.status.is_terminal:
            why = (
                f"it is still running ({snapshot.status}); "
                + advice("use abort()", "use `bluegreen abort`")
                + " to stop it and move traffic back to blue"
            )
        elif snapshot.is_rollback:
            why = (
                f"it is itself CodeDeploy's rollback of {snapshot.rollback_of}; the version "
                "it restored is live"
            )
        elif snapshot.rollback_deployment_id:
            why = (
                f"it was already rolled back by {snapshot.rollback_deployment_id}; the "
                "previous version is live"
            )
        elif snapshot.status.is_failure:
            why = (
                f"it did not succeed ({snapshot.status}), so nothing from it went live; the "
                "previous version still serves"
            )
        if why is not None:
            raise DeploymentStateError(
                f"cannot roll back deployment {self.id}: {why}",
                deployment_id=self.id,
                status=snapshot.status,
            )

    def _appspec(self, application: str, revision: Mapping[str, Any]) -> AppSpec | None:
        """The AppSpec of a revision, from GetApplicationRevision; None for S3 revisions."""
        kind = revision.get("revisionType")
        if kind not in ("AppSpecContent", "String"):
            return None
        key = "appSpecContent" if kind == "AppSpecContent" else "string"
        body = revision.get(key) or {}
        content = body.get("content")
        if not content:
            answer = self._call(
                "GetApplicationRevision",
                self._clients.codedeploy.get_application_revision,
                applicationName=application,
                revision={"revisionType": kind, key: {"sha256": body.get("sha256", "")}},
            )
            found: Mapping[str, Any] = answer.get("revision") or {}
            content = (found.get(key) or {}).get("content")
        if not content:
            return None
        return AppSpec.parse(content)

    def _previous_success(self, info: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        """(id, revision) of the group's newest user deployment that succeeded before this
        one was created, skipping CodeDeploy's rollbacks."""
        created = info.get("createTime")
        ranged: dict[str, Any] = {"createTimeRange": {"end": created}} if created else {}
        ids = [
            i
            for i in self._list_deployments(
                info["applicationName"], info["deploymentGroupName"], ["Succeeded"], **ranged
            )
            if i != self.id
        ]
        best: Mapping[str, Any] | None = None
        newest_first = True
        last_seen: dt.datetime | None = None
        for start in range(0, len(ids), 25):
            for candidate in self._batch_get(ids[start : start + 25]):
                when = candidate.get("createTime")
                if when is not None and last_seen is not None and when > last_seen:
                    newest_first = False
                last_seen = when if when is not None else last_seen
                if (
                    candidate.get("creator") == ROLLBACK_CREATOR
                    or (candidate.get("rollbackInfo") or {}).get("rollbackDeploymentId")
                    or (created is not None and when is not None and when >= created)
                ):
                    continue
                if best is None or (when is not None and when > best["createTime"]):
                    best = candidate
            # ListDeployments lists newest first in practice; rely on it only when the
            # answers bear it out.
            if best is not None and newest_first:
                break
        if best is None:
            return None
        return best["deploymentId"], best.get("revision") or {}

    def _list_deployments(
        self, application: str, group: str, statuses: list[str], **extra: Any
    ) -> list[str]:
        ids: list[str] = []
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {
                "applicationName": application,
                "deploymentGroupName": group,
                "includeOnlyStatuses": statuses,
                **extra,
            }
            if token:
                arguments["nextToken"] = token
            page = self._call(
                "ListDeployments", self._clients.codedeploy.list_deployments, **arguments
            )
            ids += page.get("deployments", [])
            token = page.get("nextToken")
            if not token:
                return ids

    def _batch_get(self, ids: list[str]) -> list[Mapping[str, Any]]:
        if not ids:
            return []
        answer = self._call(
            "BatchGetDeployments",
            self._clients.codedeploy.batch_get_deployments,
            deploymentIds=ids,
        )
        return list(answer.get("deploymentsInfo", []))

    def _create(
        self, application: str, group: str, appspec: AppSpec, description: str
    ) -> Deployment:
        """CreateDeployment, never twice: only throttling is retried, and after a lost
        answer the group is searched for the deployment the call may have created."""
        asked_at = self.server_clock.now() - dt.timedelta(minutes=1)
        try:
            answer = self._call(
                "CreateDeployment",
                self._clients.codedeploy.create_deployment,
                retry_on=(ThrottledError,),
                applicationName=application,
                deploymentGroupName=group,
                revision=appspec.revision(),
                description=description,
            )
        except ServiceUnavailableError:
            found = [
                d
                for d in self._batch_get(
                    self._list_deployments(
                        application,
                        group,
                        list(_ACTIVE_STATUSES),
                        createTimeRange={"start": asked_at},
                    )[:25]
                )
                if d.get("description") == description
            ]
            if not found:
                raise
            return self._sibling(found[0]["deploymentId"])
        return self._sibling(answer["deploymentId"])

    def __repr__(self) -> str:
        """``<Deployment d-X prod/web InProgress>``, from what was last read (no API call)."""
        where = self._target_id.replace(":", "/", 1) if self._target_id else self._where
        words = [self.id or "(none)"]
        if where:
            words.append(where)
        words.append(str(self._last_status) if self._last_status else "(not read yet)")
        if self.rollback_origin is not None:
            words.append(f"rolling back {self.rollback_origin.rolled_back}")
        return f"<Deployment {' '.join(words)}>"
