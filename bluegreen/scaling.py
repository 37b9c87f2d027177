"""Suspend Application Auto Scaling for a deployment and put back exactly what was there.

A scaling activity during a CodeDeploy blue/green deployment can fail it or leave a wrong
desired count (contract section 7), so a release suspends the service's scaling first:

1. read every scalable target of the service (``service/<cluster>/<service>``,
   ``ecs:service:DesiredCount``) with its ``SuspendedState`` and min/max capacity;
2. record that durably in a tag on the ECS service (``RECORD_TAG``), with a request id, the
   deployment id once known, who and when, so any machine can find and restore it;
3. read the tag back: if another release recorded first, back off without suspending;
4. only then suspend the chosen flags, with RegisterScalableTarget passing only
   ``SuspendedState`` (never min/max, which would move the desired count into range).

Restoring sets exactly the recorded flags back (a flag suspended before stays suspended),
never touches min/max, then removes the tag. A second restore finds no tag and does nothing;
a target deregistered meanwhile is reported in ``RestoreResult.missing``. A restore that
cannot be done raises and keeps the tag, so ``recover`` can do it later.

This module holds the public functions. The record and its tag format are in
``bluegreen.scaling_record``; the AWS calls (each through ``bluegreen._aws.Caller``, retried
on throttling and 5xx on the injected clock) in ``bluegreen.scaling_targets``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.clock import wall_now
from bluegreen.errors import (
    AWSError,
    ConflictError,
    DeploymentStateError,
    ResourceNotFoundError,
    ValidationError,
)
from bluegreen.scaling_record import (
    FLAGS,
    OWNER_VARIABLE,
    RECORD_TAG,
    ScalableTargetState,
    ScalingRecord,
    default_owner,
)
from bluegreen.scaling_targets import RestoreResult, ServiceScaling, service_scaling

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.clock import Clock


__all__ = [
    "FLAGS",
    "OWNER_VARIABLE",
    "RECORD_TAG",
    "RestoreResult",
    "ScalableTargetState",
    "ScalingLease",
    "ScalingRecord",
    "ScalingStatus",
    "recover",
    "restore_scaling",
    "scaling_state",
    "suspend_scaling",
]

_TERMINAL = ("Succeeded", "Failed", "Stopped")
_ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]


@attrs.frozen(kw_only=True)
class ScalingStatus:
    """The service's scalable targets now, and the record of a release that suspended them."""

    targets: tuple[ScalableTargetState, ...] = ()
    record: ScalingRecord | None = None

    def __str__(self) -> str:
        return self.describe()

    def describe(self, *, ended: str | None = None) -> str:
        """The targets and the record, for a person.

        Args:
            ended: how the recorded deployment ended, once it has (``"deployment d-X ended
                (Succeeded)"``): the record is then not promised a restore "when the
                deployment ends", and the text says how to restore it now.
        """
        lines = ["Autoscaling:"]
        lines += [f"  {t}" for t in self.targets] or ["  no scalable target for the service"]
        if self.record is None:
            lines.append("  not suspended by bluegreen")
            return "\n".join(lines)
        suspended = ", ".join(self.record.suspended) or "nothing"
        recover = advice("bluegreen.recover(...)", "`bluegreen recover`")
        if ended is None:
            when = f"restored when the deployment ends, or with {recover}"
        else:
            when = (
                f"{ended} and it is not restored yet: {recover} restores it now (the release "
                "that follows the deployment, or the restore_scaling hook, may do it first)"
            )
        lines.append(f"  suspended by bluegreen ({suspended}) for {self.record.describe()}; {when}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": [t.to_dict() for t in self.targets],
            "record": self.record.to_dict() if self.record is not None else None,
        }


def _now(clock: Clock) -> dt.datetime:
    return wall_now(clock)


def _check_flags(suspend: Sequence[str]) -> tuple[str, ...]:
    names = suspend.split(",") if isinstance(suspend, str) else list(suspend)
    flags = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [f for f in flags if f not in FLAGS]
    if unknown or not flags:
        raise ValidationError(
            [
                advice("suspend=", "--suspend-scaling")
                + f" takes some of {', '.join(FLAGS)}, not {', '.join(unknown) or 'nothing'}"
            ],
            subject="scaling",
        )
    return flags


# -- the public functions ----------------------------------------------------------------


def scaling_state(
    cluster: str,
    service: str,
    *,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    service_arn: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ScalingStatus:
    """The service's scalable targets now and any record of a release that suspended them.

    Costs DescribeScalableTargets and DescribeServices (the ARN and the tags in one call);
    only the first when the caller passes the service's ``tags`` it has just read
    (DescribeServices with ``include=["TAGS"]``, as ``discover`` reads them).

    Args:
        service_arn: the service's ARN, when already read.
        tags: the service's tags, when already read: the record is taken from them.

    Raises:
        ResourceNotFoundError: the service does not exist.
        AWSError: an AWS call failed (throttling and 5xx are retried first).
    """
    svc = service_scaling(cluster, service, clients, session, None, arn=service_arn)
    record = svc.record_in(tags) if tags is not None else svc.record()
    return ScalingStatus(targets=svc.targets(), record=record)


@attrs.define
class ScalingLease:
    """Scaling suspended by ``suspend_scaling``; ``restore()`` (or leaving the ``with``
    block, however it is left) puts back what was recorded."""

    record: ScalingRecord | None
    _svc: ServiceScaling = attrs.field(alias="svc", repr=False)
    _result: RestoreResult | None = attrs.field(default=None, init=False, repr=False)

    def attach(self, deployment_id: str) -> None:
        """Write the deployment id into the record, so ``recover`` and the safety net can
        tell when the deployment has ended."""
        if self.record is None or self.record.deployment_id == deployment_id:
            return
        record = self.record.with_deployment(deployment_id)
        self._svc.write(record)
        self.record = record

    def restore(self) -> RestoreResult:
        """Put back the recorded state and remove the record; a second call does nothing.

        A record that is gone (restored by ``recover`` or the safety net) or belongs to
        another release is left alone.

        Raises:
            AWSError: the state could not be put back; the record is kept and the error's
                note says how to recover.
        """
        if self._result is not None:
            return RestoreResult(already_restored=True, record=self.record)
        if self.record is None:
            self._result = RestoreResult(already_restored=True)
            return self._result
        current = self._svc.record()
        if current is None or current.request_id != self.record.request_id:
            self._result = RestoreResult(already_restored=True, record=self.record)
            return self._result
        self._result = self._svc.restore(current)
        return self._result

    def __enter__(self) -> ScalingLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.restore()
        except AWSError as failure:
            if exc is None:
                raise
            exc.add_note(str(failure))
            for note in getattr(failure, "__notes__", ()):
                exc.add_note(note)


def suspend_scaling(
    cluster: str,
    service: str,
    *,
    suspend: Sequence[str] = ("in", "out", "scheduled"),
    deployment_id: str | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    service_arn: str | None = None,
    tags: Mapping[str, str] | None = None,
    targets: Sequence[ScalableTargetState] | None = None,
) -> ScalingLease:
    """Record the service's scaling state in a tag on the service, then suspend ``suspend``.

    A service without a scalable target gets no record (``lease.record`` is None).

    Args:
        cluster: cluster name or ARN.
        service: service name or ARN.
        suspend: which kinds of scaling to suspend: ``in``, ``out``, ``scheduled``.
        deployment_id: the deployment it is for, if it exists already (else ``attach``).
        clients, session: the AWS clients or session to use.
        clock: ``time()``/``sleep()`` for the retries and the record's time.
        service_arn, tags, targets: what the caller has just read of the service (its ARN,
            its tags, its scalable targets, e.g. the preflight's reads), so they are not
            read again: ``tags`` is checked for another release's record and ``targets``
            is what the record holds. Whatever is given, the record is written and then
            read back (ListTagsForResource) before anything is suspended, so of two
            releases that record at once only one suspends.

    Returns:
        A ``ScalingLease``; use it as a context manager or call ``restore()``.

    Raises:
        ConflictError: another release has recorded (and suspended) scaling of the service.
        ValidationError: ``suspend`` names something else.
        AWSError: an AWS call failed; whatever was suspended has been restored.
    """
    flags = _check_flags(suspend)
    svc = service_scaling(cluster, service, clients, session, clock, arn=service_arn)
    existing = svc.record_in(tags) if tags is not None else svc.record()
    if existing is not None:
        raise _conflict(svc, existing)
    targets = tuple(targets) if targets is not None else svc.targets()
    if not targets:
        return ScalingLease(None, svc=svc)
    record = ScalingRecord(
        request_id=uuid.uuid4().hex,
        deployment_id=deployment_id,
        owner=default_owner(),
        created_at=_now(svc.clock).replace(microsecond=0),
        targets=targets,
        suspended=flags,
    )
    svc.write(record)
    written = svc.record()
    if written is None or written.request_id != record.request_id:
        if written is None:
            raise ConflictError(
                f"the scaling record of {cluster}/{service} vanished right after it was "
                "written (another release or `bluegreen recover` removed it); nothing was "
                "suspended: try again"
            )
        raise _conflict(svc, written)
    lease = ScalingLease(record, svc=svc)
    try:
        for target in targets:
            wanted = target.suspended_state(also=flags)
            if wanted != target.suspended_state():
                svc.set_suspended(target, wanted)
    except BaseException as exc:
        try:
            lease.restore()
        except AWSError as failure:
            exc.add_note(str(failure))
        raise
    return lease


def _conflict(svc: ServiceScaling, record: ScalingRecord) -> ConflictError:
    return ConflictError(
        f"scaling of {svc.cluster}/{svc.service} is already suspended by another release "
        f"({record.describe(_now(svc.clock))}, request {record.request_id}): wait for that "
        "deployment to end, or run "
        + advice(
            f"bluegreen.recover({svc.cluster!r}, {svc.service!r})",
            f"`bluegreen recover --cluster {svc.cluster} --service {svc.service}`",
        )
        + " if its process died"
    )


def restore_scaling(
    cluster: str,
    service: str,
    *,
    deployment_id: str | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> RestoreResult:
    """Put back the recorded scaling state of the service and remove the record.

    Args:
        deployment_id: restore only a record made for this deployment; a record of another
            deployment (or of none yet) is left alone and returned in ``record``.

    Returns:
        What was done; ``already_restored`` when there was no record.

    Raises:
        AWSError: the state could not be put back; the record is kept.
    """
    svc = service_scaling(cluster, service, clients, session, clock)
    record = svc.record()
    if record is None:
        return RestoreResult(already_restored=True)
    if deployment_id is not None and record.deployment_id != deployment_id:
        return RestoreResult(record=record)
    return svc.restore(record)


def recover(
    cluster: str,
    service: str,
    *,
    force: bool = False,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> RestoreResult:
    """Restore a record left behind by a release process that died.

    Restores when the record's deployment has ended (and the rollback it started, if any),
    or when the record has no deployment id and the service's deployment group has no
    deployment in flight.

    Args:
        force: restore even though the deployment is still running.

    Raises:
        DeploymentStateError: the deployment is still running (the message names it).
        AWSError: the state could not be put back; the record is kept.
    """
    svc = service_scaling(cluster, service, clients, session, clock)
    record = svc.record()
    if record is None:
        return RestoreResult(already_restored=True)
    if not force:
        running = _running(svc, record)
        if running is not None:
            deployment, status = running
            raise DeploymentStateError(
                f"scaling of {cluster}/{service} was suspended for {record.describe()}, and "
                f"deployment {deployment} is still running ({status}): it is restored when "
                "that ends; "
                + advice(
                    f"recover({cluster!r}, {service!r}, force=True)",
                    f"`bluegreen recover --force --cluster {cluster} --service {service}`",
                )
                + " restores it anyway",
                deployment_id=deployment,
                status=status,
            )
    return svc.restore(record)


def _restore_ended(
    cluster: str,
    service: str,
    *,
    clients: Clients | None = None,
    clock: Clock | None = None,
    service_arn: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> RestoreResult | None:
    """Restore a record whose deployment (and its rollback) has ended, as ``recover`` would;
    for ``deploy``, so a deployment nobody waited for does not block the next one. A record
    without a deployment id may be a release about to create its deployment: left alone.
    ``service_arn`` and ``tags``: as the caller read them (no call when there is no record)."""
    svc = service_scaling(cluster, service, clients, None, clock, arn=service_arn)
    record = svc.record_in(tags) if tags is not None else svc.record()
    if record is None or record.deployment_id is None or _running(svc, record) is not None:
        return None
    return svc.restore(record)


def _running(svc: ServiceScaling, record: ScalingRecord) -> tuple[str, str] | None:
    """The deployment that keeps the record in force, with its status, or None."""
    codedeploy = svc.aws.codedeploy
    if record.deployment_id is None:
        from bluegreen.discovery import discover

        group = discover(svc.cluster, svc.service, clients=svc.aws).deployment_group
        if group is None:
            return None
        ids = svc.caller(
            "ListDeployments",
            codedeploy.list_deployments,
            applicationName=group.application,
            deploymentGroupName=group.name,
            includeOnlyStatuses=_ACTIVE,
        ).get("deployments", [])
        return (ids[0], "active") if ids else None
    deployment: str | None = record.deployment_id
    while deployment is not None:
        try:
            info = svc.caller("GetDeployment", codedeploy.get_deployment, deploymentId=deployment)
        except AWSError as exc:
            if isinstance(exc, ResourceNotFoundError) or exc.code == "InvalidDeploymentIdException":
                return None  # no such deployment: nothing keeps the record in force
            raise
        status = str(info["deploymentInfo"].get("status"))
        if status not in _TERMINAL:
            return deployment, status
        rollback = (info["deploymentInfo"].get("rollbackInfo") or {}).get("rollbackDeploymentId")
        deployment = str(rollback) if rollback and rollback != deployment else None
    return None
