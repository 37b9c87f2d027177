"""The CodeDeploy API's deployment controls (``_api_deployments``, contract 5.2 and 5.3):
ContinueDeployment and StopDeployment, through boto3 against the simulator."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

HOOK = "CodeDeployHook_check"


# -- 5.2 ContinueDeployment ----------------------------------------------------------


def test_5_1_continue_ready_wait_only_in_ready_state(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "InProgress")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="READY_WAIT"
        )
    assert error_code(caught.value) == "DeploymentIsNotInReadyStateException"
    assert "does not have a status of Ready and can't continue yet" in str(caught.value)


def test_5_2_continue_on_a_completed_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    for wait_type in ("READY_WAIT", "TERMINATION_WAIT"):
        with pytest.raises(ClientError) as caught:
            d.codedeploy.continue_deployment(
                deploymentId=deployment_id, deploymentWaitType=wait_type
            )
        assert error_code(caught.value) == "DeploymentAlreadyCompletedException"


def test_5_2_continue_with_an_unknown_wait_type_is_refused(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="SOON")
    assert error_code(caught.value) == "InvalidDeploymentWaitTypeException"
    assert d.status(deployment_id) == "Ready"


def test_5_2_termination_wait_continue_before_the_termination_wait_is_refused(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT"
        )
    assert error_code(caught.value) == "InvalidDeploymentStatusException"


def test_5_2_continue_without_a_wait_type_means_ready_wait(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    d.codedeploy.continue_deployment(deploymentId=deployment_id)
    assert d.done(deployment_id) == "Succeeded"


@pytest.mark.parametrize(
    ("deployment_id", "code"),
    [("d-AAAAAAAAA", "DeploymentDoesNotExistException"), ("nope", "InvalidDeploymentIdException")],
)
def test_5_2_continue_names_a_deployment_that_exists(sim, deployment_id, code):
    d = Deployer(sim, env=None)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(deploymentId=deployment_id)
    assert error_code(caught.value) == code


# -- 5.3 StopDeployment --------------------------------------------------------------


def test_5_3_stop_with_rollback_stops_and_rolls_back(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterInstall", "Succeeded")

    answer = d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert answer["status"] == "Succeeded"
    assert d.status(deployment_id) == "Stopped"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    assert d.done(deployment_id) == "Stopped"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert len(d.task_sets()) == 1
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}


def test_5_3_stop_without_rollback_leaves_green_in_place(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterInstall", "Succeeded")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    assert d.done(deployment_id) == "Stopped"
    assert "rollbackInfo" not in d.info(deployment_id)
    assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]
    events = d.events(deployment_id)
    assert "Pending" not in events.values()
    assert "InProgress" not in events.values()


@pytest.mark.parametrize(
    ("group_events", "rolls_back"),
    [
        (["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"], True),
        (["DEPLOYMENT_FAILURE"], False),
    ],
)
def test_5_3_stop_without_the_parameter_follows_the_group_stop_on_request(
    sim, group_events, rolls_back
):
    d = Deployer.create(sim, auto_rollback_events=group_events)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterInstall", "Succeeded")

    d.codedeploy.stop_deployment(deploymentId=deployment_id)
    assert d.done(deployment_id) == "Stopped"
    assert ("rollbackInfo" in d.info(deployment_id)) is rolls_back
    assert len(d.task_sets()) == (1 if rolls_back else 2)


def test_5_3_stop_before_install_has_nothing_to_roll_back(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.silent_hook())
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    d.until_event(deployment_id, "BeforeInstall", "InProgress")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert d.done(deployment_id) == "Stopped"
    assert "rollbackInfo" not in d.info(deployment_id)
    assert len(d.task_sets()) == 1


def test_5_3_stop_on_a_completed_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(ClientError) as caught:
        d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert error_code(caught.value) == "DeploymentAlreadyCompletedException"


def test_5_3_stop_with_rollback_during_the_termination_wait_brings_blue_back(sim):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    sim.advance(5 * 60)

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert d.done(deployment_id) == "Stopped"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    [blue] = d.task_sets()
    assert blue["taskDefinition"] == d.env.task_definition_arn


def test_5_3_once_blue_is_being_terminated_the_deployment_cannot_be_stopped(sim):
    d = Deployer.create(sim, termination_wait_minutes=0)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    assert "DRAINING" in {ts["status"] for ts in d.task_sets()}

    with pytest.raises(ClientError) as caught:
        d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert error_code(caught.value) == "DeploymentAlreadyCompletedException"
    assert d.done(deployment_id) == "Succeeded"


def test_5_3_stop_a_deployment_waiting_in_ready(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert d.done(deployment_id) == "Stopped"
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}
    assert len(d.task_sets()) == 1
