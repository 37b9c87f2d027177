"""The ready-made ``analysis_gate`` hook at PRE_PRODUCTION_TRAFFIC_SHIFT of ECS-native canary
and linear deployments, end to end on the simulator (real boto3 clients, production traffic
following the rule's weights, the virtual clock): it passes the first step at once, waits for
the step's metrics, passes a healthy green, rolls a failing one back at the canary step, fails
a step it cannot judge in time, and refuses bad settings before any production traffic moves.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from native_sim import lambda_arn, lambda_hook

from bluegreen.hooks.handlers import READY_MADE, thin_handler_source
from bluegreen.hooks.handlers._gate_window import judged_window, load_balancer_of
from bluegreen.hooks.handlers.analysis_gate import GateSettings, make_handler
from bluegreen.testing import Simulator, Traffic

ROOT = Path(__file__).resolve().parent.parent
START = 1_796_000_017.0
GATE = "analysis_gate"
GOOD = "public.ecr.aws/nginx/nginx:1.28"
BAD = "public.ecr.aws/nginx/nginx:1.29-bad"
Answer = tuple[float, dict[str, Any], dict[str, Any]]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator whose native production rule gets 2,000 requests a minute."""
    with Simulator(traffic=Traffic(requests_per_minute=2000, seed=7), start_time=START) as sim:
        yield sim


def gated(
    sim: Simulator,
    answers: list[Answer],
    *,
    strategy: str = "CANARY",
    percent: float = 10,
    step_minutes: int = 1,
    details: dict[str, Any] | None = None,
) -> Any:
    """The native sample service with the gate at PRE_PRODUCTION_TRAFFIC_SHIFT, each of its
    answers kept with when and to what."""
    hook = lambda_hook(GATE, "PRE_PRODUCTION_TRAFFIC_SHIFT")
    if details is not None:
        hook["hookDetails"] = details
    env = sim.create_environment(
        native=True,
        alarms=False,  # the gate, not the service's alarm, is what rolls back here
        native_strategy=strategy,
        native_percent=percent,
        native_step_minutes=step_minutes,
        native_bake_minutes=1,
        native_hooks=[hook],
    )
    handler = make_handler(now=sim.clock.time, client=sim.clients(), retry_delays=(0.0,))

    def function(event: dict[str, Any], context: Any) -> Any:
        answer = handler(event, context)
        answers.append((sim.clock.time(), event, answer))
        return answer

    sim.register_hook(lambda_arn(GATE), function)
    return env


def deploy(sim: Simulator, env: Any, image: str) -> str:
    """UpdateService to a revision running ``image``; the new service deployment's ARN."""
    ecs = sim.clients().ecs
    native = env.native
    definition = ecs.register_task_definition(
        family=native.family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": native.container_name, "image": image, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=env.cluster, service=native.service, taskDefinition=definition)
    listed = ecs.list_service_deployments(
        cluster=env.cluster, service=native.service, status=["PENDING", "IN_PROGRESS"]
    )["serviceDeployments"]
    return str(listed[0]["serviceDeploymentArn"])


def by_step(answers: list[Answer]) -> list[list[dict[str, Any]]]:
    """The answers grouped by hook execution (one per traffic step), in order."""
    steps: dict[str, list[dict[str, Any]]] = {}
    for _, event, answer in answers:
        steps.setdefault(event["executionId"], []).append(answer)
    return list(steps.values())


def production_percents(sim: Simulator, arn: str) -> list[float]:
    """Green's production share after each change ECS made to the production rule."""
    return [p for _, kind, p in sim.service_deployment(arn).weight_log if kind == "production"]


def reason(answer: dict[str, Any]) -> str:
    return str(answer["hookDetails"]["bluegreen"]["reason"])


# -- end to end on the simulator ------------------------------------------------------------


def test_a_healthy_canary_passes_the_first_step_at_once_then_waits_for_data_and_succeeds(
    sim, caplog
):
    answers: list[Answer] = []
    env = gated(sim, answers)
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")

    arn = deploy(sim, env, GOOD)

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    first, second = by_step(answers)
    assert first == [{"hookStatus": "SUCCEEDED"}]
    statuses = [a["hookStatus"] for a in second]
    assert statuses[0] == "IN_PROGRESS"  # the canary's minute is not published yet
    assert statuses[-1] == "SUCCEEDED"
    assert set(statuses[:-1]) == {"IN_PROGRESS"}
    assert all(a["callBackDelay"] >= 1 for a in second[:-1])
    assert "whole minute" in second[0]["hookDetails"]["bluegreen"]["waiting"]
    weights = [event["executionDetails"]["productionTrafficWeights"] for _, event, _ in answers]
    target = answers[0][1]["executionDetails"]["targetServiceRevisionArn"]
    assert weights[0][target] == 10
    assert weights[-1][target] == 100
    assert production_percents(sim, arn) == [10.0, 100.0]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bluegreen.hooks"]
    checks = [line for line in lines if line.get("event") == "check"]
    assert "no production traffic before the first step" in checks[0]["got"]
    assert "the analysis passed: 5xx rate: green 0.0%" in checks[-1]["got"]
    evaluations = [line for line in lines if line.get("event") == "analysis_evaluation"]
    assert evaluations
    assert evaluations[-1]["outcome"] == "pass"
    assert evaluations[-1]["green_percent"] == 10.0
    # The step is read once per step; re-invocations only read the metrics.
    ecs = [op for _, _, op in sim.api_calls("ecs")]
    assert ecs.count("DescribeServiceDeployments") == 2
    assert ecs.count("DescribeServiceRevisions") == 2
    metrics = [op for _, _, op in sim.api_calls() if op == "GetMetricData"]
    assert len(metrics) == len(evaluations)


def test_a_failing_canary_is_rolled_back_at_the_canary_step(sim):
    answers: list[Answer] = []
    env = gated(sim, answers, step_minutes=3)
    sim.traffic.behave(BAD, error_rate=0.3)

    arn = deploy(sim, env, BAD)

    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    first, second = by_step(answers)
    assert first == [{"hookStatus": "SUCCEEDED"}]
    assert second[-1]["hookStatus"] == "FAILED"
    assert "the analysis failed at evaluation 1" in reason(second[-1])
    assert "5xx rate: green" in reason(second[-1])
    # Production never went past the canary: 10 %, then back to blue.
    assert production_percents(sim, arn) == [10.0, 0.0]
    assert max(production_percents(sim, arn)) <= 10.0


def test_a_linear_deployment_is_judged_before_each_step_after_the_first(sim):
    answers: list[Answer] = []
    env = gated(sim, answers, strategy="LINEAR", percent=50, step_minutes=2)

    arn = deploy(sim, env, GOOD)

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    steps = by_step(answers)
    assert [step[-1]["hookStatus"] for step in steps] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(steps[0]) == 1
    assert production_percents(sim, arn) == [50.0, 100.0]


def test_a_step_not_judged_before_its_deadline_fails_saying_what_it_waited_for():
    # 100 requests a minute: the canary's 10 % never reaches the 50 requests a window needs.
    traffic = Traffic(requests_per_minute=100, seed=3)
    with Simulator(traffic=traffic, start_time=START) as sim:
        answers: list[Answer] = []
        env = gated(sim, answers, details={"analysis": "default", "deadline_minutes": 4})

        arn = deploy(sim, env, GOOD)

        assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
        second = by_step(answers)[1]
        assert [a["hookStatus"] for a in second][-1] == "FAILED"
        assert "not judged within 4 min (deadline_minutes)" in reason(second[-1])
        assert "fewer than the 50 needed" in reason(second[-1])
        last = answers[-1][1]["executionId"]
        started = next(t for t, e, _ in answers if e["executionId"] == last)
        assert answers[-1][0] - started <= 4 * 60  # simulated seconds
        assert max(production_percents(sim, arn)) <= 10.0


def test_a_dry_run_reports_what_it_would_have_done_and_lets_the_canary_go_on(sim):
    answers: list[Answer] = []
    env = gated(sim, answers, step_minutes=3, details={"analysis": {"dry_run": True}})
    sim.traffic.behave(BAD, error_rate=0.3)

    arn = deploy(sim, env, BAD)

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    assert [step[-1]["hookStatus"] for step in by_step(answers)] == ["SUCCEEDED", "SUCCEEDED"]


@pytest.mark.parametrize(
    ("policy", "ending"), [("pass", "SUCCESSFUL"), ("fail", "ROLLBACK_SUCCESSFUL")]
)
def test_cloudwatch_errors_end_the_analysis_inconclusive_which_passes_or_fails_as_configured(
    sim, policy, ending
):
    answers: list[Answer] = []
    details = {"analysis": {"inconclusive_limit": 2}, "on_inconclusive": policy}
    env = gated(sim, answers, step_minutes=3, details=details)
    sim.traffic.behave(BAD, error_rate=0.3)
    sim.faults.throttle("GetMetricData", service="monitoring")

    arn = deploy(sim, env, BAD)

    assert sim.run_until_done(arn) == ending
    second = by_step(answers)[1]
    assert [a["hookStatus"] for a in second][:-1] == ["IN_PROGRESS"]
    if policy == "fail":
        assert "ended inconclusive at evaluation 2" in reason(second[-1])
        assert "Throttl" in reason(second[-1])
        assert "on_inconclusive is fail" in reason(second[-1])
    else:
        assert second[-1] == {"hookStatus": "SUCCEEDED"}


def test_bad_settings_fail_the_first_step_before_any_production_traffic_moves(sim):
    answers: list[Answer] = []
    details = {"analysis": {"window": 90}, "deadline_minute": 5, "on_inconclusive": "maybe"}
    env = gated(sim, answers, details=details)

    arn = deploy(sim, env, GOOD)

    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    ((_, _, answer),) = answers
    text = reason(answer)
    assert "hookDetails.deadline_minute: unknown setting" in text
    assert "window: 90 must be whole minutes" in text
    assert 'on_inconclusive: \'maybe\' must be "pass" or "fail"' in text
    assert max(production_percents(sim, arn), default=0.0) == 0.0


# -- the event, the stage, the settings --------------------------------------------------


def native_event(stage: str, **details: Any) -> dict[str, Any]:
    service = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
    revision = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1"
    return {
        "executionId": "e-1",
        "lifecycleStage": stage,
        "resourceArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc",
        "executionDetails": {
            "serviceArn": service,
            "targetServiceRevisionArn": revision,
            "testTrafficWeights": {},
            "productionTrafficWeights": {},
        },
        **({"hookDetails": details} if details else {}),
    }


def test_at_another_stage_the_gate_fails_naming_the_stage_to_attach_it_at():
    answer = make_handler(now=lambda: START)(native_event("POST_TEST_TRAFFIC_SHIFT"), None)

    assert answer["hookStatus"] == "FAILED"
    assert "attach it at PRE_PRODUCTION_TRAFFIC_SHIFT" in reason(answer)


def test_settings_default_to_the_default_analysis_and_refuse_what_they_do_not_know():
    from bluegreen.analysis import DEFAULT_ANALYSIS

    settings = GateSettings.from_details({})
    assert settings.analysis == DEFAULT_ANALYSIS
    assert settings.deadline_seconds == 1800.0
    assert not settings.fail_inconclusive
    custom = GateSettings.from_details(
        {"analysis": {"minimum_sample": 20}, "deadline_minutes": 5, "on_inconclusive": "fail"}
    )
    assert custom.analysis.minimum_sample == 20
    assert custom.deadline_seconds == 300.0
    assert custom.fail_inconclusive
    with pytest.raises(ValueError, match="deadline_minutes: 0 must be minutes"):
        GateSettings.from_details({"deadline_minutes": 0})
    with pytest.raises(ValueError, match='neither "default" nor a mapping'):
        GateSettings.from_details({"analysis": "strict"})


def test_the_window_is_the_steps_published_whole_minutes_up_to_the_analysis_window():
    step = 600.0 + 30  # the step started 30 s into minute 10
    # Minute 11 is the first whole one; it is read 10 s after it ends.
    assert judged_window(step, 700.0, window=180, delay=10, after=None) == 730.0
    assert judged_window(step, 730.0, window=180, delay=10, after=None) == (720.0, 60)
    assert judged_window(step, 1000.0, window=180, delay=10, after=None) == (960.0, 180)
    # Never the same window twice: the next minute after the one judged last.
    assert judged_window(step, 735.0, window=180, delay=10, after=720.0) == 790.0


def test_the_load_balancer_is_read_from_the_rule_arn():
    head = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
    rule = f"{head}listener-rule/app/web-lb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    assert load_balancer_of(rule) == f"{head}loadbalancer/app/web-lb/50dc6c495c0c9188"
    listener = f"{head}listener/net/web-nlb/50dc6c495c0c9188/f2f7dc8efc522ab2"
    assert load_balancer_of(listener) == f"{head}loadbalancer/net/web-nlb/50dc6c495c0c9188"
    assert load_balancer_of("arn:aws:ecs:us-east-1:123456789012:service/prod/web") is None


# -- packaging and cold start --------------------------------------------------------------


def test_the_gate_is_a_ready_made_handler_with_its_thin_file():
    assert READY_MADE[GATE] == ("handler",)
    assert (ROOT / "hooks" / f"{GATE}.py").read_text() == thin_handler_source(GATE)


def test_importing_the_gate_loads_neither_boto3_nor_the_analysis_nor_anything_heavy():
    heavy = (
        "boto3",
        "botocore",
        "httpx",
        "yaml",
        "moto",
        "rich",
        "bluegreen.cli",
        "bluegreen.testing",
        "bluegreen.analysis",
        "bluegreen.analysis_query",
        "bluegreen.analysis_verdict",
    )
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'hooks')!r})\n"
        "import analysis_gate\n"
        f"print(json.dumps([m for m in {list(heavy)!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
