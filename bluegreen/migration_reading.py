"""Read what a migration from CodeDeploy to ECS-native blue/green depends on, changing nothing.

Cost (API calls) for the usual service, a production and a test listener, two hooks:

===================================  =====  ============================================
call                                 count  why
===================================  =====  ============================================
ecs:DescribeServices                 1      the service, its task sets and tags
codedeploy:GetDeploymentGroup        1      the group (``locate``): its settings, every
                                            pair, triggers, termination action
codedeploy:GetDeploymentConfig       0-1    a custom deployment config
elbv2:DescribeTargetGroups           1      the pair's ARNs
elbv2:DescribeListeners              1      both listeners: default actions, protocol
elbv2:DescribeRules                  0-2    each ALB listener: the highest free priority
codedeploy:GetDeployment             0-1    the last successful deployment's revision
codedeploy:GetApplicationRevision    0-1    its AppSpec content
lambda:GetFunction                   0-5    each hook function: ARN and handler
iam:GetRole                          0-2    the roles given or to be created
application-autoscaling:Describe...  1      scaling left suspended
===================================  =====  ============================================

Whatever cannot be read or would block the migration becomes a problem in words
(``MigrationFacts.problems``); only a missing service raises.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen.appspec import AppSpec, Hook
from bluegreen.appspec_parser import read_hooks
from bluegreen.deployment_group import DeploymentGroup
from bluegreen.discovery import locate
from bluegreen.errors import (
    AccessDeniedError,
    AWSError,
    ResourceNotFoundError,
    ServiceConfigError,
    ThrottledError,
    TrafficConfigError,
)
from bluegreen.iam_infrastructure import trusts_ecs
from bluegreen.migration_facts import (
    GroupFacts,
    HookFacts,
    ListenerFacts,
    MigrationFacts,
    RoleFacts,
    ServiceFacts,
)
from bluegreen.migration_record import read_service
from bluegreen.native_config import EVENT_STAGES
from bluegreen.routing import forward_targets
from bluegreen.scaling_record import DIMENSION, ScalableTargetState, records_in
from bluegreen.traffic import get_deployment_config

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = ["HIGHEST_PRIORITY", "highest_free_priority", "read_facts"]

HIGHEST_PRIORITY = 50000
"""An ALB rule's highest (least preferred) priority."""

_NO_ROLE = frozenset({"NoSuchEntity", "NoSuchEntityException"})
"""IAM's answer for a role that does not exist."""
_NETWORK_PROTOCOLS = frozenset({"TCP", "UDP", "TLS", "TCP_UDP", "QUIC", "TCP_QUIC"})


def read_facts(
    call: Caller,
    aws: Clients,
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    role_arn: str | None = None,
    create_role: str | None = None,
    hook_role_arn: str | None = None,
    appspec: AppSpec | str | pathlib.Path | None = None,
) -> MigrationFacts:
    """Everything ``plan_migration`` needs, read through ``call``.

    Raises:
        ResourceNotFoundError: the service (or its cluster) does not exist.
    """
    problems: list[str] = []
    notes: list[str] = []
    try:
        found = locate(
            call, aws, cluster, service, application=application, deployment_group=deployment_group
        )
        raw, group, names = found.raw, found.group, (found.cluster, found.service)
    except ServiceConfigError as exc:
        raw, group, names = dict(read_service(call, aws, cluster, service).service), None, None
        problems += exc.problems
    except ResourceNotFoundError as exc:
        if exc.operation == "DescribeServices":
            raise
        raw, group, names = dict(read_service(call, aws, cluster, service).service), None, None
        problems.append(f"no deployment group: {exc.message.rstrip('.')}")
    tags = {str(t["key"]): str(t.get("value", "")) for t in raw.get("tags") or () if "key" in t}
    svc = ServiceFacts(
        cluster=names[0] if names else str(raw.get("clusterArn", cluster)).rsplit("/", 1)[-1],
        service=names[1] if names else str(raw.get("serviceName", service)),
        raw=raw,
        tags=tags,
    )
    account_role = _role_facts(call, aws, svc, role_arn) if role_arn else None
    new_role = _role_facts(call, aws, svc, create_role) if create_role else None
    hook_role = None
    if hook_role_arn and hook_role_arn != role_arn:
        hook_role = _role_facts(call, aws, svc, hook_role_arn)
    scaling_records, scaling_suspended = _scaling(call, aws, svc, notes)
    if svc.controller != "CODE_DEPLOY" or group is None:
        return MigrationFacts(
            service=svc,
            role=account_role,
            create_role=new_role,
            hook_role=hook_role,
            scaling_records=scaling_records,
            scaling_suspended=scaling_suspended,
            problems=tuple(problems),
            notes=tuple(notes),
        )

    group_facts = _group_facts(call, aws, group, group.raw)
    listeners = _listeners(call, aws, group.production_listener_arn, group.test_listener_arn)
    hooks, source = _hooks(call, aws, svc, group, appspec=appspec, problems=problems)
    return MigrationFacts(
        service=svc,
        group=group_facts,
        listeners=listeners,
        hooks=hooks,
        hooks_source=source,
        in_flight=group.active_deployment_id,
        role=account_role,
        create_role=new_role,
        hook_role=hook_role,
        scaling_records=scaling_records,
        scaling_suspended=scaling_suspended,
        problems=tuple(problems),
        notes=tuple(notes),
    )


def _group_facts(
    call: Caller, aws: Clients, group: DeploymentGroup, info: Mapping[str, Any]
) -> GroupFacts:
    """The group's deployment config, target-group ARNs and what only ``info`` holds."""
    traffic, traffic_problem = None, None
    name = group.deployment_config_name or "CodeDeployDefault.ECSAllAtOnce"
    try:
        traffic = get_deployment_config(name, clients=aws, caller=call)
    except TrafficConfigError as exc:
        traffic_problem = f"deployment config {name}: {'; '.join(exc.problems)}"
    except ResourceNotFoundError:
        traffic_problem = f"deployment config {name} does not exist in CodeDeploy"
    pairs = (info.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
    arns: dict[str, str] = {}
    if group.target_group_names:
        try:
            answer = call(
                "DescribeTargetGroups",
                aws.elbv2.describe_target_groups,
                Names=list(group.target_group_names),
            )
            arns = {tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in answer["TargetGroups"]}
        except ResourceNotFoundError:
            arns = {}
    terminate = (info.get("blueGreenDeploymentConfiguration") or {}).get(
        "terminateBlueInstancesOnDeploymentSuccess"
    ) or {}
    return GroupFacts(
        group=group,
        traffic=traffic,
        traffic_problem=traffic_problem,
        pair_count=len(pairs),
        termination_action=str(terminate.get("action") or "TERMINATE"),
        triggers=tuple(
            str(t.get("triggerName") or t.get("triggerTargetArn") or "?")
            for t in info.get("triggerConfigurations") or ()
        ),
        target_group_arns=arns,
    )


def _listeners(
    call: Caller, aws: Clients, production: str | None, test: str | None
) -> tuple[ListenerFacts, ...]:
    """The production and test listeners: default forward weights, kind, free priority."""
    wanted = [(role, arn) for role, arn in (("production", production), ("test", test)) if arn]
    if not wanted:
        return ()
    try:
        answer = call(
            "DescribeListeners",
            aws.elbv2.describe_listeners,
            ListenerArns=[arn for _, arn in wanted],
        )
        found = {item["ListenerArn"]: item for item in answer.get("Listeners", ())}
    except ResourceNotFoundError:
        found = {}
    out: list[ListenerFacts] = []
    for role, arn in wanted:
        listener = found.get(arn)
        if listener is None:
            out.append(ListenerFacts(role=role, arn=arn, found=False))
            continue
        network = listener.get("Protocol") in _NETWORK_PROTOCOLS or ":listener/net/" in arn
        free = None
        if not network:
            rules = call("DescribeRules", aws.elbv2.describe_rules, ListenerArn=arn)["Rules"]
            free = highest_free_priority(r.get("Priority") for r in rules)
        out.append(
            ListenerFacts(
                role=role,
                arn=arn,
                network=network,
                forward=forward_weights(listener.get("DefaultActions") or ()),
                free_priority=free,
            )
        )
    return tuple(out)


def forward_weights(actions: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, int], ...]:
    """``((target group ARN, weight), ...)`` of the first forward action; a forward to one
    target group (plain, or weighted alone) counts as weight 100."""
    targets = forward_targets(actions)
    if len(targets) == 1:
        return ((targets[0].arn, 100),)
    return tuple((t.arn, t.weight) for t in targets)


def highest_free_priority(priorities: Any) -> int | None:
    """The highest rule priority (50000 down) no rule takes; ``default`` is not a number."""
    taken = {int(p) for p in priorities if str(p).isdigit()}
    return next((p for p in range(HIGHEST_PRIORITY, 0, -1) if p not in taken), None)


def _hooks(
    call: Caller,
    aws: Clients,
    svc: ServiceFacts,
    group: DeploymentGroup,
    *,
    appspec: AppSpec | str | pathlib.Path | None,
    problems: list[str],
) -> tuple[tuple[HookFacts, ...], str]:
    """The AppSpec's hooks with their functions looked up, and where they came from."""
    hooks: tuple[Hook, ...] | None
    source = "appspec"
    if isinstance(appspec, AppSpec):
        hooks = appspec.hooks
    elif appspec is not None:
        text = appspec.read_text() if isinstance(appspec, pathlib.Path) else appspec
        hooks, unread = read_hooks(text)
        if unread:
            problems.append("the AppSpec given cannot be read: " + "; ".join(unread))
            return (), source
    else:
        deployment = group.last_successful_deployment_id
        if not deployment:
            return (), "none"
        source = f"deployment {deployment}"
        hooks = _deployed_hooks(call, aws, group.application, deployment, problems)
    if hooks is None:
        return (), source
    return tuple(_hook_facts(call, aws, svc, str(h.event), h.function) for h in hooks), source


def _deployed_hooks(
    call: Caller, aws: Clients, application: str, deployment: str, problems: list[str]
) -> tuple[Hook, ...] | None:
    """The hooks of a deployment's AppSpec (GetDeployment, GetApplicationRevision)."""
    pass_it = "pass appspec= (CLI: --appspec FILE) with the AppSpec the service deploys with"
    info: Mapping[str, Any] = call(
        "GetDeployment", aws.codedeploy.get_deployment, deploymentId=deployment
    )
    revision: Mapping[str, Any] = (info.get("deploymentInfo") or {}).get("revision") or {}
    kind = revision.get("revisionType")
    if kind not in ("AppSpecContent", "String"):
        problems.append(
            f"the hooks of deployment {deployment} cannot be read: its revision is in "
            f"{kind or 'an unknown place'} (S3 or GitHub), not in CodeDeploy; {pass_it}"
        )
        return None
    key = "appSpecContent" if kind == "AppSpecContent" else "string"
    content = (revision.get(key) or {}).get("content")
    if not content:
        try:
            answer: Mapping[str, Any] = call(
                "GetApplicationRevision",
                aws.codedeploy.get_application_revision,
                applicationName=application,
                revision={"revisionType": kind, key: {"sha256": revision[key].get("sha256", "")}},
            )
            content = ((answer.get("revision") or {}).get(key) or {}).get("content")
        except ResourceNotFoundError:
            content = None
    if not content:
        problems.append(f"the AppSpec of deployment {deployment} cannot be read; {pass_it}")
        return None
    hooks, unread = read_hooks(content)
    if unread:
        problems.append(
            f"the AppSpec of deployment {deployment} cannot be read ({'; '.join(unread)}); "
            + pass_it
        )
        return None
    return hooks


def function_arn(function: str, svc: ServiceFacts) -> str:
    """The ARN of a hook function: an ARN as it is, a name (``fn`` or ``fn:alias``) in the
    service's partition, region and account."""
    if function.startswith("arn:"):
        return function
    return f"arn:{svc.partition}:lambda:{svc.region}:{svc.account}:function:{function}"


def _hook_facts(
    call: Caller, aws: Clients, svc: ServiceFacts, event: str, function: str
) -> HookFacts:
    """One hook with its function looked up (GetFunction: ARN and Lambda handler)."""
    arn = function_arn(function, svc)
    if event not in EVENT_STAGES:
        return HookFacts(event=event, function=function, function_arn=arn)
    try:
        answer = call("GetFunction", aws.client("lambda").get_function, FunctionName=function)
    except ResourceNotFoundError:
        return HookFacts(event=event, function=function, function_arn=arn, missing=True)
    except ThrottledError:
        raise
    except AWSError as exc:
        return HookFacts(event=event, function=function, function_arn=arn, error=exc.message)
    configuration = answer.get("Configuration") or {}
    return HookFacts(
        event=event,
        function=function,
        function_arn=str(configuration.get("FunctionArn") or arn),
        handler=configuration.get("Handler"),
    )


def role_name(name_or_arn: str) -> str:
    """``name`` of ``arn:aws:iam::123:role/path/name`` or of ``name``."""
    return name_or_arn.rsplit("/", 1)[-1]


def _role_facts(call: Caller, aws: Clients, svc: ServiceFacts, name_or_arn: str) -> RoleFacts:
    """GetRole of a role given (``role_arn``, ``hook_role_arn``) or to be created."""
    name = role_name(name_or_arn)
    arn = (
        name_or_arn
        if name_or_arn.startswith("arn:")
        else f"arn:{svc.partition}:iam::{svc.account}:role/{name}"
    )
    try:
        role = call("GetRole", aws.client("iam").get_role, RoleName=name)["Role"]
    except AccessDeniedError as exc:
        return RoleFacts(name=name, arn=arn, exists=True, error=f"iam:GetRole refused: {exc}")
    except ThrottledError:
        raise
    except AWSError as exc:
        if isinstance(exc, ResourceNotFoundError) or exc.code in _NO_ROLE:
            return RoleFacts(name=name, arn=arn, exists=False)
        return RoleFacts(name=name, arn=arn, exists=True, error=f"iam:GetRole failed: {exc}")
    return RoleFacts(
        name=name,
        arn=str(role.get("Arn") or arn),
        exists=True,
        trusts_ecs=trusts_ecs(role.get("AssumeRolePolicyDocument")),
    )


def _scaling(
    call: Caller, aws: Clients, svc: ServiceFacts, notes: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(scaling records a release left on the service, suspended targets no record
    explains): DescribeScalableTargets once."""
    resource_id = f"service/{svc.cluster}/{svc.service}"
    records = tuple(r.describe() for r in records_in(svc.tags, resource_id=resource_id))
    try:
        answer = call(
            "DescribeScalableTargets",
            aws.autoscaling.describe_scalable_targets,
            ServiceNamespace="ecs",
            ResourceIds=[resource_id],
            ScalableDimension=DIMENSION,
        )
    except AccessDeniedError as exc:
        notes.append(f"the service's scalable targets could not be read: {exc}")
        return records, ()
    targets = [ScalableTargetState.from_api(t) for t in answer.get("ScalableTargets", ())]
    suspended = tuple(
        f"{t.resource_id} ({', '.join(t.suspended)} suspended)" for t in targets if t.suspended
    )
    return records, () if records else suspended
