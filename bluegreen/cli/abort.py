"""``bluegreen abort``: stop a deployment in flight and roll it back."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bluegreen.cli._aws_setup import deployment_from
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._hints import status_hint
from bluegreen.cli._options import (
    add_deployment_options,
    add_output_option,
    add_wait_options,
    check_wait_options,
)


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "abort",
        help="stop a deployment in flight and roll it back (StopDeployment with rollback; "
        "ECS-native: StopServiceDeployment or ContinueServiceDeployment ROLLBACK)",
        description="Stop a deployment in flight; CodeDeploy moves production traffic back "
        "to blue in a rollback deployment, which this command follows to its end unless "
        "--no-wait. Exit 0 once the rollback has succeeded, 1 when it fails, 2 (changing "
        "nothing) when the deployment has already ended: roll a finished deployment back "
        "with `bluegreen rollback`.",
    )
    add_deployment_options(parser)
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="return once the deployment is asked to stop",
    )
    add_wait_options(parser, until=False, intervals=False)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli._progress import follow, print_result

    check_wait_options(args)
    deployment = deployment_from(args)
    if not args.wait:
        print_result(args, deployment.abort(wait=False), deployment.server_now)
        what = (
            "shows the rollback (the same ECS service deployment)"
            if deployment.is_native
            else "names the rollback deployment once CodeDeploy has started it"
        )
        print(f"bluegreen: `{status_hint(args, deployment.id)}` {what}", file=sys.stderr)
        return EXIT_OK
    return follow(
        args,
        deployment.id,
        lambda reporter: deployment.abort(timeout=args.timeout, on_progress=reporter.update),
        now=deployment.server_now,
    )
