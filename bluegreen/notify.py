"""Telling people about a deployment: each milestone once, to a callback or a webhook.

``Milestones`` turns the snapshots a wait reads into ``Notification`` values, each milestone
once and in order (created, ready for promotion, traffic shifted, then succeeded, or failed
and rolled back). A ``Notifier`` hands them to its sinks: any ``Callable[[Notification],
None]``, such as a ``bluegreen.notify_webhook.Webhook``. Pass ``notifier.update`` as a
wait's ``on_progress``::

    notifier = Notifier([Webhook(url, slack=True)], service="prod/web")
    deployment.wait(on_progress=notifier.update, on_evaluation=notifier.update_analysis)

A sink that fails never fails the deployment or its wait: the failure is logged as a warning
on the ``bluegreen.notify`` logger and the wait goes on. A notification carries ids,
statuses and reasons, never a task definition's environment or secrets, nor a hook's log.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.controls import deployment_error
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus

if TYPE_CHECKING:
    from bluegreen.analysis_run import AnalysisRun

__all__ = [
    "DeploymentMilestone",
    "Milestones",
    "Notification",
    "Notifier",
    "Sink",
]

logger = logging.getLogger("bluegreen.notify")


class DeploymentMilestone(enum.StrEnum):
    """What a notification announces, in the order a deployment can reach them."""

    CREATED = "created"
    """First seen: the deployment exists (it may have started already)."""
    READY_FOR_PROMOTION = "ready_for_promotion"
    """Status Ready: green is installed and waits for ``promote()``."""
    TRAFFIC_SHIFTED = "traffic_shifted"
    """AllowTraffic Succeeded: production traffic goes to green."""
    SUCCEEDED = "succeeded"
    """Succeeded, not rolled back: the new version is live."""
    FAILED = "failed"
    """Failed, stopped, or succeeded and then rolled back; the notification says why."""
    ROLLED_BACK = "rolled_back"
    """The rollback CodeDeploy started succeeded: blue serves production traffic again."""


@attrs.frozen(kw_only=True)
class Notification:
    """One milestone of one deployment, ready to send.

    Attributes:
        milestone: what happened.
        deployment_id: the deployment followed (for ``rolled_back``, the one rolled back;
            ``fields["rollback_deployment_id"]`` names the rollback).
        service: ``cluster/service`` when the notifier was told, else None.
        at: when the snapshot that showed it was read, on the server's clock (UTC).
        text: one sentence for a human.
        fields: the details as JSON-ready values (ids, statuses, reasons).
    """

    milestone: DeploymentMilestone
    deployment_id: str
    service: str | None
    at: dt.datetime | None
    text: str
    fields: dict[str, Any] = attrs.field(factory=dict, hash=False)

    def __str__(self) -> str:
        """Its sentence, so ``print`` is a sink a person can read."""
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """The webhook body: the notification as JSON-ready values (``at`` in ISO 8601)."""
        return {
            "milestone": str(self.milestone),
            "deployment_id": self.deployment_id,
            "service": self.service,
            "at": None if self.at is None else self.at.astimezone(dt.UTC).isoformat(),
            "text": self.text,
            "fields": dict(self.fields),
        }


Sink = Callable[[Notification], None]
"""Where notifications go: a callback, a ``Webhook``, anything callable with one."""


def _shifted(snapshot: DeploymentSnapshot) -> bool:
    shift = snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    return shift is not None and shift.status is LifecycleEventStatus.SUCCEEDED


@attrs.define
class Milestones:
    """Finds the milestones in the snapshots a wait reads, each one once and in order.

    Feed it every snapshot (``feed``); the first deployment fed is the one followed, and a
    later snapshot of the rollback CodeDeploy started for it (what a wait reads after a
    failure) can report ``rolled_back``. Snapshots of other deployments are ignored.

    Args:
        service: ``cluster/service``, put in each notification when known.
    """

    service: str | None = None
    stopped_because: str | None = None
    """Why bluegreen stopped the deployment (an analysis that failed), said instead of
    CodeDeploy's message; ``Notifier.update_analysis`` sets it."""
    failed_anyway: bool = False
    """The deployment succeeded although its analysis failed (it could no longer be
    stopped): reported as ``failed``, with ``stopped_because`` as the reason."""
    _followed: str | None = attrs.field(default=None, init=False)
    _seen: list[DeploymentMilestone] = attrs.field(factory=list, init=False)

    @property
    def seen(self) -> tuple[DeploymentMilestone, ...]:
        """The milestones reported so far, in order."""
        return tuple(self._seen)

    def feed(self, snapshot: DeploymentSnapshot) -> list[Notification]:
        """The milestones ``snapshot`` shows that were not reported before, in order."""
        if self._followed is None:
            self._followed = snapshot.deployment_id
        if snapshot.deployment_id != self._followed:
            if snapshot.is_rollback and snapshot.rollback_of == self._followed:
                return self._rollback(snapshot)
            return []
        found = [DeploymentMilestone.CREATED]
        if snapshot.status is DeploymentStatus.READY:
            found.append(DeploymentMilestone.READY_FOR_PROMOTION)
        if _shifted(snapshot):
            found.append(DeploymentMilestone.TRAFFIC_SHIFTED)
        if self.failed_anyway and snapshot.status.is_terminal:
            found.append(DeploymentMilestone.FAILED)
        elif snapshot.succeeded or (snapshot.is_rollback and snapshot.status.is_success):
            found.append(DeploymentMilestone.SUCCEEDED)
        elif snapshot.status.is_terminal:
            found.append(DeploymentMilestone.FAILED)
            if snapshot.native is not None and snapshot.ending == "rolled_back":
                # ECS rolls a native deployment back within itself: no second deployment.
                found.append(DeploymentMilestone.ROLLED_BACK)
        return [self._note(m, snapshot) for m in found if m not in self._seen]

    def _rollback(self, rollback: DeploymentSnapshot) -> list[Notification]:
        if not rollback.status.is_success or DeploymentMilestone.ROLLED_BACK in self._seen:
            return []
        return [self._note(DeploymentMilestone.ROLLED_BACK, rollback)]

    def _note(self, milestone: DeploymentMilestone, snapshot: DeploymentSnapshot) -> Notification:
        self._seen.append(milestone)
        deployment_id = self._followed or snapshot.deployment_id
        fields: dict[str, Any] = {
            "status": str(snapshot.status),
            "application": snapshot.application,
            "deployment_group": snapshot.deployment_group,
        }
        name = f"deployment {deployment_id}" + (f" of {self.service}" if self.service else "")
        if milestone is DeploymentMilestone.ROLLED_BACK and snapshot.native is not None:
            text = f"{name} was rolled back by ECS: blue serves production traffic again"
        elif milestone is DeploymentMilestone.ROLLED_BACK:
            fields["rollback_deployment_id"] = snapshot.deployment_id
            text = (
                f"{name} was rolled back by {snapshot.deployment_id}: blue serves production "
                "traffic again"
            )
        elif milestone is DeploymentMilestone.FAILED:
            error = deployment_error(snapshot, stopped_because=self.stopped_because)
            fields.update(
                reason=error.message,
                error_code=error.error_code,
                error_message=error.error_message,
                lifecycle_event=error.lifecycle_event,
                rollback_deployment_id=error.rollback_deployment_id,
            )
            if self.stopped_because:
                fields["stopped_because"] = self.stopped_because
            rolled = (
                f"; CodeDeploy rolls it back ({error.rollback_deployment_id})"
                if error.rollback_deployment_id
                else ""
            )
            text = f"{name} did not succeed: {error.message}{rolled}"
        elif milestone is DeploymentMilestone.READY_FOR_PROMOTION and snapshot.native is not None:
            text = f"{name} is ready for promotion: {snapshot.native.waiting_for}"
        else:
            text = f"{name} " + _TEXTS[milestone]
        return Notification(
            milestone=milestone,
            deployment_id=deployment_id,
            service=self.service,
            at=snapshot.observed_at,
            text=text[0].upper() + text[1:],
            fields=fields,
        )


_TEXTS = {
    DeploymentMilestone.CREATED: "was created",
    DeploymentMilestone.READY_FOR_PROMOTION: (
        "is ready for promotion: green is installed and waits for promote() "
        "(ContinueDeployment READY_WAIT)"
    ),
    DeploymentMilestone.TRAFFIC_SHIFTED: "shifted production traffic to green",
    DeploymentMilestone.SUCCEEDED: "succeeded: the new version is live",
}


def _to_sinks(sinks: Sequence[Sink]) -> tuple[Sink, ...]:
    return tuple(sinks)


@attrs.define
class Notifier:
    """Sends each milestone of a deployment to every sink, once.

    ``update`` is a wait's ``on_progress``; ``wrap(other)`` makes one that calls ``other``
    too; ``update_analysis`` is its ``on_evaluation`` (so a deployment an analysis stopped
    is reported with the analysis's reason). A sink that raises is logged (a warning on
    ``bluegreen.notify``) and skipped: notifying never changes how a deployment ends.

    Args:
        sinks: callables that take a ``Notification``, e.g. a ``Webhook``.
        service: ``cluster/service``, put in each notification.
    """

    sinks: Sequence[Sink] = attrs.field(converter=_to_sinks, default=())
    service: str | None = None
    sent: list[Notification] = attrs.field(factory=list, init=False)
    """Every notification handed to the sinks, in order."""
    _milestones: Milestones = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._milestones = Milestones(service=self.service)

    def update(self, snapshot: DeploymentSnapshot) -> None:
        """Notify the milestones ``snapshot`` shows for the first time."""
        for notification in self._milestones.feed(snapshot):
            self.send(notification)

    def update_analysis(self, run: AnalysisRun) -> None:
        """Note why an analysis stopped the deployment, for the ``failed`` notification."""
        if run.stopped and run.reason:
            self._milestones.stopped_because = f"the analysis {run.reason}"
        elif run.unstoppable and run.reason:
            self._milestones.stopped_because = (
                f"the analysis {run.reason}, but the deployment could no longer be stopped: "
                "green serves production; roll back with `bluegreen rollback`"
            )
            self._milestones.failed_anyway = True

    def wrap(
        self, other: Callable[[DeploymentSnapshot], None] | None
    ) -> Callable[[DeploymentSnapshot], None]:
        """An ``on_progress`` that notifies, then calls ``other`` (when given)."""
        if other is None:
            return self.update

        def both(snapshot: DeploymentSnapshot) -> None:
            self.update(snapshot)
            other(snapshot)

        return both

    def send(self, notification: Notification) -> None:
        """Hand ``notification`` to every sink; a sink that raises is logged and skipped."""
        self.sent.append(notification)
        for sink in self.sinks:
            try:
                sink(notification)
            except Exception as exc:  # a notification must never stop a deployment
                logger.warning(
                    "could not send the %s notification of %s to %s: %s",
                    notification.milestone,
                    notification.deployment_id,
                    _sink_name(sink),
                    exc,
                )

    @property
    def milestones(self) -> tuple[DeploymentMilestone, ...]:
        """The milestones notified so far, in order."""
        return self._milestones.seen


def _sink_name(sink: Sink) -> str:
    name = getattr(sink, "__qualname__", None)
    return str(name) if name else repr(sink)
