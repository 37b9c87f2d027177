"""``bluegreen plan``: what ``bluegreen deploy`` would do, changing nothing."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bluegreen.cli._analysis import add_analysis_option
from bluegreen.cli._aws_setup import clients_from
from bluegreen.cli._exit_codes import EXIT_INVALID, EXIT_OK
from bluegreen.cli._options import add_output_option


def add_parser(commands: Any) -> None:
    from bluegreen.cli.deploy import add_selection_options

    parser: argparse.ArgumentParser = commands.add_parser(
        "plan",
        help="show what deploy would do (dry run): task-definition diff, AppSpec, schedule",
        description="Read the service and its deployment group and print what `bluegreen "
        "deploy` with the same options would do: the task-definition change, the AppSpec, "
        "the traffic schedule and expected duration, the hooks, the rollback triggers and "
        "every problem found. An ECS-native blue/green, linear or canary service (no "
        "deployment group, no AppSpec) shows its strategy, steps, bake time and hooks "
        "instead. Nothing in AWS is changed. Exit 2 when there are problems. "
        "Environment values and secrets are never shown, only that they changed, unless "
        "--show-values.",
    )
    add_selection_options(parser)
    add_analysis_option(parser)
    parser.add_argument(
        "--show-values",
        action="store_true",
        help="show environment values and secrets in the task-definition changes (hidden by "
        "default: the diff says only that such a value was added, removed or changed)",
    )
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli.deploy import selection
    from bluegreen.deploying import plan

    result = plan(args.cluster, args.service, clients=clients_from(args), **selection(args))
    if args.output == "json":
        print(json.dumps(result.to_dict(show_values=args.show_values), default=str))
    else:
        print(result.text(show_values=args.show_values))
    if not result.ok:
        count = len(result.problems)
        print(
            f"bluegreen: the plan has {count} problem{'s' if count != 1 else ''}; "
            "deploy would refuse it",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return EXIT_OK
