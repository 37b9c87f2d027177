"""The CodeDeploy API's deployment targets (``_api_targets``, contract 5.5): the one
``<cluster>:<service>`` target, its task sets and malformed or unknown target ids, through
boto3 against the simulator."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

# -- 5.5 deployment targets ----------------------------------------------------------


def test_5_5_targets_are_unavailable_before_the_deployment_starts(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    assert d.status(deployment_id) == "Created"

    for call in (
        lambda: d.codedeploy.list_deployment_targets(deploymentId=deployment_id),
        lambda: d.target(deployment_id),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_code(caught.value) == "DeploymentNotStartedException"


def test_5_5_the_one_target_is_cluster_colon_service(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "InProgress")

    listed = d.codedeploy.list_deployment_targets(deploymentId=deployment_id)
    assert listed["targetIds"] == ["prod:web"]
    filtered = d.codedeploy.list_deployment_targets(
        deploymentId=deployment_id, targetFilters={"TargetStatus": ["Failed"]}
    )
    assert filtered["targetIds"] == []
    answer = d.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId="prod:web")
    assert answer["deploymentTarget"]["deploymentTargetType"] == "ECSTarget"
    target = answer["deploymentTarget"]["ecsTarget"]
    assert target["deploymentId"] == deployment_id
    assert target["targetId"] == "prod:web"
    assert target["targetArn"] == d.env.service_arn
    assert target["status"] == "InProgress"
    assert "lastUpdatedAt" in target


def test_5_5_task_sets_info_uses_aws_field_names_labels_and_weights(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)

    infos = {ts["taskSetLabel"]: ts for ts in d.target(deployment_id)["taskSetsInfo"]}
    assert set(infos) == {"Blue", "Green"}
    ids = {ts["status"]: ts["id"] for ts in d.task_sets()}
    blue, green = infos["Blue"], infos["Green"]
    assert "identifier" not in blue
    assert blue["identifer"] == ids["PRIMARY"]
    assert green["identifer"] == ids["ACTIVE"]
    assert green["identifer"].startswith("ecs-svc/")
    assert (blue["trafficWeight"], green["trafficWeight"]) == (90.0, 10.0)
    assert isinstance(green["trafficWeight"], float)
    assert (blue["targetGroup"], green["targetGroup"]) == (
        {"name": "web-blue"},
        {"name": "web-green"},
    )
    assert (green["desiredCount"], green["runningCount"], green["pendingCount"]) == (2, 2, 0)
    assert (blue["status"], green["status"]) == ("PRIMARY", "ACTIVE")


def test_5_5_batch_get_deployment_targets_takes_exactly_one_target(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "InProgress")

    one = d.codedeploy.batch_get_deployment_targets(
        deploymentId=deployment_id, targetIds=["prod:web"]
    )
    assert one["deploymentTargets"][0]["ecsTarget"]["targetId"] == "prod:web"
    with pytest.raises(ClientError) as caught:
        d.codedeploy.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=["prod:web", "prod:api"]
        )
    assert error_code(caught.value) == "DeploymentTargetListSizeExceededException"
    assert "must have exactly one item" in str(caught.value)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId="prod:api")
    assert error_code(caught.value) == "DeploymentTargetDoesNotExistException"


# -- 2. malformed deployment target ids ------------------------------------------------


@pytest.mark.parametrize("target_id", ["prod", "prod:", ":web", "prod:web:extra", "prod/web"])
def test_a_malformed_ecs_target_id_is_invalid(sim, target_id):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "BeforeInstall")

    with pytest.raises(ClientError) as single:
        d.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId=target_id)
    with pytest.raises(ClientError) as batch:
        d.codedeploy.batch_get_deployment_targets(deploymentId=deployment_id, targetIds=[target_id])

    assert error_code(single.value) == "InvalidDeploymentTargetIdException"
    assert error_code(batch.value) == "InvalidDeploymentTargetIdException"


def test_a_well_formed_unknown_target_id_does_not_exist(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "BeforeInstall")

    with pytest.raises(ClientError) as single:
        d.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId="prod:other")
    with pytest.raises(ClientError) as batch:
        d.codedeploy.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=["other:web"]
        )

    assert error_code(single.value) == "DeploymentTargetDoesNotExistException"
    assert error_code(batch.value) == "DeploymentTargetDoesNotExistException"
