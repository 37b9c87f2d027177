"""``apply_migration`` on the simulator: the sample CodeDeploy service moves to ECS-native
blue/green and deploys natively afterwards; a failure at any step (the role, each rule,
UpdateService, either check) leaves the service, its listeners, rules and roles exactly as
before; a lost answer never creates twice; a CodeDeploy deployment or another migration in
flight refuses it before any change; no environment value reaches any output.

Plans are built by hand from the sample environment (``hand_plan``), as ``plan_migration``
would build them, so these tests depend only on the plan's shape.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploying import botocore_handlers

import bluegreen
from bluegreen.errors import AWSError, ConflictError, DeploymentError, ValidationError
from bluegreen.iam import IamPolicy
from bluegreen.migration_apply import apply_migration
from bluegreen.migration_model import MigrationPlan, RulePlan
from bluegreen.migration_record import MigrationRecord
from bluegreen.migration_revert import revert_migration

ACCOUNT = "123456789012"
ROLE_NAME = "bluegreen-web-infrastructure"
HOOK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsLambdaInvokeRole"
NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
POLICY = IamPolicy(
    feature="migrate",
    document={
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "elasticloadbalancing:Describe*", "Resource": "*"}
        ],
    },
)


class Killed(BaseException):
    """The process dies here: nothing after it runs (not even an undo)."""


# -- helpers shared with test_migration_revert ----------------------------------------------


def service(sim: Any, env: Any) -> dict[str, Any]:
    answer = sim.clients().ecs.describe_services(
        cluster=env.cluster, services=[env.service], include=["TAGS"]
    )
    return dict(answer["services"][0])


def hand_plan(
    sim: Any,
    env: Any,
    *,
    create_role: str | None = ROLE_NAME,
    role_arn: str | None = None,
    hooks: tuple[dict[str, Any], ...] = (),
    differences: tuple[str, ...] = (),
    problems: tuple[str, ...] = (),
) -> MigrationPlan:
    """The plan ``plan_migration`` makes for the sample service: BLUE_GREEN, bake 5 minutes,
    a rule on each listener forwarding to the live target group (and the other at 0)."""
    now = service(sim, env)
    live = now["taskSets"][0]["loadBalancers"][0]["targetGroupArn"]
    other = next(arn for arn in env.target_group_arns if arn != live)
    forward = ((live, 100), (other, 0))
    rules = [
        RulePlan(
            role="production",
            listener_arn=env.production_listener_arn,
            rule_arn=None,
            priority=50000,
            forward=forward,
        )
    ]
    if env.test_listener_arn:
        rules.append(
            RulePlan(
                role="test",
                listener_arn=env.test_listener_arn,
                rule_arn=None,
                priority=50000,
                forward=forward,
            )
        )
    role = role_arn or f"arn:aws:iam::{ACCOUNT}:role/{create_role}"
    configuration: dict[str, Any] = {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 5,
    }
    if hooks:
        configuration["lifecycleHooks"] = list(hooks)
    return MigrationPlan(
        cluster=env.cluster,
        service=env.service,
        service_arn=env.service_arn,
        application=env.application,
        deployment_group=env.deployment_group,
        deployment_config_name="CodeDeployDefault.ECSAllAtOnce",
        production_target_group=live,
        alternate_target_group=other,
        rules=tuple(rules),
        hooks=(),
        role_arn=role,
        create_role=create_role,
        hook_role_arn=HOOK_ROLE if hooks else None,
        deployment_configuration=configuration,
        load_balancer={
            "targetGroupArn": live,
            "containerName": env.container_name,
            "containerPort": env.container_port,
            "advancedConfiguration": {
                "alternateTargetGroupArn": other,
                "productionListenerRule": None,
                "testListenerRule": None,
                "roleArn": role,
            },
        },
        before={
            k: now.get(k)
            for k in ("deploymentController", "deploymentConfiguration", "loadBalancers")
        },
        role_policy=POLICY,
        trust_policy=TRUST,
        items=(),
        problems=problems,
        differences=differences,
    )


def apply(sim: Any, plan: MigrationPlan, **kwargs: Any) -> Any:
    return apply_migration(plan, clients=sim.clients(), clock=sim.clock, **kwargs)


def revert(sim: Any, env: Any, **kwargs: Any) -> Any:
    return revert_migration(
        env.cluster, env.service, clients=sim.clients(), clock=sim.clock, **kwargs
    )


def state(sim: Any, env: Any) -> dict[str, Any]:
    """Everything a migration may touch, as AWS describes it (task set ids left out: a
    revert makes a new PRIMARY task set of the same revision on the same target group)."""
    clients = sim.clients()
    now = service(sim, env)
    listeners = [a for a in (env.production_listener_arn, env.test_listener_arn) if a]
    return {
        "controller": now.get("deploymentController"),
        "configuration": now.get("deploymentConfiguration"),
        "load_balancers": now.get("loadBalancers"),
        "task_definition": now.get("taskDefinition"),
        "task_sets": [
            (s["status"], s["taskDefinition"], s.get("loadBalancers"), s.get("scale"))
            for s in now.get("taskSets") or ()
        ],
        "tags": now.get("tags"),
        "defaults": [
            clients.elbv2.describe_listeners(ListenerArns=[a])["Listeners"][0]["DefaultActions"]
            for a in listeners
        ],
        "rules": [
            [
                (r["Priority"], r["Actions"], r["Conditions"])
                for r in clients.elbv2.describe_rules(ListenerArn=a)["Rules"]
            ]
            for a in listeners
        ],
        "roles": sorted(r["RoleName"] for r in clients.client("iam").list_roles()["Roles"]),
        "group": group(sim, env),
    }


def group(sim: Any, env: Any) -> dict[str, Any]:
    return dict(
        sim.clients().codedeploy.get_deployment_group(
            applicationName=env.application, deploymentGroupName=env.deployment_group
        )["deploymentGroupInfo"]
    )


def codedeploy_writes(sim: Any, since: int) -> list[str]:
    """The CodeDeploy operations that change something, among the calls after ``since``."""
    return [
        op
        for _, signing, op in list(sim.calls)[since:]
        if signing == "codedeploy" and not op.startswith(("Get", "List", "BatchGet"))
    ]


def failing(code: str = "ValidationError", message: str = "refused (simulated)") -> Any:
    """A botocore ``before-call`` answer: AWS refused the call."""
    response = types.SimpleNamespace(status_code=400, headers={})
    return response, {"Error": {"Code": code, "Message": message}}


@pytest.fixture
def on_call(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """Register botocore handlers on the simulator's session for this test."""
    yield from botocore_handlers(sim)


def nth(count: int, action: Callable[[], Any]) -> Callable[..., Any]:
    """A handler that does ``action`` on its ``count``-th call (1-based) only."""
    calls = [0]

    def handler(**kwargs: Any) -> Any:
        calls[0] += 1
        return action() if calls[0] == count else None

    return handler


def kill() -> Any:
    raise Killed


# -- a migration that works ------------------------------------------------------------------


def test_apply_moves_the_service_to_native_blue_green_and_a_native_deploy_then_works(sim, env):
    plan = hand_plan(sim, env)
    told: list[str] = []
    since = len(sim.calls)

    result = apply(sim, plan, on_step=told.append)

    assert result.action == "apply"
    assert result.verified
    assert not result.undone
    assert list(result.steps) == told
    now = service(sim, env)
    assert now["deploymentController"] == {"type": "ECS"}
    assert now["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    advanced = now["loadBalancers"][0]["advancedConfiguration"]
    assert advanced["roleArn"].endswith(f":role/{ROLE_NAME}")
    assert ":listener-rule/" in advanced["productionListenerRule"]
    assert ":listener-rule/" in advanced["testListenerRule"]
    tags = {t["key"]: t["value"] for t in now["tags"]}
    record = MigrationRecord.from_tags(tags)
    assert record is not None
    assert record.state == "applied"
    assert record.controller == {"type": "CODE_DEPLOY"}
    assert record.deployment_configuration == plan.before["deploymentConfiguration"]
    assert codedeploy_writes(sim, since) == []
    live = plan.production_target_group
    weights = sim.listener_weights(env.production_listener_arn)
    assert [arn for arn, weight in weights if weight] == [live]

    deployment = bluegreen.deploy(
        env.cluster, env.service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
    )
    assert deployment.id.startswith("arn:aws:ecs:")
    assert sim.run_until_done(deployment.id) == "SUCCESSFUL"


def test_apply_verified_by_a_no_op_native_deployment_names_it(sim, env):
    result = apply(sim, hand_plan(sim, env), verify="deploy")

    assert result.verify_deployment is not None
    assert sim.service_deployment(result.verify_deployment).status == "SUCCESSFUL"
    assert any("verify deployment" in step for step in result.steps)
    assert service(sim, env)["taskDefinition"] == env.task_definition_arn


def test_apply_with_a_given_role_creates_no_role(sim, env):
    role = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
    roles = state(sim, env)["roles"]

    apply(sim, hand_plan(sim, env, create_role=None, role_arn=role))

    assert state(sim, env)["roles"] == roles
    advanced = service(sim, env)["loadBalancers"][0]["advancedConfiguration"]
    assert advanced["roleArn"] == role


# -- refused before any change --------------------------------------------------------------


def test_a_plan_with_problems_or_unaccepted_differences_is_refused_listing_all(sim, env):
    plan = hand_plan(sim, env, problems=("no room",), differences=("hooks run at every step",))
    before = state(sim, env)
    calls = len(list(sim.api_calls()))

    with pytest.raises(ValidationError) as refused:
        apply(sim, plan, verify="later")  # type: ignore[arg-type]

    assert len(refused.value.problems) == 3
    assert "no room" in str(refused.value)
    assert "--accept-differences" in str(refused.value)
    assert "verify='later'" in str(refused.value)
    assert len(list(sim.api_calls())) == calls
    assert state(sim, env) == before


def test_accepted_differences_apply(sim, env):
    plan = hand_plan(sim, env, differences=("hooks run at every step",))
    assert apply(sim, plan, accept_differences=True).verified


def test_apply_is_refused_while_a_codedeploy_deployment_is_in_flight(sim, env):
    plan = hand_plan(sim, env)
    deployment = bluegreen.deploy(
        env.cluster, env.service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
    )
    before = state(sim, env)

    with pytest.raises(ConflictError) as refused:
        apply(sim, plan)

    assert refused.value.deployment_id == deployment.id
    assert state(sim, env) == before
    sim.run_until_done(deployment.id)


def test_apply_after_a_codedeploy_release_since_the_plan_is_refused(sim, env):
    plan = hand_plan(sim, env)
    deployment = bluegreen.deploy(
        env.cluster, env.service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
    )
    sim.run_until_done(deployment.id)
    before = state(sim, env)

    with pytest.raises(ConflictError, match="changed since the plan"):
        apply(sim, plan)

    assert state(sim, env) == before


def test_a_second_apply_is_refused_while_the_first_is_in_flight_and_nothing_is_half_done(
    sim, env, on_call
):
    plan = hand_plan(sim, env)
    refusals: list[BaseException] = []

    def second_apply() -> None:
        try:
            apply(sim, plan)
        except ConflictError as exc:
            refusals.append(exc)

    on_call("before-call.elastic-load-balancing-v2.CreateRule", nth(1, second_apply))

    first = apply(sim, plan)

    assert first.verified
    (refused,) = refusals
    assert "migration record" in str(refused)
    listener_rules = sim.clients().elbv2.describe_rules(ListenerArn=env.production_listener_arn)
    assert len(listener_rules["Rules"]) == 2  # the default and one created
    record = MigrationRecord.from_tags({t["key"]: t["value"] for t in service(sim, env)["tags"]})
    assert record is not None
    assert record.state == "applied"


def test_a_second_apply_after_the_first_is_refused_as_already_migrated(sim, env):
    plan = hand_plan(sim, env)
    apply(sim, plan)
    after = state(sim, env)

    with pytest.raises(ConflictError, match="migration record"):
        apply(sim, plan)

    assert state(sim, env) == after


# -- a failure at each step leaves everything as it was -------------------------------------


@pytest.mark.parametrize(
    ("event", "count"),
    [
        ("before-call.iam.CreateRole", 1),
        ("before-call.iam.PutRolePolicy", 1),
        ("before-call.elastic-load-balancing-v2.CreateRule", 1),
        ("before-call.elastic-load-balancing-v2.CreateRule", 2),
        ("before-call.ecs.UpdateService", 1),
    ],
    ids=["role", "role-policy", "production-rule", "test-rule", "update-service"],
)
def test_a_refused_step_is_undone_and_leaves_the_service_exactly_as_before(
    sim, env, on_call, event, count
):
    plan = hand_plan(sim, env)
    before = state(sim, env)
    since = len(sim.calls)
    on_call(event, nth(count, failing))

    with pytest.raises(AWSError) as failed:
        apply(sim, plan)

    assert state(sim, env) == before
    assert "migration record removed" in failed.value.undone  # type: ignore[attr-defined]
    assert any(note.startswith("undone: ") for note in failed.value.__notes__)
    assert codedeploy_writes(sim, since) == []


def test_a_failed_describe_check_is_undone_after_the_controller_changed(sim, env, on_call):
    plan = hand_plan(sim, env)
    before = state(sim, env)

    def a_deployment_in_flight() -> Any:
        arn = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service-deployment/prod/web/someone"
        brief = {"serviceDeploymentArn": arn, "status": "IN_PROGRESS"}
        return types.SimpleNamespace(status_code=200, headers={}), {"serviceDeployments": [brief]}

    on_call("before-call.ecs.ListServiceDeployments", nth(1, a_deployment_in_flight))

    with pytest.raises(AWSError, match="not as the migration planned") as failed:
        apply(sim, plan)

    undone = failed.value.undone  # type: ignore[attr-defined]
    assert any("back on the CODE_DEPLOY controller" in step for step in undone)
    assert state(sim, env) == before


def test_a_verify_deployment_failing_through_a_hook_is_undone(sim, env):
    def refuse(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"hookStatus": "FAILED"}

    sim.register_hook("refuse", refuse)
    hook = {
        "hookTargetArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:refuse",
        "roleArn": HOOK_ROLE,
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    }
    plan = hand_plan(sim, env, hooks=(hook,))
    before = state(sim, env)

    with pytest.raises(DeploymentError) as failed:
        apply(sim, plan, verify="deploy")

    assert any("migration record removed" in s for s in failed.value.undone)  # type: ignore[attr-defined]
    assert state(sim, env) == before


# -- lost answers never create twice --------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "signing"),
    [
        ("CreateRole", "iam"),
        ("CreateRule", "elasticloadbalancing"),
        ("UpdateService", "ecs"),
        ("TagResource", "ecs"),
    ],
)
def test_a_lost_answer_is_looked_for_and_never_repeated(sim, env, operation, signing):
    plan = hand_plan(sim, env)
    sim.faults.reset(operation, service=signing, when="after", count=1)

    result = apply(sim, plan)

    assert result.verified
    assert sim.faults.injected["reset_after"] == 1
    rules = sim.clients().elbv2.describe_rules(ListenerArn=env.production_listener_arn)["Rules"]
    assert len(rules) == 2
    assert state(sim, env)["roles"].count(ROLE_NAME) == 1


def test_an_nlb_apply_refused_at_update_service_puts_the_listener_default_actions_back(
    sim, on_call
):
    from bluegreen.migration_plan import plan_migration

    env = sim.create_environment(load_balancer="network")
    plan = plan_migration(
        env.cluster, env.service, create_role=ROLE_NAME, clients=sim.clients(), clock=sim.clock
    )
    assert [r.modify_listener for r in plan.rules] == [True, True]
    before = state(sim, env)
    on_call("before-call.ecs.UpdateService", nth(1, failing))

    with pytest.raises(AWSError) as failed:
        apply(sim, plan, accept_differences=True)

    undone = failed.value.undone  # type: ignore[attr-defined]
    assert sum("default action now forwards" in step for step in undone) == 2
    assert state(sim, env) == before


def test_a_rule_priority_taken_since_the_plan_is_refused_and_undone(sim, env):
    plan = hand_plan(sim, env)
    blue, _ = env.target_group_arns
    sim.clients().elbv2.create_rule(
        ListenerArn=env.test_listener_arn,
        Priority=50000,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/new/*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": blue}],
    )
    before = state(sim, env)

    with pytest.raises(ConflictError, match="taken since the plan") as refused:
        apply(sim, plan)

    assert "migration record removed" in refused.value.undone  # type: ignore[attr-defined]
    assert state(sim, env) == before
