"""Contract sections 2.1-2.3 and 5.4: lifecycle events, Lambda hooks and rollbacks, proved
through boto3 against the simulator."""

import pytest
from botocore.exceptions import ClientError
from deploying import EVENTS, TERMINAL, Deployer, error_code

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"


def watch_events(d, deployment_id):
    """Run to the end, recording every distinct status each lifecycle event goes through."""
    seen = {}

    def record():
        for name, status in d.events(deployment_id).items():
            history = seen.setdefault(name, [])
            if not history or history[-1] != status:
                history.append(status)
        return d.status(deployment_id) in TERMINAL

    d.sim.run_until(record)
    return seen


# -- 2.1 order and what each event does ----------------------------------------------


def test_2_1_eight_events_in_order_each_pending_then_in_progress_then_succeeded(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.advance(3)

    seen = watch_events(d, deployment_id)

    assert list(seen) == list(EVENTS)
    # The target is unreadable while Created, and BeforeInstall starts with the deployment.
    assert seen["BeforeInstall"] == ["InProgress", "Succeeded"]
    for name in EVENTS[1:]:
        assert seen[name] == ["Pending", "InProgress", "Succeeded"], name
    assert d.status(deployment_id) == "Succeeded"


def test_2_1_events_have_start_and_end_times_in_run_order(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    events = d.target(deployment_id)["lifecycleEvents"]
    times = [(e["startTime"], e["endTime"]) for e in events]
    assert all(start <= end for start, end in times)
    assert all(times[i][1] <= times[i + 1][0] for i in range(len(times) - 1))


def test_2_1_test_listener_follows_green_at_allow_test_traffic_before_production_moves(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK, "AfterAllowTestTraffic": HOOK})

    sim.run_until(lambda: len(calls) == 1)
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100}
    d.report(calls[0])

    sim.run_until(lambda: len(calls) == 2)
    assert d.events(deployment_id)["AllowTestTraffic"] == "Succeeded"
    assert d.traffic(d.env.test_listener_arn) == {"web-green": 100, "web-blue": 0}
    assert d.traffic() == {"web-blue": 100}
    d.report(calls[1])
    assert d.done(deployment_id) == "Succeeded"


def test_2_1_without_test_listener_the_two_test_events_are_skipped_by_default(sim):
    d = Deployer.create(sim, test_listener=False)
    deployment_id = d.deploy()

    assert d.done(deployment_id) == "Succeeded"
    events = d.events(deployment_id)
    assert list(events) == list(EVENTS)
    assert events["AllowTestTraffic"] == events["AfterAllowTestTraffic"] == "Skipped"
    assert [n for n, s in events.items() if s == "Succeeded"] == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]


def test_2_1_without_test_listener_the_test_events_are_omitted_when_configured():
    with Simulator(settings=SimSettings(test_events_without_test_listener="omit")) as sim:
        d = Deployer.create(sim, test_listener=False)
        deployment_id = d.deploy()

        assert d.done(deployment_id) == "Succeeded"
        assert d.events(deployment_id) == {
            "BeforeInstall": "Succeeded",
            "Install": "Succeeded",
            "AfterInstall": "Succeeded",
            "BeforeAllowTraffic": "Succeeded",
            "AllowTraffic": "Succeeded",
            "AfterAllowTraffic": "Succeeded",
        }


def test_2_1_all_events_succeeded_while_status_in_progress_during_termination_wait(sim):
    d = Deployer.create(sim, termination_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")

    sim.advance(10 * 60)
    assert set(d.events(deployment_id).values()) == {"Succeeded"}
    assert d.target(deployment_id)["status"] == "Succeeded"
    assert d.status(deployment_id) == "InProgress"
    assert {ts["status"] for ts in d.task_sets()} == {"PRIMARY", "ACTIVE"}

    waited = d.until_status(deployment_id, "Succeeded")
    assert 19 * 60 < waited <= 21 * 60


# -- 2.2 the Lambda hook contract ----------------------------------------------------


def test_2_2_hook_event_has_deployment_id_and_execution_id_and_context_follows_sim_clock(sim):
    d = Deployer.create(sim)
    calls, contexts = [], []

    def hook(event, context):
        calls.append(event)
        contexts.append(context)

    sim.register_hook(HOOK, hook, timeout_seconds=300)
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: bool(calls))

    assert set(calls[0]) == {"DeploymentId", "LifecycleEventHookExecutionId"}
    assert calls[0]["DeploymentId"] == deployment_id
    assert contexts[0].function_name == HOOK
    assert contexts[0].get_remaining_time_in_millis() == 300_000
    sim.advance(100)
    assert contexts[0].get_remaining_time_in_millis() == 200_000
    answer = d.report(calls[0])
    assert answer["lifecycleEventHookExecutionId"] == calls[0]["LifecycleEventHookExecutionId"]


def test_2_2_each_hook_runs_once_in_order_with_a_fresh_execution_id(sim):
    d = Deployer.create(sim)
    hookable = ["BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic"]
    hookable.append("AfterAllowTraffic")
    calls = []

    def recorder(name):
        def hook(event, context):
            calls.append((name, event))
            d.report(event)

        return hook

    for name in hookable:
        sim.register_hook(f"CodeDeployHook_{name}", recorder(name))
    hooks = {name: f"CodeDeployHook_{name}" for name in hookable}
    hooks["AfterAllowTraffic"] = (
        "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_AfterAllowTraffic"
    )
    deployment_id = d.deploy(hooks=hooks)

    assert d.done(deployment_id) == "Succeeded"
    assert [name for name, _ in calls] == hookable
    assert len({e["LifecycleEventHookExecutionId"] for _, e in calls}) == 5
    assert {e["DeploymentId"] for _, e in calls} == {deployment_id}


def test_2_2_one_function_may_serve_several_hooks(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.reporting_hook(calls=calls))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK, "AfterAllowTraffic": HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert len(calls) == 2


@pytest.mark.parametrize("status", ["Pending", "InProgress", "Skipped", "Unknown", "Done"])
def test_2_2_only_succeeded_or_failed_may_be_reported(sim, status):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: bool(calls))

    with pytest.raises(ClientError) as caught:
        d.report(calls[0], status)
    assert error_code(caught.value) == "InvalidLifecycleEventHookExecutionStatusException"
    assert "should return Succeeded or Failed" in str(caught.value)
    assert d.events(deployment_id)["BeforeInstall"] == "InProgress"


def test_2_2_second_report_raises_lifecycle_event_already_completed(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: bool(calls))

    d.report(calls[0], "Succeeded")
    for status in ("Succeeded", "Failed"):
        with pytest.raises(ClientError) as caught:
            d.report(calls[0], status)
        assert error_code(caught.value) == "LifecycleEventAlreadyCompletedException"
    assert d.done(deployment_id) == "Succeeded"


def test_2_2_unknown_execution_id_is_rejected(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: bool(calls))

    fake = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": "bm90LWFuLWlk"}
    with pytest.raises(ClientError) as caught:
        d.report(fake)
    assert error_code(caught.value) == "InvalidLifecycleEventHookExecutionIdException"


def test_2_2_execution_id_of_another_deployment_is_rejected(sim):
    d = Deployer.create(sim)
    calls = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    first = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: bool(calls))
    d.report(calls[0])
    assert d.done(first) == "Succeeded"
    second = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: len(calls) == 2)

    crossed = {**calls[0], "DeploymentId": second}
    with pytest.raises(ClientError) as caught:
        d.report(crossed)
    assert error_code(caught.value) == "InvalidLifecycleEventHookExecutionIdException"


def test_2_2_hook_naming_an_unregistered_function_fails_the_deployment(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy(hooks={"AfterInstall": "CodeDeployHook_missing"})

    assert d.done(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "INVALID_LAMBDA_FUNCTION"
    event = d.event(deployment_id, "AfterInstall")
    assert event["status"] == "Failed"
    assert event["diagnostics"]["scriptName"] == "CodeDeployHook_missing"
    assert "rollbackDeploymentId" in info["rollbackInfo"]


def test_2_2_hook_that_never_reports_fails_after_3600_simulated_seconds(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.silent_hook())
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK})
    d.until_event(deployment_id, "AfterInstall", "InProgress")
    started = d.event(deployment_id, "AfterInstall")["startTime"].timestamp()

    d.advance_to(started + 3599)
    assert d.status(deployment_id) == "InProgress"
    assert d.events(deployment_id)["AfterInstall"] == "InProgress"

    d.advance_to(started + 3600)
    assert d.status(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    diagnostics = d.event(deployment_id, "AfterInstall")["diagnostics"]
    assert diagnostics["errorCode"] == "ScriptTimedOut"
    assert diagnostics["scriptName"] == HOOK
    assert "rollbackDeploymentId" in info["rollbackInfo"]


def test_2_2_hook_timeout_and_its_error_code_are_settings():
    settings = SimSettings(hook_timeout=600, hook_timeout_error_code="TIMEOUT")
    with Simulator(settings=settings) as sim:
        d = Deployer.create(sim)
        sim.register_hook(HOOK, d.silent_hook())
        deployment_id = d.deploy(hooks={"BeforeAllowTraffic": HOOK})
        d.until_event(deployment_id, "BeforeAllowTraffic", "InProgress")

        waited = d.until_status(deployment_id, "Failed")

        assert waited == 600
        assert d.info(deployment_id)["errorInformation"]["code"] == "TIMEOUT"


def test_2_2_hook_that_raises_fails_at_the_timeout_with_its_traceback_in_log_tail(sim):
    d = Deployer.create(sim)

    def crash(event, context):
        raise RuntimeError("cannot reach the health endpoint")

    sim.register_hook(HOOK, crash)
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.until_event(deployment_id, "AfterAllowTestTraffic", "InProgress")
    sim.advance(3599)
    assert d.events(deployment_id)["AfterAllowTestTraffic"] == "InProgress"

    sim.advance(1)
    assert d.status(deployment_id) == "Failed"
    diagnostics = d.event(deployment_id, "AfterAllowTestTraffic")["diagnostics"]
    assert diagnostics["logTail"].startswith("Traceback")
    assert "RuntimeError: cannot reach the health endpoint" in diagnostics["logTail"]


def test_2_2_hook_reporting_failed_fails_the_deployment_and_rolls_back(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert d.events(deployment_id) == {
        "BeforeInstall": "Succeeded",
        "Install": "Succeeded",
        "AfterInstall": "Succeeded",
        "AllowTestTraffic": "Succeeded",
        "AfterAllowTestTraffic": "Failed",
        "BeforeAllowTraffic": "Skipped",
        "AllowTraffic": "Skipped",
        "AfterAllowTraffic": "Skipped",
    }
    assert d.event(deployment_id, "AfterAllowTestTraffic")["diagnostics"]["errorCode"] == (
        "ScriptFailed"
    )
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"


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


def fail_once(d):
    """A hook that reports Failed the first time it runs and Succeeded after that."""
    calls = []

    def hook(event, context):
        calls.append(event)
        d.report(event, "Failed" if len(calls) == 1 else "Succeeded")

    return hook


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
