"""The ``bluegreen`` command. One module per sub-command.

Exit codes, for scripts:

==  ==========================================================================
0   success
1   the deployment failed, was stopped or was rolled back
2   invalid input: bad arguments, an invalid AppSpec or traffic configuration
3   timed out waiting
4   an AWS call failed (not found, access denied, throttled, unavailable)
==  ==========================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bluegreen.errors import AWSError, BlueGreenError, DeploymentError, ValidationError

if TYPE_CHECKING:
    from bluegreen._aws import Clients

EXIT_OK = 0
EXIT_DEPLOYMENT_FAILED = 1
EXIT_INVALID = 2
EXIT_TIMEOUT = 3
EXIT_AWS_ERROR = 4


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    """``--region``, ``--profile`` and ``--endpoint-url``, shared by every AWS command."""
    group = parser.add_argument_group("AWS")
    group.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    group.add_argument("--profile", help="AWS profile (default: AWS_PROFILE)")
    group.add_argument(
        "--endpoint-url",
        help="send every AWS call here, e.g. the URL `bluegreen sim serve` prints "
        "(boto3 also reads AWS_ENDPOINT_URL)",
    )


def add_service_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument("--cluster", required=required, help="ECS cluster name or ARN")
    parser.add_argument("--service", required=required, help="ECS service name or ARN")
    parser.add_argument("--application", help="CodeDeploy application (default: found)")
    parser.add_argument("--deployment-group", help="CodeDeploy deployment group (default: found)")


def clients_from(args: argparse.Namespace) -> Clients:
    import boto3

    from bluegreen._aws import Clients

    session = boto3.Session(region_name=args.region, profile_name=args.profile)
    return Clients(session=session, endpoint_url=args.endpoint_url)


def build_parser() -> argparse.ArgumentParser:
    from bluegreen.cli import appspec, inspect, schedule, sim

    parser = argparse.ArgumentParser(
        prog="bluegreen",
        description="Amazon ECS blue/green deployments through AWS CodeDeploy.",
        epilog="Exit codes: 0 ok, 1 deployment failed/stopped/rolled back, 2 invalid input, "
        "3 timed out, 4 AWS error.",
    )
    from bluegreen import __version__

    parser.add_argument("--version", action="version", version=f"bluegreen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (appspec, inspect, schedule, sim):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except ValidationError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except DeploymentError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_DEPLOYMENT_FAILED
    except AWSError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_AWS_ERROR
    except BlueGreenError as exc:
        print(f"bluegreen: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("bluegreen: interrupted", file=sys.stderr)
        return 130
    return code
