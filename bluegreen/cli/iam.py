"""``bluegreen iam policy``: a least-privilege IAM policy for what bluegreen does.

stdout carries only the policy (JSON, or a table with ``--output text``), so a script can pipe
it into ``aws iam put-role-policy``; the notes (why each wildcard, what to replace) go to
stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_aws_options

if TYPE_CHECKING:
    from bluegreen.iam import IamPolicy

FEATURES = ("release", "readonly", "hook", "safety-net", "migrate")
"""``bluegreen.iam.FEATURES``, spelled out so building the parser imports nothing."""

ECS_INFRASTRUCTURE = "ecs-infrastructure"
"""Not a role of bluegreen's: the role ECS itself deploys an ECS-native service with
(``bluegreen.iam_infrastructure``), its ARNs read from the service (``--cluster``,
``--service`` required)."""


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "iam",
        help="print a least-privilege IAM policy for a release role, a hook or the safety net",
        description="IAM policies generated from the AWS calls bluegreen makes.",
    )
    iam_commands = parser.add_subparsers(dest="iam_command", metavar="COMMAND", required=True)
    policy = iam_commands.add_parser(
        "policy",
        help="print the IAM policy one feature needs",
        description="Print a least-privilege IAM policy (JSON on stdout, notes on stderr) for "
        "release (plan, deploy, wait, promote, finish, abort, rollback, recover, release FILE "
        "and its status, resume, plan), readonly (inspect, status, plan, appspec, schedule, "
        "release status, release plan), hook (a hook function's role) or "
        "safety-net (the restore_scaling EventBridge function's role), migrate (migrate plan, "
        "apply, revert: the group's listener rules and the infrastructure role); or "
        "ecs-infrastructure: "
        "the role ECS itself needs for an ECS-native service (or one `bluegreen migrate` "
        "moves there), scoped to its target groups, listeners, rules and hook functions. With "
        "--cluster and --service the ARNs are read from AWS; without, placeholders in "
        "capitals stand for them (ecs-infrastructure needs them).",
    )
    policy.add_argument(
        "--for",
        dest="feature",
        required=True,
        choices=(*FEATURES, ECS_INFRASTRUCTURE),
        help="what the role does",
    )
    policy.add_argument("--cluster", help="ECS cluster name or ARN (with --service)")
    policy.add_argument("--service", help="ECS service name or ARN (with --cluster)")
    policy.add_argument("--application", help="CodeDeploy application (default: found)")
    policy.add_argument("--deployment-group", help="CodeDeploy deployment group (default: found)")
    policy.add_argument(
        "--hook-function",
        action="append",
        default=[],
        metavar="NAME",
        help="a Lambda function your deployments name as a hook, which plan and deploy look up "
        "(repeatable; default CodeDeployHook_*)",
    )
    policy.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ARN",
        help="an IAM role your release manifests name (role:), which `bluegreen release` "
        "assumes (repeatable; default a placeholder that matches no role); with --for "
        "migrate: the infrastructure role and the hook role the migration passes to ECS",
    )
    policy.add_argument(
        "--hook-role",
        action="append",
        default=[],
        metavar="ARN",
        help="a role ECS invokes your Lambda hooks with, which an ECS-native deploy passes to "
        "ECS with --hook/--hook-role (repeatable; default the service's hooks' roles)",
    )
    policy.add_argument(
        "--output",
        choices=("json", "text"),
        default="json",
        help="json (the policy document, default) or text (a table)",
    )
    add_aws_options(policy)
    policy.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli._aws_setup import clients_from
    from bluegreen.cli._clock import clock
    from bluegreen.iam import iam_policy

    reads = args.cluster is not None and args.service is not None
    if args.feature == ECS_INFRASTRUCTURE:
        policy = _infrastructure_policy(args, reads)
    else:
        policy = iam_policy(
            args.feature,
            args.cluster,
            args.service,
            application=args.application,
            deployment_group=args.deployment_group,
            hook_functions=tuple(args.hook_function),
            roles=tuple(args.role),
            hook_roles=tuple(args.hook_role),
            clients=clients_from(args) if reads else None,
            clock=clock(),
        )
    if args.output == "json":
        print(policy.to_json())
    else:
        print(table(policy.document))
    for note in policy.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def _infrastructure_policy(args: argparse.Namespace, reads: bool) -> IamPolicy:
    """The ECS infrastructure role's policy of the service ``--cluster``/``--service`` names."""
    from bluegreen.cli._aws_setup import clients_from
    from bluegreen.cli._clock import clock
    from bluegreen.errors import ValidationError
    from bluegreen.iam_infrastructure import service_infrastructure_policy

    problems = []
    if not reads:
        problems.append(
            f"--for {ECS_INFRASTRUCTURE} reads the service's target groups, listeners and "
            "rules: give --cluster and --service"
        )
    if args.role:
        problems.append(
            f"--role names roles `bluegreen release` assumes; --for {ECS_INFRASTRUCTURE} "
            "takes none (leave it out)"
        )
    if problems:
        raise ValidationError(problems, subject="IAM policy request")
    return service_infrastructure_policy(
        args.cluster,
        args.service,
        application=args.application,
        deployment_group=args.deployment_group,
        hook_functions=tuple(args.hook_function),
        clients=clients_from(args),
        clock=clock(),
    )


def table(document: dict[str, Any]) -> str:
    """The policy as a table: a statement's id, its actions one per line, its resources."""
    rows = [("statement", "action", "resource")]
    for statement in document["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else list(resources)
        condition = statement.get("Condition")
        if condition:
            resources.append(f"if {json.dumps(condition, separators=(',', ':'))}")
        actions = list(statement["Action"])
        for index in range(max(len(actions), len(resources))):
            rows.append(
                (
                    statement["Sid"] if index == 0 else "",
                    actions[index] if index < len(actions) else "",
                    resources[index] if index < len(resources) else "",
                )
            )
    widths = [max(len(row[column]) for row in rows) for column in (0, 1)]
    return "\n".join(
        f"{sid:<{widths[0]}}  {action:<{widths[1]}}  {resource}".rstrip()
        for sid, action, resource in rows
    )
