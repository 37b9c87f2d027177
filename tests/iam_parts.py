"""The parts of bluegreen whose AWS calls tests/iam_record.py records, and the files it writes.

A part is one thing a user runs: a ``bluegreen`` command or a ready-made hook handler; a part
with ``when`` is a route of it that calls more (a failure, a flag). Each part serves one or more
features, the unit a policy is made for (``bluegreen iam policy --for FEATURE``).
"""

from __future__ import annotations

from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "tests" / "iam_recorded.json"
TABLE = ROOT / "bluegreen" / "iam_actions.py"
README = ROOT / "README.md"
HOOKS_README = ROOT / "hooks" / "README.md"
COMMAND = "python tests/iam_record.py --write"


@attrs.frozen
class Part:
    """One thing a user runs: a CLI verb, a hook handler; ``when`` names a route of it that
    calls more (a failure, a flag)."""

    name: str
    features: tuple[str, ...]
    when: str | None = None
    handler: bool = False
    """A hook handler (hooks/README.md's table), not a command (README.md's)."""

    @property
    def key(self) -> str:
        return self.name if self.when is None else f"{self.name} | {self.when}"


RELEASE, READONLY, HOOK, SAFETY_NET = "release", "readonly", "hook", "safety-net"
MIGRATE = "migrate"
FEATURES = (RELEASE, READONLY, HOOK, SAFETY_NET, MIGRATE)

PLAN = Part("plan", (RELEASE, READONLY))
DEPLOY = Part("deploy", (RELEASE,))
DEPLOY_CONFIG = Part("deploy", (RELEASE,), "a new custom traffic config (--canary, --linear)")
DEPLOY_SCAN = Part("deploy", (RELEASE,), "the deployment group is found by a scan")
DEPLOY_FAILS = Part("deploy", (RELEASE,), "CreateDeployment fails for good")
DEPLOY_REGISTER_5XX = Part(
    "deploy", (RELEASE,), "RegisterTaskDefinition answers 5xx (its revision is looked for)"
)
DEPLOY_OVER_RECORD = Part(
    "deploy", (RELEASE,), "a scaling record of an ended deployment nobody waited for is there"
)
WAIT = Part("wait", (RELEASE,))
WAIT_ROLLBACK = Part("wait", (RELEASE,), "the deployment fails and rolls back")
PROMOTE = Part("promote", (RELEASE,))
FINISH = Part("finish", (RELEASE,))
ABORT = Part("abort", (RELEASE,))
ROLLBACK = Part("rollback", (RELEASE,))
RECOVER = Part("recover", (RELEASE,))
DEPLOY_ANALYSIS = Part(
    "deploy", (RELEASE,), "--analysis: its alarm net, and an analysis that stops the deployment"
)
WAIT_ANALYSIS = Part("wait", (RELEASE,), "--analysis, for a deployment started without one")
RELEASE_RUN = Part("release FILE", (RELEASE,))
RELEASE_RUN_ROLLBACK = Part(
    "release FILE",
    (RELEASE,),
    "a service fails: the one in flight is stopped, the released rolled back "
    "(`on_failure: rollback`)",
)
RELEASE_RUN_ROLE = Part("release FILE", (RELEASE,), "a service names a `role:` to assume")
RELEASE_RESUME = Part("release resume FILE", (RELEASE,))
RELEASE_STATUS = Part("release status FILE", (RELEASE, READONLY))
RELEASE_STATUS_ROLE = Part(
    "release status FILE", (RELEASE, READONLY), "a service names a `role:` to assume"
)
RELEASE_PLAN = Part("release plan FILE", (RELEASE, READONLY))
RELEASE_PLAN_ROLE = Part(
    "release plan FILE", (RELEASE, READONLY), "a service names a `role:` to assume"
)
INSPECT = Part("inspect", (READONLY,))
INSPECT_RULES = Part("inspect", (READONLY,), "--rules")
INSPECT_SCAN = Part("inspect", (READONLY,), "the deployment group is found by a scan")
STATUS = Part("status", (READONLY,))
STATUS_SCALING = Part("status", (READONLY,), "--scaling")
APPSPEC = Part("appspec --cluster --service", (READONLY,))
SCHEDULE = Part("schedule", (READONLY,))
VERIFY_TEST = Part("verify_test_listener", (HOOK,), handler=True)
VERIFY_PRODUCTION = Part("verify_production", (HOOK,), handler=True)
RESTORE_HOOK = Part("restore_scaling.hook_handler", (HOOK,), handler=True)
INVOKE = Part("hooks invoke", (HOOK,))
RESTORE_EVENT = Part("restore_scaling.handler", (SAFETY_NET,), handler=True)
RESTORE_EVENT_ROLLBACK = Part(
    "restore_scaling.handler", (SAFETY_NET,), "the deployment's rollback still runs", True
)

# ECS-native blue/green, linear and canary services (issue 16): the same verbs and hooks, on
# a service whose deployments ECS runs (tests/iam_native_session.py records them).
NATIVE = "an ECS-native service"
NATIVE_PLAN = Part("plan", (RELEASE, READONLY), f"{NATIVE} (its hooks' functions looked up)")
NATIVE_DEPLOY = Part("deploy", (RELEASE,), f"{NATIVE} (UpdateService, its description a tag)")
NATIVE_WAIT = Part("wait", (RELEASE,), NATIVE)
NATIVE_PROMOTE = Part("promote", (RELEASE,), f"{NATIVE} paused by a PAUSE hook")
NATIVE_FINISH = Part("finish", (RELEASE,), f"{NATIVE} (refused: no request ends a bake time)")
NATIVE_ABORT = Part("abort", (RELEASE,), f"{NATIVE}, paused by a PAUSE hook or not")
NATIVE_ROLLBACK = Part("rollback", (RELEASE,), f"{NATIVE} (UpdateService to the revision before)")
NATIVE_RELEASE_RUN = Part(
    "release FILE",
    (RELEASE,),
    f"{NATIVE}: in flight when another fails, it is stopped (StopServiceDeployment); "
    "released, it is rolled back (`on_failure: rollback`)",
)
NATIVE_RELEASE_RESUME = Part("release resume FILE", (RELEASE,), NATIVE)
NATIVE_RELEASE_STATUS = Part("release status FILE", (RELEASE, READONLY), NATIVE)
NATIVE_RELEASE_PLAN = Part("release plan FILE", (RELEASE, READONLY), NATIVE)
NATIVE_INSPECT = Part("inspect", (READONLY,), NATIVE)
NATIVE_STATUS = Part("status", (READONLY,), NATIVE)
NATIVE_INVOKE = Part("hooks invoke", (HOOK,), "--native (an ECS-native hook)")
NATIVE_VERIFY_TEST = Part("verify_test_listener", (HOOK,), "an ECS-native hook", True)
NATIVE_VERIFY_PRODUCTION = Part("verify_production", (HOOK,), "an ECS-native hook", True)
NATIVE_RESTORE_HOOK = Part("restore_scaling.hook_handler", (HOOK,), "an ECS-native hook", True)
ANALYSIS_GATE = Part("analysis_gate", (HOOK,), handler=True)
ANALYSIS_GATE_OLD_EVENT = Part(
    "analysis_gate", (HOOK,), "an event without resourceArn (its deployment looked up)", True
)

# Moving a service from CodeDeploy to ECS-native blue/green and back (issue 17):
# tests/iam_migrate_session.py records them.
MIGRATE_PLAN = Part("migrate plan", (MIGRATE,))
"""--create-role; the hooks read from the group's last successful deployment's AppSpec."""
MIGRATE_PLAN_ROLE = Part("migrate plan", (MIGRATE,), "--role ARN (its trust policy read)")
MIGRATE_APPLY = Part("migrate apply", (MIGRATE,))
"""--role ARN: the record, the listener rules, UpdateService, the check."""
MIGRATE_APPLY_CREATE = Part(
    "migrate apply",
    (MIGRATE,),
    "--create-role NAME --hook-role ARN --appspec FILE --verify deploy (the role created, a "
    "no-op native deployment followed)",
)
MIGRATE_APPLY_FAILS = Part("migrate apply", (MIGRATE,), "CreateRule fails: what was done is undone")
MIGRATE_REVERT = Part("migrate revert", (MIGRATE,))
MIGRATE_REVERT_CREATED = Part(
    "migrate revert",
    (MIGRATE,),
    "after a native deployment swapped the target groups, with a created role (the listeners "
    "pointed at the live one, the role deleted)",
)
MIGRATE_REVERT_KILLED = Part(
    "migrate revert", (MIGRATE,), "an apply was killed after creating its rules"
)

PARTS = (
    PLAN,
    DEPLOY,
    DEPLOY_CONFIG,
    DEPLOY_SCAN,
    DEPLOY_FAILS,
    DEPLOY_REGISTER_5XX,
    DEPLOY_OVER_RECORD,
    WAIT,
    WAIT_ROLLBACK,
    PROMOTE,
    FINISH,
    ABORT,
    ROLLBACK,
    RECOVER,
    DEPLOY_ANALYSIS,
    WAIT_ANALYSIS,
    RELEASE_RUN,
    RELEASE_RUN_ROLLBACK,
    RELEASE_RUN_ROLE,
    RELEASE_RESUME,
    RELEASE_STATUS,
    RELEASE_STATUS_ROLE,
    RELEASE_PLAN,
    RELEASE_PLAN_ROLE,
    INSPECT,
    INSPECT_RULES,
    INSPECT_SCAN,
    STATUS,
    STATUS_SCALING,
    APPSPEC,
    SCHEDULE,
    VERIFY_TEST,
    VERIFY_PRODUCTION,
    RESTORE_HOOK,
    INVOKE,
    RESTORE_EVENT,
    RESTORE_EVENT_ROLLBACK,
    NATIVE_PLAN,
    NATIVE_DEPLOY,
    NATIVE_WAIT,
    NATIVE_PROMOTE,
    NATIVE_FINISH,
    NATIVE_ABORT,
    NATIVE_ROLLBACK,
    NATIVE_RELEASE_RUN,
    NATIVE_RELEASE_RESUME,
    NATIVE_RELEASE_STATUS,
    NATIVE_RELEASE_PLAN,
    NATIVE_INSPECT,
    NATIVE_STATUS,
    NATIVE_INVOKE,
    NATIVE_VERIFY_TEST,
    NATIVE_VERIFY_PRODUCTION,
    NATIVE_RESTORE_HOOK,
    ANALYSIS_GATE,
    ANALYSIS_GATE_OLD_EVENT,
    MIGRATE_PLAN,
    MIGRATE_PLAN_ROLE,
    MIGRATE_APPLY,
    MIGRATE_APPLY_CREATE,
    MIGRATE_APPLY_FAILS,
    MIGRATE_REVERT,
    MIGRATE_REVERT_CREATED,
    MIGRATE_REVERT_KILLED,
)
