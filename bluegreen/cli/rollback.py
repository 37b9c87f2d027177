"""``bluegreen rollback``: deploy the last known good task definition again."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from bluegreen.cli._aws_setup import deployment_from
from bluegreen.cli._hints import reattach_hint
from bluegreen.cli._options import (
    add_deployment_options,
    add_output_option,
    add_wait_options,
    check_wait_options,
)

if TYPE_CHECKING:
    from bluegreen.deployment import Deployment


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "rollback",
        help="roll a finished deployment back: deploy the last known good task definition",
        description="Roll back a deployment that has ended (--deployment-id, else the "
        "service's last one) with a new deployment of the task definition that served "
        "before it, and follow that deployment like `bluegreen deploy` does. A deployment "
        "still in flight is stopped with `bluegreen abort` instead (exit 2 here).",
    )
    add_deployment_options(parser)
    parser.add_argument("--description", help="the new deployment's description")
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="print the new deployment's id and return once it exists",
    )
    add_wait_options(parser)
    add_output_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bluegreen.cli._progress import follow
    from bluegreen.cli.wait import follow_to_milestone

    check_wait_options(args)
    rollback = deployment_from(args).rollback(description=args.description)
    _announce(args, rollback)
    if not args.wait:
        code = follow(args, rollback.id, lambda reporter: None, now=rollback.server_now)
        print(
            f"bluegreen: started {rollback.id}; follow it with: {reattach_hint(args, rollback.id)}",
            file=sys.stderr,
        )
        return code
    return follow_to_milestone(args, rollback)


def _announce(args: argparse.Namespace, rollback: Deployment) -> None:
    """Say what the rollback goes back to (the task definition) and from (the deployment):
    a line before the progress, a ``rollback`` JSON line, or on stderr with --no-wait
    (whose stdout is the new id alone)."""
    origin = rollback.rollback_origin
    if origin is None:
        return
    if args.output == "json":
        from bluegreen.cli._progress.reading import iso

        record = {
            "type": "rollback",
            "timestamp": iso(rollback.server_now()),
            "deployment_id": rollback.id,
            "rolled_back": origin.rolled_back,
            "task_definition": origin.task_definition,
            "replaced_task_definition": origin.replaced_task_definition,
            "last_good": origin.last_good,
        }
        print(json.dumps(record), flush=True)
        return
    stream = sys.stdout if args.wait else sys.stderr
    prefix = "" if args.wait else "bluegreen: "
    print(f"{prefix}{origin}: new deployment {rollback.id}", file=stream, flush=True)
