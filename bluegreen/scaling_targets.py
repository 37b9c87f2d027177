"""One ECS service's scaling as AWS holds it: its scalable targets, the record tags on the
service (one per release), and the calls that set the targets' flags.

Every call goes through one ``Caller`` (``bluegreen._aws``): it draws from the shared rate
budget, is counted per operation, and is retried on throttling, 5xx and a reset connection,
on the injected clock. RegisterScalableTarget passes only ``SuspendedState``, never min/max
(which would move the desired count into range).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from bluegreen._advice import advice
from bluegreen._aws import Caller, Clients, resolve_clients
from bluegreen.arguments import check_connection, service_problems
from bluegreen.clock import DEFAULT_BUDGET, MonotonicClock
from bluegreen.errors import AWSError, ResourceNotFoundError
from bluegreen.scaling_record import DIMENSION, ScalableTargetState, ScalingRecord, records_in

if TYPE_CHECKING:
    import boto3

    from bluegreen.clock import Clock, RateBudget

__all__ = ["RestoreResult", "ServiceScaling", "service_scaling"]

RETRY_ATTEMPTS = 8
"""Attempts at most per call (a restore must get through a throttling spell)."""
RETRY_PATIENCE = 120.0
"""Seconds after its first attempt that a call makes no new attempt."""


@attrs.frozen(kw_only=True)
class RestoreResult:
    """What a restore (a reconcile of the service's scaling records) did.

    Attributes:
        restored: the resource ids whose flags were set back to the original state (or were
            already right), once no record kept scaling suspended.
        missing: recorded targets that no longer exist (deregistered meanwhile).
        already_restored: there was no record at all: nothing was done.
        record: the record acted on: the one given back, else the oldest one removed, else
            the oldest one still in force.
        removed: the records removed (their deployment ended, or they were given back).
        live: the records still in force: scaling stays suspended for them.
    """

    restored: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    already_restored: bool = False
    record: ScalingRecord | None = None
    removed: tuple[ScalingRecord, ...] = ()
    live: tuple[ScalingRecord, ...] = ()

    def __str__(self) -> str:
        if self.already_restored:
            return "scaling: nothing to restore"
        if self.live:
            kept = "; ".join(r.describe() for r in self.live)
            return f"scaling: kept suspended for {kept}"
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

    def records(self) -> tuple[ScalingRecord, ...]:
        """The records in the service's tags now, oldest first: ListTagsForResource once the
        ARN is known, else DescribeServices (which gives the ARN and the tags in one call)."""
        if self._arn is None:
            return self.records_in(self._describe())
        answer = self.caller(
            "ListTagsForResource", self.aws.ecs.list_tags_for_resource, resourceArn=self.arn()
        )
        tags = {str(t.get("key")): str(t.get("value")) for t in answer.get("tags", ())}
        return self.records_in(tags)

    def records_in(self, tags: Mapping[str, str]) -> tuple[ScalingRecord, ...]:
        """The records held in ``tags`` (the service's, read by the caller), without a call."""
        return records_in(tags, resource_id=self.resource_id)

    def write(self, record: ScalingRecord) -> None:
        """Write (or overwrite) ``record`` under its own key; no other record is touched."""
        self.caller(
            "TagResource",
            self.aws.ecs.tag_resource,
            resourceArn=self.arn(),
            tags=[{"key": record.key, "value": record.to_tag()}],
        )

    def remove(self, records: Sequence[ScalingRecord]) -> None:
        """Remove these records (their keys only), in one call."""
        if not records:
            return
        self.caller(
            "UntagResource",
            self.aws.ecs.untag_resource,
            resourceArn=self.arn(),
            tagKeys=list(dict.fromkeys(r.key for r in records)),
        )

    def set_suspended(self, target: ScalableTargetState, state: Mapping[str, bool]) -> None:
        """RegisterScalableTarget with only ``state``'s ``SuspendedState`` fields: the flags
        left out stay as they are, and min/max are never sent."""
        self.caller(
            "RegisterScalableTarget",
            self.aws.autoscaling.register_scalable_target,
            ServiceNamespace="ecs",
            ResourceId=target.resource_id,
            ScalableDimension=target.dimension,
            SuspendedState=dict(state),
        )

    def not_restored(self, exc: AWSError, records: Sequence[ScalingRecord]) -> None:
        """Note on ``exc`` that the scaling was not restored, the records were kept, and how
        to restore it later."""
        kept = "; ".join(f"{r.key} ({r.describe()})" for r in records) or "none"
        exc.add_note(
            f"scaling of {self.cluster}/{self.service} was NOT restored; the records were kept "
            f"({kept}). Restore it with "
            + advice(
                f"bluegreen.recover({self.cluster!r}, {self.service!r})",
                f"`bluegreen recover --cluster {self.cluster} --service {self.service}`",
            )
        )


def service_scaling(
    cluster: str,
    service: str,
    clients: Clients | None,
    session: boto3.Session | None,
    clock: Clock | None,
    *,
    arn: str | None = None,
    budget: RateBudget | None = None,
) -> ServiceScaling:
    """The ``ServiceScaling`` of a public function's arguments, with its own ``Caller`` on
    ``clock`` (default: the monotonic clock) drawing from ``budget`` (default: the
    process's ``DEFAULT_BUDGET``); ``arn``: the service's ARN, when the caller has read it
    already (then never read again).

    Raises:
        ValidationError: a name, ``clients``, ``session`` or ``clock`` that cannot work.
    """
    check_connection(
        subject="scaling",
        clients=clients,
        session=session,
        clock=clock,
        budget=budget,
        problems=service_problems(cluster=cluster, service=service),
    )
    aws = resolve_clients(clients, session)
    clock = clock if clock is not None else MonotonicClock()
    caller = Caller(
        clock=clock,
        budget=budget if budget is not None else DEFAULT_BUDGET,
        attempts=RETRY_ATTEMPTS,
        patience=RETRY_PATIENCE,
    )
    return ServiceScaling(aws, clock, cluster, service, caller, arn or None)


def _name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]
