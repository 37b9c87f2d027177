"""The ``bluegreen`` command. One module per sub-command.

Exit codes, for scripts:

==  ==========================================================================
0   success
1   the deployment failed, was stopped or was rolled back (only that)
2   invalid input or configuration, found before anything changed: bad arguments, an
    invalid AppSpec or traffic configuration, a control that does not apply to the
    deployment's status (promote before Ready), no region, no credentials, an unknown
    profile, an invalid ``--endpoint-url``, a missing extra (``bluegreen[sim]``)
3   timed out waiting (the deployment goes on in AWS)
4   an AWS call failed (not found, access denied, throttled, unavailable) or AWS could
    not be reached (the network failed after the retries); retrying may help
5   an unexpected error inside bluegreen: a bug (``BLUEGREEN_DEBUG=1`` shows the
    traceback); please report it
130 interrupted (Ctrl-C); the deployment goes on in AWS
==  ==========================================================================

Every failure is one line on stderr, never a traceback.

Every AWS command takes ``--endpoint-url`` (or ``BLUEGREEN_ENDPOINT_URL``; boto3 itself reads
``AWS_ENDPOINT_URL``) so it runs against ``bluegreen sim serve``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bluegreen._advice import set_audience
from bluegreen.errors import (
    AWSError,
    BlueGreenError,
    ConfigurationError,
    DeploymentError,
    DeploymentStateError,
    ResourceNotFoundError,
    ValidationError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from bluegreen._aws import Clients
    from bluegreen.clock import Clock
    from bluegreen.deployment import Deployment

EXIT_OK = 0
EXIT_DEPLOYMENT_FAILED = 1
EXIT_INVALID = 2
EXIT_TIMEOUT = 3
EXIT_AWS_ERROR = 4
EXIT_INTERNAL_ERROR = 5
EXIT_INTERRUPTED = 130

DEBUG_VARIABLE = "BLUEGREEN_DEBUG"

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

_clock_factory: Callable[[], Clock] | None = None
"""Tests set this to return the simulator's virtual clock, so waits advance simulated time
instead of sleeping. Its ``time()`` is the local clock waits sleep on; the time shown is the
server's (each response's ``Date`` header, ``bluegreen.server_time``), and the clock's
``wall_time()`` (or ``time()``) only stands in for it until a header has been read. None: the
real clock."""


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
        help="the CodeDeploy deployment, d-XXXXXXXXX (default: the service's deployment "
        "in flight, else its last one)",
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


def add_wait_options(
    parser: argparse.ArgumentParser, *, until: bool = True, intervals: bool = True
) -> None:
    """``--until``, ``--timeout`` and the polling interval bounds."""
    if until:
        parser.add_argument(
            "--until",
            choices=MILESTONES,
            default="end",
            metavar="MILESTONE",
            help=f"return once the deployment reaches this point: {', '.join(MILESTONES)} "
            "(default end)",
        )
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="give up waiting after this long and exit 3; the deployment goes on "
        "(default: no limit)",
    )
    if not intervals:
        return
    parser.add_argument(
        "--min-interval",
        type=_positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="the shortest pause between two status reads (default 5)",
    )
    parser.add_argument(
        "--max-interval",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="the longest pause between two status reads, during long bakes (default 60)",
    )


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number of seconds")
    return seconds


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


def clients_from(args: argparse.Namespace) -> Clients:
    """The clients for ``--region``, ``--profile`` and ``--endpoint-url``; the set-up is
    checked here, before any call.

    Raises:
        ConfigurationError: an unknown profile, an invalid region name or endpoint URL.
    """
    import boto3

    from bluegreen._aws import Clients, check_endpoint_url, translate_errors

    # AWS_REGION counts as it does for the AWS CLI v2 and the SDKs (botocore reads only
    # AWS_DEFAULT_REGION and the profile).
    region = args.region or os.environ.get("AWS_REGION") or None
    endpoint_url = args.endpoint_url or os.environ.get(ENDPOINT_URL_VARIABLE) or None
    if endpoint_url:
        check_endpoint_url(endpoint_url)
    with translate_errors():
        session = boto3.Session(region_name=region, profile_name=args.profile)
    return Clients(session=session, endpoint_url=endpoint_url)


def clock() -> Clock | None:
    """The clock every wait reads: None (the real one) unless a test injected one."""
    return _clock_factory() if _clock_factory is not None else None


def wall_clock() -> Callable[[], dt.datetime]:
    """The time of day for the live view and the JSON events: simulated time under a test's
    clock (so durations agree with the simulator's timestamps), else the system's."""
    injected = clock()
    if injected is None:
        return lambda: dt.datetime.now(dt.UTC)
    seconds = getattr(injected, "wall_time", injected.time)
    return lambda: dt.datetime.fromtimestamp(seconds(), dt.UTC)


def deployment_from(args: argparse.Namespace, *, clients: Clients | None = None) -> Deployment:
    """The deployment a command acts on: ``--deployment-id``, else the service's deployment
    in flight, else the deployment group's last one (which a control then refuses clearly).

    Raises:
        ValidationError: neither ``--deployment-id`` nor ``--cluster`` and ``--service``.
        ResourceNotFoundError: the service has no deployment group or never had a deployment.
    """
    from bluegreen.deployment import NO_ACTIVE_DEPLOYMENT, Deployment

    check_group_options(args)
    aws = clients if clients is not None else clients_from(args)
    if args.deployment_id:
        return Deployment.attach(args.deployment_id, clients=aws, clock=clock())
    if not (args.cluster and args.service):
        raise ValidationError(
            ["give --deployment-id, or --cluster and --service to pick the service's deployment"],
            subject="command line",
        )
    try:
        return Deployment.current(
            args.cluster,
            args.service,
            application=args.application,
            deployment_group=args.deployment_group,
            clients=aws,
            clock=clock(),
        )
    except ResourceNotFoundError as exc:
        if exc.code != NO_ACTIVE_DEPLOYMENT:
            raise
        last = last_deployment_id(args, aws)
        if last is None:
            raise
        return Deployment.attach(last, clients=aws, clock=clock())


def last_deployment_id(args: argparse.Namespace, clients: Clients) -> str | None:
    """The deployment group's last attempted deployment of ``--cluster``/``--service``."""
    from bluegreen.discovery import discover

    state = discover(
        args.cluster,
        args.service,
        application=args.application,
        deployment_group=args.deployment_group,
        clients=clients,
    )
    group = state.deployment_group
    return group.last_attempted_deployment_id if group is not None else None


def reattach_hint(args: argparse.Namespace, deployment_id: str) -> str:
    """The command that follows ``deployment_id`` again, with this command's AWS options."""
    return _command_hint(args, "wait", deployment_id)


def status_hint(args: argparse.Namespace, deployment_id: str) -> str:
    """The command that shows ``deployment_id``, with this command's AWS options."""
    return _command_hint(args, "status", deployment_id)


def _command_hint(args: argparse.Namespace, command: str, deployment_id: str) -> str:
    words = ["bluegreen", command, "--deployment-id", deployment_id]
    for flag in ("region", "profile", "endpoint_url"):
        value = getattr(args, flag, None)
        if value:
            words += [f"--{flag.replace('_', '-')}", value]
    return " ".join(words)


def build_parser() -> argparse.ArgumentParser:
    from bluegreen.cli import (
        abort,
        appspec,
        demo,
        deploy,
        finish,
        hooks,
        inspect,
        plan,
        promote,
        recover,
        rollback,
        schedule,
        sim,
        status,
        wait,
    )

    parser = argparse.ArgumentParser(
        prog="bluegreen",
        description="Amazon ECS blue/green deployments through AWS CodeDeploy.",
        epilog="Exit codes: 0 ok, 1 deployment failed/stopped/rolled back, 2 invalid input "
        "or configuration (arguments, region, credentials, endpoint) or a control that does "
        "not apply, 3 timed out, 4 AWS error or AWS unreachable, 5 a bug in bluegreen, "
        "130 interrupted.",
    )
    from bluegreen import __version__

    parser.add_argument("--version", action="version", version=f"bluegreen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (
        demo,
        deploy,
        plan,
        status,
        wait,
        promote,
        finish,
        abort,
        rollback,
        recover,
        appspec,
        inspect,
        schedule,
        sim,
        hooks,
    ):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code. Messages give command-line advice (flags, not
    keyword arguments) from here on."""
    previous = set_audience("cli")
    try:
        return _main(argv)
    finally:
        set_audience(previous)  # main() called from Python (a test, a script) hands it back


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        from botocore.exceptions import BotoCoreError

        if isinstance(exc, BotoCoreError):  # one that escaped translate_errors
            from bluegreen._aws import translate

            error = translate(exc)
            print(f"bluegreen: {error}", file=sys.stderr)
            return EXIT_INVALID if isinstance(error, ConfigurationError) else EXIT_AWS_ERROR
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(
            f"bluegreen: unexpected error ({type(exc).__name__}: {exc}); this is a bug in "
            f"bluegreen: run again with {DEBUG_VARIABLE}=1 for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.run(args)
    except ValidationError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except DeploymentError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_DEPLOYMENT_FAILED
    except DeploymentStateError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except WaitTimeoutError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        print(
            f"bluegreen: the deployment goes on in AWS; follow it again with: "
            f"{reattach_hint(args, exc.deployment_id)}",
            file=sys.stderr,
        )
        return EXIT_TIMEOUT
    except AWSError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_AWS_ERROR
    except ConfigurationError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BlueGreenError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("bluegreen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code
