"""Reading ECS-native service deployments: one deployment by its ARN
(DescribeServiceDeployments), and the one in flight for a service (ListServiceDeployments),
for ``DeploymentReader``; and whether a service deploys natively (blue/green, linear or
canary on the ECS deployment controller), from what DescribeServices said of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen.errors import ResourceNotFoundError
from bluegreen.listing import NO_ACTIVE_DEPLOYMENT
from bluegreen.native_status import IN_FLIGHT, Strategy

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = [
    "NOT_FOUND",
    "revision_target_groups",
    "describe_service_deployment",
    "find_service_deployment",
    "is_native_service",
    "service_revision",
]

NOT_FOUND = "ServiceDeploymentNotFoundException"
"""The ``code`` of the ``ResourceNotFoundError`` for an ARN that names no deployment."""

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def is_native_service(service: Mapping[str, Any]) -> bool:
    """True for a service (DescribeServices' answer) that ECS itself deploys blue/green:
    the ECS deployment controller (the default) with strategy BLUE_GREEN, LINEAR or CANARY."""
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy")
    return controller == "ECS" and strategy in {s.value for s in Strategy if s.is_blue_green}


def describe_service_deployment(call: Caller, aws: Clients, arn: str) -> Mapping[str, Any]:
    """The ``serviceDeployment`` named ``arn``: one DescribeServiceDeployments.

    Raises:
        ResourceNotFoundError: no such service deployment (code ``NOT_FOUND``).
    """
    answer = call(
        "DescribeServiceDeployments",
        aws.ecs.describe_service_deployments,
        serviceDeploymentArns=[arn],
    )
    for deployment in answer.get("serviceDeployments") or ():
        if deployment.get("serviceDeploymentArn") == arn:
            return deployment
    failures = answer.get("failures") or ()
    why = "; ".join(f.get("reason") or "" for f in failures if f.get("reason")) or "not found"
    raise ResourceNotFoundError(
        f"no ECS service deployment {arn} ({why}); list a service's deployments with "
        + advice(
            "Deployment.current(cluster, service)", "`bluegreen status --cluster C --service S`"
        ),
        operation="DescribeServiceDeployments",
        code=NOT_FOUND,
    )


def _list(call: Caller, aws: Clients, cluster: str, service: str, **extra: Any) -> list[Any]:
    """Every ``ServiceDeploymentBrief`` ListServiceDeployments gives (all pages)."""
    briefs: list[Any] = []
    arguments: dict[str, Any] = {"cluster": cluster, "service": service, **extra}
    while True:
        answer = call("ListServiceDeployments", aws.ecs.list_service_deployments, **arguments)
        briefs += answer.get("serviceDeployments") or []
        token = answer.get("nextToken")
        if not token:
            return briefs
        arguments["nextToken"] = token


def _newest(briefs: list[Any]) -> str:
    newest = max(briefs, key=lambda b: b.get("createdAt") or b.get("startedAt") or _EPOCH)
    return str(newest["serviceDeploymentArn"])


def find_service_deployment(
    call: Caller, aws: Clients, cluster: str, service: str, *, or_last: bool = False
) -> str:
    """The ARN of the service's deployment in flight (PENDING, IN_PROGRESS, STOP_REQUESTED,
    ROLLBACK_REQUESTED or ROLLBACK_IN_PROGRESS; the newest when several are); with
    ``or_last``, its newest deployment when none is. One ListServiceDeployments (two with
    ``or_last`` and none in flight).

    Raises:
        ResourceNotFoundError: none in flight (code ``NO_ACTIVE_DEPLOYMENT``; the message
            names the last one), or, with ``or_last``, none ever.
    """
    live = _list(call, aws, cluster, service, status=[str(s) for s in IN_FLIGHT])
    if live:
        return _newest(live)
    past = _list(call, aws, cluster, service, maxResults=100)
    if past and or_last:
        return _newest(past)
    last = "it has never deployed"
    if past:
        newest = _newest(past)
        status = next(b.get("status") for b in past if b["serviceDeploymentArn"] == newest)
        last = f"the last deployment was {newest} ({status}); attach to it with " + advice(
            f"Deployment.attach({newest!r})", f"--deployment-id {newest}"
        )
    raise ResourceNotFoundError(
        f"no ECS service deployment is in flight for service {cluster}/{service}: {last}",
        operation="ListServiceDeployments",
        code=NO_ACTIVE_DEPLOYMENT,
    )


def service_revision(call: Caller, aws: Clients, arn: str) -> Mapping[str, Any]:
    """The service revision ``arn`` (DescribeServiceRevisions): its task definition, load
    balancers, network.

    Raises:
        ResourceNotFoundError: no such revision.
    """
    answer = call(
        "DescribeServiceRevisions", aws.ecs.describe_service_revisions, serviceRevisionArns=[arn]
    )
    for revision in answer.get("serviceRevisions") or ():
        if revision.get("serviceRevisionArn") == arn:
            return revision
    raise ResourceNotFoundError(
        f"no ECS service revision {arn}",
        operation="DescribeServiceRevisions",
        code="ServiceRevisionNotFound",
    )


def revision_target_groups(call: Caller, aws: Clients, arns: list[str]) -> dict[str, str]:
    """The name of the target group each service revision's tasks serve from
    (``resolvedConfiguration.loadBalancers``), by revision ARN: one DescribeServiceRevisions.
    Revisions that do not say are left out."""
    answer = call(
        "DescribeServiceRevisions", aws.ecs.describe_service_revisions, serviceRevisionArns=arns
    )
    names: dict[str, str] = {}
    for revision in answer.get("serviceRevisions") or ():
        resolved = (revision.get("resolvedConfiguration") or {}).get("loadBalancers") or ()
        group = next(
            (lb.get("targetGroupArn") for lb in resolved if lb.get("targetGroupArn")), None
        )
        if group:  # arn:aws:elasticloadbalancing:...:targetgroup/<name>/<id>
            names[revision["serviceRevisionArn"]] = group.split(":targetgroup/")[-1].split("/")[0]
    return names
