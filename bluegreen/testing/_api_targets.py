"""The CodeDeploy API's deployment targets: an ECS deployment has one, ``<cluster>:<service>``,
with its lifecycle events and both task sets (contract 5.5)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bluegreen.status import DeploymentStatus
from bluegreen.testing._context import SimContext
from bluegreen.testing._moto import MotoState
from bluegreen.testing._records import DeploymentRecord
from bluegreen.testing._wire import ApiError, require

__all__ = ["Targets", "deployment_target"]

# An ECS deployment target id: ``<cluster>:<service>`` (ECS names: letters, digits, - and _).
_ECS_TARGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}:[A-Za-z0-9_-]{1,255}$")
_PREDEFINED_CREATE_TIME = 1541030400.0


class Targets:
    """ListDeploymentTargets, GetDeploymentTarget, BatchGetDeploymentTargets."""

    def __init__(self, sim: SimContext) -> None:
        self.sim = sim
        self.store = sim.store

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    def _started(self, body: Mapping[str, Any]) -> DeploymentRecord:
        record = self.store.deployment(body)
        if record.status is DeploymentStatus.CREATED:
            raise ApiError(
                "DeploymentNotStartedException", f"The deployment {record.id} has not started"
            )
        return record

    def op_list_deployment_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._started(body)
        wanted = set((body.get("targetFilters") or {}).get("TargetStatus") or ())
        ids = [record.target_id] if not wanted or record.target_status in wanted else []
        return {"targetIds": ids}

    def _check_target(self, record: DeploymentRecord, target: Any) -> None:
        """A target id that is not ``<cluster>:<service>`` is invalid; a well-formed one of
        another service does not exist in this deployment."""
        if not isinstance(target, str) or not _ECS_TARGET_ID.match(target):
            raise ApiError(
                "InvalidDeploymentTargetIdException",
                f"The target ID {target} is invalid: an Amazon ECS deployment target ID has "
                "the form <clustername>:<servicename>",
            )
        if target != record.target_id:
            raise ApiError(
                "DeploymentTargetDoesNotExistException",
                f"The deployment target {target} does not exist in deployment {record.id}",
            )

    def op_get_deployment_target(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._started(body)
        target = require(body, "targetId", "DeploymentTargetIdRequiredException")
        self._check_target(record, target)
        return {"deploymentTarget": deployment_target(self.sim.moto, record)}

    def op_batch_get_deployment_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._started(body)
        ids = require(body, "targetIds", "DeploymentTargetIdRequiredException")
        if len(ids) != 1:
            raise ApiError(
                "DeploymentTargetListSizeExceededException",
                "ECS and Lambda deployment target lists must have exactly one item",
            )
        self._check_target(record, ids[0])
        return {"deploymentTargets": [deployment_target(self.sim.moto, record)]}


def deployment_target(moto: MotoState, record: DeploymentRecord) -> dict[str, Any]:
    """The ``deploymentTarget`` of ``record``: the ECS service, its events and task sets."""
    svc = moto.service(record.cluster, record.service)
    task_sets = []
    if svc is not None:
        weights = dict(moto.listener_weights(record.production_listener or ""))
        total = sum(weights.values()) or 1
        for label, arn in (("Blue", record.blue_arn), ("Green", record.green_arn)):
            ts = moto.find_task_set(svc, arn or "")
            if ts is None:
                continue
            tg = (ts.load_balancers or [{}])[0].get("targetGroupArn", "")
            task_sets.append(
                {
                    "identifer": ts.id,
                    "desiredCount": int(getattr(ts, "computed_desired_count", 0)),
                    "pendingCount": int(getattr(ts, "pending_count", 0)),
                    "runningCount": int(getattr(ts, "running_count", 0)),
                    "status": ts.status,
                    "trafficWeight": 100.0 * weights.get(tg, 0) / total,
                    "targetGroup": {"name": tg.split("/")[1] if "/" in tg else tg},
                    "taskSetLabel": label,
                }
            )
    return {
        "deploymentTargetType": "ECSTarget",
        "ecsTarget": {
            "deploymentId": record.id,
            "targetId": record.target_id,
            "targetArn": svc.arn if svc is not None else "",
            "lastUpdatedAt": record.target_updated or record.create_time,
            "lifecycleEvents": [e.to_api() for e in record.events],
            "status": record.target_status,
            "taskSetsInfo": task_sets,
        },
    }
