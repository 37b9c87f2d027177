"""What a migration plan reads from AWS, as values: the service, its deployment group, the
listeners, the hook functions, the roles and the scaling left suspended.

``bluegreen.migration_reading`` fills these in (every call through the ``Caller``);
``bluegreen.migration_mapping`` turns them into the plan without calling AWS, so the mapping
can be tested on values alone. A fact that could not be read carries the reason in words
(``problem``/``error``) instead of raising: the plan lists every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.deployment_group import DeploymentGroup
from bluegreen.traffic import TrafficConfig

__all__ = [
    "GroupFacts",
    "HookFacts",
    "ListenerFacts",
    "MigrationFacts",
    "RoleFacts",
    "ServiceFacts",
]


@attrs.frozen(kw_only=True)
class ServiceFacts:
    """The service as DescribeServices showed it (tags included)."""

    cluster: str
    service: str
    raw: Mapping[str, Any]
    tags: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def arn(self) -> str:
        return str(self.raw.get("serviceArn", ""))

    @property
    def controller(self) -> str:
        return str((self.raw.get("deploymentController") or {}).get("type") or "ECS")

    @property
    def strategy(self) -> str | None:
        return (self.raw.get("deploymentConfiguration") or {}).get("strategy")

    @property
    def task_sets(self) -> tuple[Mapping[str, Any], ...]:
        """The task sets not yet gone (DRAINING ones still count: ECS refuses them too)."""
        return tuple(self.raw.get("taskSets") or ())

    @property
    def primary(self) -> Mapping[str, Any] | None:
        return next((t for t in self.task_sets if t.get("status") == "PRIMARY"), None)

    @property
    def load_balancers(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.raw.get("loadBalancers") or ())

    @property
    def partition(self) -> str:
        return _arn_part(self.arn, 1) or "aws"

    @property
    def region(self) -> str:
        return _arn_part(self.arn, 3) or ""

    @property
    def account(self) -> str:
        return _arn_part(self.arn, 4) or ""


def _arn_part(arn: str, index: int) -> str | None:
    parts = arn.split(":")
    return parts[index] if len(parts) > index and parts[0] == "arn" else None


@attrs.frozen(kw_only=True)
class GroupFacts:
    """The CodeDeploy deployment group and what only its raw answer holds."""

    group: DeploymentGroup
    traffic: TrafficConfig | None
    traffic_problem: str | None = None
    """Why the deployment config cannot be read or mapped, in words."""
    pair_count: int = 1
    termination_action: str = "TERMINATE"
    triggers: tuple[str, ...] = ()
    """The names of the group's triggers (SNS notifications)."""
    target_group_arns: Mapping[str, str] = attrs.field(factory=dict)
    """The pair's target groups by name -> ARN (DescribeTargetGroups)."""


@attrs.frozen(kw_only=True)
class ListenerFacts:
    """One listener of the pair's traffic route and its rules."""

    role: str
    """``production`` or ``test``."""
    arn: str
    found: bool = True
    network: bool = False
    """A Network Load Balancer's listener (TCP, UDP, TLS): ECS takes the listener itself."""
    forward: tuple[tuple[str, int], ...] = ()
    """The default action's forward weights (a plain forward: weight 100); empty when the
    default action does not forward."""
    free_priority: int | None = None
    """The highest priority no rule of the listener takes (ALB); None when all are taken."""


@attrs.frozen(kw_only=True)
class HookFacts:
    """One AppSpec hook and its Lambda function (GetFunction)."""

    event: str
    function: str
    function_arn: str
    handler: str | None = None
    error: str | None = None
    """Why the function could not be looked up; a missing function is a problem."""
    missing: bool = False


@attrs.frozen(kw_only=True)
class RoleFacts:
    """A role named by the caller, or to be created, as IAM answered GetRole."""

    name: str
    arn: str
    exists: bool
    trusts_ecs: bool = False
    error: str | None = None
    """Why GetRole failed (other than NoSuchEntity)."""


@attrs.frozen(kw_only=True)
class MigrationFacts:
    """Everything ``plan_migration`` read, and the problems met while reading."""

    service: ServiceFacts
    group: GroupFacts | None = None
    listeners: tuple[ListenerFacts, ...] = ()
    hooks: tuple[HookFacts, ...] = ()
    hooks_source: str = "none"
    """Where the hooks came from: ``appspec`` (given), ``deployment <id>``, or ``none``."""
    in_flight: str | None = None
    """A CodeDeploy deployment in flight (its id)."""
    role: RoleFacts | None = None
    create_role: RoleFacts | None = None
    hook_role: RoleFacts | None = None
    scaling_records: tuple[str, ...] = ()
    """The scaling records a CodeDeploy release left on the service, described."""
    scaling_suspended: tuple[str, ...] = ()
    """Scalable targets found suspended that no record explains."""
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
