"""Follow and drive one CodeDeploy ECS blue/green deployment.

``Deployment.attach(deployment_id)`` gives a lifecycle object: ``status()`` reads a
``DeploymentSnapshot`` (GetDeployment plus GetDeploymentTarget, two calls), ``wait(until=...)``
polls until a ``Milestone`` and raises ``DeploymentError`` if the deployment fails or is
rolled back, and ``promote``, ``finish`` and ``abort`` are the console's three buttons
(ContinueDeployment READY_WAIT, ContinueDeployment TERMINATION_WAIT, StopDeployment with
rollback).

Two kinds of waiting are kept apart: retrying a call AWS refused (throttling, 5xx: capped
exponential backoff with jitter, on tenacity) and polling for progress (a fixed interval and
an optional deadline). Both read the injected clock only, so a test passing the simulator's
virtual clock runs a 30-minute deployment in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
import tenacity

from bluegreen._aws import resolve_clients, translate_errors
from bluegreen.errors import (
    DeploymentError,
    DeploymentStateError,
    ServiceUnavailableError,
    ThrottledError,
    WaitTimeoutError,
)
from bluegreen.status import (
    DeploymentStatus,
    LifecycleEvent,
    LifecycleEventStatus,
    TargetLabel,
    TaskSetStatus,
)

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients

__all__ = [
    "Clock",
    "Deployment",
    "DeploymentSnapshot",
    "LifecycleEventProgress",
    "Milestone",
    "TaskSetProgress",
]

_T = TypeVar("_T")

ROLLBACK_CREATOR = "codeDeployRollback"


class Clock(Protocol):
    """What waits need: the time now and a way to let time pass (both in seconds)."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class _MonotonicClock:
    """The real clock: ``time.monotonic`` and ``time.sleep``."""

    def time(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class Milestone(enum.StrEnum):
    """Points of a deployment that ``Deployment.wait(until=...)`` can wait for."""

    INSTALLED = "installed"
    """Install Succeeded: green runs in steady state."""
    TEST_TRAFFIC = "test_traffic"
    """AllowTestTraffic Succeeded (or Skipped, without a test listener)."""
    READY = "ready"
    """Status Ready (waiting for ``promote()``) or BeforeAllowTraffic started."""
    TRAFFIC_SHIFTED = "traffic_shifted"
    """AllowTraffic Succeeded: production traffic goes to green."""
    TERMINATION_WAIT = "termination_wait"
    """Every lifecycle event done and the deployment still InProgress: blue is kept."""
    END = "end"
    """Succeeded, Failed or Stopped."""


# -- snapshot values --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LifecycleEventProgress:
    """One lifecycle event of the deployment's ECS target."""

    name: LifecycleEvent
    status: LifecycleEventStatus
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    diagnostics: str | None = None

    @classmethod
    def from_api(cls, event: Mapping[str, Any]) -> LifecycleEventProgress:
        diagnostics = event.get("diagnostics") or {}
        return cls(
            name=LifecycleEvent(event["lifecycleEventName"]),
            status=LifecycleEventStatus(event.get("status", "Unknown")),
            start=event.get("startTime"),
            end=event.get("endTime"),
            diagnostics=diagnostics.get("message") or None,
        )

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

    @classmethod
    def from_api(
        cls, info: Mapping[str, Any], target: Mapping[str, Any] | None = None
    ) -> DeploymentSnapshot:
        """From GetDeployment's ``deploymentInfo`` and GetDeploymentTarget's ``ecsTarget``."""
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
    def waiting_for(self) -> str:
        """What the deployment waits for now, as the end of "waiting for ..."."""
        status = self.status
        if status in (DeploymentStatus.CREATED, DeploymentStatus.QUEUED):
            return "CodeDeploy to start the deployment"
        if status.is_terminal:
            if self.rollback_deployment_id:
                return f"rollback {self.rollback_deployment_id}"
            return f"nothing ({status})"
        if status is DeploymentStatus.READY:
            return "promotion (ContinueDeployment READY_WAIT)"
        if self.in_termination_wait:
            return "termination wait"
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

    def __repr__(self) -> str:
        origin = ""
        if self.rollback_of:
            origin = f", rollback of {self.rollback_of}"
        lines = [
            f"<DeploymentSnapshot {self.deployment_id} {self.status}, by {self.creator}{origin}",
            f"  {self.application}/{self.deployment_group}  {self.deployment_config}",
            f"  waiting for {self.waiting_for}",
        ]
        if self.error_code or self.error_message:
            lines.append(f"  error {self.error_code}: {self.error_message}")
        if self.rollback_deployment_id:
            lines.append(f"  rolled back by {self.rollback_deployment_id}")
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


def _deployment_error(snapshot: DeploymentSnapshot) -> DeploymentError:
    failed = snapshot.failed_event
    parts = [f"{snapshot.status}"]
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
        rollback_deployment_id=snapshot.rollback_deployment_id,
    )


# -- the deployment ------------------------------------------------------------------


_RETRYABLE = (ThrottledError, ServiceUnavailableError)


@attrs.define
class Deployment:
    """One CodeDeploy ECS deployment, followed and driven through the API.

    Make it with ``Deployment.attach``. ``calls`` counts the API requests made (retries
    included), for reports and benchmarks.
    """

    id: str
    _clients: Clients = attrs.field(alias="clients", repr=False)
    _clock: Clock = attrs.field(alias="clock", repr=False)
    calls: int = 0
    retry_attempts: int = attrs.field(default=8, kw_only=True, repr=False)
    """The most attempts one call gets when AWS throttles it or answers 5xx."""
    retry_budget: float = attrs.field(default=120.0, kw_only=True, repr=False)
    """The most seconds one call may spend being retried."""
    _target_id: str | None = attrs.field(default=None, init=False, repr=False)

    @classmethod
    def attach(
        cls,
        deployment_id: str,
        *,
        clients: Clients | None = None,
        session: boto3.Session | None = None,
        clock: Clock | None = None,
    ) -> Deployment:
        """Follow the deployment ``deployment_id``; no API call is made yet.

        Args:
            deployment_id: ``d-XXXXXXXXX``.
            clients: ready ``bluegreen.Clients``; or
            session: the ``boto3.Session`` to use (region and profile).
            clock: an object with ``time()`` and ``sleep(seconds)`` used by every wait and
                retry (default: the real monotonic clock). Pass the simulator's clock in
                tests.
        """
        return cls(
            deployment_id,
            clients=resolve_clients(clients, session),
            clock=clock if clock is not None else _MonotonicClock(),
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

    def _call(self, operation: str, function: Callable[..., _T], **kwargs: Any) -> _T:
        """Call ``function`` through ``translate_errors``, retrying throttling and 5xx."""

        def attempt() -> _T:
            self.calls += 1
            with translate_errors(operation):
                return function(**kwargs)

        retrying = tenacity.Retrying(
            sleep=self._clock.sleep,
            stop=self._stop(self._clock.time()),
            wait=tenacity.wait_exponential_jitter(initial=1.0, max=20.0, jitter=1.0),
            retry=tenacity.retry_if_exception_type(_RETRYABLE),
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

    # -- reading ------------------------------------------------------------------------

    def status(self) -> DeploymentSnapshot:
        """The deployment now: GetDeployment, then GetDeploymentTarget once it has started.

        The first call after the start also lists the target (ListDeploymentTargets) to
        learn its id, ``<cluster>:<service>``.

        Raises:
            ResourceNotFoundError: no such deployment.
            AWSError: an API call failed (throttling is retried first).
        """
        codedeploy = self._clients.codedeploy
        info = self._call("GetDeployment", codedeploy.get_deployment, deploymentId=self.id)[
            "deploymentInfo"
        ]
        target: Mapping[str, Any] | None = None
        if info["status"] not in (DeploymentStatus.CREATED, DeploymentStatus.QUEUED):
            answer = self._call(
                "GetDeploymentTarget",
                codedeploy.get_deployment_target,
                deploymentId=self.id,
                targetId=self._find_target_id(),
            )
            target = answer["deploymentTarget"].get("ecsTarget") or {}
        return DeploymentSnapshot.from_api(info, target)

    def wait(
        self,
        until: Milestone | str = Milestone.END,
        *,
        timeout: float | None = None,
        poll: float = 15.0,
    ) -> DeploymentSnapshot:
        """Poll until the deployment reaches ``until``; returns the snapshot that showed it.

        Args:
            until: a ``Milestone`` or its name (``"installed"``, ``"ready"``, ...).
            timeout: give up after this many seconds (of the injected clock); no cap when
                None.
            poll: seconds between two ``status()`` reads.

        Raises:
            DeploymentError: the deployment failed, was stopped or was rolled back; carries
                the error code, the failed lifecycle event and the rollback deployment id.
            WaitTimeoutError: ``timeout`` passed first.
        """
        milestone = Milestone(until)
        snapshot = self._poll(lambda s: _reached(s, milestone), milestone, timeout, poll)
        if snapshot.status.is_terminal and not (snapshot.succeeded or snapshot.is_rollback):
            raise _deployment_error(snapshot)
        if snapshot.is_rollback and snapshot.status.is_failure:
            raise _deployment_error(snapshot)
        return snapshot

    def _poll(
        self,
        done: Callable[[DeploymentSnapshot], bool],
        milestone: Milestone | str,
        timeout: float | None,
        poll: float,
    ) -> DeploymentSnapshot:
        started = self._clock.time()
        while True:
            snapshot = self.status()
            if done(snapshot):
                return snapshot
            elapsed = self._clock.time() - started
            if timeout is not None and elapsed >= timeout:
                raise WaitTimeoutError(
                    deployment_id=self.id,
                    milestone=str(milestone),
                    waiting_for=snapshot.waiting_for,
                    elapsed=elapsed,
                )
            pause = poll if timeout is None else min(poll, timeout - elapsed)
            self._clock.sleep(max(0.0, pause))

    # -- controls -----------------------------------------------------------------------

    def promote(self) -> None:
        """Start shifting production traffic: ContinueDeployment READY_WAIT.

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
                    f"it is waiting for {snapshot.waiting_for}; call wait('ready') first "
                    "(Ready needs a deployment group with a ready wait, STOP_DEPLOYMENT)"
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

    def finish(self) -> None:
        """End the termination wait now and remove blue: ContinueDeployment TERMINATION_WAIT.

        Raises:
            DeploymentStateError: the deployment is not in its termination wait.
        """
        snapshot = self.status()
        if not snapshot.in_termination_wait:
            if snapshot.status.is_terminal:
                hint = "it has ended"
            else:
                hint = (
                    f"it is waiting for {snapshot.waiting_for}; call wait('termination_wait') first"
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

    def abort(
        self, *, wait: bool = True, timeout: float | None = None, poll: float = 15.0
    ) -> DeploymentSnapshot | None:
        """Stop the deployment and roll it back: StopDeployment(autoRollbackEnabled=True).

        Args:
            wait: follow the rollback deployment to its end and return its snapshot.
            timeout: with ``wait``, give up after this many seconds (injected clock).
            poll: with ``wait``, seconds between reads.

        Returns:
            The rollback deployment's final snapshot (or the stopped deployment's, when
            CodeDeploy started no rollback); None without ``wait``.

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
                "to roll back, start a new deployment of the previous task definition",
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
            return None
        started = self._clock.time()
        stopped = self._poll(lambda s: s.status.is_terminal, "end (stopping)", timeout, poll)
        if stopped.rollback_deployment_id is None:
            return stopped
        rollback = Deployment(
            stopped.rollback_deployment_id,
            clients=self._clients,
            clock=self._clock,
            retry_attempts=self.retry_attempts,
            retry_budget=self.retry_budget,
        )
        left = None if timeout is None else max(0.0, timeout - (self._clock.time() - started))
        try:
            return rollback.wait(Milestone.END, timeout=left, poll=poll)
        finally:
            self.calls += rollback.calls

    def __repr__(self) -> str:
        return f"<Deployment {self.id} ({self.calls} API calls)>"
