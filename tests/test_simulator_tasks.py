"""Simulated ECS tasks (``_tasks``, contract 7): Application Auto Scaling activities
during a deployment and the scalable target's SuspendedState."""

from deploying import Deployer

# -- 7 autoscaling during a deployment ---------------------------------------------------


def test_7_scaling_that_settles_within_5_minutes_lets_the_deployment_continue(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")

    assert sim.scaling_activity("prod", "web", 4, settle_seconds=240)
    [service] = d.ecs.describe_services(cluster="prod", services=["web"])["services"]
    assert service["desiredCount"] == 4
    assert {ts["computedDesiredCount"] for ts in service["taskSets"]} == {4}
    assert {ts["stabilityStatus"] for ts in service["taskSets"]} == {"STABILIZING"}

    sim.advance(240)
    assert {ts["stabilityStatus"] for ts in d.task_sets()} == {"STEADY_STATE"}
    assert d.done(deployment_id) == "Succeeded"
    [green] = d.task_sets()
    assert green["runningCount"] == 4


def test_7_scaling_that_does_not_settle_within_5_minutes_fails_the_deployment(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)

    assert sim.scaling_activity("prod", "web", 5, settle_seconds=600)
    sim.advance(299)
    assert d.status(deployment_id) == "InProgress"
    sim.advance(1)
    assert d.status(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    assert d.events(deployment_id)["AllowTraffic"] == "Failed"
    assert d.done(deployment_id) == "Failed"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}


def test_7_suspended_dynamic_scale_out_blocks_scaling_but_not_scale_in(sim):
    d = Deployer.create(sim)
    d.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/web",
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState={"DynamicScalingOutSuspended": True},
    )
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "Succeeded")

    assert not sim.scaling_activity("prod", "web", 6)
    [service] = d.ecs.describe_services(cluster="prod", services=["web"])["services"]
    assert service["desiredCount"] == 2
    assert sim.scaling_activity("prod", "web", 1, settle_seconds=30)
    assert d.done(deployment_id) == "Succeeded"


def test_7_suspended_dynamic_scale_in_blocks_scaling_in(sim):
    d = Deployer.create(sim)
    d.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/web",
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState={"DynamicScalingInSuspended": True},
    )
    assert not sim.scaling_activity("prod", "web", 1)
    assert sim.scaling_activity("prod", "web", 3, settle_seconds=30)
