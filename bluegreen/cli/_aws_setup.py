"""What a command needs before its first AWS call: the clients for ``--region``,
``--profile`` and ``--endpoint-url`` (checked here), and the deployment it acts on."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from bluegreen.cli._clock import clock
from bluegreen.cli._options import ENDPOINT_URL_VARIABLE, check_group_options
from bluegreen.errors import ValidationError

if TYPE_CHECKING:
    from bluegreen._aws import Clients
    from bluegreen.deployment import Deployment


def clients_from(args: argparse.Namespace) -> Clients:
    """The clients for ``--region``, ``--profile`` and ``--endpoint-url``; the set-up is
    checked here, before any call.

    Raises:
        ConfigurationError: an unknown profile, an invalid region name or endpoint URL.
    """
    import boto3

    from bluegreen._aws import Clients, check_endpoint_url, translate_errors

    # AWS_REGION counts as it does for the AWS CLI v2 and the SDKs (botocore reads only
    # AWS_DEFAULT_REGION and the profile).
    region = args.region or os.environ.get("AWS_REGION") or None
    endpoint_url = args.endpoint_url or os.environ.get(ENDPOINT_URL_VARIABLE) or None
    if endpoint_url:
        check_endpoint_url(endpoint_url)
    with translate_errors():
        session = boto3.Session(region_name=region, profile_name=args.profile)
    return Clients(session=session, endpoint_url=endpoint_url)


def deployment_from(args: argparse.Namespace, *, clients: Clients | None = None) -> Deployment:
    """The deployment a command acts on: ``--deployment-id``, else the service's deployment
    in flight, else the deployment group's last one (which a control then refuses clearly).

    Raises:
        ValidationError: neither ``--deployment-id`` nor ``--cluster`` and ``--service``.
        ResourceNotFoundError: the service has no deployment group or never had a deployment.
    """
    from bluegreen.deployment import Deployment

    check_group_options(args)
    aws = clients if clients is not None else clients_from(args)
    if args.deployment_id:
        return Deployment.attach(args.deployment_id, clients=aws, clock=clock())
    if not (args.cluster and args.service):
        raise ValidationError(
            ["give --deployment-id, or --cluster and --service to pick the service's deployment"],
            subject="command line",
        )
    # The service and its group are read once: the last deployment, when none is in
    # flight, comes from the same GetDeploymentGroup answer.
    return Deployment._for_service(
        args.cluster,
        args.service,
        application=args.application,
        deployment_group=args.deployment_group,
        clients=aws,
        clock=clock(),
        or_last=True,
    )
