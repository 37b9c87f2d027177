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

Every call is retried on throttling and 5xx here, on the injected clock, with botocore's own
retries off for these clients.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import tenacity

from bluegreen._advice import advice
from bluegreen._aws import Clients, resolve_clients, translate_errors
from bluegreen.clock import MonotonicClock, wall_now
from bluegreen.errors import (
    AWSError,
    ConflictError,
    DeploymentStateError,
    ResourceNotFoundError,
    ServiceUnavailableError,
    ThrottledError,
    ValidationError,
)

if TYPE_CHECKING:
    import boto3

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

RECORD_TAG = "bluegreen:scaling"
"""The ECS service tag that holds the ``ScalingRecord`` (compact JSON, at most 256 chars)."""

OWNER_VARIABLE = "BLUEGREEN_OWNER"
"""Names who suspended scaling in the record (default: ``user@host``)."""

FLAGS: Mapping[str, str] = {
    "in": "DynamicScalingInSuspended",
    "out": "DynamicScalingOutSuspended",
    "scheduled": "ScheduledScalingSuspended",
}
"""The kinds of scaling that can be suspended, and their ``SuspendedState`` fields."""

DIMENSION = "ecs:service:DesiredCount"
_TAG_LIMIT = 256
_RETRY_ATTEMPTS = 8
_RETRY_BUDGET = 120.0
_RETRYABLE = (ThrottledError, ServiceUnavailableError)
_TERMINAL = ("Succeeded", "Failed", "Stopped")
_ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]
_T = TypeVar("_T")


# -- values ------------------------------------------------------------------------------


_NOT_TAG_SAFE = re.compile(r"[^A-Za-z0-9+\-=._:/@]")


def _tag_safe(text: str) -> str:
    """``text`` with every character ECS does not allow in a tag value (and the spaces that
    separate the record's fields) replaced by ``_``."""
    return _NOT_TAG_SAFE.sub("_", text)


@attrs.frozen(kw_only=True)
class ScalableTargetState:
    """One Application Auto Scaling target of the service, as read (or recorded)."""

    resource_id: str
    dimension: str = DIMENSION
    min_capacity: int
    max_capacity: int
    dynamic_in_suspended: bool = False
    dynamic_out_suspended: bool = False
    scheduled_suspended: bool = False

    @classmethod
    def from_api(cls, target: Mapping[str, Any]) -> ScalableTargetState:
        """From one DescribeScalableTargets ``ScalableTargets`` entry."""
        suspended = target.get("SuspendedState") or {}
        return cls(
            resource_id=target["ResourceId"],
            dimension=target.get("ScalableDimension", DIMENSION),
            min_capacity=int(target.get("MinCapacity", 0)),
            max_capacity=int(target.get("MaxCapacity", 0)),
            dynamic_in_suspended=bool(suspended.get(FLAGS["in"])),
            dynamic_out_suspended=bool(suspended.get(FLAGS["out"])),
            scheduled_suspended=bool(suspended.get(FLAGS["scheduled"])),
        )

    def flag(self, name: str) -> bool:
        """Whether ``in``, ``out`` or ``scheduled`` is suspended."""
        return {
            "in": self.dynamic_in_suspended,
            "out": self.dynamic_out_suspended,
            "scheduled": self.scheduled_suspended,
        }[name]

    @property
    def suspended(self) -> tuple[str, ...]:
        """Which kinds of scaling are suspended: ``in``, ``out``, ``scheduled``."""
        return tuple(name for name in FLAGS if self.flag(name))

    def suspended_state(self, also: Sequence[str] = ()) -> dict[str, bool]:
        """RegisterScalableTarget's ``SuspendedState``: these flags, plus ``also`` suspended."""
        return {field: self.flag(name) or name in also for name, field in FLAGS.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "dimension": self.dimension,
            "min_capacity": self.min_capacity,
            "max_capacity": self.max_capacity,
            "suspended": list(self.suspended),
        }

    def __str__(self) -> str:
        suspended = ", ".join(self.suspended) or "nothing"
        return (
            f"{self.resource_id}: {self.min_capacity}-{self.max_capacity} tasks, "
            f"suspended: {suspended}"
        )


@attrs.frozen(kw_only=True)
class ScalingRecord:
    """What a release recorded before it suspended scaling: enough to put it back.

    Attributes:
        request_id: unique to the release that wrote it; tells its own record from another's.
        deployment_id: the CodeDeploy deployment it was made for, once known.
        owner: who suspended (``$BLUEGREEN_OWNER`` or ``user@host``).
        created_at: when (UTC).
        targets: the scalable targets as they were before anything was suspended.
        suspended: the kinds of scaling this release suspended.
    """

    request_id: str
    deployment_id: str | None = None
    owner: str
    created_at: dt.datetime
    targets: tuple[ScalableTargetState, ...] = ()
    suspended: tuple[str, ...] = ()

    def to_tag(self) -> str:
        """The ``RECORD_TAG`` tag value: ``key=value`` fields separated by spaces, using only
        the characters ECS allows in tag values (letters, digits, spaces and ``+ - = . _ : /
        @``), at most 256 characters.

        ``g=<min>:<max>:<in out scheduled as 0/1>@<resource id>`` is one scalable target. The
        resource id is left out when it would not fit (it is the tagged service's own); then
        the owner is shortened.
        """

        def render(with_ids: bool, owner: str) -> str:
            fields = [
                "v=2",
                f"r={_tag_safe(self.request_id)}",
                f"d={self.deployment_id or '-'}",
                f"o={_tag_safe(owner) or '-'}",
                f"t={self.created_at.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
                f"s={':'.join(self.suspended) or '-'}",
            ]
            for t in self.targets:
                flags = "".join("1" if t.flag(n) else "0" for n in FLAGS)
                where = f"@{_tag_safe(t.resource_id)}" if with_ids else "@"
                fields.append(f"g={t.min_capacity}:{t.max_capacity}:{flags}{where}")
            return " ".join(fields)

        text = render(True, self.owner)
        if len(text) > _TAG_LIMIT:
            text = render(False, self.owner)
        if len(text) > _TAG_LIMIT:
            owner = self.owner[: max(0, len(self.owner) - (len(text) - _TAG_LIMIT))]
            text = render(False, owner)
        if len(text) > _TAG_LIMIT:
            raise ValidationError(
                [f"the scaling record needs {len(text)} characters; an ECS tag holds 256"],
                subject="scaling record",
            )
        return text

    @classmethod
    def from_tag(cls, value: str, *, resource_id: str | None = None) -> ScalingRecord:
        """Parse a ``RECORD_TAG`` value; ``resource_id`` fills in one left out to fit.

        Raises:
            ValidationError: the value is not a record bluegreen wrote.
        """
        try:
            fields: dict[str, str] = {}
            targets = []
            for part in value.split():
                key, sep, item = part.partition("=")
                if not sep:
                    raise ValueError(f"field {part!r} has no '='")
                if key != "g":
                    fields[key] = item
                    continue
                limits, _, rid = item.partition("@")
                low, high, flags = limits.split(":")
                on = dict(zip(FLAGS, (c == "1" for c in flags), strict=True))
                targets.append(
                    ScalableTargetState(
                        resource_id=rid or resource_id or "?",
                        min_capacity=int(low),
                        max_capacity=int(high),
                        dynamic_in_suspended=on["in"],
                        dynamic_out_suspended=on["out"],
                        scheduled_suspended=on["scheduled"],
                    )
                )
            if fields.get("v") != "2":
                raise ValueError(f"unknown record version {fields.get('v')!r}")
            created = dt.datetime.strptime(fields["t"], "%Y-%m-%dT%H:%M:%SZ")
            suspended = fields.get("s", "-")
            return cls(
                request_id=fields["r"],
                deployment_id=None if fields.get("d", "-") == "-" else fields["d"],
                owner=fields.get("o", "?"),
                created_at=created.replace(tzinfo=dt.UTC),
                targets=tuple(targets),
                suspended=() if suspended == "-" else tuple(suspended.split(":")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(
                [f"tag {RECORD_TAG} holds {value!r}, not a record bluegreen wrote: {exc}"],
                subject="scaling record",
            ) from exc

    def with_deployment(self, deployment_id: str) -> ScalingRecord:
        return attrs.evolve(self, deployment_id=deployment_id)

    def describe(self, now: dt.datetime | None = None) -> str:
        """``deployment d-123 by alice@ci, 5 min ago``: for messages."""
        what = f"deployment {self.deployment_id}" if self.deployment_id else "no deployment yet"
        when = f"at {self.created_at:%Y-%m-%d %H:%M:%S}Z"
        if now is not None:
            minutes = max(0.0, (now - self.created_at).total_seconds() / 60)
            when = f"{minutes:.0f} min ago ({when})"
        return f"{what}, by {self.owner}, {when}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "deployment_id": self.deployment_id,
            "owner": self.owner,
            "created_at": self.created_at.isoformat(),
            "targets": [t.to_dict() for t in self.targets],
            "suspended": list(self.suspended),
        }


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


@attrs.frozen(kw_only=True)
class RestoreResult:
    """What a restore did.

    Attributes:
        restored: the resource ids whose flags were set back (or were already right).
        missing: recorded targets that no longer exist (deregistered meanwhile).
        already_restored: there was no record to restore: nothing was done.
        record: the record acted on (or left alone, when it belongs to another deployment).
    """

    restored: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    already_restored: bool = False
    record: ScalingRecord | None = None

    def __str__(self) -> str:
        if self.already_restored:
            return "scaling: nothing to restore"
        if self.record is not None and not self.restored and not self.missing:
            return f"scaling: left alone, suspended for {self.record.describe()}"
        parts = []
        if self.restored:
            parts.append(f"restored {', '.join(self.restored)}")
        if self.missing:
            parts.append(f"deregistered meanwhile: {', '.join(self.missing)}")
        return "scaling: " + ("; ".join(parts) or "record removed")


# -- AWS calls ---------------------------------------------------------------------------


@attrs.define
class _Service:
    """One ECS service's scaling, read and written with retries on the injected clock."""

    aws: Clients
    clock: Clock
    cluster: str
    service: str
    _arn: str | None = None

    @property
    def resource_id(self) -> str:
        return f"service/{_name(self.cluster)}/{_name(self.service)}"

    def call(self, operation: str, function: Callable[..., _T], **kwargs: Any) -> _T:
        """``function(**kwargs)`` through ``translate_errors``, retrying throttling and 5xx."""
        started = self.clock.time()

        def stop(state: tenacity.RetryCallState) -> bool:
            return (
                state.attempt_number >= _RETRY_ATTEMPTS
                or self.clock.time() - started >= _RETRY_BUDGET
            )

        def attempt() -> _T:
            with translate_errors(operation):
                return function(**kwargs)

        retrying = tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=stop,
            wait=tenacity.wait_exponential_jitter(initial=1.0, max=20.0, jitter=1.0),
            retry=tenacity.retry_if_exception_type(_RETRYABLE),
            reraise=True,
        )
        return retrying(attempt)

    def arn(self) -> str:
        if self._arn is None:
            answer = self.call(
                "DescribeServices",
                self.aws.ecs.describe_services,
                cluster=self.cluster,
                services=[self.service],
            )
            found = answer.get("services") or []
            if not found:
                raise ResourceNotFoundError(
                    f"service {self.cluster}/{self.service} does not exist",
                    operation="DescribeServices",
                    code="ServiceNotFoundException",
                )
            self._arn = str(found[0]["serviceArn"])
        return self._arn

    def targets(self) -> tuple[ScalableTargetState, ...]:
        answer = self.call(
            "DescribeScalableTargets",
            self.aws.autoscaling.describe_scalable_targets,
            ServiceNamespace="ecs",
            ResourceIds=[self.resource_id],
            ScalableDimension=DIMENSION,
        )
        return tuple(ScalableTargetState.from_api(t) for t in answer.get("ScalableTargets", ()))

    def record(self) -> ScalingRecord | None:
        answer = self.call(
            "ListTagsForResource", self.aws.ecs.list_tags_for_resource, resourceArn=self.arn()
        )
        for tag in answer.get("tags", ()):
            if tag.get("key") == RECORD_TAG:
                return ScalingRecord.from_tag(str(tag.get("value")), resource_id=self.resource_id)
        return None

    def write(self, record: ScalingRecord) -> None:
        self.call(
            "TagResource",
            self.aws.ecs.tag_resource,
            resourceArn=self.arn(),
            tags=[{"key": RECORD_TAG, "value": record.to_tag()}],
        )

    def remove(self) -> None:
        self.call(
            "UntagResource",
            self.aws.ecs.untag_resource,
            resourceArn=self.arn(),
            tagKeys=[RECORD_TAG],
        )

    def set_suspended(self, target: ScalableTargetState, state: Mapping[str, bool]) -> None:
        self.call(
            "RegisterScalableTarget",
            self.aws.autoscaling.register_scalable_target,
            ServiceNamespace="ecs",
            ResourceId=target.resource_id,
            ScalableDimension=target.dimension,
            SuspendedState=dict(state),
        )

    def restore(self, record: ScalingRecord) -> RestoreResult:
        """Set the recorded flags back, then remove the tag; raises with the tag kept."""
        try:
            now = {(t.resource_id, t.dimension): t for t in self.targets()}
            restored, missing = [], []
            for recorded in record.targets:
                current = now.get((recorded.resource_id, recorded.dimension))
                if current is None:
                    missing.append(recorded.resource_id)
                    continue
                wanted = recorded.suspended_state()
                if current.suspended_state() != wanted:
                    self.set_suspended(recorded, wanted)
                restored.append(recorded.resource_id)
        except AWSError as exc:
            exc.add_note(
                f"scaling of {self.cluster}/{self.service} was NOT restored; the record in tag "
                f"{RECORD_TAG} was kept ({record.describe()}). Restore it with "
                + advice(
                    f"bluegreen.recover({self.cluster!r}, {self.service!r})",
                    f"`bluegreen recover --cluster {self.cluster} --service {self.service}`",
                )
            )
            raise
        self.remove()
        return RestoreResult(
            restored=tuple(restored), missing=tuple(missing), record=record, already_restored=False
        )


def _name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


def _owner() -> str:
    owner = os.environ.get(OWNER_VARIABLE)
    if owner:
        return owner
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _no_retry_clients(aws: Clients) -> Clients:
    """Clients like ``aws`` for ECS and Application Auto Scaling with botocore's retries off,
    so that only bluegreen's retries (on the injected clock) run."""
    from botocore.config import Config

    off = Config(retries={"total_max_attempts": 1})
    if aws.session is None:
        import boto3

        aws.session = boto3.Session()
    session = aws.session

    def remake(base: Any, service: str) -> Any:
        return session.client(
            service,  # type: ignore[call-overload]
            region_name=base.meta.region_name,
            endpoint_url=base.meta.endpoint_url,
            config=base.meta.config.merge(off),
        )

    return Clients(
        session=session,
        endpoint_url=aws.endpoint_url,
        config=off if aws.config is None else aws.config.merge(off),
        ecs=remake(aws.ecs, "ecs"),
        autoscaling=remake(aws.autoscaling, "application-autoscaling"),
        codedeploy=aws.codedeploy,
    )


def _service(
    cluster: str,
    service: str,
    clients: Clients | None,
    session: boto3.Session | None,
    clock: Clock | None,
) -> _Service:
    aws = _no_retry_clients(resolve_clients(clients, session))
    return _Service(aws, clock if clock is not None else MonotonicClock(), cluster, service)


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
) -> ScalingStatus:
    """The service's scalable targets now and any record of a release that suspended them.

    Raises:
        ResourceNotFoundError: the service does not exist.
        AWSError: an AWS call failed (throttling and 5xx are retried first).
    """
    svc = _service(cluster, service, clients, session, None)
    return ScalingStatus(targets=svc.targets(), record=svc.record())


@attrs.define
class ScalingLease:
    """Scaling suspended by ``suspend_scaling``; ``restore()`` (or leaving the ``with``
    block, however it is left) puts back what was recorded."""

    record: ScalingRecord | None
    _svc: _Service = attrs.field(alias="svc", repr=False)
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

    Returns:
        A ``ScalingLease``; use it as a context manager or call ``restore()``.

    Raises:
        ConflictError: another release has recorded (and suspended) scaling of the service.
        ValidationError: ``suspend`` names something else.
        AWSError: an AWS call failed; whatever was suspended has been restored.
    """
    flags = _check_flags(suspend)
    svc = _service(cluster, service, clients, session, clock)
    existing = svc.record()
    if existing is not None:
        raise _conflict(svc, existing)
    targets = svc.targets()
    if not targets:
        return ScalingLease(None, svc=svc)
    record = ScalingRecord(
        request_id=uuid.uuid4().hex,
        deployment_id=deployment_id,
        owner=_owner(),
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


def _conflict(svc: _Service, record: ScalingRecord) -> ConflictError:
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
    svc = _service(cluster, service, clients, session, clock)
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
    svc = _service(cluster, service, clients, session, clock)
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
) -> RestoreResult | None:
    """Restore a record whose deployment (and its rollback) has ended, as ``recover`` would;
    for ``deploy``, so a deployment nobody waited for does not block the next one. A record
    without a deployment id may be a release about to create its deployment: left alone."""
    svc = _service(cluster, service, clients, None, clock)
    record = svc.record()
    if record is None or record.deployment_id is None or _running(svc, record) is not None:
        return None
    return svc.restore(record)


def _running(svc: _Service, record: ScalingRecord) -> tuple[str, str] | None:
    """The deployment that keeps the record in force, with its status, or None."""
    codedeploy = svc.aws.codedeploy
    if record.deployment_id is None:
        from bluegreen.discovery import discover

        group = discover(svc.cluster, svc.service, clients=svc.aws).deployment_group
        if group is None:
            return None
        ids = svc.call(
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
            info = svc.call("GetDeployment", codedeploy.get_deployment, deploymentId=deployment)
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
