"""Faults on the wire, end to end (issue 13): releases through the API
(``bluegreen.deploy(...).wait()``, and the controls ``promote``, ``finish``, ``abort``) and
through the CLI (``bluegreen deploy``), each with 10% of all calls to every service throttled,
answered 5xx, or reset before or after the request reached AWS (``Faults.mixed``, seeded). On
top of that, the first answer of every write a release makes (``WRITES``) is lost after AWS
carried it out, so every path that must not repeat a change is taken in every release.

Every release ends as it should: Succeeded (exit 0), rolled back after a failing hook or an
unhealthy green (``DeploymentError``, exit 1), or given up after a fault that outlasted the
retries (exit 4). And nothing is left behind: the group holds exactly the deployments the
releases reported (and CodeDeploy's rollbacks of them), every ACTIVE revision of the family is
the original or one a deployment used, and no scaling stays suspended (flags as they were, no
``bluegreen:scaling*`` tag). Each test's figures (releases, faults injected by kind, outcomes)
are in its assertion messages and printed (``pytest -rP``).

The simulator's virtual clock makes every retry pause and wait free, and the generator
bluegreen's retry jitter draws from is seeded, so each test repeats exactly.
"""

from __future__ import annotations

import collections
import contextlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import attrs
import pytest
from deploying import Deployer, sent_appspec

import bluegreen.cli._clock
from bluegreen import (
    AWSError,
    BlueGreenError,
    Deployment,
    DeploymentError,
    DeploymentStatus,
    Milestone,
    TrafficConfig,
    deploy,
)
from bluegreen._aws import Caller
from bluegreen.cli import main
from bluegreen.hooks import lifecycle_hook
from bluegreen.testing import Faults, SimSettings, Simulator
from bluegreen.testing._faults import KINDS

RATE = 0.10
"""The share of all calls, to every service, that fail."""

WRITES = (
    ("ecs", "RegisterTaskDefinition"),
    ("ecs", "DeregisterTaskDefinition"),
    ("ecs", "TagResource"),
    ("ecs", "UntagResource"),
    ("application-autoscaling", "RegisterScalableTarget"),
    ("codedeploy", "CreateDeploymentConfig"),
    ("codedeploy", "CreateDeployment"),
    ("codedeploy", "ContinueDeployment"),
    ("codedeploy", "StopDeployment"),
    ("codedeploy", "PutLifecycleEventHookExecutionStatus"),
)
"""Every call that changes something: each loses its first answer in every release."""

HOOKS = {"pass": "CodeDeployHook_passes", "fail": "CodeDeployHook_fails"}
SCALING_TAG = "bluegreen:scaling"

Outcome = Literal["succeeded", "rolled_back", "gave_up"]


@attrs.frozen
class Release:
    """One release of the suite and the outcome it must have."""

    expect: Outcome
    hook: Literal["pass", "fail"] | None = None
    unhealthy: bool = False
    canary: bool = False
    give_up: tuple[str, str, str] | None = None
    """(fault kind, service, operation) failing every attempt the ``Caller`` makes."""
    control: Literal["promote", "finish", "abort"] | None = None


SUCCEEDS = Release("succeeded")
PASSING_HOOK = Release("succeeded", hook="pass")
CANARY = Release("succeeded", canary=True)
FAILING_HOOK = Release("rolled_back", hook="fail")
UNHEALTHY = Release("rolled_back", unhealthy=True)
GIVES_UP_READING = Release("gave_up", give_up=("throttle", "ecs", "DescribeServices"))
GIVES_UP_REGISTERING = Release("gave_up", give_up=("reset_before", "ecs", "RegisterTaskDefinition"))
GIVES_UP_CREATING = Release("gave_up", give_up=("server_error", "codedeploy", "CreateDeployment"))
PROMOTED = Release("succeeded", control="promote")
FINISHED = Release("succeeded", control="finish")
ABORTED = Release("rolled_back", control="abort")

ATTEMPTS: int = attrs.fields(Caller).attempts.default
"""The attempts a ``Caller`` makes (the first included): a give-up fault fails them all."""


@pytest.fixture(autouse=True)
def seeded_random() -> Iterator[None]:
    """Seed the generator tenacity's jitter draws from, and put it back afterwards."""
    state = random.getstate()
    random.seed(13)
    yield
    random.setstate(state)


@attrs.define
class Suite:
    """Releases on one simulator under faults, and what they must not leave behind."""

    label: str
    sim: Simulator
    d: Deployer
    run: Callable[[Suite, int, Release], tuple[str, str | None]]
    original: str = attrs.field(init=False)
    suspended: dict[str, Any] = attrs.field(init=False)
    reported: list[str] = attrs.field(factory=list, init=False)
    outcomes: collections.Counter[str] = attrs.field(factory=collections.Counter, init=False)
    wrong: list[str] = attrs.field(factory=list, init=False)
    calls: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        self.original = self.d.env.task_definition_arn
        self.suspended = self.suspended_state()
        clients = self.sim.clients()
        for kind, name in HOOKS.items():
            check = (lambda event: True) if kind == "pass" else (lambda event: False)
            handler = lifecycle_hook(client=clients, sleep=lambda seconds: None)(check)
            self.sim.register_hook(name, handler)

    # -- running releases ---------------------------------------------------------------------

    def release_all(self, releases: Sequence[Release]) -> None:
        for n, release in enumerate(releases):
            before = (self.revisions(), self.deployments())
            self.arm(release)
            calls = len(self.sim.calls)
            outcome, deployment_id = self.run(self, n, release)
            self.calls += len(self.sim.calls) - calls
            self.sim.faults.clear()
            if deployment_id is not None:  # a release gone wrong must not block the next
                self.sim.run_until_done(deployment_id)
            self.outcomes[outcome] += 1
            if deployment_id is not None:
                self.reported.append(deployment_id)
            self.check_release(n, release, outcome, deployment_id, before)

    def arm(self, release: Release) -> None:
        faults = self.sim.faults
        if release.give_up is not None:
            kind, service, operation = release.give_up
            if kind == "throttle":
                faults.throttle(operation, service=service, count=ATTEMPTS)
            elif kind == "server_error":
                faults.server_error(operation, service=service, count=ATTEMPTS)
            else:
                faults.reset(operation, service=service, when="before", count=ATTEMPTS)
        for service, operation in WRITES:
            faults.reset(operation, service=service, when="after", count=1)
        faults.mixed(RATE)
        faults.unhealthy_green = release.unhealthy

    def image(self, n: int) -> str:
        return f"public.ecr.aws/nginx/nginx:1.{100 + n}"

    # -- what a release must leave --------------------------------------------------------------

    def check_release(
        self,
        n: int,
        release: Release,
        outcome: str,
        deployment_id: str | None,
        before: tuple[list[str], list[str]],
    ) -> None:
        where = f"release {n} ({release})"
        if outcome != release.expect:
            self.wrong.append(f"{where}: {outcome}, expected {release.expect}")
        if self.suspended_state() != self.suspended:
            self.wrong.append(f"{where}: scaling left suspended: {self.suspended_state()}")
        tags = [key for key in self.service_tags() if key.startswith(SCALING_TAG)]
        if tags:
            self.wrong.append(f"{where}: scaling record tags left: {tags}")
        if release.expect == "gave_up" and (self.revisions(), self.deployments()) != before:
            self.wrong.append(f"{where}: gave up but left a revision or a deployment behind")
        if release.expect != "gave_up" and deployment_id is None:
            self.wrong.append(f"{where}: no deployment reported")

    def check_nothing_left_behind(self) -> None:
        listed = self.deployments()
        infos = {i["deploymentId"]: i for i in self.batch_get(listed)}
        rollbacks = {
            (infos[i].get("rollbackInfo") or {}).get("rollbackDeploymentId")
            for i in self.reported
            if i in infos
        }
        unreported = [i for i in listed if i not in self.reported and i not in rollbacks]
        if unreported or len(set(self.reported)) != len(self.reported):
            self.wrong.append(f"duplicate deployments: {unreported}, reported {self.reported}")
        used = {sent_appspec(self.d, i).task_definition for i in listed}
        orphans = [a for a in self.revisions() if a != self.original and a not in used]
        if orphans:
            self.wrong.append(f"orphan revisions: {orphans}")

    def figures(self) -> str:
        faults = ", ".join(f"{k} {self.sim.faults.injected[k]}" for k in KINDS)
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"{self.label}: {sum(self.outcomes.values())} releases, {self.calls} calls; "
            f"faults injected: {faults} ({sum(self.sim.faults.injected.values())}); "
            f"outcomes: {outcomes}"
        )

    def assert_all_right(self) -> None:
        self.check_nothing_left_behind()
        figures = self.figures()
        print(figures)
        assert not self.wrong, "\n".join([figures, *self.wrong])

    # -- reading (faults cleared) ---------------------------------------------------------------

    def revisions(self) -> list[str]:
        answer = self.d.ecs.list_task_definitions(familyPrefix=self.d.env.family)
        return list(answer["taskDefinitionArns"])

    def deployments(self) -> list[str]:
        pages = self.d.codedeploy.get_paginator("list_deployments").paginate(
            applicationName=self.d.env.application,
            deploymentGroupName=self.d.env.deployment_group,
        )
        return [i for page in pages for i in page["deployments"]]

    def batch_get(self, ids: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 25):
            answer = self.d.codedeploy.batch_get_deployments(deploymentIds=ids[start : start + 25])
            found += answer["deploymentsInfo"]
        return found

    def suspended_state(self) -> dict[str, Any]:
        targets = self.d.autoscaling.describe_scalable_targets(ServiceNamespace="ecs")
        return {
            f"{t['ResourceId']} {t['ScalableDimension']}": t.get("SuspendedState")
            for t in targets["ScalableTargets"]
        }

    def service_tags(self) -> list[str]:
        tags = self.d.ecs.list_tags_for_resource(resourceArn=self.d.env.service_arn)
        return [t["key"] for t in tags.get("tags", ())]


@contextlib.contextmanager
def suite(
    label: str,
    seed: int,
    run: Callable[[Suite, int, Release], tuple[str, str | None]],
    **environment: Any,
) -> Iterator[Suite]:
    settings = SimSettings(install_timeout=900.0)
    with Simulator(settings=settings, faults=Faults(seed=seed)) as sim:
        d = Deployer.create(sim, **environment)
        yield Suite(label, sim, d, run)


# -- through the API ------------------------------------------------------------------------------


def through_the_api(s: Suite, n: int, release: Release) -> tuple[str, str | None]:
    """``bluegreen.deploy(...)`` then ``wait()``, or the control the release names."""
    options: dict[str, Any] = {}
    if release.hook is not None:
        options["hooks"] = {"AfterAllowTestTraffic": HOOKS[release.hook]}
    if release.canary:
        options["traffic_config"] = TrafficConfig.canary(20, 1)
    try:
        deployment = deploy(
            "prod", "web", image=s.image(n), clients=s.sim.clients(), clock=s.sim.clock, **options
        )
    except AWSError:
        return "gave_up", None
    except BlueGreenError as exc:
        return f"refused: {exc!r}", None
    try:
        return follow(deployment, release), deployment.id
    except DeploymentError:
        return "rolled_back", deployment.id
    except BlueGreenError as exc:
        return f"failed while following it: {exc!r}", deployment.id


def follow(deployment: Deployment, release: Release) -> str:
    """Wait for the end, driving the deployment with the release's control first."""
    if release.control is not None:
        deployment.wait(Milestone.READY)
        if release.control == "abort":
            deployment.abort()  # follows CodeDeploy's rollback to its end
            return "rolled_back"
        deployment.promote()
        if release.control == "finish":
            deployment.wait(Milestone.TERMINATION_WAIT)
            deployment.finish()
    status = deployment.wait().status
    return "succeeded" if status is DeploymentStatus.SUCCEEDED else str(status)


API_A = [
    SUCCEEDS,
    PASSING_HOOK,
    FAILING_HOOK,
    SUCCEEDS,
    UNHEALTHY,
    GIVES_UP_CREATING,
    CANARY,
    SUCCEEDS,
    FAILING_HOOK,
    GIVES_UP_REGISTERING,
    SUCCEEDS,
    PASSING_HOOK,
]
API_B = [
    PASSING_HOOK,
    GIVES_UP_READING,
    SUCCEEDS,
    FAILING_HOOK,
    CANARY,
    SUCCEEDS,
    GIVES_UP_CREATING,
    UNHEALTHY,
    SUCCEEDS,
    PASSING_HOOK,
    GIVES_UP_REGISTERING,
    SUCCEEDS,
]
CONTROLS = [PROMOTED, FINISHED, ABORTED, PROMOTED, FINISHED, ABORTED, PROMOTED, FINISHED]


def test_api_releases_under_faults_end_right_and_leave_nothing_behind():
    with suite("API", 1301, through_the_api) as s:
        s.release_all(API_A)
        s.assert_all_right()


def test_more_api_releases_under_faults_end_right_and_leave_nothing_behind():
    with suite("API, second seed", 1302, through_the_api) as s:
        s.release_all(API_B)
        s.assert_all_right()


def test_promote_finish_and_abort_under_faults_end_right_and_leave_nothing_behind():
    with suite("API controls", 1303, through_the_api, ready_wait_minutes=60) as s:
        s.release_all(CONTROLS)
        s.assert_all_right()


# -- through the CLI ------------------------------------------------------------------------------


def through_the_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[str, str | None]]:
    def run(s: Suite, n: int, release: Release) -> tuple[str, str | None]:
        argv = ["deploy", "--cluster", "prod", "--service", "web", "--image", s.image(n)]
        if release.hook is not None:
            argv += ["--hook", f"AfterAllowTestTraffic={HOOKS[release.hook]}"]
        if release.canary:
            argv += ["--canary", "20/1"]
        code = main([*argv, "--output", "json"])
        out, err = capsys.readouterr()
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        ids = [line["deployment_id"] for line in lines if line.get("deployment_id")]
        outcome = {0: "succeeded", 1: "rolled_back", 4: "gave_up"}.get(code, f"exit {code}")
        if code not in (0, 1, 4) or "Traceback" in err:
            outcome = f"{outcome}: {err.strip()}"
        return outcome, ids[0] if ids else None

    return run


CLI = [
    SUCCEEDS,
    FAILING_HOOK,
    PASSING_HOOK,
    GIVES_UP_CREATING,
    SUCCEEDS,
    UNHEALTHY,
    CANARY,
    GIVES_UP_REGISTERING,
    SUCCEEDS,
    FAILING_HOOK,
    GIVES_UP_READING,
    SUCCEEDS,
]


def test_cli_releases_under_faults_exit_right_and_leave_nothing_behind(
    capsys, monkeypatch, shared_models
):
    with suite("CLI", 1304, through_the_cli(capsys)) as s:
        monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: s.sim.clock)
        s.release_all(CLI)
        s.assert_all_right()
