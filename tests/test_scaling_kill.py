"""A release process killed with SIGKILL at any phase of its deployment leaves Application
Auto Scaling exactly as it found it, once ``recover`` (or the ready-made restore_scaling
safety-net handler) has run after the deployment ended; a release that is not killed
leaves the scalable target byte-identical by itself.

One simulator is served on 127.0.0.1 for the module, at SPEED times real time (ENDING_SPEED
while a test only waits for deployments to end, the release dead or only waiting). Each test
starts a release script (``bluegreen.deploy(..., suspend_scaling=True).wait()``) as a
subprocess, watches the deployment through boto3 until it reaches the phase, SIGKILLs the
release there, waits for the deployment (and any rollback) to end, then recovers. Phases
with a hook are held by the hook itself until the release is dead; the others last at least
half a simulated minute. The operator had already suspended scheduled scaling before any of
this, and that must survive. ``recover`` is told the release is dead (a pending limit of 0):
a release killed between CreateDeployment and writing the id into its record leaves a record
without deployment id, which otherwise stays in force for ten minutes (or while the group
has a deployment no record names). Waits are bounded; nothing asserts on how long anything
took.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from deploying import served_client

from bluegreen.deployment import ROLLBACK_CREATOR
from bluegreen.scaling import RECORD_TAG, recover
from bluegreen.testing import Environment, Simulator
from bluegreen.testing._server import SimServer

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    pytest.mark.xdist_group("scaling_kill"),  # one worker: its module fixtures start once
]

SPEED = 60.0
ENDING_SPEED = 600.0
"""Simulated time's speed while a test only waits for deployments to end: once the release
is dead (or merely waiting), no phase is left to catch."""
WAIT_SECONDS = 60.0
HOLDING_HOOK = "CodeDeployHook_hold"
FAILING_HOOK = "CodeDeployHook_fail"
CANARY = "bluegreen-test.Canary10Percent1Minute"
ACTIVE = ["Created", "Queued", "InProgress", "Baking", "Ready"]
TERMINAL = ("Succeeded", "Failed", "Stopped")
DEAD = dt.timedelta(0)
"""The pending limit for a release the test killed: its record without a deployment id need
not be waited out (the default, ten minutes, is for a release that may still be alive)."""
_images = itertools.count(100)

RELEASE = """
import json, sys
import bluegreen


image, hooks, config = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] or None
print("starting", flush=True)
started = bluegreen.deploy(
    "prod", "web", image=image, hooks=hooks, traffic_config=config, suspend_scaling=True
)
print("created", started.id, flush=True)
try:
    started.wait(min_interval=0.2, max_interval=0.5)
finally:
    print("done", flush=True)
"""


# -- the server and the release ----------------------------------------------------------


class Held:
    """A hook that holds its lifecycle event until the test lets it report Succeeded."""

    def __init__(self, endpoint_url: str) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._endpoint_url = endpoint_url

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self.entered.set()
        self.release.wait(WAIT_SECONDS)
        served_client(self._endpoint_url, "codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )


class Served:
    """The module's simulator server, its sample environment and boto3 clients for it."""

    def __init__(self, server: SimServer, env: Environment) -> None:
        self.server = server
        self.env = env
        self.url = server.endpoint_url
        self.ecs = served_client(self.url, "ecs")
        self.codedeploy = served_client(self.url, "codedeploy")
        self.elbv2 = served_client(self.url, "elbv2")
        self.autoscaling = served_client(self.url, "application-autoscaling")
        self.held = Held(self.url)
        self.clients = server.simulator.clients(self.url)

    def scalable_targets(self) -> list[dict[str, Any]]:
        return list(
            self.autoscaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[self.env.scalable_resource_id or ""]
            )["ScalableTargets"]
        )

    def has_record(self) -> bool:
        arn = self.ecs.describe_services(cluster=self.env.cluster, services=[self.env.service])[
            "services"
        ][0]["serviceArn"]
        tags = self.ecs.list_tags_for_resource(resourceArn=arn).get("tags", [])
        return any(tag["key"].startswith(RECORD_TAG + ":") for tag in tags)

    def deployment_ids(self) -> set[str]:
        return set(
            self.codedeploy.list_deployments(
                applicationName=self.env.application,
                deploymentGroupName=self.env.deployment_group,
            )["deployments"]
        )

    def info(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"])

    def events(self, deployment_id: str) -> dict[str, str]:
        """``{lifecycle event: status}``; empty until CodeDeploy has started the deployment."""
        try:
            target = self.codedeploy.get_deployment_target(
                deploymentId=deployment_id, targetId=f"{self.env.cluster}:{self.env.service}"
            )["deploymentTarget"]["ecsTarget"]
        except self.codedeploy.exceptions.DeploymentNotStartedException:
            return {}
        return {e["lifecycleEventName"]: e["status"] for e in target["lifecycleEvents"]}

    def green_weight(self) -> int:
        listener = self.elbv2.describe_listeners(ListenerArns=[self.env.production_listener_arn])[
            "Listeners"
        ][0]
        groups = listener["DefaultActions"][0].get("ForwardConfig", {}).get("TargetGroups", [])
        weights = {g["TargetGroupArn"]: g["Weight"] for g in groups}
        return int(weights.get(self.env.target_group_arns[1], 0))

    def idle(self) -> bool:
        return not self.codedeploy.list_deployments(
            applicationName=self.env.application,
            deploymentGroupName=self.env.deployment_group,
            includeOnlyStatuses=ACTIVE,  # type: ignore[typeddict-item]
        )["deployments"]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One server for the module: the sample service with a one-minute termination wait, a
    one-minute canary config, the test's hooks, and scheduled scaling suspended by hand."""
    with Simulator(speed=SPEED).serve() as server:
        env = server.create_environment(termination_wait_minutes=1)
        s = Served(server, env)
        s.codedeploy.create_deployment_config(
            deploymentConfigName=CANARY,
            computePlatform="ECS",
            trafficRoutingConfig={
                "type": "TimeBasedCanary",
                "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 1},
            },
        )
        server.simulator.register_hook(HOLDING_HOOK, s.held)

        def fail(event: dict[str, Any], context: Any) -> None:
            s.codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status="Failed",
            )

        server.simulator.register_hook(FAILING_HOOK, fail)
        s.autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=env.scalable_resource_id or "",
            ScalableDimension="ecs:service:DesiredCount",
            SuspendedState={"ScheduledScalingSuspended": True},
        )
        yield s


@pytest.fixture
def restore_scaling(monkeypatch: pytest.MonkeyPatch, served: Served) -> Iterator[ModuleType]:
    """The ready-made restore_scaling handler module, its AWS calls going to the server."""
    monkeypatch.setenv("BLUEGREEN_ENDPOINT_URL", served.url)
    name = "bluegreen.hooks.handlers.restore_scaling"  # hooks/restore_scaling.py imports it
    sys.modules.pop(name, None)
    yield importlib.import_module(name)
    sys.modules.pop(name, None)


class Release:
    """The release script running as its own process against the server."""

    def __init__(
        self, served: Served, *, hooks: dict[str, str] | None = None, config: str = ""
    ) -> None:
        self.served = served
        self.known = served.deployment_ids()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
        env.update(BLUEGREEN_ENDPOINT_URL=served.url, AWS_ENDPOINT_URL=served.url)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                RELEASE,
                f"nginx:1.{next(_images)}",
                json.dumps(hooks or {}),
                config,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def first_line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def deployment_id(self) -> str | None:
        """The deployment this release created, once CodeDeploy lists it."""
        new = self.served.deployment_ids() - self.known
        originals = [i for i in new if self.served.info(i).get("creator") != ROLLBACK_CREATOR]
        return min(originals, default=None)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL

    def finish(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=WAIT_SECONDS)
        return self.process.returncode, out, err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=WAIT_SECONDS)


def assert_left_suspended(served: Served, before: list[dict[str, Any]]) -> None:
    """The dead release left its record and the suspended flags behind: there is something
    for recovery to do."""
    assert served.has_record()
    assert served.scalable_targets() != before


def _wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {WAIT_SECONDS:g} s waiting for {what}")
        time.sleep(0.01)


def _set_speed(served: Served, speed: float) -> None:
    """Run the served simulator's clock at ``speed`` from now on, without a step back.

    Its time is swapped for another reading of the wall clock in one assignment, so the
    clock's thread and the server's threads never see a torn state; the base is taken a
    little ahead (a harmless step forward), so a reading taken meanwhile is never later."""
    clock: Any = served.server.simulator.clock
    base_wall = time.monotonic()
    base_sim = clock.time() + 0.05 * clock.speed

    def now() -> float:
        return base_sim + (time.monotonic() - base_wall) * speed

    clock.time = now
    clock.speed = speed
    with clock._lock:  # wake the clock's thread to wait on the new speed
        clock._changed.notify_all()


@contextlib.contextmanager
def _fast(served: Served) -> Iterator[None]:
    """Simulated time at ``ENDING_SPEED`` inside, back at ``SPEED`` afterwards."""
    _set_speed(served, ENDING_SPEED)
    try:
        yield
    finally:
        _set_speed(served, SPEED)


def _wait_for_the_end(served: Served, what: str) -> None:
    """Wait, at ``ENDING_SPEED``, until the group has no deployment in flight."""
    with _fast(served):
        _wait_for(served.idle, what)


def _in(release: Release, reached: Callable[[str], bool]) -> Callable[[], bool]:
    """A condition on the release's deployment, false until it exists."""

    def check() -> bool:
        deployment_id = release.deployment_id()
        return deployment_id is not None and reached(deployment_id)

    return check


@pytest.fixture
def release(served: Served) -> Iterator[Callable[..., Release]]:
    started: list[Release] = []

    def start(**options: Any) -> Release:
        started.append(Release(served, **options))
        return started[-1]

    yield start
    served.held.release.set()
    for process in started:
        process.close()
    served.held = Held(served.url)
    served.server.simulator.register_hook(HOLDING_HOOK, served.held)
    _wait_for_the_end(served, "the deployments to end")
    recover(served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients)


# -- the phases ------------------------------------------------------------------------------


def test_a_release_that_is_not_killed_leaves_the_scalable_target_byte_identical(served, release):
    before = served.scalable_targets()
    run = release()
    while (line := run.first_line()) and not line.startswith("created "):
        pass  # once the deployment is created, only the release's wait is left
    with _fast(served):
        code, _, err = run.finish()

    assert code == 0, err
    assert served.scalable_targets() == before
    assert not served.has_record()


def test_killed_before_suspending_nothing_was_recorded_or_changed(served, release):
    before = served.scalable_targets()
    run = release()
    assert run.first_line() == "starting\n"
    run.kill()

    assert not served.has_record()
    assert served.deployment_ids() == run.known
    result = recover(
        served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients
    )
    assert result.record is None
    assert served.scalable_targets() == before


def test_killed_right_after_suspending_is_restored_by_recover(served, release):
    before = served.scalable_targets()
    run = release()
    _wait_for(
        lambda: served.has_record() and served.scalable_targets() != before,
        "scaling to be recorded and suspended",
    )
    run.kill()
    assert_left_suspended(served, before)

    _wait_for_the_end(served, "the deployment, if any, to end")
    result = recover(
        served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients
    )

    assert result.record is not None
    assert served.scalable_targets() == before
    assert not served.has_record()


def test_killed_during_install_is_restored_by_recover(served, release):
    before = served.scalable_targets()
    run = release()
    _wait_for(_in(run, lambda d: served.events(d).get("Install") == "InProgress"), "Install to run")
    run.kill()
    assert_left_suspended(served, before)

    _wait_for_the_end(served, "the deployment to end")
    recover(served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients)

    assert served.scalable_targets() == before
    assert not served.has_record()


def test_killed_during_test_traffic_is_restored_by_recover(served, release):
    before = served.scalable_targets()
    run = release(hooks={"AfterAllowTestTraffic": HOLDING_HOOK})
    assert served.held.entered.wait(WAIT_SECONDS), "the test-traffic hook never ran"
    run.kill()
    assert_left_suspended(served, before)
    served.held.release.set()

    _wait_for_the_end(served, "the deployment to end")
    recover(served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients)

    assert served.scalable_targets() == before
    assert not served.has_record()


def test_killed_mid_shift_is_restored_by_recover(served, release):
    before = served.scalable_targets()
    run = release(config=CANARY)
    _wait_for(lambda: 0 < served.green_weight() < 100, "the canary step")
    run.kill()
    assert_left_suspended(served, before)

    _wait_for_the_end(served, "the deployment to end")
    recover(served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients)

    assert served.scalable_targets() == before
    assert not served.has_record()


def test_killed_during_the_termination_wait_is_restored_by_recover(served, release):
    before = served.scalable_targets()
    run = release()

    def in_termination_wait(deployment_id: str) -> bool:
        events = served.events(deployment_id)
        return served.info(deployment_id)["status"] == "InProgress" and all(
            status == "Succeeded" for status in events.values()
        )

    _wait_for(_in(run, in_termination_wait), "the termination wait")
    run.kill()
    assert_left_suspended(served, before)

    _wait_for_the_end(served, "the deployment to end")
    recover(served.env.cluster, served.env.service, pending_limit=DEAD, clients=served.clients)

    assert served.scalable_targets() == before
    assert not served.has_record()


def test_killed_during_rollback_is_restored_by_the_safety_net_handler(
    served, release, restore_scaling
):
    before = served.scalable_targets()
    run = release(hooks={"AfterAllowTraffic": FAILING_HOOK})

    def rolling_back(deployment_id: str) -> str | None:
        rollback = (served.info(deployment_id).get("rollbackInfo") or {}).get(
            "rollbackDeploymentId"
        )
        if rollback and served.info(rollback)["status"] not in TERMINAL:
            return str(rollback)
        return None

    _wait_for(_in(run, lambda d: rolling_back(d) is not None), "the rollback to run")
    original = run.deployment_id()
    assert original is not None
    run.kill()
    assert_left_suspended(served, before)
    rollback_id = str(served.info(original)["rollbackInfo"]["rollbackDeploymentId"])

    _wait_for_the_end(served, "the rollback to end")
    answer = restore_scaling.handler(_state_change(served, rollback_id, "SUCCESS"), None)

    assert answer["action"] == "restored"
    assert served.scalable_targets() == before
    assert not served.has_record()
    late = restore_scaling.handler(_state_change(served, original, "FAILURE"), None)
    assert late["action"] == "nothing_to_restore"
    assert served.scalable_targets() == before


def _state_change(served: Served, deployment_id: str, state: str) -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "region": "us-east-1",
        "detail": {
            "region": "us-east-1",
            "deploymentId": deployment_id,
            "deploymentGroup": served.env.deployment_group,
            "application": served.env.application,
            "state": state,
        },
    }
