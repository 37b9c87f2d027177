"""bluegreen.hooks handlers as the ECS-native hooks of service deployments in the simulator:
a passing check lets the deployment succeed, a failing one rolls it back, a check asking for
more time is invoked again with its state until it decides (or its deadline passes), and the
ready-made handlers find the service's listener rules and the headers that reach them. The
HTTP checks reach a real server on 127.0.0.1 (the simulator's DNS names do not resolve)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from deploying import Deployer
from native_sim import NativeService, lambda_arn, lambda_hook
from test_hooks_checks import LocalServer

from bluegreen import ServiceConfigError
from bluegreen.cli import main
from bluegreen.hooks import CheckResult, HookEvent, RetryLater, checks, lifecycle_hook

HOOK = "verify"


@pytest.fixture
def green(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A local server as the test and production routes: ``/`` and ``/health`` pass,
    ``/broken`` answers 503."""
    with LocalServer() as server:
        ok = (200, {"Content-Type": "application/json"}, {"status": "ok"})
        server.routes["/"] = ok
        server.routes["/health"] = ok
        server.routes["/broken"] = (503, {}, "no healthy targets")
        monkeypatch.setenv("BLUEGREEN_TEST_URL", server.url)
        monkeypatch.setenv("BLUEGREEN_PRODUCTION_URL", server.url)
        yield server


def config(*stages: str, name: str = HOOK, **hook: Any) -> dict[str, Any]:
    return {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 1,
        "lifecycleHooks": [lambda_hook(name, *stages, **hook)],
    }


def recording(handler: Any, answers: list[tuple[float, dict[str, Any], Any]], sim: Any) -> Any:
    """``handler``, keeping when it was called, with what, and what it answered."""

    def hook(event: dict[str, Any], context: Any) -> Any:
        answer = handler(event, context)
        answers.append((sim.clock.time(), event, answer))
        return answer

    return hook


def reports(sim: Any) -> list[str]:
    """The PutLifecycleEventHookExecutionStatus calls CodeDeploy got."""
    return [
        op
        for _, _, op in sim.api_calls("codedeploy")
        if op == "PutLifecycleEventHookExecutionStatus"
    ]


def http_check(path: str) -> Any:
    def handler(event: HookEvent) -> CheckResult:
        return checks.http(event.test_url, path=path, headers=event.test_headers)

    return handler


# -- checks through the simulator's native deployments -------------------------------------


def test_a_passing_check_lets_the_native_deployment_succeed(sim, env, green):
    answers: list[Any] = []
    handler = lifecycle_hook(client=sim.clients(), now=sim.clock.time)(http_check("/health"))
    sim.register_hook(lambda_arn(HOOK), recording(handler, answers, sim))
    native = NativeService(sim, env, config("POST_TEST_TRAFFIC_SHIFT"))

    arn = native.deploy()

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    assert [answer for _, _, answer in answers] == [{"hookStatus": "SUCCEEDED"}]
    assert [path for path, _ in green.requests] == ["/health"]
    assert answers[0][1]["resourceArn"] == arn
    assert not reports(sim)  # nothing reported anywhere


def test_a_failing_check_rolls_the_native_deployment_back(sim, env, green):
    answers: list[Any] = []
    handler = lifecycle_hook(client=sim.clients(), now=sim.clock.time)(http_check("/broken"))
    sim.register_hook(lambda_arn(HOOK), recording(handler, answers, sim))
    native = NativeService(sim, env, config("POST_TEST_TRAFFIC_SHIFT"))

    arn = native.deploy()

    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    ((_, _, answer),) = answers
    assert answer["hookStatus"] == "FAILED"
    assert "status 503, wanted 200" in answer["hookDetails"]["bluegreen"]["reason"]
    assert native.green_percent() == 0.0


def test_a_check_asking_for_more_time_is_invoked_again_with_its_state_then_succeeds(sim, env):
    answers: list[Any] = []

    def waiting_for_data(event: HookEvent) -> Any:
        samples = event.state.get("samples", 0) + 50
        if samples < 150:
            return RetryLater(f"{samples} samples of 150", seconds=45, state={"samples": samples})
        return CheckResult("error rate", True, "5xx / requests", f"0 of {samples}", 1.0)

    handler = lifecycle_hook(client=sim.clients(), now=sim.clock.time)(waiting_for_data)
    sim.register_hook(lambda_arn(HOOK), recording(handler, answers, sim))
    native = NativeService(
        sim, env, config("POST_TEST_TRAFFIC_SHIFT", hookDetails={"threshold": 0.01})
    )

    arn = native.deploy()

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    assert [answer["hookStatus"] for _, _, answer in answers] == [
        "IN_PROGRESS",
        "IN_PROGRESS",
        "SUCCEEDED",
    ]
    times = [t for t, _, _ in answers]
    assert [b - a for a, b in itertools.pairwise(times)] == [45, 45]
    # The hook's configured details come back every time, with the kit's state beside them.
    sent = [event.get("hookDetails") for _, event, _ in answers]
    assert sent[0] == {"threshold": 0.01}
    assert sent[2]["threshold"] == 0.01
    assert sent[2]["bluegreen"]["state"] == {"samples": 100}
    assert sent[2]["bluegreen"]["invocations"] == 2
    assert len({event["executionId"] for _, event, _ in answers}) == 1


def test_a_check_that_never_decides_fails_at_its_deadline_and_rolls_back(sim, env):
    answers: list[Any] = []
    handler = lifecycle_hook(client=sim.clients(), now=sim.clock.time, deadline_seconds=120)(
        lambda event: RetryLater("no data yet", seconds=50)
    )
    sim.register_hook(lambda_arn(HOOK), recording(handler, answers, sim))
    native = NativeService(sim, env, config("POST_TEST_TRAFFIC_SHIFT"))

    arn = native.deploy()

    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    statuses = [answer["hookStatus"] for _, _, answer in answers]
    assert statuses == ["IN_PROGRESS", "IN_PROGRESS", "FAILED"]
    reason = answers[-1][2]["hookDetails"]["bluegreen"]["reason"]
    assert "would pass the deadline of 120 s" in reason


def test_a_per_step_gate_waits_at_each_linear_step_with_fresh_state(sim, env):
    """A PRE_PRODUCTION_TRAFFIC_SHIFT hook of a LINEAR deployment runs before each step, as a
    new hook execution: its state and its deadline start afresh at every step."""
    answers: list[Any] = []

    def gate(event: HookEvent) -> Any:
        if not event.state.get("asked"):
            return RetryLater("data for this step", seconds=60, state={"asked": True})
        return True

    handler = lifecycle_hook(client=sim.clients(), now=sim.clock.time, deadline_seconds=90)(gate)
    sim.register_hook(lambda_arn(HOOK), recording(handler, answers, sim))
    native = NativeService(
        sim,
        env,
        {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1},
            "bakeTimeInMinutes": 1,
            "lifecycleHooks": [lambda_hook(HOOK, "PRE_PRODUCTION_TRAFFIC_SHIFT")],
        },
    )

    arn = native.deploy()
    assert sim.run_until_done(arn) == "SUCCESSFUL"
    assert [answer["hookStatus"] for _, _, answer in answers] == [
        "IN_PROGRESS",
        "SUCCEEDED",
    ] * 2
    green = sim.service_deployment(arn).target
    steps = [event["executionDetails"]["productionTrafficWeights"] for _, event, _ in answers]
    assert [weights[green] for weights in steps] == [50, 50, 100, 100]
    assert len({event["executionId"] for _, event, _ in answers}) == 2


# -- the ready-made handlers on a native service ---------------------------------------------


@pytest.fixture
def native_env(sim):
    """The sample environment with its ECS-native service (host-header listener rules)."""
    return sim.create_environment(native=True)


@pytest.fixture
def reachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A local server every listener URL leads to (the simulator's DNS names do not
    resolve): discovery still reads the service and its rules from the simulator."""
    import bluegreen.hooks._native_listener

    with LocalServer() as server:
        server.routes["/"] = (200, {}, "ok")
        monkeypatch.setattr(
            bluegreen.hooks._native_listener,
            "listener_base_url",
            lambda listener_arn, route, *, clients: server.url,
        )
        yield server


def deploy_native(sim: Any, env: Any) -> str:
    """UpdateService of the environment's native service to a new task definition."""
    ecs = sim.clients().ecs
    native = env.native
    task = ecs.describe_task_definition(taskDefinition=native.task_definition_arn)
    definition = task["taskDefinition"]
    registered = ecs.register_task_definition(
        family=native.family,
        networkMode=definition["networkMode"],
        requiresCompatibilities=definition["requiresCompatibilities"],
        cpu=definition["cpu"],
        memory=definition["memory"],
        executionRoleArn=definition["executionRoleArn"],
        containerDefinitions=[
            {**definition["containerDefinitions"][0], "image": "nginx:1.28"},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=env.cluster, service=native.service, taskDefinition=registered)
    listed = ecs.list_service_deployments(cluster=env.cluster, service=native.service)
    return str(listed["serviceDeployments"][0]["serviceDeploymentArn"])


def with_hooks(sim: Any, env: Any, *hooks: dict[str, Any]) -> None:
    """Give the environment's native service these lifecycle hooks."""
    configuration = {**env.native.deployment_configuration, "lifecycleHooks": list(hooks)}
    sim.clients().ecs.update_service(
        cluster=env.cluster, service=env.native.service, deploymentConfiguration=configuration
    )


def test_the_test_route_is_the_services_test_rule_with_the_host_it_matches(sim, native_env):
    seen: list[tuple[str, dict[str, str], str, dict[str, str]]] = []

    @lifecycle_hook(client=sim.clients())
    def handler(event: HookEvent) -> None:
        seen.append((event.test_url, event.test_headers, event.production_url, {}))

    elbv2 = sim.clients().elbv2
    balancer = elbv2.describe_load_balancers()["LoadBalancers"][0]
    ports = {
        listener["ListenerArn"]: listener["Port"]
        for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]
    }
    event = native_event(native_env, "POST_TEST_TRAFFIC_SHIFT")

    assert handler(event) == {"hookStatus": "SUCCEEDED"}

    ((test_url, test_headers, production_url, _),) = seen
    dns = balancer["DNSName"]
    assert test_url == f"http://{dns}:{ports[native_env.test_listener_arn]}"
    assert production_url == f"http://{dns}:{ports[native_env.production_listener_arn]}"
    assert test_headers == {"Host": native_env.native.host}


def test_a_service_without_a_test_rule_fails_the_hook_saying_what_to_set(sim, env):
    failed: list[Exception] = []

    @lifecycle_hook(client=sim.clients())
    def handler(event: HookEvent) -> None:
        try:
            event.test_url  # noqa: B018
        except ServiceConfigError as exc:
            failed.append(exc)
            raise

    native = NativeService(
        sim, env, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, test_rule=False
    )
    service_arn = native.service_arn
    answer = handler(
        {
            "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
            "executionDetails": {
                "serviceArn": service_arn,
                "targetServiceRevisionArn": service_arn + "/1",
            },
        }
    )

    assert answer["hookStatus"] == "FAILED"
    (error,) = failed
    assert "advancedConfiguration.testListenerRule" in str(error)
    assert "BLUEGREEN_TEST_URL" in str(error)


def test_verify_test_listener_checks_green_through_the_test_rule_and_succeeds(
    sim, native_env, reachable
):
    from bluegreen.hooks.handlers import verify_test_listener

    sim.register_hook(lambda_arn("verify_test_listener"), verify_test_listener.handler)
    with_hooks(sim, native_env, lambda_hook("verify_test_listener", "POST_TEST_TRAFFIC_SHIFT"))

    arn = deploy_native(sim, native_env)

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    ((path, headers),) = reachable.requests
    assert path == "/"
    assert headers["Host"] == native_env.native.host


def test_verify_production_passes_a_rollbacks_re_run_so_the_rollback_itself_succeeds(
    sim, native_env, reachable
):
    from bluegreen.hooks.handlers import verify_production

    answers: list[Any] = []
    sim.register_hook(
        lambda_arn("verify_production"), recording(verify_production.handler, answers, sim)
    )
    sim.register_hook(lambda_arn("no"), lambda event, context: {"hookStatus": "FAILED"})
    with_hooks(
        sim,
        native_env,
        lambda_hook("verify_production", "PRODUCTION_TRAFFIC_SHIFT"),
        lambda_hook("no", "POST_PRODUCTION_TRAFFIC_SHIFT"),
    )

    arn = deploy_native(sim, native_env)

    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    assert [answer for _, _, answer in answers] == [{"hookStatus": "SUCCEEDED"}] * 2
    assert len(reachable.requests) == 1  # the rollback's re-run checked nothing


def test_verify_test_listener_at_a_stage_before_test_traffic_fails_naming_the_stage(sim, env):
    from bluegreen.hooks.handlers import verify_test_listener

    answers: list[Any] = []
    sim.register_hook(
        lambda_arn("verify_test_listener"), recording(verify_test_listener.handler, answers, sim)
    )
    native = NativeService(sim, env, config("POST_SCALE_UP", name="verify_test_listener"))

    assert sim.run_until_done(native.deploy()) == "ROLLBACK_SUCCESSFUL"
    reason = answers[0][2]["hookDetails"]["bluegreen"]["reason"]
    assert "at POST_SCALE_UP the test route does not reach the new revision" in reason
    assert "attach this hook at POST_TEST_TRAFFIC_SHIFT" in reason


def test_restore_scaling_as_a_native_hook_restores_nothing_it_did_not_record_and_passes(
    sim, native_env
):
    from bluegreen.hooks.handlers import restore_scaling

    answers: list[Any] = []
    sim.register_hook(
        lambda_arn("restore_scaling"), recording(restore_scaling.hook_handler, answers, sim)
    )
    with_hooks(
        sim,
        native_env,
        lambda_hook("restore_scaling", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"),
    )

    assert sim.run_until_done(deploy_native(sim, native_env)) == "SUCCESSFUL"
    assert [answer for _, _, answer in answers] == [{"hookStatus": "SUCCEEDED"}] * 2
    assert not reports(sim)


# -- bluegreen hooks invoke --native ------------------------------------------------------------


def test_invoke_native_sends_the_ecs_event_and_prints_the_hook_status(sim, env, green, capsys):
    native = NativeService(sim, env, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    arn = native.deploy()

    code = main(["hooks", "invoke", "verify_test_listener", "--native", "--deployment-id", arn])

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["hookStatus"] == "SUCCEEDED"
    assert printed["invocations"] == 1
    assert printed["checks"][0]["tried"] == f"GET {green.url}/"


def test_invoke_native_follows_in_progress_as_ecs_would(sim, env, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    handler_file = tmp_path / "patient.py"
    handler_file.write_text(
        "from bluegreen.hooks import RetryLater, lifecycle_hook\n"
        "\n"
        "@lifecycle_hook\n"
        "def handler(event):\n"
        "    runs = event.state.get('runs', 0) + 1\n"
        "    if runs < 3:\n"
        "        return RetryLater('not yet', seconds=2, state={'runs': runs})\n"
        "    return event.stage == 'PRE_PRODUCTION_TRAFFIC_SHIFT'\n"
    )
    native = NativeService(sim, env, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    arn = native.deploy()
    args = ["hooks", "invoke", str(handler_file), "--deployment-id", arn]

    code = main([*args, "--stage", "PRE_PRODUCTION_TRAFFIC_SHIFT"])
    printed = json.loads(capsys.readouterr().out)
    assert (code, printed["hookStatus"], printed["invocations"]) == (0, "SUCCEEDED", 3)

    code = main([*args, "--stage", "POST_SCALE_UP", "--once"])
    printed = json.loads(capsys.readouterr().out)
    assert (code, printed["hookStatus"], printed["callBackDelay"]) == (3, "IN_PROGRESS", 2)


def test_invoke_refuses_native_options_for_a_codedeploy_id_and_a_bad_stage(capsys):
    assert main(["hooks", "invoke", "verify_test_listener", "--deployment-id", "d-AAAAAAAAA",
                 "--stage", "POST_TEST_TRAFFIC_SHIFT"]) == 2  # fmt: skip
    assert "only apply to an ECS-native hook" in capsys.readouterr().err
    arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc"
    assert main(["hooks", "invoke", "verify_test_listener", "--deployment-id", arn,
                 "--stage", "LATER", "--hook-details", "[1]"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--stage 'LATER' is none of" in err
    assert "--hook-details must be a JSON object" in err


# -- RetryLater on a CodeDeploy hook: waited out within the one invocation ---------------------


class WallContext:
    """A Lambda context whose remaining time follows the wall clock."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def codedeploy_waiting(sim):
    """A CodeDeploy deployment whose BeforeInstall hook waits for a report: ``(d, id, event)``."""
    d = Deployer.create(sim)
    calls: list[dict[str, Any]] = []
    sim.register_hook("CodeDeployHook_kit", d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"BeforeInstall": "CodeDeployHook_kit"})
    sim.run_until(lambda: len(calls) == 1)
    return d, deployment_id, calls[0]


def test_a_codedeploy_hook_runs_a_check_again_in_the_same_invocation(codedeploy_waiting):
    d, deployment_id, event = codedeploy_waiting
    slept: list[float] = []

    answer = lifecycle_hook(sleep=slept.append)(waiting_twice)(event)

    assert answer["status"] == "Succeeded"
    assert slept == [5.0, 5.0]
    assert d.events(deployment_id)["BeforeInstall"] == "Succeeded"


def test_a_codedeploy_hook_fails_when_the_wait_outlasts_the_invocation(codedeploy_waiting):
    d, deployment_id, event = codedeploy_waiting

    answer = lifecycle_hook(margin_seconds=5)(lambda e: RetryLater("no data", seconds=60))(
        event, WallContext(20)
    )

    assert answer["status"] == "Failed"
    assert "asked to be run again in 60 s (no data)" in answer["reason"]
    assert "CodeDeploy invokes a hook once" in answer["reason"]
    assert d.events(deployment_id)["BeforeInstall"] == "Failed"


def waiting_twice(event: HookEvent) -> Any:
    runs = event.state.get("runs", 0) + 1
    if runs < 3:
        raise RetryLater("warming up", seconds=5, state={"runs": runs})
    return True


def native_event(env: Any, stage: str) -> dict[str, Any]:
    """An ECS hook event for the environment's native service, with no deployment running."""
    service_arn = env.native.service_arn
    return {
        "executionId": "e-1",
        "lifecycleStage": stage,
        "resourceArn": service_arn.replace(":service/", ":service-deployment/") + "/abc",
        "executionDetails": {
            "serviceArn": service_arn,
            "targetServiceRevisionArn": service_arn.replace(":service/", ":service-revision/")
            + "/1",
            "testTrafficWeights": {},
            "productionTrafficWeights": {},
        },
    }


def test_verify_test_listener_fails_when_the_test_rule_still_leads_where_production_does(
    sim, native_env, reachable
):
    """No deployment has moved the test rule: it forwards to blue like production, so an HTTP
    check through it would only reach blue."""
    from bluegreen.hooks.handlers import verify_test_listener

    answer = verify_test_listener.handler(native_event(native_env, "POST_TEST_TRAFFIC_SHIFT"))

    assert answer["hookStatus"] == "FAILED"
    reason = answer["hookDetails"]["bluegreen"]["reason"]
    assert reason.startswith("test routing failed")
    assert "test rule to web-native-blue 100, web-native-green 0" in reason
    assert reachable.requests == []  # no HTTP check through a route that reaches blue
