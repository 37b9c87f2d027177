"""``bluegreen inspect``: the live blue/green state of a service."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bluegreen.cli._aws_setup import clients_from
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_aws_options, add_service_options


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "inspect",
        help="show which task set is blue and green, listener weights, the deployment in flight",
        description="Read the service's blue/green state (about five API calls).",
    )
    add_service_options(parser)
    parser.add_argument("--rules", action="store_true", help="also read listener rules")
    parser.add_argument("--output", choices=("text", "json"), default="text")
    add_aws_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.discovery import discover

    if (args.application is None) != (args.deployment_group is None):
        from bluegreen.errors import ValidationError

        raise ValidationError(
            ["give --application and --deployment-group together, or neither"],
            subject="command line",
        )
    state = discover(
        args.cluster,
        args.service,
        application=args.application,
        deployment_group=args.deployment_group,
        include_rules=args.rules,
        clients=clients_from(args),
    )
    if args.output == "json":
        print(json.dumps(state.to_dict(), default=str))
    else:
        print(repr(state))
    return EXIT_OK
