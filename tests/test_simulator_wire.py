"""What users saw with the AWS CLI and boto3 against the simulator, fixed and pinned down
in-process through real boto3 clients: deploymentOverview agrees with the target,
malformed target ids, the other platforms' predefined configs, unknown statuses in
ListDeployments, the ``Date`` header in simulated time and Lambda ``GetFunction`` for
registered hooks. (The served equivalents are in ``test_sim_server.py``.)"""

from __future__ import annotations

import email.utils
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters
from deploying import Deployer, error_code

from bluegreen.errors import TrafficConfigError
from bluegreen.traffic import get_deployment_config

HOOK = "CodeDeployHook_check"
ACCOUNT = "123456789012"


def _overview_of_target(d: Deployer, deployment_id: str) -> dict[str, int]:
    """The deploymentOverview that agrees with the deployment's one (ECS) target."""
    status = d.target(deployment_id)["status"]
    return {
        k: int(k == status)
        for k in ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")
    }


def _assert_overview_agrees(d: Deployer, deployment_id: str, target_status: str) -> None:
    assert d.target(deployment_id)["status"] == target_status
    assert d.info(deployment_id)["deploymentOverview"] == _overview_of_target(d, deployment_id)


# -- 1. deploymentOverview agrees with the target in every state ----------------------


@pytest.fixture
def counting_sim(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A simulator that shows ``deploymentOverview`` while the deployment runs too."""
    from bluegreen.testing import SimSettings, Simulator

    with Simulator(settings=SimSettings(overview_while_running=True)) as running:
        yield running


def test_overview_agrees_with_the_target_in_progress_ready_wait_and_success(counting_sim):
    d = Deployer.create(counting_sim, ready_wait_minutes=60, termination_wait_minutes=30)
    deployment_id = d.deploy()
    assert d.info(deployment_id)["deploymentOverview"]["Pending"] == 1  # Created

    d.until_event(deployment_id, "Install")
    _assert_overview_agrees(d, deployment_id, "InProgress")

    d.until_status(deployment_id, "Ready")
    _assert_overview_agrees(d, deployment_id, "Ready")

    d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    assert d.status(deployment_id) == "InProgress"  # the termination wait
    _assert_overview_agrees(d, deployment_id, "Succeeded")

    assert d.done(deployment_id) == "Succeeded"
    _assert_overview_agrees(d, deployment_id, "Succeeded")


def test_overview_of_a_stopped_deployment_counts_its_failed_target(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    assert d.status(deployment_id) == "Stopped"
    _assert_overview_agrees(d, deployment_id, "Failed")
    assert d.info(deployment_id)["deploymentOverview"]["Failed"] == 1


def test_overview_of_a_failed_deployment_and_its_rollback_agree_with_their_targets(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    _assert_overview_agrees(d, deployment_id, "Failed")
    rollback = d.rollback_of(deployment_id)
    assert d.status(rollback) == "Succeeded"
    _assert_overview_agrees(d, rollback, "Succeeded")


def test_overview_of_a_deployment_stopped_by_an_alarm_in_the_termination_wait(sim):
    d = Deployer.create(sim, termination_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    d.set_alarm()

    assert d.done(deployment_id) == "Stopped"
    overview = d.info(deployment_id)["deploymentOverview"]
    assert overview == _overview_of_target(d, deployment_id)
    assert sum(overview.values()) == 1


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


def test_the_error_codes_are_in_botocores_model():
    model = botocore.session.get_session().get_service_model("codedeploy")
    for operation in ("GetDeploymentTarget", "BatchGetDeploymentTargets"):
        errors = {e.name for e in model.operation_model(operation).error_shapes}
        assert {"InvalidDeploymentTargetIdException", "DeploymentTargetDoesNotExistException"} <= (
            errors
        )
    errors = {e.name for e in model.operation_model("ListDeployments").error_shapes}
    assert "InvalidDeploymentStatusException" in errors


# -- 3. the predefined configs of the other compute platforms -------------------------

SERVER_CONFIGS = {
    "CodeDeployDefault.OneAtATime": {"type": "MOST_CONCURRENCY", "value": 1},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    "CodeDeployDefault.AllAtOnce": {"type": "FLEET_PERCENT", "value": 0},
}


def _canary(minutes: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": minutes},
    }


def _linear(minutes: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": minutes},
    }


LAMBDA_CONFIGS = {
    "CodeDeployDefault.LambdaCanary10Percent5Minutes": _canary(5),
    "CodeDeployDefault.LambdaCanary10Percent10Minutes": _canary(10),
    "CodeDeployDefault.LambdaCanary10Percent15Minutes": _canary(15),
    "CodeDeployDefault.LambdaCanary10Percent30Minutes": _canary(30),
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": _linear(1),
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes": _linear(2),
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes": _linear(3),
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes": _linear(10),
    "CodeDeployDefault.LambdaAllAtOnce": {"type": "AllAtOnce"},
}


def test_list_deployment_configs_names_every_platforms_predefined_configs(sim):
    d = Deployer(sim, None)
    names = d.codedeploy.list_deployment_configs()["deploymentConfigsList"]

    assert set(SERVER_CONFIGS) | set(LAMBDA_CONFIGS) <= set(names)
    assert "CodeDeployDefault.ECSAllAtOnce" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", sorted(SERVER_CONFIGS))
def test_get_deployment_config_answers_the_server_configs(sim, name):
    info = Deployer(sim, None).codedeploy.get_deployment_config(deploymentConfigName=name)[
        "deploymentConfigInfo"
    ]

    assert info["deploymentConfigName"] == name
    assert info["computePlatform"] == "Server"
    assert info["minimumHealthyHosts"] == SERVER_CONFIGS[name]
    assert "trafficRoutingConfig" not in info


@pytest.mark.parametrize("name", sorted(LAMBDA_CONFIGS))
def test_get_deployment_config_answers_the_lambda_configs(sim, name):
    info = Deployer(sim, None).codedeploy.get_deployment_config(deploymentConfigName=name)[
        "deploymentConfigInfo"
    ]

    assert info["deploymentConfigName"] == name
    assert info["computePlatform"] == "Lambda"
    assert info["trafficRoutingConfig"] == LAMBDA_CONFIGS[name]


@pytest.mark.parametrize(
    "name", ["CodeDeployDefault.OneAtATime", "CodeDeployDefault.LambdaCanary10Percent5Minutes"]
)
def test_the_library_refuses_a_non_ecs_predefined_config_clearly(sim, name):
    with pytest.raises(TrafficConfigError, match="compute platform"):
        get_deployment_config(name, clients=sim.clients())


def test_an_ecs_deployment_with_a_non_ecs_predefined_config_is_refused(sim):
    d = Deployer.create(sim)

    with pytest.raises(ClientError) as caught:
        d.deploy(deploymentConfigName="CodeDeployDefault.AllAtOnce")

    assert error_code(caught.value) == "InvalidDeploymentConfigNameException"
    assert "Server compute platform" in caught.value.response["Error"]["Message"]


def test_a_predefined_config_of_another_platform_cannot_be_deleted(sim):
    d = Deployer(sim, None)
    with pytest.raises(ClientError):
        d.codedeploy.delete_deployment_config(deploymentConfigName="CodeDeployDefault.OneAtATime")
    names = d.codedeploy.list_deployment_configs()["deploymentConfigsList"]
    assert "CodeDeployDefault.OneAtATime" in names


# -- 4. ListDeployments with an unknown status -----------------------------------------


def test_list_deployments_refuses_an_unknown_status(sim):
    d = Deployer.create(sim)
    d.deploy()

    with pytest.raises(ClientError) as caught:
        d.codedeploy.list_deployments(includeOnlyStatuses=["InProgress", "Running"])

    assert error_code(caught.value) == "InvalidDeploymentStatusException"
    assert "Running" in caught.value.response["Error"]["Message"]


def test_list_deployments_accepts_every_status_of_the_model(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    model = botocore.session.get_session().get_service_model("codedeploy")
    statuses = list(model.shape_for("DeploymentStatus").enum)

    found = d.codedeploy.list_deployments(includeOnlyStatuses=statuses)["deployments"]

    assert found == [deployment_id]


# -- 6. the Date header in simulated time ----------------------------------------------


def _date(response: dict[str, Any]) -> float:
    header = response["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert header.endswith(" GMT")
    assert email.utils.format_datetime(email.utils.parsedate_to_datetime(header), True) == header
    return email.utils.parsedate_to_datetime(header).timestamp()


def test_every_service_answers_with_the_simulated_date(sim):
    d = Deployer.create(sim)
    sim.advance(3 * 24 * 3600 + 7)  # three days ahead of the wall clock
    now = sim.clock.time()

    answers = [
        d.codedeploy.list_applications(),
        d.ecs.list_clusters(),  # moto, JSON
        d.elbv2.describe_load_balancers(),  # moto, query/XML
        d.cloudwatch.describe_alarms(),
        d.autoscaling.describe_scalable_targets(ServiceNamespace="ecs"),
    ]

    assert [_date(a) for a in answers] == [int(now)] * len(answers)


def test_error_answers_carry_the_simulated_date_too(sim):
    d = Deployer.create(sim)
    sim.advance(86400)
    with pytest.raises(ClientError) as codedeploy:
        d.codedeploy.get_deployment(deploymentId="d-AAAAAAAAA")
    with pytest.raises(ClientError) as ecs:
        d.ecs.describe_task_definition(taskDefinition="missing:1")

    assert _date(codedeploy.value.response) == int(sim.clock.time())
    assert _date(ecs.value.response) == int(sim.clock.time())


def test_the_date_header_and_the_deployment_timestamps_share_one_clock(sim):
    d = Deployer.create(sim)
    sim.advance(5000)
    created = d.codedeploy.create_deployment(
        applicationName=d.env.application,
        deploymentGroupName=d.env.deployment_group,
        revision=dict(d.appspec().revision()),
    )
    deployment_id = created["deploymentId"]
    sim.advance(600)
    answer = d.codedeploy.get_deployment(deploymentId=deployment_id)

    info = answer["deploymentInfo"]
    assert _date(created) == int(info["createTime"].timestamp())
    assert _date(answer) - _date(created) == 600
    assert _date(answer) >= info["startTime"].timestamp()


# -- 7. Lambda GetFunction for registered hooks -----------------------------------------


def _lambda(sim: Any) -> Any:
    return sim.clients().session.client("lambda")


def _check_against_the_model(answer: dict[str, Any]) -> None:
    """The answer fits GetFunction's output shape in botocore's lambda model."""
    model = botocore.session.get_session().get_service_model("lambda")
    shape = model.operation_model("GetFunction").output_shape
    validate_parameters({k: v for k, v in answer.items() if k != "ResponseMetadata"}, shape)


def verify(event: dict[str, Any], context: Any) -> None:
    """A hook that does nothing (GetFunction only reads its registration)."""


@pytest.mark.parametrize(
    "function_name",
    [
        HOOK,
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}",
        f"{ACCOUNT}:function:{HOOK}",
    ],
    ids=["name", "full-arn", "partial-arn"],
)
def test_get_function_answers_a_registered_hook(sim, function_name):
    sim.register_hook(HOOK, verify, timeout_seconds=30)

    answer = _lambda(sim).get_function(FunctionName=function_name)

    _check_against_the_model(answer)
    config = answer["Configuration"]
    assert config["FunctionName"] == HOOK
    assert config["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}"
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "test_simulator_wire.verify"
    assert config["State"] == "Active"
    assert config["LastUpdateStatus"] == "Successful"
    assert config["Timeout"] == 30
    assert config["Version"] == "$LATEST"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_get_function_answers_a_hook_registered_by_arn_and_asked_with_a_qualifier(sim):
    sim.register_hook(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}:live", verify)

    answer = _lambda(sim).get_function(FunctionName=HOOK, Qualifier="live")

    _check_against_the_model(answer)
    assert answer["Configuration"]["FunctionArn"].endswith(f":function:{HOOK}:live")


@pytest.mark.parametrize(
    ("function_name", "arn"),
    [
        ("CodeDeployHook_missing", "function:CodeDeployHook_missing"),
        (
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:CodeDeployHook_missing",
            "function:CodeDeployHook_missing",
        ),
        (f"{ACCOUNT}:function:CodeDeployHook_missing", "function:CodeDeployHook_missing"),
    ],
    ids=["name", "full-arn", "partial-arn"],
)
def test_get_function_of_an_unregistered_function_is_not_found(sim, function_name, arn):
    sim.register_hook(HOOK, verify)

    with pytest.raises(ClientError) as caught:
        _lambda(sim).get_function(FunctionName=function_name)

    error = caught.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:{arn}"
    )


def test_get_function_is_recorded_and_carries_the_simulated_date(sim):
    sim.register_hook(HOOK, verify)
    sim.advance(7200)

    answer = _lambda(sim).get_function(FunctionName=HOOK)

    assert _date(answer) == int(sim.clock.time())
    assert [c[2] for c in sim.api_calls("lambda")] == ["GetFunction"]
