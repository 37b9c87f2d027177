"""A deployment group's deployments: ListDeployments (every page) and BatchGetDeployments
(25 ids a call), through a ``Caller``. Used to find the deployment in flight (``in_flight``),
the last good one, and a deployment whose CreateDeployment answer was lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen.errors import AWSError, ResourceNotFoundError
from bluegreen.status import DeploymentStatus

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.state import DeploymentGroup

__all__ = [
    "still_running",
    "ACTIVE_STATUSES",
    "NO_ACTIVE_DEPLOYMENT",
    "batch_get_deployments",
    "in_flight",
    "list_deployments",
]

ACTIVE_STATUSES = tuple(str(s) for s in DeploymentStatus if s.is_active)
"""The statuses of a deployment that has not ended."""

_BATCH = 25
"""BatchGetDeployments takes at most this many ids."""


def list_deployments(
    call: Caller,
    aws: Clients,
    application: str,
    group: str,
    statuses: Sequence[str] | None = None,
    **extra: Any,
) -> list[str]:
    """The ids ListDeployments gives for the group (all pages), newest first in practice."""
    ids: list[str] = []
    arguments: dict[str, Any] = {
        "applicationName": application,
        "deploymentGroupName": group,
        **extra,
    }
    if statuses is not None:
        arguments["includeOnlyStatuses"] = list(statuses)
    while True:
        page = call("ListDeployments", aws.codedeploy.list_deployments, **arguments)
        ids += page.get("deployments", [])
        token = page.get("nextToken")
        if not token:
            return ids
        arguments["nextToken"] = token


def batch_get_deployments(
    call: Caller, aws: Clients, ids: Sequence[str]
) -> Iterator[Mapping[str, Any]]:
    """The ``deploymentInfo`` of each id, 25 a call, read as they are consumed."""
    for start in range(0, len(ids), _BATCH):
        answer = call(
            "BatchGetDeployments",
            aws.codedeploy.batch_get_deployments,
            deploymentIds=list(ids[start : start + _BATCH]),
        )
        yield from answer.get("deploymentsInfo", [])


NO_ACTIVE_DEPLOYMENT = "NoActiveDeployment"
"""The ``code`` of the ``ResourceNotFoundError`` that ``Deployment.current`` raises when the
service has no deployment in flight."""


def in_flight(call: Caller, aws: Clients, group: DeploymentGroup, where: str) -> str:
    """The id of the group's deployment that has not ended; with several (a rollback and
    the deployment it rolls back are both listed for a moment) the newest one.

    Costs one ListDeployments, and BatchGetDeployments when several are listed.

    Raises:
        ResourceNotFoundError: none is in flight (code ``NO_ACTIVE_DEPLOYMENT``; the
            message names ``where`` and the group's last deployment).
    """
    ids = list_deployments(call, aws, group.application, group.name, ACTIVE_STATUSES)
    if not ids:
        last = "it has never deployed"
        if group.last_attempted_deployment_id:
            last = (
                f"the last deployment was {group.last_attempted_deployment_id} "
                f"({group.last_attempted_status or 'status unknown'}); attach to it with "
                + advice(
                    f"Deployment.attach({group.last_attempted_deployment_id!r})",
                    f"--deployment-id {group.last_attempted_deployment_id}",
                )
            )
        raise ResourceNotFoundError(
            f"no deployment is in flight for {where} in {group.application}/{group.name}: {last}",
            operation="ListDeployments",
            code=NO_ACTIVE_DEPLOYMENT,
        )
    if len(ids) == 1:
        return ids[0]
    newest = max(
        batch_get_deployments(call, aws, ids),
        key=lambda i: i.get("createTime") or dt.datetime.min.replace(tzinfo=dt.UTC),
        default=None,
    )
    return str(newest["deploymentId"]) if newest is not None else ids[0]


def still_running(caller: Caller, clients: Clients, deployment_id: str) -> tuple[str, str] | None:
    """The deployment, or the rollback it started (and so on), still in flight, with its
    status; None once every one has ended, or when there is no such deployment.

    Raises:
        AWSError: GetDeployment failed otherwise.
    """
    deployment: str | None = deployment_id
    seen: set[str] = set()
    while deployment is not None and deployment not in seen:
        seen.add(deployment)
        try:
            info = caller(
                "GetDeployment", clients.codedeploy.get_deployment, deploymentId=deployment
            )["deploymentInfo"]
        except AWSError as exc:
            if isinstance(exc, ResourceNotFoundError) or exc.code in (
                "InvalidDeploymentIdException",
                "DeploymentDoesNotExistException",
            ):
                return None  # no such deployment: nothing keeps anything in force
            raise
        status = str(info.get("status"))
        if status in ACTIVE_STATUSES:
            return deployment, status
        rollback = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
        deployment = str(rollback) if rollback else None
    return None
