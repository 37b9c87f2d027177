"""Rolling back a deployment that succeeded: find the last known good version and build the
request that deploys it again.

The last known good version is the one the group's previous successful deployment (not
counting CodeDeploy's own rollbacks) deployed. Its AppSpec is re-used, hooks included,
rebuilt for the live service so that network and platform settings are today's. The request
is a ``CreateRequest`` (``bluegreen.create``), the same path ``deploy`` takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bluegreen._advice import advice
from bluegreen.appspec import AppSpec
from bluegreen.controls import RollbackOrigin, check_can_roll_back, short_task_definition
from bluegreen.create import CreateRequest
from bluegreen.discovery import discover
from bluegreen.errors import DeploymentStateError
from bluegreen.listing import batch_get_deployments, list_deployments
from bluegreen.snapshot import ROLLBACK_CREATOR, DeploymentSnapshot

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = ["rollback_request"]


def rollback_request(
    call: Caller,
    aws: Clients,
    info: Mapping[str, Any],
    target_id: Callable[[], str],
    *,
    description: str | None,
    now: Callable[[], dt.datetime],
    discover_with: Caller,
) -> tuple[CreateRequest, RollbackOrigin]:
    """The request that deploys again what was live before the deployment ``info``
    (GetDeployment's ``deploymentInfo``; ``target_id()`` reads its ECS target,
    ``cluster:service``), and what it rolls back; nothing is created yet.

    ``call`` makes the calls counted as the deployment's; ``discover_with`` makes
    discover's.

    Raises:
        DeploymentStateError: the deployment is still running, did not succeed (or was
            already rolled back), is no longer what the service runs, or no earlier
            successful deployment exists; the message says what to do instead.
    """
    snapshot = DeploymentSnapshot.from_api(info)
    check_can_roll_back(snapshot)
    deployment_id = snapshot.deployment_id
    application = info["applicationName"]
    group_name = info["deploymentGroupName"]
    cluster, _, service = target_id().partition(":")

    def refuse(why: str) -> DeploymentStateError:
        return DeploymentStateError(
            f"cannot roll back deployment {deployment_id}: {why}",
            deployment_id=deployment_id,
            status=snapshot.status,
        )

    state = discover(
        cluster,
        service,
        application=application,
        deployment_group=group_name,
        clients=aws,
        caller=discover_with,
    )
    group = state.deployment_group
    if group is not None and group.active_deployment_id:
        raise refuse(
            f"deployment {group.active_deployment_id} is running in {application}/{group_name}; "
            "wait for it to end, or "
            + advice(
                "abort() it",
                f"stop it with `bluegreen abort --deployment-id {group.active_deployment_id}`",
            )
        )
    ours = _appspec(call, aws, application, info.get("revision") or {})
    live = state.primary.task_definition if state.primary else state.task_definition
    if ours is not None and live and not _same_task_definition(ours.task_definition, live):
        raise refuse(
            f"the service runs {short_task_definition(live)} now, not "
            f"{short_task_definition(ours.task_definition)} which this deployment put live; a "
            "later deployment replaced it, roll back that one instead"
        )

    previous = _previous_success(call, aws, info)
    if previous is None:
        raise refuse(
            f"{application}/{group_name} has no successful deployment before it, so there is "
            "no known good version to go back to; deploy a task definition explicitly ("
            + advice(
                "bluegreen.deploy(cluster, service, task_definition=...)",
                "bluegreen deploy --task-definition ...",
            )
            + ")"
        )
    previous_id, previous_revision = previous
    good = _appspec(call, aws, application, previous_revision)
    if good is None:
        raise refuse(
            f"the last known good deployment {previous_id} used a "
            f"{previous_revision.get('revisionType')} revision, whose AppSpec bluegreen cannot "
            "read back; deploy its task definition explicitly"
        )
    appspec = AppSpec.for_service(state, good.task_definition, hooks=good.hooks)
    text = description or (
        f"bluegreen rollback of {deployment_id} to "
        f"{short_task_definition(good.task_definition)} (from {previous_id})"
    )
    request = CreateRequest(
        aws=aws,
        call=call,
        application=application,
        deployment_group=group_name,
        appspec=appspec,
        description=text,
        now=now,
    )
    origin = RollbackOrigin(
        rolled_back=deployment_id,
        task_definition=good.task_definition,
        replaced_task_definition=ours.task_definition if ours is not None else None,
        last_good=previous_id,
    )
    return request, origin


def _same_task_definition(a: str, b: str) -> bool:
    """Whether two task-definition references name the same revision (ARN or family:rev);
    a bare family name cannot be compared and counts as the same."""
    a, b = short_task_definition(a), short_task_definition(b)
    if ":" not in a or ":" not in b:
        return True
    return a == b


def _appspec(
    call: Caller, aws: Clients, application: str, revision: Mapping[str, Any]
) -> AppSpec | None:
    """The AppSpec of a revision, from GetApplicationRevision; None for S3 revisions."""
    kind = revision.get("revisionType")
    if kind not in ("AppSpecContent", "String"):
        return None
    key = "appSpecContent" if kind == "AppSpecContent" else "string"
    body = revision.get(key) or {}
    content = body.get("content")
    if not content:
        answer = call(
            "GetApplicationRevision",
            aws.codedeploy.get_application_revision,
            applicationName=application,
            revision={"revisionType": kind, key: {"sha256": body.get("sha256", "")}},
        )
        found: Mapping[str, Any] = answer.get("revision") or {}
        content = (found.get(key) or {}).get("content")
    if not content:
        return None
    return AppSpec.parse(content)


def _previous_success(
    call: Caller, aws: Clients, info: Mapping[str, Any]
) -> tuple[str, Mapping[str, Any]] | None:
    """(id, revision) of the group's newest user deployment that succeeded before ``info``
    was created, skipping CodeDeploy's rollbacks."""
    created = info.get("createTime")
    ranged: dict[str, Any] = {"createTimeRange": {"end": created}} if created else {}
    ids = [
        i
        for i in list_deployments(
            call,
            aws,
            info["applicationName"],
            info["deploymentGroupName"],
            ["Succeeded"],
            **ranged,
        )
        if i != info["deploymentId"]
    ]
    best: Mapping[str, Any] | None = None
    newest_first = True
    last_seen: dt.datetime | None = None
    for start in range(0, len(ids), 25):
        for candidate in batch_get_deployments(call, aws, ids[start : start + 25]):
            when = candidate.get("createTime")
            if when is not None and last_seen is not None and when > last_seen:
                newest_first = False
            last_seen = when if when is not None else last_seen
            if (
                candidate.get("creator") == ROLLBACK_CREATOR
                or (candidate.get("rollbackInfo") or {}).get("rollbackDeploymentId")
                or (created is not None and when is not None and when >= created)
            ):
                continue
            if best is None or (when is not None and when > best["createTime"]):
                best = candidate
        # ListDeployments lists newest first in practice; rely on it only when the
        # answers bear it out.
        if best is not None and newest_first:
            break
    if best is None:
        return None
    return best["deploymentId"], best.get("revision") or {}
