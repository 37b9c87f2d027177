"""bluegreen.release: plan, preflight, a new task-definition revision and CreateDeployment,
on the simulator through real boto3 clients.

Retries sleep on the simulator's virtual clock, so nothing here waits in real time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from deploying import Deployer

from bluegreen import (
    AppSpec,
    DeploymentStatus,
    ResourceNotFoundError,
    ServiceConfigError,
    ServiceUnavailableError,
    TrafficConfig,
    ValidationError,
)
from bluegreen.release import Plan, deploy, plan

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"
SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/web/db-password"
TASK_ROLE = "arn:aws:iam::123456789012:role/webTask"
WRITES = {
    "RegisterTaskDefinition",
    "DeregisterTaskDefinition",
    "CreateDeployment",
    "CreateDeploymentConfig",
    "UpdateService",
    "RegisterScalableTarget",
}


# -- helpers -------------------------------------------------------------------------------


def run_deploy(sim: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("clients", sim.clients())
    return deploy("prod", "web", clock=sim.clock, **kwargs)


def run_plan(sim: Any, **kwargs: Any) -> Plan:
    kwargs.setdefault("clients", sim.clients())
    return plan("prod", "web", **kwargs)


def revisions(d: Deployer, family: str = "web") -> list[str]:
    """The ACTIVE revisions of a family."""
    return list(d.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])


def deployments(d: Deployer) -> list[str]:
    return list(
        d.codedeploy.list_deployments(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )["deployments"]
    )


def writes(sim: Any) -> list[str]:
    return [op for _, _, op in sim.api_calls() if op in WRITES]


def register_rich_revision(d: Deployer, *, sidecar: bool = False) -> str:
    """A revision of ``web`` with secrets, environment, roles, a volume and tags."""
    containers: list[dict[str, Any]] = [
        {
            "name": "web",
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "production"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET}],
            "mountPoints": [{"sourceVolume": "cache", "containerPath": "/cache"}],
        }
    ]
    if sidecar:
        containers.append(
            {"name": "envoy", "image": "public.ecr.aws/envoy/envoy:v1.30.1", "essential": False}
        )
    return str(
        d.ecs.register_task_definition(
            family="web",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            executionRoleArn="arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            taskRoleArn=TASK_ROLE,
            volumes=[{"name": "cache"}],
            containerDefinitions=containers,
            tags=[{"key": "team", "value": "payments"}, {"key": "cost-center", "value": "42"}],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def serving(d: Deployer, sim: Any, task_definition: str) -> None:
    """Deploy ``task_definition`` with bluegreen and run it to the end."""
    deployment = run_deploy(sim, task_definition=task_definition)
    assert d.done(deployment.id) == "Succeeded"


def described(d: Deployer, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    answer = d.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return dict(answer["taskDefinition"]), list(answer.get("tags", []))


def sent_appspec(d: Deployer, deployment_id: str) -> AppSpec:
    """The AppSpec a deployment was created with (GetApplicationRevision by its sha256)."""
    revision = d.info(deployment_id)["revision"]
    answer = d.codedeploy.get_application_revision(
        applicationName=d.env.application, revision=revision
    )
    return AppSpec.parse(answer["revision"]["appSpecContent"]["content"])


@pytest.fixture
def on_call(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """Register a botocore handler (``after-call.codedeploy.CreateDeployment``...) on the
    simulator's shared session for clients made from now on; removed after the test."""
    events = sim.clients().session.events
    registered: list[tuple[str, Callable[..., Any]]] = []

    def register(event: str, handler: Callable[..., Any]) -> None:
        events.register(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        events.unregister(event, handler)


# -- deploying an image ----------------------------------------------------------------------


def test_image_deploy_registers_a_revision_with_only_the_image_changed(sim):
    d = Deployer.create(sim)
    rich = register_rich_revision(d)
    serving(d, sim, rich)
    before, before_tags = described(d, rich)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    new_arn = revisions(d)[-1]
    after, after_tags = described(d, new_arn)
    assert after["revision"] == before["revision"] + 1
    assert after["containerDefinitions"][0]["image"] == NEW_IMAGE
    assert after_tags == before_tags
    for key in ("taskDefinitionArn", "revision", "registeredAt"):
        before.pop(key, None)
        after.pop(key, None)
    before["containerDefinitions"][0]["image"] = NEW_IMAGE
    assert after == before  # secrets, environment, roles, volumes: all kept
    assert after["containerDefinitions"][0]["secrets"] == [
        {"name": "DB_PASSWORD", "valueFrom": SECRET}
    ]
    assert sent_appspec(d, deployment.id).task_definition == new_arn
    assert d.done(deployment.id) == "Succeeded"
    assert d.task_set("PRIMARY")["taskDefinition"] == new_arn


def test_image_mapping_sets_several_containers_and_leaves_the_others(sim):
    d = Deployer.create(sim)
    serving(d, sim, register_rich_revision(d, sidecar=True))

    run_deploy(
        sim,
        image={"web": NEW_IMAGE, "envoy": "public.ecr.aws/envoy/envoy:v1.31.0"},
    )

    images = {
        c["name"]: c["image"] for c in described(d, revisions(d)[-1])[0]["containerDefinitions"]
    }
    assert images == {"web": NEW_IMAGE, "envoy": "public.ecr.aws/envoy/envoy:v1.31.0"}


def test_single_image_goes_to_the_container_the_load_balancer_routes_to(sim):
    d = Deployer.create(sim)
    serving(d, sim, register_rich_revision(d, sidecar=True))

    the_plan = run_plan(sim, image=NEW_IMAGE)

    assert the_plan.ok, the_plan.problems
    assert the_plan.task_definition_diff == (
        f"containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> {NEW_IMAGE}",
    )


def test_task_definition_arn_is_deployed_without_registering_a_revision(sim):
    d = Deployer.create(sim)
    arn = d.register_revision(image=NEW_IMAGE)
    before = revisions(d)

    deployment = run_deploy(sim, task_definition=arn)

    assert revisions(d) == before
    assert sent_appspec(d, deployment.id).task_definition == arn
    assert d.done(deployment.id) == "Succeeded"
    assert d.task_set("PRIMARY")["taskDefinition"] == arn


def test_deploy_returns_an_attached_deployment_that_can_be_waited_for(sim):
    d = Deployer.create(sim)

    deployment = run_deploy(sim, image=NEW_IMAGE, description="release 2026.11.25")

    assert deployments(d) == [deployment.id]
    assert d.info(deployment.id)["description"] == "release 2026.11.25"
    assert deployment.wait().status is DeploymentStatus.SUCCEEDED


def test_traffic_config_and_auto_rollback_overrides_reach_create_deployment(sim):
    d = Deployer.create(sim)

    deployment = run_deploy(
        sim, image=NEW_IMAGE, traffic_config=CANARY, auto_rollback=["DEPLOYMENT_FAILURE"]
    )

    info = d.info(deployment.id)
    assert info["deploymentConfigName"] == CANARY
    assert info["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE"],
    }


def test_auto_rollback_false_turns_rollback_off_and_none_keeps_the_groups(sim):
    d = Deployer.create(sim)

    off = run_deploy(sim, image=NEW_IMAGE, auto_rollback=False)
    assert d.info(off.id)["autoRollbackConfiguration"] == {"enabled": False}
    d.done(off.id)

    kept = run_deploy(sim, image="public.ecr.aws/nginx/nginx:1.29")
    info = d.info(kept.id)
    assert info["autoRollbackConfiguration"] == d.group()["autoRollbackConfiguration"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"


def test_a_new_traffic_config_object_is_created_only_after_preflight_passes(sim):
    d = Deployer.create(sim)
    config = TrafficConfig.canary(20, 2, name="Canary20Percent2Minutes")
    d.set_alarm("ALARM")

    with pytest.raises(ServiceConfigError):
        run_deploy(sim, image=NEW_IMAGE, traffic_config=config)
    assert (
        "Canary20Percent2Minutes"
        not in d.codedeploy.list_deployment_configs()["deploymentConfigsList"]
    )

    d.set_alarm("OK")
    deployment = run_deploy(sim, image=NEW_IMAGE, traffic_config=config)
    assert d.info(deployment.id)["deploymentConfigName"] == "Canary20Percent2Minutes"
    assert (
        d.codedeploy.get_deployment_config(deploymentConfigName="Canary20Percent2Minutes")[
            "deploymentConfigInfo"
        ]["trafficRoutingConfig"]
        == config.to_api()
    )


def test_the_same_image_again_is_refused_with_the_way_to_redeploy(sim):
    d = Deployer.create(sim)

    with pytest.raises(ServiceConfigError) as caught:
        run_deploy(sim, image=d.env.image)

    (problem,) = caught.value.problems
    assert "already runs" in problem
    assert f"task_definition={d.env.task_definition_arn!r}" in problem
    assert revisions(d) == [d.env.task_definition_arn]


def test_redeploying_the_running_revision_by_arn_is_allowed_and_noted(sim):
    d = Deployer.create(sim)

    the_plan = run_plan(sim, task_definition=d.env.task_definition_arn)

    assert the_plan.ok
    assert not the_plan.registers_task_definition
    assert the_plan.task_definition_diff == ()
    assert any("revision the service runs now" in n for n in the_plan.notes)


def test_contradictory_arguments_are_refused_before_any_call(sim):
    Deployer.create(sim)
    calls = len(list(sim.api_calls()))

    with pytest.raises(ValidationError, match="exactly one of image"):
        run_deploy(sim, image=NEW_IMAGE, task_definition="web:1")
    with pytest.raises(ValidationError, match="exactly one of image"):
        run_plan(sim)
    with pytest.raises(ValidationError, match="together"):
        run_plan(sim, image=NEW_IMAGE, application="AppECS-prod-web")

    assert len(list(sim.api_calls())) == calls


def test_an_unknown_service_is_not_found(sim):
    Deployer.create(sim)

    with pytest.raises(ResourceNotFoundError):
        plan("prod", "nope", image=NEW_IMAGE, clients=sim.clients())


# -- preflight -------------------------------------------------------------------------------


def test_every_preflight_problem_is_reported_in_one_error_before_any_change(sim):
    d = Deployer.create(sim, load_balancer="network", test_listener=False)
    active = d.deploy()  # another deployment holds the group
    d.set_alarm("ALARM")
    before_revisions = revisions(d)
    sim.calls.clear()

    with pytest.raises(ServiceConfigError) as caught:
        run_deploy(
            sim,
            image={"web": "nginx:latest", "worker": "worker:1"},
            traffic_config=CANARY,
            hooks={"AfterAllowTestTraffic": HOOK, "AfterEverything": HOOK},
            auto_rollback=["DEPLOYMENT_FAILURE", "ON_A_WHIM"],
            description="x" * 300,
        )

    problems = "\n".join(caught.value.problems)
    expected = [
        "container 'worker' is not in task definition web:1",
        "'nginx:latest', whose tag can move",
        "shifts traffic in steps, but the production listener is TCP on a Network Load Balancer",
        "unknown hook event 'AfterEverything'",
        "has no test listener, so the AfterAllowTestTraffic hook would never run",
        "ON_A_WHIM",
        "alarm 'web-5xx' of deployment group AppECS-prod-web/DgpECS-prod-web is in ALARM",
        f"deployment {active} is already active",
        f'bluegreen.Deployment.attach("{active}")',
        f"hook AfterAllowTestTraffic: Lambda function '{HOOK}' in us-east-1 does not exist",
        "description is 300 characters",
    ]
    for text in expected:
        assert text in problems
    assert len(caught.value.problems) == len(expected) - 1  # two name the same problem
    assert "bluegreen wait" not in problems  # Python advice for a Python caller
    assert writes(sim) == []
    assert revisions(d) == before_revisions
    assert deployments(d) == [active]


def test_wiring_problems_are_found_in_the_service_and_its_group(sim):
    d = Deployer.create(sim)
    tg = d.elbv2.describe_target_groups(Names=[d.env.target_group_names[0]])["TargetGroups"][0]
    spare = [
        d.elbv2.create_target_group(
            Name=name, Protocol="HTTP", Port=80, VpcId=tg["VpcId"], TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for name in ("other-a", "other-b")
    ]
    d.codedeploy.update_deployment_group(
        applicationName=d.env.application,
        currentDeploymentGroupName=d.env.deployment_group,
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": "other-a"}, {"name": "other-b"}],
                    "prodTrafficRoute": {"listenerArns": [d.env.production_listener_arn]},
                    "testTrafficRoute": {"listenerArns": [d.env.test_listener_arn]},
                }
            ]
        },
    )
    # CodeDeploy refuses listeners on two load balancers when the group is saved, so put the
    # second one in behind its back: bluegreen checks again, as AWS's docs require it.
    other_lb = d.elbv2.create_load_balancer(Name="other-lb", Subnets=list(d.env.subnets))[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    other_listener = d.elbv2.create_listener(
        LoadBalancerArn=other_lb,
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": spare[0]}],
    )["Listeners"][0]["ListenerArn"]
    group = sim.codedeploy.groups[(d.env.application, d.env.deployment_group)]
    group["loadBalancerInfo"]["targetGroupPairInfoList"][0]["testTrafficRoute"] = {
        "listenerArns": [other_listener]
    }

    the_plan = run_plan(sim, image=NEW_IMAGE)

    problems = "\n".join(the_plan.problems)
    assert "are on different load balancers" in problems
    assert "does not contain the target group the service uses (web-blue)" in problems
    assert not the_plan.ok
    with pytest.raises(ServiceConfigError):
        run_deploy(sim, image=NEW_IMAGE)
    assert revisions(d) == [d.env.task_definition_arn]


def test_a_group_that_deploys_another_service_is_a_problem_naming_the_right_group(sim):
    d = Deployer.create(sim)
    other = sim.create_environment(name="api", cluster="prod")

    the_plan = run_plan(
        sim,
        image=NEW_IMAGE,
        application=other.application,
        deployment_group=other.deployment_group,
    )

    problems = "\n".join(the_plan.problems)
    assert (
        f"{other.application}/{other.deployment_group} deploys prod/api, not prod/web" in problems
    )
    assert f"is {d.env.application}/{d.env.deployment_group}: name that one" in problems


def test_a_service_without_the_code_deploy_controller_is_a_problem(sim):
    d = Deployer.create(sim)
    d.ecs.create_service(
        cluster="prod",
        serviceName="worker",
        taskDefinition=d.env.task_definition_arn,
        desiredCount=1,
        launchType="FARGATE",
    )

    the_plan = plan("prod", "worker", image=NEW_IMAGE, clients=sim.clients())

    problems = "\n".join(the_plan.problems)
    assert "uses the ECS deployment controller" in problems
    assert "no CodeDeploy deployment group deploys service prod/worker" in problems
    assert "has no load balancer" in problems


def test_a_custom_traffic_config_that_does_not_exist_is_a_problem(sim):
    Deployer.create(sim)

    the_plan = run_plan(sim, image=NEW_IMAGE, traffic_config="Canary5Percent1Minutes")

    assert any("'Canary5Percent1Minutes' does not exist" in p for p in the_plan.problems)
    assert the_plan.traffic_config is None
    assert the_plan.schedule is None


def test_a_traffic_config_object_that_exists_with_other_settings_is_a_problem(sim):
    d = Deployer.create(sim)
    d.codedeploy.create_deployment_config(
        deploymentConfigName="Fast",
        computePlatform="ECS",
        trafficRoutingConfig={"type": "AllAtOnce"},
    )

    the_plan = run_plan(
        sim, image=NEW_IMAGE, traffic_config=TrafficConfig.linear(10, 1, name="Fast")
    )

    assert any("'Fast' already exists as all at once" in p for p in the_plan.problems)


def test_mutable_image_tags_are_accepted_when_allowed(sim):
    Deployer.create(sim)

    refused = run_plan(sim, image="nginx:latest")
    allowed = run_plan(sim, image="nginx:latest", allow_mutable_image_tags=True)

    assert any("whose tag can move" in p for p in refused.problems)
    assert allowed.ok


# -- plan ------------------------------------------------------------------------------------


def test_plan_changes_nothing_and_shows_what_deploy_would_do(sim):
    d = Deployer.create(sim, deployment_config=CANARY, ready_wait_minutes=30)
    sim.register_hook(HOOK, d.reporting_hook())
    sim.register_hook("CodeDeployHook_prepare", d.reporting_hook())
    before_revisions, before_deployments = revisions(d), deployments(d)
    sim.calls.clear()

    the_plan = run_plan(
        sim,
        image=NEW_IMAGE,
        hooks={"AfterAllowTestTraffic": HOOK, "BeforeInstall": "CodeDeployHook_prepare"},
    )

    assert writes(sim) == []
    assert revisions(d) == before_revisions
    assert deployments(d) == before_deployments
    assert the_plan.ok, the_plan.problems
    assert the_plan.registers_task_definition
    assert the_plan.new_task_definition_arn.endswith(":task-definition/web:2")
    assert the_plan.schedule.total_minutes == 30 + 5 + 5
    text = str(the_plan)
    for expected in (
        "Plan: deploy to prod/web",
        "web:1 -> web:2",
        f"containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> {NEW_IMAGE}",
        "TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/web:2",
        "ContainerName: web",
        "Traffic: CodeDeployDefault.ECSCanary10Percent5Minutes (canary 10% then the rest",
        "wait for promotion   up to 30 min",
        "total                up to 40 min",
        "BeforeInstall          CodeDeployHook_prepare",
        "AfterAllowTestTraffic  CodeDeployHook_check",
        "automatic on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST "
        "(set by the deployment group)",
        "alarms that stop the deployment: web-5xx",
        "service/prod/web: 1-10 tasks, suspended: nothing",
        "deploy suspends scaling (in, out, scheduled) after recording the state above",
        "No problems found",
    ):
        assert expected in text, expected
    hooks = text[text.index("\nHooks:") :]
    assert hooks.index("BeforeInstall") < hooks.index("AfterAllowTestTraffic")  # run order


def test_plan_to_dict_is_json_ready(sim):
    d = Deployer.create(sim)
    d.set_alarm("ALARM")

    document = json.loads(json.dumps(run_plan(sim, image=NEW_IMAGE, auto_rollback=False).to_dict()))

    assert document["ok"] is False
    assert document["task_definition_diff"] == [
        f"containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> {NEW_IMAGE}"
    ]
    assert document["appspec"]["Resources"][0]["TargetService"]["Properties"][
        "LoadBalancerInfo"
    ] == {"ContainerName": "web", "ContainerPort": 80}
    assert document["schedule"]["total_minutes"] == 5
    assert document["rollback"] == {"events": [], "overridden": True, "alarms": ["web-5xx"]}
    assert document["autoscaling"]["suspended_by_bluegreen"] is True
    assert document["autoscaling"]["suspends"] == ["in", "out", "scheduled"]
    assert document["autoscaling"]["targets"][0]["resource_id"] == "service/prod/web"
    assert "is in ALARM already" in document["problems"][0]


def test_plan_diff_names_changed_environment_secrets_and_tags_by_name(sim):
    d = Deployer.create(sim)
    rich = register_rich_revision(d)
    serving(d, sim, rich)
    changed = dict(described(d, rich)[0])
    container = dict(changed["containerDefinitions"][0])
    container["environment"] = [{"name": "MODE", "value": "canary"}]
    container["secrets"] = []
    arn = d.ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="512",
        taskRoleArn=TASK_ROLE,
        volumes=[{"name": "cache"}],
        containerDefinitions=[container],
        tags=[{"key": "team", "value": "checkout"}],
    )["taskDefinition"]["taskDefinitionArn"]

    the_plan = run_plan(sim, task_definition=arn)

    diff = the_plan.task_definition_diff
    assert "cpu: 256 -> 512" in diff
    assert "containerDefinitions[web].environment[MODE].value: production -> canary" in diff
    assert (
        f'containerDefinitions[web].secrets: [{{"name": "DB_PASSWORD", "valueFrom": "{SECRET}"}}]'
        " -> []" in diff
    )
    assert "tags[team].value: payments -> checkout" in diff
    assert 'tags[cost-center]: {"value": "42"} -> (none)' in diff
    assert "executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole -> (none)" in diff


# -- the path back, and exactly one deployment -----------------------------------------------


def test_create_deployment_refused_for_good_deregisters_the_new_revision(sim, on_call):
    d = Deployer.create(sim)

    def delete_group(**kwargs: Any) -> None:
        d.codedeploy.delete_deployment_group(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )

    on_call("before-call.codedeploy.CreateDeployment", delete_group)

    with pytest.raises(ResourceNotFoundError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert caught.value.code == "DeploymentGroupDoesNotExistException"
    assert any("was deregistered again" in note for note in caught.value.__notes__)
    assert revisions(d) == [d.env.task_definition_arn]
    new = d.ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert new["status"] == "INACTIVE"
    assert sim.codedeploy.deployments == {}


def test_create_deployment_failing_every_time_deregisters_once_none_was_created(sim):
    d = Deployer.create(sim)
    sim.faults.server_error("CreateDeployment", rate=1.0)

    with pytest.raises(ServiceUnavailableError):
        run_deploy(sim, image=NEW_IMAGE)

    attempts = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(attempts) > 1  # retried by bluegreen, one request per attempt
    assert revisions(d) == [d.env.task_definition_arn]
    assert sim.codedeploy.deployments == {}


def test_throttled_create_deployment_is_retried_into_one_deployment(sim):
    d = Deployer.create(sim)
    sim.faults.throttle("CreateDeployment", count=2)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert deployments(d) == [deployment.id]


def test_a_lost_create_deployment_answer_is_recovered_without_a_second_deployment(sim, on_call):
    d = Deployer.create(sim)
    lost: list[str] = []

    def lose_the_answer(parsed: dict[str, Any], **kwargs: Any) -> None:
        # The call went through: the simulator created the deployment. Then the answer is
        # lost on the way back, as with a read timeout.
        if not lost:
            lost.append(parsed["deploymentId"])
            raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")

    on_call("after-call.codedeploy.CreateDeployment", lose_the_answer)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert lost  # the answer really was lost once
    assert deployments(d) == [deployment.id] == lost
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 1
    assert revisions(d)[-1].endswith(":2")  # the revision is kept: the deployment uses it


def test_a_lost_answer_not_yet_listed_is_recognised_when_the_retry_is_refused(sim, on_call):
    d = Deployer.create(sim)
    lost: list[str] = []
    stale: list[bool] = []

    def lose_the_answer(parsed: dict[str, Any], **kwargs: Any) -> None:
        if not lost:
            lost.append(parsed["deploymentId"])
            raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")

    def stale_listing(parsed: dict[str, Any], **kwargs: Any) -> None:
        # ListDeployments does not show the new deployment yet, once.
        if lost and not stale:
            stale.append(True)
            parsed["deployments"] = []

    on_call("after-call.codedeploy.CreateDeployment", lose_the_answer)
    on_call("after-call.codedeploy.ListDeployments", stale_listing)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert stale
    assert deployments(d) == [deployment.id] == lost
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 2  # the second was refused: the group already had ours


def test_each_request_sends_its_own_appspec_sha256(sim):
    d = Deployer.create(sim)
    arn = d.register_revision(image=NEW_IMAGE)

    first = run_deploy(sim, task_definition=arn)
    d.done(first.id)
    second = run_deploy(sim, task_definition=arn)

    shas = {d.info(i)["revision"]["appSpecContent"]["sha256"] for i in (first.id, second.id)}
    assert len(shas) == 2
    assert sent_appspec(d, first.id) == sent_appspec(d, second.id)


def test_when_looking_for_a_lost_deployment_fails_the_revision_is_kept(sim, on_call):
    d = Deployer.create(sim)
    lost: list[str] = []

    def lose_the_answer_and_the_listing(parsed: dict[str, Any], **kwargs: Any) -> None:
        if not lost:
            lost.append(parsed["deploymentId"])
            sim.faults.server_error("ListDeployments", rate=1.0)
            raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")

    on_call("after-call.codedeploy.CreateDeployment", lose_the_answer_and_the_listing)

    with pytest.raises(ServiceUnavailableError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert "not trying again, to avoid a second deployment" in str(caught.value)
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 1
    assert any("was kept" in note for note in caught.value.__notes__)
    assert list(sim.codedeploy.deployments) == lost  # one deployment, never a second
    assert revisions(d)[-1].endswith(":2")


def test_auto_rollback_true_turns_on_every_event_and_a_string_lists_them(sim):
    Deployer.create(sim)

    every = run_plan(sim, image=NEW_IMAGE, auto_rollback=True)
    listed = run_plan(
        sim, image=NEW_IMAGE, auto_rollback="DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM"
    )

    assert every.auto_rollback_events == (
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
        "DEPLOYMENT_STOP_ON_REQUEST",
    )
    assert listed.auto_rollback_events == ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
    assert every.auto_rollback_overridden
    assert listed.ok
