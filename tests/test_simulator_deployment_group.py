"""Contract section 4: deployment-group validation, the ready wait, the termination wait and
CloudWatch alarms, through boto3 against the simulator."""

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"


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


# -- 4 the ready wait ----------------------------------------------------------------


def test_4_stop_deployment_waits_in_ready_with_test_traffic_on_green(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()

    d.until_status(deployment_id, "Ready")
    assert d.target(deployment_id)["status"] == "Ready"
    events = d.events(deployment_id)
    assert events["AfterAllowTestTraffic"] == "Succeeded"
    assert events["BeforeAllowTraffic"] == "Pending"
    assert d.traffic(d.env.test_listener_arn) == {"web-green": 100, "web-blue": 0}
    assert d.traffic() == {"web-blue": 100}
    sim.advance(29 * 60)
    assert d.status(deployment_id) == "Ready"

    d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert d.status(deployment_id) == "InProgress"
    assert d.done(deployment_id) == "Succeeded"
    assert d.traffic() == {"web-green": 100, "web-blue": 0}


def test_4_without_a_test_listener_the_ready_wait_follows_after_install(sim):
    d = Deployer.create(sim, ready_wait_minutes=30, test_listener=False)
    deployment_id = d.deploy()

    d.until_status(deployment_id, "Ready")
    events = d.events(deployment_id)
    assert events["AfterInstall"] == "Succeeded"
    assert events["AllowTestTraffic"] == events["AfterAllowTestTraffic"] == "Skipped"
    d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert d.done(deployment_id) == "Succeeded"


def test_4_ready_wait_expiry_stops_the_deployment_and_rolls_back_on_stop_on_request(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")
    ready_at = d.event(deployment_id, "AfterAllowTestTraffic")["endTime"].timestamp()

    d.advance_to(ready_at + 30 * 60 - 1)
    assert d.status(deployment_id) == "Ready"
    d.advance_to(ready_at + 30 * 60)
    assert d.status(deployment_id) == "Stopped"
    events = d.events(deployment_id)
    assert events["BeforeAllowTraffic"] == events["AllowTraffic"] == "Skipped"
    assert d.done(deployment_id) == "Stopped"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert len(d.task_sets()) == 1
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}


def test_4_ready_wait_expiry_without_stop_on_request_keeps_green(sim):
    d = Deployer.create(sim, ready_wait_minutes=5, auto_rollback_events=["DEPLOYMENT_FAILURE"])
    deployment_id = d.deploy()

    assert d.done(deployment_id) == "Stopped"
    assert "rollbackInfo" not in d.info(deployment_id)
    assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]


def test_4_ready_wait_expiry_never_rolls_back_when_configured_so():
    with Simulator(settings=SimSettings(ready_timeout_rolls_back=False)) as sim:
        d = Deployer.create(sim, ready_wait_minutes=5)
        deployment_id = d.deploy()

        assert d.done(deployment_id) == "Stopped"
        assert "rollbackInfo" not in d.info(deployment_id)
        assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]


# -- 4 the termination wait ----------------------------------------------------------


def test_4_termination_wait_keeps_blue_for_its_minutes(sim):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    ended = d.event(deployment_id, "AfterAllowTraffic")["endTime"].timestamp()

    d.advance_to(ended + 59 * 60)
    assert d.status(deployment_id) == "InProgress"
    assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]
    assert d.done(deployment_id) == "Succeeded"
    assert d.info(deployment_id)["completeTime"].timestamp() >= ended + 60 * 60


@pytest.mark.parametrize("how", ["continue_deployment", "skip_wait_time_for_instance_termination"])
def test_4_continue_deployment_termination_wait_ends_the_wait_early(sim, how):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    sim.advance(60)

    if how == "continue_deployment":
        d.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT"
        )
    else:
        d.codedeploy.skip_wait_time_for_instance_termination(deploymentId=deployment_id)
    assert "DRAINING" in {ts["status"] for ts in d.task_sets()}
    assert d.until_status(deployment_id, "Succeeded") <= 60
    assert len(d.task_sets()) == 1


def test_4_termination_wait_of_zero_ends_right_after_all_traffic_moved(sim):
    d = Deployer.create(sim, termination_wait_minutes=0)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")

    assert d.until_status(deployment_id, "Succeeded") <= 60


# -- 4 alarms ------------------------------------------------------------------------


def test_4_alarm_already_in_alarm_stops_the_deployment_at_install_and_rolls_back(sim):
    d = Deployer.create(sim)
    d.set_alarm("ALARM")
    deployment_id = d.deploy()

    assert d.done(deployment_id) == "Stopped"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert info["errorInformation"]["message"] == (
        "One or more alarms have been activated according to the Amazon CloudWatch metrics you "
        "selected, and the affected deployments have been stopped. Activated alarms: web-5xx"
    )
    assert d.events(deployment_id) == {
        "BeforeInstall": "Succeeded",
        "Install": "Failed",
        "AfterInstall": "Skipped",
        "AllowTestTraffic": "Skipped",
        "AfterAllowTestTraffic": "Skipped",
        "BeforeAllowTraffic": "Skipped",
        "AllowTraffic": "Skipped",
        "AfterAllowTraffic": "Skipped",
    }
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    [blue] = d.task_sets()
    assert blue["taskDefinition"] == d.env.task_definition_arn


def test_4_alarm_during_the_shift_stops_fails_allow_traffic_skips_the_rest_and_rolls_back(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)
    assert d.traffic() == {"web-green": 10, "web-blue": 90}

    d.set_alarm("ALARM")
    assert d.done(deployment_id) == "Stopped"
    assert d.info(deployment_id)["errorInformation"]["code"] == "ALARM_ACTIVE"
    events = d.events(deployment_id)
    assert [events[n] for n in list(events)[:6]] == ["Succeeded"] * 6
    assert events["AllowTraffic"] == "Failed"
    assert events["AfterAllowTraffic"] == "Skipped"
    rollback_id = d.rollback_of(deployment_id)
    assert d.info(rollback_id)["creator"] == "codeDeployRollback"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    assert len(d.task_sets()) == 1


def test_4_alarm_during_the_termination_wait_still_rolls_back(sim):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    sim.advance(10 * 60)
    assert d.traffic() == {"web-green": 100, "web-blue": 0}

    d.set_alarm("ALARM")
    assert d.done(deployment_id) == "Stopped"
    assert d.info(deployment_id)["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert set(d.events(deployment_id).values()) == {"Succeeded"}
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    [blue] = d.task_sets()
    assert blue["status"] == "PRIMARY"
    assert blue["taskDefinition"] == d.env.task_definition_arn


def test_4_alarm_without_stop_on_alarm_rollback_stops_and_keeps_green(sim):
    d = Deployer.create(sim, auto_rollback_events=["DEPLOYMENT_FAILURE"])
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "Succeeded")
    d.set_alarm("ALARM")

    assert d.done(deployment_id) == "Stopped"
    assert "rollbackInfo" not in d.info(deployment_id)
    assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]


def test_4_override_alarm_configuration_turns_the_alarm_off_for_one_deployment(sim):
    d = Deployer.create(sim)
    d.set_alarm("ALARM")
    deployment_id = d.deploy(overrideAlarmConfiguration={"enabled": False, "alarms": []})

    assert d.done(deployment_id) == "Succeeded"


def test_4_alarm_during_a_test_traffic_hook_stops_the_deployment_before_any_shift(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    sim.run_until(lambda: bool(calls))

    d.set_alarm("ALARM")
    d.report(calls[0])
    assert d.status(deployment_id) == "Stopped"
    events = d.events(deployment_id)
    assert events["AfterAllowTestTraffic"] == "Succeeded"
    assert events["BeforeAllowTraffic"] == "Failed"
    assert events["AllowTraffic"] == events["AfterAllowTraffic"] == "Skipped"
    assert d.traffic() == {"web-blue": 100}
    assert d.done(deployment_id) == "Stopped"
    assert len(d.task_sets()) == 1


def test_4_alarm_during_the_ready_wait_stops_the_deployment_when_it_continues(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")
    d.set_alarm("ALARM")

    d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    assert d.status(deployment_id) == "Stopped"
    assert d.info(deployment_id)["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert d.traffic() == {"web-blue": 100}
