"""The live blue/green state of an ECS service, as one frozen value.

``ServiceState`` is one snapshot: the task sets (which is blue, which green), the
target-group pair, the production and test listeners with their weights, the CodeDeploy
deployment group and the deployment in flight. ``bluegreen.discover`` reads it from AWS.
Every class it holds can be built from the raw API answers with ``from_api`` so that tests
and tools that already hold the responses pay no extra call. Those classes live in
``bluegreen.task_set``, ``bluegreen.routing`` and ``bluegreen.deployment_group`` (and the
network values in ``bluegreen.placement``); they can be imported from here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.deployment_group import DeploymentGroup
from bluegreen.errors import ServiceConfigError
from bluegreen.native_config import AdvancedRouting, NativeRevision, NativeStrategy
from bluegreen.placement import AwsVpcConfiguration, CapacityProviderStrategyItem
from bluegreen.routing import (  # ListenerRule, NETWORK_PROTOCOLS: as they were importable here
    NETWORK_PROTOCOLS,  # noqa: F401
    ListenerRoute,
    ListenerRule,  # noqa: F401
    TargetGroup,
    TargetGroupPair,
    WeightedTargetGroup,
    name_from_arn,
)
from bluegreen.status import TargetLabel, TaskSetStatus
from bluegreen.task_set import LoadBalancerBinding, TaskSet

__all__ = [
    "DeploymentGroup",
    "ListenerRoute",
    "LoadBalancerBinding",
    "ServiceState",
    "TargetGroup",
    "TargetGroupPair",
    "TaskSet",
    "WeightedTargetGroup",
]


@attrs.frozen(kw_only=True)
class ServiceState:
    """One snapshot of an ECS service's blue/green state.

    Read it with ``bluegreen.discover``. ``blue`` is the task set serving production before
    the deployment; ``green`` the replacement, present only while a deployment (or its
    rollback) runs.
    """

    cluster: str
    service: str
    service_arn: str
    status: str
    deployment_controller: str
    desired_count: int
    running_count: int
    task_definition: str | None
    launch_type: str | None = None
    platform_version: str | None = None
    network_configuration: AwsVpcConfiguration | None = None
    capacity_provider_strategy: tuple[CapacityProviderStrategyItem, ...] = ()
    load_balancers: tuple[LoadBalancerBinding, ...] = ()
    task_sets: tuple[TaskSet, ...] = ()
    target_groups: TargetGroupPair | None = None
    production: ListenerRoute | None = None
    test: ListenerRoute | None = None
    deployment_group: DeploymentGroup | None = None
    deployment_id: str | None = None
    """The deployment in flight: a CodeDeploy id, or an ECS-native ``serviceDeploymentArn``."""
    tags: Mapping[str, str] = attrs.field(factory=dict, eq=False)
    strategy: NativeStrategy | None = None
    """ECS-native services only: the deployment strategy, its steps, bake time and hooks."""
    advanced_routing: AdvancedRouting | None = None
    """ECS-native: the load balancer's ``advancedConfiguration`` (rules, alternate group)."""
    blue_revision: NativeRevision | None = None
    """ECS-native: the service revision serving before the deployment (or now, between)."""
    green_revision: NativeRevision | None = None
    """ECS-native: the target revision of the deployment in flight."""

    @property
    def kind(self) -> str:
        """``"ecs"`` for an ECS-native blue/green service, else ``"codedeploy"``."""
        return "ecs" if self.strategy is not None else "codedeploy"

    # -- which task set is which --------------------------------------------------------

    def _live_task_sets(self) -> list[TaskSet]:
        return sorted(
            (ts for ts in self.task_sets),
            key=lambda ts: (ts.created_at or dt.datetime.min.replace(tzinfo=dt.UTC), ts.id),
        )

    @property
    def green(self) -> TaskSet | None:
        """The replacement task set: the one created by the deployment in flight.

        Matched by ``externalId`` (CodeDeploy sets it to the deployment id), else the newest
        of two or more task sets. None when only one task set exists.
        """
        if len(self.task_sets) < 2:
            return None
        if self.deployment_id:
            for ts in self.task_sets:
                if ts.external_id == self.deployment_id:
                    return ts
        return self._live_task_sets()[-1]

    @property
    def blue(self) -> TaskSet | None:
        """The original task set: the one serving before the deployment started."""
        green = self.green
        others = [ts for ts in self._live_task_sets() if ts is not green]
        if not others:
            return None
        primary = [ts for ts in others if ts.status is TaskSetStatus.PRIMARY]
        return primary[0] if primary else others[-1]

    @property
    def primary(self) -> TaskSet | None:
        return next((ts for ts in self.task_sets if ts.status is TaskSetStatus.PRIMARY), None)

    def label(self, task_set: TaskSet) -> TargetLabel | None:
        if task_set is self.green:
            return TargetLabel.GREEN
        if task_set is self.blue:
            return TargetLabel.BLUE
        return None

    @property
    def is_code_deploy(self) -> bool:
        return self.deployment_controller == "CODE_DEPLOY"

    def load_balancer_binding(self) -> LoadBalancerBinding:
        """The container and port that receive the deployment group's traffic.

        Raises:
            ServiceConfigError: the service has no load balancer, or several and none of
                them uses the deployment group's target groups.
        """
        if not self.load_balancers:
            raise ServiceConfigError(
                [
                    f"service {self.service} has no load balancer; a CodeDeploy blue/green "
                    "service needs one target group of the pair attached"
                ]
            )
        if len(self.load_balancers) == 1:
            return self.load_balancers[0]
        pair = self.target_groups.arns if self.target_groups else ()
        matching = [lb for lb in self.load_balancers if lb.target_group_arn in pair]
        if len(matching) == 1:
            return matching[0]
        raise ServiceConfigError(
            [
                f"service {self.service} has {len(self.load_balancers)} load balancers and "
                "cannot tell which one the deployment group routes; CodeDeploy supports one"
            ]
        )

    # -- reading it -----------------------------------------------------------------------

    def traffic(self, task_set: TaskSet | None) -> tuple[float | None, float | None]:
        """(production %, test %) this task set's target group receives."""
        if task_set is None:
            return (None, None)
        prod = self.production.percent(task_set.target_group_arn) if self.production else None
        test = self.test.percent(task_set.target_group_arn) if self.test else None
        return (prod, test)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for ``--output json``)."""

        def task_set(ts: TaskSet | None) -> dict[str, Any] | None:
            if ts is None:
                return None
            prod, test = self.traffic(ts)
            return {
                "id": ts.id,
                "status": str(ts.status),
                "task_definition": ts.task_definition,
                "running": ts.running_count,
                "desired": ts.desired_count,
                "pending": ts.pending_count,
                "stability": str(ts.stability) if ts.stability else None,
                "target_group": self._tg_name(ts.target_group_arn),
                "production_percent": prod,
                "test_percent": test,
                "external_id": ts.external_id,
            }

        def listener(route: ListenerRoute | None) -> dict[str, Any] | None:
            if route is None:
                return None
            return {
                "arn": route.arn,
                "port": route.port,
                "protocol": route.protocol,
                "weights": {self._tg_name(t.arn): route.percent(t.arn) for t in route.targets},
            }

        group = self.deployment_group
        native: dict[str, Any] = {}
        if self.strategy is not None:
            native = {
                "strategy": self.strategy.to_dict(),
                "advanced_configuration": self.advanced_routing.to_dict()
                if self.advanced_routing
                else None,
            }
            for label, revision in (("blue", self.blue_revision), ("green", self.green_revision)):
                native[label] = revision.to_dict() if revision else None
                if revision is not None:
                    native[label]["target_group"] = self._tg_name(revision.target_group_arn)
        return {
            "kind": self.kind,
            "cluster": self.cluster,
            "service": self.service,
            "status": self.status,
            "deployment_controller": self.deployment_controller,
            "desired_count": self.desired_count,
            "running_count": self.running_count,
            "task_definition": self.task_definition,
            "blue": task_set(self.blue),
            "green": task_set(self.green),
            "target_groups": [tg.name for tg in self.target_groups] if self.target_groups else None,
            "production_listener": listener(self.production),
            "test_listener": listener(self.test),
            "deployment_group": None
            if group is None
            else {
                "application": group.application,
                "name": group.name,
                "deployment_config": group.deployment_config_name,
            },
            "deployment_id": self.deployment_id,
            **native,
        }

    def _tg_name(self, arn: str | None) -> str | None:
        if arn is None:
            return None
        if self.target_groups is not None:
            tg = self.target_groups.by_arn(arn)
            if tg is not None:
                return tg.name
        return name_from_arn(arn)

    def __repr__(self) -> str:
        head = (
            f"<ServiceState {self.service} in {self.cluster.rsplit('/', 1)[-1]}: "
            f"{self.deployment_controller}, desired {self.desired_count}, "
            f"running {self.running_count}"
        )
        if self.deployment_id:
            head += f", deployment {self.deployment_id} in flight"
        lines = [head, *self._native_lines()]
        for label, ts in (("blue ", self.blue), ("green", self.green)):
            if ts is None:
                continue
            prod, test = self.traffic(ts)
            weights = ""
            if prod is not None:
                weights += f"  prod {prod:g}%"
            if test is not None:
                weights += f"  test {test:g}%"
            lines.append(
                f"  {label} {ts.status:<8} {ts.revision:<18} running {ts.running_count}/"
                f"{ts.desired_count}  tg {self._tg_name(ts.target_group_arn)}{weights}"
            )
        for label, route in (("prod ", self.production), ("test ", self.test)):
            if route is not None:
                lines.append(f"  {label} {route.describe(self.target_groups)}")
        if self.deployment_group is not None:
            g = self.deployment_group
            lines.append(
                f"  codedeploy {g.application}/{g.name} ({g.deployment_config_name or '?'})"
            )
        return "\n".join(lines) + ">"

    def _native_lines(self) -> list[str]:
        if self.strategy is None:
            return []
        lines = [f"  ecs-native {self.strategy.summary}"]
        for label, revision in (("blue ", self.blue_revision), ("green", self.green_revision)):
            if revision is None:
                continue
            weights = ""
            if revision.production_percent is not None:
                weights += f"  prod {revision.production_percent:g}%"
            if revision.test_percent is not None:
                weights += f"  test {revision.test_percent:g}%"
            lines.append(
                f"  {label} {revision.revision:<18} running {revision.running}/"
                f"{revision.requested}  tg {self._tg_name(revision.target_group_arn)}{weights}"
            )
        lines += [f"  hook  {hook.describe()}" for hook in self.strategy.hooks]
        return lines

    __str__ = __repr__
