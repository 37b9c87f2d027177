"""``bluegreen migrate plan|apply|revert``: move a service from CodeDeploy to ECS-native
blue/green, and back.

``plan`` changes nothing: it prints the mapping, the rules, the hooks, the role and every
problem (exit 2 when there are problems). ``apply`` plans afresh, then makes the changes in
the safe order, each step shown as it is done (a JSON object per line with ``--output
json``); any failure is undone before the error is reported. ``revert`` puts the service back
under CodeDeploy as its migration record says it was. A SIGTERM (a CI runner's kill) is
handled as Ctrl-C is: a half-done apply is undone first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluegreen.cli._exit_codes import EXIT_INVALID, EXIT_OK
from bluegreen.cli._options import add_aws_options

if TYPE_CHECKING:
    from bluegreen.migration_model import MigrationPlan, MigrationResult

VERIFY = ("describe", "deploy")
"""``bluegreen.migration_apply.VERIFY``, spelled out so building the parser imports nothing."""


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "migrate",
        help="move a service from CodeDeploy to ECS-native blue/green (plan, apply, revert)",
        description="Migrate an ECS service from CodeDeploy blue/green to ECS-native "
        "blue/green, linear or canary deployments (the deployment group's config, waits, "
        "hooks and alarms carried over), and back. The CodeDeploy deployment group is kept, "
        "unchanged: it is the way back. See docs/migrate.md.",
    )
    actions = parser.add_subparsers(dest="migrate_command", metavar="COMMAND", required=True)
    plan = actions.add_parser(
        "plan",
        help="show what apply would change, and every problem (changes nothing)",
        description="Read the service and its CodeDeploy deployment group and print what "
        "`bluegreen migrate apply` would change: the deployment controller, the strategy, "
        "bake time, hooks and alarms the group's settings become, the listener rules ECS will "
        "shift traffic with, the infrastructure role and its policy; then every problem "
        "(exit 2) and every behaviour that changes (--accept-differences on apply).",
    )
    _add_plan_options(plan)
    plan.set_defaults(run=run_plan)
    apply = actions.add_parser(
        "apply",
        help="migrate the service to ECS-native blue/green, undone if any step fails",
        description="Plan afresh, refuse (exit 2, nothing changed) on any problem, a "
        "deployment in flight or a difference not accepted; then record the service's "
        "CodeDeploy settings on it (tags), create the role (--create-role) and the listener "
        "rules, switch the deployment controller to ECS and verify. Any failure undoes "
        "what was done (exit 4; exit 1 when only the --verify deploy deployment failed).",
    )
    _add_plan_options(apply)
    apply.add_argument(
        "--accept-differences",
        action="store_true",
        help="migrate although some behaviour changes (the plan lists the differences)",
    )
    apply.add_argument(
        "--verify",
        choices=VERIFY,
        default="describe",
        help="describe (read the service and rules back, default) or deploy (also a no-op "
        "native deployment of the same task definition, followed to its end)",
    )
    apply.set_defaults(run=run_apply)
    revert = actions.add_parser(
        "revert",
        help="put a migrated service back under CodeDeploy, as it was",
        description="Refuse while a native deployment is in flight; point the listeners at "
        "the target group serving now, delete the rules (and the role) the migration "
        "created, switch the deployment controller back to CODE_DEPLOY with the recorded "
        "settings, and remove the record. Also finishes an apply that was killed half-way.",
    )
    revert.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    revert.add_argument("--service", required=True, help="ECS service name or ARN")
    _add_output_option(revert)
    add_aws_options(revert)
    revert.set_defaults(run=run_revert)


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", required=True, help="ECS cluster name or ARN")
    parser.add_argument("--service", required=True, help="ECS service name or ARN")
    parser.add_argument("--application", help="CodeDeploy application (default: found)")
    parser.add_argument("--deployment-group", help="CodeDeploy deployment group (default: found)")
    role = parser.add_mutually_exclusive_group()
    role.add_argument(
        "--role",
        metavar="ARN",
        help="the infrastructure role ECS deploys with (trusted by ecs.amazonaws.com; "
        "`bluegreen iam policy --for ecs-infrastructure` prints its policy)",
    )
    role.add_argument(
        "--create-role",
        metavar="NAME",
        help="create the infrastructure role under this name, with the least-privilege policy "
        "the plan shows (revert deletes it)",
    )
    parser.add_argument(
        "--hook-role",
        metavar="ARN",
        help="the role ECS invokes the hook functions with (default: the infrastructure role)",
    )
    parser.add_argument(
        "--appspec",
        metavar="FILE",
        help="the AppSpec whose hooks to carry over (default: the last successful "
        "deployment's, when CodeDeploy kept its content; an S3 revision needs this)",
    )
    _add_output_option(parser)
    add_aws_options(parser)


def _add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="text (default) or json (one JSON object per line, for CI)",
    )


# -- the commands -----------------------------------------------------------------------------


def run_plan(args: argparse.Namespace) -> int:
    plan = _plan(args)
    if args.output == "json":
        _emit(args, "plan", **plan.to_dict())
    else:
        print(plan.describe())
        if plan.ok:
            print(f"\nApply with: {_apply_command(args, plan)}")
    if not plan.ok:
        count = len(plan.problems)
        print(
            f"bluegreen: the plan has {count} problem{'s' if count != 1 else ''}; "
            "apply would refuse it",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return EXIT_OK


def run_apply(args: argparse.Namespace) -> int:
    from bluegreen.cli._aws_setup import clients_from
    from bluegreen.cli._clock import clock
    from bluegreen.cli.recover import sigterm_as_interrupt
    from bluegreen.migration_apply import apply_migration

    with _failures_told(args, "apply"), sigterm_as_interrupt():
        plan = _plan(args)
        if args.output == "json":
            _emit(args, "plan", **plan.to_dict())
        heading = (
            f"Migrating {plan.cluster}/{plan.service} from CodeDeploy to ECS-native blue/green"
        )
        result = apply_migration(
            plan,
            accept_differences=args.accept_differences,
            verify=args.verify,
            on_step=_step_teller(args, "apply", heading),
            clients=clients_from(args),
            clock=clock(),
        )
    _done(args, result)
    if args.output == "text":
        how = (
            f"a native deployment, {result.verify_deployment}"
            if result.verify_deployment
            else "reading the service and rules back"
        )
        print(
            f"Migrated: {plan.cluster}/{plan.service} deploys ECS-native now (verified by {how})."
        )
        print(f"Deploy as before: bluegreen deploy {_service_options(args)} --image IMAGE")
        print(f"Go back with:     bluegreen migrate revert {_service_options(args)}")
    return EXIT_OK


def run_revert(args: argparse.Namespace) -> int:
    from bluegreen.cli._aws_setup import clients_from
    from bluegreen.cli._clock import clock
    from bluegreen.cli.recover import sigterm_as_interrupt
    from bluegreen.migration_revert import revert_migration

    heading = f"Reverting {args.cluster}/{args.service} to CodeDeploy blue/green"
    with _failures_told(args, "revert"), sigterm_as_interrupt():
        result = revert_migration(
            args.cluster,
            args.service,
            on_step=_step_teller(args, "revert", heading),
            clients=clients_from(args),
            clock=clock(),
        )
    _done(args, result)
    if args.output == "text":
        checked = " (verified)" if result.verified else ""
        print(f"Reverted: {args.cluster}/{args.service} deploys through CodeDeploy again{checked}.")
    return EXIT_OK


# -- shared -----------------------------------------------------------------------------------


def _plan(args: argparse.Namespace) -> MigrationPlan:
    """The plan for the command line's service; a bad ``--appspec`` refused before any call."""
    from bluegreen.cli._aws_setup import clients_from
    from bluegreen.cli._clock import clock
    from bluegreen.migration_plan import plan_migration

    return plan_migration(
        args.cluster,
        args.service,
        application=args.application,
        deployment_group=args.deployment_group,
        role_arn=args.role,
        create_role=args.create_role,
        hook_role_arn=args.hook_role,
        appspec=_appspec(args.appspec),
        clients=clients_from(args),
        clock=clock(),
    )


def _appspec(path: str | None) -> str | None:
    """The text of ``--appspec FILE``."""
    if path is None:
        return None
    from bluegreen.errors import ValidationError

    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValidationError(
            [f"--appspec {path}: cannot be read ({reason}); give the AppSpec file's path"],
            subject="command line",
        ) from None


def _step_teller(args: argparse.Namespace, action: str, heading: str) -> Callable[[str], None]:
    """``on_step``: each step a line as it is done (``  - ...``) under ``heading``, printed
    with the first step (a refusal before any change prints only the error); or a JSON
    ``step`` object."""
    headed: list[bool] = []

    def told(step: str) -> None:
        if args.output == "json":
            _emit(args, "step", action=action, step=step)
            return
        if not headed:
            print(heading)
            headed.append(True)
        print(f"  - {step}", flush=True)

    return told


@contextlib.contextmanager
def _failures_told(args: argparse.Namespace, action: str) -> Iterator[None]:
    """With ``--output json``, a failure is also a ``failed`` JSON object (the error, what was
    undone) before the error goes on to its one line on stderr and its exit code."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as exc:
        if args.output == "json":
            _emit(
                args,
                "failed",
                action=action,
                error=type(exc).__name__,
                message=str(exc),
                undone=list(getattr(exc, "undone", ())),
            )
        raise


def _done(args: argparse.Namespace, result: MigrationResult) -> None:
    if args.output == "json":
        _emit(args, "done", exit_code=EXIT_OK, **result.to_dict())


def _emit(args: argparse.Namespace, kind: str, **fields: Any) -> None:
    from bluegreen.cli._clock import wall_clock

    record = {"type": kind, "timestamp": wall_clock()().isoformat(), **fields}
    print(json.dumps(record, default=str), flush=True)


def _service_options(args: argparse.Namespace) -> str:
    """``--cluster C --service S`` and the AWS options given, for a command to suggest."""
    words = [f"--cluster {args.cluster} --service {args.service}"]
    for flag, value in (
        ("--region", args.region),
        ("--profile", args.profile),
        ("--endpoint-url", args.endpoint_url),
    ):
        if value:
            words.append(f"{flag} {value}")
    return " ".join(words)


def _apply_command(args: argparse.Namespace, plan: MigrationPlan) -> str:
    """The apply command line for this plan (the options given, and the ones it needs)."""
    words = ["bluegreen migrate apply", _service_options(args)]
    for flag, value in (
        ("--application", args.application),
        ("--deployment-group", args.deployment_group),
        ("--role", args.role),
        ("--create-role", args.create_role),
        ("--hook-role", args.hook_role),
        ("--appspec", args.appspec),
    ):
        if value:
            words.append(f"{flag} {value}")
    if not args.role and not args.create_role:
        words.append("--create-role NAME")
    if plan.differences:
        words.append("--accept-differences")
    return " ".join(words)
