"""A CodeDeploy ECS deployment group: the settings every deployment of the service uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.status import DeploymentStatus

__all__ = ["DeploymentGroup"]


@attrs.frozen(kw_only=True)
class DeploymentGroup:
    """A CodeDeploy ECS deployment group: the settings every deployment of the service uses."""

    application: str
    name: str
    compute_platform: str | None = "ECS"
    deployment_config_name: str | None = None
    service_role_arn: str | None = None
    is_blue_green: bool = True
    target_group_names: tuple[str, str] | None = None
    production_listener_arn: str | None = None
    test_listener_arn: str | None = None
    ready_action: str = "CONTINUE_DEPLOYMENT"
    ready_wait_minutes: int = 0
    termination_wait_minutes: int = 0
    auto_rollback_events: tuple[str, ...] = ()
    alarm_names: tuple[str, ...] = ()
    ignore_poll_alarm_failure: bool = False
    ecs_services: tuple[tuple[str, str], ...] = ()
    last_attempted_deployment_id: str | None = None
    last_attempted_status: DeploymentStatus | None = None
    last_successful_deployment_id: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """GetDeploymentGroup's ``deploymentGroupInfo`` as read (triggers, every target-group
    pair, the termination action...), for readers that need more than the fields above."""

    @property
    def alarm_configuration(self) -> dict[str, Any]:
        """The group's ``alarmConfiguration`` as CodeDeploy uses it (enabled alarms only)."""
        return {
            "enabled": bool(self.alarm_names),
            "alarms": [{"name": name} for name in self.alarm_names],
            "ignorePollAlarmFailure": self.ignore_poll_alarm_failure,
        }

    @classmethod
    def from_api(
        cls, info: Mapping[str, Any], compute_platform: str | None = None
    ) -> DeploymentGroup:
        """From GetDeploymentGroup's ``deploymentGroupInfo``."""
        style = info.get("deploymentStyle") or {}
        lb = info.get("loadBalancerInfo") or {}
        pairs = lb.get("targetGroupPairInfoList") or []
        pair = pairs[0] if pairs else {}
        names = [tg.get("name") for tg in pair.get("targetGroups", ())]
        prod = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
        test = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        bg = info.get("blueGreenDeploymentConfiguration") or {}
        ready = bg.get("deploymentReadyOption") or {}
        terminate = bg.get("terminateBlueInstancesOnDeploymentSuccess") or {}
        rollback = info.get("autoRollbackConfiguration") or {}
        alarms = info.get("alarmConfiguration") or {}
        attempted = info.get("lastAttemptedDeployment") or {}
        succeeded = info.get("lastSuccessfulDeployment") or {}
        return cls(
            application=info.get("applicationName", ""),
            name=info.get("deploymentGroupName", ""),
            compute_platform=info.get("computePlatform") or compute_platform,
            deployment_config_name=info.get("deploymentConfigName"),
            service_role_arn=info.get("serviceRoleArn"),
            is_blue_green=style.get("deploymentType") == "BLUE_GREEN"
            and style.get("deploymentOption") == "WITH_TRAFFIC_CONTROL",
            target_group_names=(names[0], names[1]) if len(names) == 2 else None,
            production_listener_arn=prod[0] if prod else None,
            test_listener_arn=test[0] if test else None,
            ready_action=ready.get("actionOnTimeout", "CONTINUE_DEPLOYMENT"),
            ready_wait_minutes=int(ready.get("waitTimeInMinutes", 0) or 0),
            termination_wait_minutes=int(terminate.get("terminationWaitTimeInMinutes", 0) or 0),
            auto_rollback_events=tuple(rollback.get("events", ()))
            if rollback.get("enabled")
            else (),
            alarm_names=tuple(a["name"] for a in alarms.get("alarms", ()))
            if alarms.get("enabled")
            else (),
            ignore_poll_alarm_failure=bool(alarms.get("ignorePollAlarmFailure", False)),
            ecs_services=tuple(
                (s.get("clusterName", ""), s.get("serviceName", ""))
                for s in info.get("ecsServices", ())
            ),
            last_attempted_deployment_id=attempted.get("deploymentId"),
            last_attempted_status=DeploymentStatus(attempted["status"])
            if attempted.get("status")
            else None,
            last_successful_deployment_id=succeeded.get("deploymentId"),
            raw=dict(info),
        )

    @property
    def waits_for_promotion(self) -> bool:
        """True when the group stops in ``Ready`` until someone promotes the deployment."""
        return self.ready_action == "STOP_DEPLOYMENT"

    @property
    def promotion_wait_minutes(self) -> int:
        return self.ready_wait_minutes if self.waits_for_promotion else 0

    @property
    def active_deployment_id(self) -> str | None:
        """The group's deployment still running, read from ``lastAttemptedDeployment``."""
        status = self.last_attempted_status
        if status is not None and status.is_active:
            return self.last_attempted_deployment_id
        return None

    def maps(self, cluster: str, service: str) -> bool:
        """True when this group deploys ``service`` in ``cluster`` (by name or ARN)."""
        cluster_name = cluster.rsplit("/", 1)[-1]
        service_name = service.rsplit("/", 1)[-1]
        return (cluster_name, service_name) in self.ecs_services
