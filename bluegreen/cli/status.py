"""``bluegreen status``: one snapshot of a deployment."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bluegreen.cli import EXIT_OK, add_deployment_options, add_output_option, deployment_from


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "status",
        help="show a deployment: status, lifecycle events, task-set weights, what it waits for",
        description="Read a deployment once (two or three API calls): its status, each "
        "lifecycle event, the task sets with their production weights, the expected "
        "schedule and what it is waiting for. Picks --deployment-id, else the service's "
        "deployment in flight, else its last one.",
    )
    add_deployment_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    snapshot = deployment_from(args).status()
    if args.output == "json":
        print(json.dumps(snapshot.to_dict(), default=str))
    else:
        print(repr(snapshot))
    return EXIT_OK
