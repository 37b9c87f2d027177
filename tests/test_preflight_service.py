"""bluegreen.preflight: every problem with the service, its deployment group and the traffic
config is found before anything changes, on the simulator.
"""

from __future__ import annotations

import pytest
from deploying import (
    NEW_IMAGE,
    Deployer,
    deployments,
    revisions,
    run_deploy,
    run_plan,
    writes,
)

from bluegreen import (
    ServiceConfigError,
    TrafficConfig,
)
from bluegreen.deploying import plan

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


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
