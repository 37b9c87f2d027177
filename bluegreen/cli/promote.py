"""``bluegreen promote``: shift production traffic to green now (leave the ready wait)."""

from __future__ import annotations

import argparse
from typing import Any

from bluegreen.cli._aws_setup import deployment_from
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_deployment_options, add_output_option


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "promote",
        help="start shifting production traffic to green (ContinueDeployment READY_WAIT)",
        description="Promote a deployment that waits in Ready (a deployment group with a "
        "ready wait): production traffic starts moving to green. An ECS-native deployment "
        "paused by a PAUSE lifecycle hook goes on (ContinueServiceDeployment CONTINUE). Exit "
        "2, changing nothing, when the deployment is not Ready (no pause hook awaits action).",
    )
    add_deployment_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli._progress import print_result

    deployment = deployment_from(args)
    print_result(args, deployment.promote(), deployment.server_now)
    return EXIT_OK
