"""ensure_deployment_config() and get_deployment_config() against the simulated CodeDeploy."""

from collections import Counter

import boto3
import pytest

from bluegreen import (
    PREDEFINED_CONFIGS,
    Clients,
    ConflictError,
    ResourceNotFoundError,
    TrafficConfig,
    TrafficConfigError,
    ensure_deployment_config,
    get_deployment_config,
)

CANARY = TrafficConfig.canary(20, 10)  # named Canary20Percent10Minutes


@pytest.fixture
def codedeploy(sim):
    """A plain boto3 CodeDeploy client talking to the simulator."""
    return boto3.client("codedeploy")


@pytest.fixture
def clients(codedeploy):
    return Clients(codedeploy=codedeploy)


def operations(sim):
    return Counter(operation for _, _, operation in sim.api_calls())


def create_server_config(codedeploy, name):
    """A deployment config for EC2/on-premises instances, not ECS."""
    codedeploy.create_deployment_config(
        deploymentConfigName=name,
        computePlatform="Server",
        minimumHealthyHosts={"type": "HOST_COUNT", "value": 1},
    )


def before_create(codedeploy, action):
    """Run ``action`` just before ``codedeploy`` sends CreateDeploymentConfig: another
    process getting there between bluegreen's read and its create."""

    def handler(**_):
        action()

    codedeploy.meta.events.register("before-call.codedeploy.CreateDeploymentConfig", handler)


def test_ensure_creates_a_missing_config_with_its_settings(sim, clients, codedeploy):
    assert ensure_deployment_config(CANARY, clients=clients) == "created"

    info = codedeploy.get_deployment_config(deploymentConfigName="Canary20Percent10Minutes")[
        "deploymentConfigInfo"
    ]
    assert info["computePlatform"] == "ECS"
    assert info["trafficRoutingConfig"] == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 20, "canaryInterval": 10},
    }
    assert get_deployment_config("Canary20Percent10Minutes", clients=clients) == CANARY


def test_ensure_of_an_identical_config_says_exists_and_creates_nothing(sim, clients):
    ensure_deployment_config(CANARY, clients=clients)
    created = operations(sim)["CreateDeploymentConfig"]

    assert ensure_deployment_config(TrafficConfig.canary(20, 10), clients=clients) == "exists"
    assert operations(sim)["CreateDeploymentConfig"] == created


def test_ensure_with_other_settings_under_the_same_name_conflicts_and_says_what_exists(
    sim, clients
):
    ensure_deployment_config(CANARY, clients=clients)
    linear = TrafficConfig.linear(20, 10, name="Canary20Percent10Minutes")

    with pytest.raises(ConflictError) as caught:
        ensure_deployment_config(linear, clients=clients)

    message = str(caught.value)
    assert "already exists as canary 20% then the rest after 10 min" in message
    assert "not linear +20% every 10 min" in message


@pytest.mark.parametrize("name", PREDEFINED_CONFIGS)
def test_predefined_configs_need_no_aws_call(sim, clients, name):
    assert ensure_deployment_config(TrafficConfig.named(name), clients=clients) == "predefined"
    assert get_deployment_config(name, clients=clients) == PREDEFINED_CONFIGS[name]
    assert list(sim.api_calls()) == []


def test_ensure_over_a_server_platform_config_of_the_same_name_conflicts(sim, clients, codedeploy):
    create_server_config(codedeploy, "Canary20Percent10Minutes")

    with pytest.raises(ConflictError, match="is not an ECS config"):
        ensure_deployment_config(CANARY, clients=clients)


def test_get_deployment_config_rejects_a_server_platform_config(sim, clients, codedeploy):
    create_server_config(codedeploy, "OneHostAtATime")

    with pytest.raises(TrafficConfigError, match="Server compute platform"):
        get_deployment_config("OneHostAtATime", clients=clients)


def test_get_deployment_config_of_an_unknown_name_is_resource_not_found(sim, clients):
    with pytest.raises(ResourceNotFoundError) as caught:
        get_deployment_config("NoSuchConfig", clients=clients)

    assert caught.value.code == "DeploymentConfigDoesNotExistException"
    assert caught.value.operation == "GetDeploymentConfig"


def test_a_config_created_by_another_process_during_ensure_with_the_same_settings_exists(
    sim, clients, codedeploy
):
    before_create(codedeploy, lambda: ensure_deployment_config(CANARY))

    assert ensure_deployment_config(CANARY, clients=clients) == "exists"


def test_a_config_created_by_another_process_during_ensure_with_other_settings_conflicts(
    sim, clients, codedeploy
):
    other = TrafficConfig.canary(50, 10, name="Canary20Percent10Minutes")
    before_create(codedeploy, lambda: ensure_deployment_config(other))

    with pytest.raises(ConflictError, match="already exists as canary 50%"):
        ensure_deployment_config(CANARY, clients=clients)


def test_a_server_config_created_by_another_process_during_ensure_conflicts(
    sim, clients, codedeploy
):
    before_create(codedeploy, lambda: create_server_config(boto3.client("codedeploy"), CANARY.name))

    with pytest.raises(ConflictError, match="is not an ECS config"):
        ensure_deployment_config(CANARY, clients=clients)


def test_ensure_retries_throttling_through_the_callers_clock_and_counts_each_call(sim):
    from bluegreen._aws import Caller

    caller = Caller(clock=sim.clock, budget=None)
    sim.faults.throttle("GetDeploymentConfig", count=2)
    sim.faults.server_error("CreateDeploymentConfig", count=1)
    started = sim.clock.time()

    assert ensure_deployment_config(CANARY, clients=sim.clients(), caller=caller) == "created"

    assert caller.counts == Counter({"GetDeploymentConfig": 3, "CreateDeploymentConfig": 2})
    assert sim.clock.time() > started  # the pauses passed in simulated time
    assert get_deployment_config(CANARY.name, clients=sim.clients(), caller=caller) == CANARY
