"""Deleting the analysis's alarm nets that no deployment needs any more, for whoever outlives
a release: ``bluegreen recover``, the EventBridge safety net, the end of ``Deployment.wait``.

A net (``bluegreen.analysis_alarm``) is found by its name prefix and its tags. One tagged with a
deployment is deleted once that deployment, and the rollback it started, has ended. One without
(its release died before it could tag it) is deleted once it is older than the pending limit and
the deployment group has no deployment in flight: deleting a net while its deployment runs makes
CodeDeploy stop that deployment. Every call goes through ``bluegreen._aws.Caller``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.analysis_alarm import (
    CLUSTER_TAG,
    CREATED_TAG,
    DEPLOYMENT_TAG,
    SERVICE_TAG,
    delete_alarms,
    net_prefix,
    short_name,
)
from bluegreen.clock import wall_now
from bluegreen.errors import ResourceNotFoundError
from bluegreen.listing import ACTIVE_STATUSES, list_deployments, still_running
from bluegreen.scaling_record import PENDING_LIMIT

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients

__all__ = ["NetCleanup", "remove_ended_nets"]


@attrs.frozen(kw_only=True)
class NetCleanup:
    """What ``remove_ended_nets`` did: the nets removed and kept, each with why."""

    removed: tuple[tuple[str, str], ...] = ()
    kept: tuple[tuple[str, str], ...] = ()

    @property
    def removed_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.removed)

    def __str__(self) -> str:
        lines = [f"removed alarm net {name} ({why})" for name, why in self.removed]
        lines += [f"kept alarm net {name} ({why})" for name, why in self.kept]
        return "\n".join(lines) or "no alarm net to remove"

    def to_dict(self) -> dict[str, Any]:
        return {
            "removed": [{"name": n, "why": w} for n, w in self.removed],
            "kept": [{"name": n, "why": w} for n, w in self.kept],
        }


def _nets(caller: Caller, clients: Clients, cluster: str, service: str) -> list[dict[str, Any]]:
    """The service's net alarms with their tags (``Tags``): DescribeAlarms by the name prefix
    (every page), then ListTagsForResource of each; alarms whose tags name another service
    (a longer name with the same prefix) or no service are left out."""
    arguments: dict[str, Any] = {"AlarmNamePrefix": net_prefix(cluster, service)}
    alarms: list[dict[str, Any]] = []
    while True:
        page = caller("DescribeAlarms", clients.cloudwatch.describe_alarms, **arguments)
        alarms += [dict(a) for a in page.get("MetricAlarms", [])]
        if not page.get("NextToken"):
            break
        arguments["NextToken"] = page["NextToken"]
    found = []
    for alarm in alarms:
        try:
            listed = caller(
                "ListTagsForResource",
                clients.cloudwatch.list_tags_for_resource,
                ResourceARN=alarm["AlarmArn"],
            )
        except ResourceNotFoundError:
            continue  # deleted in between
        tags = {t["Key"]: t["Value"] for t in listed.get("Tags", [])}
        ours = (tags.get(CLUSTER_TAG), tags.get(SERVICE_TAG))
        if ours == (short_name(cluster), short_name(service)):
            found.append({**alarm, "Tags": tags})
    return found


def _group_in_flight(caller: Caller, clients: Clients, cluster: str, service: str) -> list[str]:
    from bluegreen.discovery import find_deployment_group

    try:
        group = find_deployment_group(
            short_name(cluster), short_name(service), clients=clients, caller=caller
        )
    except ResourceNotFoundError:
        return []
    return list_deployments(caller, clients, group.application, group.name, ACTIVE_STATUSES)


def _created(alarm: Mapping[str, Any]) -> dt.datetime | None:
    text = alarm["Tags"].get(CREATED_TAG)
    if text:
        try:
            return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    stamp = alarm.get("AlarmConfigurationUpdatedTimestamp")
    return stamp if isinstance(stamp, dt.datetime) else None


def remove_ended_nets(
    caller: Caller,
    clients: Clients,
    cluster: str,
    service: str,
    *,
    deployment_id: str | None = None,
    pending_limit: dt.timedelta = PENDING_LIMIT,
) -> NetCleanup:
    """Delete the service's net alarms that no deployment needs any more.

    A net tagged with a deployment is deleted once that deployment, and the rollback it
    started, has ended (or does not exist). A net without one (its release died before
    CreateDeployment answered, or before ``attach``) is deleted once it is older than
    ``pending_limit`` and the deployment group has no deployment in flight: while one is, it
    may be that deployment's net, and deleting it would make CodeDeploy stop it.

    Args:
        deployment_id: only the nets tagged with this deployment (the end of its wait).
        pending_limit: how long a net without a deployment id is left to its release.

    Raises:
        AWSError: a call failed (throttling and 5xx are retried first); nothing that was
            not deleted yet is lost, the next cleanup deletes it.
    """
    now = wall_now(caller.clock)
    removed: list[tuple[str, str]] = []
    kept: list[tuple[str, str]] = []
    in_flight: list[str] | None = None
    for alarm in _nets(caller, clients, cluster, service):
        name, tags = str(alarm["AlarmName"]), alarm["Tags"]
        owner = tags.get(DEPLOYMENT_TAG)
        if deployment_id is not None and owner != deployment_id:
            continue
        if owner:
            running = still_running(caller, clients, owner)
            if running is None:
                removed.append((name, f"deployment {owner} ended"))
            else:
                kept.append((name, f"deployment {running[0]} is {running[1]}"))
            continue
        created = _created(alarm)
        if pending_limit > dt.timedelta(0) and (created is None or now - created < pending_limit):
            kept.append((name, "its release may still create its deployment"))
            continue
        if in_flight is None:
            in_flight = _group_in_flight(caller, clients, cluster, service)
        if in_flight:
            kept.append((name, f"no deployment id, and deployment {in_flight[0]} is in flight"))
        else:
            removed.append((name, "its release died before its deployment started"))
    delete_alarms(caller, clients, [name for name, _ in removed])
    return NetCleanup(removed=tuple(removed), kept=tuple(kept))
