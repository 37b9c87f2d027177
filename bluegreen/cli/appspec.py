"""``bluegreen appspec``: render and check an AppSpec, from a file or from the live service."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluegreen.cli._aws_setup import clients_from
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_aws_options, add_service_options
from bluegreen.errors import AppSpecError, ValidationError

if TYPE_CHECKING:
    from bluegreen._aws import Clients


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "appspec",
        help="render and validate an ECS AppSpec",
        description="Render an AppSpec from a file or from the live service and a new task "
        "definition, validating it first. With --cluster and --service, the task definition "
        "is looked up in ECS (ecs:DescribeTaskDefinition) and must exist and be ACTIVE; its "
        "containers, port and image tags are checked too. A file is rendered offline unless "
        "--check. Nothing in AWS is changed.",
    )
    source = parser.add_argument_group("source (one of)")
    source.add_argument(
        "--from", dest="source", metavar="FILE", help="an AppSpec file (YAML or JSON)"
    )
    add_service_options(parser, required=False)
    parser.add_argument(
        "--task-definition",
        metavar="ARN",
        help="the task definition to deploy (replaces the file's)",
    )
    parser.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="EVENT=FUNCTION",
        help="add a hook, e.g. AfterAllowTestTraffic=CodeDeployHook_verify (repeatable)",
    )
    parser.add_argument(
        "--check-against",
        metavar="FILE",
        help="a task definition as JSON (describe-task-definition output or its taskDefinition) "
        "to check container, port and image tags against",
    )
    parser.add_argument(
        "--allow-mutable-image-tags",
        action="store_true",
        help="accept images tagged :latest (or untagged)",
    )
    parser.add_argument(
        "--check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="look up --task-definition in ECS (ecs:DescribeTaskDefinition): exit 2 if it "
        "does not exist or was deregistered. Default: on with --cluster/--service, off with "
        "--from; --no-check renders without calling AWS for it (offline)",
    )
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--sha256", action="store_true", help="also print the content's SHA-256")
    add_aws_options(parser)
    parser.set_defaults(run=run)


def _hooks(values: list[str]) -> dict[str, str]:
    hooks, problems = {}, []
    for value in values:
        event, sep, function = value.partition("=")
        if not sep:
            problems.append(f"--hook {value!r} must look like EVENT=FUNCTION")
        else:
            hooks[event.strip()] = function.strip()
    if problems:
        raise ValidationError(problems, subject="command line")
    return hooks


def _read(path: str, flag: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            [f"{flag} {path}: cannot read it ({exc})"], subject="command line"
        ) from None


def _task_definition(path: str) -> dict[str, Any]:
    """The task definition in ``path``: describe-task-definition output or its taskDefinition."""
    try:
        loaded = json.loads(_read(path, "--check-against"))
    except json.JSONDecodeError as exc:
        raise ValidationError(
            [f"--check-against {path}: not JSON ({exc})"], subject="command line"
        ) from None
    document = loaded.get("taskDefinition", loaded) if isinstance(loaded, dict) else None
    if not isinstance(document, dict):
        raise ValidationError(
            [f"--check-against {path}: expected a task definition (a JSON object)"],
            subject="command line",
        )
    return document


def run(args: argparse.Namespace) -> int:
    from bluegreen.appspec import AppSpec, Hook

    hooks = _hooks(args.hook)
    if bool(args.source) == bool(args.cluster or args.service):
        raise ValidationError(
            ["give either --from FILE or --cluster and --service"], subject="command line"
        )
    if (args.application is None) != (args.deployment_group is None):
        raise ValidationError(
            ["give --application and --deployment-group together, or neither"],
            subject="command line",
        )
    group = None
    clients = None
    if args.source:
        spec = AppSpec.parse(_read(args.source, "--from"))
        if args.task_definition:
            spec = spec.with_task_definition(args.task_definition)
        if hooks:
            extra = tuple(Hook(e, f) for e, f in hooks.items())
            merged = {h.event: h for h in (*spec.hooks, *extra)}
            spec = AppSpec(**{**_fields(spec), "hooks": tuple(merged.values())})
    else:
        if not (args.cluster and args.service and args.task_definition):
            raise ValidationError(
                ["--cluster, --service and --task-definition are all needed for a live AppSpec"],
                subject="command line",
            )
        from bluegreen.discovery import discover

        clients = clients_from(args)
        state = discover(
            args.cluster,
            args.service,
            application=args.application,
            deployment_group=args.deployment_group,
            clients=clients,
        )
        spec = AppSpec.for_service(state, args.task_definition, hooks=hooks)
        group = state.deployment_group
    task_definition = _task_definition(args.check_against) if args.check_against else None
    problems: list[str] = []
    check = args.check if args.check is not None else not args.source
    if check and args.task_definition:
        described = _describe(clients or clients_from(args), spec.task_definition, problems)
        if task_definition is None:
            task_definition = described
    elif check and args.source:
        raise ValidationError(
            ["--check looks up --task-definition: give one, or leave --check out"],
            subject="command line",
        )
    problems += spec.problems(
        task_definition=task_definition,
        deployment_group=group,
        allow_mutable_image_tags=args.allow_mutable_image_tags,
    )
    if problems:
        raise AppSpecError(problems)
    sys.stdout.write(spec.render(args.format))
    if args.sha256:
        print(f"# sha256: {spec.sha256(args.format)}", file=sys.stderr)
    return EXIT_OK


def _describe(clients: Clients, arn: str, problems: list[str]) -> dict[str, Any] | None:
    """The task definition ``arn`` as ECS describes it; one that is missing or INACTIVE is a
    problem (and None). Throttling, access denied and outages are raised (exit 4)."""
    from bluegreen._aws import Caller
    from bluegreen.cli._clock import clock
    from bluegreen.errors import (
        AccessDeniedError,
        AWSError,
        ServiceUnavailableError,
        ThrottledError,
    )

    region = clients.ecs.meta.region_name
    offline = "or add --no-check to render it without looking it up"
    injected = clock()
    call = Caller(clock=injected) if injected is not None else Caller()
    try:
        answer = call(
            "DescribeTaskDefinition", clients.ecs.describe_task_definition, taskDefinition=arn
        )
        described = dict(answer["taskDefinition"])
    except (AccessDeniedError, ThrottledError, ServiceUnavailableError):
        raise
    except AWSError as exc:
        problems.append(
            f"task definition {arn!r} does not exist in {region} "
            f"(ecs:DescribeTaskDefinition: {exc.message}): register it first or give the ARN "
            f"of a registered revision (aws ecs list-task-definitions), {offline}"
        )
        return None
    status = described.get("status")
    if status not in (None, "ACTIVE"):
        problems.append(
            f"task definition {described.get('taskDefinitionArn', arn)} was deregistered "
            f"({status}); CodeDeploy cannot start tasks from it: register it again or give an "
            f"ACTIVE revision, {offline}"
        )
        return None
    return described


def _fields(spec: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(spec, recurse=False)
