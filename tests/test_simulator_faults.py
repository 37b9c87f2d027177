"""Injected API faults (``_faults``, contract 10) and botocore's retries, through boto3
against the simulator."""

import types

import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

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
