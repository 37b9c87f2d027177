"""Hook events (``_lifecycle_hooks``, contract 2.2): the Lambda hook contract, reports,
timeouts and failures, through boto3 against the simulator."""

import pytest
from botocore.exceptions import ClientError
from deploying import Deployer, error_code

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"


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
