"""The live blue/green state of an ECS service, as frozen values.

``ServiceState`` is one snapshot: the task sets (which is blue, which green), the
target-group pair, the production and test listeners with their weights, the CodeDeploy
deployment group and the deployment in flight. ``bluegreen.discover`` reads it from AWS.
Every class here can be built from the raw API answers with ``from_api`` so that tests and
tools that already hold the responses pay no extra call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from bluegreen.appspec import AwsVpcConfiguration, CapacityProviderStrategyItem
from bluegreen.errors import ServiceConfigError
from bluegreen.status import (
    DeploymentStatus,
    StabilityStatus,
    TargetLabel,
    TaskSetStatus,
)

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

NETWORK_PROTOCOLS = frozenset({"TCP", "TLS", "UDP", "TCP_UDP"})


def _name_from_arn(arn: str) -> str:
    """``web-blue`` from ``arn:aws:elasticloadbalancing:...:targetgroup/web-blue/0123``."""
    parts = arn.split("/")
    return parts[1] if len(parts) >= 3 else parts[-1]


@attrs.frozen(kw_only=True)
class LoadBalancerBinding:
    """Which container and port of a service (or task set) a target group sends traffic to."""

    target_group_arn: str | None
    container_name: str
    container_port: int

    @classmethod
    def from_api(cls, lb: Mapping[str, Any]) -> LoadBalancerBinding:
        return cls(
            target_group_arn=lb.get("targetGroupArn"),
            container_name=lb.get("containerName", ""),
            container_port=int(lb.get("containerPort", 0)),
        )


@attrs.frozen(kw_only=True)
class TaskSet:
    """One ECS task set: a version of the service running side by side with others."""

    id: str
    arn: str
    status: TaskSetStatus
    task_definition: str
    desired_count: int
    running_count: int
    pending_count: int
    scale_percent: float
    stability: StabilityStatus | None
    target_group_arn: str | None
    external_id: str | None = None
    started_by: str | None = None
    created_at: dt.datetime | None = None

    @classmethod
    def from_api(cls, task_set: Mapping[str, Any]) -> TaskSet:
        lbs = task_set.get("loadBalancers") or []
        stability = task_set.get("stabilityStatus")
        return cls(
            id=task_set["id"],
            arn=task_set.get("taskSetArn", ""),
            status=TaskSetStatus(task_set["status"]),
            task_definition=task_set.get("taskDefinition", ""),
            desired_count=int(task_set.get("computedDesiredCount", 0)),
            running_count=int(task_set.get("runningCount", 0)),
            pending_count=int(task_set.get("pendingCount", 0)),
            scale_percent=float((task_set.get("scale") or {}).get("value", 0.0)),
            stability=StabilityStatus(stability) if stability else None,
            target_group_arn=lbs[0].get("targetGroupArn") if lbs else None,
            external_id=task_set.get("externalId") or None,
            started_by=task_set.get("startedBy") or None,
            created_at=task_set.get("createdAt"),
        )

    @property
    def revision(self) -> str:
        """``web:12`` from the task-definition ARN."""
        return self.task_definition.rsplit("/", 1)[-1]

    @property
    def is_steady(self) -> bool:
        return self.stability is StabilityStatus.STEADY_STATE


@attrs.frozen(kw_only=True)
class TargetGroup:
    """An ELBv2 target group."""

    arn: str
    name: str
    port: int | None = None
    protocol: str | None = None
    target_type: str | None = None
    load_balancer_arns: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, tg: Mapping[str, Any]) -> TargetGroup:
        return cls(
            arn=tg["TargetGroupArn"],
            name=tg["TargetGroupName"],
            port=tg.get("Port"),
            protocol=tg.get("Protocol"),
            target_type=tg.get("TargetType"),
            load_balancer_arns=tuple(tg.get("LoadBalancerArns", ())),
        )


@attrs.frozen(kw_only=True)
class TargetGroupPair:
    """The two target groups a deployment group alternates between."""

    first: TargetGroup
    second: TargetGroup

    def __iter__(self) -> Any:
        return iter((self.first, self.second))

    def other(self, arn: str | None) -> TargetGroup | None:
        """The member that is not ``arn`` (the one green will use), or None if not a member."""
        if arn == self.first.arn:
            return self.second
        if arn == self.second.arn:
            return self.first
        return None

    def by_arn(self, arn: str | None) -> TargetGroup | None:
        return next((tg for tg in self if tg.arn == arn), None)

    @property
    def arns(self) -> tuple[str, str]:
        return (self.first.arn, self.second.arn)


@attrs.frozen
class WeightedTargetGroup:
    """A target group in a forward action, with its ELBv2 weight (0-999)."""

    arn: str
    weight: int

    @property
    def name(self) -> str:
        return _name_from_arn(self.arn)


def _forward_targets(actions: Sequence[Mapping[str, Any]]) -> tuple[WeightedTargetGroup, ...]:
    for action in actions:
        if action.get("Type") != "forward":
            continue
        config = action.get("ForwardConfig") or {}
        groups = config.get("TargetGroups") or []
        if groups:
            return tuple(
                WeightedTargetGroup(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups
            )
        if action.get("TargetGroupArn"):
            return (WeightedTargetGroup(action["TargetGroupArn"], 1),)
    return ()


@attrs.frozen(kw_only=True)
class ListenerRule:
    """A non-default listener rule that forwards to target groups."""

    arn: str
    priority: str
    targets: tuple[WeightedTargetGroup, ...]


@attrs.frozen(kw_only=True)
class ListenerRoute:
    """A production or test listener and where its forward actions send traffic."""

    arn: str
    port: int | None
    protocol: str | None
    load_balancer_arn: str | None
    targets: tuple[WeightedTargetGroup, ...]
    rules: tuple[ListenerRule, ...] = ()

    @classmethod
    def from_api(
        cls, listener: Mapping[str, Any], rules: Sequence[Mapping[str, Any]] = ()
    ) -> ListenerRoute:
        parsed_rules = tuple(
            ListenerRule(
                arn=r["RuleArn"],
                priority=str(r.get("Priority")),
                targets=_forward_targets(r.get("Actions", ())),
            )
            for r in rules
            if not r.get("IsDefault") and _forward_targets(r.get("Actions", ()))
        )
        return cls(
            arn=listener["ListenerArn"],
            port=listener.get("Port"),
            protocol=listener.get("Protocol"),
            load_balancer_arn=listener.get("LoadBalancerArn"),
            targets=_forward_targets(listener.get("DefaultActions", ())),
            rules=parsed_rules,
        )

    @property
    def is_network(self) -> bool:
        """True for a Network Load Balancer listener (TCP/TLS/UDP)."""
        return (self.protocol or "") in NETWORK_PROTOCOLS

    def percent(self, target_group_arn: str | None) -> float:
        """The share of this listener's default traffic going to ``target_group_arn``."""
        total = sum(t.weight for t in self.targets)
        if not total:
            return 0.0
        return 100.0 * sum(t.weight for t in self.targets if t.arn == target_group_arn) / total

    def serving(self) -> tuple[str, ...]:
        """ARNs of the target groups with a non-zero weight."""
        return tuple(t.arn for t in self.targets if t.weight > 0)

    def describe(self, pair: TargetGroupPair | None = None) -> str:
        names = {tg.arn: tg.name for tg in pair} if pair else {}
        parts = [f"{names.get(t.arn, t.name)} {self.percent(t.arn):g}%" for t in self.targets]
        return f":{self.port} {self.protocol}  " + (" | ".join(parts) or "no forward action")


@attrs.frozen(kw_only=True)
class DeploymentGroup:
    """A CodeDeploy ECS deployment group: the settings every deployment of the service uses."""

    application: str
    name: str
    compute_platform: str | None = "ECS"
    deployment_config_name: str | None = None
    service_role_arn: str | None = None
    is_blue_green: bool = True
    target_group_names: tuple[str, str] | None = None
    production_listener_arn: str | None = None
    test_listener_arn: str | None = None
    ready_action: str = "CONTINUE_DEPLOYMENT"
    ready_wait_minutes: int = 0
    termination_wait_minutes: int = 0
    auto_rollback_events: tuple[str, ...] = ()
    alarm_names: tuple[str, ...] = ()
    ecs_services: tuple[tuple[str, str], ...] = ()
    last_attempted_deployment_id: str | None = None
    last_attempted_status: DeploymentStatus | None = None
    last_successful_deployment_id: str | None = None

    @classmethod
    def from_api(
        cls, info: Mapping[str, Any], compute_platform: str | None = None
    ) -> DeploymentGroup:
        """From GetDeploymentGroup's ``deploymentGroupInfo``."""
        style = info.get("deploymentStyle") or {}
        lb = info.get("loadBalancerInfo") or {}
        pairs = lb.get("targetGroupPairInfoList") or []
        pair = pairs[0] if pairs else {}
        names = [tg.get("name") for tg in pair.get("targetGroups", ())]
        prod = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
        test = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        bg = info.get("blueGreenDeploymentConfiguration") or {}
        ready = bg.get("deploymentReadyOption") or {}
        terminate = bg.get("terminateBlueInstancesOnDeploymentSuccess") or {}
        rollback = info.get("autoRollbackConfiguration") or {}
        alarms = info.get("alarmConfiguration") or {}
        attempted = info.get("lastAttemptedDeployment") or {}
        succeeded = info.get("lastSuccessfulDeployment") or {}
        return cls(
            application=info.get("applicationName", ""),
            name=info.get("deploymentGroupName", ""),
            compute_platform=info.get("computePlatform") or compute_platform,
            deployment_config_name=info.get("deploymentConfigName"),
            service_role_arn=info.get("serviceRoleArn"),
            is_blue_green=style.get("deploymentType") == "BLUE_GREEN"
            and style.get("deploymentOption") == "WITH_TRAFFIC_CONTROL",
            target_group_names=(names[0], names[1]) if len(names) == 2 else None,
            production_listener_arn=prod[0] if prod else None,
            test_listener_arn=test[0] if test else None,
            ready_action=ready.get("actionOnTimeout", "CONTINUE_DEPLOYMENT"),
            ready_wait_minutes=int(ready.get("waitTimeInMinutes", 0) or 0),
            termination_wait_minutes=int(terminate.get("terminationWaitTimeInMinutes", 0) or 0),
            auto_rollback_events=tuple(rollback.get("events", ()))
            if rollback.get("enabled")
            else (),
            alarm_names=tuple(a["name"] for a in alarms.get("alarms", ()))
            if alarms.get("enabled")
            else (),
            ecs_services=tuple(
                (s.get("clusterName", ""), s.get("serviceName", ""))
                for s in info.get("ecsServices", ())
            ),
            last_attempted_deployment_id=attempted.get("deploymentId"),
            last_attempted_status=DeploymentStatus(attempted["status"])
            if attempted.get("status")
            else None,
            last_successful_deployment_id=succeeded.get("deploymentId"),
        )

    @property
    def waits_for_promotion(self) -> bool:
        """True when the group stops in ``Ready`` until someone promotes the deployment."""
        return self.ready_action == "STOP_DEPLOYMENT"

    @property
    def promotion_wait_minutes(self) -> int:
        return self.ready_wait_minutes if self.waits_for_promotion else 0

    @property
    def active_deployment_id(self) -> str | None:
        """The group's deployment still running, read from ``lastAttemptedDeployment``."""
        status = self.last_attempted_status
        if status is not None and status.is_active:
            return self.last_attempted_deployment_id
        return None

    def maps(self, cluster: str, service: str) -> bool:
        """True when this group deploys ``service`` in ``cluster`` (by name or ARN)."""
        cluster_name = cluster.rsplit("/", 1)[-1]
        service_name = service.rsplit("/", 1)[-1]
        return (cluster_name, service_name) in self.ecs_services


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
    tags: Mapping[str, str] = attrs.field(factory=dict, eq=False)

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
        return {
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
        }

    def _tg_name(self, arn: str | None) -> str | None:
        if arn is None:
            return None
        if self.target_groups is not None:
            tg = self.target_groups.by_arn(arn)
            if tg is not None:
                return tg.name
        return _name_from_arn(arn)

    def __repr__(self) -> str:
        head = (
            f"<ServiceState {self.service} in {self.cluster.rsplit('/', 1)[-1]}: "
            f"{self.deployment_controller}, desired {self.desired_count}, "
            f"running {self.running_count}"
        )
        if self.deployment_id:
            head += f", deployment {self.deployment_id} in flight"
        lines = [head]
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

    __str__ = __repr__
