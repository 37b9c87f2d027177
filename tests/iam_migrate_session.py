"""The session of tests/iam_record.py that moves a service from CodeDeploy to ECS-native
blue/green and back (issue 17): ``bluegreen migrate plan|apply|revert`` on the sample
CodeDeploy service (``prod/web``), recorded the way ``iam_record`` records the other verbs
(the real CLI, ``r.cli``), with every route whose calls differ: a plan that reads the hooks
from the group's last successful deployment, one that reads a given role's trust; an apply
with a given role, one that creates the role and follows a no-op native deployment, one
that fails at CreateRule and undoes itself; a revert after each, and one after an apply that
was killed half-way.

Kept apart from iam_record.py, which imports ``MIGRATE_SESSIONS`` into its ``SESSIONS``; the
stand-in hook answers through plain boto3, never through bluegreen's door, and the roles are
made with plain boto3, so the recording holds only bluegreen's calls.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iam_parts import (
    MIGRATE_APPLY,
    MIGRATE_APPLY_CREATE,
    MIGRATE_APPLY_FAILS,
    MIGRATE_PLAN,
    MIGRATE_PLAN_ROLE,
    MIGRATE_REVERT,
    MIGRATE_REVERT_CREATED,
    MIGRATE_REVERT_KILLED,
    Part,
)

from bluegreen.iam_infrastructure import TRUST_POLICY

if TYPE_CHECKING:
    from iam_record import Recorder

SERVICE = ("--cluster", "prod", "--service", "web")
ACCOUNT = "123456789012"
GIVEN_ROLE = "ecsInfrastructureRole"
"""An infrastructure role made beforehand (``migrate plan|apply --role``)."""
CREATED_ROLE = "bluegreen-web-infrastructure"
"""The role ``migrate apply --create-role`` creates."""
HOOK_ROLE = "ecsLambdaInvokeRole"
"""The role ECS invokes the hook function with (``--hook-role``)."""
HOOK = "CheckGreen"
"""A hook function that passes, under CodeDeploy (it reports) and ECS (it answers)."""
APPSPEC = f"""\
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:1
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 80
Hooks:
  - AfterAllowTestTraffic: {HOOK}
"""
TRUST_ECS = TRUST_POLICY  # a role ECS may assume


class Killed(BaseException):
    """The process dies here: nothing after it runs, not even the undo."""


def _passing_hook(sim: Any) -> Callable[[dict[str, Any], Any], Any]:
    """A hook that passes: it reports Succeeded to CodeDeploy (plain boto3), or answers ECS."""
    codedeploy = sim.clients().session.client("codedeploy")

    def hook(event: dict[str, Any], context: Any) -> Any:
        if "LifecycleEventHookExecutionId" not in event:
            return {"hookStatus": "SUCCEEDED"}
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )
        return None

    return hook


def _role(sim: Any, name: str) -> str:
    """A role trusted by ECS, made with plain boto3 (not recorded); its ARN."""
    iam = sim.clients().session.client("iam")
    answer = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ECS))
    return str(answer["Role"]["Arn"])


def _killed_apply(sim: Any) -> None:
    """``apply_migration`` killed right after it created its first listener rule: the record
    and the rule stay (not recorded)."""
    from bluegreen.migration_apply import apply_migration
    from bluegreen.migration_plan import plan_migration

    clients = sim.clients()
    plan = plan_migration("prod", "web", create_role=CREATED_ROLE, clients=clients)

    def die_after_a_rule(step: str) -> None:
        if "listener rule created" in step:
            raise Killed

    try:
        apply_migration(
            plan,
            accept_differences=True,
            on_step=die_after_a_rule,
            clients=clients,
            clock=sim.clock,
        )
    except Killed:
        return
    raise AssertionError("the apply was not killed")


def migrate_session(r: Recorder) -> None:
    """plan (hooks from the last deployment; a given role), apply with a given role and
    revert, apply creating the role with a no-op native deployment and revert, an apply
    refused at CreateRule (undone), and revert after an apply killed half-way."""
    import bluegreen

    sim = r.sim
    sim.create_environment()
    sim.register_hook(HOOK, _passing_hook(sim))
    given = _role(sim, GIVEN_ROLE)
    hook_role = _role(sim, HOOK_ROLE)
    # A CodeDeploy release with a hook (not recorded): plan reads the hooks from its AppSpec.
    deployment = bluegreen.deploy(
        "prod",
        "web",
        image="public.ecr.aws/nginx/nginx:1.28",
        hooks={"AfterAllowTestTraffic": HOOK},
        clients=sim.clients(),
        clock=sim.clock,
    )
    deployment.wait()  # to its end: scaling restored

    r.cli(MIGRATE_PLAN, "migrate", "plan", *SERVICE, "--create-role", CREATED_ROLE)
    r.cli(MIGRATE_PLAN_ROLE, "migrate", "plan", *SERVICE, "--role", given)

    r.cli(MIGRATE_APPLY, "migrate", "apply", *SERVICE, "--role", given, "--accept-differences")
    r.cli(MIGRATE_REVERT, "migrate", "revert", *SERVICE)

    with tempfile.TemporaryDirectory() as folder:
        appspec = Path(folder, "appspec.yaml")
        appspec.write_text(APPSPEC)
        r.cli(
            MIGRATE_APPLY_CREATE,
            "migrate",
            "apply",
            *SERVICE,
            "--create-role",
            CREATED_ROLE,
            "--hook-role",
            hook_role,
            "--appspec",
            str(appspec),
            "--verify",
            "deploy",
            "--accept-differences",
        )
    r.cli(MIGRATE_REVERT_CREATED, "migrate", "revert", *SERVICE)

    sim.faults.server_error("CreateRule", service="elasticloadbalancing", count=1000)
    r.cli(
        MIGRATE_APPLY_FAILS,
        "migrate",
        "apply",
        *SERVICE,
        "--create-role",
        CREATED_ROLE,
        "--accept-differences",
        expect=4,
    )
    sim.faults.clear()

    _killed_apply(sim)
    r.cli(MIGRATE_REVERT_KILLED, "migrate", "revert", *SERVICE)


MIGRATE_SESSIONS: dict[str, tuple[Callable[[Recorder], None], tuple[Part, ...]]] = {
    "migrate": (
        migrate_session,
        (
            MIGRATE_PLAN,
            MIGRATE_PLAN_ROLE,
            MIGRATE_APPLY,
            MIGRATE_APPLY_CREATE,
            MIGRATE_APPLY_FAILS,
            MIGRATE_REVERT,
            MIGRATE_REVERT_CREATED,
            MIGRATE_REVERT_KILLED,
        ),
    ),
}
"""The migration's session, in a simulator of its own (``iam_record.SESSIONS``)."""
