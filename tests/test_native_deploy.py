"""``plan`` and ``deploy`` on an ECS-native blue/green service: no group, no AppSpec; the
revision registered, then one UpdateService, and the service deployment it started returned
as a ``Deployment``. Every problem is found before any change."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.deploying import deploy, plan
from bluegreen.errors import ServiceConfigError
from bluegreen.traffic import TrafficConfig

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
ROLE = "arn:aws:iam::123456789012:role/ecsLambdaHooks"


def _native(sim: Any, **options: Any) -> Any:
    env = sim.create_environment(native=True, **options)
    assert env.native is not None
    return env


def _plan(sim: Any, env: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("image", NEW_IMAGE)
    return plan(env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock, **kwargs)


def _deploy(sim: Any, env: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("image", NEW_IMAGE)
    return deploy(env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock, **kwargs)


def _service(sim: Any, env: Any) -> dict[str, Any]:
    return dict(
        sim.clients().ecs.describe_services(cluster=env.cluster, services=[env.native.service])[
            "services"
        ][0]
    )


def _deployments(sim: Any, env: Any) -> set[str]:
    listed = sim.clients().ecs.list_service_deployments(
        cluster=env.cluster, service=env.native.service
    )["serviceDeployments"]
    return {d["serviceDeploymentArn"] for d in listed}


def _calls(sim: Any, operation: str) -> int:
    return sum(1 for *_, op in sim.api_calls("ecs") if op == operation)


def test_deploy_to_success_on_blue_green_registers_and_updates_the_service_once(sim):
    env = _native(sim)
    before = _service(sim, env)["deploymentConfiguration"]
    registered = _calls(sim, "RegisterTaskDefinition")

    deployment = _deploy(sim, env)

    assert deployment.id.startswith("arn:aws:ecs:us-east-1:123456789012:service-deployment/")
    assert _calls(sim, "UpdateService") == 1
    assert _calls(sim, "RegisterTaskDefinition") == registered + 1
    sim.run_until_done(deployment.id)
    assert sim.service_deployment(deployment.id).status == "SUCCESSFUL"
    service = _service(sim, env)
    assert service["taskDefinition"].endswith("web-native:2")
    assert service["deploymentConfiguration"] == before  # not sent: left as it was


def test_deploy_with_a_canary_traffic_config_sends_the_whole_configuration(sim):
    env = _native(sim)

    deployment = _deploy(sim, env, traffic_config=TrafficConfig.canary(10, 5))

    sim.run_until_done(deployment.id)
    assert sim.service_deployment(deployment.id).status == "SUCCESSFUL"
    configuration = _service(sim, env)["deploymentConfiguration"]
    assert configuration["strategy"] == "CANARY"
    assert configuration["canaryConfiguration"] == {
        "canaryPercent": 10.0,
        "canaryBakeTimeInMinutes": 5,
    }
    assert configuration["bakeTimeInMinutes"] == 5  # the service's, kept
    assert configuration["alarms"]["alarmNames"] == ["web-native-5xx"]  # kept


def test_a_canary_service_deploys_with_its_own_strategy(sim):
    env = _native(sim, native_strategy="CANARY", native_percent=10, native_step_minutes=5)

    the_plan = _plan(sim, env)
    deployment = _deploy(sim, env)

    assert the_plan.ok, the_plan.problems
    assert the_plan.strategy.summary.startswith("CANARY 10%, the rest 5 min later")
    assert not the_plan.changes_strategy
    sim.run_until_done(deployment.id)
    assert sim.service_deployment(deployment.id).status == "SUCCESSFUL"


def test_the_plan_says_the_kind_and_what_will_change_without_an_appspec(sim):
    env = _native(sim)

    the_plan = _plan(sim, env, traffic_config=TrafficConfig.linear(25, 2))
    document = the_plan.to_dict()
    text = the_plan.text()

    assert the_plan.ok, the_plan.problems
    assert the_plan.kind == "ecs"
    assert the_plan.appspec is None
    assert document["kind"] == "ecs"
    assert document["strategy"]["strategy"] == "LINEAR"
    assert document["strategy"]["sent_by_deploy"] is True
    assert [s["green_percent"] for s in document["strategy"]["steps"]] == [25, 50, 75, 100]
    assert "kind              ECS-native blue/green (UpdateService)" in text
    assert "LINEAR 25% every 2 min; bake 5 min (sent with UpdateService, the rest" in text
    assert "AppSpec" not in text
    assert "deployment group" not in text
    assert "scaling is left alone on an ECS-native service" in text
    assert _calls(sim, "UpdateService") == 0


def test_hooks_become_native_stages_with_the_given_role(sim):
    env = _native(sim)
    called: list[str] = []

    def verify(event: dict[str, Any], context: Any) -> dict[str, Any]:
        called.append(event.get("lifecycleStage", "?"))
        return {"hookStatus": "SUCCEEDED"}

    sim.register_hook("verify", verify)

    deployment = _deploy(sim, env, hooks={"AfterAllowTestTraffic": "verify"}, hook_role=ROLE)

    [hook] = _service(sim, env)["deploymentConfiguration"]["lifecycleHooks"]
    assert hook["lifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    assert hook["roleArn"] == ROLE
    assert hook["hookTargetArn"].startswith("arn:aws:lambda:")
    assert ":verify" in hook["hookTargetArn"]
    sim.run_until_done(deployment.id)
    assert sim.service_deployment(deployment.id).status == "SUCCESSFUL"
    assert called


def test_every_problem_is_found_at_once_and_nothing_changes(sim):
    env = _native(sim)
    native = env.native
    first = _deploy(sim, env)  # in flight
    # The production rule forwards to blue only: ECS would roll the deployment back.
    sim.clients().elbv2.modify_rule(
        RuleArn=native.production_rule_arn,
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [{"TargetGroupArn": native.target_group_arns[0], "Weight": 1}]
                },
            }
        ],
    )
    updates = _calls(sim, "UpdateService")
    registered = _calls(sim, "RegisterTaskDefinition")

    the_plan = _plan(
        sim,
        env,
        image="public.ecr.aws/nginx/nginx:1.29",
        traffic_config="MyCanary",
        hooks={"AfterAllowTestTraffic": "missing-function", "AllowTraffic": "x"},
        auto_rollback=False,
    )
    with pytest.raises(ServiceConfigError) as refused:
        _deploy(sim, env, image="public.ecr.aws/nginx/nginx:1.29", traffic_config="MyCanary")

    problems = "\n".join(the_plan.problems)
    assert f"service deployment {first.id}" in problems
    assert "in flight" in problems
    assert "does not forward to web-native-green" in problems
    assert "'MyCanary' is a CodeDeploy deployment config name" in problems
    assert "needs a role ECS assumes to invoke it" in problems
    assert "'missing-function' does not exist" in problems
    assert "hook event 'AllowTraffic' has no ECS-native stage" in problems
    assert "auto_rollback= is CodeDeploy's" in problems
    assert f"service deployment {first.id}" in str(refused.value)
    assert _calls(sim, "UpdateService") == updates
    assert _calls(sim, "RegisterTaskDefinition") == registered


def test_a_service_without_advanced_configuration_is_refused(sim):
    # ECS refuses to create one (the simulator too), so the state is made by hand.
    import attrs

    from bluegreen.discovery import discover
    from bluegreen.native_preflight import NativePlanner

    env = _native(sim)
    state = discover(env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock)
    bare = attrs.evolve(state, advanced_routing=None, production=None, test=None)
    planner = NativePlanner(
        sim.clients(),
        None,
        NEW_IMAGE,
        None,
        None,
        None,
        None,
        None,
        False,  # type: ignore[arg-type]
    )

    planner._check_routing(bare)

    assert any("no load balancer of it has an advancedConfiguration" in p for p in planner.problems)


def test_a_lost_update_service_answer_is_found_again_not_sent_twice(sim):
    env = _native(sim)
    before = _deployments(sim, env)
    sim.faults.reset("UpdateService", service="ecs", when="after", count=1)

    deployment = _deploy(sim, env)

    assert sim.faults.injected == {"reset_after": 1}
    assert _calls(sim, "UpdateService") == 1
    assert _deployments(sim, env) - before == {deployment.id}
    sim.run_until_done(deployment.id)
    assert sim.service_deployment(deployment.id).status == "SUCCESSFUL"


def test_deploy_with_an_analysis_on_a_native_canary_judges_it_and_rolls_a_bad_one_back():
    from bluegreen.analysis import Analysis, Metric
    from bluegreen.errors import DeploymentError
    from bluegreen.testing import Simulator, Traffic

    bad = "public.ecr.aws/nginx/nginx:1.29-bad"
    five_xx = Metric(
        name="5xx rate",
        metric="HTTPCode_Target_5XX_Count",
        per="RequestCount",
        tolerance=0.01,
        critical=True,
    )
    critical = Analysis(metrics=[five_xx], window=60, minimum_sample=50)
    with Simulator(traffic=Traffic(requests_per_minute=2000, seed=7)) as sim:
        env = _native(
            sim, native_strategy="CANARY", native_percent=10, native_step_minutes=5, alarms=False
        )
        sim.traffic.behave(bad, error_rate=0.3)

        the_plan = _plan(sim, env, image=bad, analysis=critical)
        assert not the_plan.problems
        assert any("StopServiceDeployment ROLLBACK" in n for n in the_plan.notes)
        assert any("analysis_gate" in n for n in the_plan.notes)

        deployment = _deploy(sim, env, image=bad, analysis=critical)
        assert deployment.analysis is not None
        with pytest.raises(DeploymentError, match="critical metric 5xx rate"):
            deployment.wait()  # runs the analysis deploy() was given

        assert deployment.analysis.stopped == deployment.id
        assert deployment.status().ending == "rolled_back"
        record = sim.service_deployment(deployment.id)
        production = [p for _, kind, p in record.weight_log if kind == "production"]
        assert production == [10.0, 0.0]  # stopped in the canary, then back to blue


def test_a_reset_before_update_service_reached_ecs_is_sent_again_once(sim):
    env = _native(sim)
    before = _deployments(sim, env)
    sim.faults.reset("UpdateService", service="ecs", when="before", count=1)

    deployment = _deploy(sim, env)

    assert sim.faults.injected == {"reset_before": 1}
    assert _calls(sim, "UpdateService") == 2  # looked for first, then sent again
    assert _deployments(sim, env) - before == {deployment.id}


def test_deploy_of_a_registered_revision_does_not_take_an_earlier_deployment_of_it(sim):
    env = _native(sim)
    first = _deploy(sim, env)
    sim.run_until_done(first.id)
    sim.faults.reset("UpdateService", service="ecs", when="after", count=1)

    again = _deploy(sim, env, image=None, task_definition=env.native.task_definition_arn)

    assert again.id != first.id
    sim.run_until_done(again.id)
    assert _service(sim, env)["taskDefinition"] == env.native.task_definition_arn


def test_new_hooks_join_the_services_own_and_take_their_role(sim):
    smoke = "arn:aws:lambda:us-east-1:123456789012:function:smoke"
    own = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": smoke,
        "roleArn": ROLE,
        "lifecycleStages": ["POST_SCALE_UP"],
    }
    env = _native(
        sim, native_strategy="LINEAR", native_percent=50, native_step_minutes=1, native_hooks=[own]
    )
    stages: list[str] = []

    def hook(event: dict[str, Any], context: Any) -> dict[str, Any]:
        stages.append(str(event.get("lifecycleStage")))
        return {"hookStatus": "SUCCEEDED"}

    sim.register_hook(smoke, hook)
    sim.register_hook("gate", hook)

    deployment = _deploy(sim, env, hooks={"BeforeAllowTraffic": "gate"})

    hooks = _service(sim, env)["deploymentConfiguration"]["lifecycleHooks"]
    assert hooks[0] == own
    assert hooks[1]["lifecycleStages"] == ["PRE_PRODUCTION_TRAFFIC_SHIFT"]
    assert hooks[1]["roleArn"] == ROLE
    assert _service(sim, env)["deploymentConfiguration"]["linearConfiguration"]["stepPercent"] == 50
    sim.run_until_done(deployment.id)
    assert sim.service_deployment(deployment.id).status == "SUCCESSFUL"
    assert stages.count("PRE_PRODUCTION_TRAFFIC_SHIFT") == 2  # before each linear step


def test_a_rollback_alarm_that_does_not_exist_is_a_problem(sim):
    env = _native(sim)
    sim.clients().cloudwatch.delete_alarms(AlarmNames=["web-native-5xx"])

    the_plan = _plan(sim, env)

    assert any("alarm 'web-native-5xx'" in p and "does not exist" in p for p in the_plan.problems)


def test_an_alb_listener_in_place_of_a_rule_is_named(sim):
    import attrs

    from bluegreen.discovery import discover
    from bluegreen.native_preflight import NativePlanner

    env = _native(sim)
    state = discover(env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock)
    assert state.advanced_routing is not None
    routing = attrs.evolve(
        state.advanced_routing, production_listener_rule=env.production_listener_arn
    )
    planner = NativePlanner(
        sim.clients(),
        None,
        NEW_IMAGE,
        None,
        None,
        None,
        None,
        None,
        False,  # type: ignore[arg-type]
    )

    planner._check_routing(attrs.evolve(state, advanced_routing=routing))

    assert any("is an Application Load Balancer listener" in p for p in planner.problems)


def test_a_codedeploy_plan_says_its_kind_and_has_no_strategy(sim, env):
    the_plan = plan(
        env.cluster, env.service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
    )

    assert the_plan.kind == "codedeploy"
    assert the_plan.strategy is None
    assert the_plan.to_dict()["kind"] == "codedeploy"
    assert the_plan.to_dict()["strategy"] is None
    assert "deployment group" in the_plan.text()


def test_a_traffic_config_the_service_has_already_is_not_sent(sim):
    env = _native(sim, native_strategy="CANARY", native_percent=10, native_step_minutes=5)

    the_plan = _plan(sim, env, traffic_config=TrafficConfig.canary(10, 5))

    assert the_plan.ok, the_plan.problems
    assert not the_plan.changes_strategy


def test_a_hook_the_service_runs_at_that_stage_already_is_not_added_again(sim):
    smoke = "arn:aws:lambda:us-east-1:123456789012:function:smoke"
    own = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": smoke,
        "roleArn": ROLE,
        "lifecycleStages": ["POST_SCALE_UP"],
    }
    env = _native(sim, native_hooks=[own])
    sim.register_hook(smoke, lambda event, context: {"hookStatus": "SUCCEEDED"})

    the_plan = _plan(sim, env, hooks={"AfterInstall": "smoke"})

    assert the_plan.ok, the_plan.problems
    assert len(the_plan.strategy.hooks) == 1
    assert not the_plan.changes_strategy


def test_a_description_is_kept_in_a_tag_on_the_service(sim):
    from bluegreen.native_description import description_for

    env = _native(sim)

    the_plan = _plan(sim, env, description="release r1: web-native")
    deployment = _deploy(sim, env, description="release r1: web-native")

    assert the_plan.description == "release r1: web-native"
    service = sim.clients().ecs.describe_services(
        cluster=env.cluster, services=[env.native.service], include=["TAGS"]
    )["services"][0]
    sim.run_until_done(deployment.id)
    new = service["taskDefinition"]
    assert description_for(service["tags"], new) == "release r1: web-native"


@pytest.mark.parametrize("kind", ["native", "codedeploy"])
def test_a_lost_answer_is_found_on_a_simulator_whose_time_is_days_from_the_wall_clock(kind):
    """The search for a deployment whose answer was lost opens its window on the caller's
    clock (simulated time here), not the machine's wall clock: days apart, a native deploy
    (the simulator's UpdateService answer names no deployment, so it always searches) and a
    CodeDeploy one that lost CreateDeployment's answer both find theirs, once."""
    from bluegreen.testing import Simulator

    with Simulator(start_time=1_700_000_000.0) as sim:  # November 2023
        env = sim.create_environment(native=kind == "native")
        service = env.native.service if kind == "native" else env.service
        operation = "UpdateService" if kind == "native" else "CreateDeployment"
        sim.faults.reset(operation, when="after", count=1)

        deployment = deploy(
            env.cluster, service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
        )

        calls = [op for *_, op in sim.api_calls() if op == operation]
        assert calls == [operation]
        sim.run_until_done(deployment.id)
        assert deployment.status().succeeded
