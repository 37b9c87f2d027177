"""The Install event (``_lifecycle_install``, contract 2.1, 6.1 and 8): the green task
set, task definitions that fail it, and a green that never gets healthy, read back with
DescribeServices through boto3."""

import attrs
from deploying import Deployer

from bluegreen.testing import SimSettings, Simulator


def test_8_container_port_missing_from_the_task_definition_is_ecs_update_error(sim):
    d = Deployer.create(sim)
    revision = d.register_revision(port=8080)
    deployment_id = d.deploy(appspec=d.appspec(revision))

    assert d.done(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"] == {
        "code": "ECS_UPDATE_ERROR",
        "message": "The ECS service cannot be updated due to an unexpected error: The container "
        "web did not have a container port 80 defined. Check your ECS service status.",
    }
    assert d.events(deployment_id)["Install"] == "Failed"
    assert len(d.task_sets()) == 1


def test_8_container_name_missing_from_the_task_definition_is_ecs_update_error(sim):
    d = Deployer.create(sim)
    spec = attrs.evolve(d.appspec(), container_name="staging-web")
    deployment_id = d.deploy(appspec=spec)

    assert d.done(deployment_id) == "Failed"
    error = d.info(deployment_id)["errorInformation"]
    assert error["code"] == "ECS_UPDATE_ERROR"
    assert "The container does not exist in the task definition." in error["message"]


# -- 8 green never gets healthy -----------------------------------------------------------


def test_8_unhealthy_green_stays_in_install_for_3600_s_then_fails_and_rolls_back(sim):
    d = Deployer.create(sim)
    sim.faults.unhealthy_green = True
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")
    started = d.event(deployment_id, "Install")["startTime"].timestamp()

    d.advance_to(started + 3599)
    assert d.events(deployment_id)["Install"] == "InProgress"
    green = d.task_set("ACTIVE")
    assert green["stabilityStatus"] == "STABILIZING"
    assert green["runningCount"] == 0

    d.advance_to(started + 3600)
    assert d.status(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"]["code"] == "TIMEOUT"
    assert d.done(deployment_id) == "Failed"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert len(d.task_sets()) == 1


def test_8_install_timeout_and_its_error_code_are_settings():
    settings = SimSettings(install_timeout=600, install_timeout_error_code="ECS_UPDATE_ERROR")
    with Simulator(settings=settings) as sim:
        d = Deployer.create(sim)
        sim.faults.unhealthy_green = True
        deployment_id = d.deploy()
        d.until_event(deployment_id, "Install", "InProgress")

        assert d.until_status(deployment_id, "Failed") == 600
        assert d.info(deployment_id)["errorInformation"]["code"] == "ECS_UPDATE_ERROR"


def test_6_1_install_creates_green_on_the_other_target_group_started_by_code_deploy(sim):
    d = Deployer.create(sim)
    new = d.register_revision()
    deployment_id = d.deploy(appspec=d.appspec(new))
    d.until_event(deployment_id, "Install", "InProgress")

    green = d.task_set("ACTIVE")
    assert green["startedBy"] == "CODE_DEPLOY"
    assert green["externalId"] == deployment_id
    assert green["scale"] == {"value": 100.0, "unit": "PERCENT"}
    assert green["computedDesiredCount"] == 2
    assert green["taskDefinition"] == new
    assert green["loadBalancers"] == [
        {"targetGroupArn": d.env.target_group_arns[1], "containerName": "web", "containerPort": 80}
    ]
    assert green["launchType"] == "FARGATE"
    assert green["networkConfiguration"] == d.task_set("PRIMARY")["networkConfiguration"]
    assert green["stabilityStatus"] == "STABILIZING"
    assert (green["runningCount"], green["pendingCount"]) == (0, 2)
    installed = d.event(deployment_id, "Install")["startTime"]
    assert green["createdAt"] == green["stabilityStatusAt"] == installed

    d.until_event(deployment_id, "Install", "Succeeded")
    green = d.task_set("ACTIVE")
    assert green["stabilityStatus"] == "STEADY_STATE"
    assert (green["stabilityStatusAt"] - installed).total_seconds() == 60
    assert (green["runningCount"], green["pendingCount"]) == (2, 0)
    described = d.ecs.describe_task_sets(
        cluster=d.env.cluster,
        service=d.env.service,
        taskSets=[ts["taskSetArn"] for ts in d.task_sets()],
    )["taskSets"]
    assert sorted(ts["status"] for ts in described) == ["ACTIVE", "PRIMARY"]
    [service] = d.ecs.describe_services(cluster=d.env.cluster, services=[d.env.service])["services"]
    assert service["runningCount"] == 4
    assert service["taskDefinition"] == d.env.task_definition_arn
