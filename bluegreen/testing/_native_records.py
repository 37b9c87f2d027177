"""What the simulated ECS holds for ECS-native (BLUE_GREEN, LINEAR, CANARY) services: each
service's ``deploymentConfiguration`` (moto drops it), its service revisions and its service
deployments, with their hook runs, in the shapes of botocore's ECS model (2014-11-13).

The lifecycle (``_native_lifecycle``) and the API (``_native_api``) read and write the one
``NativeStore``; nothing here imports either of them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.testing._wire import ApiError

__all__ = [
    "NATIVE_STRATEGIES",
    "TERMINAL",
    "HookRun",
    "NativeStore",
    "ServiceDeploymentRecord",
    "ServiceRevisionRecord",
    "new_deployment_arn",
    "new_revision_arn",
]

NATIVE_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")
TERMINAL = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")
# ServiceDeployment.lifecycleStage has no PRE_PRODUCTION_TRAFFIC_SHIFT (a hook stage only):
# while its hooks run, the deployment shows the stage it leads into.
_SHOWN_STAGE = {"PRE_PRODUCTION_TRAFFIC_SHIFT": "PRODUCTION_TRAFFIC_SHIFT"}


def new_deployment_arn(region: str, account: str, cluster: str, service: str) -> str:
    """``arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>``; the id
    is 22 URL-safe characters, as AWS's look (``r9i43YFjvgF_xlg7m2eJ1r``)."""
    token = secrets.token_urlsafe(16)[:22]
    return f"arn:aws:ecs:{region}:{account}:service-deployment/{cluster}/{service}/{token}"


def new_revision_arn(region: str, account: str, cluster: str, service: str) -> str:
    """``...:service-revision/<cluster>/<service>/<id>``; the id is a number, as AWS's."""
    number = secrets.randbelow(10**19 - 10**18) + 10**18
    return f"arn:aws:ecs:{region}:{account}:service-revision/{cluster}/{service}/{number}"


@attrs.define
class ServiceRevisionRecord:
    """One service revision: the service's workload as one deployment made it, with its task
    counts and the traffic weights it was asked to take."""

    arn: str
    service_arn: str
    cluster_arn: str
    task_definition: str
    created_at: float
    target_group: str | None
    load_balancers: list[dict[str, Any]]
    network_configuration: dict[str, Any] | None = None
    launch_type: str | None = None
    platform_version: str | None = None
    container_images: list[dict[str, str]] = attrs.Factory(list)
    requested: int = 0
    running: int = 0
    pending: int = 0
    test_weight: float = 0.0
    production_weight: float = 0.0

    def summary(self) -> dict[str, Any]:
        """``ServiceRevisionSummary``."""
        return {
            "arn": self.arn,
            "requestedTaskCount": self.requested,
            "runningTaskCount": self.running,
            "pendingTaskCount": self.pending,
            "requestedTestTrafficWeight": float(self.test_weight),
            "requestedProductionTrafficWeight": float(self.production_weight),
        }

    def to_api(self) -> dict[str, Any]:
        """``ServiceRevision``, as DescribeServiceRevisions answers it."""
        out: dict[str, Any] = {
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "taskDefinition": self.task_definition,
            "loadBalancers": [dict(lb) for lb in self.load_balancers],
            "containerImages": [dict(i) for i in self.container_images],
            "guardDutyEnabled": False,
            "createdAt": self.created_at,
        }
        if self.launch_type:
            out["launchType"] = self.launch_type
        if self.platform_version:
            out["platformVersion"] = self.platform_version
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        if self.target_group and self.load_balancers:
            rule = (self.load_balancers[0].get("advancedConfiguration") or {}).get(
                "productionListenerRule"
            )
            resolved: dict[str, Any] = {"targetGroupArn": self.target_group}
            if rule:
                resolved["productionListenerRule"] = rule
            out["resolvedConfiguration"] = {"loadBalancers": [resolved]}
        return out


@attrs.define
class HookRun:
    """One lifecycle hook run at one stage (re-invocations after IN_PROGRESS included)."""

    hook: dict[str, Any]
    stage: str
    started_at: float
    expires_at: float
    hook_id: str = attrs.Factory(lambda: str(uuid.uuid4()))
    execution_id: str = attrs.Factory(lambda: str(uuid.uuid4()))
    batch: int = 0
    """The stage run it belongs to (a LINEAR step's PRODUCTION_TRAFFIC_SHIFT is a new one)."""
    status: str = "IN_PROGRESS"
    details: Any = None
    """The ``hookDetails`` the next invocation passes (the configured ones, then what the
    function returned with IN_PROGRESS)."""
    invocations: int = 0

    @property
    def target_type(self) -> str:
        return str(self.hook.get("targetType") or "AWS_LAMBDA")

    @property
    def timeout_action(self) -> str:
        return str((self.hook.get("timeoutConfiguration") or {}).get("action") or "ROLLBACK")

    def to_api(self) -> dict[str, Any]:
        """``DeploymentLifecycleHookDetail``."""
        out: dict[str, Any] = {
            "hookId": self.hook_id,
            "targetType": self.target_type,
            "status": self.status,
            "expiresAt": self.expires_at,
            "timeoutAction": self.timeout_action,
        }
        if self.hook.get("hookTargetArn"):
            out["targetArn"] = self.hook["hookTargetArn"]
        return out


@attrs.define
class ServiceDeploymentRecord:
    """One service deployment and everything the simulator knows about it."""

    arn: str
    cluster: str
    service: str
    service_arn: str
    cluster_arn: str
    created_at: float
    config: dict[str, Any]
    source: list[str]
    target: str
    status: str = "PENDING"
    status_reason: str | None = None
    stage: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stopped_at: float | None = None
    updated_at: float | None = None
    hook_runs: list[HookRun] = attrs.Factory(list)
    rollback: dict[str, Any] | None = None
    alarms_ignored: tuple[str, ...] = ()
    triggered_alarms: list[str] = attrs.Factory(list)
    alarms_done: bool = False
    steps: list[float] = attrs.Factory(list)
    step: int = 0
    generation: int = 0
    batch: int = 0
    rolling_back: bool = False
    stage_log: list[tuple[float, str]] = attrs.Factory(list)
    """Every stage entered, with its simulated time (the rollback's too), for tests."""
    weight_log: list[tuple[float, str, float]] = attrs.Factory(list)
    """Every weight the deployment wrote: ``(time, "production"|"test", green percent)``."""

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def strategy(self) -> str:
        return str(self.config.get("strategy") or "BLUE_GREEN")

    @property
    def alarm_names(self) -> tuple[str, ...]:
        alarms = self.config.get("alarms") or {}
        if not alarms.get("enable"):
            return ()
        return tuple(alarms.get("alarmNames") or ())

    def current_hooks(self) -> list[HookRun]:
        """The hook runs of the stage the deployment is in (the latest step's)."""
        return [run for run in self.hook_runs if run.batch == self.batch]

    def brief(self) -> dict[str, Any]:
        """``ServiceDeploymentBrief``, as ListServiceDeployments answers it."""
        out: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "targetServiceRevisionArn": self.target,
            "status": self.status,
        }
        if self.started_at is not None:
            out["startedAt"] = self.started_at
        if self.finished_at is not None:
            out["finishedAt"] = self.finished_at
        if self.status_reason:
            out["statusReason"] = self.status_reason
        return out

    def to_api(self, revisions: Mapping[str, ServiceRevisionRecord]) -> dict[str, Any]:
        """``ServiceDeployment``, as DescribeServiceDeployments answers it."""
        out = self.brief()
        out["updatedAt"] = self.updated_at or self.created_at
        out["sourceServiceRevisions"] = [
            revisions[arn].summary() for arn in self.source if arn in revisions
        ]
        if self.target in revisions:
            out["targetServiceRevision"] = revisions[self.target].summary()
        if self.stage is not None:
            out["lifecycleStage"] = _SHOWN_STAGE.get(self.stage, self.stage)
        hooks = [run.to_api() for run in self.current_hooks()]
        if hooks:
            out["lifecycleHookDetails"] = hooks
        if self.stopped_at is not None:
            out["stoppedAt"] = self.stopped_at
        out["deploymentConfiguration"] = self.config
        if self.rollback is not None:
            out["rollback"] = dict(self.rollback)
        out["deploymentCircuitBreaker"] = {"status": "DISABLED", "failureCount": 0, "threshold": 0}
        names = self.alarm_names
        if not names:
            out["alarms"] = {"status": "DISABLED"}
        else:
            status = (
                "TRIGGERED"
                if self.triggered_alarms
                else "MONITORING_COMPLETE"
                if self.alarms_done
                else "MONITORING"
            )
            out["alarms"] = {"status": status, "alarmNames": list(names)}
            if self.triggered_alarms:
                out["alarms"]["triggeredAlarmNames"] = list(self.triggered_alarms)
        return out


@attrs.define(eq=False)
class NativeStore:
    """Everything the simulated ECS knows of its native services, by ARN."""

    configs: dict[str, dict[str, Any]] = attrs.Factory(dict)
    """Each service's ``deploymentConfiguration``, by service ARN."""
    revisions: dict[str, ServiceRevisionRecord] = attrs.Factory(dict)
    deployments: dict[str, ServiceDeploymentRecord] = attrs.Factory(dict)
    current: dict[str, str] = attrs.Factory(dict)
    """The revision serving production, by service ARN."""

    def deployment(self, arn: str) -> ServiceDeploymentRecord:
        record = self.deployments.get(arn)
        if record is None:
            raise ApiError(
                "ServiceDeploymentNotFoundException",
                f"The service deployment {arn} does not exist.",
            )
        return record

    def in_flight(self, service_arn: str) -> ServiceDeploymentRecord | None:
        for record in self.deployments.values():
            if record.service_arn == service_arn and not record.is_terminal:
                return record
        return None

    def for_service(self, service_arn: str) -> list[ServiceDeploymentRecord]:
        """The service's deployments, newest first (the later made first at one time)."""
        found = [
            (r.created_at, i, r)
            for i, r in enumerate(self.deployments.values())
            if r.service_arn == service_arn
        ]
        return [r for _, _, r in sorted(found, key=lambda t: (t[0], t[1]), reverse=True)]
