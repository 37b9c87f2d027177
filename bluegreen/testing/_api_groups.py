"""The CodeDeploy API's applications and deployment groups, with CodeDeploy's checks of an
ECS blue/green group (contract section 4)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from bluegreen.testing._api_configs import Configs
from bluegreen.testing._context import SimContext
from bluegreen.testing._records import NAME
from bluegreen.testing._wire import ApiError, page, require

__all__ = ["Groups", "check_alarms", "check_rollback"]

_ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")


class Groups:
    """Applications and deployment groups: Create, Get, List, BatchGet and Delete of each,
    and UpdateDeploymentGroup."""

    def __init__(self, sim: SimContext, configs_api: Configs) -> None:
        self.sim = sim
        self.store = sim.store
        self.configs_api = configs_api

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    # -- applications -----------------------------------------------------------------

    def op_create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "applicationName", "ApplicationNameRequiredException")
        if not NAME.match(name):
            raise ApiError("InvalidApplicationNameException", f"invalid application name {name!r}")
        if name in self.store.applications:
            raise ApiError(
                "ApplicationAlreadyExistsException", f"{name} already exists in your account"
            )
        platform = body.get("computePlatform", "Server")
        if platform not in ("Server", "Lambda", "ECS"):
            raise ApiError("InvalidComputePlatformException", f"invalid computePlatform {platform}")
        app_id = str(uuid.uuid4())
        self.store.applications[name] = {
            "applicationId": app_id,
            "applicationName": name,
            "createTime": self.now,
            "linkedToGitHub": False,
            "computePlatform": platform,
        }
        return {"applicationId": app_id}

    def op_get_application(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"application": self.store.application(body)}

    def op_list_applications(self, body: dict[str, Any]) -> dict[str, Any]:
        names, token = page(sorted(self.store.applications), body)
        return {"applications": names, **({"nextToken": token} if token else {})}

    def op_batch_get_applications(self, body: dict[str, Any]) -> dict[str, Any]:
        names = require(body, "applicationNames", "ApplicationNameRequiredException")
        if len(names) > 100:
            raise ApiError("BatchLimitExceededException", "The maximum number of names is 100")
        missing = [n for n in names if n not in self.store.applications]
        if missing:
            raise ApiError(
                "ApplicationDoesNotExistException", f"Applications not found: {', '.join(missing)}"
            )
        return {"applicationsInfo": [self.store.applications[n] for n in names]}

    def op_delete_application(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "applicationName", "ApplicationNameRequiredException")
        self.store.applications.pop(name, None)
        for key in [k for k in self.store.groups if k[0] == name]:
            del self.store.groups[key]
        return {}

    # -- deployment groups ------------------------------------------------------------

    def op_create_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self.store.application(body)
        name = require(body, "deploymentGroupName", "DeploymentGroupNameRequiredException")
        if (app["applicationName"], name) in self.store.groups:
            raise ApiError("DeploymentGroupAlreadyExistsException", f"{name} already exists")
        require(body, "serviceRoleArn", "RoleRequiredException", "Role ARN is required")
        info = self._checked_group(app, dict(body), current=None)
        info["deploymentGroupId"] = str(uuid.uuid4())
        self.store.groups[(app["applicationName"], name)] = info
        return {"deploymentGroupId": info["deploymentGroupId"]}

    def op_update_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        current = self.store.group(body, "currentDeploymentGroupName")
        app = self.store.applications[current["applicationName"]]
        merged = {**current, **{k: v for k, v in body.items() if k != "currentDeploymentGroupName"}}
        new_name = body.get("newDeploymentGroupName") or current["deploymentGroupName"]
        merged["deploymentGroupName"] = new_name
        merged.pop("newDeploymentGroupName", None)
        info = self._checked_group(app, merged, current=current)
        del self.store.groups[(app["applicationName"], current["deploymentGroupName"])]
        self.store.groups[(app["applicationName"], new_name)] = info
        return {"hooksNotCleanedUp": []}

    def _checked_group(
        self, app: Mapping[str, Any], body: dict[str, Any], current: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Validate a group the way CodeDeploy does for ECS, and fill in its defaults."""
        if app["computePlatform"] != "ECS":
            lb_info = body.get("loadBalancerInfo") or {}
            if not (lb_info.get("elbInfoList") or lb_info.get("targetGroupInfoList")):
                # What AWS answers an ECS-style group in a Server application (contract 4).
                raise ApiError(
                    "InvalidLoadBalancerInfoException",
                    "The deploymentOption value is set to WITH_TRAFFIC_CONTROL, but either no "
                    "load balancer was specified in elbInfoList or no target group was "
                    "specified in targetGroupInfoList",
                )
            raise ApiError(
                "InvalidComputePlatformException",
                "the bluegreen simulator serves ECS applications only",
            )
        if body.get("autoScalingGroups"):
            raise ApiError(
                "InvalidAutoScalingGroupException",
                "For ECS deployment group, autoScalingGroups can not be specified",
            )
        style = body.get("deploymentStyle") or {}
        if (style.get("deploymentType"), style.get("deploymentOption")) != (
            "BLUE_GREEN",
            "WITH_TRAFFIC_CONTROL",
        ):
            raise ApiError(
                "InvalidDeploymentStyleException",
                "ECS deployment groups need deploymentType BLUE_GREEN and deploymentOption "
                "WITH_TRAFFIC_CONTROL",
            )
        pairs = (body.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
        if not pairs:
            raise ApiError(
                "InvalidLoadBalancerInfoException",
                "The deploymentOption value is set to WITH_TRAFFIC_CONTROL, but either no load "
                "balancer was specified in elbInfoList or no target group was specified in "
                "targetGroupInfoList",
            )
        if len(pairs) > 1:
            raise ApiError(
                "InvalidTargetGroupPairException", "Only one target group pair is supported"
            )
        pair = pairs[0]
        names = [tg.get("name") for tg in pair.get("targetGroups") or []]
        if len(names) != 2 or len(set(names)) != 2:
            raise ApiError(
                "InvalidTargetGroupPairException",
                "A target group pair needs exactly two target groups",
            )
        found = self.sim.moto.target_groups_by_name(names)
        if set(found) != set(names):
            missing = ", ".join(n for n in names if n not in found)
            raise ApiError("InvalidTargetGroupPairException", f"Target groups not found: {missing}")
        prod = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
        test = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        if len(prod) != 1 or len(test) > 1:
            raise ApiError(
                "InvalidTrafficRouteException" if len(prod) else "InvalidTargetGroupPairException",
                "A traffic route must have exactly one listener",
            )
        lbs = {self.sim.moto.load_balancer_of_listener(a) for a in prod + test}
        if None in lbs:
            raise ApiError(
                "InvalidTargetGroupPairException", "A listener of the pair was not found"
            )
        if len(lbs) > 1:
            raise ApiError(
                "InvalidTargetGroupPairException",
                "The production and test listeners must belong to the same load balancer",
            )
        services = body.get("ecsServices") or []
        if len(services) != 1:
            raise ApiError(
                "InvalidECSServiceException", "An ECS deployment group needs one ECS service"
            )
        svc = services[0]
        moto_service = self.sim.moto.service(svc.get("clusterName", ""), svc.get("serviceName", ""))
        if moto_service is None:
            raise ApiError(
                "InvalidECSServiceException",
                f"ECS service {svc.get('clusterName')}/{svc.get('serviceName')} not found",
            )
        if moto_service.deployment_controller.get("type") != "CODE_DEPLOY":
            raise ApiError(
                "InvalidECSServiceException",
                "The ECS service must use the CODE_DEPLOY deployment controller",
            )
        for (app_name, group_name), other in self.store.groups.items():
            if other is current:
                continue
            for s in other.get("ecsServices") or []:
                if (s.get("clusterName"), s.get("serviceName")) == (
                    svc.get("clusterName"),
                    svc.get("serviceName"),
                ):
                    raise ApiError(
                        "ECSServiceMappingLimitExceededException",
                        f"The ECS service is already in deployment group {app_name}/{group_name}",
                    )
        bg = body.get("blueGreenDeploymentConfiguration") or {}
        ready = dict(bg.get("deploymentReadyOption") or {"actionOnTimeout": "CONTINUE_DEPLOYMENT"})
        if ready.get("actionOnTimeout") == "CONTINUE_DEPLOYMENT":
            if ready.get("waitTimeInMinutes"):
                raise ApiError(
                    "InvalidBlueGreenDeploymentConfigurationException",
                    "Deployment ready action cannot be set to 'CONTINUE_DEPLOYMENT' when timeout "
                    "is specified",
                )
            ready["waitTimeInMinutes"] = 0
        elif ready.get("waitTimeInMinutes", 0) > 120 * 60:
            raise ApiError(
                "InvalidBlueGreenDeploymentConfigurationException",
                "waitTimeInMinutes may be at most 7200 (120 hours)",
            )
        terminate = dict(
            bg.get("terminateBlueInstancesOnDeploymentSuccess") or {"action": "TERMINATE"}
        )
        if terminate.get("action", "TERMINATE") != "TERMINATE":
            raise ApiError(
                "InvalidBlueGreenDeploymentConfigurationException",
                "ECS deployment groups support only action TERMINATE",
            )
        terminate.setdefault("action", "TERMINATE")
        terminate.setdefault("terminationWaitTimeInMinutes", 0)
        if not 0 <= terminate["terminationWaitTimeInMinutes"] <= 2880:
            raise ApiError(
                "InvalidBlueGreenDeploymentConfigurationException",
                "terminationWaitTimeInMinutes may be at most 2880",
            )
        rollback = body.get("autoRollbackConfiguration") or {}
        check_rollback(rollback)
        alarms = body.get("alarmConfiguration") or {}
        check_alarms(alarms)
        config_name = body.get("deploymentConfigName") or "CodeDeployDefault.ECSAllAtOnce"
        self.configs_api.check_fits_load_balancer(
            self.configs_api.traffic_config(config_name), pair
        )
        return {
            "applicationName": app["applicationName"],
            "deploymentGroupId": (current or {}).get("deploymentGroupId", ""),
            "deploymentGroupName": body["deploymentGroupName"],
            "deploymentConfigName": config_name,
            "ec2TagFilters": [],
            "onPremisesInstanceTagFilters": [],
            "autoScalingGroups": [],
            "serviceRoleArn": body.get("serviceRoleArn"),
            "targetRevision": (current or {}).get("targetRevision", {}),
            "triggerConfigurations": body.get("triggerConfigurations") or [],
            "alarmConfiguration": alarms,
            "autoRollbackConfiguration": rollback,
            "deploymentStyle": style,
            "blueGreenDeploymentConfiguration": {
                "terminateBlueInstancesOnDeploymentSuccess": terminate,
                "deploymentReadyOption": ready,
            },
            "loadBalancerInfo": {"targetGroupPairInfoList": [pair]},
            "lastSuccessfulDeployment": (current or {}).get("lastSuccessfulDeployment", {}),
            "lastAttemptedDeployment": (current or {}).get("lastAttemptedDeployment", {}),
            "computePlatform": "ECS",
            "ecsServices": [svc],
        }

    def op_get_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"deploymentGroupInfo": self.store.group(body)}

    def op_list_deployment_groups(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self.store.application(body)
        names = sorted(n for a, n in self.store.groups if a == app["applicationName"])
        chunk, token = page(names, body)
        return {
            "applicationName": app["applicationName"],
            "deploymentGroups": chunk,
            **({"nextToken": token} if token else {}),
        }

    def op_batch_get_deployment_groups(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self.store.application(body)
        names = require(body, "deploymentGroupNames", "DeploymentGroupNameRequiredException")
        if len(names) > 100:
            raise ApiError("BatchLimitExceededException", "The maximum number of names is 100")
        infos, missing = [], []
        for n in names:
            group = self.store.groups.get((app["applicationName"], n))
            if group is None:
                missing.append(n)
            else:
                infos.append(group)
        out: dict[str, Any] = {"deploymentGroupsInfo": infos}
        if missing:
            out["errorMessage"] = f"Deployment groups not found: {', '.join(missing)}"
        return out

    def op_delete_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        group = self.store.group(body)
        del self.store.groups[(group["applicationName"], group["deploymentGroupName"])]
        return {"hooksNotCleanedUp": []}


def check_rollback(config: Mapping[str, Any]) -> None:
    """CodeDeploy's checks of an ``autoRollbackConfiguration``."""
    if config.get("enabled"):
        events = config.get("events") or []
        if not events:
            raise ApiError(
                "InvalidAutoRollbackConfigException",
                "Auto rollback is enabled but no rollback events are specified",
            )
        unknown = [e for e in events if e not in _ROLLBACK_EVENTS]
        if unknown:
            raise ApiError("InvalidAutoRollbackConfigException", f"unknown events {unknown}")


def check_alarms(config: Mapping[str, Any]) -> None:
    """CodeDeploy's checks of an ``alarmConfiguration``."""
    alarms = [a.get("name", "") for a in config.get("alarms") or ()]
    if len(alarms) > 10:
        raise ApiError("AlarmsLimitExceededException", "The maximum number of alarms is 10")
    if config.get("enabled") and not alarms:
        raise ApiError(
            "InvalidAlarmConfigException", "Alarm configuration is enabled but has no alarms"
        )
    if len(set(alarms)) != len(alarms) or any(not a or len(a) > 255 for a in alarms):
        raise ApiError(
            "InvalidAlarmConfigException", "Alarm names must be unique, 1-255 characters"
        )
