"""``revert_migration`` on the simulator: after an apply and native deployments the service is
back under CodeDeploy on the live target group, as it was configured before, and CodeDeploy
deploys it again; the deployment group is never touched. An apply killed at any step is
finished by a revert, and a revert killed half-way by a second one; a revert with nothing to
revert or a native deployment in flight changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploying import botocore_handlers
from test_migration_apply import (
    NEW_IMAGE,
    ROLE_NAME,
    Killed,
    apply,
    group,
    hand_plan,
    kill,
    nth,
    revert,
    service,
    state,
)

import bluegreen
from bluegreen.errors import ConflictError, ServiceConfigError, ValidationError
from bluegreen.migration_plan import plan_migration
from bluegreen.migration_record import CHUNK_SIZE, STATE_TAG, MigrationRecord


@pytest.fixture
def on_call(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """Register botocore handlers on the simulator's session for this test."""
    yield from botocore_handlers(sim)


def native_deploy(sim: Any, env: Any, image: str = NEW_IMAGE) -> str:
    deployment = bluegreen.deploy(
        env.cluster, env.service, image=image, clients=sim.clients(), clock=sim.clock
    )
    return str(deployment.id)


def record_of(sim: Any, env: Any) -> MigrationRecord | None:
    return MigrationRecord.from_tags({t["key"]: t["value"] for t in service(sim, env)["tags"]})


# -- after a completed apply ---------------------------------------------------------------


def test_revert_right_after_apply_puts_everything_back_exactly(sim, env):
    before = state(sim, env)
    apply(sim, hand_plan(sim, env))

    result = revert(sim, env)

    assert result.action == "revert"
    assert result.verified
    assert state(sim, env) == before


def test_revert_after_native_deploys_keeps_traffic_on_the_live_target_group(sim, env):
    before = state(sim, env)
    blue, green = env.target_group_arns
    apply(sim, hand_plan(sim, env))
    deployed = native_deploy(sim, env)
    assert sim.run_until_done(deployed) == "SUCCESSFUL"
    rule = service(sim, env)["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
    weights = sim.clients().elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]
    assert {g["TargetGroupArn"]: g["Weight"] for g in weights["ForwardConfig"]["TargetGroups"]} == {
        blue: 0,
        green: 100,
    }

    revert(sim, env)

    after = state(sim, env)
    assert after["controller"] == {"type": "CODE_DEPLOY"}
    assert after["configuration"] == before["configuration"]
    assert after["load_balancers"] == [{**before["load_balancers"][0], "targetGroupArn": green}]
    assert [(s[0], s[2][0]["targetGroupArn"]) for s in after["task_sets"]] == [("PRIMARY", green)]
    assert after["task_definition"] == service(sim, env)["taskSets"][0]["taskDefinition"]
    for defaults in after["defaults"]:
        assert defaults == [{"Type": "forward", "TargetGroupArn": green}]
    assert after["rules"] == [
        [("default", [{"Type": "forward", "TargetGroupArn": green}], [])] for _ in before["rules"]
    ]  # only the default rules, forwarding to the live target group
    assert after["roles"] == before["roles"]
    assert after["tags"] == before["tags"]
    assert after["group"] == before["group"]


def test_codedeploy_deploys_again_after_revert_and_the_group_was_never_changed(sim, env):
    before_group = group(sim, env)
    apply(sim, hand_plan(sim, env))
    assert sim.run_until_done(native_deploy(sim, env)) == "SUCCESSFUL"
    revert(sim, env)
    assert group(sim, env) == before_group

    deployment = bluegreen.deploy(
        env.cluster,
        env.service,
        image="public.ecr.aws/nginx/nginx:1.29",
        clients=sim.clients(),
        clock=sim.clock,
    )

    assert deployment.id.startswith("d-")
    assert sim.run_until_done(deployment.id) == "Succeeded"
    blue, _ = env.target_group_arns
    weights = sim.listener_weights(env.production_listener_arn)
    assert [arn for arn, weight in weights if weight] == [blue]  # green -> blue again


def test_a_second_revert_finds_nothing_to_revert_and_changes_nothing(sim, env):
    apply(sim, hand_plan(sim, env))
    revert(sim, env)
    after = state(sim, env)

    with pytest.raises(ConflictError, match="nothing to revert"):
        revert(sim, env)

    assert state(sim, env) == after


def test_revert_is_refused_while_a_native_deployment_is_in_flight(sim, env):
    apply(sim, hand_plan(sim, env))
    deployed = native_deploy(sim, env)
    during = state(sim, env)

    with pytest.raises(ConflictError) as refused:
        revert(sim, env)

    assert refused.value.deployment_id == deployed
    after = state(sim, env)
    assert after["controller"] == {"type": "ECS"}
    assert after["tags"] == during["tags"]
    assert sim.run_until_done(deployed) == "SUCCESSFUL"
    assert revert(sim, env).verified


# -- after a killed apply --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "count"),
    [
        ("after-call.ecs.TagResource", 1),
        ("after-call.iam.CreateRole", 1),
        ("after-call.iam.PutRolePolicy", 1),
        ("after-call.elastic-load-balancing-v2.CreateRule", 1),
        ("after-call.elastic-load-balancing-v2.CreateRule", 2),
        ("after-call.ecs.UpdateService", 1),
        ("before-call.ecs.TagResource", 2),
    ],
    ids=[
        "record",
        "role",
        "role-policy",
        "production-rule",
        "test-rule",
        "update-service",
        "before-applied",
    ],
)
def test_an_apply_killed_after_a_step_is_finished_by_revert(sim, env, on_call, event, count):
    before = state(sim, env)
    on_call(event, nth(count, kill))

    with pytest.raises(Killed):
        apply(sim, hand_plan(sim, env))

    assert STATE_TAG in {t["key"] for t in service(sim, env)["tags"]}
    result = revert(sim, env)

    assert result.verified
    assert state(sim, env) == before


def test_a_codedeploy_deploy_is_refused_while_a_killed_apply_left_its_rules(sim, env, on_call):
    on_call("after-call.elastic-load-balancing-v2.CreateRule", nth(2, kill))
    with pytest.raises(Killed):
        apply(sim, hand_plan(sim, env))
    before = state(sim, env)

    with pytest.raises(ValidationError, match="migrate revert") as refused:
        bluegreen.deploy(
            env.cluster, env.service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
        )

    assert "half-way" in str(refused.value)
    assert state(sim, env) == before
    assert revert(sim, env).verified


def test_an_apply_killed_before_its_record_changed_nothing_and_revert_says_so(sim, env, on_call):
    before = state(sim, env)
    on_call("before-call.ecs.TagResource", nth(1, kill))

    with pytest.raises(Killed):
        apply(sim, hand_plan(sim, env))

    with pytest.raises(ConflictError, match="nothing to revert"):
        revert(sim, env)
    assert state(sim, env) == before


# -- a killed revert --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        "after-call.ecs.TagResource",
        "after-call.elastic-load-balancing-v2.ModifyListener",
        "after-call.ecs.UpdateService",
        "after-call.elastic-load-balancing-v2.DeleteRule",
        "after-call.iam.DeleteRole",
        "before-call.ecs.UntagResource",
    ],
    ids=["marked", "listener", "update-service", "rule", "role", "record"],
)
def test_a_revert_killed_half_way_is_finished_by_a_second_one(sim, env, on_call, event):
    before = state(sim, env)
    _blue, green = env.target_group_arns
    apply(sim, hand_plan(sim, env))
    assert sim.run_until_done(native_deploy(sim, env)) == "SUCCESSFUL"
    on_call(event, nth(1, kill))

    with pytest.raises(Killed):
        revert(sim, env)

    assert record_of(sim, env) is not None
    assert revert(sim, env).verified
    after = state(sim, env)
    assert after["controller"] == before["controller"]
    assert after["configuration"] == before["configuration"]
    assert after["tags"] == before["tags"]
    assert after["roles"] == before["roles"]
    assert [len(rules) for rules in after["rules"]] == [1, 1]
    assert [s[2][0]["targetGroupArn"] for s in after["task_sets"]] == [green]
    assert after["group"] == before["group"]


def test_a_lost_answer_during_revert_is_looked_for(sim, env):
    before = state(sim, env)
    apply(sim, hand_plan(sim, env))
    sim.faults.reset("UpdateService", service="ecs", when="after", count=1)
    sim.faults.reset("DeleteRule", service="elasticloadbalancing", when="after", count=1)

    assert revert(sim, env).verified
    assert state(sim, env) == before


def test_an_apply_killed_during_its_verify_deployment_is_reverted_once_it_ended(sim, env, on_call):
    before = state(sim, env)
    on_call("after-call.ecs.UpdateService", nth(2, kill))  # the no-op deployment started

    with pytest.raises(Killed):
        apply(sim, hand_plan(sim, env), verify="deploy")

    with pytest.raises(ConflictError) as refused:
        revert(sim, env)
    assert refused.value.deployment_id is not None
    assert sim.run_until_done(refused.value.deployment_id) == "SUCCESSFUL"
    assert revert(sim, env).verified
    after = state(sim, env)
    _, green = env.target_group_arns  # the no-op deployment moved production to green
    assert after["load_balancers"] == [{**before["load_balancers"][0], "targetGroupArn": green}]
    assert [s[2][0]["targetGroupArn"] for s in after["task_sets"]] == [green]
    for key in ("controller", "configuration", "task_definition", "tags", "roles", "group"):
        assert after[key] == before[key]


def test_ctrl_c_during_apply_undoes_it(sim, env, on_call):
    before = state(sim, env)

    def interrupt() -> None:
        raise KeyboardInterrupt

    on_call("before-call.elastic-load-balancing-v2.CreateRule", nth(2, interrupt))

    with pytest.raises(KeyboardInterrupt) as stopped:
        apply(sim, hand_plan(sim, env))

    assert "migration record removed" in stopped.value.undone  # type: ignore[attr-defined]
    assert state(sim, env) == before


# -- the record -------------------------------------------------------------------------------


def test_the_record_round_trips_through_tags_ecs_accepts():
    record = MigrationRecord(
        state="applying",
        at=dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC),
        token="ab12cd34ef56",
        controller={"type": "CODE_DEPLOY"},
        deployment_configuration={"maximumPercent": 200, "minimumHealthyPercent": 100},
        load_balancers=({"targetGroupArn": "arn:aws:elasticloadbalancing:x" * 20},),
        application="AppECS-prod-web ü",
        deployment_group="DgpECS-prod-web",
        listeners=("arn:listener/1", "arn:listener/2"),
        role="infra",
    )

    tags = record.to_tags()

    assert len(tags) > 2
    assert all(
        len(v) <= CHUNK_SIZE and re.fullmatch(r"[A-Za-z0-9 +\-=._:/@]*", v) for v in tags.values()
    )
    assert tags[STATE_TAG] == f"applying 2026-12-03T02:00:00Z n={len(tags) - 1} id=ab12cd34ef56"
    assert MigrationRecord.from_tags({**tags, "team": "web"}) == record
    with pytest.raises(ValidationError, match="do not hold a record"):
        MigrationRecord.from_tags({STATE_TAG: "applied yesterday"})


def test_a_service_without_room_for_the_record_is_refused_before_any_change(sim, env):
    clients = sim.clients()
    clients.ecs.tag_resource(
        resourceArn=env.service_arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(47)]
    )
    before = state(sim, env)

    with pytest.raises(ServiceConfigError, match="ECS allows 50"):
        apply(sim, hand_plan(sim, env))

    assert state(sim, env) == before


# -- with the plan plan_migration makes ---------------------------------------------------------


def test_a_planned_canary_with_a_ready_wait_applies_verifies_deploys_and_reverts(sim):
    env = sim.create_environment(
        deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes", ready_wait_minutes=30
    )
    before = state(sim, env)
    plan = plan_migration(
        env.cluster, env.service, create_role=ROLE_NAME, clients=sim.clients(), clock=sim.clock
    )
    assert plan.ok

    applied = apply(sim, plan, accept_differences=True, verify="deploy")

    assert applied.verify_deployment is not None
    assert service(sim, env)["deploymentConfiguration"]["strategy"] == "CANARY"
    deployed = native_deploy(sim, env)
    following = bluegreen.Deployment.attach(deployed, clients=sim.clients(), clock=sim.clock)
    following.wait("ready")
    following.promote()  # the ready wait became a PAUSE hook
    assert sim.run_until_done(deployed) == "SUCCESSFUL"
    assert revert(sim, env).verified
    after = state(sim, env)
    for key in ("controller", "configuration", "load_balancers", "tags", "roles", "group"):
        assert after[key] == before[key]  # two deployments since: blue serves again
    assert [s[2] for s in after["task_sets"]] == [s[2] for s in before["task_sets"]]


def test_no_environment_value_reaches_a_plan_step_result_or_record(sim, env):
    secret = "SENTINEL-MIGRATION-ENV-7f3a"
    clients = sim.clients()
    current = clients.ecs.describe_task_definition(taskDefinition=env.task_definition_arn)
    definition = current["taskDefinition"]
    container = dict(definition["containerDefinitions"][0])
    container["environment"] = [{"name": "API_TOKEN", "value": secret}]
    registered = clients.ecs.register_task_definition(
        family=definition["family"],
        networkMode=definition["networkMode"],
        requiresCompatibilities=definition["requiresCompatibilities"],
        cpu=definition["cpu"],
        memory=definition["memory"],
        executionRoleArn=definition["executionRoleArn"],
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]
    first = bluegreen.deploy(
        env.cluster, env.service, task_definition=registered, clients=clients, clock=sim.clock
    )
    first.wait()  # and scaling restored
    told: list[str] = []

    plan = plan_migration(
        env.cluster, env.service, create_role=ROLE_NAME, clients=sim.clients(), clock=sim.clock
    )
    applied = apply(sim, plan, accept_differences=True, verify="deploy", on_step=told.append)
    tags = str(service(sim, env)["tags"])
    reverted = revert(sim, env, on_step=told.append)

    texts = [*told, plan.describe(), str(plan.to_dict()), str(applied.to_dict()), tags]
    texts += [str(reverted.to_dict()), str(MigrationRecord.from_tags({}))]
    assert not [t for t in texts if secret in t]


def test_an_apply_that_loses_a_race_while_writing_its_record_leaves_a_record_revert_uses(
    sim, env, on_call
):
    before = state(sim, env)
    plan = hand_plan(sim, env)
    other: list[Any] = []
    # The other apply runs whole between this one's last look and its record's TagResource.
    on_call("before-call.ecs.TagResource", nth(1, lambda: other.append(apply(sim, plan))))

    with pytest.raises(ConflictError, match="at the same time"):
        apply(sim, plan)

    assert other[0].verified
    assert service(sim, env)["deploymentController"] == {"type": "ECS"}
    record = record_of(sim, env)
    assert record is not None
    assert record.deployment_configuration == before["configuration"]
    assert revert(sim, env).verified
    assert state(sim, env) == before
