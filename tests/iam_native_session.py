"""The sessions of tests/iam_record.py on ECS-native services (issue 16): the verbs, the
ready-made hooks and releases on a service whose blue/green, linear or canary deployments ECS
runs itself (ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions,
ContinueServiceDeployment, StopServiceDeployment, UpdateService), recorded the way
``iam_record`` records the CodeDeploy ones: the real CLI (``r.cli``) and the handlers as the
simulator's ECS invokes them, on the sample environment's ECS-native service (``prod/<name>-
native``, ``Simulator.create_environment(native=True)``).

Kept apart from iam_record.py, which imports ``NATIVE_SESSIONS`` into its ``SESSIONS``; the
stand-in hooks here answer through plain Python, never through bluegreen's door, so a
session's recording holds only bluegreen's calls.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iam_parts import (
    ANALYSIS_GATE,
    ANALYSIS_GATE_OLD_EVENT,
    NATIVE_ABORT,
    NATIVE_DEPLOY,
    NATIVE_FINISH,
    NATIVE_INSPECT,
    NATIVE_INVOKE,
    NATIVE_PLAN,
    NATIVE_PROMOTE,
    NATIVE_RELEASE_PLAN,
    NATIVE_RELEASE_RESUME,
    NATIVE_RELEASE_RUN,
    NATIVE_RELEASE_STATUS,
    NATIVE_RESTORE_HOOK,
    NATIVE_ROLLBACK,
    NATIVE_STATUS,
    NATIVE_VERIFY_PRODUCTION,
    NATIVE_VERIFY_TEST,
    NATIVE_WAIT,
    Part,
)
from native_sim import HOOK_ROLE, lambda_arn, lambda_hook

if TYPE_CHECKING:
    from iam_record import Recorder

NATIVE_SERVICE = ("--cluster", "prod", "--service", "web-native")
CHECK = "check"
"""A native hook function that passes (``deploy --hook`` looks it up with GetFunction)."""
PAUSE_AFTER_TEST = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
}
"""A pause after test traffic: ``wait --until ready`` stops there, ``promote`` continues."""
_SERVICE_DEPLOYMENT = re.compile(r"arn:aws:ecs:[^\s\"']+:service-deployment/[^\s\"']+")


def _arn(out: str) -> str:
    """The service deployment ARN a ``deploy --no-wait`` or ``rollback --no-wait`` printed."""
    found = _SERVICE_DEPLOYMENT.search(out)
    if found is None:
        raise AssertionError(f"no service deployment ARN in {out!r}")
    return found[0]


def _answering(status: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A stand-in ECS-native Lambda hook answering ``status`` (no AWS call)."""

    def hook(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"hookStatus": status}

    return hook


# -- the verbs -------------------------------------------------------------------------------


def native_session(r: Recorder) -> None:
    """plan, deploy (a new hook, a description), wait, status, inspect, hooks invoke --native,
    promote (a pause hook), finish (refused in the bake time), rollback after a success, and
    abort of a paused deployment and of one still scaling up, on the sample ECS-native
    service."""
    sim = r.sim
    sim.create_environment(
        native=True,
        native_bake_minutes=1,
        native_hooks=[PAUSE_AFTER_TEST],
        termination_wait_minutes=1,
    )
    sim.register_hook(CHECK, _answering("SUCCEEDED"))
    image = ("--image", "public.ecr.aws/nginx/nginx:1.28")
    hook = ("--hook", f"AfterAllowTestTraffic={CHECK}", "--hook-role", HOOK_ROLE)

    r.cli(NATIVE_PLAN, "plan", *NATIVE_SERVICE, *image, *hook)
    out = r.cli(
        NATIVE_DEPLOY,
        "deploy",
        *NATIVE_SERVICE,
        *image,
        *hook,
        "--description",
        "iam: the native deployment",
        "--no-wait",
    )
    arn = _arn(out)
    r.cli(NATIVE_WAIT, "wait", *NATIVE_SERVICE, "--until", "ready")
    r.cli(NATIVE_STATUS, "status", *NATIVE_SERVICE)
    r.cli(NATIVE_STATUS, "status", "--deployment-id", arn)
    r.cli(NATIVE_INSPECT, "inspect", *NATIVE_SERVICE)
    r.cli(NATIVE_INSPECT, "inspect", *NATIVE_SERVICE, "--rules")
    r.cli(
        NATIVE_INVOKE,
        "hooks",
        "invoke",
        "verify_test_listener",
        "--native",
        "--deployment-id",
        arn,
        expect=1,  # the simulated load balancer's name does not resolve: the check fails
    )
    r.cli(NATIVE_PROMOTE, "promote", *NATIVE_SERVICE)
    r.cli(NATIVE_WAIT, "wait", *NATIVE_SERVICE, "--until", "ecs:BAKE_TIME")
    r.cli(NATIVE_FINISH, "finish", *NATIVE_SERVICE, expect=2)
    r.cli(NATIVE_WAIT, "wait", *NATIVE_SERVICE)  # to its end

    out = r.cli(NATIVE_ROLLBACK, "rollback", "--deployment-id", arn, "--no-wait")
    _through_pause(r, _arn(out))

    # A paused deployment rolls back by ContinueServiceDeployment(ROLLBACK) ...
    r.cli(None, "deploy", *NATIVE_SERVICE, "--image", "nginx:1.29", "--no-wait")
    r.cli(None, "wait", *NATIVE_SERVICE, "--until", "ready")
    r.cli(NATIVE_ABORT, "abort", *NATIVE_SERVICE)
    # ... one still scaling up by StopServiceDeployment(ROLLBACK).
    r.cli(None, "deploy", *NATIVE_SERVICE, "--image", "nginx:1.30", "--no-wait")
    r.cli(NATIVE_ABORT, "abort", *NATIVE_SERVICE)


def _through_pause(r: Recorder, arn: str) -> None:
    """Follow ``arn`` past its pause hook to its end (not recorded)."""
    r.cli(None, "wait", "--deployment-id", arn, "--until", "ready")
    r.cli(None, "promote", "--deployment-id", arn)
    r.cli(None, "wait", "--deployment-id", arn)


# -- the ready-made hooks --------------------------------------------------------------------


def native_hooks_session(r: Recorder) -> None:
    """Each ready-made handler as a Lambda hook of the ECS-native service's deployments,
    invoked by the simulator as ECS invokes it: verify_test_listener after test traffic,
    verify_production and restore_scaling.hook_handler around production traffic, and the
    analysis gate before each step of a canary (and once with an event of the older shape)."""
    from bluegreen.hooks.handlers import restore_scaling, verify_production, verify_test_listener
    from bluegreen.hooks.handlers.analysis_gate import make_handler

    sim = r.sim
    env = sim.create_environment(native=True, native_bake_minutes=1, alarms=False)
    gate = make_handler(now=sim.clock.time, retry_delays=(0.0,))
    events: list[dict[str, Any]] = []

    def gate_keeping_events(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return gate(event, context)

    sim.register_hook(lambda_arn("verify_test_listener"), verify_test_listener.handler)
    sim.register_hook(lambda_arn("verify_production"), verify_production.handler)
    sim.register_hook(lambda_arn("restore_scaling"), restore_scaling.hook_handler)
    sim.register_hook(lambda_arn("analysis_gate"), gate_keeping_events)

    runs = (
        (NATIVE_VERIFY_TEST, {}, [lambda_hook("verify_test_listener", "POST_TEST_TRAFFIC_SHIFT")]),
        (
            NATIVE_VERIFY_PRODUCTION,
            {},
            [lambda_hook("verify_production", "POST_PRODUCTION_TRAFFIC_SHIFT")],
        ),
        (
            NATIVE_RESTORE_HOOK,
            {},
            [
                lambda_hook(
                    "restore_scaling", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"
                )
            ],
        ),
        (
            ANALYSIS_GATE,
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1},
            },
            [lambda_hook("analysis_gate", "PRE_PRODUCTION_TRAFFIC_SHIFT")],
        ),
    )
    for number, (part, strategy, hooks) in enumerate(runs):
        arn = _deploy_with_hooks(sim, env, f"nginx:1.{40 + number}", strategy, hooks)
        with r.part(part):
            sim.run_until_done(arn)

    # An event of the shape before resourceArn: the gate finds its deployment itself.
    older = {k: v for k, v in events[-1].items() if k not in ("resourceArn", "hookDetails")}
    arn = _deploy_with_hooks(sim, env, "nginx:1.49", {}, [])
    sim.run_until(lambda: _in_progress(sim, env, arn))
    older["executionDetails"] = {
        **older["executionDetails"],
        "targetServiceRevisionArn": sim.service_deployment(arn).target,
    }
    with r.part(ANALYSIS_GATE_OLD_EVENT):
        gate(older, None)
    sim.run_until_done(arn)


def _deploy_with_hooks(
    sim: Any,
    env: Any,
    image: str,
    strategy: dict[str, Any],
    hooks: list[dict[str, Any]],
) -> str:
    """UpdateService of the native service to ``image`` with these lifecycle hooks (and
    strategy), through plain boto3 (not recorded); the new service deployment's ARN."""
    ecs = sim.clients().session.client("ecs")
    native = env.native
    definition = ecs.describe_task_definition(taskDefinition=native.task_definition_arn)[
        "taskDefinition"
    ]
    keep = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory")
    registered = ecs.register_task_definition(
        containerDefinitions=[dict(c, image=image) for c in definition["containerDefinitions"]],
        executionRoleArn=definition.get("executionRoleArn", ""),
        **{k: definition[k] for k in keep if k in definition},
    )["taskDefinition"]["taskDefinitionArn"]
    configuration = {
        **native.deployment_configuration,
        "strategy": "BLUE_GREEN",
        **strategy,
        "lifecycleHooks": hooks,
    }
    answer = ecs.update_service(
        cluster=env.cluster,
        service=native.service,
        taskDefinition=registered,
        deploymentConfiguration=configuration,
    )
    current = answer["service"].get("currentServiceDeployment")
    if current:
        return str(current)
    listed = ecs.list_service_deployments(cluster=env.cluster, service=native.service)
    return str(listed["serviceDeployments"][0]["serviceDeploymentArn"])


def _in_progress(sim: Any, env: Any, arn: str) -> bool:
    ecs = sim.clients().session.client("ecs")
    found = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    return bool(found) and found[0]["status"] == "IN_PROGRESS"


# -- releases --------------------------------------------------------------------------------


def _manifest(name: str, text: str, folder: str) -> str:
    path = Path(folder, f"{name}.yaml")
    path.write_text(f"release: {name}\n{text}")
    return str(path)


def _service(service: str, image: str, extra: str = "") -> str:
    return f'      - {{cluster: prod, service: {service}, image: "{image}"{extra}}}\n'


def native_waves_session(r: Recorder) -> None:
    """``bluegreen release`` with ECS-native services: plan, a release in two waves (native
    then CodeDeploy), status, resume of a release whose process died after starting the
    native service's deployment, and a release whose CodeDeploy service fails while a native
    one is in flight (stopped) and whose released native service is rolled back."""
    from bluegreen.manifest_load import load_manifest
    from bluegreen.release_accounts import Accounts
    from bluegreen.release_service import start_service

    sim = r.sim
    sim.create_environment(name="web", native=True, termination_wait_minutes=0)
    sim.create_environment(
        name="api", native=True, termination_wait_minutes=0, native_hooks=[PAUSE_AFTER_TEST]
    )
    sim.register_hook("CodeDeployHook_fails", _reporting_hook(sim, "Failed"))

    with tempfile.TemporaryDirectory() as folder:
        rollout = _manifest(
            "rollout",
            "waves:\n"
            "  - name: first\n    services:\n"
            + _service("web-native", "nginx:1.28")
            + "  - name: second\n    services:\n"
            + _service("web", "nginx:1.28"),
            folder,
        )
        r.cli(NATIVE_RELEASE_PLAN, "release", "plan", rollout)
        r.cli(NATIVE_RELEASE_RUN, "release", rollout)
        r.cli(NATIVE_RELEASE_STATUS, "release", "status", rollout)

        # A process started web-native's deployment, then died.
        died = _manifest(
            "died",
            "waves:\n  - name: first\n    services:\n" + _service("web-native", "nginx:1.29"),
            folder,
        )
        loaded = load_manifest(died)
        native = loaded.services[0]
        account = Accounts(clients=sim.clients(), clock=sim.clock).for_service(native)
        start_service(loaded.id, "first", native, account, clock=sim.clock)
        r.cli(NATIVE_RELEASE_RESUME, "release", "resume", died)

        # api fails while api-native waits at its pause hook: api-native is stopped, and
        # web-native, released in the first wave, is rolled back.
        fails = _manifest(
            "fails",
            "on_failure: rollback\nwaves:\n"
            "  - name: first\n    services:\n"
            + _service("web-native", "nginx:1.30")
            + "  - name: second\n    services:\n"
            + _service(
                "api", "nginx:1.30", ", hooks: {AfterAllowTestTraffic: CodeDeployHook_fails}"
            )
            + _service("api-native", "nginx:1.30"),
            folder,
        )
        r.cli(NATIVE_RELEASE_RUN, "release", fails, expect=1)


def _reporting_hook(sim: Any, status: str) -> Any:
    """A CodeDeploy stand-in hook reporting ``status`` through plain boto3."""
    from deploying import reporting_hook

    return reporting_hook(sim.clients().session.client("codedeploy"), status)


NATIVE_SESSIONS: dict[str, tuple[Callable[[Recorder], None], tuple[Part, ...]]] = {
    "native": (
        native_session,
        (
            NATIVE_PLAN,
            NATIVE_DEPLOY,
            NATIVE_WAIT,
            NATIVE_STATUS,
            NATIVE_INSPECT,
            NATIVE_INVOKE,
            NATIVE_PROMOTE,
            NATIVE_FINISH,
            NATIVE_ROLLBACK,
            NATIVE_ABORT,
        ),
    ),
    "native-hooks": (
        native_hooks_session,
        (
            NATIVE_VERIFY_TEST,
            NATIVE_VERIFY_PRODUCTION,
            NATIVE_RESTORE_HOOK,
            ANALYSIS_GATE,
            ANALYSIS_GATE_OLD_EVENT,
        ),
    ),
    "native-waves": (
        native_waves_session,
        (NATIVE_RELEASE_PLAN, NATIVE_RELEASE_RUN, NATIVE_RELEASE_STATUS, NATIVE_RELEASE_RESUME),
    ),
}
"""The ECS-native sessions, each in a simulator of its own (``iam_record.SESSIONS``)."""


def native_simulator_options(session: str) -> dict[str, Any]:
    """Production traffic for the analysis gate's session (its metrics), else nothing."""
    if session != "native-hooks":
        return {}
    from bluegreen.testing import Traffic

    return {"traffic": Traffic(requests_per_minute=1000, seed=1), "start_time": 1_796_000_017.0}
