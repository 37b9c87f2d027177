"""The console's buttons for one deployment: what each may do and what it did.

``ControlResult`` is what ``promote()``, ``finish()`` and ``abort(wait=False)`` return,
``RollbackOrigin`` what a ``rollback()`` goes back to. The ``check_can_*`` functions refuse a
control that the deployment's snapshot does not allow, with what to do instead,
``send_control`` sends one (a retry that finds it done already counts as done), and
``deployment_error`` turns a failed deployment's snapshot into the ``DeploymentError`` a
wait raises.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen._aws import RETRYABLE, UNREACHABLE
from bluegreen.errors import (
    AWSError,
    DeploymentError,
    DeploymentStateError,
    ServiceUnavailableError,
)
from bluegreen.polling import Milestone, reached
from bluegreen.snapshot import DeploymentSnapshot, LifecycleEventProgress
from bluegreen.status import DeploymentStatus

if TYPE_CHECKING:
    from bluegreen._aws import Caller

__all__ = [
    "ControlResult",
    "RollbackOrigin",
    "check_can_abort",
    "check_can_finish",
    "check_can_promote",
    "check_can_roll_back",
    "deployment_error",
    "send_control",
    "short_task_definition",
]

DONE_ALREADY: dict[str, frozenset[str]] = {
    "READY_WAIT": frozenset(
        {"DeploymentIsNotInReadyStateException", "DeploymentAlreadyCompletedException"}
    ),
    "TERMINATION_WAIT": frozenset(
        {"InvalidDeploymentStatusException", "DeploymentAlreadyCompletedException"}
    ),
    "StopDeployment": frozenset({"DeploymentAlreadyCompletedException"}),
}
"""The refusals a control's retry gets when its earlier attempt went through unanswered:
promoted (no longer Ready), finished (no longer in the termination wait), or stopped (ended)."""


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
            f" ({short_task_definition(self.replaced_task_definition)})"
            if self.replaced_task_definition
            else ""
        )
        return (
            f"rolling back {self.rolled_back}{replaced} to "
            f"{short_task_definition(self.task_definition)}, "
            f"the revision {self.last_good} deployed"
        )


def short_task_definition(task_definition: str) -> str:
    """``web:12`` from a task-definition ARN (or the text as given)."""
    return task_definition.rsplit("/", 1)[-1]


def recover_hint() -> str:
    """How to restore autoscaling after the fact, in the reader's words."""
    return advice("bluegreen.recover(cluster, service)", "`bluegreen recover`")


def _diagnostics(event: LifecycleEventProgress | None) -> str | None:
    if event is None:
        return None
    parts = [p for p in (event.diagnostics, event.log_tail) if p]
    if len(parts) == 2 and parts[1].strip() == parts[0].strip():
        parts = parts[:1]
    return "\n".join(parts) or None


def deployment_error(
    snapshot: DeploymentSnapshot, *, stopped_because: str | None = None
) -> DeploymentError:
    """The error for a deployment that failed, stopped or was rolled back.

    ``stopped_because``: why bluegreen stopped it (an analysis that failed), said instead of
    CodeDeploy's message.
    """
    failed = snapshot.failed_event
    parts = [f"{snapshot.status}"]
    if snapshot.is_rollback and snapshot.rollback_of:
        parts.append(f" (the rollback of {snapshot.rollback_of})")
    if stopped_because:
        parts.append(f": {stopped_because}")
    elif snapshot.error_message:
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


# -- what each control may do ---------------------------------------------------------------


def check_can_promote(snapshot: DeploymentSnapshot) -> None:
    """Refuse ``promote()`` unless the deployment is Ready."""
    if snapshot.status is DeploymentStatus.READY:
        return
    if snapshot.status.is_terminal:
        hint = "it has ended; there is nothing to promote"
    elif reached(snapshot, Milestone.READY):
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
        f"cannot promote deployment {snapshot.deployment_id}: its status is {snapshot.status}, "
        f"not Ready; {hint}",
        deployment_id=snapshot.deployment_id,
        status=snapshot.status,
    )


def check_can_finish(snapshot: DeploymentSnapshot) -> None:
    """Refuse ``finish()`` unless the deployment is in its termination wait."""
    if snapshot.in_termination_wait:
        return
    if snapshot.status.is_terminal:
        hint = "it has ended"
    else:
        hint = f"it is waiting for {snapshot.waiting_for}; " + advice(
            "call wait('termination_wait') first",
            "run `bluegreen wait --until termination_wait` first",
        )
    raise DeploymentStateError(
        f"cannot finish deployment {snapshot.deployment_id}: it is not in its termination wait "
        f"(status {snapshot.status}); {hint}",
        deployment_id=snapshot.deployment_id,
        status=snapshot.status,
    )


def check_can_abort(snapshot: DeploymentSnapshot) -> None:
    """Refuse ``abort()`` of a deployment that has ended."""
    if not snapshot.status.is_terminal:
        return
    raise DeploymentStateError(
        f"cannot abort deployment {snapshot.deployment_id}: it has already ended "
        f"({snapshot.status}); to roll back a deployment that succeeded, "
        + advice("call rollback()", "run `bluegreen rollback`"),
        deployment_id=snapshot.deployment_id,
        status=snapshot.status,
    )


def check_can_roll_back(snapshot: DeploymentSnapshot) -> None:
    """Refuse ``rollback()`` of a deployment whose version is not what went live last."""
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
            f"cannot roll back deployment {snapshot.deployment_id}: {why}",
            deployment_id=snapshot.deployment_id,
            status=snapshot.status,
        )


def send_control(
    call: Caller,
    operation: str,
    function: Callable[..., Any],
    *,
    done_if: Collection[str],
    **kwargs: Any,
) -> None:
    """Send a control (ContinueDeployment, StopDeployment) and make it count once.

    Throttling, 5xx and failed connections are retried. After an ambiguous failure (a 5xx,
    or a connection that failed once the request may have been sent) the control may have
    been carried out with its answer lost; a retry refused with one of ``done_if``
    (``DONE_ALREADY``) then means it was, and counts as done.

    Raises:
        AWSError: the control failed, and no lost attempt can have carried it out.
    """
    lost: list[AWSError] = []

    def retry_if(error: AWSError) -> bool:
        if isinstance(error, ServiceUnavailableError) and error.code != UNREACHABLE:
            lost.append(error)
        return isinstance(error, RETRYABLE)

    try:
        call(operation, function, retry_if=retry_if, **kwargs)
    except AWSError as exc:
        if not (lost and exc.code in done_if):
            raise
