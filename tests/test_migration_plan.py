"""``plan_migration`` on the simulator through real boto3 clients: every CodeDeploy setting of
the sample service maps onto its ECS-native one, every problem is found (and all at once),
nothing in AWS changes, and ``discover`` reads a migrated service as native although a
deployment-group tag still names its group."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deploying import Deployer, botocore_handlers

import bluegreen
from bluegreen._aws import Caller
from bluegreen.errors import ValidationError
from bluegreen.hooks.handlers import verify_test_listener
from bluegreen.iam_infrastructure import TRUST_POLICY
from bluegreen.migration_model import MigrationPlan
from bluegreen.migration_plan import plan_migration

ACCOUNT = "123456789012"
ROLE = "ecsInfrastructureRole"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
TRUST_ECS = TRUST_POLICY  # a role ECS may assume


def make_role(sim: Any, name: str = ROLE, service: str = "ecs.amazonaws.com") -> str:
    trust = json.loads(json.dumps(TRUST_ECS))
    trust["Statement"][0]["Principal"]["Service"] = service
    iam = sim.clients().client("iam")
    return str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )


def plan(sim: Any, env: Any, **kwargs: Any) -> MigrationPlan:
    kwargs.setdefault("clients", sim.clients())
    return plan_migration(env.cluster, env.service, **kwargs)


def with_role(sim: Any, env: Any, **kwargs: Any) -> Any:
    return plan(sim, env, role_arn=make_role(sim), **kwargs)


def describe(sim: Any, env: Any) -> dict[str, Any]:
    answer = sim.clients().ecs.describe_services(
        cluster=env.cluster, services=[env.service], include=["TAGS"]
    )
    return dict(answer["services"][0])


def succeed(sim: Any, *names: str) -> None:
    """Stand-in hook functions that report Succeeded to CodeDeploy."""
    codedeploy = sim.clients().codedeploy

    def hook(event: dict[str, Any], context: Any) -> None:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )

    for name in names:
        sim.register_hook(name, hook)


# -- the sample service, all at once ------------------------------------------------------------


def test_sample_service_plans_blue_green_with_its_bake_alarms_and_two_created_rules(sim, env):
    before = describe(sim, env)
    result = with_role(sim, env)

    assert result.ok, result.problems
    assert result.differences == ()
    config = result.deployment_configuration
    assert config["strategy"] == "BLUE_GREEN"
    assert config["bakeTimeInMinutes"] == 5
    assert config["maximumPercent"] == 200
    assert config["minimumHealthyPercent"] == 100
    assert config["alarms"] == {"alarmNames": ["web-5xx"], "enable": True, "rollback": True}
    assert "lifecycleHooks" not in config
    blue, green = env.target_group_arns
    assert result.production_target_group == blue
    assert result.alternate_target_group == green
    assert [(r.role, r.listener_arn, r.rule_arn, r.priority) for r in result.rules] == [
        ("production", env.production_listener_arn, None, 50000),
        ("test", env.test_listener_arn, None, 50000),
    ]
    assert all(r.forward == ((blue, 100), (green, 0)) for r in result.rules)
    assert result.load_balancer == {
        "targetGroupArn": blue,
        "containerName": env.container_name,
        "containerPort": env.container_port,
        "advancedConfiguration": {
            "alternateTargetGroupArn": green,
            "productionListenerRule": None,
            "testListenerRule": None,
            "roleArn": ROLE_ARN,
        },
    }
    assert result.before["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert result.before["loadBalancers"] == before["loadBalancers"]
    assert result.hook_role_arn == ROLE_ARN
    assert result.create_role is None
    assert result.trust_policy["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "elasticloadbalancing:ModifyRule" in result.role_policy.actions()
    assert (result.application, result.deployment_group) == (env.application, env.deployment_group)
    json.dumps(result.to_dict())  # JSON-able
    assert describe(sim, env) == before  # nothing changed


def test_describe_reads_for_a_person_what_would_change(sim, env):
    text = with_role(sim, env).describe()
    for expected in (
        "Apply would:",
        "create the production rule",
        "UpdateService: deploymentController CODE_DEPLOY -> ECS",
        "CodeDeployDefault.ECSAllAtOnce",
        "-> BLUE_GREEN (all at once)",
        "bakeTimeInMinutes 5",
        "web-blue 100, web-green 0",
        ROLE_ARN,
        "No problem: ready to apply.",
    ):
        assert expected in text


def test_create_role_names_the_role_apply_creates_and_its_arn(sim, env):
    result = plan(sim, env, create_role="bluegreen-web-infra")
    assert result.ok, result.problems
    assert result.create_role == "bluegreen-web-infra"
    assert result.role_arn == f"arn:aws:iam::{ACCOUNT}:role/bluegreen-web-infra"
    assert result.load_balancer["advancedConfiguration"]["roleArn"] == result.role_arn


# -- the strategy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "strategy", "key", "expected"),
    [
        (
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            "CANARY",
            "canaryConfiguration",
            {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
        ),
        (
            "CodeDeployDefault.ECSCanary10Percent15Minutes",
            "CANARY",
            "canaryConfiguration",
            {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 15},
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            "LINEAR",
            "linearConfiguration",
            {"stepPercent": 10.0, "stepBakeTimeInMinutes": 1},
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            "LINEAR",
            "linearConfiguration",
            {"stepPercent": 10.0, "stepBakeTimeInMinutes": 3},
        ),
    ],
)
def test_each_predefined_config_maps_onto_its_native_strategy(sim, config, strategy, key, expected):
    env = sim.create_environment(deployment_config=config)
    result = with_role(sim, env)
    assert result.ok, result.problems
    assert result.deployment_configuration["strategy"] == strategy
    assert result.deployment_configuration[key] == expected
    assert result.deployment_config_name == config


@pytest.mark.parametrize(
    ("routing", "strategy", "key", "expected"),
    [
        (
            {
                "type": "TimeBasedCanary",
                "timeBasedCanary": {"canaryPercentage": 20, "canaryInterval": 7},
            },
            "CANARY",
            "canaryConfiguration",
            {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 7},
        ),
        (
            {
                "type": "TimeBasedLinear",
                "timeBasedLinear": {"linearPercentage": 25, "linearInterval": 4},
            },
            "LINEAR",
            "linearConfiguration",
            {"stepPercent": 25.0, "stepBakeTimeInMinutes": 4},
        ),
        ({"type": "AllAtOnce"}, "BLUE_GREEN", "bakeTimeInMinutes", 5),
    ],
)
def test_custom_configs_map_onto_their_native_strategy(sim, routing, strategy, key, expected):
    sim.clients().codedeploy.create_deployment_config(
        deploymentConfigName="Custom", computePlatform="ECS", trafficRoutingConfig=routing
    )
    env = sim.create_environment(deployment_config="Custom")
    result = with_role(sim, env)
    assert result.ok, result.problems
    assert result.deployment_configuration["strategy"] == strategy
    assert result.deployment_configuration[key] == expected


def test_termination_wait_becomes_the_bake_time(sim):
    env = sim.create_environment(termination_wait_minutes=42)
    result = with_role(sim, env)
    assert result.deployment_configuration["bakeTimeInMinutes"] == 42
    assert any(i.subject == "bake time" and "42" in i.native for i in result.items)


def test_limits_ecs_enforces_are_problems_naming_their_codedeploy_setting(sim):
    sim.clients().codedeploy.create_deployment_config(
        deploymentConfigName="Slow",
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": 2, "linearInterval": 2000},
        },
    )
    env = sim.create_environment(deployment_config="Slow", termination_wait_minutes=1500)
    problems = "\n".join(with_role(sim, env).problems)
    assert "terminationWaitTimeInMinutes cannot be mapped: bake time 1500 min" in problems
    assert "deployment config Slow cannot be mapped: step bake 2000 min" in problems
    assert "linear step percent 2" in problems


# -- the ready wait ------------------------------------------------------------------------------


def test_ready_wait_becomes_a_pause_hook_after_test_traffic_that_rolls_back_on_timeout(sim):
    env = sim.create_environment(ready_wait_minutes=45)
    result = with_role(sim, env)
    assert result.deployment_configuration["lifecycleHooks"] == [
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 45, "action": "ROLLBACK"},
        }
    ]


def test_rerouting_at_once_needs_no_pause_hook(sim, env):
    result = with_role(sim, env)
    assert "lifecycleHooks" not in result.deployment_configuration
    assert any(i.subject == "ready wait" and i.native == "no pause hook" for i in result.items)


# -- hooks ---------------------------------------------------------------------------------------

HOOKS = {
    "BeforeInstall": "pre-scale",
    "AfterInstall": "post-scale",
    "AfterAllowTestTraffic": "check-test",
    "BeforeAllowTraffic": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gate",
    "AfterAllowTraffic": "check-prod",
}
STAGES = {
    "BeforeInstall": "PRE_SCALE_UP",
    "AfterInstall": "POST_SCALE_UP",
    "AfterAllowTestTraffic": "POST_TEST_TRAFFIC_SHIFT",
    "BeforeAllowTraffic": "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "AfterAllowTraffic": "POST_PRODUCTION_TRAFFIC_SHIFT",
}


def test_the_last_successful_deployments_hooks_become_lambda_hooks_on_their_stages(sim, env):
    succeed(sim, "pre-scale", "post-scale", "check-test", "gate", "check-prod")
    deployer = Deployer(sim, env)
    deployment = deployer.deploy(hooks=HOOKS)
    assert deployer.done(deployment) == "Succeeded"

    result = with_role(sim, env)
    assert result.ok, result.problems
    assert [(h.event, h.stage, h.function) for h in result.hooks] == [
        (event, STAGES[event], function) for event, function in HOOKS.items()
    ]
    arns = {h.event: h.function_arn for h in result.hooks}
    assert arns["BeforeInstall"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pre-scale"
    assert arns["BeforeAllowTraffic"] == HOOKS["BeforeAllowTraffic"]
    entries = result.deployment_configuration["lifecycleHooks"]
    assert entries[0] == {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": arns["BeforeInstall"],
        "lifecycleStages": ["PRE_SCALE_UP"],
        "roleArn": ROLE_ARN,
    }
    assert all(h.answers_native is None for h in result.hooks)
    assert all("hookStatus" in h.change for h in result.hooks)
    assert len([d for d in result.differences if "hookStatus" in d]) == 5
    assert any(f"deployment {deployment}" in note for note in result.notes)
    assert set(arns.values()) <= set(result.role_policy.resources())
    assert "lambda:InvokeFunction" in result.role_policy.actions()


def test_a_ready_made_hook_answers_ecs_already_and_needs_no_change(sim, env):
    sim.register_hook("verify-test", verify_test_listener.handler)
    appspec = Deployer(sim, env).appspec(hooks={"AfterAllowTestTraffic": "verify-test"})
    result = with_role(sim, env, appspec=appspec.to_yaml())
    (hook,) = result.hooks
    assert hook.answers_native is True
    assert hook.change.startswith("none:")
    assert result.differences == ()
    assert any("AppSpec given" in note for note in result.notes)


def test_the_hooks_of_a_pipeline_template_with_a_placeholder_are_read(sim, env):
    """CodePipeline's AppSpec templates name ``<TASK_DEFINITION>``: the migration needs only
    the hooks, so the placeholder is no problem; a malformed Hooks list still is."""
    sim.register_hook("verify-test", verify_test_listener.handler)
    template = (
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n"
        "      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n"
        "        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 80\n"
        "Hooks:\n  - AfterAllowTestTraffic: verify-test\n"
    )
    result = with_role(sim, env, appspec=template)
    assert [(h.event, h.stage) for h in result.hooks] == [
        ("AfterAllowTestTraffic", "POST_TEST_TRAFFIC_SHIFT")
    ]
    assert result.problems == ()

    broken = plan(
        sim, env, role_arn=ROLE_ARN, appspec=template.replace("AfterAllowTestTraffic", "AfterAll")
    )
    assert any("unknown hook event 'AfterAll'" in p for p in broken.problems)


def test_before_allow_traffic_on_a_canary_runs_before_every_step_a_difference(sim):
    env = sim.create_environment(deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    sim.register_hook("gate", verify_test_listener.handler)
    appspec = Deployer(sim, env).appspec(hooks={"BeforeAllowTraffic": "gate"})
    result = with_role(sim, env, appspec=appspec)
    assert any("BEFORE EVERY" in d.upper() for d in result.differences)
    assert "before EVERY canary traffic step" in result.hooks[0].change


def test_hook_role_is_the_role_of_every_lambda_hook_when_given(sim, env):
    sim.register_hook("verify-test", verify_test_listener.handler)
    hook_role = make_role(sim, "hookInvoker")
    appspec = Deployer(sim, env).appspec(hooks={"AfterAllowTestTraffic": "verify-test"})
    result = with_role(sim, env, appspec=appspec, hook_role_arn=hook_role)
    assert result.hook_role_arn == hook_role
    assert result.deployment_configuration["lifecycleHooks"][0]["roleArn"] == hook_role
    assert "lambda:InvokeFunction" not in result.role_policy.actions()


# -- alarms, rollback, triggers ------------------------------------------------------------------


def test_alarms_without_stop_on_alarm_rollback_do_not_roll_back_a_difference(sim):
    env = sim.create_environment(auto_rollback_events=("DEPLOYMENT_FAILURE",))
    result = with_role(sim, env)
    assert result.deployment_configuration["alarms"] == {
        "alarmNames": ["web-5xx"],
        "enable": True,
        "rollback": False,
    }
    assert any("DEPLOYMENT_STOP_ON_ALARM" in d for d in result.differences)
    assert any("DEPLOYMENT_STOP_ON_REQUEST" in d for d in result.differences)


def test_no_alarms_send_no_alarms_and_rollback_off_is_a_difference(sim):
    env = sim.create_environment(alarms=False, auto_rollback_events=())
    result = with_role(sim, env)
    assert "alarms" not in result.deployment_configuration
    assert any("DEPLOYMENT_FAILURE is off" in d for d in result.differences)


def test_ignore_poll_alarm_failure_and_triggers_are_differences(sim, env):
    sim.clients().codedeploy.update_deployment_group(
        applicationName=env.application,
        currentDeploymentGroupName=env.deployment_group,
        alarmConfiguration={
            "enabled": True,
            "alarms": [{"name": "web-5xx"}],
            "ignorePollAlarmFailure": True,
        },
        triggerConfigurations=[
            {
                "triggerName": "on-failure",
                "triggerTargetArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:deploys",
                "triggerEvents": ["DeploymentFailure"],
            }
        ],
    )
    result = with_role(sim, env)
    assert result.ok
    assert any("ignorePollAlarmFailure" in d for d in result.differences)
    assert any("triggers (on-failure)" in d for d in result.differences)


# -- listeners -----------------------------------------------------------------------------------


def test_without_a_test_listener_only_the_production_rule_is_planned(sim):
    env = sim.create_environment(test_listener=False)
    result = with_role(sim, env)
    assert [r.role for r in result.rules] == ["production"]
    assert "testListenerRule" not in result.load_balancer["advancedConfiguration"]
    assert any("no test listener" in note for note in result.notes)


def test_created_rule_takes_the_highest_free_priority(sim, env):
    blue = env.target_group_arns[0]
    sim.clients().elbv2.create_rule(
        ListenerArn=env.production_listener_arn,
        Priority=50000,
        Conditions=[{"Field": "path-pattern", "Values": ["/old/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": blue}],
    )
    result = with_role(sim, env)
    assert [r.priority for r in result.rules] == [49999, 50000]


def test_an_nlb_listener_is_its_own_rule_and_gains_the_alternate_target_group(sim):
    env = sim.create_environment(load_balancer="network", test_listener=False)
    result = with_role(sim, env)
    assert result.ok, result.problems
    (rule,) = result.rules
    assert rule.rule_arn == env.production_listener_arn
    assert rule.priority is None
    assert rule.modify_listener is True
    blue, green = env.target_group_arns
    assert rule.forward == ((blue, 100), (green, 0))
    advanced = result.load_balancer["advancedConfiguration"]
    assert advanced["productionListenerRule"] == env.production_listener_arn


def test_the_live_target_group_after_a_codedeploy_swap_is_production(sim, env):
    deployer = Deployer(sim, env)
    assert deployer.done(deployer.deploy()) == "Succeeded"
    blue, green = env.target_group_arns
    result = with_role(sim, env)
    assert result.ok, result.problems
    assert result.production_target_group == green
    assert result.load_balancer["targetGroupArn"] == green
    assert result.rules[0].forward[0] == (green, 100)
    assert dict(result.rules[0].forward)[blue] == 0


# -- problems ------------------------------------------------------------------------------------


def test_no_role_given_is_a_problem(sim, env):
    result = plan(sim, env)
    assert not result.ok
    assert any("no infrastructure role" in p for p in result.problems)
    assert "problem(s) block the migration" in result.describe()


def test_a_role_that_does_not_trust_ecs_or_does_not_exist_is_a_problem(sim, env):
    other = make_role(sim, "lambdaRole", service="lambda.amazonaws.com")
    assert any(
        "does not trust ecs.amazonaws.com" in p for p in plan(sim, env, role_arn=other).problems
    )
    missing = f"arn:aws:iam::{ACCOUNT}:role/nope"
    assert any("does not exist" in p for p in plan(sim, env, role_arn=missing).problems)


def test_a_role_to_create_that_exists_already_is_a_problem(sim, env):
    make_role(sim)
    assert any("exists already" in p for p in plan(sim, env, create_role=ROLE).problems)


def test_an_already_migrated_service_is_a_problem(sim):
    env = sim.create_environment(native=True)
    result = plan_migration(
        env.cluster, env.native.service, role_arn=make_role(sim), clients=sim.clients()
    )
    assert any("already migrated" in p for p in result.problems)


def test_a_rolling_service_is_not_a_codedeploy_service(sim, env):
    sim.clients().ecs.create_service(
        cluster=env.cluster,
        serviceName="worker",
        taskDefinition=env.task_definition_arn,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(env.subnets),
                "securityGroups": [env.security_group],
            }
        },
    )
    result = plan_migration(env.cluster, "worker", role_arn=make_role(sim), clients=sim.clients())
    assert any("not a CodeDeploy service" in p for p in result.problems)


def test_a_deployment_in_flight_and_its_two_task_sets_are_problems(sim, env):
    deployer = Deployer(sim, env)
    deployment = deployer.deploy()
    deployer.until_event(deployment, "AfterAllowTestTraffic")
    result = with_role(sim, env)
    assert any(f"{deployment} is in flight" in p for p in result.problems)
    assert any("2 task sets" in p for p in result.problems)


def test_scaling_left_suspended_by_a_release_points_at_recover(sim, env):
    bluegreen.suspend_scaling(env.cluster, env.service, clients=sim.clients())
    result = with_role(sim, env)
    assert any("bluegreen.recover(" in p for p in result.problems)


def test_a_migration_record_already_on_the_service_is_a_problem(sim, env):
    sim.clients().ecs.tag_resource(
        resourceArn=env.service_arn,
        tags=[{"key": "bluegreen:migration", "value": "applying 2026-12-03T02:00:00Z n=1 id=ab"}],
    )
    assert any("migration record" in p for p in with_role(sim, env).problems)


def test_no_room_for_the_record_tags_is_a_problem(sim, env):
    sim.clients().ecs.tag_resource(
        resourceArn=env.service_arn,
        tags=[{"key": f"team:{n}", "value": "x"} for n in range(48)],
    )
    assert any("remove" in p and "tag(s)" in p for p in with_role(sim, env).problems)


@pytest.fixture
def on_call(sim):
    yield from botocore_handlers(sim)


def test_hooks_of_a_revision_in_s3_cannot_be_read_pass_the_appspec(sim, env, on_call):
    deployer = Deployer(sim, env)
    assert deployer.done(deployer.deploy()) == "Succeeded"

    def in_s3(parsed: dict[str, Any], **_: Any) -> None:
        parsed["deploymentInfo"]["revision"] = {
            "revisionType": "S3",
            "s3Location": {"bucket": "releases", "key": "web.zip", "bundleType": "zip"},
        }

    on_call("after-call.codedeploy.GetDeployment", in_s3)
    role = make_role(sim)
    result = plan(sim, env, role_arn=role)
    assert any("S3 or GitHub" in p and "pass appspec=" in p for p in result.problems)
    given = plan(sim, env, role_arn=role, appspec=deployer.appspec())
    assert given.ok, given.problems


def test_a_codedeploy_service_without_a_group_is_a_problem(sim, env):
    sim.clients().ecs.create_service(
        cluster=env.cluster,
        serviceName="orphan",
        taskDefinition=env.task_definition_arn,
        desiredCount=1,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {
                "targetGroupArn": env.target_group_arns[0],
                "containerName": env.container_name,
                "containerPort": env.container_port,
            }
        ],
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(env.subnets),
                "securityGroups": [env.security_group],
            }
        },
    )
    result = plan_migration(env.cluster, "orphan", role_arn=make_role(sim), clients=sim.clients())
    assert any(p.startswith("no deployment group") for p in result.problems)
    json.dumps(result.to_dict())
    assert "problem(s) block" in result.describe()


def test_a_missing_hook_function_is_a_problem(sim, env):
    appspec = Deployer(sim, env).appspec(hooks={"AfterAllowTraffic": "no-such-function"})
    result = with_role(sim, env, appspec=appspec)
    assert any("no-such-function does not exist" in p for p in result.problems)


def test_every_problem_is_listed_at_once(sim, env):
    bluegreen.suspend_scaling(env.cluster, env.service, clients=sim.clients())
    sim.clients().ecs.tag_resource(
        resourceArn=env.service_arn,
        tags=[{"key": "bluegreen:migration", "value": "applied 2026-12-03T02:00:00Z n=1 id=ab"}],
    )
    deployer = Deployer(sim, env)
    deployment = deployer.deploy(hooks={"AfterAllowTraffic": "gone"})
    deployer.until_event(deployment, "AfterAllowTestTraffic")
    result = plan(sim, env, appspec=deployer.appspec(hooks={"AfterAllowTraffic": "gone"}))
    problems = "\n".join(result.problems)
    for expected in (
        "no infrastructure role",
        "is in flight",
        "2 task sets",
        "bluegreen.recover(",
        "migration record",
        "gone does not exist",
    ):
        assert expected in problems


# -- arguments -----------------------------------------------------------------------------------


def test_bad_arguments_are_refused_together_before_any_call(sim, env):
    caller = Caller()
    with pytest.raises(ValidationError) as caught:
        plan_migration(
            env.cluster,
            env.service,
            role_arn="not-an-arn",
            create_role="bad name!",
            hook_role_arn=f"arn:aws:iam::{ACCOUNT}:user/x",
            appspec=42,
            clients=sim.clients(),
            caller=caller,
        )
    text = str(caught.value)
    for expected in ("role_arn=", "create_role=", "hook_role_arn=", "not both", "appspec="):
        assert expected in text
    assert caller.calls == 0


# -- discover after a migration ------------------------------------------------------------------


def test_discover_reads_a_native_service_as_native_though_a_tag_names_a_group(sim):
    env = sim.create_environment(native=True)
    sim.clients().ecs.tag_resource(
        resourceArn=env.native.service_arn,
        tags=[
            {"key": "bluegreen:application", "value": env.application},
            {"key": "bluegreen:deployment-group", "value": env.deployment_group},
        ],
    )
    state = bluegreen.discover(env.cluster, env.native.service, clients=sim.clients())
    assert state.deployment_group is None
    assert state.kind == "ecs"
    named = bluegreen.discover(
        env.cluster,
        env.native.service,
        application=env.application,
        deployment_group=env.deployment_group,
        clients=sim.clients(),
    )
    assert named.kind == "ecs"


def test_no_environment_value_reaches_the_plan(sim, env):
    ecs = sim.clients().ecs
    revision = ecs.register_task_definition(
        family=env.family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": env.container_name,
                "image": "public.ecr.aws/nginx/nginx:1.28",
                "essential": True,
                "portMappings": [{"containerPort": env.container_port, "protocol": "tcp"}],
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2-secret"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    deployer = Deployer(sim, env)
    assert deployer.done(deployer.deploy(appspec=deployer.appspec(revision))) == "Succeeded"
    result = with_role(sim, env)
    assert result.ok, result.problems
    assert "hunter2-secret" not in result.describe()
    assert "hunter2-secret" not in json.dumps(result.to_dict())


# -- the plan carried out ------------------------------------------------------------------------


def test_the_plan_applies_and_the_service_then_reads_native_and_plans_as_migrated(sim, env):
    from bluegreen.migration_apply import apply_migration

    migration = plan(sim, env, create_role="bluegreen-web-infra")
    result = apply_migration(migration, verify="deploy", clients=sim.clients(), clock=sim.clock)
    assert result.verified

    state = bluegreen.discover(env.cluster, env.service, clients=sim.clients())
    assert state.kind == "ecs"
    again = plan(sim, env, create_role="another")
    assert any("already migrated" in p for p in again.problems)
    assert any("migration record" in p for p in again.problems)
