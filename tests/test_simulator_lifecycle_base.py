"""The lifecycle's shared steps (``_lifecycle_base``): CloudWatch alarms stop a deployment
at any step (contract 4), through boto3 against the simulator."""

from deploying import Deployer

HOOK = "CodeDeployHook_check"


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
