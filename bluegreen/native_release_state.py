"""A release's deployments of an ECS-native service, read back from AWS.

A service deployment has no description; the release's is a tag on the service, keyed by the
task definition the deployment deploys (``bluegreen.native_description``). So the service's
tags (in the DescribeServices answer that told the service is native) say first whether the
release deployed it at all: a service without a tag carrying the release's marker costs no
further call. Otherwise ListServiceDeployments lists the service's deployments created since
the earliest such tag was written, DescribeServiceRevisions names the task definition of
each one's target revision, and each tag describes the first deployment of its task
definition created after the tag was written (a revision deployed again later, by a rollback
or by hand, is another deployment).

The deployments are returned in the shape of CodeDeploy's ``deploymentInfo`` (the fields
``bluegreen.release_state`` reads), their status mapped onto CodeDeploy's vocabulary, so a
release's state reads the same whatever kind its services are:

======================  =============  ================================================
ECS status              as             why
======================  =============  ================================================
PENDING                 Created        not started yet
IN_PROGRESS             InProgress
STOP_REQUESTED          InProgress     still changing the service
SUCCESSFUL              Succeeded
STOPPED                 Stopped
ROLLBACK_REQUESTED,     Failed         the deployment failed (or was stopped) and is
ROLLBACK_IN_PROGRESS                   rolled back, as CodeDeploy's failed deployment
ROLLBACK_SUCCESSFUL,                   whose own rollback runs or ran
ROLLBACK_FAILED
======================  =============  ================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bluegreen.manifest import parse_marker
from bluegreen.native_description import decode_value, description_tags, tag_key
from bluegreen.status import DeploymentStatus

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = ["NATIVE_STATUSES", "native_release_deployments"]

NATIVE_STATUSES: Mapping[str, DeploymentStatus] = {
    "PENDING": DeploymentStatus.CREATED,
    "IN_PROGRESS": DeploymentStatus.IN_PROGRESS,
    "STOP_REQUESTED": DeploymentStatus.IN_PROGRESS,
    "SUCCESSFUL": DeploymentStatus.SUCCEEDED,
    "STOPPED": DeploymentStatus.STOPPED,
    "ROLLBACK_REQUESTED": DeploymentStatus.FAILED,
    "ROLLBACK_IN_PROGRESS": DeploymentStatus.FAILED,
    "ROLLBACK_SUCCESSFUL": DeploymentStatus.FAILED,
    "ROLLBACK_FAILED": DeploymentStatus.FAILED,
}
"""A service deployment's status, in CodeDeploy's words (the module docstring says why)."""

_ENDED = frozenset({"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"})

MARGIN = dt.timedelta(seconds=2)
"""How much earlier than its tag's time a deployment may seem created (the tag's time is
ECS's ``Date`` header, to the second)."""

_REVISIONS = 20
"""DescribeServiceRevisions takes at most this many ARNs."""


def native_release_deployments(
    raw: Mapping[str, Any],
    release_id: str,
    *,
    clients: Clients,
    call: Caller,
    since: dt.datetime | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The release's newest deployment of a native service and its newest rollback of it.

    Args:
        raw: DescribeServices' answer for the service, read with ``include=["TAGS"]``.
        release_id: the release's id.
        clients: the clients of the service's account and region.
        call: the ``Caller`` every call goes through.
        since: only deployments created at or after this moment.

    Returns:
        ``(deployment, rollback)`` as ``bluegreen.release_state.find_release_deployments``:
        dicts with CodeDeploy's ``deploymentInfo`` keys (``deploymentId`` is the
        ``serviceDeploymentArn``; ``serviceDeploymentStatus`` keeps ECS's own status), or
        None. A rollback counts only when created after the deployment.

    Raises:
        AWSError: a call failed.
    """
    ours = {}
    for key, value in description_tags(raw.get("tags")).items():
        recorded = decode_value(value)
        marker = parse_marker(recorded.description)
        if marker is not None and marker.release == release_id:
            ours[key] = recorded
    if not ours:
        return None, None
    after = since
    written = [r.written_at for r in ours.values()]
    if all(w is not None for w in written):
        earliest = min(w for w in written if w is not None) - MARGIN
        after = earliest if after is None else max(after, earliest)
    briefs = list(_listed(call, clients, raw, after))
    task_definitions = _task_definitions(
        call,
        clients,
        [b["targetServiceRevisionArn"] for b in briefs if b.get("targetServiceRevisionArn")],
    )
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for brief in briefs:
        task_definition = task_definitions.get(brief.get("targetServiceRevisionArn") or "")
        if task_definition is not None:
            by_key.setdefault(tag_key(task_definition), []).append(brief)
    deployment: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None
    for key, recorded in ours.items():
        candidates = by_key.get(key, [])
        if recorded.written_at is not None:
            since_written = recorded.written_at - MARGIN
            candidates = [b for b in candidates if _created(b) >= since_written]
            chosen = min(candidates, key=_created, default=None)
        else:
            chosen = max(candidates, key=_created, default=None)
        if chosen is None:
            continue  # written, then the UpdateService never happened (or is not listed yet)
        info = deployment_info(chosen, recorded.description)
        info["taskDefinition"] = task_definitions[chosen["targetServiceRevisionArn"]]
        marker = parse_marker(recorded.description)
        if marker is not None and marker.rollback:
            rollback = _newer(rollback, info)
        else:
            deployment = _newer(deployment, info)
    if (
        rollback is not None
        and deployment is not None
        and _created(rollback) < _created(deployment)
    ):
        rollback = None  # the release deployed the service again after rolling it back
    return deployment, rollback


def deployment_info(brief: Mapping[str, Any], description: str | None) -> dict[str, Any]:
    """A service deployment (ListServiceDeployments' or DescribeServiceDeployments' shape)
    as CodeDeploy's ``deploymentInfo``: ``deploymentId``, ``description``, ``status``,
    ``createTime``, ``completeTime`` (once ended), ``errorInformation`` (when it did not
    succeed), and ECS's own ``serviceDeploymentStatus`` (``find_release_deployments`` adds
    the ``taskDefinition`` it deploys)."""
    status = str(brief.get("status") or "")
    mapped = NATIVE_STATUSES.get(status)
    info: dict[str, Any] = {
        "deploymentId": brief.get("serviceDeploymentArn"),
        "description": description,
        "status": str(mapped) if mapped is not None else status,
        "createTime": brief.get("createdAt") or brief.get("startedAt"),
        "serviceDeploymentStatus": status,
    }
    finished = brief.get("finishedAt") or brief.get("stoppedAt")
    if status in _ENDED and finished is not None:
        info["completeTime"] = finished
    if mapped in (DeploymentStatus.FAILED, DeploymentStatus.STOPPED):
        info["errorInformation"] = {"code": status, "message": brief.get("statusReason") or ""}
    return info


def _listed(
    call: Caller, clients: Clients, raw: Mapping[str, Any], after: dt.datetime | None
) -> Iterator[Mapping[str, Any]]:
    """The service's deployments (created after ``after``), every page."""
    arguments: dict[str, Any] = {
        "cluster": raw.get("clusterArn"),
        "service": raw.get("serviceArn") or raw.get("serviceName"),
        "maxResults": 100,
    }
    if after is not None:
        arguments["createdAt"] = {"after": after}
    while True:
        page = call("ListServiceDeployments", clients.ecs.list_service_deployments, **arguments)
        yield from page.get("serviceDeployments", ())
        token = page.get("nextToken")
        if not token:
            return
        arguments["nextToken"] = token


def _task_definitions(call: Caller, clients: Clients, arns: list[str]) -> dict[str, str]:
    """Each service revision's task definition (a revision ECS no longer describes, such as
    one older than October 2024, is left out)."""
    unique = list(dict.fromkeys(arns))
    found: dict[str, str] = {}
    for start in range(0, len(unique), _REVISIONS):
        answer = call(
            "DescribeServiceRevisions",
            clients.ecs.describe_service_revisions,
            serviceRevisionArns=unique[start : start + _REVISIONS],
        )
        for revision in answer.get("serviceRevisions", ()):
            if revision.get("serviceRevisionArn") and revision.get("taskDefinition"):
                found[revision["serviceRevisionArn"]] = revision["taskDefinition"]
    return found


def _created(info: Mapping[str, Any]) -> dt.datetime:
    when = info.get("createTime") or info.get("createdAt") or info.get("startedAt")
    return when if isinstance(when, dt.datetime) else dt.datetime.min.replace(tzinfo=dt.UTC)


def _newer(best: dict[str, Any] | None, info: dict[str, Any]) -> dict[str, Any]:
    return info if best is None or _created(info) > _created(best) else best
