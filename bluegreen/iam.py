"""Least-privilege IAM policies for what bluegreen does: ``iam_policy(feature, ...)``.

The actions of each feature are recorded, not listed by hand: every AWS call passes the one
door (``bluegreen._aws.Caller``), and ``python -m tests.iam_record --write`` records on the
simulator which IAM action each call of each feature needs (failure routes included) into
``bluegreen/iam_actions.py``. The resources each action is granted on follow the rules of
``bluegreen.iam_resources``. With a cluster and a service, the ARNs are read from AWS the way
``discover`` reads them (and the service's task definition); without, the policy carries
capitalised placeholders (``REGION``, ``ACCOUNT``, ``CLUSTER``...) to replace.

Features:

- ``release``: plan, deploy, wait, promote, finish, abort, rollback, recover, and ``release
  FILE`` (its ``status``, ``resume``, ``plan``), which assumes the roles a manifest names (a CI
  role);
- ``readonly``: discover/inspect, status (``--scaling`` too), plan, appspec, schedule,
  ``release status FILE`` and ``release plan FILE``;
- ``hook``: the hook kit and the ready-made hooks (a hook function's execution role);
- ``safety-net``: the EventBridge ``restore_scaling`` function's execution role;
- ``migrate``: ``migrate plan``, ``migrate apply`` and ``migrate revert`` (moving a
  CodeDeploy service to ECS-native blue/green and back): the rules of the group's listeners,
  the infrastructure role (``roles``) and passing it to ECS (``bluegreen.iam_migration``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen.errors import ValidationError
from bluegreen.iam_actions import FEATURES as _RECORDED
from bluegreen.iam_actions import RESOURCES as _RESOURCES
from bluegreen.iam_migration import migration_arns
from bluegreen.iam_native import native_hook_functions, native_hook_roles
from bluegreen.iam_resources import (
    ANY,
    DEPENDENT_ACTIONS,
    HOOK_FUNCTION_PATTERN,
    KINDS,
    RELEASE_ROLE_PLACEHOLDER,
    ResourceArns,
    placeholders,
)

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Caller, Clients
    from bluegreen.clock import Clock

__all__ = ["FEATURES", "ActionTable", "IamPolicy", "build_policy", "iam_policy", "policy_actions"]

FEATURES = ("release", "readonly", "hook", "safety-net", "migrate")
"""What a policy can be made for."""

VERSION = "2012-10-17"


@attrs.frozen(kw_only=True)
class IamPolicy:
    """An IAM policy for one feature, and why it looks the way it does.

    Attributes:
        feature: ``release``, ``readonly``, ``hook``, ``safety-net`` or ``migrate``.
        document: the policy (``Version``, ``Statement``), ready for ``json.dumps`` and
            ``iam.put_role_policy(PolicyDocument=...)``.
        notes: one sentence per choice a reader should know of: each wildcard and why, the
            actions no call makes but a call needs, the placeholders to replace.
    """

    feature: str
    document: dict[str, Any]
    notes: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The policy document as indented JSON."""
        return json.dumps(self.document, indent=2)

    def actions(self) -> tuple[str, ...]:
        """Every action the policy allows, sorted."""
        return tuple(sorted({a for s in self.document["Statement"] for a in s["Action"]}))

    def resources(self) -> tuple[str, ...]:
        """Every resource ARN the policy names (``"*"`` left out), sorted."""
        found: set[str] = set()
        for statement in self.document["Statement"]:
            resource = statement["Resource"]
            found.update([resource] if isinstance(resource, str) else resource)
        return tuple(sorted(found - {"*"}))


@attrs.frozen
class ActionTable:
    """What each feature calls (``features``) and where each action is granted
    (``resources``): by default the generated ``bluegreen/iam_actions.py``."""

    features: Mapping[str, tuple[str, ...]] = _RECORDED
    resources: Mapping[str, tuple[str, ...]] = _RESOURCES


def policy_actions(feature: str, *, table: ActionTable | None = None) -> dict[str, str | None]:
    """The actions ``feature``'s policy allows: ``{action: None}`` for one its calls make,
    ``{action: why}`` for one a call needs the caller to hold (``iam:PassRole``...)."""
    _check_feature(feature)
    recorded = (table or ActionTable()).features[feature]
    actions: dict[str, str | None] = dict.fromkeys(recorded)
    for action in recorded:
        for needed, why in DEPENDENT_ACTIONS.get(action, {}).items():
            actions.setdefault(needed, why)
    return dict(sorted(actions.items()))


def iam_policy(
    feature: str,
    cluster: str | None = None,
    service: str | None = None,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    hook_functions: Sequence[str] = (),
    roles: Sequence[str] = (),
    hook_roles: Sequence[str] = (),
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
) -> IamPolicy:
    """A least-privilege IAM policy for ``feature``, scoped to one service's resources.

    Args:
        feature: ``"release"``, ``"readonly"``, ``"hook"``, ``"safety-net"`` or
            ``"migrate"``.
        cluster: with ``service``, read the ARNs of the service, its deployment group and
            application, its task-definition family and roles, its alarms and scalable
            target from AWS (the calls of ``discover``, DescribeTaskDefinition and
            DescribeScalableTargets). Without them: placeholders. An ECS-native service has
            no group: its alarms and hook functions are those of its deploymentConfiguration,
            its deployments and revisions ``service-deployment/CLUSTER/SERVICE/*`` and
            ``service-revision/CLUSTER/SERVICE/*``.
        service: the ECS service (name or ARN).
        application: the CodeDeploy application, with ``deployment_group`` (else found).
        deployment_group: the CodeDeploy deployment group.
        hook_functions: the Lambda functions (names or ARNs) your deployments name as hooks,
            which ``plan``/``deploy`` look up; default ``CodeDeployHook_*``.
        roles: the IAM role ARNs your release manifests name (``role:``), which ``release``
            assumes (``sts:AssumeRole``); default a placeholder that matches no role. For
            ``migrate``: the infrastructure role (``--role``, or the one ``--create-role``
            makes) and the hook role, which it reads, creates, passes to ECS and deletes;
            default the migrated service's own, else a placeholder.
        hook_roles: the IAM roles ECS invokes your Lambda hooks with, which an ECS-native
            deploy passes to ECS (``iam:PassRole``) when it sends the service's
            ``deploymentConfiguration`` (``--hook``, ``--hook-role``, a new strategy);
            default the ECS-native service's own hooks' roles, else a placeholder.
        clients: ready ``bluegreen.Clients``; or
        session: the ``boto3.Session`` to read with.
        clock: where a throttled read waits before it is retried.

    Raises:
        ValidationError: an unknown feature, ``cluster`` without ``service``, ``application``
            without ``deployment_group``, a role that is not an IAM role ARN (every problem
            at once).
        ResourceNotFoundError, ServiceConfigError: as ``discover``.
        AWSError: a read failed.
    """
    release_roles = (roles,) if isinstance(roles, str) else tuple(roles)
    passed = (hook_roles,) if isinstance(hook_roles, str) else tuple(hook_roles)
    problems = _problems(feature, cluster, service, application, deployment_group)
    problems += _role_problems(release_roles) + _role_problems(passed, hook=True)
    if problems:
        raise ValidationError(problems, subject="IAM policy request")
    notes: list[str] = []
    if cluster is not None and service is not None:
        arns = _discovered(
            feature,
            cluster,
            service,
            application=application,
            deployment_group=deployment_group,
            hook_functions=tuple(hook_functions),
            release_roles=release_roles,
            hook_roles=passed,
            clients=clients,
            session=session,
            clock=clock,
            notes=notes,
        )
    else:
        arns = placeholders(hook_functions=tuple(hook_functions), release_roles=release_roles)
        if feature == "migrate":
            arns = migration_arns(arns, None, release_roles)
        else:
            arns = attrs.evolve(arns, infrastructure_roles=passed or (HOOK_ROLE_PLACEHOLDER,))
        notes.append(
            f"replace the placeholders in capitals ({_PLACEHOLDERS.get(feature, _NAMES)}) with "
            "your resources, or "
            + advice(
                "pass cluster= and service= to read them from AWS",
                "give --cluster and --service to read them from AWS",
            )
            + "; as they are, they match nothing"
        )
    return build_policy(feature, arns, notes=notes)


_NAMES = (
    "REGION, ACCOUNT, CLUSTER, SERVICE, FAMILY, APPLICATION, DEPLOYMENT_GROUP, ALARM, "
    "TASK_ROLE, EXECUTION_ROLE, HOOK_ROLE"
)
HOOK_ROLE_PLACEHOLDER = "arn:aws:iam::ACCOUNT:role/HOOK_ROLE"
"""The hook role an ECS-native deploy passes, unless named or read from the service."""
_PLACEHOLDERS = {
    "migrate": "REGION, ACCOUNT, CLUSTER, SERVICE, APPLICATION, DEPLOYMENT_GROUP, "
    "LOAD_BALANCER, LB_ID, PRODUCTION_LISTENER_ID, TEST_LISTENER_ID, INFRASTRUCTURE_ROLE",
}


def _check_feature(feature: str) -> None:
    if feature not in FEATURES:
        raise ValidationError([_unknown(feature)], subject="IAM policy request")


def _unknown(feature: str) -> str:
    return f"unknown feature {feature!r}: choose one of {', '.join(FEATURES)}"


def _problems(
    feature: str,
    cluster: str | None,
    service: str | None,
    application: str | None,
    deployment_group: str | None,
) -> list[str]:
    problems = []
    if feature not in FEATURES:
        problems.append(_unknown(feature))
    if (cluster is None) != (service is None):
        problems.append(
            advice(
                "give cluster= and service= together, or neither (placeholders)",
                "give --cluster and --service together, or neither (placeholders)",
            )
        )
    if (application is None) != (deployment_group is None):
        problems.append(
            advice(
                "give application= and deployment_group= together, or neither",
                "give --application and --deployment-group together, or neither",
            )
        )
    if application is not None and cluster is None:
        problems.append(
            advice(
                "application= and deployment_group= need cluster= and service=",
                "--application and --deployment-group need --cluster and --service",
            )
        )
    return problems


def _role_problems(roles: tuple[str, ...], *, hook: bool = False) -> list[str]:
    from bluegreen.manifest_checks import ROLE_PATTERN

    give = (
        advice("give hook_roles= such as", "give --hook-role such as")
        + " arn:aws:iam::123456789012:role/ecsLambdaInvokeRole (the role ECS invokes your "
        "Lambda hooks with)"
        if hook
        else advice("give roles= such as", "give --role such as")
        + " arn:aws:iam::123456789012:role/bluegreen-release (a role your release manifests "
        "name)"
    )
    return [
        f"{role!r} is not an IAM role ARN: {give}"
        for role in roles
        if not ROLE_PATTERN.fullmatch(role)
    ]


def build_policy(
    feature: str,
    arns: ResourceArns,
    *,
    notes: Iterable[str] = (),
    table: ActionTable | None = None,
) -> IamPolicy:
    """The policy of ``feature`` on ``arns``: one statement per resource kind (``"*"`` in a
    statement of its own), with ``notes`` and a note for every choice it makes."""
    table = table or ActionTable()
    notes = list(notes)
    allowed = policy_actions(feature, table=table)
    by_kind: dict[str, set[str]] = {}
    for action in allowed:
        for kind in table.resources[action]:
            by_kind.setdefault(kind, set()).add(action)
    statements: list[dict[str, Any]] = []
    granted = {a for kind, actions in by_kind.items() if arns.arns(kind) for a in actions}
    for kind, spec in KINDS.items():
        actions = sorted(by_kind.get(kind, ()))
        if not actions:
            continue
        resources = arns.arns(kind)
        if not resources:  # a note for actions no other statement grants (iam:PassRole)
            missing = [a for a in actions if a not in granted]
            if missing:
                notes.append(f"{_joined(missing)}: not granted, {arns.absent(kind)}")
            continue
        statement: dict[str, Any] = {
            "Sid": spec.sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*" if kind == ANY else list(resources),
        }
        condition = arns.condition(kind)
        if condition is not None:
            statement["Condition"] = condition
        statements.append(statement)
        if spec.why is not None:
            notes.append(f"{spec.sid} ({_joined(actions)}): {spec.why}")
    for action, why in allowed.items():
        if why is not None:
            notes.append(f"{action}: no call makes it, but {why}")
    if "hook-function" in by_kind and arns.hook_functions == (HOOK_FUNCTION_PATTERN,):
        notes.append(
            f"lambda:GetFunction on {HOOK_FUNCTION_PATTERN}: plan and deploy look up each hook "
            "function; "
            + advice(
                "pass hook_functions= to name yours",
                "give --hook-function to name yours",
            )
        )
    if "release-role" in by_kind and RELEASE_ROLE_PLACEHOLDER in arns.release_roles:
        notes.append(
            f"sts:AssumeRole on {RELEASE_ROLE_PLACEHOLDER}, a placeholder that matches no "
            "role: `bluegreen release` assumes the role each service of a manifest names "
            "(`role:`); "
            + advice(
                "pass roles= to name yours",
                "give --role ARN (repeatable) to name yours",
            )
            + ", or leave the statement out if no manifest names one"
        )
    if "scalable-target" in by_kind and arns.scalable_targets is None:
        notes.append(
            "ScalableTarget: no scalable target ARN known, so any ECS service's DesiredCount "
            "target (Condition on service namespace and dimension)"
        )
    document = {"Version": VERSION, "Statement": statements}
    return IamPolicy(feature=feature, document=document, notes=tuple(notes))


def _joined(actions: Iterable[str]) -> str:
    return ", ".join(actions)


# -- reading the ARNs of one service ----------------------------------------------------------


def _discovered(
    feature: str,
    cluster: str,
    service: str,
    *,
    application: str | None,
    deployment_group: str | None,
    hook_functions: tuple[str, ...],
    release_roles: tuple[str, ...],
    hook_roles: tuple[str, ...],
    clients: Clients | None,
    session: boto3.Session | None,
    clock: Clock | None,
    notes: list[str],
) -> ResourceArns:
    from bluegreen._aws import Caller, resolve_clients
    from bluegreen.discovery import discover

    aws = resolve_clients(clients, session)
    call = Caller(clock=clock) if clock is not None else Caller()
    state = discover(
        cluster,
        service,
        application=application,
        deployment_group=deployment_group,
        clients=aws,
        caller=call,
    )
    partition, region, account = _arn_parts(state.service_arn)
    group = state.deployment_group
    groups: list[tuple[str, str]] = []
    alarms: tuple[str, ...] = ()
    if group is not None:
        groups.append((group.application, group.name))
        alarms = group.alarm_names
        console = (
            f"AppECS-{state.cluster}-{state.service}",
            f"DgpECS-{state.cluster}-{state.service}",
        )
        if application is None and console not in groups:
            groups.append(console)
            notes.append(
                f"DeploymentGroup also names {console[0]}/{console[1]}: without "
                "--application/--deployment-group or the service's tag, bluegreen asks for "
                "the console's name first"
            )
    if state.strategy is not None:  # ECS-native: the service's own alarms and hooks
        alarms = state.strategy.alarm_names
        hook_functions = hook_functions or native_hook_functions(state.strategy, notes)
        hook_roles = hook_roles or native_hook_roles(state.strategy, partition, account, notes)
    families, roles = _task_definition(call, aws, state.task_definition)
    targets: tuple[str, ...] | None = ()
    if "application-autoscaling:RegisterScalableTarget" in policy_actions(feature):
        targets = _scalable_targets(call, aws, f"service/{state.cluster}/{state.service}")
    rewriter = (
        "ECS, with the service's infrastructure role, rewrites the listener rules"
        if state.strategy is not None
        else "CodeDeploy's own service role rewrites the listeners"
    )
    if feature != "migrate":
        notes.append(
            "target groups and listeners appear in no statement: bluegreen only reads them, "
            f'with elasticloadbalancing:Describe* actions that take only "*" ({rewriter})'
        )
    arns = ResourceArns(
        partition=partition,
        region=region,
        account=account,
        service_arns=(state.service_arn,),
        families=families,
        deployment_groups=tuple(groups),
        alarms=alarms,
        scalable_targets=targets,
        hook_functions=hook_functions or (HOOK_FUNCTION_PATTERN,),
        task_roles=roles,
        release_roles=release_roles or (RELEASE_ROLE_PLACEHOLDER,),
        infrastructure_roles=hook_roles,
        service_kind=state.kind,
    )
    return migration_arns(arns, state, release_roles, notes) if feature == "migrate" else arns


def _arn_parts(arn: str) -> tuple[str, str, str]:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[1], parts[3], parts[4]


def _task_definition(
    call: Caller, aws: Clients, arn: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The family of the service's task definition and the roles it passes to tasks."""
    if not arn:
        return (), ()
    described = call(
        "DescribeTaskDefinition", aws.ecs.describe_task_definition, taskDefinition=arn
    )["taskDefinition"]
    roles = tuple(
        dict.fromkeys(
            role
            for role in (described.get("taskRoleArn"), described.get("executionRoleArn"))
            if role
        )
    )
    return (str(described["family"]),), roles


def _scalable_targets(call: Caller, aws: Clients, resource_id: str) -> tuple[str, ...] | None:
    """The service's scalable target ARNs; None when AWS answers without them."""
    targets = call(
        "DescribeScalableTargets",
        aws.autoscaling.describe_scalable_targets,
        ServiceNamespace="ecs",
        ResourceIds=[resource_id],
    )["ScalableTargets"]
    if any(not t.get("ScalableTargetARN") for t in targets):
        return None
    return tuple(sorted(t["ScalableTargetARN"] for t in targets))
