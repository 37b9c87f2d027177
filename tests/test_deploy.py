"""bluegreen.deploying: ``deploy`` and ``plan`` end to end, on the simulator through real boto3
clients (the parts have their own files: test_preflight_*, test_revision, test_plan,
test_create, test_arguments).

Retries sleep on the simulator's virtual clock, so nothing here waits in real time.
"""

from __future__ import annotations

import pytest
from deploying import (
    NEW_IMAGE,
    Deployer,
    deployments,
    run_deploy,
    run_plan,
)

from bluegreen import (
    DeploymentStatus,
    ResourceNotFoundError,
    ServiceConfigError,
    TrafficConfig,
)
from bluegreen.deploying import plan

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


# -- deploying an image ----------------------------------------------------------------------


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


def test_an_unknown_service_is_not_found(sim):
    Deployer.create(sim)

    with pytest.raises(ResourceNotFoundError):
        plan("prod", "nope", image=NEW_IMAGE, clients=sim.clients())


# -- every call through the one door ------------------------------------------------------------


def test_deploy_and_plan_survive_three_throttles_in_a_row_on_one_preflight_read(sim):
    Deployer.create(sim)
    start = sim.clock.time()

    sim.faults.throttle("DescribeListeners", service="elasticloadbalancing", count=3)
    planned = run_plan(sim, image=NEW_IMAGE)
    sim.faults.throttle("DescribeListeners", service="elasticloadbalancing", count=3)
    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert planned.ok
    assert planned.service.production is not None
    assert deployment.id
    listeners = [
        op for _, _, op in sim.api_calls("elasticloadbalancing") if op == "DescribeListeners"
    ]
    assert len(listeners) == 2 * 4  # plan's and deploy's: three refused, the fourth answered
    assert sim.clock.time() > start  # the pauses slept on the simulator's clock


def test_deploy_reads_each_thing_once_before_create_deployment(sim):
    Deployer.create(sim)
    before = len(list(sim.api_calls()))

    run_deploy(sim, image=NEW_IMAGE)

    calls = [f"{service}:{op}" for _, service, op in list(sim.api_calls())[before:]]
    first = calls[: calls.index("codedeploy:CreateDeployment")]
    preflight = [
        "codedeploy:GetDeploymentGroup",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeListeners",
        "ecs:DescribeTaskDefinition",  # the revision's number comes from registering it
        "monitoring:DescribeAlarms",
        "codedeploy:ListDeployments",
    ]
    assert all(first.count(call) == 1 for call in preflight), first
    assert first.count("ecs:RegisterTaskDefinition") == 1
    # 18 before issue 12, 17 after the reorganisation; scaling now uses the preflight's
    # reads of the service and its targets (test_calls_release counts each operation).
    assert len(first) <= 12, first
