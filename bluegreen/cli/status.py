"""``bluegreen status``: one snapshot of a deployment."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bluegreen.cli._aws_setup import deployment_from
from bluegreen.cli._exit_codes import EXIT_OK
from bluegreen.cli._options import add_deployment_options, add_output_option


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "status",
        help="show a deployment: status, lifecycle events, task-set weights, what it waits for",
        description="Read a deployment once: its status, each lifecycle event, the task sets "
        "with their production weights, the expected schedule and what it is waiting for. "
        "Picks --deployment-id, else the service's deployment in flight, else its last one. "
        "By --deployment-id it costs at most three API calls (GetDeployment, "
        "ListDeploymentTargets, GetDeploymentTarget) and shows no autoscaling unless "
        "--scaling is given; for --cluster/--service it finds the group "
        "(DescribeServices, GetDeploymentGroup, ListDeployments) and shows the service's "
        "autoscaling with one DescribeScalableTargets. An ECS-native deployment (its id is "
        "its service deployment ARN) costs one DescribeServiceDeployments.",
    )
    add_deployment_options(parser)
    parser.add_argument(
        "--scaling",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the service's autoscaling and any record of bluegreen suspending it "
        "(default: with --cluster/--service). With --deployment-id alone, the service is "
        "the deployment's target <cluster>:<service>; two calls more (DescribeServices, "
        "DescribeScalableTargets)",
    )
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
    """The service's autoscaling and any bluegreen record (None when not asked for or it
    cannot be read). What finding the deployment read of the service (its ARN and tags,
    which hold the record) is not read again."""
    from bluegreen.errors import AccessDeniedError
    from bluegreen.scaling import scaling_state

    named = bool(args.cluster and args.service)
    if not (args.scaling if args.scaling is not None else named):
        return None
    arn, tags = deployment._service_read or (None, None)
    try:
        if deployment._service_read is not None:
            where = deployment._service
        elif named:
            where = (args.cluster, args.service)
        else:
            where = deployment._scaling_service(snapshot)
        if where is None:
            return None
        return scaling_state(*where, clients=deployment._clients, service_arn=arn, tags=tags)
    except AccessDeniedError:
        return None
