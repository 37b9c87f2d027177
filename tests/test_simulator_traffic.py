"""Contract sections 3 and 6: deployment configurations and what CodeDeploy does to ECS task
sets and load-balancer listeners, read back with DescribeServices and DescribeListeners."""

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

from bluegreen.testing import SimSettings, Simulator

# (config, [(minute after AllowTraffic starts, green %), ...]), contract section 3.1.
PREDEFINED_SCHEDULES = {
    "CodeDeployDefault.ECSAllAtOnce": [(0, 100)],
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": [(m, 10 * (m + 1)) for m in range(10)],
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": [(3 * i, 10 * (i + 1)) for i in range(10)],
    "CodeDeployDefault.ECSCanary10Percent5Minutes": [(0, 10), (5, 100)],
    "CodeDeployDefault.ECSCanary10Percent15Minutes": [(0, 10), (15, 100)],
}


def assert_production_schedule(d, deployment_id, expected):
    """Step through AllowTraffic, reading the production listener just before and at every
    step time the config dictates."""
    d.until_event(deployment_id, "BeforeAllowTraffic", "InProgress")
    assert d.traffic() == {"web-blue": 100}
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    start = d.event(deployment_id, "AllowTraffic")["startTime"].timestamp()
    green = 0
    for minute, percent in expected:
        if minute:
            d.advance_to(start + minute * 60 - 1)
            assert d.traffic() == {"web-green": green, "web-blue": 100 - green}, minute
        d.advance_to(start + minute * 60)
        assert d.traffic() == {"web-green": percent, "web-blue": 100 - percent}, minute
        green = percent
    written = d.sim.deployment(deployment_id).extras["weights"]
    assert [(t - start, p) for t, p in written] == [(m * 60.0, p) for m, p in expected]
    d.until_event(deployment_id, "AllowTraffic", "Succeeded", timeout=60)


# -- 3.1 predefined and custom schedules ---------------------------------------------


@pytest.mark.parametrize(("config", "expected"), PREDEFINED_SCHEDULES.items())
def test_3_1_predefined_config_writes_production_weights_at_its_step_times(sim, config, expected):
    d = Deployer.create(sim, deployment_config=config)
    deployment_id = d.deploy()

    assert_production_schedule(d, deployment_id, expected)
    assert d.info(deployment_id)["deploymentConfigName"] == config
    assert d.done(deployment_id) == "Succeeded"


def test_3_1_custom_linear_30_percent_steps_30_60_90_then_100(sim):
    d = Deployer.create(sim)
    d.codedeploy.create_deployment_config(
        deploymentConfigName="Linear30PercentEvery2Minutes",
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": 30, "linearInterval": 2},
        },
    )
    deployment_id = d.deploy(deploymentConfigName="Linear30PercentEvery2Minutes")

    assert_production_schedule(d, deployment_id, [(0, 30), (2, 60), (4, 90), (6, 100)])
    assert d.done(deployment_id) == "Succeeded"


def test_3_1_custom_canary_shifts_its_percentage_then_the_rest_after_its_interval(sim):
    d = Deployer.create(sim)
    d.codedeploy.create_deployment_config(
        deploymentConfigName="Canary25Percent45Minutes",
        computePlatform="ECS",
        trafficRoutingConfig={
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 45},
        },
    )
    d.codedeploy.update_deployment_group(
        applicationName=d.env.application,
        currentDeploymentGroupName=d.env.deployment_group,
        deploymentConfigName="Canary25Percent45Minutes",
    )
    deployment_id = d.deploy()

    assert_production_schedule(d, deployment_id, [(0, 25), (45, 100)])
    assert d.done(deployment_id) == "Succeeded"


def test_3_1_target_traffic_weights_mirror_the_production_listener_during_a_canary(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)

    weights = {
        ts["taskSetLabel"]: ts["trafficWeight"] for ts in d.target(deployment_id)["taskSetsInfo"]
    }
    assert weights == {"Blue": 90.0, "Green": 10.0}
    assert d.traffic() == {"web-green": 10, "web-blue": 90}


def test_3_1_network_load_balancer_deploys_all_at_once(sim):
    d = Deployer.create(sim, load_balancer="network")
    deployment_id = d.deploy()

    assert_production_schedule(d, deployment_id, [(0, 100)])
    assert d.done(deployment_id) == "Succeeded"
    listener = d.elbv2.describe_listeners(ListenerArns=[d.env.production_listener_arn])
    assert listener["Listeners"][0]["Protocol"] == "TCP"


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


# -- 6.1 the ECS side ----------------------------------------------------------------


def test_6_1_code_deploy_service_starts_with_one_primary_task_set_and_no_deployments(sim):
    d = Deployer.create(sim)

    [service] = d.ecs.describe_services(cluster=d.env.cluster, services=[d.env.service])["services"]
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert service["deployments"] == []
    [blue] = service["taskSets"]
    assert blue["status"] == "PRIMARY"
    assert blue["scale"] == {"value": 100.0, "unit": "PERCENT"}
    assert blue["computedDesiredCount"] == blue["runningCount"] == service["desiredCount"] == 2
    assert blue["stabilityStatus"] == "STEADY_STATE"
    assert "externalId" not in blue
    assert "startedBy" not in blue
    assert blue["taskDefinition"] == service["taskDefinition"] == d.env.task_definition_arn
    assert blue["loadBalancers"][0]["targetGroupArn"] == d.env.target_group_arns[0]


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


def test_6_1_green_becomes_primary_after_allow_traffic_by_default(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    new = d.register_revision()
    deployment_id = d.deploy(appspec=d.appspec(new))
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)
    assert d.task_set("PRIMARY")["taskDefinition"] == d.env.task_definition_arn

    d.until_event(deployment_id, "AllowTraffic", "Succeeded")
    assert d.task_set("PRIMARY")["taskDefinition"] == new
    assert d.task_set("ACTIVE")["taskDefinition"] == d.env.task_definition_arn
    [service] = d.ecs.describe_services(cluster=d.env.cluster, services=[d.env.service])["services"]
    assert service["taskDefinition"] == new


def test_6_1_green_becomes_primary_before_allow_traffic_when_configured():
    with Simulator(settings=SimSettings(primary_switch="before_allow_traffic")) as sim:
        d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
        new = d.register_revision()
        deployment_id = d.deploy(appspec=d.appspec(new))
        d.until_event(deployment_id, "AllowTraffic", "InProgress")
        sim.advance(60)

        assert d.traffic() == {"web-green": 10, "web-blue": 90}
        assert d.task_set("PRIMARY")["taskDefinition"] == new
        assert d.done(deployment_id) == "Succeeded"


def test_6_1_after_the_termination_wait_blue_drains_at_scale_0_and_is_deleted(sim):
    d = Deployer.create(sim, termination_wait_minutes=10)
    new = d.register_revision()
    deployment_id = d.deploy(appspec=d.appspec(new))
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    ended = d.event(deployment_id, "AfterAllowTraffic")["endTime"].timestamp()

    d.advance_to(ended + 10 * 60 - 1)
    assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]
    d.advance_to(ended + 10 * 60)
    blue = next(ts for ts in d.task_sets() if ts["status"] != "PRIMARY")
    assert blue["status"] == "DRAINING"
    assert blue["scale"]["value"] == 0.0
    assert d.status(deployment_id) == "InProgress"

    assert d.done(deployment_id) == "Succeeded"
    [green] = d.task_sets()
    assert green["status"] == "PRIMARY"
    assert green["taskDefinition"] == new
    assert d.info(deployment_id)["completeTime"].timestamp() > ended + 10 * 60


# -- 6.2 the load-balancer side ------------------------------------------------------


def test_6_2_production_listener_ends_weighted_green_100_blue_0_without_a_plain_target(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    assert d.done(deployment_id) == "Succeeded"

    listener = d.elbv2.describe_listeners(ListenerArns=[d.env.production_listener_arn])
    [action] = listener["Listeners"][0]["DefaultActions"]
    assert action["Type"] == "forward"
    assert "TargetGroupArn" not in action
    assert action["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": d.env.target_group_arns[1], "Weight": 100},
        {"TargetGroupArn": d.env.target_group_arns[0], "Weight": 0},
    ]


def test_6_2_target_groups_swap_roles_on_the_next_deployment(sim):
    d = Deployer.create(sim)
    first = d.deploy()
    assert d.done(first) == "Succeeded"
    assert d.traffic() == {"web-green": 100, "web-blue": 0}

    second_revision = d.register_revision(image="nginx:1.29")
    second = d.deploy(appspec=d.appspec(second_revision))
    d.until_event(second, "Install", "Succeeded")
    labels = {
        ts["taskSetLabel"]: ts["targetGroup"]["name"] for ts in d.target(second)["taskSetsInfo"]
    }
    assert labels == {"Blue": "web-green", "Green": "web-blue"}
    assert d.task_set("ACTIVE")["loadBalancers"][0]["targetGroupArn"] == d.env.target_group_arns[0]

    assert d.done(second) == "Succeeded"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}
    [primary] = d.task_sets()
    assert primary["taskDefinition"] == second_revision
    assert primary["loadBalancers"][0]["targetGroupArn"] == d.env.target_group_arns[0]


def test_6_2_test_listener_ends_on_the_new_primary_target_group(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()

    assert d.done(deployment_id) == "Succeeded"
    assert d.traffic(d.env.test_listener_arn) == {"web-green": 100, "web-blue": 0}
