"""ECS-native service deployments in the simulator: Lambda and PAUSE lifecycle hooks,
ContinueServiceDeployment, StopServiceDeployment, alarm rollbacks, and one deployment through
``bluegreen sim serve``. Through real boto3 clients; the payload is the one
``docs/simulator.md`` ("ECS-native deployments") documents.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from deploying import served_client
from native_sim import NativeService, conforms, lambda_hook, pause_hook, stages

from bluegreen.testing import SimSettings, Simulator


def _config(*hooks: dict[str, Any], strategy: str = "BLUE_GREEN", **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"strategy": strategy, "bakeTimeInMinutes": 1, **extra}
    if hooks:
        config["lifecycleHooks"] = list(hooks)
    return config


def _paused(sim: Any, arn: str) -> Any:
    """Advance until a pause hook awaits action; its run."""
    record = sim.service_deployment(arn)

    def awaiting() -> list[Any]:
        return [h for h in record.current_hooks() if h.status == "AWAITING_ACTION"]

    sim.run_until(lambda: bool(awaiting()) or record.is_terminal)
    (run,) = awaiting()
    return run


# -- Lambda hooks -------------------------------------------------------------------------


def test_a_lambda_hook_gets_the_documented_payload_and_succeeds(sim, env):
    events: list[dict[str, Any]] = []

    def check(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        assert context.get_remaining_time_in_millis() > 0
        return {"hookStatus": "SUCCEEDED"}

    sim.register_hook("check", check)
    stages_hooked = ("PRE_SCALE_UP", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
    native = NativeService(
        sim, env, _config(lambda_hook("check", *stages_hooked, hookDetails={"path": "/health"}))
    )
    arn = native.deploy()
    assert sim.run_until_done(arn) == "SUCCESSFUL"

    record = sim.service_deployment(arn)
    green, blue = record.target, record.source[0]
    assert [e["lifecycleStage"] for e in events] == list(stages_hooked)
    first, test, production = events
    assert first["resourceArn"] == arn
    assert first["hookDetails"] == {"path": "/health"}
    assert first["executionDetails"] == {
        "serviceArn": native.service_arn,
        "targetServiceRevisionArn": green,
        "testTrafficWeights": {},
        "productionTrafficWeights": {},
    }
    assert test["executionDetails"]["testTrafficWeights"] == {green: 100, blue: 0}
    assert production["executionDetails"]["productionTrafficWeights"] == {green: 100, blue: 0}
    assert len({e["executionId"] for e in events}) == 3


@pytest.mark.parametrize(
    "answer",
    [{"hookStatus": "FAILED"}, {"hookStatus": "MAYBE"}, {}, None, RuntimeError("boom")],
    ids=["failed", "invalid", "no-status", "none", "exception"],
)
def test_a_failing_lambda_hook_rolls_back_and_hooks_rerun_on_the_way(sim, env, answer):
    seen: list[tuple[str, dict[str, Any]]] = []

    def gate(event: dict[str, Any], context: Any) -> Any:
        seen.append((event["lifecycleStage"], event["executionDetails"]))
        if event["lifecycleStage"] == "POST_PRODUCTION_TRAFFIC_SHIFT":
            if isinstance(answer, Exception):
                raise answer
            return answer
        return {"hookStatus": "SUCCEEDED"}

    sim.register_hook("gate", gate)
    hook = lambda_hook(
        "gate", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"
    )
    native = NativeService(sim, env, _config(hook))
    arn = native.deploy()

    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"

    record = sim.service_deployment(arn)
    green, blue = record.target, record.source[0]
    assert [stage for stage, _ in seen] == [
        "TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",  # the rollback runs these two again
        "TEST_TRAFFIC_SHIFT",
    ]
    assert seen[3][1]["productionTrafficWeights"] == {green: 0, blue: 100}
    assert seen[4][1]["testTrafficWeights"] == {green: 0, blue: 100}
    assert native.green_percent() == 0.0
    assert native.green_percent(native.test_rule) == 0.0
    done = native.describe(arn)
    assert done["rollback"]["serviceRevisionArn"] == blue
    assert "POST_PRODUCTION_TRAFFIC_SHIFT" in done["rollback"]["reason"]
    assert done["targetServiceRevision"]["runningTaskCount"] == 0
    assert native.service()["taskDefinition"] == env.task_definition_arn


def test_an_in_progress_hook_is_called_again_after_its_callback_delay_with_its_details(sim, env):
    calls: list[tuple[float, Any, str]] = []

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append((sim.clock.time(), event.get("hookDetails"), event["executionId"]))
        if len(calls) < 3:
            return {
                "hookStatus": "IN_PROGRESS",
                "callBackDelay": 45,
                "hookDetails": {"n": len(calls)},
            }
        return {"hookStatus": "SUCCEEDED"}

    sim.register_hook("slow", slow)
    native = NativeService(sim, env, _config(lambda_hook("slow", "POST_SCALE_UP")))
    arn = native.deploy()
    assert sim.run_until_done(arn) == "SUCCESSFUL"

    assert [details for _, details, _ in calls] == [None, {"n": 1}, {"n": 2}]
    assert [b - a for (a, _, _), (b, _, _) in itertools.pairwise(calls)] == [45, 45]
    assert len({execution for _, _, execution in calls}) == 1


def test_an_in_progress_hook_without_a_delay_is_called_again_after_30_seconds(sim, env):
    calls: list[float] = []

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(sim.clock.time())
        return {"hookStatus": "IN_PROGRESS" if len(calls) == 1 else "SUCCEEDED"}

    sim.register_hook("slow", slow)
    native = NativeService(sim, env, _config(lambda_hook("slow", "PRE_SCALE_UP")))
    sim.run_until_done(native.deploy())
    assert calls[1] - calls[0] == 30


def test_an_unregistered_lambda_rolls_back(sim, env):
    native = NativeService(sim, env, _config(lambda_hook("ghost", "PRE_SCALE_UP")))
    arn = native.deploy()
    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    assert "ghost" in native.describe(arn)["rollback"]["reason"]


def test_a_hook_failing_during_the_rollback_fails_the_rollback(sim, env):
    sim.register_hook("no", lambda event, context: {"hookStatus": "FAILED"})
    native = NativeService(sim, env, _config(lambda_hook("no", "PRODUCTION_TRAFFIC_SHIFT")))
    arn = native.deploy()
    assert sim.run_until_done(arn) == "ROLLBACK_FAILED"


# -- PAUSE hooks and ContinueServiceDeployment ----------------------------------------------


def test_a_pause_hook_waits_for_continue(sim, env):
    native = NativeService(sim, env, _config(pause_hook("POST_TEST_TRAFFIC_SHIFT")))
    arn = native.deploy()
    run = _paused(sim, arn)

    sim.advance(3600)
    described = native.describe(arn)
    assert described["status"] == "IN_PROGRESS"
    assert described["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    (detail,) = described["lifecycleHookDetails"]
    assert detail["hookId"] == run.hook_id
    assert (detail["status"], detail["targetType"], detail["timeoutAction"]) == (
        "AWAITING_ACTION",
        "PAUSE",
        "ROLLBACK",
    )
    assert detail["expiresAt"].timestamp() == run.started_at + 1440 * 60
    assert native.green_percent(native.test_rule) == 100.0
    assert native.green_percent() == 0.0

    answer = native.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=run.hook_id)
    assert answer["serviceDeploymentArn"] == arn
    with pytest.raises(ClientError) as again:
        native.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=run.hook_id)
    assert again.value.response["Error"]["Code"] == "ClientException"
    assert sim.run_until_done(arn) == "SUCCESSFUL"


def test_continue_with_rollback_rolls_the_deployment_back(sim, env):
    native = NativeService(sim, env, _config(pause_hook("POST_SCALE_UP")))
    arn = native.deploy()
    run = _paused(sim, arn)
    native.ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=run.hook_id, action="ROLLBACK"
    )
    assert native.describe(arn)["status"] == "ROLLBACK_REQUESTED"
    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"


def test_continue_errors(sim, env):
    native = NativeService(sim, env, _config(pause_hook("POST_SCALE_UP")))
    arn = native.deploy()
    _paused(sim, arn)
    with pytest.raises(ClientError) as unknown_hook:
        native.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="nope")
    assert unknown_hook.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as unknown:
        native.ecs.continue_service_deployment(serviceDeploymentArn=arn[:-3] + "zzz", hookId="x")
    assert unknown.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"


@pytest.mark.parametrize(
    ("action", "final"), [("ROLLBACK", "ROLLBACK_SUCCESSFUL"), ("CONTINUE", "SUCCESSFUL")]
)
def test_a_pause_hook_that_runs_out_takes_its_timeout_action(sim, env, action, final):
    timeout = {"timeoutInMinutes": 5, "action": action}
    native = NativeService(
        sim, env, _config(pause_hook("PRE_PRODUCTION_TRAFFIC_SHIFT", timeoutConfiguration=timeout))
    )
    arn = native.deploy()
    run = _paused(sim, arn)
    assert native.describe(arn)["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    assert sim.run_until_done(arn) == final
    assert run.status == "TIMED_OUT"


def test_a_linear_pause_before_each_step_holds_the_weights_until_continued(sim, env):
    config = _config(
        pause_hook("PRE_PRODUCTION_TRAFFIC_SHIFT"),
        strategy="LINEAR",
        linearConfiguration={"stepPercent": 50.0, "stepBakeTimeInMinutes": 0},
    )
    native = NativeService(sim, env, config)
    arn = native.deploy()
    for before in (0.0, 50.0):
        run = _paused(sim, arn)
        sim.advance(600)
        assert native.green_percent() == before
        native.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=run.hook_id)
    assert sim.run_until_done(arn) == "SUCCESSFUL"


# -- StopServiceDeployment ----------------------------------------------------------------


def test_stop_with_rollback_goes_through_rollback_requested(sim, env):
    native = NativeService(sim, env, _config(bakeTimeInMinutes=30))
    arn = native.deploy()
    sim.run_until(lambda: sim.service_deployment(arn).stage == "BAKE_TIME")
    assert native.green_percent() == 100.0

    answer = native.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")

    conforms(answer, "StopServiceDeployment")
    assert native.describe(arn)["status"] == "ROLLBACK_REQUESTED"
    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    assert native.green_percent() == 0.0
    assert "StopServiceDeployment" in native.describe(arn)["rollback"]["reason"]
    with pytest.raises(ClientError) as caught:
        native.ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert caught.value.response["Error"]["Code"] == "ConflictException"


def test_stop_with_abort_stops_the_deployment(sim, env):
    native = NativeService(sim, env, _config())
    arn = native.deploy()
    sim.run_until(lambda: sim.service_deployment(arn).stage == "POST_TEST_TRAFFIC_SHIFT")
    native.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ABORT")
    assert native.describe(arn)["status"] == "STOP_REQUESTED"
    assert sim.run_until_done(arn) == "STOPPED"
    done = native.describe(arn)
    assert "stoppedAt" in done
    assert "rollback" not in done
    assert native.green_percent(native.test_rule) == 0.0


# -- alarms -------------------------------------------------------------------------------


def _alarmed(sim: Any, env: Any, *, rollback: bool) -> tuple[NativeService, str]:
    alarms = {"alarmNames": list(env.alarm_names), "enable": True, "rollback": rollback}
    native = NativeService(sim, env, _config(bakeTimeInMinutes=30, alarms=alarms))
    arn = native.deploy()
    sim.run_until(lambda: sim.service_deployment(arn).stage == "BAKE_TIME")
    sim.clients().session.client("cloudwatch").set_alarm_state(
        AlarmName=env.alarm_names[0], StateValue="ALARM", StateReason="test"
    )
    return native, arn


def test_an_alarm_in_alarm_during_the_deployment_rolls_it_back(sim, env):
    native, arn = _alarmed(sim, env, rollback=True)
    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    done = native.describe(arn)
    assert done["alarms"]["status"] == "TRIGGERED"
    assert done["alarms"]["triggeredAlarmNames"] == [env.alarm_names[0]]
    assert env.alarm_names[0] in done["rollback"]["reason"]


def test_an_alarm_without_rollback_stops_the_deployment(sim, env):
    _, arn = _alarmed(sim, env, rollback=False)
    assert sim.run_until_done(arn) == "STOPPED"


def _alarm_at_start(sim: Any, env: Any) -> str:
    sim.clients().session.client("cloudwatch").set_alarm_state(
        AlarmName=env.alarm_names[0], StateValue="ALARM", StateReason="test"
    )
    alarms = {"alarmNames": list(env.alarm_names), "enable": True, "rollback": True}
    return NativeService(sim, env, _config(alarms=alarms)).deploy()


def test_an_alarm_already_in_alarm_at_the_start_is_ignored_by_default(sim, env):
    assert sim.run_until_done(_alarm_at_start(sim, env)) == "SUCCESSFUL"


def test_the_setting_checks_an_alarm_already_in_alarm_at_the_start():
    with Simulator(settings=SimSettings(native_alarm_at_start="rollback")) as sim:
        env = sim.create_environment()
        arn = _alarm_at_start(sim, env)
        assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
        assert stages(sim, arn)[0] == "PRE_SCALE_UP"


# -- served ---------------------------------------------------------------------------------


def test_a_native_deployment_through_sim_serve():
    with Simulator(speed=600.0).serve() as server:
        env = server.create_environment()
        ecs = served_client(server.endpoint_url, "ecs")
        elbv2 = served_client(server.endpoint_url, "elbv2")
        native = NativeService(server.simulator, env, _config(), ecs=ecs, elbv2=elbv2)
        arn = native.deploy()
        deadline = time.monotonic() + 60
        while native.describe(arn)["status"] != "SUCCESSFUL":
            assert time.monotonic() < deadline, native.describe(arn)
            time.sleep(0.05)
        assert native.green_percent() == 100.0
