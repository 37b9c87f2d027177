"""Injected API faults (``_faults``, contract 10) and botocore's retries, through boto3
against the simulator: throttling, 5xx, and connections reset before or after the service
carried the request out, in-process and over ``sim serve``."""

import types

import boto3
import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from deploying import Deployer, error_code

from bluegreen import ServiceUnavailableError
from bluegreen._aws import translate
from bluegreen.testing import Faults, Simulator

ONE_ATTEMPT = Config(retries={"total_max_attempts": 1})

# -- 10 injected API faults and botocore's retries ---------------------------------------


@pytest.fixture
def no_retry_sleep(monkeypatch):
    """botocore sleeps (real time) before a retry; record the delays instead. Only
    botocore's endpoint gets the recording ``time``: bluegreen's own pacing sleeps too."""
    delays = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=delays.append))
    return delays


def get_deployment_calls(sim):
    return sum(1 for _, _, operation in sim.api_calls("codedeploy") if operation == "GetDeployment")


def test_10_one_throttled_call_succeeds_after_botocore_retries(sim, no_retry_sleep):
    d = Deployer.create(sim)
    retrying = Deployer(
        sim, d.env, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )
    deployment_id = d.deploy()
    before = get_deployment_calls(sim)
    sim.faults.throttle("GetDeployment", count=1)

    assert retrying.status(deployment_id) == "Created"
    assert get_deployment_calls(sim) - before == 2
    assert len(no_retry_sleep) == 1


def test_10_always_throttled_call_surfaces_throttling_exception(sim, no_retry_sleep):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.faults.throttle("GetDeployment", rate=1.0)

    once = Deployer(sim, d.env, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        once.status(deployment_id)
    assert error_code(caught.value) == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert no_retry_sleep == []

    retrying = Deployer(
        sim, d.env, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )
    before = get_deployment_calls(sim)
    with pytest.raises(ClientError) as caught:
        retrying.status(deployment_id)
    assert error_code(caught.value) == "ThrottlingException"
    assert get_deployment_calls(sim) - before == 3

    sim.faults.clear()
    assert d.done(deployment_id) == "Succeeded"


def test_10_server_errors_are_retried_and_surface_when_they_persist(sim, no_retry_sleep):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    retrying = Deployer(
        sim, d.env, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )

    sim.faults.server_error("GetDeployment", count=1)
    assert retrying.status(deployment_id) == "Created"
    assert len(no_retry_sleep) == 1

    sim.faults.server_error("GetDeployment", rate=1.0)
    once = Deployer(sim, d.env, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        once.status(deployment_id)
    assert error_code(caught.value) == "ServiceUnavailable"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_10_query_protocol_faults_reach_elbv2_callers(sim, no_retry_sleep):
    d = Deployer.create(sim)
    sim.faults.throttle("DescribeListeners", service="elasticloadbalancing", rate=1.0)

    once = Deployer(sim, d.env, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        once.traffic()
    assert error_code(caught.value) == "Throttling"


def test_10_faults_on_the_api_do_not_change_the_deployment(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.faults.throttle("GetDeployment", rate=1.0)
    sim.advance(3600)
    sim.faults.clear()

    assert d.status(deployment_id) == "Succeeded"


# -- connections reset before or after the service carried the request out ---------------------


def revisions(d):
    return d.ecs.list_task_definitions(familyPrefix=d.env.family)["taskDefinitionArns"]


def test_a_reset_before_the_request_reached_the_service_changes_nothing(sim):
    d = Deployer.create(sim)
    once = Deployer(sim, d.env, config=ONE_ATTEMPT)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="before", count=1)

    with pytest.raises(ConnectionClosedError) as caught:
        once.register_revision()

    assert revisions(d) == [d.env.task_definition_arn]
    assert sim.faults.injected == {"reset_before": 1}
    error = translate(caught.value, "RegisterTaskDefinition")
    assert isinstance(error, ServiceUnavailableError)  # bluegreen retries it (after looking)
    assert error.code == "ConnectionError"


def test_a_reset_after_the_service_carried_the_request_out_loses_only_the_answer(sim):
    d = Deployer.create(sim)
    once = Deployer(sim, d.env, config=ONE_ATTEMPT)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="after", count=1)
    sim.faults.reset("CreateDeployment", when="after", count=1)

    with pytest.raises(ConnectionClosedError):
        once.register_revision()  # answered by moto
    with pytest.raises(ConnectionClosedError):
        once.deploy(appspec=once.appspec(d.env.task_definition_arn))  # by the simulator

    assert len(revisions(d)) == 2
    assert len(sim.codedeploy.deployments) == 1
    assert sim.faults.injected == {"reset_after": 2}
    assert d.info(next(iter(sim.codedeploy.deployments)))["status"] == "Created"


def test_botocores_own_retries_repeat_a_change_whose_answer_was_lost(sim, no_retry_sleep):
    # Why bluegreen turns botocore's retries off and looks before retrying a change.
    d = Deployer.create(sim)
    retrying = Deployer(sim, d.env, config=Config(retries={"mode": "standard"}))
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="after", count=1)

    retrying.register_revision()

    assert len(revisions(d)) == 3  # one orphan
    assert len(no_retry_sleep) == 1


def test_mixed_faults_are_seeded_and_counted_by_kind():
    def draws(seed):
        faults = Faults(seed=seed)
        faults.mixed(0.5)
        return [faults.match("ecs", "DescribeServices") for _ in range(200)], faults.injected

    first, counted = draws(7)
    again, _ = draws(7)
    other, _ = draws(8)

    assert first == again
    assert first != other
    kinds = [fault.kind for fault in first if fault is not None]
    assert set(kinds) == {"throttle", "server_error", "reset_before", "reset_after"}
    assert counted == {kind: kinds.count(kind) for kind in set(kinds)}
    assert 60 < len(kinds) < 140


def test_lambda_get_function_faults_parse_as_json_errors(sim):
    lam = sim.clients().client("lambda")
    sim.faults.throttle("GetFunction", service="lambda", count=1)

    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName="CodeDeployHook_check")

    assert error_code(caught.value) == "ThrottlingException"


def test_resets_reach_a_served_simulator_as_closed_connections():
    with Simulator(speed=60).serve() as server:
        server.create_environment()
        ecs = boto3.client(
            "ecs", endpoint_url=server.endpoint_url, region_name="us-east-1", config=ONE_ATTEMPT
        )
        described = ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]
        arguments = {
            key: described[key]
            for key in ("family", "containerDefinitions", "networkMode", "cpu", "memory")
        }
        server.simulator.faults.reset("RegisterTaskDefinition", service="ecs", when="after")
        server.simulator.faults.reset("ListTaskDefinitions", service="ecs", when="before")

        with pytest.raises(ConnectionClosedError):
            ecs.register_task_definition(**arguments)
        with pytest.raises(ConnectionClosedError):
            ecs.list_task_definitions(familyPrefix="web")
        server.simulator.faults.clear()

        assert len(ecs.list_task_definitions(familyPrefix="web")["taskDefinitionArns"]) == 2
        assert server.simulator.faults.injected == {"reset_after": 1, "reset_before": 1}
