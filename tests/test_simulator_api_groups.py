"""The CodeDeploy API's deployment groups (``_api_groups``, contract 4): CodeDeploy's
validation of an ECS blue/green group, through boto3 against the simulator."""

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code


def group_request(d, **changes):
    """CreateDeploymentGroup arguments for the sample service, with ``changes`` applied;
    the sample group is deleted first so the service is free to join a new one."""
    info = d.group()
    d.codedeploy.delete_deployment_group(
        applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
    )
    request = {
        "applicationName": d.env.application,
        "deploymentGroupName": "second",
        "serviceRoleArn": info["serviceRoleArn"],
        "deploymentConfigName": info["deploymentConfigName"],
        "deploymentStyle": info["deploymentStyle"],
        "blueGreenDeploymentConfiguration": info["blueGreenDeploymentConfiguration"],
        "ecsServices": info["ecsServices"],
        "loadBalancerInfo": info["loadBalancerInfo"],
        "autoRollbackConfiguration": info["autoRollbackConfiguration"],
        "alarmConfiguration": info["alarmConfiguration"],
    }
    request.update(changes)
    return request


def ready_option(action, minutes=None):
    option = {"actionOnTimeout": action}
    if minutes is not None:
        option["waitTimeInMinutes"] = minutes
    return {
        "deploymentReadyOption": option,
        "terminateBlueInstancesOnDeploymentSuccess": {
            "action": "TERMINATE",
            "terminationWaitTimeInMinutes": 5,
        },
    }


# -- 4 group validation --------------------------------------------------------------


def test_4_continue_deployment_with_a_wait_time_is_rejected(sim):
    d = Deployer.create(sim)
    request = group_request(
        d, blueGreenDeploymentConfiguration=ready_option("CONTINUE_DEPLOYMENT", 10)
    )
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidBlueGreenDeploymentConfigurationException"
    assert "cannot be set to 'CONTINUE_DEPLOYMENT' when timeout is specified" in str(caught.value)


def test_4_continue_deployment_is_echoed_with_a_zero_wait_time(sim):
    d = Deployer.create(sim)
    ready = d.group()["blueGreenDeploymentConfiguration"]["deploymentReadyOption"]
    assert ready == {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0}


def test_4_auto_scaling_groups_are_rejected(sim):
    d = Deployer.create(sim)
    request = group_request(d, autoScalingGroups=["my-asg"])
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidAutoScalingGroupException"
    assert "autoScalingGroups can not be specified" in str(caught.value)


def test_4_enabled_auto_rollback_without_events_is_rejected(sim):
    d = Deployer.create(sim)
    request = group_request(d, autoRollbackConfiguration={"enabled": True})
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidAutoRollbackConfigException"


@pytest.mark.parametrize(
    ("alarms", "code"),
    [
        (
            {"enabled": True, "alarms": [{"name": f"a{i}"} for i in range(11)]},
            "AlarmsLimitExceededException",
        ),
        ({"enabled": True, "alarms": []}, "InvalidAlarmConfigException"),
        (
            {"enabled": True, "alarms": [{"name": "a"}, {"name": "a"}]},
            "InvalidAlarmConfigException",
        ),
        ({"enabled": True, "alarms": [{"name": "a" * 256}]}, "InvalidAlarmConfigException"),
    ],
)
def test_4_alarm_configuration_limits(sim, alarms, code):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**group_request(d, alarmConfiguration=alarms))
    assert error_code(caught.value) == code


def test_4_ten_alarms_are_accepted(sim):
    d = Deployer.create(sim)
    alarms = {"enabled": True, "alarms": [{"name": f"a{i}"} for i in range(10)]}
    d.codedeploy.create_deployment_group(**group_request(d, alarmConfiguration=alarms))


def test_4_a_service_belongs_to_only_one_deployment_group(sim):
    d = Deployer.create(sim)
    info = d.group()
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(
            applicationName=d.env.application,
            deploymentGroupName="second",
            serviceRoleArn=info["serviceRoleArn"],
            deploymentStyle=info["deploymentStyle"],
            blueGreenDeploymentConfiguration=info["blueGreenDeploymentConfiguration"],
            ecsServices=info["ecsServices"],
            loadBalancerInfo=info["loadBalancerInfo"],
        )
    assert error_code(caught.value) == "ECSServiceMappingLimitExceededException"


@pytest.mark.parametrize(
    "style",
    [
        {"deploymentType": "IN_PLACE", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"},
    ],
)
def test_4_deployment_style_must_be_blue_green_with_traffic_control(sim, style):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**group_request(d, deploymentStyle=style))
    assert error_code(caught.value) == "InvalidDeploymentStyleException"


def test_4_keep_alive_is_not_accepted_for_ecs(sim):
    d = Deployer.create(sim)
    config = ready_option("CONTINUE_DEPLOYMENT")
    config["terminateBlueInstancesOnDeploymentSuccess"] = {"action": "KEEP_ALIVE"}
    request = group_request(d, blueGreenDeploymentConfiguration=config)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidBlueGreenDeploymentConfigurationException"


def test_4_termination_wait_is_at_most_2880_minutes(sim):
    d = Deployer.create(sim)
    config = ready_option("CONTINUE_DEPLOYMENT")
    config["terminateBlueInstancesOnDeploymentSuccess"]["terminationWaitTimeInMinutes"] = 2881
    request = group_request(d, blueGreenDeploymentConfiguration=config)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidBlueGreenDeploymentConfigurationException"


def test_4_target_group_pair_needs_two_groups_by_name(sim):
    d = Deployer.create(sim)
    pair = d.group()["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    pair = {**pair, "targetGroups": pair["targetGroups"][:1]}
    request = group_request(d, loadBalancerInfo={"targetGroupPairInfoList": [pair]})
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidTargetGroupPairException"


def test_4_group_needs_an_ecs_application(sim):
    d = Deployer.create(sim)
    d.codedeploy.create_application(applicationName="servers", computePlatform="Server")
    request = group_request(d, applicationName="servers")
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidLoadBalancerInfoException"
    assert "no target group was specified in targetGroupInfoList" in str(caught.value)


def test_4_service_needs_the_code_deploy_controller(sim):
    d = Deployer.create(sim)
    d.ecs.create_service(
        cluster=d.env.cluster,
        serviceName="rolling",
        taskDefinition=d.env.task_definition_arn,
        desiredCount=1,
    )
    request = group_request(d, ecsServices=[{"serviceName": "rolling", "clusterName": "prod"}])
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment_group(**request)
    assert error_code(caught.value) == "InvalidECSServiceException"
