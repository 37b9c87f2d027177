"""An ECS task set (one version of the service, running beside the others) as ECS describes
it (``TaskSet``) and as a CodeDeploy deployment target reports it (``TaskSetProgress``), and
the container and port a target group sends traffic to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.status import StabilityStatus, TargetLabel, TaskSetStatus

__all__ = ["LoadBalancerBinding", "TaskSet", "TaskSetProgress"]


@attrs.frozen(kw_only=True)
class LoadBalancerBinding:
    """Which container and port of a service (or task set) a target group sends traffic to."""

    target_group_arn: str | None
    container_name: str
    container_port: int

    @classmethod
    def from_api(cls, lb: Mapping[str, Any]) -> LoadBalancerBinding:
        return cls(
            target_group_arn=lb.get("targetGroupArn"),
            container_name=lb.get("containerName", ""),
            container_port=int(lb.get("containerPort", 0)),
        )


@attrs.frozen(kw_only=True)
class TaskSet:
    """One ECS task set: a version of the service running side by side with others."""

    id: str
    arn: str
    status: TaskSetStatus
    task_definition: str
    desired_count: int
    running_count: int
    pending_count: int
    scale_percent: float
    stability: StabilityStatus | None
    target_group_arn: str | None
    external_id: str | None = None
    started_by: str | None = None
    created_at: dt.datetime | None = None

    @classmethod
    def from_api(cls, task_set: Mapping[str, Any]) -> TaskSet:
        lbs = task_set.get("loadBalancers") or []
        stability = task_set.get("stabilityStatus")
        return cls(
            id=task_set["id"],
            arn=task_set.get("taskSetArn", ""),
            status=TaskSetStatus(task_set["status"]),
            task_definition=task_set.get("taskDefinition", ""),
            desired_count=int(task_set.get("computedDesiredCount", 0)),
            running_count=int(task_set.get("runningCount", 0)),
            pending_count=int(task_set.get("pendingCount", 0)),
            scale_percent=float((task_set.get("scale") or {}).get("value", 0.0)),
            stability=StabilityStatus(stability) if stability else None,
            target_group_arn=lbs[0].get("targetGroupArn") if lbs else None,
            external_id=task_set.get("externalId") or None,
            started_by=task_set.get("startedBy") or None,
            created_at=task_set.get("createdAt"),
        )

    @property
    def revision(self) -> str:
        """``web:12`` from the task-definition ARN."""
        return self.task_definition.rsplit("/", 1)[-1]

    @property
    def is_steady(self) -> bool:
        return self.stability is StabilityStatus.STEADY_STATE


@attrs.frozen(kw_only=True)
class TaskSetProgress:
    """A task set as the deployment target reports it (``ECSTaskSet``)."""

    id: str
    label: TargetLabel | None
    status: TaskSetStatus | None
    desired_count: int
    pending_count: int
    running_count: int
    traffic_weight: float
    target_group: str | None = None

    @classmethod
    def from_api(cls, task_set: Mapping[str, Any]) -> TaskSetProgress:
        label = task_set.get("taskSetLabel")
        status = task_set.get("status")
        return cls(
            # "identifer" is how the wire format spells it.
            id=task_set.get("identifer") or task_set.get("identifier") or "",
            label=TargetLabel(label) if label else None,
            status=TaskSetStatus(status) if status else None,
            desired_count=int(task_set.get("desiredCount", 0)),
            pending_count=int(task_set.get("pendingCount", 0)),
            running_count=int(task_set.get("runningCount", 0)),
            traffic_weight=float(task_set.get("trafficWeight", 0.0)),
            target_group=(task_set.get("targetGroup") or {}).get("name"),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "label": str(self.label) if self.label else None,
            "status": str(self.status) if self.status else None,
            "desired": self.desired_count,
            "pending": self.pending_count,
            "running": self.running_count,
            "traffic_weight": self.traffic_weight,
            "target_group": self.target_group,
        }
