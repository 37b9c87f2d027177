"""What the analysis gate judges: the traffic step that just ran of an ECS-native service
deployment (green's share of production during it, when it started), green's and blue's
target groups and their Application Load Balancer, and the whole minutes of the step that
CloudWatch has published.

Read once per step (the first invocation of the hook execution; ``GateStep.to_state`` keeps
it in ``HookEvent.state`` for the re-invocations), in three to four calls:

==================================  =====  ================================================
call                                count  why
==================================  =====  ================================================
ecs:DescribeServiceDeployments      1      the strategy and its step bake time, the source
                                           revision, green's production weight now
ecs:DescribeServices                1      ``loadBalancers[]``: both target groups and the
                                           production listener rule
ecs:DescribeServiceRevisions        1      ``resolvedConfiguration``: which target group
                                           green's tasks serve from
ecs:ListServiceDeployments          0-1    only when the event names no deployment
elasticloadbalancing:DescribeRules  0-1    only when the deployment does not say green's
                                           weight: the production rule's weights
==================================  =====  ================================================

The load balancer comes from the rule's ARN (``listener-rule/app/<name>/<id>/...``), no call.
The step started when the previous step moved traffic: ECS invokes the hook once that
step's bake time (``canaryBakeTimeInMinutes`` / ``stepBakeTimeInMinutes``) is over, so the
gate takes the step's start as its first invocation less the bake time, which is never
earlier than the real start (hooks at PRODUCTION_TRAFFIC_SHIFT only add to it): the window
never reaches back before the step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from bluegreen.errors import ServiceConfigError

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.hooks._native import NativeInvocation

__all__ = ["GateStep", "judged_window", "load_balancer_of", "read_step"]

_LISTENER = re.compile(
    r"^(?P<head>arn:[^:]+:elasticloadbalancing:[^:]*:\d*:)listener(?:-rule)?/"
    r"(?P<kind>app|net|gwy)/(?P<name>[^/]+)/(?P<id>[^/]+)/.+$"
)
_BAKE = {
    "CANARY": ("canaryConfiguration", "canaryBakeTimeInMinutes"),
    "LINEAR": ("linearConfiguration", "stepBakeTimeInMinutes"),
}


class GateStep(NamedTuple):
    """The step the gate judges, and where green's and blue's metrics are."""

    deployment_arn: str
    strategy: str
    green_percent: float
    """Green's share of production during the step that just ran (0 before the first)."""
    bake_seconds: float
    """How long each step runs before the next one's hooks (0 when the strategy does not
    say: the gate then waits for whole minutes after its first invocation)."""
    green_target_group: str
    blue_target_group: str
    load_balancer: str
    """The production rule's load balancer ARN (``loadbalancer/app/...`` for an ALB)."""

    def to_state(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_state(cls, found: Any) -> GateStep | None:
        """The step kept by an earlier invocation, or None when there is none (or it is not
        one: then it is read again)."""
        if not isinstance(found, Mapping) or set(found) != set(cls._fields):
            return None
        try:
            return cls(
                deployment_arn=str(found["deployment_arn"]),
                strategy=str(found["strategy"]),
                green_percent=float(found["green_percent"]),
                bake_seconds=float(found["bake_seconds"]),
                green_target_group=str(found["green_target_group"]),
                blue_target_group=str(found["blue_target_group"]),
                load_balancer=str(found["load_balancer"]),
            )
        except (TypeError, ValueError):
            return None


def load_balancer_of(listener_or_rule_arn: str) -> str | None:
    """The load balancer ARN of a listener or listener rule, read from its ARN (no call);
    None when it is not an ELB listener or rule ARN."""
    match = _LISTENER.match(listener_or_rule_arn)
    if match is None:
        return None
    return f"{match['head']}loadbalancer/{match['kind']}/{match['name']}/{match['id']}"


def read_step(invocation: NativeInvocation, *, clients: Clients, call: Caller) -> GateStep:
    """The step and its target groups, read from ECS (see the module's table of calls).

    Raises:
        ServiceConfigError: the service or deployment cannot be judged (no production rule
            on an Application Load Balancer, target groups that cannot be told apart), each
            problem saying what to fix.
        AWSError: a call failed (after the hook kit's retries of throttling and 5xx).
    """
    where = f"service {invocation.cluster}/{invocation.service}"
    arn = invocation.deployment_arn or _in_flight(invocation, clients=clients, call=call)
    answer = call(
        "DescribeServiceDeployments",
        clients.ecs.describe_service_deployments,
        serviceDeploymentArns=[arn],
    )
    deployments = answer.get("serviceDeployments") or []
    if not deployments:
        raise ServiceConfigError([f"{where}: service deployment {arn} not found"])
    deployment = deployments[0]
    config: Mapping[str, Any] = deployment.get("deploymentConfiguration") or {}
    strategy = str(config.get("strategy") or "BLUE_GREEN")
    bake = 0.0
    if strategy in _BAKE:
        section, key = _BAKE[strategy]
        minutes = (config.get(section) or {}).get(key)
        bake = 60.0 * float(minutes) if isinstance(minutes, int | float) else 0.0
    target = deployment.get("targetServiceRevision") or {}
    sources = [
        str(s["arn"]) for s in deployment.get("sourceServiceRevisions") or () if s.get("arn")
    ]

    described = call(
        "DescribeServices",
        clients.ecs.describe_services,
        cluster=invocation.cluster,
        services=[invocation.service],
    )
    services = described.get("services") or []
    if not services:
        raise ServiceConfigError([f"{where} not found"])
    pair, rule = _routing(services[0].get("loadBalancers") or (), where)
    load_balancer = load_balancer_of(rule)
    if load_balancer is None or "/app/" not in load_balancer:
        raise ServiceConfigError(
            [
                f"{where}: its production listener rule {rule} is not on an Application Load "
                "Balancer; the gate reads AWS/ApplicationELB target-group metrics, which only "
                "an ALB publishes: remove the gate from the service's lifecycleHooks"
            ]
        )
    green = _green_target_group(
        invocation.target_revision_arn, sources, pair, clients=clients, call=call
    )
    if green is None:
        raise ServiceConfigError(
            [
                f"{where}: DescribeServiceRevisions does not say which of the target groups "
                f"{pair[0]} and {pair[1]} the target revision {invocation.target_revision_arn} "
                "serves from (resolvedConfiguration.loadBalancers), so green cannot be told "
                "from blue"
            ]
        )
    blue = pair[1] if green == pair[0] else pair[0]
    weight = target.get("requestedProductionTrafficWeight")
    if not isinstance(weight, int | float) or isinstance(weight, bool):
        weight = _rule_percent(rule, green, clients=clients, call=call)
    return GateStep(
        deployment_arn=arn,
        strategy=strategy,
        green_percent=float(weight),
        bake_seconds=bake,
        green_target_group=green,
        blue_target_group=blue,
        load_balancer=load_balancer,
    )


def _in_flight(invocation: NativeInvocation, *, clients: Clients, call: Caller) -> str:
    """The service deployment in flight whose target is the event's revision (for an event
    of the older shape, without ``resourceArn``)."""
    listed = call(
        "ListServiceDeployments",
        clients.ecs.list_service_deployments,
        cluster=invocation.cluster,
        service=invocation.service,
        status=["IN_PROGRESS"],
    )
    for brief in listed.get("serviceDeployments") or ():
        if brief.get("targetServiceRevisionArn") == invocation.target_revision_arn:
            return str(brief["serviceDeploymentArn"])
    raise ServiceConfigError(
        [
            f"service {invocation.cluster}/{invocation.service}: no service deployment in "
            f"progress deploys {invocation.target_revision_arn}"
        ]
    )


def _routing(load_balancers: Any, where: str) -> tuple[tuple[str, str], str]:
    """Both target groups and the production listener rule of the service's
    ``loadBalancers[]`` entry that has an ``advancedConfiguration``."""
    for lb in load_balancers:
        advanced = lb.get("advancedConfiguration") or {}
        first, alternate = lb.get("targetGroupArn"), advanced.get("alternateTargetGroupArn")
        rule = advanced.get("productionListenerRule")
        if first and alternate and rule:
            return (str(first), str(alternate)), str(rule)
    raise ServiceConfigError(
        [
            f"{where} has no loadBalancers[].advancedConfiguration with an "
            "alternateTargetGroupArn and a productionListenerRule: it is not an ECS-native "
            "blue/green service behind a load balancer, so there is nothing to compare"
        ]
    )


def _green_target_group(
    target: str, sources: list[str], pair: tuple[str, str], *, clients: Clients, call: Caller
) -> str | None:
    """The target group green serves from: the target revision's resolved one, else the
    other of the pair than the source revision's."""
    answer = call(
        "DescribeServiceRevisions",
        clients.ecs.describe_service_revisions,
        serviceRevisionArns=[target, *sources[:1]],
    )
    resolved: dict[str, str] = {}
    for revision in answer.get("serviceRevisions") or ():
        found = (revision.get("resolvedConfiguration") or {}).get("loadBalancers") or ()
        group = next(
            (str(g["targetGroupArn"]) for g in found if g.get("targetGroupArn") in pair), None
        )
        if group is not None:
            resolved[str(revision.get("serviceRevisionArn"))] = group
    if target in resolved:
        return resolved[target]
    if sources and sources[0] in resolved:
        return pair[1] if resolved[sources[0]] == pair[0] else pair[0]
    return None


def _rule_percent(rule: str, green: str, *, clients: Clients, call: Caller) -> float:
    """Green's share of the production rule's forward weights (0 when it has none)."""
    rules = call("DescribeRules", clients.elbv2.describe_rules, RuleArns=[rule]).get("Rules") or []
    weights: dict[str, float] = {}
    for action in rules[0].get("Actions") or () if rules else ():
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or ():
            weights[str(group.get("TargetGroupArn"))] = float(group.get("Weight") or 0)
    total = sum(weights.values())
    return 100.0 * weights.get(green, 0.0) / total if total else 0.0


def judged_window(
    step_start: float, now: float, *, window: int, delay: float, after: float | None
) -> tuple[float, int] | float:
    """The window to read at ``now``: ``(end, seconds)``, the latest whole minutes CloudWatch
    has published (each minute read ``delay`` seconds after it ends), at most ``window``
    seconds, none before the step's first whole minute and ending after ``after`` (the end of
    the window judged last). When there is none yet, the moment there will be one."""
    first = math.ceil(step_start / 60.0) * 60.0
    end = math.floor((now - delay) / 60.0) * 60.0
    earliest = max(first + 60.0, (after or 0.0) + 60.0)
    if end < earliest:
        return earliest + delay
    return end, int(min(float(window), end - first))
