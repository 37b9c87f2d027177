"""bluegreen.hooks for ECS-native lifecycle hooks, on the payloads AWS documents: the event is
recognised, the same checks run, and the handler returns ``hookStatus`` (IN_PROGRESS with
``callBackDelay`` and the state to resume from for a check that asks for more time) instead
of calling CodeDeploy: one answer per invocation, never an exception."""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

import pytest

from bluegreen.hooks import CheckResult, HookEvent, RetryLater, lifecycle_hook
from bluegreen.hooks._native import looks_native, parse_native, rolling_back
from bluegreen.hooks._native_listener import rule_headers, rule_listener_arn

# -- AWS's payloads -------------------------------------------------------------------------

ACCOUNT = "123456789012"
REVISIONS = f"arn:aws:ecs:us-west-2:{ACCOUNT}:service-revision/my-cluster/my-service"
GREEN = f"{REVISIONS}/9313423515462893900"
BLUE = f"{REVISIONS}/1920498462936580504"
DEPLOYMENT = (
    f"arn:aws:ecs:us-west-2:{ACCOUNT}:service-deployment/my-cluster/my-service/"
    "EZe5RNVLH6PPzHXINuP28"
)
SERVICE = f"arn:aws:ecs:us-west-2:{ACCOUNT}:service/my-cluster/my-service"


def documented(stage: str, *, test: dict | None = None, production: dict | None = None) -> dict:
    """The event of AWS's lambda-lifecycle-hooks page ("Lifecycle stage payloads")."""
    return {
        "executionId": "3a0345ba-b029-404b-890d-7da2a4b266aa",
        "lifecycleStage": stage,
        "resourceArn": DEPLOYMENT,
        "executionDetails": {
            "serviceArn": SERVICE,
            "targetServiceRevisionArn": GREEN,
            "testTrafficWeights": test or {},
            "productionTrafficWeights": production or {},
        },
    }


STAGE_PAYLOADS = {
    "PRE_SCALE_UP": documented("PRE_SCALE_UP"),
    "POST_SCALE_UP": documented("POST_SCALE_UP"),
    "TEST_TRAFFIC_SHIFT": documented("TEST_TRAFFIC_SHIFT", test={GREEN: 100, BLUE: 0}),
    "POST_TEST_TRAFFIC_SHIFT": documented("POST_TEST_TRAFFIC_SHIFT"),
    "PRE_PRODUCTION_TRAFFIC_SHIFT": documented(
        "PRE_PRODUCTION_TRAFFIC_SHIFT", production={GREEN: 0, BLUE: 100}
    ),
    "PRODUCTION_TRAFFIC_SHIFT": documented(
        "PRODUCTION_TRAFFIC_SHIFT", production={GREEN: 100, BLUE: 0}
    ),
    "POST_PRODUCTION_TRAFFIC_SHIFT": documented("POST_PRODUCTION_TRAFFIC_SHIFT"),
}
ROLLBACK = documented("PRODUCTION_TRAFFIC_SHIFT", production={GREEN: 0, BLUE: 100})
"""The rollback example: the target stays green, the weights go back to blue."""
FLAT = {
    "serviceArn": "arn:aws:ecs:us-west-2:1234567890:service/myCluster/myService".replace(
        "1234567890", ACCOUNT
    ),
    "targetServiceRevisionArn": GREEN,
    "testTrafficWeights": {},
    "productionTrafficWeights": {},
}
"""The shape of the older deployment-lifecycle-hooks page: no envelope."""


def hook_lines(caplog) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "bluegreen.hooks"]


class WallContext:
    """A Lambda context whose remaining time follows the wall clock."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class Clock:
    """Epoch seconds the test moves (``now=`` of ``lifecycle_hook``)."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


# -- the event ----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(STAGE_PAYLOADS))
def test_each_documented_stage_payload_runs_the_checks_and_returns_succeeded(stage):
    seen: list[HookEvent] = []

    @lifecycle_hook
    def handler(event: HookEvent) -> CheckResult:
        seen.append(event)
        return CheckResult("http", True, "GET http://green/", "200 OK", 1.0)

    assert handler(STAGE_PAYLOADS[stage]) == {"hookStatus": "SUCCEEDED"}
    (event,) = seen
    assert event.is_native
    assert (event.kind, event.stage) == ("ecs", stage)
    assert event.deployment_id == DEPLOYMENT
    assert event.execution_id == "3a0345ba-b029-404b-890d-7da2a4b266aa"
    assert event.native is not None
    assert (event.native.cluster, event.native.service) == ("my-cluster", "my-service")
    assert event.native.target_revision_arn == GREEN
    assert event.rolling_back is False
    assert event.state == {}
    assert event.hook_details == {}


def test_the_older_flat_payload_is_read_too():
    invocation, problems = parse_native(FLAT)
    assert problems == ()
    assert invocation is not None
    assert (invocation.cluster, invocation.service, invocation.stage) == (
        "myCluster",
        "myService",
        None,
    )
    assert lifecycle_hook(lambda e: True)(FLAT) == {"hookStatus": "SUCCEEDED"}


def test_native_and_codedeploy_events_are_told_apart():
    assert looks_native(STAGE_PAYLOADS["POST_TEST_TRAFFIC_SHIFT"])
    assert looks_native(FLAT)
    assert looks_native(json.dumps(FLAT))
    assert not looks_native({"DeploymentId": "d-A1B2C3D4E", "LifecycleEventHookExecutionId": "x"})
    assert not looks_native({"DeploymentId": "d-A1B2C3D4E", "lifecycleStage": "PRE_SCALE_UP"})
    assert not looks_native(["executionDetails"])


def test_a_rollback_re_run_is_recognised_from_the_weights():
    for event, expected in (
        (ROLLBACK, True),
        (STAGE_PAYLOADS["PRODUCTION_TRAFFIC_SHIFT"], False),
        (STAGE_PAYLOADS["PRE_PRODUCTION_TRAFFIC_SHIFT"], False),  # green 0 before a step
        (documented("TEST_TRAFFIC_SHIFT", test={GREEN: 0, BLUE: 100}), True),
    ):
        invocation, _ = parse_native(event)
        assert invocation is not None
        assert rolling_back(invocation) is expected


def test_a_stage_aws_adds_later_is_kept_not_refused():
    event = documented("POST_SOMETHING_NEW")
    seen: list[str | None] = []
    assert lifecycle_hook(lambda e: seen.append(e.stage))(event) == {"hookStatus": "SUCCEEDED"}
    assert seen == ["POST_SOMETHING_NEW"]


# -- what the handler returns ---------------------------------------------------------------


def test_a_failing_check_returns_failed_with_the_reason_in_hook_details(caplog):
    caplog.set_level("INFO", logger="bluegreen.hooks")
    answer = lifecycle_hook(lambda e: CheckResult("http", False, "GET /", "503", 1.0))(
        STAGE_PAYLOADS["POST_TEST_TRAFFIC_SHIFT"]
    )

    assert answer["hookStatus"] == "FAILED"
    assert answer["hookDetails"]["bluegreen"]["reason"] == "http failed: tried GET /, got 503"
    assert set(answer) == {"hookStatus", "hookDetails"}
    (line,) = [line for line in hook_lines(caplog) if line["event"] == "answered"]
    assert line["hookStatus"] == "FAILED"
    assert line["stage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert line["deployment_id"] == DEPLOYMENT


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


@pytest.mark.parametrize("raised", [RuntimeError("boom"), SystemExit(3), Unprintable()])
def test_a_raising_check_returns_failed_never_an_exception(raised):
    def check(event: HookEvent) -> None:
        raise raised

    answer = lifecycle_hook(check)(STAGE_PAYLOADS["POST_TEST_TRAFFIC_SHIFT"])

    assert answer["hookStatus"] == "FAILED"
    assert answer["hookDetails"]["bluegreen"]["reason"].startswith("the check check raised ")


def test_even_the_kit_failing_returns_failed_never_an_exception(monkeypatch, caplog):
    import bluegreen.hooks._native_runner

    def broken(raw: Any) -> Any:
        raise KeyError("a bug in the kit")

    monkeypatch.setattr(bluegreen.hooks._native_runner, "parse_native", broken)
    answer = lifecycle_hook(lambda e: True)(STAGE_PAYLOADS["POST_TEST_TRAFFIC_SHIFT"])

    assert answer["hookStatus"] == "FAILED"
    assert "KeyError" in answer["hookDetails"]["bluegreen"]["reason"]
    assert next(line["event"] for line in hook_lines(caplog)) == "hook_raised"


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({**documented("POST_TEST_TRAFFIC_SHIFT"), "executionDetails": []}, "executionDetails"),
        ({"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "resourceArn": DEPLOYMENT}, "serviceArn"),
        (
            {**documented("POST_SCALE_UP"), "hookDetails": "not an object"},
            "hookDetails is a str",
        ),
        (
            {
                **documented("POST_SCALE_UP"),
                "executionDetails": {**FLAT, "serviceArn": "arn:aws:ecs:x"},
            },
            "not an ECS service ARN",
        ),
    ],
)
def test_a_malformed_native_event_returns_failed_naming_the_problem_without_checking(
    event, problem
):
    ran: list[HookEvent] = []
    answer = lifecycle_hook(ran.append)(event)

    assert answer["hookStatus"] == "FAILED"
    assert problem in answer["hookDetails"]["bluegreen"]["reason"]
    assert ran == []


def test_an_event_of_neither_kind_answers_hook_status_failed_too():
    answer = lifecycle_hook(lambda e: True)({"something": "else"})
    assert answer["hookStatus"] == "FAILED"
    assert answer["status"] == "Failed"


# -- more time: IN_PROGRESS and resuming ------------------------------------------------------


def waiting_for_data(event: HookEvent) -> Any:
    """Asks twice to be run again, counting in the state, then passes."""
    runs = event.state.get("runs", 0) + 1
    if runs < 3:
        return RetryLater(f"waiting for data ({runs})", seconds=12.5, state={"runs": runs})
    return CheckResult("data", True, "query", f"enough after {runs} runs", 1.0)


def test_retry_later_returns_in_progress_and_the_next_invocation_resumes_from_hook_details():
    clock = Clock()
    handler = lifecycle_hook(now=clock)(waiting_for_data)
    event = {**documented("POST_TEST_TRAFFIC_SHIFT"), "hookDetails": {"bucket": "approvals"}}

    first = handler(copy.deepcopy(event))
    assert first["hookStatus"] == "IN_PROGRESS"
    assert first["callBackDelay"] == 13  # whole seconds, rounded up
    assert first["hookDetails"]["bucket"] == "approvals"  # the hook's own details kept
    assert first["hookDetails"]["bluegreen"] == {
        "started": clock.t,
        "invocations": 1,
        "waiting": "waiting for data (1)",
        "state": {"runs": 1},
    }
    json.dumps(first)  # ECS carries it as JSON

    clock.t += 13
    second = handler({**event, "hookDetails": first["hookDetails"]})
    assert second["hookStatus"] == "IN_PROGRESS"
    assert second["hookDetails"]["bluegreen"]["invocations"] == 2
    assert second["hookDetails"]["bluegreen"]["started"] == clock.t - 13

    clock.t += 13
    assert handler({**event, "hookDetails": second["hookDetails"]}) == {"hookStatus": "SUCCEEDED"}


def test_a_raised_retry_later_works_like_a_returned_one():
    def check(event: HookEvent) -> None:
        raise RetryLater("warming up", seconds=0)

    answer = lifecycle_hook(check)(STAGE_PAYLOADS["POST_SCALE_UP"])
    assert answer["hookStatus"] == "IN_PROGRESS"
    assert answer["callBackDelay"] == 1  # ECS gets at least a second


def test_the_checks_fail_once_the_overall_deadline_has_passed():
    clock = Clock()
    handler = lifecycle_hook(now=clock, deadline_seconds=60)(
        lambda e: RetryLater("still waiting", seconds=20)
    )
    event = documented("POST_TEST_TRAFFIC_SHIFT")

    answers = [handler(event)]
    for _ in range(5):
        if answers[-1]["hookStatus"] != "IN_PROGRESS":
            break
        clock.t += answers[-1]["callBackDelay"]
        answers.append(handler({**event, "hookDetails": answers[-1]["hookDetails"]}))

    assert [a["hookStatus"] for a in answers] == ["IN_PROGRESS"] * 3 + ["FAILED"]
    reason = answers[-1]["hookDetails"]["bluegreen"]["reason"]
    assert "would pass the deadline of 60 s" in reason
    assert reason.startswith("still waiting")


def test_an_invocation_that_finds_the_deadline_passed_fails_before_checking():
    clock = Clock()
    ran: list[HookEvent] = []
    handler = lifecycle_hook(now=clock, deadline_seconds=60)(ran.append)
    resumed = {
        "bluegreen": {"started": clock.t - 61, "invocations": 4, "waiting": "data", "state": {}}
    }

    answer = handler({**documented("POST_TEST_TRAFFIC_SHIFT"), "hookDetails": resumed})

    assert answer["hookStatus"] == "FAILED"
    assert answer["hookDetails"]["bluegreen"]["reason"] == (
        "the checks had not decided 61 s after the first of 4 invocations, past the deadline "
        "of 60 s; last waiting for: data"
    )
    assert ran == []


def test_checks_outrunning_the_invocation_return_in_progress_with_what_they_kept():
    release = threading.Event()

    def long_check(event: HookEvent) -> None:
        event.state["progress"] = "half way"
        release.wait(30)

    try:
        answer = lifecycle_hook(margin_seconds=0.1)(long_check)(
            documented("POST_TEST_TRAFFIC_SHIFT"), WallContext(0.5)
        )
    finally:
        release.set()

    assert answer["hookStatus"] == "IN_PROGRESS"
    assert answer["callBackDelay"] == 5
    assert answer["hookDetails"]["bluegreen"]["state"] == {"progress": "half way"}
    assert answer["hookDetails"]["bluegreen"]["waiting"].startswith("the checks were still running")


def test_a_state_that_is_not_json_fails_the_hook_with_the_reason():
    def check(event: HookEvent) -> RetryLater:
        event.state["when"] = object()
        return RetryLater("later")

    answer = lifecycle_hook(check)(documented("POST_TEST_TRAFFIC_SHIFT"))
    assert answer["hookStatus"] == "FAILED"
    assert "it must be JSON" in answer["hookDetails"]["bluegreen"]["reason"]


def test_a_lambda_with_no_time_beyond_the_margin_fails_without_checking():
    ran: list[HookEvent] = []
    answer = lifecycle_hook(margin_seconds=10)(ran.append)(
        documented("POST_TEST_TRAFFIC_SHIFT"), WallContext(5)
    )
    assert answer["hookStatus"] == "FAILED"
    assert "give the function a longer timeout" in answer["hookDetails"]["bluegreen"]["reason"]
    assert ran == []


def test_retry_later_refuses_wrong_arguments():
    with pytest.raises(ValueError, match="seconds must be a number"):
        RetryLater("x", seconds=-1)
    with pytest.raises(ValueError, match="state must be a mapping"):
        RetryLater("x", state=[1])  # type: ignore[arg-type]


def test_lifecycle_hook_refuses_a_wrong_deadline_or_clock():
    from bluegreen import ValidationError

    with pytest.raises(ValidationError) as caught:
        lifecycle_hook(deadline_seconds=-1, now="time")  # type: ignore[call-overload]
    assert [p.split(" ", 1)[0] for p in caught.value.problems] == ["deadline_seconds", "now"]


# -- listener rules -----------------------------------------------------------------------


def test_a_rules_listener_is_read_from_its_arn():
    rule = (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c"
        "9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    )
    assert rule_listener_arn(rule) == (
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/"
        "f2f7dc8efc522ab2"
    )
    listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/n/1/2"
    assert rule_listener_arn(listener) == listener  # an NLB names the listener itself


def test_a_rules_conditions_become_the_headers_that_reach_it():
    headers, notes = rule_headers(
        [
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}},
            {
                "Field": "http-header",
                "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["yes"]},
            },
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
            {"Field": "path-pattern", "Values": ["/*"]},
            {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
        ]
    )
    assert headers == {"Host": "x.example.com", "X-Canary": "yes"}
    assert notes == (
        "the rule matches paths ['/api/*']: the check's path (BLUEGREEN_CHECK_PATH) must be "
        "one of them",
        "the rule has a source-ip condition the check does not meet",
    )
