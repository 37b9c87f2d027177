"""Rollbacks (``_lifecycle_rollback``, contract 2.3 and 5.4), through boto3 against the
simulator."""

from deploying import Deployer

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"


def fail_once(d):
    """A hook that reports Failed the first time it runs and Succeeded after that."""
    calls = []

    def hook(event, context):
        calls.append(event)
        d.report(event, "Failed" if len(calls) == 1 else "Succeeded")

    return hook


# -- 2.3 / 5.4 rollbacks -------------------------------------------------------------


def test_2_3_rollback_is_a_new_deployment_by_code_deploy_rollback_with_all_at_once(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    rollback_id = d.rollback_of(deployment_id)
    assert rollback_id != deployment_id
    original, rollback = d.info(deployment_id), d.info(rollback_id)
    assert original["rollbackInfo"] == {
        "rollbackDeploymentId": rollback_id,
        "rollbackMessage": f"Deployment {deployment_id} terminated. Automatic rollback is "
        f"triggered with a DeploymentId {rollback_id}.",
    }
    assert rollback["rollbackInfo"] == {
        "rollbackTriggeringDeploymentId": deployment_id,
        "rollbackMessage": f"Deployment {rollback_id} is triggered to roll back deployment "
        f"{deployment_id}.",
    }
    assert rollback["creator"] == "codeDeployRollback"
    assert rollback["deploymentConfigName"] == "CodeDeployDefault.ECSAllAtOnce"
    assert rollback["status"] == "Succeeded"
    assert rollback["deploymentGroupName"] == d.env.deployment_group


def test_2_3_rollback_restores_weights_drains_then_deletes_green_and_keeps_blue_primary(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTraffic": HOOK})
    d.until_status(deployment_id, "Failed")
    assert d.traffic() == {"web-green": 100, "web-blue": 0}
    rollback_id = d.rollback_of(deployment_id)

    d.until_status(rollback_id, "InProgress")
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}
    green = next(ts for ts in d.task_sets() if ts.get("externalId") == deployment_id)
    assert green["status"] == "DRAINING"
    assert green["scale"]["value"] == 0.0
    assert d.task_set("PRIMARY")["taskDefinition"] == d.env.task_definition_arn

    assert d.done(deployment_id) == "Failed"
    [blue] = d.task_sets()
    assert blue["status"] == "PRIMARY"
    assert blue["loadBalancers"][0]["targetGroupArn"] == d.env.target_group_arns[0]
    service = d.ecs.describe_services(cluster=d.env.cluster, services=[d.env.service])
    assert service["services"][0]["taskDefinition"] == d.env.task_definition_arn


def test_2_3_before_install_failure_does_not_roll_back(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})

    assert d.done(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert "rollbackInfo" not in info
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    events = d.events(deployment_id)
    assert events["BeforeInstall"] == "Failed"
    assert set(list(events.values())[1:]) == {"Skipped"}
    assert len(d.task_sets()) == 1
    assert d.codedeploy.list_deployments(
        applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
    )["deployments"] == [deployment_id]


def test_2_3_without_auto_rollback_a_failure_leaves_every_resource_as_it_was(sim):
    d = Deployer.create(sim, auto_rollback_events=())
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    sim.advance(3600)
    assert "rollbackInfo" not in d.info(deployment_id)
    statuses = sorted((ts["status"], ts.get("externalId", "")) for ts in d.task_sets())
    assert statuses == [("ACTIVE", deployment_id), ("PRIMARY", "")]
    assert d.traffic(d.env.test_listener_arn) == {"web-green": 100, "web-blue": 0}
    assert d.traffic() == {"web-blue": 100}


def test_2_3_per_deployment_auto_rollback_configuration_overrides_the_group(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    kept = d.deploy(hooks={"AfterInstall": HOOK}, autoRollbackConfiguration={"enabled": False})
    assert d.done(kept) == "Failed"
    assert "rollbackInfo" not in d.info(kept)
    assert d.info(kept)["autoRollbackConfiguration"] == {"enabled": False}


def test_2_3_per_deployment_auto_rollback_can_turn_rollback_on(sim):
    d = Deployer.create(sim, auto_rollback_events=())
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(
        hooks={"AfterInstall": HOOK},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
    )
    assert d.done(deployment_id) == "Failed"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert len(d.task_sets()) == 1


def test_2_3_rollback_invokes_no_hooks_by_default(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.reporting_hook(calls=calls))
    sim.register_hook("CodeDeployHook_fail", fail_once(d))
    hooks = {"BeforeInstall": HOOK, "AfterInstall": HOOK, "BeforeAllowTraffic": HOOK}
    hooks["AfterAllowTestTraffic"] = "CodeDeployHook_fail"
    deployment_id = d.deploy(hooks=hooks)

    assert d.done(deployment_id) == "Failed"
    rollback_id = d.rollback_of(deployment_id)
    assert [c["DeploymentId"] for c in calls] == [deployment_id, deployment_id]
    events = d.events(rollback_id)
    assert events["BeforeInstall"] == events["AfterInstall"] == "Skipped"
    assert events["AllowTraffic"] == "Succeeded"


def test_2_3_rollback_runs_the_appspec_hooks_when_configured():
    with Simulator(settings=SimSettings(rollback_runs_hooks=True)) as sim:
        d = Deployer.create(sim)
        calls = []
        sim.register_hook(HOOK, d.reporting_hook(calls=calls))
        sim.register_hook("CodeDeployHook_fail", fail_once(d))
        hooks = {"BeforeInstall": HOOK, "AfterInstall": HOOK, "BeforeAllowTraffic": HOOK}
        hooks["AfterAllowTestTraffic"] = "CodeDeployHook_fail"
        deployment_id = d.deploy(hooks=hooks)

        assert d.done(deployment_id) == "Failed"
        rollback_id = d.rollback_of(deployment_id)
        assert [c["DeploymentId"] for c in calls] == [deployment_id] * 2 + [rollback_id] * 3
        assert set(d.events(rollback_id).values()) == {"Succeeded"}
        assert d.status(rollback_id) == "Succeeded"
        assert d.traffic() == {"web-blue": 100, "web-green": 0}
        assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}
        [blue] = d.task_sets()
        assert blue["status"] == "PRIMARY"


def test_2_3_a_failing_hook_fails_a_rollback_that_runs_hooks_without_another_rollback():
    with Simulator(settings=SimSettings(rollback_runs_hooks=True)) as sim:
        d = Deployer.create(sim)
        sim.register_hook(HOOK, d.reporting_hook("Failed"))
        deployment_id = d.deploy(hooks={"AfterInstall": HOOK})

        assert d.done(deployment_id) == "Failed"
        rollback = d.info(d.rollback_of(deployment_id))
        assert rollback["status"] == "Failed"
        assert "rollbackDeploymentId" not in rollback["rollbackInfo"]
