"""bluegreen.hooks._runner: lifecycle_hook, what a check function's return means, what is
reported (exactly once) and logged, the event view it hands the check, and the report call made
through bluegreen._aws.Caller. Reports go to the simulator's CodeDeploy for a real deployment;
the handler is called directly with the event the simulator sent."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pytest
from deploying import Deployer

from bluegreen import Clients
from bluegreen.hooks import CheckResult, HookEvent, lifecycle_hook
from bluegreen.hooks._results import logger

HOOK = "CodeDeployHook_kit"


class WallContext:
    """A Lambda context whose remaining time follows the wall clock."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def waiting(sim):
    """A deployment whose BeforeInstall hook is waiting for a report: ``(deployer, id, event)``."""
    d = Deployer.create(sim)
    calls: list[dict[str, Any]] = []
    sim.register_hook(HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    sim.run_until(lambda: len(calls) == 1)
    return d, deployment_id, calls[0]


def puts(sim) -> int:
    return sum(
        1
        for _, _, op in sim.api_calls("codedeploy")
        if op == "PutLifecycleEventHookExecutionStatus"
    )


def hook_lines(caplog) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "bluegreen.hooks"]


def ok_result(name: str = "http", ok: bool = True) -> CheckResult:
    return CheckResult(name, ok, "GET http://green:8080/", "200 OK" if ok else "503", 2.5)


# -- what a return value means -------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "status"),
    [
        (None, "Succeeded"),
        (True, "Succeeded"),
        (False, "Failed"),
        (ok_result(), "Succeeded"),
        (ok_result(ok=False), "Failed"),
        ([ok_result("a"), ok_result("b")], "Succeeded"),
        ([ok_result("a"), ok_result("b", ok=False)], "Failed"),
        ([], "Succeeded"),
    ],
)
def test_return_value_decides_the_one_status_reported(sim, waiting, returned, status):
    d, deployment_id, event = waiting
    handler = lifecycle_hook(lambda e: returned)

    answer = handler(event, WallContext(30))

    assert answer["status"] == status
    assert puts(sim) == 1
    assert d.events(deployment_id)["BeforeInstall"] == status


def test_failed_reason_names_the_first_failing_check_and_counts_the_rest(sim, waiting):
    _, _, event = waiting

    @lifecycle_hook
    def handler(e: HookEvent):
        return [ok_result("a"), ok_result("b", ok=False), ok_result("c", ok=False)]

    answer = handler(event)

    assert answer["reason"] == "b failed: tried GET http://green:8080/, got 503 (and 1 more failed)"
    assert [c["name"] for c in answer["checks"]] == ["a", "b", "c"]


def test_generator_results_are_consumed_in_the_check_thread_and_each_logged_once(
    sim, waiting, caplog
):
    _, _, event = waiting
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")

    @lifecycle_hook
    def handler(e: HookEvent):
        yield ok_result("first")
        yield ok_result("second")

    answer = handler(event)

    assert answer["status"] == "Succeeded"
    assert answer["reason"] == "2 checks passed"
    lines = [line for line in hook_lines(caplog) if line["event"] == "check"]
    assert [line["name"] for line in lines] == ["first", "second"]
    assert lines[0]["deployment_id"] == event["DeploymentId"]
    assert lines[0]["execution_id"] == event["LifecycleEventHookExecutionId"]
    assert lines[0]["tried"] == "GET http://green:8080/"


@pytest.mark.parametrize("returned", ["yes", 1, [ok_result(), "not a result"]])
def test_an_unexpected_return_value_reports_failed(sim, waiting, returned):
    _, _, event = waiting

    answer = lifecycle_hook(lambda e: returned)(event)

    assert answer["status"] == "Failed"
    assert answer["reason"].startswith("the check <lambda> ")
    assert "CheckResult" in answer["reason"]
    assert puts(sim) == 1


def test_a_raising_check_reports_failed_and_logs_the_traceback_on_one_line(sim, waiting, caplog):
    d, deployment_id, event = waiting
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")

    @lifecycle_hook
    def handler(e: HookEvent):
        raise RuntimeError("green is on fire")

    answer = handler(event, WallContext(30))

    assert answer["status"] == "Failed"
    assert answer["reason"] == "the check handler raised RuntimeError: green is on fire"
    assert puts(sim) == 1
    assert d.events(deployment_id)["BeforeInstall"] == "Failed"
    raised = [line for line in hook_lines(caplog) if line["event"] == "check_raised"]
    assert len(raised) == 1
    assert "green is on fire" in raised[0]["traceback"]
    assert all("\n" not in r.getMessage() for r in caplog.records)


def test_reports_are_logged_with_status_and_reason(sim, waiting, caplog):
    _, _, event = waiting
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")

    lifecycle_hook(lambda e: False)(event)

    (reported,) = [line for line in hook_lines(caplog) if line["event"] == "reported"]
    assert reported["status"] == "Failed"
    assert reported["reason"] == "the check function returned False"


# -- the event view -----------------------------------------------------------------------


def test_hook_event_view_keeps_the_raw_event_and_context(sim, waiting):
    _, deployment_id, event = waiting
    seen: list[HookEvent] = []
    context = WallContext(100)

    @lifecycle_hook(margin_seconds=5)
    def handler(e: HookEvent) -> None:
        seen.append(e)

    handler(event, context)

    (view,) = seen
    assert view.deployment_id == deployment_id
    assert view.execution_id == event["LifecycleEventHookExecutionId"]
    assert view.raw is event
    assert view.context is context
    assert 95 < view.remaining_seconds() <= 100


def test_remaining_seconds_is_infinite_without_a_context(sim, waiting):
    _, _, event = waiting
    seen: list[float] = []

    lifecycle_hook(lambda e: seen.append(e.remaining_seconds()))(event)

    assert seen == [float("inf")]


def test_urls_come_from_the_environment_when_set(sim, waiting, monkeypatch):
    _, _, event = waiting
    monkeypatch.setenv("BLUEGREEN_TEST_URL", "https://green.internal:8443/")
    monkeypatch.setenv("BLUEGREEN_PRODUCTION_URL", "https://www.example.com")
    seen: list[tuple[str, str]] = []

    lifecycle_hook(lambda e: seen.append((e.test_url, e.production_url)))(event)

    assert seen == [("https://green.internal:8443", "https://www.example.com")]


# -- malformed events ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"DeploymentId": "d-ABCDEFGHI"},
        {"LifecycleEventHookExecutionId": "abc"},
        "not json",
        None,
        ["DeploymentId"],
    ],
)
def test_an_event_without_both_ids_is_logged_and_not_reported(sim, raw, caplog):
    called: list[HookEvent] = []

    answer = lifecycle_hook(called.append)(raw, WallContext(30))

    assert answer["status"] == "Failed"
    assert answer["reason"].startswith("malformed event: ")
    assert called == []
    assert puts(sim) == 0
    (line,) = [line for line in hook_lines(caplog) if line["event"] == "not_reported"]
    assert "nothing to report on" in line["reason"]


def test_an_event_with_the_ids_in_the_wrong_shape_reports_failed_without_running_checks(
    sim, waiting
):
    d, deployment_id, event = waiting
    called: list[HookEvent] = []
    camel = {
        "deploymentId": event["DeploymentId"],
        "lifecycleEventHookExecutionId": event["LifecycleEventHookExecutionId"],
    }

    answer = lifecycle_hook(called.append)(camel)

    assert answer == {
        "status": "Failed",
        "reason": "malformed event: DeploymentId is spelled deploymentId; "
        "LifecycleEventHookExecutionId is spelled lifecycleEventHookExecutionId",
        "checks": [],
    }
    assert called == []
    assert puts(sim) == 1
    assert d.events(deployment_id)["BeforeInstall"] == "Failed"


def test_an_event_sent_as_a_json_string_reports_failed(sim, waiting):
    _, _, event = waiting

    answer = lifecycle_hook(lambda e: True)(json.dumps(event))

    assert answer["status"] == "Failed"
    assert answer["reason"] == "malformed event: the event is a JSON string, not an object"
    assert puts(sim) == 1


# -- timing out -----------------------------------------------------------------------------


def test_a_check_still_running_at_the_margin_reports_failed_on_the_wall_clock(sim, waiting):
    d, deployment_id, event = waiting
    release = threading.Event()

    @lifecycle_hook(margin_seconds=0.2)
    def handler(e: HookEvent) -> None:
        release.wait(5)

    try:
        started = time.monotonic()
        answer = handler(event, WallContext(0.35))
        took = time.monotonic() - started
    finally:
        release.set()

    assert 0.1 <= took < 0.3
    assert answer["status"] == "Failed"
    assert answer["reason"].startswith("timed out with 0.2 s left (margin 0.2 s)")
    assert puts(sim) == 1
    assert d.events(deployment_id)["BeforeInstall"] == "Failed"


def test_no_time_left_at_entry_reports_failed_without_running_the_check(sim, waiting):
    _, _, event = waiting
    called: list[HookEvent] = []

    answer = lifecycle_hook(margin_seconds=10)(called.append)(event, WallContext(3))

    assert answer["status"] == "Failed"
    assert answer["reason"].startswith("timed out with 3.0 s left")
    assert called == []
    assert puts(sim) == 1


# -- the report call ------------------------------------------------------------------------


def test_throttled_and_5xx_reports_are_retried_with_backoff(sim, waiting):
    d, deployment_id, event = waiting
    sim.faults.throttle("PutLifecycleEventHookExecutionStatus", count=1)
    sim.faults.server_error("PutLifecycleEventHookExecutionStatus", count=1)
    slept: list[float] = []

    handler = lifecycle_hook(retry_delays=(0.5, 1.0, 2.0), sleep=slept.append)(lambda e: True)
    answer = handler(event)

    assert answer["status"] == "Succeeded"
    assert slept == [0.5, 1.0]
    assert puts(sim) == 3
    assert d.events(deployment_id)["BeforeInstall"] == "Succeeded"


def test_a_report_that_keeps_failing_raises_after_the_bounded_retries(sim, waiting, caplog):
    from bluegreen import ThrottledError

    _, _, event = waiting
    sim.faults.throttle("PutLifecycleEventHookExecutionStatus")
    handler = lifecycle_hook(retry_delays=(0, 0), sleep=lambda s: None)(lambda e: True)

    with pytest.raises(ThrottledError):
        handler(event)

    assert puts(sim) == 3
    assert [line["event"] for line in hook_lines(caplog)][-1] == "report_failed"


def test_already_completed_counts_as_reported(sim, waiting, caplog):
    d, deployment_id, event = waiting
    d.report(event, "Succeeded")

    answer = lifecycle_hook(lambda e: False)(event)

    assert answer["status"] == "Failed"
    assert puts(sim) == 2
    assert d.events(deployment_id)["BeforeInstall"] == "Succeeded"
    assert "already_reported" in [line["event"] for line in hook_lines(caplog)]


def test_a_given_client_is_used_for_the_report(sim, waiting):
    d, deployment_id, event = waiting

    lifecycle_hook(client=d.codedeploy)(lambda e: None)(event)
    assert d.events(deployment_id)["BeforeInstall"] == "Succeeded"


def test_given_clients_are_used_for_the_report_and_discovery(sim, waiting):
    _, _, event = waiting
    clients = sim.clients()
    seen: list[Clients] = []

    lifecycle_hook(client=clients)(lambda e: seen.append(e.clients))(event)

    assert seen == [clients]
    assert puts(sim) == 1


def test_decorated_handler_keeps_the_check_functions_name_and_doc():
    @lifecycle_hook
    def verify_green(event: HookEvent) -> None:
        """Check green."""

    assert verify_green.__name__ == "verify_green"
    assert verify_green.__doc__ == "Check green."


def test_log_level_comes_from_bluegreen_log_level_when_unset(sim, waiting, monkeypatch, caplog):
    _, _, event = waiting
    monkeypatch.setenv("BLUEGREEN_LOG_LEVEL", "warning")
    before = logger.level
    logger.setLevel(logging.NOTSET)
    try:
        lifecycle_hook(lambda e: ok_result())(event)
        assert logger.level == logging.WARNING
    finally:
        logger.setLevel(before)  # setLevel, not setattr: it also clears the level cache
    assert [line["event"] for line in hook_lines(caplog)] == []


# -- whatever the check does, one report --------------------------------------------------------


@pytest.fixture
def no_context_limit(monkeypatch):
    """Set how long a check may run without a Lambda context (15 minutes by default)."""
    import bluegreen.hooks._runner

    return lambda seconds: monkeypatch.setattr(
        bluegreen.hooks._runner, "NO_CONTEXT_SECONDS", seconds
    )


class Unprintable(Exception):
    """An exception whose message cannot be rendered."""

    def __str__(self) -> str:
        raise RuntimeError("no message for you")


class Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (
            Unprintable(),
            "the check handler raised Unprintable (its message could not be rendered: "
            "RuntimeError in __str__)",
        ),
        (
            ValueError(Unrepresentable()),
            "the check handler raised ValueError (its message could not be rendered: "
            "RuntimeError in __str__)",
        ),
        (SystemExit(3), "the check handler raised SystemExit: 3"),
    ],
)
def test_a_check_raising_anything_reports_failed_once_without_a_lambda_context(
    waiting, no_context_limit, caplog, raised, reason
):
    """Without a context nothing else would end the wait: the worker itself must report."""
    no_context_limit(30.0)  # a regression fails the test instead of hanging it
    d, deployment_id, event = waiting

    @lifecycle_hook
    def handler(e: HookEvent) -> None:
        raise raised

    answer = handler(event)

    assert answer["status"] == "Failed"
    assert answer["reason"] == reason
    assert puts(d.sim) == 1
    assert d.events(deployment_id)["BeforeInstall"] == "Failed"
    (line,) = [line for line in hook_lines(caplog) if line["event"] == "check_raised"]
    assert line["check"] == "handler"


def test_a_check_that_never_ends_without_a_context_reports_failed_at_the_ceiling(
    sim, waiting, no_context_limit
):
    no_context_limit(0.2)
    _, _, event = waiting
    release = threading.Event()

    try:
        answer = lifecycle_hook(lambda e: release.wait(30))(event)
    finally:
        release.set()

    assert answer["status"] == "Failed"
    assert answer["reason"] == (
        "timed out after 0.2 s without a Lambda context before the checks finished"
    )
    assert puts(sim) == 1


def test_results_that_cannot_be_rendered_are_still_logged_and_reported(sim, waiting, caplog):
    _, _, event = waiting
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")

    class Opaque:
        def __str__(self) -> str:
            raise RuntimeError("opaque")

    result = CheckResult("http", True, "GET /", "200", 1.0, {"body": Opaque()})

    answer = lifecycle_hook(lambda e: result)(event)

    assert answer["status"] == "Succeeded"
    assert puts(sim) == 1
    (line,) = [line for line in hook_lines(caplog) if line["event"] == "check"]
    assert line["details"] == {"body": "<Opaque whose __str__ raised RuntimeError>"}


def test_a_check_result_of_the_wrong_types_is_refused_naming_each_field():
    from bluegreen import ValidationError

    with pytest.raises(ValidationError) as caught:
        CheckResult(5, "yes", "GET /", "200", -1)  # type: ignore[arg-type]

    assert caught.value.problems == (
        "CheckResult name must be a string, got int",
        "CheckResult ok must be True or False, got str",
        "CheckResult elapsed_ms must be a number of milliseconds, 0 or more, got int",
    )


def test_lifecycle_hook_refuses_wrong_options_when_decorating():
    from bluegreen import ValidationError

    with pytest.raises(ValidationError) as caught:
        lifecycle_hook(margin_seconds="5", client="codedeploy", retry_delays=5, sleep=None)  # type: ignore[call-overload]
    with pytest.raises(ValidationError, match="decorates a check function taking a HookEvent"):
        lifecycle_hook("verify")  # type: ignore[call-overload]

    assert [p.split(" ", 1)[0] for p in caught.value.problems] == [
        "margin_seconds",
        "client",
        "retry_delays",
        "sleep",
    ]
