"""The CodeDeploy API's deployments: CreateDeployment, reading deployments and revisions,
and the controls (StopDeployment, ContinueDeployment, hook status reports) that hand over to
the lifecycle."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from bluegreen.testing._api_configs import Configs
from bluegreen.testing._api_groups import check_alarms, check_rollback
from bluegreen.testing._context import SimContext
from bluegreen.testing._lifecycle import Lifecycle
from bluegreen.testing._records import DeploymentRecord, deployment_overview, target_group_pair
from bluegreen.testing._wire import ApiError, page, require

__all__ = ["Deployments"]

# The DeploymentStatus enum of botocore's codedeploy model.
_DEPLOYMENT_STATUSES = (
    "Created",
    "Queued",
    "InProgress",
    "Baking",
    "Succeeded",
    "Failed",
    "Stopped",
    "Ready",
)
# The deploymentOverview keys of botocore's model, each a TargetStatus value.


class Deployments:
    """CreateDeployment, GetDeployment, BatchGetDeployments, ListDeployments,
    GetApplicationRevision, StopDeployment, ContinueDeployment,
    SkipWaitTimeForInstanceTermination, PutLifecycleEventHookExecutionStatus."""

    def __init__(self, sim: SimContext, configs_api: Configs, lifecycle: Lifecycle) -> None:
        self.sim = sim
        self.store = sim.store
        self.configs_api = configs_api
        self.lifecycle = lifecycle

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    def op_create_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self.store.application(body)
        group = self.store.group(body)
        if app["computePlatform"] != "ECS":
            raise ApiError("InvalidComputePlatformException", "the application is not ECS")
        config_name = body.get("deploymentConfigName") or group["deploymentConfigName"]
        config = self.configs_api.traffic_config(config_name)
        self.configs_api.check_fits_load_balancer(config, target_group_pair(group))
        revision = body.get("revision")
        if not revision:
            raise ApiError("RevisionRequiredException", "RevisionLocation must be specified")
        content = _revision_content(revision)
        description = body.get("description")
        if description is not None and len(description) > 256:
            raise ApiError("DescriptionTooLongException", "The description is too long")
        if body.get("deploymentMode") == "RESTART":
            raise ApiError("InvalidInputException", "RESTART is not supported for ECS deployments")
        rollback = body.get("autoRollbackConfiguration")
        if rollback is not None:
            check_rollback(rollback)
        else:
            rollback = group.get("autoRollbackConfiguration") or {}
        alarm_config = (
            body.get("overrideAlarmConfiguration") or group.get("alarmConfiguration") or {}
        )
        check_alarms(alarm_config)
        active = self.store.active_in_group(app["applicationName"], group["deploymentGroupName"])
        if active is not None:
            raise ApiError(
                "DeploymentLimitExceededException",
                f"The Deployment Group '{group['deploymentGroupName']}' already has an active "
                f"Deployment '{active.id}'",
            )
        service = group["ecsServices"][0]
        sha = hashlib.sha256(content.encode("utf-8")).hexdigest()
        record = DeploymentRecord(
            id=self.store.unique_id(),
            application=app["applicationName"],
            group=group["deploymentGroupName"],
            config=config,
            group_info=json.loads(json.dumps(group)),
            cluster=service["clusterName"],
            service=service["serviceName"],
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"sha256": sha}},
            create_time=self.now,
            description=description,
            auto_rollback=dict(rollback),
            alarm_names=tuple(a["name"] for a in alarm_config.get("alarms") or ())
            if alarm_config.get("enabled")
            else (),
            ignore_poll_alarm_failure=bool(alarm_config.get("ignorePollAlarmFailure")),
            override_alarm_configuration=body.get("overrideAlarmConfiguration"),
        )
        record.extras["content"] = content
        self._register_revision(record, content, sha)
        self.store.add_deployment(record)
        self.lifecycle.begin(record)
        return {"deploymentId": record.id}

    def _register_revision(self, record: DeploymentRecord, content: str, sha: str) -> None:
        key = (record.application, sha)
        info = self.store.revisions.setdefault(
            key,
            {
                "content": content,
                "registerTime": self.now,
                "firstUsedTime": self.now,
                "deploymentGroups": [],
            },
        )
        info["lastUsedTime"] = self.now
        if record.group not in info["deploymentGroups"]:
            info["deploymentGroups"].append(record.group)

    def deployment_info(self, record: DeploymentRecord) -> dict[str, Any]:
        group = record.group_info
        info: dict[str, Any] = {
            "applicationName": record.application,
            "deploymentGroupName": record.group,
            "deploymentConfigName": record.config.name,
            "deploymentId": record.id,
            "revision": record.revision,
            "status": str(record.status),
            "createTime": record.create_time,
            "creator": record.creator,
            "ignoreApplicationStopFailures": False,
            "autoRollbackConfiguration": record.auto_rollback,
            "updateOutdatedInstancesOnly": False,
            "deploymentStyle": group["deploymentStyle"],
            "blueGreenDeploymentConfiguration": group["blueGreenDeploymentConfiguration"],
            "loadBalancerInfo": group["loadBalancerInfo"],
            "fileExistsBehavior": "DISALLOW",
            "deploymentStatusMessages": list(record.status_messages),
            "computePlatform": "ECS",
            "instanceTerminationWaitTimeStarted": False,
        }
        if record.description is not None:
            info["description"] = record.description
        if record.start_time is not None:
            info["startTime"] = record.start_time
        if record.complete_time is not None:
            info["completeTime"] = record.complete_time
        if record.complete_time is not None or self.sim.settings.overview_while_running:
            info["deploymentOverview"] = deployment_overview(record)
        if record.error is not None:
            info["errorInformation"] = record.error
        if record.rollback_info is not None:
            info["rollbackInfo"] = record.rollback_info
        if record.override_alarm_configuration is not None:
            info["overrideAlarmConfiguration"] = record.override_alarm_configuration
        return info

    def op_get_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"deploymentInfo": self.deployment_info(self.store.deployment(body))}

    def op_batch_get_deployments(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = require(body, "deploymentIds", "DeploymentIdRequiredException")
        if len(ids) > 25:
            raise ApiError(
                "BatchLimitExceededException", "The maximum number of deployment ids is 25"
            )
        infos = [
            self.deployment_info(self.store.deployments[i])
            for i in ids
            if i in self.store.deployments
        ]
        return {"deploymentsInfo": infos}

    def op_list_deployments(self, body: dict[str, Any]) -> dict[str, Any]:
        app_name, group_name = body.get("applicationName"), body.get("deploymentGroupName")
        if group_name and not app_name:
            raise ApiError(
                "ApplicationNameRequiredException",
                "applicationName is required with deploymentGroupName",
            )
        if app_name and not group_name:
            raise ApiError(
                "DeploymentGroupNameRequiredException",
                "deploymentGroupName is required with applicationName",
            )
        if app_name:
            self.store.application(body)
            if group_name:
                self.store.group(body)
        statuses = set(body.get("includeOnlyStatuses") or ())
        unknown = sorted(statuses.difference(_DEPLOYMENT_STATUSES))
        if unknown:
            raise ApiError(
                "InvalidDeploymentStatusException",
                f"The deployment status {unknown[0]} is invalid: it should be one of "
                f"{', '.join(_DEPLOYMENT_STATUSES)}",
            )
        time_range = body.get("createTimeRange") or {}
        found = [
            r
            for r in self.store.deployments.values()
            if (not app_name or r.application == app_name)
            and (not group_name or r.group == group_name)
            and (not statuses or str(r.status) in statuses)
            and r.create_time >= float(time_range.get("start", 0))
            and r.create_time <= float(time_range.get("end", float("inf")))
        ]
        found.sort(key=lambda r: r.create_time, reverse=True)
        chunk, token = page([r.id for r in found], body)
        return {"deployments": chunk, **({"nextToken": token} if token else {})}

    def op_get_application_revision(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self.store.application(body)
        revision = body.get("revision") or {}
        if not revision:
            raise ApiError("RevisionRequiredException", "RevisionLocation must be specified")
        sha = (revision.get("appSpecContent") or {}).get("sha256") or (
            revision.get("string") or {}
        ).get("sha256")
        info = self.store.revisions.get((app["applicationName"], sha or ""))
        if info is None:
            raise ApiError("RevisionDoesNotExistException", "No application revision found")
        return {
            "applicationName": app["applicationName"],
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": info["content"], "sha256": sha},
            },
            "revisionInfo": {
                "deploymentGroups": list(info["deploymentGroups"]),
                "firstUsedTime": info["firstUsedTime"],
                "lastUsedTime": info["lastUsedTime"],
                "registerTime": info["registerTime"],
            },
        }

    # -- controls ---------------------------------------------------------------------

    def op_stop_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.store.deployment(body)
        rollback = body.get("autoRollbackEnabled")
        if rollback is None:
            rollback = record.rolls_back_on("DEPLOYMENT_STOP_ON_REQUEST")
        self.lifecycle.stop(record, rollback=bool(rollback))
        return {
            "status": "Succeeded",
            "statusMessage": f"Deployment {record.id} stopped"
            + (", rollback started" if record.rollback_info else ""),
        }

    def op_continue_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.store.deployment(body)
        wait_type = body.get("deploymentWaitType") or "READY_WAIT"
        if wait_type not in ("READY_WAIT", "TERMINATION_WAIT"):
            raise ApiError("InvalidDeploymentWaitTypeException", f"invalid wait type {wait_type}")
        self.lifecycle.continue_(record, wait_type)
        return {}

    def op_skip_wait_time_for_instance_termination(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.store.deployment(body)
        self.lifecycle.continue_(record, "TERMINATION_WAIT")
        return {}

    def op_put_lifecycle_event_hook_execution_status(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.store.deployment(body)
        execution_id = require(
            body, "lifecycleEventHookExecutionId", "InvalidLifecycleEventHookExecutionIdException"
        )
        status = body.get("status")
        if status not in ("Succeeded", "Failed"):
            raise ApiError(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The status {status} is invalid: should return Succeeded or Failed",
            )
        execution = self.store.executions.get(execution_id)
        if execution is None or execution.deployment_id != record.id:
            raise ApiError(
                "InvalidLifecycleEventHookExecutionIdException",
                f"The lifecycle event hook execution id {execution_id} is invalid",
            )
        if execution.reported is not None or record.status.is_terminal:
            raise ApiError(
                "LifecycleEventAlreadyCompletedException",
                "An attempt to return the status of an already completed lifecycle event occurred",
            )
        execution.reported = status
        self.lifecycle.hook_reported(record, execution)
        return {"lifecycleEventHookExecutionId": execution_id}


def _revision_content(revision: Mapping[str, Any]) -> str:
    kind = revision.get("revisionType")
    if kind == "AppSpecContent":
        body = revision.get("appSpecContent") or {}
    elif kind == "String":
        body = revision.get("string") or {}
    else:
        raise ApiError(
            "InvalidRevisionException",
            f"revisionType {kind} is not served by the bluegreen simulator: use AppSpecContent",
        )
    content = body.get("content")
    if not content:
        raise ApiError(
            "InvalidRevisionException", "The revision was specified in an invalid format"
        )
    sha = body.get("sha256")
    if sha and sha != hashlib.sha256(content.encode("utf-8")).hexdigest():
        raise ApiError(
            "InvalidRevisionException",
            "The sha256 of the revision content does not match its content",
        )
    return str(content)
