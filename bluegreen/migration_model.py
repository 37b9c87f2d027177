"""What a migration from CodeDeploy to ECS-native blue/green would change, and what it did.

``MigrationPlan`` is the whole answer of ``plan_migration``: the mapping table a person reads
(``MigrationItem``), the listener rules ECS will shift traffic with (``RulePlan``), the lifecycle
hooks the AppSpec's hooks become (``HookPlan``), the exact ``deploymentConfiguration`` and
``loadBalancers[0]`` UpdateService will send, the infrastructure role and its policy, and what
blocks the migration (``problems``), what behaves differently afterwards (``differences``) and
what is merely worth knowing (``notes``). ``MigrationResult`` is what ``apply_migration`` and
``revert_migration`` did. Values only: nothing here calls AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.iam import IamPolicy

__all__ = [
    "HookPlan",
    "MigrationItem",
    "MigrationPlan",
    "MigrationResult",
    "RulePlan",
]


@attrs.frozen(kw_only=True)
class MigrationItem:
    """One row of the mapping table: a CodeDeploy setting and what it becomes natively.

    Attributes:
        subject: what the row is about: ``strategy``, ``bake time``, ``ready wait``,
            ``hook AfterAllowTestTraffic``, ``alarms``, ...
        codedeploy: what CodeDeploy has now, in words.
        native: what ECS-native gets, in words.
        note: why, or what a reader should know, when the mapping is not obvious.
    """

    subject: str
    codedeploy: str
    native: str
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON-able dict."""
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class RulePlan:
    """A listener rule ECS will shift traffic with (``productionListenerRule`` or
    ``testListenerRule``).

    Attributes:
        role: ``production`` or ``test``.
        listener_arn: the listener the rule belongs to.
        rule_arn: the rule ECS is given; ``None`` when apply creates it (an NLB listener:
            the listener ARN itself, nothing created).
        priority: the priority a created rule gets (the highest free one: lowest precedence,
            so every other rule on the listener keeps winning); ``None`` when nothing is created.
        forward: (target group ARN, weight) pairs: the listener's default action now (a
            plain forward counts as weight 100), plus the pair's other target group at
            weight 0, so the rule is traffic-neutral.
        modify_listener: an NLB listener whose default action lacks the alternate target
            group: apply sets the default action to ``forward`` first (ModifyListener; ECS
            needs both target groups on it). Always False for an ALB.
    """

    role: str
    listener_arn: str
    rule_arn: str | None
    priority: int | None
    forward: tuple[tuple[str, int], ...]
    modify_listener: bool = False

    @property
    def creates(self) -> bool:
        """Whether apply creates this rule (an ALB listener with no rule yet)."""
        return self.rule_arn is None

    def to_dict(self) -> dict[str, Any]:
        """The rule as a JSON-able dict."""
        return {
            "role": self.role,
            "listener_arn": self.listener_arn,
            "rule_arn": self.rule_arn,
            "priority": self.priority,
            "forward": [{"target_group": arn, "weight": weight} for arn, weight in self.forward],
            "modify_listener": self.modify_listener,
        }


@attrs.frozen(kw_only=True)
class HookPlan:
    """One AppSpec hook and the native lifecycle hook it becomes.

    Attributes:
        event: the AppSpec event (``AfterAllowTestTraffic``).
        stage: the native lifecycle stage (``POST_TEST_TRAFFIC_SHIFT``).
        function: the function as the AppSpec names it (a name, an alias or an ARN).
        function_arn: the ARN the native hook targets.
        answers_native: ``True`` when the function is a ready-made bluegreen hook (it answers
            ECS already); ``None`` when unknown (``change`` says what to check).
        change: what, if anything, must change in the function, in words.
    """

    event: str
    stage: str
    function: str
    function_arn: str
    answers_native: bool | None
    change: str

    def to_dict(self) -> dict[str, Any]:
        """The hook as a JSON-able dict."""
        return attrs.asdict(self)


def _jsonable(value: Any) -> Any:
    """``value`` with datetimes and other non-JSON leaves turned into strings."""
    return json.loads(json.dumps(value, default=str))


@attrs.frozen(kw_only=True)
class MigrationPlan:
    """Everything a migration would change, read from AWS, with nothing changed yet.

    Attributes:
        cluster, service, service_arn: the service to migrate.
        application, deployment_group, deployment_config_name: its CodeDeploy group (kept: the
            way back).
        production_target_group, alternate_target_group: the pair's target group ARNs, the
            production one being the one serving now.
        rules: the listener rules ECS will shift traffic with (production, then test).
        hooks: the AppSpec hooks and the native hooks they become.
        role_arn: the infrastructure role (given, or the ARN the created role will have).
        create_role: the name of a role apply creates (``None``: ``role_arn`` was given).
        hook_role_arn: the role ECS invokes hook functions with (default: ``role_arn``).
        deployment_configuration: what UpdateService sends as ``deploymentConfiguration``.
        load_balancer: what UpdateService sends as ``loadBalancers[0]``; its
            ``advancedConfiguration`` rule fields are ``None`` where apply creates the rule.
        before: ``deploymentController``, ``deploymentConfiguration`` and ``loadBalancers`` as
            DescribeServices showed them: what a revert restores.
        role_policy: the infrastructure role's permissions.
        trust_policy: the infrastructure role's trust policy (ecs.amazonaws.com).
        items: the mapping table.
        problems: what blocks the migration, all of them.
        differences: behaviour that changes (apply needs them accepted).
        notes: what is worth knowing and changes nothing.
    """

    cluster: str
    service: str
    service_arn: str
    application: str
    deployment_group: str
    deployment_config_name: str
    production_target_group: str
    alternate_target_group: str
    rules: tuple[RulePlan, ...]
    hooks: tuple[HookPlan, ...]
    role_arn: str | None
    create_role: str | None
    hook_role_arn: str | None
    deployment_configuration: Mapping[str, Any]
    load_balancer: Mapping[str, Any]
    before: Mapping[str, Any]
    role_policy: IamPolicy
    trust_policy: Mapping[str, Any]
    items: tuple[MigrationItem, ...]
    problems: tuple[str, ...] = ()
    differences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether nothing blocks the migration (differences still need accepting)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-able dict (no environment values: none are read)."""
        return {
            "ok": self.ok,
            "cluster": self.cluster,
            "service": self.service,
            "service_arn": self.service_arn,
            "application": self.application,
            "deployment_group": self.deployment_group,
            "deployment_config_name": self.deployment_config_name,
            "production_target_group": self.production_target_group,
            "alternate_target_group": self.alternate_target_group,
            "rules": [rule.to_dict() for rule in self.rules],
            "hooks": [hook.to_dict() for hook in self.hooks],
            "role_arn": self.role_arn,
            "create_role": self.create_role,
            "hook_role_arn": self.hook_role_arn,
            "deployment_configuration": _jsonable(self.deployment_configuration),
            "load_balancer": _jsonable(self.load_balancer),
            "before": _jsonable(self.before),
            "role_policy": {
                "document": _jsonable(self.role_policy.document),
                "notes": list(self.role_policy.notes),
            },
            "trust_policy": _jsonable(self.trust_policy),
            "items": [item.to_dict() for item in self.items],
            "problems": list(self.problems),
            "differences": list(self.differences),
            "notes": list(self.notes),
        }

    def describe(self) -> str:
        """The plan for a person at a terminal: what would change, the mapping, the hooks,
        the rules, the role, then problems and differences."""
        return "\n".join(_describe(self))


def _json_block(value: Any) -> list[str]:
    return ["    " + line for line in json.dumps(_jsonable(value), indent=2).splitlines()]


def _tg_name(arn: str) -> str:
    """``web-blue`` of ``arn:...:targetgroup/web-blue/0123`` (else the ARN)."""
    parts = arn.split("/")
    return parts[1] if ":targetgroup/" in arn and len(parts) >= 3 else arn


def _steps(plan: MigrationPlan) -> list[str]:
    """What apply would do, in order."""
    steps = ["write the migration record (tags bluegreen:migration*) on the service"]
    if plan.create_role:
        steps.append(f"create role {plan.create_role} trusted by ECS, with the policy below")
    for rule in plan.rules:
        forward = ", ".join(f"{_tg_name(arn)} {weight}" for arn, weight in rule.forward)
        if rule.rule_arn is None:
            steps.append(
                f"create the {rule.role} rule on {rule.listener_arn}: priority {rule.priority}, "
                f"path *, forward {forward} (as the default action: no traffic moves)"
            )
        elif rule.modify_listener:
            steps.append(
                f"set the {rule.role} NLB listener's default action to forward {forward} "
                "(no traffic moves)"
            )
    steps.append(
        "UpdateService: deploymentController CODE_DEPLOY -> ECS, with the "
        "deploymentConfiguration and loadBalancers[0] below"
    )
    steps.append("check the service reads back as planned, then mark the record applied")
    return steps


def _describe(plan: MigrationPlan) -> list[str]:
    """The lines of ``MigrationPlan.describe``."""
    lines = [
        f"Migrate {plan.cluster}/{plan.service} from CodeDeploy to ECS-native blue/green",
        f"  CodeDeploy group  {plan.application}/{plan.deployment_group} "
        f"({plan.deployment_config_name}): kept unchanged, the way back",
        f"  production TG     {plan.production_target_group}",
        f"  alternate TG      {plan.alternate_target_group}",
        "",
        "Apply would:",
        *(f"  {n}. {step}" for n, step in enumerate(_steps(plan), start=1)),
    ]
    if plan.items:
        lines += ["", "Mapping (CodeDeploy -> ECS-native):"]
        width = max(len(item.subject) for item in plan.items)
        for item in plan.items:
            lines.append(f"  {item.subject:<{width}}  {item.codedeploy}")
            lines.append(f"  {'':<{width}}  -> {item.native}")
            if item.note:
                lines.append(f"  {'':<{width}}     ({item.note})")
    if plan.hooks:
        lines += ["", "Hooks (what each function must change):"]
        for hook in plan.hooks:
            lines.append(f"  {hook.event} -> {hook.stage}: {hook.function_arn}")
            lines.append(f"    {hook.change}")
    lines += [
        "",
        "deploymentConfiguration (UpdateService):",
        *_json_block(plan.deployment_configuration),
        "loadBalancers[0] (UpdateService; a null rule is the one apply creates):",
        *_json_block(plan.load_balancer),
    ]
    lines += ["", "Infrastructure role:"]
    if plan.create_role:
        lines.append(f"  to create: {plan.create_role} ({plan.role_arn}), trusted by ECS")
    elif plan.role_arn:
        lines.append(f"  {plan.role_arn} (given)")
    else:
        lines.append("  none given")
    if plan.hook_role_arn and plan.hook_role_arn != plan.role_arn:
        lines.append(f"  hooks are invoked with {plan.hook_role_arn}")
    lines += ["  permissions it needs:", *_json_block(plan.role_policy.document)]
    lines += [f"  note: {note}" for note in plan.role_policy.notes]
    for title, entries in (
        ("Problems (block the migration)", plan.problems),
        ("Differences (behaviour that changes; need accepting)", plan.differences),
        ("Notes", plan.notes),
    ):
        if entries:
            lines += ["", f"{title}:", *(f"  - {entry}" for entry in entries)]
    if plan.ok:
        verdict = "No problem: ready to apply"
        if plan.differences:
            verdict += f" once the {len(plan.differences)} difference(s) are accepted"
    else:
        verdict = f"{len(plan.problems)} problem(s) block the migration"
    return [*lines, "", verdict + "."]


@attrs.frozen(kw_only=True)
class MigrationResult:
    """What ``apply_migration`` or ``revert_migration`` did.

    Attributes:
        cluster, service: the service.
        action: ``apply`` or ``revert``.
        steps: what was done, in words, in order.
        verified: whether the end state was read back and found as intended.
        verify_deployment: the no-op native deployment that verified an apply
            (``verify="deploy"``), else ``None``.
        undone: what a failed apply undid, in words, in order.
    """

    cluster: str
    service: str
    action: str
    steps: tuple[str, ...] = ()
    verified: bool = False
    verify_deployment: str | None = None
    undone: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-able dict."""
        return {
            "cluster": self.cluster,
            "service": self.service,
            "action": self.action,
            "steps": list(self.steps),
            "verified": self.verified,
            "verify_deployment": self.verify_deployment,
            "undone": list(self.undone),
        }
