"""What blocks a migration from CodeDeploy to ECS-native blue/green, found in what was read:
pure, no AWS call. Each check returns problems in words, every one at once, each saying what
to do; ``bluegreen.migration_plan`` gathers them into the plan.
"""

from __future__ import annotations

import datetime as dt

from bluegreen._advice import advice
from bluegreen.migration_facts import GroupFacts, ListenerFacts, MigrationFacts, RoleFacts
from bluegreen.migration_record import TAG_LIMIT, MigrationRecord, record_tags
from bluegreen.native_config import NATIVE_STRATEGIES

__all__ = [
    "listener_problems",
    "record_problems",
    "role_problems",
    "service_problems",
    "tag_room_problems",
]


def service_problems(facts: MigrationFacts) -> list[str]:
    """The controller, the deployment in flight, the task sets, the load balancers and the
    scaling a CodeDeploy release left suspended."""
    svc = facts.service
    where = f"service {svc.cluster}/{svc.service}"
    problems: list[str] = []
    if svc.controller == "ECS" and svc.strategy in NATIVE_STRATEGIES:
        problems.append(
            f"{where} is already migrated: ECS deploys it ({svc.strategy}); to go back to "
            "CodeDeploy, " + advice("call revert_migration()", "run `bluegreen migrate revert`")
        )
    elif svc.controller != "CODE_DEPLOY":
        problems.append(
            f"{where} is not a CodeDeploy service (deployment controller {svc.controller}, "
            f"strategy {svc.strategy or 'ROLLING'}): only a CODE_DEPLOY service migrates"
        )
    if svc.controller != "CODE_DEPLOY":
        return problems
    if facts.in_flight:
        problems.append(
            f"CodeDeploy deployment {facts.in_flight} is in flight: let it end (or stop it) "
            "and plan again"
        )
    task_sets = svc.task_sets
    if len(task_sets) != 1:
        problems.append(
            f"{where} has {len(task_sets)} task sets; ECS changes the deployment controller "
            'only with exactly one ("Updating the deployment controller is not supported '
            'when there are multiple tasksets in the service"): let the deployment end'
            + (" or its blue task set drain" if len(task_sets) > 1 else "")
        )
    elif svc.primary is None:
        problems.append(
            f"{where}'s task set is {task_sets[0].get('status')}, not PRIMARY; ECS changes the "
            "deployment controller only with a primary task set"
        )
    if len(svc.load_balancers) != 1:
        problems.append(
            f"{where} has {len(svc.load_balancers)} load balancers; ECS-native blue/green "
            "here takes exactly one (the CodeDeploy pair's)"
        )
    for record in facts.scaling_records:
        problems.append(
            f"a CodeDeploy release left the service's autoscaling suspended ({record}): "
            + advice(
                f"call bluegreen.recover({svc.cluster!r}, {svc.service!r})",
                f"run `bluegreen recover --cluster {svc.cluster} --service {svc.service}`",
            )
            + " first (native deployments suspend nothing)"
        )
    return problems


def group_problems(group: GroupFacts, production_tg: str | None) -> list[str]:
    """The deployment group's pair and deployment style."""
    g = group.group
    where = f"deployment group {g.application}/{g.name}"
    problems: list[str] = []
    if not g.is_blue_green:
        problems.append(f"{where} is not BLUE_GREEN WITH_TRAFFIC_CONTROL")
    if group.pair_count != 1:
        problems.append(
            f"{where} has {group.pair_count} target-group pairs; a migration maps exactly one"
        )
    if g.target_group_names is None:
        problems.append(f"{where} names no pair of target groups")
    elif len(group.target_group_arns) != 2:
        missing = [n for n in g.target_group_names if n not in group.target_group_arns]
        problems.append(f"{where}: target group(s) {', '.join(missing)} not found")
    elif production_tg is not None and production_tg not in group.target_group_arns.values():
        problems.append(
            f"the service's task set runs in {production_tg}, which is not one of {where}'s "
            f"target groups ({', '.join(g.target_group_names)})"
        )
    if not g.production_listener_arn:
        problems.append(f"{where} has no production listener")
    if group.traffic_problem:
        problems.append(group.traffic_problem)
    return problems


def listener_problems(
    listeners: tuple[ListenerFacts, ...], *, production: str, alternate: str
) -> list[str]:
    """Each listener forwards to the pair only, production to the live target group alone,
    and an ALB listener has a free priority for the rule."""
    problems: list[str] = []
    pair = {production, alternate}
    for listener in listeners:
        where = f"the {listener.role} listener {listener.arn}"
        if not listener.found:
            problems.append(f"{where} does not exist")
            continue
        if not listener.forward:
            problems.append(
                f"{where}'s default action does not forward; CodeDeploy routes with it, so it "
                "should forward to the pair"
            )
            continue
        outside = [tg for tg, _ in listener.forward if tg not in pair]
        if outside:
            problems.append(
                f"{where} forwards to {', '.join(outside)}, outside the pair: ECS would "
                "refuse the rule"
            )
        live = {tg for tg, weight in listener.forward if weight > 0}
        if listener.role == "production" and live != {production}:
            problems.append(
                f"{where} sends traffic to {', '.join(sorted(live)) or 'nothing'}, not only to "
                f"{production} where the service runs: a deployment may be half done"
            )
        if not listener.network and listener.free_priority is None:
            problems.append(f"{where} has no free rule priority left for the migration's rule")
    return problems


def role_problems(facts: MigrationFacts) -> list[str]:
    """The infrastructure role (given, or to be created) and the hook role."""
    problems: list[str] = []
    role, new, hook = facts.role, facts.create_role, facts.hook_role
    if role is None and new is None:
        problems.append(
            "no infrastructure role: ECS needs one to reweight the listener rules; "
            + advice(
                "pass role_arn= (a role ECS may assume) or create_role= (a name)",
                "give --role ARN or --create-role NAME",
            )
        )
    if role is not None:
        problems += _trust_problems(role, "the infrastructure role")
    if new is not None and new.exists:
        problems.append(
            f"role {new.name} exists already: "
            + advice("pass it as role_arn=", "give it as --role")
            + " (if ECS may assume it) or name another role to create"
        )
    if hook is not None:
        problems += _trust_problems(hook, "the hook role")
    return problems


def _trust_problems(role: RoleFacts, what: str) -> list[str]:
    if role.error:
        return [f"{what} {role.arn} cannot be checked ({role.error})"]
    if not role.exists:
        return [f"{what} {role.arn} does not exist"]
    if not role.trusts_ecs:
        return [
            f"{what} {role.arn} does not trust ecs.amazonaws.com: add it to the role's trust "
            "policy (sts:AssumeRole), or name another role"
        ]
    return []


def record_problems(facts: MigrationFacts) -> list[str]:
    """A migration record already on the service (a migration done or half done)."""
    found = record_tags(facts.service.tags)
    if not found:
        return []
    state = facts.service.tags.get("bluegreen:migration", "chunks only")
    return [
        f"a migration record is already on the service ({state}): a migration was applied "
        "or is half done; "
        + advice("call revert_migration() first", "run `bluegreen migrate revert` first")
    ]


def tag_room_problems(facts: MigrationFacts, *, listeners: tuple[str, ...]) -> list[str]:
    """Whether the record's tags fit beside the service's other tags (ECS: 50 at most)."""
    svc, group = facts.service, facts.group
    if group is None:
        return []
    record = MigrationRecord(
        state="applying",
        at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        token="0" * 12,
        controller=dict(svc.raw.get("deploymentController") or {}),
        deployment_configuration=dict(svc.raw.get("deploymentConfiguration") or {}),
        load_balancers=tuple(dict(lb) for lb in svc.load_balancers),
        application=group.group.application,
        deployment_group=group.group.name,
        listeners=listeners,
        role=facts.create_role.name if facts.create_role else None,
    )
    needed = len(record.to_tags())
    kept = len(set(svc.tags) - set(record_tags(svc.tags)))
    if kept + needed <= TAG_LIMIT:
        return []
    return [
        f"the migration record needs {needed} tags on the service and it has {kept} of "
        f"ECS's {TAG_LIMIT}: remove {kept + needed - TAG_LIMIT} tag(s) first"
    ]
