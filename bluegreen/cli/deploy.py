"""``bluegreen deploy``: deploy a new image or task definition, and follow it to the end."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bluegreen.cli._analysis import add_analysis_option, analysis_from
from bluegreen.cli._aws_setup import clients_from
from bluegreen.cli._clock import clock
from bluegreen.cli._hints import reattach_hint
from bluegreen.cli._options import (
    add_aws_options,
    add_output_option,
    add_service_options,
    add_wait_options,
    check_group_options,
    parse_pairs,
    wait_option_problems,
)
from bluegreen.cli._telling import add_telling_options, telling_problems
from bluegreen.errors import ValidationError

ROLLBACK_EVENTS = (
    "DEPLOYMENT_FAILURE",
    "DEPLOYMENT_STOP_ON_ALARM",
    "DEPLOYMENT_STOP_ON_REQUEST",
)


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """What to deploy and how: shared by ``deploy`` and ``plan``."""
    add_service_options(parser)
    what = parser.add_argument_group("what to deploy (one of)")
    what.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="[CONTAINER=]URI",
        help="the new image: URI for a one-container task, or CONTAINER=URI (repeatable) "
        "to change several; a new task-definition revision is registered from the "
        "current one with only the images changed",
    )
    what.add_argument(
        "--task-definition", metavar="ARN", help="a task definition already registered"
    )
    parser.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="EVENT=FUNCTION",
        help="run a Lambda function at a lifecycle event, e.g. "
        "AfterAllowTestTraffic=CodeDeployHook_verify (repeatable); on an ECS-native service "
        "the event becomes its stage (BeforeInstall=PRE_SCALE_UP, ...)",
    )
    parser.add_argument(
        "--hook-role",
        metavar="ARN",
        help="ECS-native services: the role ECS assumes to invoke the --hook functions "
        "(default: the role of the service's own Lambda hooks)",
    )
    traffic = parser.add_mutually_exclusive_group()
    traffic.add_argument(
        "--config",
        metavar="NAME",
        help="the deployment config, e.g. CodeDeployDefault.ECSCanary10Percent5Minutes "
        "(default: the deployment group's)",
    )
    traffic.add_argument(
        "--canary",
        metavar="PERCENT/MINUTES",
        help="a custom canary config, e.g. 20/10: 20%% of production traffic, the rest 10 "
        "minutes later (created in CodeDeploy by deploy if it does not exist)",
    )
    traffic.add_argument(
        "--linear",
        metavar="PERCENT/MINUTES",
        help="a custom linear config, e.g. 25/2: 25%% more production traffic every 2 minutes "
        "(created in CodeDeploy by deploy if it does not exist)",
    )
    rollback = parser.add_mutually_exclusive_group()
    rollback.add_argument(
        "--rollback-events",
        metavar="EVENT,EVENT",
        help=f"roll back automatically on these events: {', '.join(ROLLBACK_EVENTS)} "
        "(default: the deployment group's setting)",
    )
    rollback.add_argument(
        "--no-rollback",
        action="store_true",
        help="no automatic rollback for this deployment",
    )
    scaling = parser.add_mutually_exclusive_group()
    scaling.add_argument(
        "--suspend-scaling",
        metavar="KINDS",
        default="in,out,scheduled",
        help="suspend these kinds of autoscaling for the deployment, comma-separated: in, "
        "out, scheduled (default all three); the state before is recorded on the service "
        "and restored when the deployment ends",
    )
    scaling.add_argument(
        "--no-suspend-scaling",
        dest="suspend_scaling",
        action="store_const",
        const="",
        help="leave autoscaling alone during the deployment",
    )
    parser.add_argument("--description", help="the deployment's description in CodeDeploy")
    parser.add_argument(
        "--allow-mutable-image-tags",
        action="store_true",
        help="accept images tagged :latest (or untagged)",
    )
    parser.add_argument(
        "--no-check-hooks",
        dest="check_hooks",
        action="store_false",
        help="do not look up the hooks' Lambda functions (lambda:GetFunction) before "
        "deploying; by default a missing function, or a GetFunction that is refused, stops "
        "the deployment before anything changes",
    )
    add_aws_options(parser)


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "deploy",
        help="deploy a new image or task definition and follow it to the end",
        description="Register a task-definition revision with the new image(s) (or take "
        "--task-definition), check the service and its deployment group, create the "
        "CodeDeploy deployment (on an ECS-native service: UpdateService) and follow it: a "
        "live view on a terminal, a line per change "
        "otherwise, JSON lines with --output json. Waits for the end unless --no-wait or "
        "--until. Exit 0 on success, 1 when the deployment fails or is rolled back, 3 on "
        "--timeout (the deployment goes on).",
    )
    add_selection_options(parser)
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="print the deployment id and return once the deployment exists",
    )
    add_analysis_option(parser)
    add_wait_options(parser)
    add_telling_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def selection(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``bluegreen.deploying.deploy``/``plan`` from the command line.

    Raises:
        ValidationError: every problem with the arguments, before any AWS call.
    """
    check_group_options(args)
    problems: list[str] = []
    image: str | dict[str, str] | None = None
    if bool(args.image) == bool(args.task_definition):
        problems.append(
            "give --image (once, or as CONTAINER=URI per container) or --task-definition"
        )
    elif args.image:
        image = _images(args.image, problems)
        if image:
            from bluegreen.arguments import image_problems

            problems += image_problems(image)
    hooks = parse_pairs(args.hook, "--hook", "EVENT=FUNCTION") if args.hook else None
    auto_rollback: bool | list[str] | None = None
    if args.no_rollback:
        auto_rollback = False
    elif args.rollback_events is not None:
        events = [e.strip().upper() for e in args.rollback_events.split(",") if e.strip()]
        unknown = [e for e in events if e not in ROLLBACK_EVENTS]
        if unknown or not events:
            problems.append(
                f"--rollback-events {args.rollback_events!r}: give a comma-separated list of "
                f"{', '.join(ROLLBACK_EVENTS)} (or --no-rollback)"
            )
        auto_rollback = events
    suspend_scaling: bool | list[str] = False
    if args.suspend_scaling:
        suspend_scaling = [k.strip() for k in args.suspend_scaling.split(",") if k.strip()]
        unknown = [k for k in suspend_scaling if k not in ("in", "out", "scheduled")]
        if unknown or not suspend_scaling:
            problems.append(
                f"--suspend-scaling {args.suspend_scaling!r}: give a comma-separated list of "
                "in, out, scheduled (or --no-suspend-scaling)"
            )
    traffic_config = _traffic_config(args, problems)
    problems += wait_option_problems(args)
    problems += telling_problems(args)
    analysis = analysis_from(args, problems)
    if analysis is not None and not getattr(args, "wait", True):
        problems.append(
            "--analysis runs while bluegreen follows the deployment: leave out --no-wait, or "
            "follow it later with `bluegreen wait --analysis ...`"
        )
    if problems:
        raise ValidationError(problems, subject="command line")
    extra: dict[str, Any] = {"analysis": analysis} if analysis is not None else {}
    if getattr(args, "hook_role", None) is not None:
        extra["hook_role"] = args.hook_role
    return {
        **extra,
        "suspend_scaling": suspend_scaling,
        "image": image,
        "task_definition": args.task_definition,
        "hooks": hooks,
        "traffic_config": traffic_config,
        "auto_rollback": auto_rollback,
        "description": args.description,
        "application": args.application,
        "deployment_group": args.deployment_group,
        "allow_mutable_image_tags": args.allow_mutable_image_tags,
        "check_hooks": args.check_hooks,
    }


def _traffic_config(args: argparse.Namespace, problems: list[str]) -> Any:
    """``--config NAME`` as a name, ``--canary``/``--linear PERCENT/MINUTES`` as a
    ``TrafficConfig`` (which deploy creates in CodeDeploy when it does not exist)."""
    from bluegreen.cli.schedule import parse_percent_minutes
    from bluegreen.errors import TrafficConfigError
    from bluegreen.traffic import TrafficConfig

    for flag, value, build in (
        ("--canary", args.canary, TrafficConfig.canary),
        ("--linear", args.linear, TrafficConfig.linear),
    ):
        if value is None:
            continue
        try:
            return build(*parse_percent_minutes(value, flag))
        except TrafficConfigError as exc:
            problems += [f"{flag} {value}: {p}" for p in exc.problems]
            return None
        except ValidationError as exc:
            problems += exc.problems
            return None
    return args.config


def _images(values: list[str], problems: list[str]) -> str | dict[str, str] | None:
    """One URI, or ``{container: URI}`` when every value is CONTAINER=URI."""
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    images: dict[str, str] = {}
    for value in values:
        container, sep, uri = value.partition("=")
        if not sep or not container.strip() or not uri.strip():
            problems.append(
                f"--image {value!r}: with several --image options each must look like CONTAINER=URI"
            )
        elif container.strip() in images:
            problems.append(f"--image names container {container.strip()!r} twice")
        else:
            images[container.strip()] = uri.strip()
    return images


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli.recover import sigterm_as_interrupt

    with sigterm_as_interrupt():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from bluegreen.cli._progress import follow
    from bluegreen.cli.wait import follow_to_milestone
    from bluegreen.deploying import deploy

    kwargs = selection(args)
    aws = clients_from(args)
    try:
        deployment = deploy(args.cluster, args.service, clients=aws, clock=clock(), **kwargs)
    except KeyboardInterrupt as exc:
        for note in getattr(exc, "__notes__", ()):  # what deploy restored on its way out
            print(f"bluegreen: {note}", file=sys.stderr)
        raise
    if not args.wait:
        code = follow(args, deployment.id, lambda reporter: None, now=deployment.server_now)
        print(
            f"bluegreen: started {deployment.id}; follow it with: "
            f"{reattach_hint(args, deployment.id)}",
            file=sys.stderr,
        )
        return code

    return follow_to_milestone(args, deployment)
