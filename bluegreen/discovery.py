"""Read a service's blue/green state from AWS in as few calls as possible.

Cost of ``discover`` (API calls), for the usual service with a production and a test
listener:

============================  =====  ==================================================
call                          count  why
============================  =====  ==================================================
ecs:DescribeServices          1      service, task sets (included for CODE_DEPLOY), tags
codedeploy:GetDeploymentGroup 1      listeners, target-group names, waits, the
                                     deployment in flight (``lastAttemptedDeployment``)
elbv2:DescribeListeners       1      both listeners in one call
elbv2:DescribeTargetGroups    1      both target groups by name in one call
elbv2:DescribeRules           0-2    one per listener, only with ``include_rules=True``
============================  =====  ==================================================

Finding the deployment group costs nothing more when it is named (arguments, or the
service tags ``bluegreen:application`` and ``bluegreen:deployment-group``, which
DescribeServices already returns), and one call when it follows the console's naming
(``AppECS-<cluster>-<service>`` / ``DgpECS-<cluster>-<service>``). Otherwise
``find_deployment_group`` scans: ``ceil(A/100)`` ListApplications and BatchGetApplications
calls for A applications, then per ECS application one ListDeploymentGroups and
``ceil(G/100)`` BatchGetDeploymentGroups. That scan is what throttles peers' tools with
many applications, so name the group (or tag the service) in accounts with many.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen._aws import resolve_clients, translate_errors
from bluegreen.appspec import AwsVpcConfiguration, CapacityProviderStrategyItem
from bluegreen.errors import ResourceNotFoundError, ServiceConfigError
from bluegreen.state import (
    DeploymentGroup,
    ListenerRoute,
    LoadBalancerBinding,
    ServiceState,
    TargetGroup,
    TargetGroupPair,
    TaskSet,
)
from bluegreen.status import TaskSetStatus

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients

__all__ = ["APPLICATION_TAG", "DEPLOYMENT_GROUP_TAG", "discover", "find_deployment_group"]

APPLICATION_TAG = "bluegreen:application"
DEPLOYMENT_GROUP_TAG = "bluegreen:deployment-group"


def discover(
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    include_rules: bool = False,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
) -> ServiceState:
    """Read the blue/green state of ``service`` in ``cluster``.

    Args:
        cluster: cluster name or ARN.
        service: service name or ARN.
        application: the CodeDeploy application; with ``deployment_group``, skips the
            lookup. Both or neither.
        deployment_group: the CodeDeploy deployment group.
        include_rules: also read the listeners' non-default rules that forward to the pair
            (one DescribeRules call per listener).
        clients: ready ``bluegreen.Clients``; or
        session: the ``boto3.Session`` to use (region and profile).

    Raises:
        ResourceNotFoundError: the cluster, service or deployment group does not exist.
        ServiceConfigError: the named deployment group does not deploy this service.
    """
    if (application is None) != (deployment_group is None):
        raise TypeError("give application and deployment_group together, or neither")
    aws = resolve_clients(clients, session)
    raw = _describe_service(aws, cluster, service)
    tags = {t["key"]: t["value"] for t in raw.get("tags", ()) if "key" in t}
    cluster_name = raw.get("clusterArn", cluster).rsplit("/", 1)[-1]
    service_name = raw.get("serviceName", service.rsplit("/", 1)[-1])
    controller = (raw.get("deploymentController") or {}).get("type", "ECS")

    group: DeploymentGroup | None = None
    if application is None and APPLICATION_TAG in tags and DEPLOYMENT_GROUP_TAG in tags:
        application, deployment_group = tags[APPLICATION_TAG], tags[DEPLOYMENT_GROUP_TAG]
    if application is not None and deployment_group is not None:
        group = _get_deployment_group(aws, application, deployment_group)
        if not group.maps(cluster_name, service_name):
            mapped = ", ".join(f"{c}/{s}" for c, s in group.ecs_services) or "no service"
            raise ServiceConfigError(
                [
                    f"deployment group {application}/{deployment_group} deploys {mapped}, not "
                    f"{cluster_name}/{service_name}: name the group that lists this service "
                    "in ecsServices"
                ]
            )
    elif controller == "CODE_DEPLOY":
        group = find_deployment_group(cluster_name, service_name, clients=aws)

    pair, production, test = None, None, None
    if group is not None:
        pair = _target_groups(aws, group)
        production, test = _listeners(aws, group, include_rules=include_rules)

    task_sets = tuple(TaskSet.from_api(ts) for ts in raw.get("taskSets", ()))
    return ServiceState(
        cluster=cluster_name,
        service=service_name,
        service_arn=raw.get("serviceArn", ""),
        status=raw.get("status", ""),
        deployment_controller=controller,
        desired_count=int(raw.get("desiredCount", 0)),
        running_count=int(raw.get("runningCount", 0)),
        task_definition=raw.get("taskDefinition"),
        tags=tags,
        task_sets=task_sets,
        target_groups=pair,
        production=production,
        test=test,
        deployment_group=group,
        deployment_id=_deployment_in_flight(group, task_sets),
        **_placement(raw),
    )


def _placement(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Launch settings, from the PRIMARY task set when there is one (ECS moves the primary
    task set's parameters to the service), else from the service."""
    primary = next((ts for ts in raw.get("taskSets", ()) if ts.get("status") == "PRIMARY"), None)
    source: Mapping[str, Any] = raw
    if primary is not None and (
        primary.get("networkConfiguration") or primary.get("capacityProviderStrategy")
    ):
        source = primary
    network = (source.get("networkConfiguration") or raw.get("networkConfiguration") or {}).get(
        "awsvpcConfiguration"
    )
    strategy = source.get("capacityProviderStrategy") or raw.get("capacityProviderStrategy") or ()
    return {
        "launch_type": source.get("launchType") or raw.get("launchType"),
        "platform_version": source.get("platformVersion") or raw.get("platformVersion"),
        "network_configuration": AwsVpcConfiguration.from_ecs(network) if network else None,
        "capacity_provider_strategy": tuple(
            CapacityProviderStrategyItem.from_ecs(item) for item in strategy
        ),
        "load_balancers": tuple(
            LoadBalancerBinding.from_api(lb) for lb in raw.get("loadBalancers", ())
        ),
    }


def _deployment_in_flight(
    group: DeploymentGroup | None, task_sets: tuple[TaskSet, ...]
) -> str | None:
    if group is not None and group.active_deployment_id:
        return group.active_deployment_id
    if len(task_sets) < 2:
        return None
    replacements = [
        ts
        for ts in task_sets
        if ts.started_by == "CODE_DEPLOY"
        and ts.external_id
        and ts.status is not TaskSetStatus.DRAINING
    ]
    if not replacements:
        return None
    newest = max(replacements, key=lambda ts: (ts.created_at is not None, ts.created_at))
    return newest.external_id


def _describe_service(aws: Clients, cluster: str, service: str) -> dict[str, Any]:
    where = f"service {service!r} in cluster {cluster!r} ({aws.ecs.meta.region_name})"
    try:
        with translate_errors("DescribeServices"):
            answer = aws.ecs.describe_services(
                cluster=cluster, services=[service], include=["TAGS"]
            )
    except ResourceNotFoundError as exc:  # ClusterNotFoundException
        raise ResourceNotFoundError(
            f"{where} not found ({exc.message.rstrip('.')}): check the names and the region",
            operation=exc.operation,
            code=exc.code,
            request_id=exc.request_id,
            status_code=exc.status_code,
        ) from exc
    services = answer.get("services", [])
    if not services or services[0].get("status") == "INACTIVE":
        reason = (answer.get("failures") or [{}])[0].get("reason", "MISSING")
        raise ResourceNotFoundError(
            f"{where} not found: check the names and the region",
            operation="DescribeServices",
            code=reason,
        )
    return dict(services[0])


def _get_deployment_group(aws: Clients, application: str, name: str) -> DeploymentGroup:
    with translate_errors("GetDeploymentGroup"):
        info = aws.codedeploy.get_deployment_group(
            applicationName=application, deploymentGroupName=name
        )["deploymentGroupInfo"]
    return DeploymentGroup.from_api(info)


def _paged(method: Any, key: str, **kwargs: Any) -> Iterator[Any]:
    token: str | None = None
    while True:
        page = method(**kwargs, **({"nextToken": token} if token else {}))
        yield from page.get(key, ())
        token = page.get("nextToken")
        if not token:
            return


def find_deployment_group(
    cluster: str,
    service: str,
    *,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
) -> DeploymentGroup:
    """Find the deployment group that deploys ``cluster``/``service``.

    Tries the console's naming first (one call), then scans every ECS application (see the
    module docstring for the cost).

    Raises:
        ResourceNotFoundError: no deployment group lists this service.
    """
    aws = resolve_clients(clients, session)
    conventional = (f"AppECS-{cluster}-{service}", f"DgpECS-{cluster}-{service}")
    try:
        group = _get_deployment_group(aws, *conventional)
    except ResourceNotFoundError:
        pass
    else:
        if group.maps(cluster, service):
            return group

    with translate_errors("ListApplications"):
        names = list(_paged(aws.codedeploy.list_applications, "applications"))
    ecs_apps = []
    for start in range(0, len(names), 100):
        with translate_errors("BatchGetApplications"):
            infos = aws.codedeploy.batch_get_applications(
                applicationNames=names[start : start + 100]
            ).get("applicationsInfo", [])
        ecs_apps += [i["applicationName"] for i in infos if i.get("computePlatform") == "ECS"]
    for app in ecs_apps:
        with translate_errors("ListDeploymentGroups"):
            groups = list(
                _paged(
                    aws.codedeploy.list_deployment_groups, "deploymentGroups", applicationName=app
                )
            )
        for start in range(0, len(groups), 100):
            with translate_errors("BatchGetDeploymentGroups"):
                group_infos = aws.codedeploy.batch_get_deployment_groups(
                    applicationName=app, deploymentGroupNames=groups[start : start + 100]
                ).get("deploymentGroupsInfo", [])
            for info in group_infos:
                group = DeploymentGroup.from_api(info, compute_platform="ECS")
                if group.maps(cluster, service):
                    return group
    raise ResourceNotFoundError(
        f"no CodeDeploy deployment group deploys {cluster}/{service} (searched "
        f"{len(ecs_apps)} ECS application(s)): create one, or "
        + advice(
            "pass application= and deployment_group=", "give --application and --deployment-group"
        ),
        operation="BatchGetDeploymentGroups",
        code="DeploymentGroupNotFound",
    )


def _target_groups(aws: Clients, group: DeploymentGroup) -> TargetGroupPair | None:
    if group.target_group_names is None:
        return None
    with translate_errors("DescribeTargetGroups"):
        found = aws.elbv2.describe_target_groups(Names=list(group.target_group_names))[
            "TargetGroups"
        ]
    by_name = {tg["TargetGroupName"]: TargetGroup.from_api(tg) for tg in found}
    first, second = (by_name.get(n) for n in group.target_group_names)
    if first is None or second is None:
        return None
    return TargetGroupPair(first=first, second=second)


def _listeners(
    aws: Clients, group: DeploymentGroup, *, include_rules: bool
) -> tuple[ListenerRoute | None, ListenerRoute | None]:
    arns = [a for a in (group.production_listener_arn, group.test_listener_arn) if a]
    if not arns:
        return (None, None)
    with translate_errors("DescribeListeners"):
        found = {
            listener["ListenerArn"]: listener
            for listener in aws.elbv2.describe_listeners(ListenerArns=arns)["Listeners"]
        }
    routes: list[ListenerRoute | None] = []
    for arn in (group.production_listener_arn, group.test_listener_arn):
        listener = found.get(arn) if arn else None
        if arn is None or listener is None:
            routes.append(None)
            continue
        rules: list[Any] = []
        if include_rules:
            with translate_errors("DescribeRules"):
                rules = list(aws.elbv2.describe_rules(ListenerArn=arn)["Rules"])
        routes.append(ListenerRoute.from_api(listener, rules))
    return (routes[0], routes[1])
