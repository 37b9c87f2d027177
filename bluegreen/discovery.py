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

``deploy`` records what a scan found on the service, as the tag ``bluegreen:deployment-group``
= ``<application>/<group>`` (without a ``bluegreen:application`` tag), so the next release
finds the group as a named one does. ``discover`` trusts that record only after
GetDeploymentGroup shows the group still deploys the service; a stale record costs that
call, then the scan, and the next ``deploy`` corrects it.

An ECS-native blue/green, linear or canary service has no group: after DescribeServices it
is read by ``bluegreen.native_discovery`` (its rules, revisions and deployment in flight). A
group its tags or the arguments name is not read: after a migration from CodeDeploy the
group stays (the way back) and the service keeps bluegreen's tags, yet ECS deploys it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._advice import advice
from bluegreen._aws import Caller, resolve_clients
from bluegreen.arguments import check_connection, group_problems, service_problems
from bluegreen.clock import Clock, MonotonicClock
from bluegreen.errors import AWSError, ResourceNotFoundError, ServiceConfigError
from bluegreen.native_discovery import is_native_service, native_state, service_placement
from bluegreen.state import (
    DeploymentGroup,
    ListenerRoute,
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
"""With ``APPLICATION_TAG``: names the group (trusted, as arguments are). Alone, holding
``<application>/<group>``: the group a scan found, recorded by ``deploy`` (checked first)."""

_TAG_VALUE = re.compile(r"[A-Za-z0-9 +\-=._:/@]{1,256}")
"""What ECS accepts in a tag value."""


def discover(
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    include_rules: bool = False,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    caller: Caller | None = None,
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
        clock: where a throttled or failed call waits before it is retried (default: the
            real monotonic clock).
        caller: the ``Caller`` to make the calls with (its clock, budget and counts);
            default: a new one on ``clock``.

    Raises:
        ResourceNotFoundError: the cluster, service or deployment group does not exist.
        ServiceConfigError: the named deployment group does not deploy this service.
    """
    problems = service_problems(cluster=cluster, service=service)
    problems += group_problems(application, deployment_group)
    check_connection(
        subject="discover", clients=clients, session=session, clock=clock, problems=problems
    )
    aws = resolve_clients(clients, session)
    return discover_recordable(
        _caller(caller, clock),
        aws,
        cluster,
        service,
        application=application,
        deployment_group=deployment_group,
        include_rules=include_rules,
    )[0]


def discover_recordable(
    call: Caller,
    aws: Clients,
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
    include_rules: bool = False,
) -> tuple[ServiceState, str | None]:
    """``discover``, and the ``DEPLOYMENT_GROUP_TAG`` value to record on the service when
    the group had to be found by a scan or the recorded one was stale (else None): what
    ``deploy`` writes (``record_deployment_group``) so the next release skips the scan."""
    found = locate(
        call, aws, cluster, service, application=application, deployment_group=deployment_group
    )
    raw, group, tags = found.raw, found.group, found.tags
    cluster_name, service_name = found.cluster, found.service
    controller, record = found.controller, found.record
    if group is None and is_native_service(raw):  # ECS-native: bluegreen.native_discovery
        state = native_state(call, aws, raw, cluster=cluster_name, service=service_name, tags=tags)
        return state, record

    pair, production, test = None, None, None
    if group is not None:
        pair = _target_groups(call, aws, group)
        production, test = _listeners(call, aws, group, include_rules=include_rules)

    task_sets = tuple(TaskSet.from_api(ts) for ts in raw.get("taskSets", ()))
    state = ServiceState(
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
        **service_placement(raw),
    )
    return state, record


@attrs.frozen
class Located:
    """A service and its deployment group, as ``locate`` found them."""

    raw: Mapping[str, Any]
    """DescribeServices' answer for the service, tags included."""
    cluster: str
    service: str
    group: DeploymentGroup | None
    record: str | None = None
    """The ``DEPLOYMENT_GROUP_TAG`` value to record (see ``discover_recordable``)."""

    @property
    def tags(self) -> dict[str, str]:
        return {t["key"]: t["value"] for t in self.raw.get("tags", ()) if "key" in t}

    @property
    def controller(self) -> str:
        return str((self.raw.get("deploymentController") or {}).get("type", "ECS"))

    @property
    def service_arn(self) -> str:
        return str(self.raw.get("serviceArn", ""))


def locate(
    call: Caller,
    aws: Clients,
    cluster: str,
    service: str,
    *,
    application: str | None = None,
    deployment_group: str | None = None,
) -> Located:
    """The service (DescribeServices, with its tags) and its deployment group, found as
    ``discover`` finds it (GetDeploymentGroup when named, recorded or named the console's
    way), without the listeners and target groups: what following a deployment needs.

    Raises:
        ResourceNotFoundError, ServiceConfigError: as ``discover``.
    """
    raw = _describe_service(call, aws, cluster, service)
    tags = {t["key"]: t["value"] for t in raw.get("tags", ()) if "key" in t}
    cluster_name = raw.get("clusterArn", cluster).rsplit("/", 1)[-1]
    service_name = raw.get("serviceName", service.rsplit("/", 1)[-1])
    controller = (raw.get("deploymentController") or {}).get("type", "ECS")
    if is_native_service(raw):  # native even when a tag or argument names the group kept
        return Located(raw, cluster_name, service_name, None)  # after a migration (way back)

    group: DeploymentGroup | None = None
    record: str | None = None
    if application is None and APPLICATION_TAG in tags and DEPLOYMENT_GROUP_TAG in tags:
        application, deployment_group = tags[APPLICATION_TAG], tags[DEPLOYMENT_GROUP_TAG]
    if application is not None and deployment_group is not None:
        group = _get_deployment_group(call, aws, application, deployment_group)
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
        group = _recorded_group(call, aws, tags, cluster_name, service_name)
        if group is None:
            group, scanned = _find(call, aws, cluster_name, service_name)
            recorded = tags.get(DEPLOYMENT_GROUP_TAG)
            # A recorded value is corrected; a tag the user set (or half of a pair) is not.
            if APPLICATION_TAG not in tags and (
                (recorded is None and scanned) or "/" in (recorded or "")
            ):
                record = _tag_value(group)
    if record == tags.get(DEPLOYMENT_GROUP_TAG):
        record = None
    return Located(raw, cluster_name, service_name, group, record)


def _recorded_group(
    call: Caller, aws: Clients, tags: Mapping[str, str], cluster: str, service: str
) -> DeploymentGroup | None:
    """The group recorded in ``DEPLOYMENT_GROUP_TAG`` (``<application>/<group>``), if it
    still exists and deploys the service; None sends the caller to the scan."""
    application, _, name = tags.get(DEPLOYMENT_GROUP_TAG, "").partition("/")
    if APPLICATION_TAG in tags or not application or not name:
        return None
    try:
        group = _get_deployment_group(call, aws, application, name)
    except ResourceNotFoundError:
        return None
    return group if group.maps(cluster, service) else None


def _tag_value(group: DeploymentGroup) -> str | None:
    """``<application>/<group>`` for ``DEPLOYMENT_GROUP_TAG``; None when ECS would not take
    it as a tag value or it could not be read back unambiguously."""
    value = f"{group.application}/{group.name}"
    if "/" in group.application or not _TAG_VALUE.fullmatch(value):
        return None
    return value


def record_deployment_group(call: Caller, aws: Clients, service_arn: str, value: str) -> bool:
    """Tag the service with the group a scan found (``discover_recordable``'s value), so the
    next release does not scan. One TagResource; False when it was refused (the next
    release then scans again, which is all a missing record costs)."""
    try:
        call(
            "TagResource",
            aws.ecs.tag_resource,
            resourceArn=service_arn,
            tags=[{"key": DEPLOYMENT_GROUP_TAG, "value": value}],
        )
    except AWSError:
        return False
    return True


def _caller(caller: Caller | None, clock: Clock | None) -> Caller:
    """``caller``, or a new ``Caller`` retrying on ``clock`` (the real one when None)."""
    return caller if caller is not None else Caller(clock=clock or MonotonicClock())


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


def _describe_service(call: Caller, aws: Clients, cluster: str, service: str) -> dict[str, Any]:
    where = f"service {service!r} in cluster {cluster!r} ({aws.ecs.meta.region_name})"
    try:
        answer = call(
            "DescribeServices",
            aws.ecs.describe_services,
            cluster=cluster,
            services=[service],
            include=["TAGS"],
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


def _get_deployment_group(
    call: Caller, aws: Clients, application: str, name: str
) -> DeploymentGroup:
    info = call(
        "GetDeploymentGroup",
        aws.codedeploy.get_deployment_group,
        applicationName=application,
        deploymentGroupName=name,
    )["deploymentGroupInfo"]
    return DeploymentGroup.from_api(info)


def _paged(call: Caller, operation: str, method: Any, key: str, **kwargs: Any) -> Iterator[Any]:
    arguments: dict[str, Any] = dict(kwargs)
    while True:
        page = call(operation, method, **arguments)
        yield from page.get(key, ())
        token = page.get("nextToken")
        if not token:
            return
        arguments["nextToken"] = token


def find_deployment_group(
    cluster: str,
    service: str,
    *,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    clock: Clock | None = None,
    caller: Caller | None = None,
) -> DeploymentGroup:
    """Find the deployment group that deploys ``cluster``/``service``.

    Tries the console's naming first (one call), then scans every ECS application (see the
    module docstring for the cost). ``clients``, ``session``, ``clock`` and ``caller`` are
    as for ``discover``.

    Raises:
        ResourceNotFoundError: no deployment group lists this service.
    """
    aws = resolve_clients(clients, session)
    return _find(_caller(caller, clock), aws, cluster, service)[0]


def _find(call: Caller, aws: Clients, cluster: str, service: str) -> tuple[DeploymentGroup, bool]:
    """``find_deployment_group``'s group, and whether it took a scan."""
    conventional = (f"AppECS-{cluster}-{service}", f"DgpECS-{cluster}-{service}")
    try:
        group = _get_deployment_group(call, aws, *conventional)
    except ResourceNotFoundError:
        pass
    else:
        if group.maps(cluster, service):
            return group, False

    codedeploy = aws.codedeploy
    names = list(_paged(call, "ListApplications", codedeploy.list_applications, "applications"))
    ecs_apps = []
    for start in range(0, len(names), 100):
        infos = call(
            "BatchGetApplications",
            codedeploy.batch_get_applications,
            applicationNames=names[start : start + 100],
        ).get("applicationsInfo", [])
        ecs_apps += [i["applicationName"] for i in infos if i.get("computePlatform") == "ECS"]
    for app in ecs_apps:
        groups = list(
            _paged(
                call,
                "ListDeploymentGroups",
                codedeploy.list_deployment_groups,
                "deploymentGroups",
                applicationName=app,
            )
        )
        for start in range(0, len(groups), 100):
            group_infos = call(
                "BatchGetDeploymentGroups",
                codedeploy.batch_get_deployment_groups,
                applicationName=app,
                deploymentGroupNames=groups[start : start + 100],
            ).get("deploymentGroupsInfo", [])
            for info in group_infos:
                group = DeploymentGroup.from_api(info, compute_platform="ECS")
                if group.maps(cluster, service):
                    return group, True
    raise ResourceNotFoundError(
        f"no CodeDeploy deployment group deploys {cluster}/{service} (searched "
        f"{len(ecs_apps)} ECS application(s)): create one, or "
        + advice(
            "pass application= and deployment_group=", "give --application and --deployment-group"
        ),
        operation="BatchGetDeploymentGroups",
        code="DeploymentGroupNotFound",
    )


def _target_groups(call: Caller, aws: Clients, group: DeploymentGroup) -> TargetGroupPair | None:
    if group.target_group_names is None:
        return None
    found = call(
        "DescribeTargetGroups",
        aws.elbv2.describe_target_groups,
        Names=list(group.target_group_names),
    )["TargetGroups"]
    by_name = {tg["TargetGroupName"]: TargetGroup.from_api(tg) for tg in found}
    first, second = (by_name.get(n) for n in group.target_group_names)
    if first is None or second is None:
        return None
    return TargetGroupPair(first=first, second=second)


def _listeners(
    call: Caller, aws: Clients, group: DeploymentGroup, *, include_rules: bool
) -> tuple[ListenerRoute | None, ListenerRoute | None]:
    arns = [a for a in (group.production_listener_arn, group.test_listener_arn) if a]
    if not arns:
        return (None, None)
    answer = call("DescribeListeners", aws.elbv2.describe_listeners, ListenerArns=arns)
    found = {listener["ListenerArn"]: listener for listener in answer["Listeners"]}
    routes: list[ListenerRoute | None] = []
    for arn in (group.production_listener_arn, group.test_listener_arn):
        listener = found.get(arn) if arn else None
        if arn is None or listener is None:
            routes.append(None)
            continue
        rules: list[Any] = []
        if include_rules:
            described = call("DescribeRules", aws.elbv2.describe_rules, ListenerArn=arn)
            rules = list(described["Rules"])
        routes.append(ListenerRoute.from_api(listener, rules))
    return (routes[0], routes[1])
