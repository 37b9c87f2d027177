"""Record, on the simulator, the IAM actions each part of bluegreen calls, and write what is
generated from them (issue 13, "Least-privilege IAM").

    python tests/iam_record.py --write   # regenerate after any change to bluegreen's AWS calls
    python tests/iam_record.py           # only check; exit 1 naming what is out of date

Each part (a CLI verb, a hook handler, a failure route) runs on the in-process simulator, the
way a user runs it, while ``bluegreen.iam_recording.recording_actions()`` names the IAM action of
every call the one door to AWS (``bluegreen._aws.Caller``) makes. It writes, deterministically
(sorted, no timestamps):

- ``tests/iam_recorded.json``: the actions of each part, and under which condition;
- ``bluegreen/iam_actions.py``: each feature's actions and each action's resource kind (the
  table ``bluegreen iam policy`` reads);
- the generated tables in README.md ("## IAM permissions") and hooks/README.md (IAM parts).

It needs the ``sim`` extra, so it lives here, outside the installed package. tests/test_iam.py
records every session again and fails, naming this command, when anything here is stale.
The parts are listed in tests/iam_parts.py; tests/iam_generated.py renders the files.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from iam_migrate_session import MIGRATE_SESSIONS
from iam_native_session import NATIVE_SESSIONS, native_simulator_options
from iam_parts import (
    ABORT,
    APPSPEC,
    COMMAND,
    DEPLOY,
    DEPLOY_ANALYSIS,
    DEPLOY_CONFIG,
    DEPLOY_FAILS,
    DEPLOY_OVER_RECORD,
    DEPLOY_REGISTER_5XX,
    DEPLOY_SCAN,
    FINISH,
    INSPECT,
    INSPECT_RULES,
    INSPECT_SCAN,
    INVOKE,
    PARTS,
    PLAN,
    PROMOTE,
    RECOVER,
    RELEASE_PLAN,
    RELEASE_PLAN_ROLE,
    RELEASE_RESUME,
    RELEASE_RUN,
    RELEASE_RUN_ROLE,
    RELEASE_RUN_ROLLBACK,
    RELEASE_STATUS,
    RELEASE_STATUS_ROLE,
    RESTORE_EVENT,
    RESTORE_EVENT_ROLLBACK,
    RESTORE_HOOK,
    ROLLBACK,
    ROOT,
    SCHEDULE,
    STATUS,
    STATUS_SCALING,
    VERIFY_PRODUCTION,
    VERIFY_TEST,
    WAIT,
    WAIT_ANALYSIS,
    WAIT_ROLLBACK,
    Part,
)

SERVICE = ("--cluster", "prod", "--service", "web")
CHECK_HOOK = "CodeDeployHook_check"
FAILING_HOOK = "CodeDeployHook_fails"
SILENT_HOOK = "CodeDeployHook_silent"
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


# -- recording ---------------------------------------------------------------------------------


class Recorder:
    """The actions recorded per part in one simulator session."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.actions: dict[str, set[str]] = {}
        self.targets: dict[str, set[str]] = {}
        self.problems: list[str] = []

    @contextlib.contextmanager
    def part(self, part: Part) -> Iterator[None]:
        from bluegreen.iam_recording import recording_actions

        with recording_actions() as recording:
            yield
        self.actions.setdefault(part.key, set()).update(recording.actions)
        for action, kinds in recording.targets.items():
            self.targets.setdefault(action, set()).update(kinds)
        self.problems += [f"{part.key}: {problem}" for problem in recording.problems]

    def cli(self, part: Part | None, *argv: str, expect: int = 0) -> str:
        """``bluegreen ARGV`` in-process, recorded as ``part`` (None: not recorded)."""
        from bluegreen.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.ExitStack() as stack:
            if part is not None:
                stack.enter_context(self.part(part))
            stack.enter_context(contextlib.redirect_stdout(out))
            stack.enter_context(contextlib.redirect_stderr(err))
            code = main(list(argv))
        if code != expect:
            raise AssertionError(
                f"bluegreen {' '.join(argv)} exited {code}, not {expect}:\n{err.getvalue()}"
            )
        return out.getvalue()


@contextlib.contextmanager
def simulator(**options: Any) -> Iterator[Any]:
    """A simulator with fake credentials, the CLI's waits on its clock, fresh hook clients, no
    pacing, and no DNS look-up of a simulated load balancer's name (its checks fail at once)."""
    import bluegreen.cli._clock
    import bluegreen.hooks._clients
    from bluegreen.clock import DEFAULT_BUDGET
    from bluegreen.testing import Simulator

    resolve = socket.getaddrinfo

    def no_aws_names(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".amazonaws.com"):
            raise socket.gaierror(socket.EAI_NONAME, "a simulated load balancer's name")
        return resolve(host, *args, **kwargs)

    # No profile or endpoint of this machine; no URL that spares the hooks their look-ups.
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BLUEGREEN_"))}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, {**kept, **FAKE_ENVIRONMENT}, clear=True))
        stack.enter_context(mock.patch("socket.getaddrinfo", no_aws_names))
        # The hooks' JSON log lines (checks that fail on the simulated names) say nothing here.
        hooks_log = logging.getLogger("bluegreen.hooks")
        stack.enter_context(mock.patch.object(hooks_log, "disabled", True))
        stack.enter_context(mock.patch.object(bluegreen.hooks._clients, "_DEFAULT", None))
        for name in ("rate", "burst", "_tokens"):  # no pacing on the real clock
            stack.enter_context(mock.patch.object(DEFAULT_BUDGET, name, 1e9))
        sim = stack.enter_context(Simulator(**options))
        shared = sim.clients().session

        def sim_clock() -> Any:
            return sim.clock

        def shared_session(*args: Any, **kwargs: Any) -> Any:
            return shared

        stack.enter_context(mock.patch.object(bluegreen.cli._clock, "_clock_factory", sim_clock))
        # Every command and hook makes its own boto3.Session: share the simulator's, whose
        # service models are parsed already (the calls made are the same).
        stack.enter_context(mock.patch("boto3.Session", shared_session))
        yield sim


def _reporting_hook(sim: Any, status: str) -> Any:
    """A stand-in hook that reports ``status`` through plain boto3 (never through bluegreen's
    door, so a release's recording holds only the release's calls)."""
    from deploying import reporting_hook

    return reporting_hook(sim.clients().session.client("codedeploy"), status)


def _silent_hook(events: list[dict[str, Any]]) -> Any:
    """A stand-in hook that keeps its event and reports nothing (``hooks invoke`` does)."""

    def hook(event: dict[str, Any], context: Any) -> None:
        events.append(event)

    return hook


def _scanned(sim: Any, env: Any) -> None:
    """Move the sample group to application ``releases``, group ``web``: names the console's
    convention does not predict, so finding it takes a scan."""
    codedeploy = sim.clients().session.client("codedeploy")
    info = codedeploy.get_deployment_group(
        applicationName=env.application, deploymentGroupName=env.deployment_group
    )["deploymentGroupInfo"]
    codedeploy.delete_application(applicationName=env.application)
    codedeploy.create_application(applicationName="releases", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="releases",
        deploymentGroupName="web",
        **{
            key: info[key]
            for key in (
                "serviceRoleArn",
                "deploymentStyle",
                "blueGreenDeploymentConfiguration",
                "ecsServices",
                "loadBalancerInfo",
                "alarmConfiguration",
                "autoRollbackConfiguration",
                "deploymentConfigName",
            )
        },
    )


def _deployment_id(out: str) -> str:
    """The id ``deploy --no-wait`` prints."""
    return next(word for word in out.split() if word.startswith("d-"))


# -- the sessions ------------------------------------------------------------------------------


def release_session(r: Recorder) -> None:
    """plan, deploy, wait, promote, finish, rollback (after two releases that succeeded): a
    group with a ready wait."""
    sim = r.sim
    sim.create_environment(ready_wait_minutes=30, termination_wait_minutes=5)
    sim.register_hook(CHECK_HOOK, _reporting_hook(sim, "Succeeded"))
    hook = ("--hook", f"AfterAllowTestTraffic={CHECK_HOOK}")
    image = ("--image", "public.ecr.aws/nginx/nginx:1.28")

    r.cli(PLAN, "plan", *SERVICE, *image, *hook)
    r.cli(DEPLOY, "deploy", *SERVICE, *image, *hook, "--no-wait")
    _through_ready_wait(r)
    r.cli(DEPLOY, "deploy", *SERVICE, "--image", "nginx:1.29", "--no-wait")
    _through_ready_wait(r)
    r.cli(ROLLBACK, "rollback", *SERVICE, "--no-wait")


def _through_ready_wait(r: Recorder) -> None:
    r.cli(WAIT, "wait", *SERVICE, "--until", "ready")
    r.cli(PROMOTE, "promote", *SERVICE)
    r.cli(WAIT, "wait", *SERVICE, "--until", "termination_wait")
    r.cli(FINISH, "finish", *SERVICE)
    r.cli(WAIT, "wait", *SERVICE)  # to the end: restores scaling


def failures_session(r: Recorder) -> None:
    """A new custom config and abort, a refused CreateDeployment, a rollback followed by
    wait, a record left for recover, a 5xx to RegisterTaskDefinition, a group found by a
    scan."""
    sim = r.sim
    env = sim.create_environment()
    sim.register_hook(FAILING_HOOK, _reporting_hook(sim, "Failed"))

    out = r.cli(
        DEPLOY_CONFIG, "deploy", *SERVICE, "--image", "nginx:1.28", "--canary", "20/10", "--no-wait"
    )
    r.cli(None, "wait", "--deployment-id", _deployment_id(out), "--until", "test_traffic")
    r.cli(ABORT, "abort", *SERVICE, expect=0)

    sim.faults.server_error("CreateDeployment", rate=1.0)
    r.cli(DEPLOY_FAILS, "deploy", *SERVICE, "--image", "nginx:1.29", "--no-wait", expect=4)
    sim.faults.clear()

    hook = ("--hook", f"AfterAllowTestTraffic={FAILING_HOOK}")
    r.cli(None, "deploy", *SERVICE, "--image", "nginx:1.30", *hook, "--no-wait")
    r.cli(WAIT_ROLLBACK, "wait", *SERVICE, expect=1)

    out = r.cli(None, "deploy", *SERVICE, "--image", "nginx:1.31", "--no-wait")
    sim.run_until_done(_deployment_id(out))  # nobody waits: the scaling record stays
    out = r.cli(DEPLOY_OVER_RECORD, "deploy", *SERVICE, "--image", "nginx:1.34", "--no-wait")
    sim.run_until_done(_deployment_id(out))  # nobody waits for this one either
    _dead_release_with_net(sim)  # its alarm net is left for recover
    r.cli(RECOVER, "recover", *SERVICE)

    sim.faults.server_error("RegisterTaskDefinition", service="ecs", count=1)
    out = r.cli(DEPLOY_REGISTER_5XX, "deploy", *SERVICE, "--image", "nginx:1.33", "--no-wait")
    r.cli(None, "wait", "--deployment-id", _deployment_id(out))

    _scanned(sim, env)
    r.cli(INSPECT_SCAN, "inspect", *SERVICE)
    r.cli(DEPLOY_SCAN, "deploy", *SERVICE, "--image", "nginx:1.32", "--no-wait")


def _dead_release_with_net(sim: Any) -> None:
    """``deploy(analysis=...)`` whose process then dies: the deployment runs to its end with
    nobody waiting, and its alarm net stays (not recorded)."""
    from bluegreen.analysis import DEFAULT_ANALYSIS
    from bluegreen.deploying import deploy

    deployment = deploy(
        "prod",
        "web",
        image="nginx:1.35",
        analysis=DEFAULT_ANALYSIS,
        clients=sim.clients(),
        clock=sim.clock,
    )
    sim.run_until_done(deployment.id)


def analysis_session(r: Recorder) -> None:
    """deploy --analysis on a canary whose green fails production requests (the analysis
    stops it), then wait --analysis for a deployment started without one."""
    sim = r.sim
    sim.create_environment(
        deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes", alarms=False
    )
    sim.traffic.behave("nginx:bad", error_rate=0.3)
    r.cli(
        DEPLOY_ANALYSIS,
        "deploy",
        *SERVICE,
        "--image",
        "nginx:bad",
        "--analysis",
        "default",
        expect=1,
    )
    out = r.cli(None, "deploy", *SERVICE, "--image", "nginx:bad", "--no-wait")
    r.cli(
        WAIT_ANALYSIS,
        "wait",
        "--deployment-id",
        _deployment_id(out),
        "--analysis",
        "default",
        expect=1,
    )


def _net_targets(env: Any, state: Any) -> Any:
    """Green's and blue's target groups for the next deployment of the sample service."""
    from bluegreen.analysis_query import AnalysisTargets

    blue = state.blue.target_group_arn
    return AnalysisTargets(
        green_target_group_arn=next(a for a in env.target_group_arns if a != blue),
        blue_target_group_arn=blue,
        load_balancer_arn=env.load_balancer_arn,
    )


def readonly_session(r: Recorder) -> None:
    """inspect, status, appspec, schedule, and hooks invoke, on a deployment in flight."""
    sim = r.sim
    env = sim.create_environment()
    executions: list[dict[str, Any]] = []
    sim.register_hook(SILENT_HOOK, _silent_hook(executions))

    r.cli(INSPECT, "inspect", *SERVICE)
    r.cli(INSPECT_RULES, "inspect", *SERVICE, "--rules")
    r.cli(SCHEDULE, "schedule", "CodeDeployDefault.ECSLinear10PercentEvery3Minutes")
    r.cli(SCHEDULE, "schedule", "--canary", "20/10")
    out = r.cli(
        None,
        "deploy",
        *SERVICE,
        "--image",
        "nginx:1.28",
        "--hook",
        f"AfterAllowTestTraffic={SILENT_HOOK}",
        "--no-wait",
    )
    deployment_id = _deployment_id(out)
    sim.run_until(lambda: bool(executions))  # waiting in AfterAllowTestTraffic
    r.cli(STATUS, "status", *SERVICE)
    r.cli(STATUS, "status", "--deployment-id", deployment_id)
    r.cli(STATUS_SCALING, "status", *SERVICE, "--scaling")
    r.cli(
        APPSPEC,
        "appspec",
        *SERVICE,
        "--task-definition",
        env.task_definition_arn,
        "--allow-mutable-image-tags",
    )
    execution = executions[0]["LifecycleEventHookExecutionId"]
    r.cli(
        INVOKE,
        "hooks",
        "invoke",
        "verify_test_listener",
        "--deployment-id",
        deployment_id,
        "--execution-id",
        execution,
        expect=1,  # the simulated load balancer's name does not resolve: the check fails
    )


def hooks_session(r: Recorder) -> None:
    """Each ready-made handler, invoked by the simulator as Lambda would invoke it, and the
    EventBridge safety net after a release that died."""
    import bluegreen
    from bluegreen.hooks.handlers import restore_scaling, verify_production, verify_test_listener

    sim = r.sim
    env = sim.create_environment(termination_wait_minutes=1)
    clients = sim.clients()
    sim.register_hook("CodeDeployHook_verify_test_listener", verify_test_listener.handler)
    sim.register_hook("CodeDeployHook_verify_production", verify_production.handler)
    sim.register_hook("CodeDeployHook_restore_scaling", restore_scaling.hook_handler)
    sim.register_hook(FAILING_HOOK, _reporting_hook(sim, "Failed"))

    def release(image: str, event: str, function: str) -> str:
        return bluegreen.deploy(
            env.cluster,
            env.service,
            image=image,
            hooks={event: function},
            clients=clients,
            clock=sim.clock,
        ).id

    first = release("nginx:1.28", "AfterAllowTestTraffic", "CodeDeployHook_verify_test_listener")
    with r.part(VERIFY_TEST):
        sim.run_until_done(first)
    bluegreen.recover(env.cluster, env.service, clients=clients, clock=sim.clock)
    second = release("nginx:1.29", "AfterAllowTraffic", "CodeDeployHook_verify_production")
    with r.part(VERIFY_PRODUCTION):
        sim.run_until_done(second)
    bluegreen.recover(env.cluster, env.service, clients=clients, clock=sim.clock)
    third = release("nginx:1.30", "AfterAllowTraffic", "CodeDeployHook_restore_scaling")
    with r.part(RESTORE_HOOK):
        sim.run_until_done(third)

    # A release that dies: its record stays until the state-change event arrives.
    fourth = release("nginx:1.31", "AfterAllowTestTraffic", FAILING_HOOK)
    net = _dead_releases_net(sim, env, fourth)  # ... and its alarm net too
    codedeploy = clients.codedeploy
    sim.run_until(
        lambda: bool(
            codedeploy.get_deployment(deploymentId=fourth)["deploymentInfo"]
            .get("rollbackInfo", {})
            .get("rollbackDeploymentId")
        )
    )
    with r.part(RESTORE_EVENT_ROLLBACK):
        answer = restore_scaling.handler(_state_change(env, fourth, "FAILURE"))
    assert answer["action"] == "rollback_running", answer
    sim.run_until_done(fourth)
    with r.part(RESTORE_EVENT):
        answer = restore_scaling.handler(_state_change(env, fourth, "FAILURE"))
    assert answer["action"] == "restored", answer
    assert answer["alarm_nets_removed"] == [net], answer


def _dead_releases_net(sim: Any, env: Any, deployment_id: str) -> str:
    """An alarm net attached to ``deployment_id`` by a release that then died (not recorded)."""
    from bluegreen import discover
    from bluegreen._aws import Caller
    from bluegreen.analysis import DEFAULT_ANALYSIS
    from bluegreen.analysis_alarm import AlarmNet

    clients = sim.clients()
    state = discover(env.cluster, env.service, clients=clients)
    net = AlarmNet.create(
        Caller(clock=sim.clock),
        clients,
        DEFAULT_ANALYSIS,
        _net_targets(env, state),
        cluster=env.cluster,
        service=env.service,
        release_id="fedcba987654",
    )
    assert net is not None
    net.attach(deployment_id)
    return net.name


def _state_change(env: Any, deployment_id: str, state: str) -> dict[str, Any]:
    """The EventBridge event CodeDeploy sends when ``deployment_id`` changes state."""
    return {
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "detail": {
            "deploymentId": deployment_id,
            "deploymentGroup": env.deployment_group,
            "application": env.application,
            "state": state,
        },
    }


RELEASE_ROLE = "arn:aws:iam::123456789012:role/bluegreen-release"
"""The role a service of the ``waves`` session's last release names (moto's STS answers)."""


def _two_waves(name: str, image: str, *, head: str = "", first: str = "", last: str = "") -> str:
    """A manifest of ``web`` then ``api`` in cluster prod, both to ``image``; ``head`` goes
    at the top, ``first`` into ``web``'s mapping, ``last`` into ``api``'s."""
    return (
        f"release: {name}\n{head}waves:\n"
        f"  - name: first\n    services:\n"
        f'      - {{cluster: prod, service: web, image: "{image}"{first}}}\n'
        f"  - name: second\n    services:\n"
        f'      - {{cluster: prod, service: api, image: "{image}"{last}}}\n'
    )


def waves_session(r: Recorder) -> None:
    """``bluegreen release``: plan, a release of two services (each deployed once before) in
    two waves, status, resume of
    a release whose process died, a release whose second wave fails (one service fails, the
    other is stopped, and ``on_failure: rollback`` rolls back the first wave's), and a
    release whose service names a role to assume (plan, run, status)."""
    import bluegreen
    from bluegreen.manifest_load import load_manifest
    from bluegreen.release_accounts import Accounts
    from bluegreen.release_service import start_service

    sim = r.sim
    for name in ("web", "api", "jobs"):
        sim.create_environment(name=name, termination_wait_minutes=1)
    sim.register_hook(CHECK_HOOK, _reporting_hook(sim, "Succeeded"))
    sim.register_hook(FAILING_HOOK, _reporting_hook(sim, "Failed"))
    sim.register_hook(SILENT_HOOK, _silent_hook([]))
    for name in ("web", "api"):  # a group's deployments before the release's (not recorded)
        before = bluegreen.deploy(
            "prod", name, image="nginx:1.27", clients=sim.clients(), clock=sim.clock
        )
        sim.run_until_done(before.id)
    checked = f", hooks: {{AfterAllowTestTraffic: {CHECK_HOOK}}}"
    with tempfile.TemporaryDirectory() as folder:

        def manifest(name: str, text: str) -> str:
            path = Path(folder, f"{name}.yaml")
            path.write_text(text)
            return str(path)

        rollout = manifest("rollout", _two_waves("rollout", "nginx:1.28", first=checked))
        r.cli(RELEASE_PLAN, "release", "plan", rollout)
        r.cli(RELEASE_RUN, "release", rollout)
        r.cli(RELEASE_STATUS, "release", "status", rollout)

        # A process created web's deployment, then died.
        died = manifest("died", _two_waves("died", "nginx:1.29"))
        loaded = load_manifest(died)
        web = loaded.services[0]
        account = Accounts(clients=sim.clients(), clock=sim.clock).for_service(web)
        start_service(loaded.id, "first", web, account, clock=sim.clock)
        r.cli(RELEASE_RESUME, "release", "resume", died)

        # api fails while jobs waits on its hook: jobs is stopped, web rolled back.
        fails = manifest(
            "fails",
            _two_waves(
                "fails",
                "nginx:1.30",
                head="on_failure: rollback\n",
                last=f", hooks: {{AfterAllowTestTraffic: {FAILING_HOOK}}}}}\n"
                f'      - {{cluster: prod, service: jobs, image: "nginx:1.30", '
                f"hooks: {{AfterAllowTestTraffic: {SILENT_HOOK}}}",
            ),
        )
        r.cli(RELEASE_RUN_ROLLBACK, "release", fails, expect=1)

        assumed = manifest(
            "assumed", _two_waves("assumed", "nginx:1.31", last=f", role: {RELEASE_ROLE!r}")
        )
        r.cli(RELEASE_PLAN_ROLE, "release", "plan", assumed)
        r.cli(RELEASE_RUN_ROLE, "release", assumed)
        r.cli(RELEASE_STATUS_ROLE, "release", "status", assumed)


SESSIONS: dict[str, tuple[Callable[[Recorder], None], tuple[Part, ...]]] = {
    "release": (release_session, (PLAN, DEPLOY, WAIT, PROMOTE, FINISH, ROLLBACK)),
    "failures": (
        failures_session,
        (
            DEPLOY_CONFIG,
            ABORT,
            DEPLOY_FAILS,
            WAIT_ROLLBACK,
            DEPLOY_OVER_RECORD,
            RECOVER,
            DEPLOY_REGISTER_5XX,
            INSPECT_SCAN,
            DEPLOY_SCAN,
        ),
    ),
    "readonly": (
        readonly_session,
        (INSPECT, INSPECT_RULES, SCHEDULE, STATUS, STATUS_SCALING, APPSPEC, INVOKE),
    ),
    "analysis": (analysis_session, (DEPLOY_ANALYSIS, WAIT_ANALYSIS)),
    "hooks": (
        hooks_session,
        (VERIFY_TEST, VERIFY_PRODUCTION, RESTORE_HOOK, RESTORE_EVENT_ROLLBACK, RESTORE_EVENT),
    ),
    "waves": (
        waves_session,
        (
            RELEASE_PLAN,
            RELEASE_RUN,
            RELEASE_STATUS,
            RELEASE_RESUME,
            RELEASE_RUN_ROLLBACK,
            RELEASE_PLAN_ROLE,
            RELEASE_RUN_ROLE,
            RELEASE_STATUS_ROLE,
        ),
    ),
    **NATIVE_SESSIONS,
    **MIGRATE_SESSIONS,
}
"""Each session runs in a simulator of its own and records its parts (each part in exactly one
session); tests/test_iam.py runs them in parallel."""


def _simulator_options(session: str) -> dict[str, Any]:
    """What a session's simulator needs beyond the defaults: production traffic for the
    analysis."""
    if session in NATIVE_SESSIONS:
        return native_simulator_options(session)
    if session != "analysis":
        return {}
    from bluegreen.testing import Traffic

    return {"traffic": Traffic(requests_per_minute=1000, seed=1), "start_time": 1_796_000_017.0}


def record(session: str) -> dict[str, list[str]]:
    """The sorted actions of each part ``session`` records, in ``PARTS`` order.

    Raises:
        AssertionError: a part did not end as it should, a call could not be named, or the
            session recorded a part it does not own (or missed one it owns).
    """
    run, parts = SESSIONS[session]
    with simulator(**_simulator_options(session)) as sim:
        recorder = Recorder(sim)
        run(recorder)
    from iam_generated import uncovered

    problems = recorder.problems + uncovered(recorder.targets)
    if problems:
        raise AssertionError("\n".join(problems))
    owned = {part.key for part in parts}
    if set(recorder.actions) != owned:
        raise AssertionError(
            f"session {session} recorded {sorted(recorder.actions)}, owns {sorted(owned)}"
        )
    return {p.key: sorted(recorder.actions[p.key]) for p in PARTS if p.key in owned}


def record_all() -> dict[str, list[str]]:
    """Every part's actions, in ``PARTS`` order."""
    recorded: dict[str, list[str]] = {}
    for session in SESSIONS:
        recorded.update(record(session))
    return {p.key: recorded[p.key] for p in PARTS}


def main(argv: list[str] | None = None) -> int:
    from iam_generated import generated, stale

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the generated files")
    parser.add_argument("--session", choices=sorted(SESSIONS), help="print one session's record")
    args = parser.parse_args(argv)
    if args.session:
        print(json.dumps(record(args.session), indent=2))
        return 0
    recorded = record_all()
    if args.write:
        for path, text in generated(recorded).items():
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                print(f"wrote {path.relative_to(ROOT)}")
        return 0
    out_of_date = stale(recorded)
    for path in out_of_date:
        print(f"{path.relative_to(ROOT)} is out of date: run {COMMAND}")
    return 1 if out_of_date else 0


if __name__ == "__main__":
    sys.exit(main())
