"""``bluegreen finish``: end the termination wait now and remove blue."""

from __future__ import annotations

import argparse
from typing import Any

from bluegreen.cli._aws_setup import deployment_from
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_deployment_options, add_output_option


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "finish",
        help="end the termination wait now and remove blue (ContinueDeployment TERMINATION_WAIT)",
        description="Finish a deployment whose traffic has all moved to green and that "
        "keeps blue for its termination wait: blue is removed now and the deployment "
        "succeeds. Exit 2, changing nothing, when it is not in its termination wait, or is "
        "an ECS-native deployment (ECS cannot end its bake time early).",
    )
    add_deployment_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli._progress import print_result

    deployment = deployment_from(args)
    print_result(args, deployment.finish(), deployment.server_now)
    return EXIT_OK
