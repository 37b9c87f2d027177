"""Read an ECS-native blue/green service (deployment controller ECS, strategy BLUE_GREEN,
LINEAR or CANARY) into the same ``ServiceState`` a CodeDeploy service becomes.

Cost, after the DescribeServices ``discover`` makes for every service:

=================================  =====  =============================================
call                               count  why
=================================  =====  =============================================
ecs:ListServiceDeployments         1      the deployment in flight (an active status)
ecs:DescribeServiceDeployments     0-1    its source and target revisions and weights
ecs:DescribeServiceRevisions       0-1    their task definitions
elbv2:DescribeTargetGroups         1      the service's and the alternate target group
elbv2:DescribeRules                0-1    the production and test listener rules (ALB)
elbv2:DescribeListeners            1      their listeners (port, protocol, load balancer)
=================================  =====  =============================================

Blue is the revision serving before the deployment (the source revision while one runs,
else the service's task definition) in the service's target group; green, the deployment's
target revision in the alternate one. The rules' weights are read as they are now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.errors import ResourceNotFoundError
from bluegreen.native_config import (
    AdvancedRouting,
    NativeRevision,
    NativeStrategy,
    is_native_service,
)
from bluegreen.placement import AwsVpcConfiguration, CapacityProviderStrategyItem
from bluegreen.routing import ListenerRoute, TargetGroup, TargetGroupPair
from bluegreen.state import ServiceState
from bluegreen.task_set import LoadBalancerBinding

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = [
    "ACTIVE_NATIVE_STATUSES",
    "active_service_deployments",
    "is_native_service",
    "is_rule_arn",
    "listener_of",
    "native_state",
    "service_placement",
]

ACTIVE_NATIVE_STATUSES = (
    "PENDING",
    "IN_PROGRESS",
    "STOP_REQUESTED",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
)
"""The service-deployment statuses of a deployment not yet ended."""


def service_placement(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Launch settings, from the PRIMARY task set when there is one (ECS moves the primary
    task set's parameters to the service), else from the service."""
    primary = next((ts for ts in raw.get("taskSets", ()) if ts.get("status") == "PRIMARY"), None)
    source: Mapping[str, Any] = raw
    if primary is not None and (
        primary.get("networkConfiguration") or primary.get("capacityProviderStrategy")
    ):
        source = primary
    network = (source.get("networkConfiguration") or raw.get("networkConfiguration") or {}).get(
        "awsvpcConfiguration"
    )
    strategy = source.get("capacityProviderStrategy") or raw.get("capacityProviderStrategy") or ()
    return {
        "launch_type": source.get("launchType") or raw.get("launchType"),
        "platform_version": source.get("platformVersion") or raw.get("platformVersion"),
        "network_configuration": AwsVpcConfiguration.from_ecs(network) if network else None,
        "capacity_provider_strategy": tuple(
            CapacityProviderStrategyItem.from_ecs(item) for item in strategy
        ),
        "load_balancers": tuple(
            LoadBalancerBinding.from_api(lb) for lb in raw.get("loadBalancers", ())
        ),
    }


def active_service_deployments(
    call: Caller, aws: Clients, cluster: str, service: str
) -> list[dict[str, Any]]:
    """ListServiceDeployments' briefs of the service's deployments not yet ended."""
    answer = call(
        "ListServiceDeployments",
        aws.ecs.list_service_deployments,
        cluster=cluster,
        service=service,
        status=list(ACTIVE_NATIVE_STATUSES),
    )
    return [dict(d) for d in answer.get("serviceDeployments") or ()]


def native_state(
    call: Caller,
    aws: Clients,
    raw: Mapping[str, Any],
    *,
    cluster: str,
    service: str,
    tags: Mapping[str, str],
) -> ServiceState:
    """The ``ServiceState`` of the ECS-native service DescribeServices answered as ``raw``."""
    strategy = NativeStrategy.from_api(raw.get("deploymentConfiguration") or {})
    routing = next(
        (r for r in map(AdvancedRouting.from_api, raw.get("loadBalancers", ())) if r), None
    )
    pair = _target_groups(call, aws, routing)
    production, test = _rules(call, aws, routing)

    briefs = active_service_deployments(call, aws, cluster, service)
    in_flight = max(briefs, key=lambda b: str(b.get("createdAt") or ""), default=None)
    blue_tg = routing.target_group_arn if routing else None
    green_tg = routing.alternate_target_group_arn if routing else None

    def weights(tg: str | None) -> dict[str, float | None]:
        return {
            "production_percent": production.percent(tg) if production and tg else None,
            "test_percent": test.percent(tg) if test and tg else None,
        }

    blue: NativeRevision | None
    green: NativeRevision | None = None
    if in_flight is None:
        current = list(raw.get("currentServiceRevisions") or ())
        blue = NativeRevision(
            arn=current[-1].get("arn") if current else None,
            task_definition=raw.get("taskDefinition"),
            target_group_arn=blue_tg,
            requested=int(raw.get("desiredCount", 0)),
            running=int(raw.get("runningCount", 0)),
            pending=int(raw.get("pendingCount", 0)),
            **weights(blue_tg),
        )
    else:
        blue, green = _revisions(call, aws, str(in_flight["serviceDeploymentArn"]))
        if blue is not None:
            blue = _placed(blue, blue_tg, weights(blue_tg))
        if green is not None:
            green = _placed(green, green_tg, weights(green_tg))
    return ServiceState(
        cluster=cluster,
        service=service,
        service_arn=raw.get("serviceArn", ""),
        status=raw.get("status", ""),
        deployment_controller=str((raw.get("deploymentController") or {}).get("type", "ECS")),
        desired_count=int(raw.get("desiredCount", 0)),
        running_count=int(raw.get("runningCount", 0)),
        task_definition=raw.get("taskDefinition"),
        tags=dict(tags),
        target_groups=pair,
        production=production,
        test=test,
        deployment_id=str(in_flight["serviceDeploymentArn"]) if in_flight else None,
        strategy=strategy,
        advanced_routing=routing,
        blue_revision=blue,
        green_revision=green,
        **service_placement(raw),
    )


def _placed(
    revision: NativeRevision, target_group: str | None, weights: Mapping[str, float | None]
) -> NativeRevision:
    return NativeRevision(
        arn=revision.arn,
        task_definition=revision.task_definition,
        target_group_arn=target_group,
        requested=revision.requested,
        running=revision.running,
        pending=revision.pending,
        production_percent=weights["production_percent"],
        test_percent=weights["test_percent"],
    )


def _revisions(
    call: Caller, aws: Clients, deployment_arn: str
) -> tuple[NativeRevision | None, NativeRevision | None]:
    """The source (blue) and target (green) revisions of a service deployment."""
    described = call(
        "DescribeServiceDeployments",
        aws.ecs.describe_service_deployments,
        serviceDeploymentArns=[deployment_arn],
    ).get("serviceDeployments") or [{}]
    deployment = described[0]
    sources: Sequence[Mapping[str, Any]] = deployment.get("sourceServiceRevisions") or ()
    target: Mapping[str, Any] = deployment.get("targetServiceRevision") or {}
    source = sources[-1] if sources else {}
    arns = [str(r["arn"]) for r in (source, target) if r.get("arn")]
    task_definitions: dict[str, str] = {}
    if arns:
        revisions = (
            call(
                "DescribeServiceRevisions",
                aws.ecs.describe_service_revisions,
                serviceRevisionArns=arns,
            ).get("serviceRevisions")
            or ()
        )
        task_definitions = {
            str(r.get("serviceRevisionArn")): str(r.get("taskDefinition")) for r in revisions
        }

    def revision(summary: Mapping[str, Any]) -> NativeRevision | None:
        if not summary:
            return None
        return NativeRevision(
            arn=summary.get("arn"),
            task_definition=task_definitions.get(str(summary.get("arn"))),
            requested=summary.get("requestedTaskCount"),
            running=summary.get("runningTaskCount"),
            pending=summary.get("pendingTaskCount"),
        )

    return revision(source), revision(target)


def _target_groups(
    call: Caller, aws: Clients, routing: AdvancedRouting | None
) -> TargetGroupPair | None:
    if routing is None or not routing.target_group_arn or not routing.alternate_target_group_arn:
        return None
    arns = [routing.target_group_arn, routing.alternate_target_group_arn]
    found = call(
        "DescribeTargetGroups", aws.elbv2.describe_target_groups, TargetGroupArns=arns
    ).get("TargetGroups", [])
    by_arn = {tg["TargetGroupArn"]: TargetGroup.from_api(tg) for tg in found}
    first, second = (by_arn.get(a) for a in arns)
    if first is None or second is None:
        return None
    return TargetGroupPair(first=first, second=second)


def is_rule_arn(arn: str) -> bool:
    """An ALB listener rule's ARN (``...:listener-rule/app/...``)."""
    return ":listener-rule/" in arn


def listener_of(arn: str) -> str:
    """The listener ARN of a rule ARN (a listener ARN stays as it is)."""
    if not is_rule_arn(arn):
        return arn
    return arn.replace(":listener-rule/", ":listener/", 1).rsplit("/", 1)[0]


def _rules(
    call: Caller, aws: Clients, routing: AdvancedRouting | None
) -> tuple[ListenerRoute | None, ListenerRoute | None]:
    """The production and test routes: each listener rule (or NLB listener) with the
    weights of its forward action. One that is not found is None."""
    if routing is None:
        return (None, None)
    arns = [a for a in (routing.production_listener_rule, routing.test_listener_rule) if a]
    rule_arns = [a for a in arns if is_rule_arn(a)]
    rules: dict[str, Mapping[str, Any]] = {}
    if rule_arns:
        try:
            answer = call("DescribeRules", aws.elbv2.describe_rules, RuleArns=rule_arns)
            rules = {r["RuleArn"]: r for r in answer.get("Rules", ())}
        except ResourceNotFoundError:
            rules = {}  # the preflight names the missing rule
    listener_arns = list(dict.fromkeys(listener_of(a) for a in arns))
    listeners: dict[str, Mapping[str, Any]] = {}
    if listener_arns:
        try:
            described = call(
                "DescribeListeners", aws.elbv2.describe_listeners, ListenerArns=listener_arns
            )
            listeners = {item["ListenerArn"]: item for item in described.get("Listeners", ())}
        except ResourceNotFoundError:
            listeners = {}
    routes: list[ListenerRoute | None] = []
    for arn in (routing.production_listener_rule, routing.test_listener_rule):
        listener = listeners.get(listener_of(arn)) if arn else None
        if arn is None or listener is None or (is_rule_arn(arn) and arn not in rules):
            routes.append(None)
            continue
        if not is_rule_arn(arn):
            routes.append(ListenerRoute.from_api(listener))
            continue
        route = ListenerRoute.from_api(listener, [{**rules[arn], "IsDefault": False}])
        targets = route.rules[0].targets if route.rules else ()
        routes.append(
            ListenerRoute(
                arn=arn,
                port=route.port,
                protocol=route.protocol,
                load_balancer_arn=route.load_balancer_arn,
                targets=targets,
            )
        )
    return (routes[0], routes[1])
