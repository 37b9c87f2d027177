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
            print(scaling_text(scaling, snapshot))
    return EXIT_OK


def scaling_text(scaling: Any, snapshot: Any) -> str:
    """The autoscaling block, true to the deployment's status: a record whose deployment (and
    rollback) has ended is no longer promised a restore "when the deployment ends"."""
    record = getattr(scaling, "record", None)
    if record is None or not snapshot.status.is_terminal:
        return str(scaling.describe())
    ours = {snapshot.deployment_id, snapshot.rollback_of, snapshot.rollback_deployment_id}
    if record.deployment_id is None or record.deployment_id not in ours - {None}:
        return str(scaling.describe())
    if snapshot.rollback_deployment_id and snapshot.deployment_id == record.deployment_id:
        ended = (
            f"deployment {record.deployment_id} ended (rolled back by "
            f"{snapshot.rollback_deployment_id})"
        )
    else:
        ended = f"deployment {snapshot.deployment_id} ended ({snapshot.status})"
    return str(scaling.describe(ended=ended))


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
