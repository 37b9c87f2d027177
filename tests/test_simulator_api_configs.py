"""The CodeDeploy API's deployment configs (``_api_configs``, contract 3): custom
configs, the predefined configs of every platform, and the configs a Network Load Balancer
refuses, through boto3 against the simulator."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

from bluegreen.errors import TrafficConfigError
from bluegreen.traffic import get_deployment_config

# (config, [(minute after AllowTraffic starts, green %), ...]), contract section 3.1.
PREDEFINED_SCHEDULES = {
    "CodeDeployDefault.ECSAllAtOnce": [(0, 100)],
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": [(m, 10 * (m + 1)) for m in range(10)],
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": [(3 * i, 10 * (i + 1)) for i in range(10)],
    "CodeDeployDefault.ECSCanary10Percent5Minutes": [(0, 10), (5, 100)],
    "CodeDeployDefault.ECSCanary10Percent15Minutes": [(0, 10), (15, 100)],
}


# -- 3.2 custom configurations -------------------------------------------------------


def canary(percentage, interval):
    return {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": percentage, "canaryInterval": interval},
    }


def linear(percentage, interval):
    return {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": percentage, "linearInterval": interval},
    }


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


def test_3_1_network_load_balancer_rejects_canary_and_linear_configs(sim):
    with pytest.raises(ClientError) as caught:
        sim.create_environment(
            load_balancer="network",
            deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes",
        )
    assert error_code(caught.value) == "InvalidDeploymentConfigNameException"
    assert "Network Load Balancer" in str(caught.value)


def test_3_1_network_load_balancer_rejects_a_canary_override_at_create_deployment(sim):
    d = Deployer.create(sim, load_balancer="network")
    with pytest.raises(ClientError) as caught:
        d.deploy(deploymentConfigName="CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    assert error_code(caught.value) == "InvalidDeploymentConfigNameException"


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (
            {
                "deploymentConfigName": "CodeDeployDefault.Mine",
                "trafficRoutingConfig": canary(10, 5),
            },
            "InvalidDeploymentConfigNameException",
        ),
        (
            {"deploymentConfigName": "has spaces", "trafficRoutingConfig": canary(10, 5)},
            "InvalidDeploymentConfigNameException",
        ),
        (
            {"deploymentConfigName": "x" * 101, "trafficRoutingConfig": canary(10, 5)},
            "InvalidDeploymentConfigNameException",
        ),
        (
            {"deploymentConfigName": "c", "trafficRoutingConfig": canary(0, 5)},
            "InvalidTrafficRoutingConfigurationException",
        ),
        (
            {"deploymentConfigName": "c", "trafficRoutingConfig": canary(100, 5)},
            "InvalidTrafficRoutingConfigurationException",
        ),
        (
            {"deploymentConfigName": "c", "trafficRoutingConfig": linear(101, 1)},
            "InvalidTrafficRoutingConfigurationException",
        ),
        (
            {"deploymentConfigName": "c", "trafficRoutingConfig": linear(10, 0)},
            "InvalidTrafficRoutingConfigurationException",
        ),
        (
            {"deploymentConfigName": "c", "trafficRoutingConfig": {"type": "Sideways"}},
            "InvalidTrafficRoutingConfigurationException",
        ),
        ({"deploymentConfigName": "c"}, "InvalidTrafficRoutingConfigurationException"),
        (
            {
                "deploymentConfigName": "c",
                "trafficRoutingConfig": canary(10, 5),
                "minimumHealthyHosts": {"type": "HOST_COUNT", "value": 1},
            },
            "InvalidMinimumHealthyHostValueException",
        ),
        (
            {
                "deploymentConfigName": "c",
                "trafficRoutingConfig": canary(10, 5),
                "zonalConfig": {"monitorDurationInSeconds": 60},
            },
            "InvalidZonalDeploymentConfigurationException",
        ),
        (
            {
                "deploymentConfigName": "c",
                "trafficRoutingConfig": canary(10, 5),
                "computePlatform": "Mainframe",
            },
            "InvalidComputePlatformException",
        ),
    ],
)
def test_3_2_create_deployment_config_rejects(sim, arguments, code):
    d = Deployer(sim, env=None)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_config(**{"computePlatform": "ECS", **arguments})
    assert error_code(caught.value) == code


def test_3_2_custom_config_is_read_back_and_its_name_is_taken(sim):
    d = Deployer(sim, env=None)
    d.codedeploy.create_deployment_config(
        deploymentConfigName="Canary25Percent45Minutes",
        computePlatform="ECS",
        trafficRoutingConfig=canary(25, 45),
    )
    info = d.codedeploy.get_deployment_config(deploymentConfigName="Canary25Percent45Minutes")[
        "deploymentConfigInfo"
    ]
    assert info["computePlatform"] == "ECS"
    assert info["trafficRoutingConfig"] == canary(25, 45)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_config(
            deploymentConfigName="Canary25Percent45Minutes",
            computePlatform="ECS",
            trafficRoutingConfig=linear(10, 1),
        )
    assert error_code(caught.value) == "DeploymentConfigAlreadyExistsException"


def test_3_2_predefined_configs_are_readable_and_cannot_be_deleted(sim):
    d = Deployer(sim, env=None)
    info = d.codedeploy.get_deployment_config(
        deploymentConfigName="CodeDeployDefault.ECSLinear10PercentEvery3Minutes"
    )["deploymentConfigInfo"]
    assert info["trafficRoutingConfig"] == linear(10, 3)
    listed = d.codedeploy.list_deployment_configs()["deploymentConfigsList"]
    assert set(PREDEFINED_SCHEDULES) <= set(listed)
    with pytest.raises(ClientError):
        d.codedeploy.delete_deployment_config(deploymentConfigName="CodeDeployDefault.ECSAllAtOnce")


def test_3_2_a_config_in_use_by_a_group_cannot_be_deleted(sim):
    d = Deployer(sim, env=None)
    d.codedeploy.create_deployment_config(
        deploymentConfigName="Linear20", computePlatform="ECS", trafficRoutingConfig=linear(20, 1)
    )
    d.env = sim.create_environment(deployment_config="Linear20")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.delete_deployment_config(deploymentConfigName="Linear20")
    assert error_code(caught.value) == "DeploymentConfigInUseException"


def test_3_2_at_most_200_custom_configs(sim):
    d = Deployer(sim, env=None)
    for i in range(200):
        d.codedeploy.create_deployment_config(
            deploymentConfigName=f"Linear{i}",
            computePlatform="ECS",
            trafficRoutingConfig=linear(10, 1),
        )
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_config(
            deploymentConfigName="OneTooMany",
            computePlatform="ECS",
            trafficRoutingConfig=linear(10, 1),
        )
    assert error_code(caught.value) == "DeploymentConfigLimitExceededException"


def test_3_2_unknown_config_name_at_create_deployment(sim):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.deploy(deploymentConfigName="NoSuchConfig")
    assert error_code(caught.value) == "DeploymentConfigDoesNotExistException"


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
