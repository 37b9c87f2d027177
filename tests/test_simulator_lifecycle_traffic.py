"""Traffic (``_lifecycle_traffic``, contract 3.1, 4, 6): the test listener, the ready
wait, production traffic at the config's step times, the PRIMARY switch, the termination
wait and blue's clean-up, read back with DescribeServices and DescribeListeners."""

import pytest
from deploying import Deployer

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


# -- blue's clean-up after the termination wait (a setting) ---------------------------


@pytest.mark.parametrize("cleanup", [0.0, 45.0, 120.0])
def test_completion_comes_the_blue_cleanup_time_after_the_termination_wait_ends(cleanup):
    with Simulator(settings=SimSettings(blue_cleanup_seconds=cleanup)) as sim:
        d = Deployer.create(sim, termination_wait_minutes=5)
        deployment_id = d.deploy()
        d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
        wait_ends = d.event(deployment_id, "AfterAllowTraffic")["endTime"].timestamp() + 5 * 60

        d.advance_to(wait_ends)
        if cleanup:
            assert d.status(deployment_id) == "InProgress"
            assert "DRAINING" in {ts["status"] for ts in d.task_sets()}
        assert d.done(deployment_id) == "Succeeded"
        complete = d.info(deployment_id)["completeTime"].timestamp()
        assert complete - wait_ends == pytest.approx(cleanup)
        assert [ts["status"] for ts in d.task_sets()] == ["PRIMARY"]


def test_blue_cleanup_takes_drain_seconds_by_default(sim):
    assert SimSettings().blue_cleanup_seconds is None
    assert SimSettings(drain_seconds=7).blue_cleanup == 7
    d = Deployer.create(sim, termination_wait_minutes=0)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    ended = d.event(deployment_id, "AfterAllowTraffic")["endTime"].timestamp()

    assert d.done(deployment_id) == "Succeeded"
    complete = d.info(deployment_id)["completeTime"].timestamp()
    assert complete - ended == pytest.approx(SimSettings().drain_seconds)


def test_continue_termination_wait_is_followed_by_the_blue_cleanup_time():
    with Simulator(settings=SimSettings(blue_cleanup_seconds=90)) as sim:
        d = Deployer.create(sim, termination_wait_minutes=60)
        deployment_id = d.deploy()
        d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
        d.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT"
        )
        continued = sim.clock.time()

        assert d.done(deployment_id) == "Succeeded"
        assert d.info(deployment_id)["completeTime"].timestamp() - continued == pytest.approx(90)
