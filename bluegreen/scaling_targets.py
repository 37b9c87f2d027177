"""One ECS service's scaling as AWS holds it: its scalable targets, the record tag on the
service, and the calls that suspend and restore the targets' flags.

Every call goes through one ``Caller`` (``bluegreen._aws``): it draws from the shared rate
budget, is counted per operation, and is retried on throttling, 5xx and a reset connection,
on the injected clock. RegisterScalableTarget passes only ``SuspendedState``, never min/max
(which would move the desired count into range).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from bluegreen._advice import advice
from bluegreen._aws import Caller, Clients, resolve_clients
from bluegreen.clock import MonotonicClock
from bluegreen.errors import AWSError, ResourceNotFoundError
from bluegreen.scaling_record import DIMENSION, RECORD_TAG, ScalableTargetState, ScalingRecord

if TYPE_CHECKING:
    import boto3

    from bluegreen.clock import Clock

__all__ = ["RestoreResult", "ServiceScaling", "service_scaling"]

RETRY_ATTEMPTS = 8
"""Attempts at most per call (a restore must get through a throttling spell)."""
RETRY_PATIENCE = 120.0
"""Seconds after its first attempt that a call makes no new attempt."""


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


@attrs.define
class ServiceScaling:
    """One ECS service's scaling, read and written through ``caller``."""

    aws: Clients
    clock: Clock
    cluster: str
    service: str
    caller: Caller
    _arn: str | None = None

    @property
    def resource_id(self) -> str:
        return f"service/{_name(self.cluster)}/{_name(self.service)}"

    def arn(self) -> str:
        if self._arn is None:
            self._describe()
        assert self._arn is not None
        return self._arn

    def _describe(self) -> dict[str, str]:
        """DescribeServices with the tags: learns the ARN and returns the tags, one call."""
        answer = self.caller(
            "DescribeServices",
            self.aws.ecs.describe_services,
            cluster=self.cluster,
            services=[self.service],
            include=["TAGS"],
        )
        found = answer.get("services") or []
        if not found:
            raise ResourceNotFoundError(
                f"service {self.cluster}/{self.service} does not exist",
                operation="DescribeServices",
                code="ServiceNotFoundException",
            )
        self._arn = str(found[0]["serviceArn"])
        return {str(t["key"]): str(t.get("value", "")) for t in found[0].get("tags") or ()}

    def targets(self) -> tuple[ScalableTargetState, ...]:
        answer = self.caller(
            "DescribeScalableTargets",
            self.aws.autoscaling.describe_scalable_targets,
            ServiceNamespace="ecs",
            ResourceIds=[self.resource_id],
            ScalableDimension=DIMENSION,
        )
        return tuple(ScalableTargetState.from_api(t) for t in answer.get("ScalableTargets", ()))

    def record(self) -> ScalingRecord | None:
        """The record in the service's tags now: ListTagsForResource once the ARN is known,
        else DescribeServices (which gives the ARN and the tags in one call)."""
        if self._arn is None:
            return self.record_in(self._describe())
        answer = self.caller(
            "ListTagsForResource", self.aws.ecs.list_tags_for_resource, resourceArn=self.arn()
        )
        tags = {str(t.get("key")): str(t.get("value")) for t in answer.get("tags", ())}
        return self.record_in(tags)

    def record_in(self, tags: Mapping[str, str]) -> ScalingRecord | None:
        """The record held in ``tags`` (the service's, read by the caller), without a call."""
        value = tags.get(RECORD_TAG)
        if value is None:
            return None
        return ScalingRecord.from_tag(value, resource_id=self.resource_id)

    def write(self, record: ScalingRecord) -> None:
        self.caller(
            "TagResource",
            self.aws.ecs.tag_resource,
            resourceArn=self.arn(),
            tags=[{"key": RECORD_TAG, "value": record.to_tag()}],
        )

    def remove(self) -> None:
        self.caller(
            "UntagResource",
            self.aws.ecs.untag_resource,
            resourceArn=self.arn(),
            tagKeys=[RECORD_TAG],
        )

    def set_suspended(self, target: ScalableTargetState, state: Mapping[str, bool]) -> None:
        self.caller(
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


def service_scaling(
    cluster: str,
    service: str,
    clients: Clients | None,
    session: boto3.Session | None,
    clock: Clock | None,
    *,
    arn: str | None = None,
) -> ServiceScaling:
    """The ``ServiceScaling`` of a public function's arguments, with its own ``Caller`` on
    ``clock`` (default: the monotonic clock); ``arn``: the service's ARN, when the caller
    has read it already (then never read again)."""
    aws = resolve_clients(clients, session)
    clock = clock if clock is not None else MonotonicClock()
    caller = Caller(clock=clock, attempts=RETRY_ATTEMPTS, patience=RETRY_PATIENCE)
    return ServiceScaling(aws, clock, cluster, service, caller, arn or None)


def _name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]
