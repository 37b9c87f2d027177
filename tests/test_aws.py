"""The one door to AWS (``bluegreen._aws.Caller``): budget, counting, translation, retries on
the injected clock, through real boto3 clients against the simulator."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from botocore.config import Config

from bluegreen._aws import Caller, Clients
from bluegreen.clock import RateBudget
from bluegreen.errors import AWSError, ThrottledError


def clients(sim: Any) -> Clients:
    """Clients with botocore's own retries off, so every attempt is the caller's."""
    return Clients(session=sim.clients().session, config=Config(retries={"total_max_attempts": 1}))


def describe_services(sim: Any) -> Any:
    ecs = clients(sim).ecs
    return lambda: ecs.describe_services(cluster="prod", services=["web"])


def test_throttling_is_retried_on_the_injected_clock_and_every_attempt_is_counted(sim, env):
    sim.faults.throttle("DescribeServices", service="ecs", count=3)
    caller = Caller(clock=sim.clock, budget=None)
    started = sim.clock.time()

    answer = caller("DescribeServices", describe_services(sim))

    assert answer["services"][0]["serviceName"] == "web"
    assert caller.counts["DescribeServices"] == 4
    assert caller.calls == 4
    assert sim.clock.time() - started >= 3.0  # three pauses of at least 1 s, simulated


def test_an_error_that_is_not_retryable_is_raised_at_once(sim, env):
    caller = Caller(clock=sim.clock, budget=None)
    ecs = clients(sim).ecs

    with pytest.raises(AWSError) as caught:  # ECS answers ClientException, as AWS does
        caller("DescribeTaskDefinition", ecs.describe_task_definition, taskDefinition="nope:9")
    assert caught.value.code == "ClientException"
    assert caller.counts["DescribeTaskDefinition"] == 1


def test_the_last_error_is_raised_once_the_attempts_are_spent(sim, env):
    sim.faults.throttle("DescribeServices", service="ecs", count=10)
    caller = Caller(clock=sim.clock, budget=None, attempts=3)

    with pytest.raises(ThrottledError):
        caller("DescribeServices", describe_services(sim))
    assert caller.counts["DescribeServices"] == 3


def test_no_attempt_starts_once_the_patience_is_spent(sim, env):
    sim.faults.throttle("DescribeServices", service="ecs", count=100)
    caller = Caller(clock=sim.clock, budget=None, attempts=100, patience=30.0)
    started = sim.clock.time()

    with pytest.raises(ThrottledError):
        caller("DescribeServices", describe_services(sim))
    assert sim.clock.time() - started < 30.0 + 20.0 + 1.0  # at most one pause past it
    assert caller.counts["DescribeServices"] < 100


def test_a_call_can_narrow_what_is_retried(sim, env):
    sim.faults.throttle("DescribeServices", service="ecs", count=1)
    caller = Caller(clock=sim.clock, budget=None)

    with pytest.raises(ThrottledError):
        caller("DescribeServices", describe_services(sim), retry_if=lambda error: False)
    assert caller.calls == 1


def test_fixed_delays_are_followed_and_reported_before_each_pause(sim, env):
    sim.faults.server_error("DescribeServices", service="ecs", count=2)
    seen: list[tuple[str, str, float]] = []
    caller = Caller(
        clock=sim.clock,
        budget=None,
        delays=(0.2, 0.5, 1.0),
        on_retry=lambda op, error, pause: seen.append((op, type(error).__name__, pause)),
    )

    caller("DescribeServices", describe_services(sim))

    assert seen == [
        ("DescribeServices", "ServiceUnavailableError", 0.2),
        ("DescribeServices", "ServiceUnavailableError", 0.5),
    ]


def test_fixed_delays_cap_the_attempts(sim, env):
    sim.faults.throttle("DescribeServices", service="ecs", count=10)
    caller = Caller(clock=sim.clock, budget=None, delays=(0.2, 0.5))

    with pytest.raises(ThrottledError):
        caller("DescribeServices", describe_services(sim))
    assert caller.calls == 3


def test_every_answer_reaches_the_observer(sim, env):
    answers: list[Any] = []
    caller = Caller(clock=sim.clock, budget=None, on_answer=answers.append)

    caller("DescribeServices", describe_services(sim))

    assert answers[0]["ResponseMetadata"]["HTTPHeaders"]["date"]


def test_the_budget_paces_the_calls_on_the_clock(sim, env):
    caller = Caller(clock=sim.clock, budget=RateBudget(rate=1.0, burst=1.0))
    started = sim.clock.time()

    for _ in range(3):
        caller("DescribeServices", describe_services(sim))

    assert sim.clock.time() - started >= 2.0
    assert caller.budget is not None
    assert caller.budget.waited >= 2.0


def test_importing_the_door_imports_neither_boto3_nor_tenacity():
    code = (
        "import sys, bluegreen._aws; "
        "print('boto3' in sys.modules, 'botocore' in sys.modules, 'tenacity' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_retry_if_judges_each_error_once(sim, env):
    sim.faults.throttle("DescribeServices", service="ecs", count=2)
    judged: list[str] = []

    def retry_if(error: AWSError) -> bool:
        judged.append(error.code or "")
        return True

    Caller(clock=sim.clock, budget=None)(
        "DescribeServices", describe_services(sim), retry_if=retry_if
    )

    assert len(judged) == 2  # two throttles, each judged once


def test_an_endpoint_that_cannot_be_reached_is_tried_three_times_not_for_minutes():
    import socket

    from bluegreen.clock import MonotonicClock
    from bluegreen.errors import ServiceUnavailableError

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once it is closed
    slept: list[float] = []

    class Recording(MonotonicClock):
        def sleep(self, seconds: float) -> None:
            slept.append(seconds)

    clients = Clients(endpoint_url=f"http://127.0.0.1:{port}")
    caller = Caller(clock=Recording(), budget=None)

    with pytest.raises(ServiceUnavailableError) as caught:
        caller("ListClusters", clients.ecs.list_clusters)

    assert caught.value.code == "EndpointConnectionError"
    assert caller.calls == 3
    assert len(slept) == 2
