"""The IAM role ECS itself needs for an ECS-native blue/green service: its infrastructure role.

An ECS-native blue/green, linear or canary deployment is driven by ECS, which reweights the
listener rules and registers tasks in the target groups under the service's infrastructure
role (``advancedConfiguration.roleArn``), and invokes the Lambda lifecycle hooks under each
hook's ``roleArn``. AWS's managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers
grants those actions on every load balancer of the account; ``infrastructure_policy`` grants
the same actions on one service's target groups, listeners and rules only, plus
``lambda:InvokeFunction`` on its hook functions (the blue-green-permissions page of the ECS
guide). ``TRUST_POLICY`` lets ECS assume the role.

``infrastructure_policy`` is pure: it makes no AWS call. ``service_infrastructure_policy``
reads the ARNs of one service first (``bluegreen iam policy --for ecs-infrastructure``): a
CodeDeploy service's deployment-group target-group pair and listeners (the rules a migration
would create are not known yet: every rule of those listeners), an ECS-native service's
``advancedConfiguration`` and ``lifecycleHooks``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen.errors import ValidationError
from bluegreen.iam import VERSION, IamPolicy

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.clock import Clock
    from bluegreen.state import ServiceState

__all__ = [
    "ECS_PRINCIPAL",
    "FEATURE",
    "TRUST_POLICY",
    "infrastructure_policy",
    "listener_of_rule",
    "service_infrastructure_policy",
    "trusts_ecs",
]

FEATURE = "ecs-infrastructure"
"""The ``IamPolicy.feature`` of an infrastructure role's policy."""

ECS_PRINCIPAL = "ecs.amazonaws.com"

TRUST_POLICY: Mapping[str, Any] = {
    "Version": VERSION,
    "Statement": [
        {
            "Sid": "AllowAccessToECSForInfrastructureManagement",
            "Effect": "Allow",
            "Principal": {"Service": ECS_PRINCIPAL},
            "Action": "sts:AssumeRole",
        }
    ],
}
"""The infrastructure role's trust policy (the ECS guide's, for ecs.amazonaws.com)."""

DESCRIBE_ACTIONS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
"""The managed policy's reads: they support no resource-level permission ("*")."""

TARGET_ACTIONS = (
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:RegisterTargets",
)

_ELB = (
    r"arn:(?P<partition>[a-z-]+):elasticloadbalancing:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
)
_TARGET_GROUP = re.compile(_ELB + r"targetgroup/[^/]+/[0-9a-f]+")
_LISTENER = re.compile(_ELB + r"listener/(?P<type>app|net)/[^/]+/[0-9a-f]+/[0-9a-f]+")
_RULE = re.compile(_ELB + r"listener-rule/app/[^/]+/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?")
_FUNCTION_ARN = re.compile(
    r"arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:" + _FUNCTION_NAME.pattern
)


def infrastructure_policy(
    *,
    partition: str = "aws",
    region: str,
    account: str,
    target_groups: Sequence[str],
    listeners: Sequence[str],
    rules: Sequence[str] = (),
    hook_functions: Sequence[str] = (),
) -> IamPolicy:
    """The least-privilege policy of one service's ECS infrastructure role.

    The actions of AmazonECSInfrastructureRolePolicyForLoadBalancers, each on the resources
    of this service only: the ELB Describe* reads on ``"*"`` (no resource-level permission),
    Register/DeregisterTargets on ``target_groups``, ModifyListener on ``listeners``,
    ModifyRule on ``rules`` and, for an application load balancer's listener none of
    ``rules`` belongs to (the rule a migration is yet to create), on every rule of that
    listener (``listener-rule/app/<lb>/<lb-id>/<listener-id>/*``); and
    ``lambda:InvokeFunction`` on ``hook_functions``.

    Args:
        partition: the ARNs' partition (``aws``, ``aws-cn``, ``aws-us-gov``).
        region: the service's region (a hook function given by name is in it).
        account: the service's account (likewise).
        target_groups: the target-group ARNs: the production one and the alternate.
        listeners: the listener ARNs whose rules ECS reweights (production, test); an
            NLB's listeners are themselves what ECS modifies.
        rules: the listener-rule ARNs (``advancedConfiguration.productionListenerRule`` and
            ``testListenerRule``) that exist.
        hook_functions: the Lambda functions of the lifecycle hooks (names or ARNs), when
            the hooks' ``roleArn`` is this role.

    Raises:
        ValidationError: an ARN of the wrong kind, no target group or no listener (every
            problem at once).
    """
    problems = _problems(target_groups, listeners, rules, hook_functions)
    if problems:
        raise ValidationError(problems, subject="ECS infrastructure role policy")
    target_groups, listeners, rules = _unique(target_groups), _unique(listeners), _unique(rules)
    patterns = tuple(
        _rules_of(listener)
        for listener in listeners
        if _is_alb(listener) and not any(listener_of_rule(r) == listener for r in rules)
    )
    functions = _unique(_function_arn(f, partition, region, account) for f in hook_functions)
    statements: list[dict[str, Any]] = [
        _statement("DescribeLoadBalancing", DESCRIBE_ACTIONS, "*"),
        _statement("ShiftTargets", TARGET_ACTIONS, target_groups),
        _statement("ModifyListeners", ("elasticloadbalancing:ModifyListener",), listeners),
    ]
    notes = [
        "DescribeLoadBalancing: these reads support no resource-level permission, so they "
        'take only "*"',
    ]
    if rules or patterns:
        statements.append(
            _statement(
                "ModifyListenerRules", ("elasticloadbalancing:ModifyRule",), (*rules, *patterns)
            )
        )
    for pattern in patterns:
        notes.append(
            f"ModifyListenerRules: {pattern} is every rule of that listener: the rule ECS "
            "shifts traffic with does not exist yet (bluegreen migrate apply creates it); "
            "replace it with the rule's ARN once it exists"
        )
    if functions:
        statements.append(_statement("InvokeHookFunctions", ("lambda:InvokeFunction",), functions))
        notes.append(
            "InvokeHookFunctions: ECS invokes each Lambda lifecycle hook with the hook's "
            "roleArn; needed only when that is this role"
        )
    return IamPolicy(
        feature=FEATURE,
        document={"Version": VERSION, "Statement": statements},
        notes=tuple(notes),
    )


def listener_of_rule(rule_arn: str) -> str | None:
    """The listener ARN a listener-rule ARN belongs to; None if ``rule_arn`` is not one."""
    if ":listener-rule/" not in rule_arn:
        return None
    head, _, resource = rule_arn.partition(":listener-rule/")
    parts = resource.split("/")
    if len(parts) != 5:
        return None
    return f"{head}:listener/{'/'.join(parts[:4])}"


def trusts_ecs(trust_policy: Mapping[str, Any] | str | None) -> bool:
    """Whether a role's trust policy (``GetRole``'s ``AssumeRolePolicyDocument``, a dict or
    its URL-encoded JSON) lets ecs.amazonaws.com assume it."""
    if trust_policy is None:
        return False
    if isinstance(trust_policy, str):
        try:
            trust_policy = json.loads(urllib.parse.unquote(trust_policy))
        except ValueError:
            return False
    statements = trust_policy.get("Statement", ())  # type: ignore[union-attr]
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", ())
        actions = [actions] if isinstance(actions, str) else list(actions)
        if not {"sts:AssumeRole", "sts:*", "*"} & set(actions):
            continue
        services = (statement.get("Principal") or {}).get("Service", ())
        services = [services] if isinstance(services, str) else list(services)
        if ECS_PRINCIPAL in services:
            return True
    return False


def service_infrastructure_policy(
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    hook_functions: Sequence[str] = (),
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> IamPolicy:
    """The infrastructure role policy of one service, its ARNs read from AWS (``discover``).

    A CodeDeploy service (one to migrate): its deployment group's target-group pair and
    listeners, ModifyRule on every rule of its ALB listeners (the rules ``bluegreen migrate
    apply`` creates). An ECS-native service: its ``advancedConfiguration`` (target group,
    alternate target group, production and test listener rules) and the Lambda functions of
    its ``lifecycleHooks``.

    Args:
        cluster: cluster name or ARN.
        service: service name or ARN.
        application: the CodeDeploy application, with ``deployment_group`` (else found).
        deployment_group: the CodeDeploy deployment group.
        hook_functions: more Lambda hook functions (names or ARNs) to allow ECS to invoke,
            e.g. those a migration carries over from the AppSpec.
        clients: ready ``bluegreen.Clients``; or
        session: the ``boto3.Session`` to read with.
        clock: where a throttled read waits before it is retried.

    Raises:
        ValidationError: a CodeDeploy service without a target-group pair or listener.
        ResourceNotFoundError, ServiceConfigError: as ``discover``.
        AWSError: a read failed.
    """
    from bluegreen._aws import Caller, resolve_clients
    from bluegreen.discovery import discover

    aws = resolve_clients(clients, session)
    state = discover(
        cluster,
        service,
        application=application,
        deployment_group=deployment_group,
        clients=aws,
        caller=Caller(clock=clock) if clock is not None else Caller(),
    )
    _, partition, _, region, account, *_ = state.service_arn.split(":")
    target_groups, listeners, rules, functions = _service_arns(state)
    return infrastructure_policy(
        partition=partition,
        region=region,
        account=account,
        target_groups=target_groups,
        listeners=listeners,
        rules=rules,
        hook_functions=(*functions, *hook_functions),
    )


def _service_arns(
    state: ServiceState,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(target groups, listeners, rules, hook functions) of a discovered service."""
    routing = state.advanced_routing
    if state.strategy is not None and routing is not None:
        routed = (routing.production_listener_rule, routing.test_listener_rule)
        rules = tuple(r for r in routed if r and listener_of_rule(r))
        listeners = tuple(listener_of_rule(r) or r for r in routed if r)
        groups = (routing.target_group_arn, routing.alternate_target_group_arn)
        functions = tuple(
            str(h.target_arn) for h in state.strategy.hooks if h.is_lambda and h.target_arn
        )
        return tuple(g for g in groups if g), listeners, rules, functions
    pair = state.target_groups
    routes = tuple(r.arn for r in (state.production, state.test) if r is not None)
    if pair is None or not routes:
        raise ValidationError(
            [
                f"service {state.service!r} has no target-group pair and listener to grant on: "
                "its deployment group must name two target groups and a production listener"
            ],
            subject="ECS infrastructure role policy",
        )
    return pair.arns, routes, (), ()


def _problems(
    target_groups: Sequence[str],
    listeners: Sequence[str],
    rules: Sequence[str],
    hook_functions: Sequence[str],
) -> list[str]:
    problems: list[str] = []
    for value, pattern, what, example in (
        (target_groups, _TARGET_GROUP, "target group", "targetgroup/NAME/ID"),
        (listeners, _LISTENER, "listener", "listener/app/LB/LB_ID/LISTENER_ID"),
        (rules, _RULE, "ALB listener rule", "listener-rule/app/LB/LB_ID/LISTENER_ID/RULE_ID"),
    ):
        if isinstance(value, str):
            problems.append(f"give a list of {what} ARNs, not one string ({value!r})")
            continue
        problems += [
            f"{arn!r} is not a {what} ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:{example})"
            for arn in value
            if not pattern.fullmatch(arn)
        ]
    if not target_groups:
        problems.append(
            advice("give target_groups=", "give the target groups")
            + " (the production one and the alternate)"
        )
    if not listeners:
        problems.append(advice("give listeners=", "give the listeners") + " (production, test)")
    problems += [
        f"{name!r} is not a Lambda function name or ARN"
        for name in hook_functions
        if not (_FUNCTION_NAME.fullmatch(name) or _FUNCTION_ARN.fullmatch(name))
    ]
    return problems


def _function_arn(name: str, partition: str, region: str, account: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def _is_alb(listener: str) -> bool:
    match = _LISTENER.fullmatch(listener)
    return match is not None and match["type"] == "app"


def _rules_of(listener: str) -> str:
    """``listener-rule/app/<lb>/<lb-id>/<listener-id>/*``: every rule of an ALB listener."""
    head, _, resource = listener.partition(":listener/")
    return f"{head}:listener-rule/{resource}/*"


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _statement(sid: str, actions: Sequence[str], resources: str | Sequence[str]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
