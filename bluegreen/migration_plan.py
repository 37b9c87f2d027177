"""``plan_migration``: what migrating a service from CodeDeploy to ECS-native blue/green would
change, read from AWS with nothing changed.

The plan reads the service, its deployment group, the listeners, the hooks' functions and the
roles (``bluegreen.migration_reading``), maps every setting (``bluegreen.migration_mapping``),
finds what blocks the migration (``bluegreen.migration_checks``), and returns one
``MigrationPlan``: the exact ``deploymentConfiguration`` and ``loadBalancers[0]`` UpdateService
will send, the listener rules apply creates, the infrastructure role and its least-privilege
policy, the problems (all of them), the differences (behaviour that changes; apply needs them
accepted) and notes. ``bluegreen.migration_apply`` carries it out.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen._aws import Caller, resolve_clients
from bluegreen.appspec import AppSpec
from bluegreen.arguments import check_connection, group_problems, service_problems
from bluegreen.clock import MonotonicClock
from bluegreen.errors import ValidationError, show_value
from bluegreen.iam import IamPolicy
from bluegreen.iam_infrastructure import FEATURE, TRUST_POLICY, infrastructure_policy
from bluegreen.migration_checks import group_problems as pair_problems
from bluegreen.migration_checks import (
    listener_problems,
    record_problems,
    role_problems,
    tag_room_problems,
)
from bluegreen.migration_checks import service_problems as state_problems
from bluegreen.migration_facts import MigrationFacts
from bluegreen.migration_mapping import (
    Mapped,
    alarms_for,
    hook_plan,
    native_hooks,
    native_strategy,
    pause_hook,
    rollback_differences,
    rule_plan,
    strategy_problems,
)
from bluegreen.migration_model import HookPlan, MigrationItem, MigrationPlan, RulePlan
from bluegreen.migration_reading import read_facts
from bluegreen.native_config import EVENT_STAGES

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.clock import Clock

__all__ = ["build_plan", "plan_migration"]

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_KEPT = ("maximumPercent", "minimumHealthyPercent")
"""The service's ``deploymentConfiguration`` fields a migration keeps."""


def plan_migration(
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    role_arn: str | None = None,
    create_role: str | None = None,
    hook_role_arn: str | None = None,
    appspec: AppSpec | str | pathlib.Path | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    caller: Caller | None = None,
) -> MigrationPlan:
    """What migrating ``service`` from CodeDeploy to ECS-native blue/green would change.

    Nothing in AWS changes. What blocks the migration is in ``plan.problems`` (every one),
    what behaves differently afterwards in ``plan.differences``; ``plan.describe()`` prints
    it all for a person, ``plan.to_dict()`` for a program.

    Args:
        cluster: cluster name or ARN.
        service: service name or ARN.
        application, deployment_group: the CodeDeploy group (both or neither); default: found
            as ``discover`` finds it.
        role_arn: the ECS infrastructure role (it must trust ecs.amazonaws.com); or
        create_role: the name of a role apply creates, with ``plan.role_policy``.
        hook_role_arn: the role ECS invokes the hook functions with (default: the
            infrastructure role).
        appspec: the AppSpec whose hooks to carry (an ``AppSpec``, its YAML/JSON text or a
            ``pathlib.Path`` to it); default: the one of the group's last successful
            deployment.
        clients, session, clock, caller: as for ``discover``.

    Raises:
        ValidationError: an argument cannot work (all said at once, before any call).
        ResourceNotFoundError: the service does not exist.
        AWSError: a read failed (throttling and 5xx are retried first).
    """
    problems = service_problems(cluster=cluster, service=service)
    problems += group_problems(application, deployment_group)
    problems += _argument_problems(role_arn, create_role, hook_role_arn, appspec)
    check_connection(
        subject="migration plan", clients=clients, session=session, clock=clock, problems=problems
    )
    aws = resolve_clients(clients, session)
    call = caller if caller is not None else Caller(clock=clock or MonotonicClock())
    facts = read_facts(
        call,
        aws,
        cluster,
        service,
        application=application,
        deployment_group=deployment_group,
        role_arn=role_arn,
        create_role=create_role,
        hook_role_arn=hook_role_arn,
        appspec=appspec,
    )
    return build_plan(facts)


def _argument_problems(
    role_arn: object, create_role: object, hook_role_arn: object, appspec: object
) -> list[str]:
    problems: list[str] = []
    for name, flag, value in (
        ("role_arn", "--role", role_arn),
        ("hook_role_arn", "--hook-role", hook_role_arn),
    ):
        if value is not None and not (isinstance(value, str) and _ROLE_ARN.match(value)):
            problems.append(
                f"{advice(name + '=', flag)} must be an IAM role ARN "
                f"(arn:aws:iam::123456789012:role/NAME), got {show_value(value)}"
            )
    if create_role is not None and not (
        isinstance(create_role, str) and _ROLE_NAME.match(create_role)
    ):
        problems.append(
            f"{advice('create_role=', '--create-role')} must be an IAM role name (1-64 of "
            f"letters, digits and +=,.@_-), got {show_value(create_role)}"
        )
    if role_arn is not None and create_role is not None:
        problems.append(
            "give " + advice("role_arn= or create_role=", "--role or --create-role") + ", not both"
        )
    if appspec is not None and not isinstance(appspec, AppSpec | str | pathlib.Path):
        problems.append(
            f"appspec= must be an AppSpec, its text or a pathlib.Path, got {show_value(appspec)}"
        )
    elif isinstance(appspec, pathlib.Path) and not appspec.is_file():
        problems.append(f"{advice('appspec=', '--appspec')} {appspec} is not a file")
    return problems


def build_plan(facts: MigrationFacts) -> MigrationPlan:
    """The plan for what ``read_facts`` found: pure, no AWS call."""
    svc = facts.service
    problems = list(facts.problems)
    differences: list[str] = []
    notes = list(facts.notes)
    items: list[MigrationItem] = []
    problems += state_problems(facts)
    problems += record_problems(facts)
    problems += role_problems(facts)

    def take(mapped: Mapped) -> Any:
        items.extend(mapped.items)
        differences.extend(mapped.differences)
        notes.extend(mapped.notes)
        return mapped.value

    role_arn = (
        facts.role.arn if facts.role else facts.create_role.arn if facts.create_role else None
    )
    hook_role_arn = facts.hook_role.arn if facts.hook_role else role_arn
    production_tg = _production_target_group(facts)
    alternate_tg = ""
    rules: tuple[RulePlan, ...] = ()
    hooks: list[HookPlan] = []
    configuration: dict[str, Any] = {}
    load_balancer: dict[str, Any] = {}
    group = facts.group
    if group is not None:
        problems += pair_problems(group, production_tg)
        others = [a for a in group.target_group_arns.values() if a != production_tg]
        alternate_tg = others[0] if len(others) == 1 and production_tg else ""
        if production_tg and alternate_tg:
            problems += listener_problems(
                facts.listeners, production=production_tg, alternate=alternate_tg
            )
            found = [listener for listener in facts.listeners if listener.found]
            rules = tuple(
                take(rule_plan(listener, production=production_tg, alternate=alternate_tg))
                for listener in found
            )
        g = group.group
        keep = {
            k: v for k, v in (svc.raw.get("deploymentConfiguration") or {}).items() if k in _KEPT
        }
        alarms = take(alarms_for(g))
        if alarms is not None:
            keep["alarms"] = alarms
        take(rollback_differences(g, group.triggers))
        if group.termination_action != "TERMINATE":
            differences.append(
                f"the group keeps blue after success ({group.termination_action}); ECS always "
                f"removes it after the bake time ({g.termination_wait_minutes} min)"
            )
        if group.traffic is not None:
            strategy = take(
                native_strategy(group.traffic, bake_minutes=g.termination_wait_minutes, keep=keep)
            )
            entries: list[Mapping[str, Any]] = []
            pause = take(pause_hook(g))
            for hook in facts.hooks:
                if hook.event not in EVENT_STAGES:
                    problems.append(f"hook {hook.event}: ECS-native has no stage for it")
                    continue
                if hook.missing:
                    problems.append(
                        f"hook {hook.event}: Lambda function {hook.function} does not exist; "
                        "ECS would roll every deployment back at that stage"
                    )
                    continue
                if hook.error:
                    notes.append(f"hook {hook.event}: {hook.function} not looked up ({hook.error})")
                hook_entry = take(
                    hook_plan(hook, role_arn=hook_role_arn, strategy=strategy.strategy)
                )
                hooks.append(hook_entry[0])
                entries.append(hook_entry[1])
            if pause is not None:
                entries.append(pause)
                if any(h.stage == "POST_TEST_TRAFFIC_SHIFT" for h in hooks):
                    notes.append(
                        "the ready wait's PAUSE hook and the AfterAllowTestTraffic hook share "
                        "POST_TEST_TRAFFIC_SHIFT; ECS does not say in which order they run "
                        "(CodeDeploy ran the hook first)"
                    )
            strategy = strategy.with_hooks(native_hooks(entries))
            problems += strategy_problems(strategy, group.traffic)
            configuration = strategy.to_api()
        notes.append(_hooks_source(facts))
        load_balancer = _load_balancer(facts, production_tg, alternate_tg, rules, role_arn)
        problems += tag_room_problems(facts, listeners=tuple(r.listener_arn for r in rules))
        if not facts.listeners or all(listener.role != "test" for listener in facts.listeners):
            notes.append("the group has no test listener: no testListenerRule")
        if any(rule.modify_listener for rule in rules):
            notes.append(
                "the NLB listener's default action gains the alternate target group at weight "
                "0 (ModifyListener, traffic-neutral): ECS needs both on it"
            )
        items.append(
            MigrationItem(
                subject="role",
                codedeploy=f"CodeDeploy service role {g.service_role_arn or '?'}",
                native=f"ECS infrastructure role {role_arn or '(none given)'}",
            )
        )
        notes.append(
            f"the deployment group {g.application}/{g.name} stays as it is: it is the way back "
            "(a CodeDeploy deployment started on it after the migration fails at once)"
        )
    for suspended in facts.scaling_suspended:
        notes.append(f"scaling is suspended with no bluegreen record: {suspended}")
    notes.append(
        "Application Auto Scaling holds scale-in itself during an ECS-native deployment; "
        "bluegreen suspends nothing there (docs/native.md)"
    )
    return MigrationPlan(
        cluster=svc.cluster,
        service=svc.service,
        service_arn=svc.arn,
        application=group.group.application if group else "",
        deployment_group=group.group.name if group else "",
        deployment_config_name=(group.group.deployment_config_name or "") if group else "",
        production_target_group=production_tg or "",
        alternate_target_group=alternate_tg,
        rules=rules,
        hooks=tuple(hooks),
        role_arn=role_arn,
        create_role=facts.create_role.name if facts.create_role else None,
        hook_role_arn=hook_role_arn,
        deployment_configuration=configuration,
        load_balancer=load_balancer,
        before={
            "deploymentController": svc.raw.get("deploymentController"),
            "deploymentConfiguration": svc.raw.get("deploymentConfiguration"),
            "loadBalancers": svc.raw.get("loadBalancers"),
        },
        role_policy=_role_policy(
            facts,
            rules,
            hooks,
            target_groups=(production_tg or "", alternate_tg),
            role_arn=role_arn,
            hook_role_arn=hook_role_arn,
        ),
        trust_policy=TRUST_POLICY,
        items=tuple(sorted(items, key=_item_rank)),
        problems=tuple(dict.fromkeys(problems)),
        differences=tuple(dict.fromkeys(differences)),
        notes=tuple(dict.fromkeys(notes)),
    )


_ITEM_ORDER = (
    "strategy",
    "bake time",
    "ready wait",
    "hook",
    "alarms",
    "auto-rollback",
    "triggers",
    "production route",
    "test route",
    "role",
)


def _item_rank(item: MigrationItem) -> int:
    """The mapping table's order: the shift, the hooks, the safety nets, the routes."""
    return next(
        (n for n, prefix in enumerate(_ITEM_ORDER) if item.subject.startswith(prefix)),
        len(_ITEM_ORDER),
    )


def _production_target_group(facts: MigrationFacts) -> str | None:
    """The target group the service runs in now: its primary task set's (CodeDeploy may
    have swapped the pair since the service was created), else the service's."""
    primary = facts.service.primary
    for source in (primary.get("loadBalancers") if primary else None, facts.service.load_balancers):
        for lb in source or ():
            if lb.get("targetGroupArn"):
                return str(lb["targetGroupArn"])
    return None


def _load_balancer(
    facts: MigrationFacts,
    production: str | None,
    alternate: str,
    rules: tuple[RulePlan, ...],
    role_arn: str | None,
) -> dict[str, Any]:
    """``loadBalancers[0]`` for UpdateService: the live target group, the container, and the
    ``advancedConfiguration`` (a rule apply creates is None here)."""
    current = facts.service.load_balancers[0] if facts.service.load_balancers else {}
    advanced: dict[str, Any] = {"alternateTargetGroupArn": alternate}
    for rule in rules:
        advanced[f"{rule.role}ListenerRule"] = rule.rule_arn
    advanced["roleArn"] = role_arn
    out = {k: v for k, v in current.items() if k in ("containerName", "containerPort")}
    return {"targetGroupArn": production or "", **out, "advancedConfiguration": advanced}


def _hooks_source(facts: MigrationFacts) -> str:
    if facts.hooks_source == "appspec":
        return "the hooks are those of the AppSpec given"
    if facts.hooks_source.startswith("deployment "):
        return f"the hooks were read from the AppSpec of {facts.hooks_source} (the last success)"
    return (
        "the group has no successful deployment: no hooks read; if the service's AppSpec has "
        + advice("hooks, pass appspec=", "hooks, give --appspec FILE")
    )


def _role_policy(
    facts: MigrationFacts,
    rules: tuple[RulePlan, ...],
    hooks: list[HookPlan],
    *,
    target_groups: tuple[str, ...],
    role_arn: str | None,
    hook_role_arn: str | None,
) -> IamPolicy:
    """The infrastructure role's least-privilege policy; the hook functions' invoke
    permission too when the hooks run with this role."""
    svc = facts.service
    groups = [tg for tg in target_groups if tg]
    listeners = [rule.listener_arn for rule in rules]
    functions = [h.function_arn for h in hooks] if hook_role_arn == role_arn else []
    if not groups or not listeners:
        return IamPolicy(
            feature=FEATURE,
            document={"Version": "2012-10-17", "Statement": []},
            notes=("the pair or its listeners could not be read: no policy",),
        )
    try:
        return infrastructure_policy(
            partition=svc.partition,
            region=svc.region,
            account=svc.account,
            target_groups=groups,
            listeners=listeners,
            rules=[r.rule_arn for r in rules if r.rule_arn and r.rule_arn != r.listener_arn],
            hook_functions=functions,
        )
    except ValidationError as exc:
        return IamPolicy(
            feature=FEATURE,
            document={"Version": "2012-10-17", "Statement": []},
            notes=tuple(exc.problems),
        )
