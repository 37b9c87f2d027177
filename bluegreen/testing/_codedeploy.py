"""The simulated CodeDeploy API for ECS: applications, deployment groups, configs and
deployments, answered in CodeDeploy's awsJson1.1 shapes.

The lifecycle of a deployment lives in ``_lifecycle.py``; this module keeps the records and
answers the API calls, checking what AWS checks and raising AWS's error codes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.errors import TrafficConfigError
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus
from bluegreen.testing._wire import ApiError, require
from bluegreen.traffic import PREDEFINED_CONFIGS, PREDEFINED_PREFIX, TrafficConfig, TrafficType

if TYPE_CHECKING:
    from bluegreen.appspec import AppSpec
    from bluegreen.testing._simulator import Simulator

__all__ = ["OTHER_PLATFORM_CONFIGS", "CodeDeploy", "DeploymentRecord", "deployment_overview"]

_ID_ALPHABET = string.ascii_uppercase + string.digits
_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,100}$")
_MAX_CUSTOM_CONFIGS = 200
_ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
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
_OVERVIEW_KEYS = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")
# An ECS deployment target id: ``<cluster>:<service>`` (ECS names: letters, digits, - and _).
_ECS_TARGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}:[A-Za-z0-9_-]{1,255}$")
_PREDEFINED_CREATE_TIME = 1541030400.0


def _canary(percent: int, minutes: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": percent, "canaryInterval": minutes},
    }


def _linear(percent: int, minutes: int) -> dict[str, Any]:
    return {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": percent, "linearInterval": minutes},
    }


# The predefined configs of the other compute platforms, as AWS documents them
# (deployment-configurations.md; the API reference's MinimumHealthyHosts says GetDeploymentConfig
# answers OneAtATime with MOST_CONCURRENCY 1). They can be read, not deployed to ECS.
OTHER_PLATFORM_CONFIGS: dict[str, dict[str, Any]] = {
    "CodeDeployDefault.OneAtATime": {
        "computePlatform": "Server",
        "minimumHealthyHosts": {"type": "MOST_CONCURRENCY", "value": 1},
    },
    "CodeDeployDefault.HalfAtATime": {
        "computePlatform": "Server",
        "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 50},
    },
    "CodeDeployDefault.AllAtOnce": {
        "computePlatform": "Server",
        "minimumHealthyHosts": {"type": "FLEET_PERCENT", "value": 0},
    },
    **{
        f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes": {
            "computePlatform": "Lambda",
            "trafficRoutingConfig": _canary(10, m),
        }
        for m in (5, 10, 15, 30)
    },
    **{
        f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}": {
            "computePlatform": "Lambda",
            "trafficRoutingConfig": _linear(10, m),
        }
        for m in (1, 2, 3, 10)
    },
    "CodeDeployDefault.LambdaAllAtOnce": {
        "computePlatform": "Lambda",
        "trafficRoutingConfig": {"type": "AllAtOnce"},
    },
}


def new_deployment_id() -> str:
    """``d-`` and nine upper-case letters and digits, as AWS's ids look."""
    return "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


def new_execution_id() -> str:
    payload = json.dumps({"encryptedData": secrets.token_hex(24), "version": 1})
    return base64.b64encode(payload.encode()).decode()


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
        return bool(_pair(self.group_info).get("testTrafficRoute", {}).get("listenerArns"))

    @property
    def production_listener(self) -> str | None:
        arns = _pair(self.group_info).get("prodTrafficRoute", {}).get("listenerArns") or []
        return arns[0] if arns else None

    @property
    def test_listener(self) -> str | None:
        arns = _pair(self.group_info).get("testTrafficRoute", {}).get("listenerArns") or []
        return arns[0] if arns else None

    def event(self, name: LifecycleEvent) -> EventRecord | None:
        return next((e for e in self.events if e.name is name), None)

    def rolls_back_on(self, trigger: str) -> bool:
        return bool(self.auto_rollback.get("enabled")) and trigger in (
            self.auto_rollback.get("events") or ()
        )


def _pair(group_info: Mapping[str, Any]) -> dict[str, Any]:
    pairs = (group_info.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or [{}]
    return dict(pairs[0])


def _page(
    items: list[Any], body: Mapping[str, Any], size: int = 100
) -> tuple[list[Any], str | None]:
    start = int(body.get("nextToken") or 0)
    chunk = items[start : start + size]
    token = str(start + size) if start + size < len(items) else None
    return chunk, token


class CodeDeploy:
    """The CodeDeploy API of one simulated account and region."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.applications: dict[str, dict[str, Any]] = {}
        self.groups: dict[tuple[str, str], dict[str, Any]] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, DeploymentRecord] = {}
        self.revisions: dict[tuple[str, str], dict[str, Any]] = {}
        self.executions: dict[str, HookExecution] = {}

    # -- dispatch ---------------------------------------------------------------------

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            self, "op_" + re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower(), None
        )
        if handler is None:
            raise ApiError(
                "InvalidOperationException",
                f"{operation} is not implemented by the bluegreen simulator",
            )
        return handler(body)

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    # -- applications -----------------------------------------------------------------

    def _application(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = require(body, "applicationName", "ApplicationNameRequiredException")
        app = self.applications.get(name)
        if app is None:
            raise ApiError(
                "ApplicationDoesNotExistException", f"No application found for name: {name}"
            )
        return app

    def op_create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "applicationName", "ApplicationNameRequiredException")
        if not _NAME.match(name):
            raise ApiError("InvalidApplicationNameException", f"invalid application name {name!r}")
        if name in self.applications:
            raise ApiError(
                "ApplicationAlreadyExistsException", f"{name} already exists in your account"
            )
        platform = body.get("computePlatform", "Server")
        if platform not in ("Server", "Lambda", "ECS"):
            raise ApiError("InvalidComputePlatformException", f"invalid computePlatform {platform}")
        app_id = str(uuid.uuid4())
        self.applications[name] = {
            "applicationId": app_id,
            "applicationName": name,
            "createTime": self.now,
            "linkedToGitHub": False,
            "computePlatform": platform,
        }
        return {"applicationId": app_id}

    def op_get_application(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"application": self._application(body)}

    def op_list_applications(self, body: dict[str, Any]) -> dict[str, Any]:
        names, token = _page(sorted(self.applications), body)
        return {"applications": names, **({"nextToken": token} if token else {})}

    def op_batch_get_applications(self, body: dict[str, Any]) -> dict[str, Any]:
        names = require(body, "applicationNames", "ApplicationNameRequiredException")
        if len(names) > 100:
            raise ApiError("BatchLimitExceededException", "The maximum number of names is 100")
        missing = [n for n in names if n not in self.applications]
        if missing:
            raise ApiError(
                "ApplicationDoesNotExistException", f"Applications not found: {', '.join(missing)}"
            )
        return {"applicationsInfo": [self.applications[n] for n in names]}

    def op_delete_application(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "applicationName", "ApplicationNameRequiredException")
        self.applications.pop(name, None)
        for key in [k for k in self.groups if k[0] == name]:
            del self.groups[key]
        return {}

    # -- deployment configs -----------------------------------------------------------

    def traffic_config(self, name: str) -> TrafficConfig:
        if name in PREDEFINED_CONFIGS:
            return PREDEFINED_CONFIGS[name]
        info = self.configs.get(name) or OTHER_PLATFORM_CONFIGS.get(name)
        if info is None:
            raise ApiError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {name}",
            )
        if info["computePlatform"] != "ECS":
            raise ApiError(
                "InvalidDeploymentConfigNameException",
                f"Deployment config {name} is for the {info['computePlatform']} compute platform",
            )
        return TrafficConfig.from_api(name, info["trafficRoutingConfig"])

    def op_create_deployment_config(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "deploymentConfigName", "DeploymentConfigNameRequiredException")
        if name.startswith(PREDEFINED_PREFIX) or not _NAME.match(name):
            raise ApiError(
                "InvalidDeploymentConfigNameException",
                f"The deployment configuration name {name} is invalid: it may not start with "
                f"{PREDEFINED_PREFIX} and may use only [A-Za-z0-9+=,.@_-]",
            )
        if name in self.configs:
            raise ApiError("DeploymentConfigAlreadyExistsException", f"{name} already exists")
        platform = body.get("computePlatform", "Server")
        if platform not in ("Server", "Lambda", "ECS"):
            raise ApiError("InvalidComputePlatformException", f"invalid computePlatform {platform}")
        if len(self.configs) >= _MAX_CUSTOM_CONFIGS:
            raise ApiError(
                "DeploymentConfigLimitExceededException",
                f"The account already has {_MAX_CUSTOM_CONFIGS} custom deployment configurations",
            )
        routing = body.get("trafficRoutingConfig")
        if platform == "ECS":
            if body.get("zonalConfig"):
                raise ApiError(
                    "InvalidZonalDeploymentConfigurationException",
                    "zonalConfig is supported only for the Server compute platform",
                )
            if body.get("minimumHealthyHosts"):
                raise ApiError(
                    "InvalidMinimumHealthyHostValueException",
                    "minimumHealthyHosts is not supported for the ECS compute platform",
                )
            if not routing:
                raise ApiError(
                    "InvalidTrafficRoutingConfigurationException",
                    "trafficRoutingConfig is required for the ECS compute platform",
                )
            try:
                TrafficConfig.from_api(name, routing)
            except (TrafficConfigError, ValueError) as exc:
                problems = getattr(exc, "problems", (str(exc),))
                raise ApiError(
                    "InvalidTrafficRoutingConfigurationException", "; ".join(problems)
                ) from None
        config_id = str(uuid.uuid4())
        self.configs[name] = {
            "deploymentConfigId": config_id,
            "deploymentConfigName": name,
            "createTime": self.now,
            "computePlatform": platform,
            "trafficRoutingConfig": routing or {"type": "AllAtOnce"},
        }
        return {"deploymentConfigId": config_id}

    def op_get_deployment_config(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "deploymentConfigName", "DeploymentConfigNameRequiredException")
        if name in PREDEFINED_CONFIGS:
            info = {
                "deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                "deploymentConfigName": name,
                "createTime": _PREDEFINED_CREATE_TIME,
                "computePlatform": "ECS",
                "trafficRoutingConfig": PREDEFINED_CONFIGS[name].to_api(),
            }
            return {"deploymentConfigInfo": info}
        if name in OTHER_PLATFORM_CONFIGS:
            info = {
                "deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                "deploymentConfigName": name,
                "createTime": _PREDEFINED_CREATE_TIME,
                **json.loads(json.dumps(OTHER_PLATFORM_CONFIGS[name])),
            }
            return {"deploymentConfigInfo": info}
        if name not in self.configs:
            raise ApiError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {name}",
            )
        return {"deploymentConfigInfo": self.configs[name]}

    def op_list_deployment_configs(self, body: dict[str, Any]) -> dict[str, Any]:
        names, token = _page(
            [*OTHER_PLATFORM_CONFIGS, *PREDEFINED_CONFIGS, *sorted(self.configs)], body
        )
        return {"deploymentConfigsList": names, **({"nextToken": token} if token else {})}

    def op_delete_deployment_config(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "deploymentConfigName", "DeploymentConfigNameRequiredException")
        if name.startswith(PREDEFINED_PREFIX):
            raise ApiError(
                "InvalidOperationException", "predefined configurations cannot be deleted"
            )
        if any(g.get("deploymentConfigName") == name for g in self.groups.values()):
            raise ApiError(
                "DeploymentConfigInUseException", f"{name} is used by a deployment group"
            )
        self.configs.pop(name, None)
        return {}

    # -- deployment groups ------------------------------------------------------------

    def _group(self, body: Mapping[str, Any], key: str = "deploymentGroupName") -> dict[str, Any]:
        app = self._application(body)
        name = require(body, key, "DeploymentGroupNameRequiredException")
        group = self.groups.get((app["applicationName"], name))
        if group is None:
            raise ApiError(
                "DeploymentGroupDoesNotExistException",
                f"No Deployment Group found for name: {name}",
            )
        return group

    def op_create_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._application(body)
        name = require(body, "deploymentGroupName", "DeploymentGroupNameRequiredException")
        if (app["applicationName"], name) in self.groups:
            raise ApiError("DeploymentGroupAlreadyExistsException", f"{name} already exists")
        require(body, "serviceRoleArn", "RoleRequiredException", "Role ARN is required")
        info = self._checked_group(app, dict(body), current=None)
        info["deploymentGroupId"] = str(uuid.uuid4())
        self.groups[(app["applicationName"], name)] = info
        return {"deploymentGroupId": info["deploymentGroupId"]}

    def op_update_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        current = self._group(body, "currentDeploymentGroupName")
        app = self.applications[current["applicationName"]]
        merged = {**current, **{k: v for k, v in body.items() if k != "currentDeploymentGroupName"}}
        new_name = body.get("newDeploymentGroupName") or current["deploymentGroupName"]
        merged["deploymentGroupName"] = new_name
        merged.pop("newDeploymentGroupName", None)
        info = self._checked_group(app, merged, current=current)
        del self.groups[(app["applicationName"], current["deploymentGroupName"])]
        self.groups[(app["applicationName"], new_name)] = info
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
        for (app_name, group_name), other in self.groups.items():
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
        _check_rollback(rollback)
        alarms = body.get("alarmConfiguration") or {}
        _check_alarms(alarms)
        config_name = body.get("deploymentConfigName") or "CodeDeployDefault.ECSAllAtOnce"
        self._check_config_fits_load_balancer(self.traffic_config(config_name), pair)
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

    def _check_config_fits_load_balancer(
        self, config: TrafficConfig, pair: Mapping[str, Any]
    ) -> None:
        """A Network Load Balancer shifts traffic all at once only (contract 3.1). AWS's
        error code for the mismatch is not documented [I]."""
        if config.type is TrafficType.ALL_AT_ONCE:
            return
        listeners = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
        lb = self.sim.moto.load_balancer_of_listener(listeners[0]) if listeners else None
        if lb is not None and getattr(lb, "type", None) == "network":
            raise ApiError(
                "InvalidDeploymentConfigNameException",
                f"The deployment configuration {config.name} shifts traffic in steps, but a "
                "Network Load Balancer supports only CodeDeployDefault.ECSAllAtOnce",
            )

    def op_get_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"deploymentGroupInfo": self._group(body)}

    def op_list_deployment_groups(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._application(body)
        names = sorted(n for a, n in self.groups if a == app["applicationName"])
        chunk, token = _page(names, body)
        return {
            "applicationName": app["applicationName"],
            "deploymentGroups": chunk,
            **({"nextToken": token} if token else {}),
        }

    def op_batch_get_deployment_groups(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._application(body)
        names = require(body, "deploymentGroupNames", "DeploymentGroupNameRequiredException")
        if len(names) > 100:
            raise ApiError("BatchLimitExceededException", "The maximum number of names is 100")
        infos, missing = [], []
        for n in names:
            group = self.groups.get((app["applicationName"], n))
            if group is None:
                missing.append(n)
            else:
                infos.append(group)
        out: dict[str, Any] = {"deploymentGroupsInfo": infos}
        if missing:
            out["errorMessage"] = f"Deployment groups not found: {', '.join(missing)}"
        return out

    def op_delete_deployment_group(self, body: dict[str, Any]) -> dict[str, Any]:
        group = self._group(body)
        del self.groups[(group["applicationName"], group["deploymentGroupName"])]
        return {"hooksNotCleanedUp": []}

    # -- deployments ------------------------------------------------------------------

    def deployment(self, body: Mapping[str, Any]) -> DeploymentRecord:
        deployment_id = require(body, "deploymentId", "DeploymentIdRequiredException")
        if not re.match(r"^d-[A-Z0-9]{9}$", deployment_id):
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
            if (record.application, record.group) == (
                application,
                group,
            ) and not record.status.is_terminal:
                return record
        return None

    def op_create_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._application(body)
        group = self._group(body)
        if app["computePlatform"] != "ECS":
            raise ApiError("InvalidComputePlatformException", "the application is not ECS")
        config_name = body.get("deploymentConfigName") or group["deploymentConfigName"]
        config = self.traffic_config(config_name)
        self._check_config_fits_load_balancer(config, _pair(group))
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
            _check_rollback(rollback)
        else:
            rollback = group.get("autoRollbackConfiguration") or {}
        alarm_config = (
            body.get("overrideAlarmConfiguration") or group.get("alarmConfiguration") or {}
        )
        _check_alarms(alarm_config)
        active = self.active_in_group(app["applicationName"], group["deploymentGroupName"])
        if active is not None:
            raise ApiError(
                "DeploymentLimitExceededException",
                f"The Deployment Group '{group['deploymentGroupName']}' already has an active "
                f"Deployment '{active.id}'",
            )
        service = group["ecsServices"][0]
        sha = hashlib.sha256(content.encode("utf-8")).hexdigest()
        record = DeploymentRecord(
            id=self._unique_id(),
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
        )
        record.extras["content"] = content
        self._register_revision(record, content, sha)
        self.deployments[record.id] = record
        self._note_attempt(record)
        self.sim.lifecycle.begin(record)
        return {"deploymentId": record.id}

    def _unique_id(self) -> str:
        while (candidate := new_deployment_id()) in self.deployments:
            pass
        return candidate

    def _register_revision(self, record: DeploymentRecord, content: str, sha: str) -> None:
        key = (record.application, sha)
        info = self.revisions.setdefault(
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

    def _note_attempt(self, record: DeploymentRecord) -> None:
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
            self._note_attempt(record)

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
        return info

    def op_get_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"deploymentInfo": self.deployment_info(self.deployment(body))}

    def op_batch_get_deployments(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = require(body, "deploymentIds", "DeploymentIdRequiredException")
        if len(ids) > 25:
            raise ApiError(
                "BatchLimitExceededException", "The maximum number of deployment ids is 25"
            )
        infos = [self.deployment_info(self.deployments[i]) for i in ids if i in self.deployments]
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
            self._application(body)
            if group_name:
                self._group(body)
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
            for r in self.deployments.values()
            if (not app_name or r.application == app_name)
            and (not group_name or r.group == group_name)
            and (not statuses or str(r.status) in statuses)
            and r.create_time >= float(time_range.get("start", 0))
            and r.create_time <= float(time_range.get("end", float("inf")))
        ]
        found.sort(key=lambda r: r.create_time, reverse=True)
        chunk, token = _page([r.id for r in found], body)
        return {"deployments": chunk, **({"nextToken": token} if token else {})}

    def op_get_application_revision(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._application(body)
        revision = body.get("revision") or {}
        if not revision:
            raise ApiError("RevisionRequiredException", "RevisionLocation must be specified")
        sha = (revision.get("appSpecContent") or {}).get("sha256") or (
            revision.get("string") or {}
        ).get("sha256")
        info = self.revisions.get((app["applicationName"], sha or ""))
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
        record = self.deployment(body)
        rollback = body.get("autoRollbackEnabled")
        if rollback is None:
            rollback = record.rolls_back_on("DEPLOYMENT_STOP_ON_REQUEST")
        self.sim.lifecycle.stop(record, rollback=bool(rollback))
        return {
            "status": "Succeeded",
            "statusMessage": f"Deployment {record.id} stopped"
            + (", rollback started" if record.rollback_info else ""),
        }

    def op_continue_deployment(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.deployment(body)
        wait_type = body.get("deploymentWaitType") or "READY_WAIT"
        if wait_type not in ("READY_WAIT", "TERMINATION_WAIT"):
            raise ApiError("InvalidDeploymentWaitTypeException", f"invalid wait type {wait_type}")
        self.sim.lifecycle.continue_(record, wait_type)
        return {}

    def op_skip_wait_time_for_instance_termination(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.deployment(body)
        self.sim.lifecycle.continue_(record, "TERMINATION_WAIT")
        return {}

    def op_put_lifecycle_event_hook_execution_status(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.deployment(body)
        execution_id = require(
            body, "lifecycleEventHookExecutionId", "InvalidLifecycleEventHookExecutionIdException"
        )
        status = body.get("status")
        if status not in ("Succeeded", "Failed"):
            raise ApiError(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The status {status} is invalid: should return Succeeded or Failed",
            )
        execution = self.executions.get(execution_id)
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
        self.sim.lifecycle.hook_reported(record, execution)
        return {"lifecycleEventHookExecutionId": execution_id}

    # -- deployment targets -----------------------------------------------------------

    def target_id(self, record: DeploymentRecord) -> str:
        return f"{record.cluster}:{record.service}"

    def _started(self, body: Mapping[str, Any]) -> DeploymentRecord:
        record = self.deployment(body)
        if record.status is DeploymentStatus.CREATED:
            raise ApiError(
                "DeploymentNotStartedException", f"The deployment {record.id} has not started"
            )
        return record

    def op_list_deployment_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._started(body)
        wanted = set((body.get("targetFilters") or {}).get("TargetStatus") or ())
        ids = [self.target_id(record)] if not wanted or record.target_status in wanted else []
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
        if target != self.target_id(record):
            raise ApiError(
                "DeploymentTargetDoesNotExistException",
                f"The deployment target {target} does not exist in deployment {record.id}",
            )

    def op_get_deployment_target(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._started(body)
        target = require(body, "targetId", "DeploymentTargetIdRequiredException")
        self._check_target(record, target)
        return {"deploymentTarget": self.sim.lifecycle.target(record)}

    def op_batch_get_deployment_targets(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self._started(body)
        ids = require(body, "targetIds", "DeploymentTargetIdRequiredException")
        if len(ids) != 1:
            raise ApiError(
                "DeploymentTargetListSizeExceededException",
                "ECS and Lambda deployment target lists must have exactly one item",
            )
        self._check_target(record, ids[0])
        return {"deploymentTargets": [self.sim.lifecycle.target(record)]}


def deployment_overview(record: DeploymentRecord) -> dict[str, int]:
    """``deploymentOverview``: how many targets (an ECS deployment has one) are in each
    status, so it always agrees with the target GetDeploymentTarget shows."""
    overview = dict.fromkeys(_OVERVIEW_KEYS, 0)
    if record.target_status in overview:
        overview[record.target_status] += 1
    return overview


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


def _check_rollback(config: Mapping[str, Any]) -> None:
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


def _check_alarms(config: Mapping[str, Any]) -> None:
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
