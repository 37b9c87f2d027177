"""bluegreen.hooks end to end: decorated handlers registered as Lambda functions in the
simulator, checking a real HTTP server on 127.0.0.1 that stands in for the test listener (the
simulator's load balancer DNS name does not resolve), and listener discovery."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from deploying import Deployer
from test_hooks_checks import LocalServer

from bluegreen import ServiceConfigError
from bluegreen.hooks import (
    HookEvent,
    checks,
    lifecycle_hook,
    production_listener_url,
    test_listener_url,
)

HOOK = "CodeDeployHook_verify"


@pytest.fixture
def green(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A local server as the test listener: ``/health`` passes, ``/broken`` answers 503."""
    with LocalServer() as server:
        server.routes["/health"] = (200, {"Content-Type": "application/json"}, {"status": "ok"})
        server.routes["/broken"] = (503, {}, "no healthy targets")
        monkeypatch.setenv("BLUEGREEN_TEST_URL", server.url)
        yield server


def reports(sim) -> list[float]:
    """When each PutLifecycleEventHookExecutionStatus reached the simulator."""
    return [
        t
        for t, _, op in sim.api_calls("codedeploy")
        if op == "PutLifecycleEventHookExecutionStatus"
    ]


def verify(path: str, **options: Any):
    @lifecycle_hook(**options)
    def handler(event: HookEvent):
        return checks.http(event.test_url, path=path, json_field=("status", "ok"))

    return handler


def test_passing_test_listener_check_lets_the_deployment_succeed(sim, green):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, verify("/health"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert d.events(deployment_id)["AfterAllowTestTraffic"] == "Succeeded"
    assert len(reports(sim)) == 1
    assert [path for path, _ in green.requests] == ["/health"]


def test_failing_test_listener_check_fails_the_deployment_and_rolls_back(sim, green, caplog):
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")
    d = Deployer.create(sim)
    sim.register_hook(HOOK, verify("/broken"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert d.events(deployment_id)["AfterAllowTestTraffic"] == "Failed"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert d.traffic()["web-blue"] == 100
    assert len(reports(sim)) == 1
    assert any("status 503, wanted 200" in r.getMessage() for r in caplog.records)


def test_raising_check_produces_exactly_one_failed_report(sim, green):
    d = Deployer.create(sim)

    @lifecycle_hook
    def handler(event: HookEvent) -> None:
        raise ConnectionError("cannot reach the test listener")

    sim.register_hook(HOOK, handler)
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert len(reports(sim)) == 1


def test_malformed_event_that_names_the_execution_produces_exactly_one_failed_report(sim):
    d = Deployer.create(sim)
    checked: list[HookEvent] = []
    handler = lifecycle_hook(checked.append)

    def lambda_with_a_mangled_event(event: dict[str, Any], context: Any) -> Any:
        mangled = {"deploymentId": event["DeploymentId"], **event}
        del mangled["DeploymentId"]
        return handler(mangled, context)

    sim.register_hook(HOOK, lambda_with_a_mangled_event)
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK})

    assert d.done(deployment_id) == "Failed"
    assert d.events(deployment_id)["AfterInstall"] == "Failed"
    assert checked == []
    assert len(reports(sim)) == 1


def test_malformed_event_without_ids_reports_nothing_and_the_deployment_times_out(sim):
    d = Deployer.create(sim)
    handler = lifecycle_hook(lambda e: True)
    answers: list[dict[str, Any]] = []
    sim.register_hook(HOOK, lambda event, context: answers.append(handler({}, context)))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK})

    assert d.done(deployment_id) == "Failed"
    assert answers[0]["status"] == "Failed"
    assert reports(sim) == []


def test_near_timeout_produces_exactly_one_failed_report_before_the_lambda_ends(sim, green):
    d = Deployer.create(sim)
    release = threading.Event()
    answers: list[dict[str, Any]] = []

    @lifecycle_hook(margin_seconds=0.2)
    def handler(event: HookEvent) -> None:
        release.wait(10)

    sim.register_hook(HOOK, lambda e, c: answers.append(handler(e, c)), timeout_seconds=0.3)
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    try:
        assert d.done(deployment_id) == "Failed"
    finally:
        release.set()

    assert answers[0]["reason"].startswith("timed out with 0.2 s left")
    assert d.info(deployment_id)["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert len(reports(sim)) == 1


def test_throttled_report_is_retried_until_it_lands(sim, green):
    d = Deployer.create(sim)
    sim.faults.throttle("PutLifecycleEventHookExecutionStatus", count=2)
    slept: list[float] = []
    sim.register_hook(HOOK, verify("/health", sleep=slept.append))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert len(reports(sim)) == 3
    assert slept == [0.2, 0.5]


def test_already_completed_event_is_treated_as_reported(sim, green):
    d = Deployer.create(sim)
    kit = verify("/broken")
    answers: list[dict[str, Any]] = []

    def reported_first(event: dict[str, Any], context: Any) -> None:
        d.report(event, "Succeeded")
        answers.append(kit(event, context))

    sim.register_hook(HOOK, reported_first)
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert answers[0]["status"] == "Failed"
    assert len(reports(sim)) == 2


def test_hook_discovers_the_test_listener_from_the_deployment(sim):
    d = Deployer.create(sim)
    urls: list[str] = []

    @lifecycle_hook
    def handler(event: HookEvent) -> None:
        urls.append(event.test_url)
        urls.append(event.production_url)

    sim.register_hook(HOOK, handler)
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert urls == [
        f"http://{d.env.load_balancer_dns}:8080",
        f"http://{d.env.load_balancer_dns}:80",
    ]


# -- discovery ------------------------------------------------------------------------------


def test_listener_urls_are_the_load_balancer_dns_name_and_listener_ports(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    balancer = d.elbv2.describe_load_balancers(LoadBalancerArns=[d.env.load_balancer_arn])

    url = test_listener_url(deployment_id, clients=sim.clients())

    assert url == f"http://{balancer['LoadBalancers'][0]['DNSName']}:8080"
    assert production_listener_url(deployment_id, clients=sim.clients()) == (
        f"http://{d.env.load_balancer_dns}:80"
    )


def test_discovery_retries_throttled_calls(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.faults.throttle("GetDeployment", count=1)

    assert test_listener_url(deployment_id, clients=sim.clients()).endswith(":8080")


def test_no_test_listener_is_a_clear_error(sim):
    d = Deployer.create(sim, test_listener=False)
    deployment_id = d.deploy()

    with pytest.raises(ServiceConfigError, match="has no test listener") as caught:
        test_listener_url(deployment_id, clients=sim.clients())

    assert "BLUEGREEN_TEST_URL" in str(caught.value)
    assert d.env.deployment_group in str(caught.value)


def test_no_test_listener_fails_the_hook_with_the_reason(sim):
    d = Deployer.create(sim, test_listener=False)
    answers: list[dict[str, Any]] = []
    handler = lifecycle_hook(lambda e: checks.http(e.test_url))
    sim.register_hook(HOOK, lambda e, c: answers.append(handler(e, c)))
    deployment_id = d.deploy(hooks={"AfterInstall": HOOK})

    assert d.done(deployment_id) == "Failed"
    assert "has no test listener" in answers[0]["reason"]
    assert len(reports(sim)) == 1
