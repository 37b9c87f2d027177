"""The options and argument checks sub-commands share: the AWS options (``--region``,
``--profile``, ``--endpoint-url``), the service and deployment selection, ``--output``, the
wait options, and ``KEY=VALUE`` pairs. Building them imports nothing heavy."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from bluegreen.errors import ValidationError

ENDPOINT_URL_VARIABLE = "BLUEGREEN_ENDPOINT_URL"

MILESTONES = (
    "installed",
    "test_traffic",
    "ready",
    "traffic_shifted",
    "termination_wait",
    "end",
)
"""``Milestone`` values, spelled out so building the parser imports nothing."""


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    """``--region``, ``--profile`` and ``--endpoint-url``, shared by every AWS command."""
    group = parser.add_argument_group("AWS")
    group.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    group.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")
    group.add_argument(
        "--endpoint-url",
        help="send every AWS call here, e.g. the URL `bluegreen sim serve` prints "
        f"(default: {ENDPOINT_URL_VARIABLE}; boto3 also reads AWS_ENDPOINT_URL)",
    )


def add_service_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--cluster", required=required, help="ECS cluster name or ARN")
    parser.add_argument("--service", required=required, help="ECS service name or ARN")
    parser.add_argument("--application", help="CodeDeploy application (default: found)")
    parser.add_argument("--deployment-group", help="CodeDeploy deployment group (default: found)")


def add_deployment_options(parser: argparse.ArgumentParser) -> None:
    """``--deployment-id``, or the service whose deployment to pick (plus the AWS options)."""
    parser.add_argument(
        "--deployment-id",
        metavar="ID",
        help="the CodeDeploy deployment, d-XXXXXXXXX, or an ECS service deployment ARN "
        "(default: the service's deployment in flight, else its last one)",
    )
    add_service_options(parser, required=False)
    add_aws_options(parser)


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="text (a live view on a terminal, a line per change otherwise) or json "
        "(one JSON object per line, for CI)",
    )


def milestone(value: str) -> str:
    """``--until``: a milestone, or ``ecs:<STAGE>`` naming an ECS lifecycle stage."""
    if value in MILESTONES:
        return value
    from bluegreen.native_status import StageMilestone

    stage = StageMilestone.parse(value)
    if stage is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a milestone: use one of {', '.join(MILESTONES)}, or an ECS "
            f"lifecycle stage: {', '.join(StageMilestone.names())}"
        )
    return str(stage)


def add_wait_options(
    parser: argparse.ArgumentParser, *, until: bool = True, intervals: bool = True
) -> None:
    """``--until``, ``--timeout`` and the polling interval bounds."""
    if until:
        parser.add_argument(
            "--until",
            type=milestone,
            default="end",
            metavar="MILESTONE",
            help=f"return once the deployment reaches this point: {', '.join(MILESTONES)} "
            "(default end), or, for an ECS-native deployment, a lifecycle stage ecs:<STAGE> "
            "(ecs:POST_TEST_TRAFFIC_SHIFT, ecs:BAKE_TIME, ...)",
        )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="give up waiting after this long and exit 3; the deployment goes on "
        "(default: no limit)",
    )
    if not intervals:
        return
    parser.add_argument(
        "--min-interval",
        type=positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="the shortest pause between two status reads (default 5)",
    )
    parser.add_argument(
        "--max-interval",
        type=positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="the longest pause between two status reads, during long bakes (default 60)",
    )


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number of seconds")
    return seconds


def wait_option_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with ``--until``, ``--timeout``, the interval bounds and ``--no-wait``
    together: checked before the command changes or reads anything."""
    problems = []
    low, high = getattr(args, "min_interval", None), getattr(args, "max_interval", None)
    if low is not None and high is not None and low > high:
        problems.append(
            f"--min-interval {low:g} is more than --max-interval {high:g}: the shortest pause "
            f"cannot be longer than the longest; give --min-interval at most {high:g}, or a "
            "larger --max-interval"
        )
    if getattr(args, "wait", True) is False:
        given = [
            flag
            for flag, value, default in (
                ("--until", getattr(args, "until", "end"), "end"),
                ("--timeout", getattr(args, "timeout", None), None),
            )
            if value != default
        ]
        if given:
            problems.append(f"--no-wait returns at once: leave out {' and '.join(given)}")
    return problems


def check_wait_options(args: argparse.Namespace, *, extra: list[str] | None = None) -> None:
    """Raise ``ValidationError`` listing ``wait_option_problems`` (and ``extra``)."""
    problems = wait_option_problems(args) + (extra or [])
    if problems:
        raise ValidationError(problems, subject="command line")


def parse_pairs(values: Sequence[str], flag: str, shape: str) -> dict[str, str]:
    """``["A=B", ...]`` as ``{"A": "B"}``; every malformed value is reported at once."""
    pairs, problems = {}, []
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip() or not item.strip():
            problems.append(f"{flag} {value!r} must look like {shape}")
        else:
            pairs[key.strip()] = item.strip()
    if problems:
        raise ValidationError(problems, subject="command line")
    return pairs


def check_group_options(args: argparse.Namespace) -> None:
    """``--application`` and ``--deployment-group`` come together or not at all."""
    if (args.application is None) != (args.deployment_group is None):
        raise ValidationError(
            ["give --application and --deployment-group together, or neither"],
            subject="command line",
        )
