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
    deployment = deployment_from(args)
    snapshot = deployment.status()
    scaling = _scaling(args, deployment, snapshot)
    if args.output == "json":
        document = snapshot.to_dict()
        document["scaling"] = scaling.to_dict() if scaling is not None else None
        print(json.dumps(document, default=str))
    else:
        print(repr(snapshot))
        if scaling is not None:
            print(scaling)
    return EXIT_OK


def _scaling(args: argparse.Namespace, deployment: Any, snapshot: Any) -> Any:
    """The service's autoscaling and any bluegreen record (None when it cannot be read)."""
    from bluegreen.errors import AccessDeniedError
    from bluegreen.scaling import scaling_state

    try:
        if args.cluster and args.service:
            where = (args.cluster, args.service)
        else:
            where = deployment._scaling_service(snapshot)
        if where is None:
            return None
        return scaling_state(*where, clients=deployment._clients)
    except AccessDeniedError:
        return None
