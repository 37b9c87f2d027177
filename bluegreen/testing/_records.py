"""What the simulated CodeDeploy account holds: its applications, groups, configs,
revisions and deployments, and the records of one deployment (its events, hook executions).

The API handlers (``_api_*.py``) and the lifecycle (``_lifecycle.py`` and its steps) all
read and write the one ``Store``; nothing here imports either of them.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus
from bluegreen.testing._wire import ApiError, require
from bluegreen.traffic import TrafficConfig

if TYPE_CHECKING:
    from bluegreen.appspec import AppSpec

__all__ = [
    "NAME",
    "DeploymentRecord",
    "EventRecord",
    "HookExecution",
    "Store",
    "deployment_overview",
    "new_deployment_id",
    "new_execution_id",
    "target_group_pair",
]

_ID_ALPHABET = string.ascii_uppercase + string.digits
# The names CodeDeploy accepts for applications, groups and configs.
NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,100}$")
_DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")
# The deploymentOverview keys of botocore's model, each a TargetStatus value.
_OVERVIEW_KEYS = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")


def new_deployment_id() -> str:
    """``d-`` and nine upper-case letters and digits, as AWS's ids look."""
    return "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


def new_execution_id() -> str:
    payload = json.dumps({"encryptedData": secrets.token_hex(24), "version": 1})
    return base64.b64encode(payload.encode()).decode()


def target_group_pair(group_info: Mapping[str, Any]) -> dict[str, Any]:
    """The group's (only) target group pair, ``{}`` if it has none."""
    pairs = (group_info.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or [{}]
    return dict(pairs[0])


@attrs.define
class EventRecord:
    name: LifecycleEvent
    status: LifecycleEventStatus = LifecycleEventStatus.PENDING
    start: float | None = None
    end: float | None = None
    diagnostics: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lifecycleEventName": str(self.name), "status": str(self.status)}
        if self.start is not None:
            out["startTime"] = self.start
        if self.end is not None:
            out["endTime"] = self.end
        if self.diagnostics is not None:
            out["diagnostics"] = self.diagnostics
        return out


@attrs.define
class HookExecution:
    id: str
    deployment_id: str
    event: LifecycleEvent
    function: str
    reported: str | None = None
    log_tail: str = ""


@attrs.define
class DeploymentRecord:
    """One deployment and everything the simulator knows about it."""

    id: str
    application: str
    group: str
    config: TrafficConfig
    group_info: dict[str, Any]
    cluster: str
    service: str
    revision: dict[str, Any]
    create_time: float
    creator: str = "user"
    description: str | None = None
    auto_rollback: dict[str, Any] = attrs.Factory(dict)
    alarm_names: tuple[str, ...] = ()
    ignore_poll_alarm_failure: bool = False
    override_alarm_configuration: dict[str, Any] | None = None
    """CreateDeployment's ``overrideAlarmConfiguration``, echoed by GetDeployment."""
    status: DeploymentStatus = DeploymentStatus.CREATED
    start_time: float | None = None
    complete_time: float | None = None
    error: dict[str, str] | None = None
    rollback_info: dict[str, Any] | None = None
    status_messages: list[str] = attrs.Factory(list)
    appspec: AppSpec | None = None
    events: list[EventRecord] = attrs.Factory(list)
    target_status: str = "Pending"
    target_updated: float | None = None
    blue_arn: str | None = None
    green_arn: str | None = None
    blue_tg: str | None = None
    green_tg: str | None = None
    rollback_of: str | None = None
    phase: str = "created"
    generation: int = 0
    termination_wait_started: bool = False
    extras: dict[str, Any] = attrs.Factory(dict)

    @property
    def has_test_listener(self) -> bool:
        return bool(
            target_group_pair(self.group_info).get("testTrafficRoute", {}).get("listenerArns")
        )

    @property
    def production_listener(self) -> str | None:
        arns = target_group_pair(self.group_info).get("prodTrafficRoute", {}).get("listenerArns")
        return arns[0] if arns else None

    @property
    def test_listener(self) -> str | None:
        arns = target_group_pair(self.group_info).get("testTrafficRoute", {}).get("listenerArns")
        return arns[0] if arns else None

    @property
    def target_id(self) -> str:
        """The deployment target id: ``<cluster>:<service>``."""
        return f"{self.cluster}:{self.service}"

    def event(self, name: LifecycleEvent) -> EventRecord | None:
        return next((e for e in self.events if e.name is name), None)

    def rolls_back_on(self, trigger: str) -> bool:
        return bool(self.auto_rollback.get("enabled")) and trigger in (
            self.auto_rollback.get("events") or ()
        )


def deployment_overview(record: DeploymentRecord) -> dict[str, int]:
    """``deploymentOverview``: how many targets (an ECS deployment has one) are in each
    status, so it always agrees with the target GetDeploymentTarget shows."""
    overview = dict.fromkeys(_OVERVIEW_KEYS, 0)
    if record.target_status in overview:
        overview[record.target_status] += 1
    return overview


@attrs.define(eq=False)
class Store:
    """Everything one simulated CodeDeploy account and region holds."""

    applications: dict[str, dict[str, Any]] = attrs.Factory(dict)
    groups: dict[tuple[str, str], dict[str, Any]] = attrs.Factory(dict)
    configs: dict[str, dict[str, Any]] = attrs.Factory(dict)
    deployments: dict[str, DeploymentRecord] = attrs.Factory(dict)
    revisions: dict[tuple[str, str], dict[str, Any]] = attrs.Factory(dict)
    executions: dict[str, HookExecution] = attrs.Factory(dict)

    # -- look-ups as the API names them -----------------------------------------------

    def application(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = require(body, "applicationName", "ApplicationNameRequiredException")
        app = self.applications.get(name)
        if app is None:
            raise ApiError(
                "ApplicationDoesNotExistException", f"No application found for name: {name}"
            )
        return app

    def group(self, body: Mapping[str, Any], key: str = "deploymentGroupName") -> dict[str, Any]:
        app = self.application(body)
        name = require(body, key, "DeploymentGroupNameRequiredException")
        group = self.groups.get((app["applicationName"], name))
        if group is None:
            raise ApiError(
                "DeploymentGroupDoesNotExistException",
                f"No Deployment Group found for name: {name}",
            )
        return group

    def deployment(self, body: Mapping[str, Any]) -> DeploymentRecord:
        deployment_id = require(body, "deploymentId", "DeploymentIdRequiredException")
        if not _DEPLOYMENT_ID.match(deployment_id):
            raise ApiError("InvalidDeploymentIdException", f"invalid deployment id {deployment_id}")
        record = self.deployments.get(deployment_id)
        if record is None:
            raise ApiError(
                "DeploymentDoesNotExistException",
                f"The deployment {deployment_id} could not be found",
            )
        return record

    def active_in_group(self, application: str, group: str) -> DeploymentRecord | None:
        for record in self.deployments.values():
            if (record.application, record.group) == (application, group) and (
                not record.status.is_terminal
            ):
                return record
        return None

    # -- keeping records ---------------------------------------------------------------

    def unique_id(self) -> str:
        while (candidate := new_deployment_id()) in self.deployments:
            pass
        return candidate

    def add_deployment(self, record: DeploymentRecord) -> None:
        self.deployments[record.id] = record
        self.note_attempt(record)

    def note_attempt(self, record: DeploymentRecord) -> None:
        """Record ``record`` as its group's lastAttemptedDeployment (and, once it has
        succeeded, lastSuccessfulDeployment and targetRevision)."""
        group = self.groups.get((record.application, record.group))
        if group is None:
            return
        summary = {
            "deploymentId": record.id,
            "status": str(record.status),
            "createTime": record.create_time,
        }
        if record.complete_time is not None:
            summary["endTime"] = record.complete_time
        group["lastAttemptedDeployment"] = summary
        if record.status is DeploymentStatus.SUCCEEDED:
            group["lastSuccessfulDeployment"] = dict(summary)
            group["targetRevision"] = dict(record.revision)

    def status_changed(self, record: DeploymentRecord) -> None:
        """Keep the group's lastAttempted/lastSuccessful summaries in step with ``record``."""
        group = self.groups.get((record.application, record.group))
        last = (group or {}).get("lastAttemptedDeployment", {})
        if last.get("deploymentId") == record.id or record.status is DeploymentStatus.SUCCEEDED:
            self.note_attempt(record)
