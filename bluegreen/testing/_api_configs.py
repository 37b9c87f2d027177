"""The CodeDeploy API's deployment configs: the predefined ones of every compute platform
(ECS ones from ``bluegreen.traffic``), custom ones, and which an ECS group may use."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from bluegreen.errors import TrafficConfigError
from bluegreen.testing._context import SimContext
from bluegreen.testing._records import NAME
from bluegreen.testing._wire import ApiError, page, require
from bluegreen.traffic import PREDEFINED_CONFIGS, PREDEFINED_PREFIX, TrafficConfig, TrafficType

__all__ = ["OTHER_PLATFORM_CONFIGS", "Configs"]

_MAX_CUSTOM_CONFIGS = 200
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


class Configs:
    """CreateDeploymentConfig, GetDeploymentConfig, ListDeploymentConfigs,
    DeleteDeploymentConfig, and the config checks the other operations share."""

    def __init__(self, sim: SimContext) -> None:
        self.sim = sim
        self.store = sim.store

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    def traffic_config(self, name: str) -> TrafficConfig:
        if name in PREDEFINED_CONFIGS:
            return PREDEFINED_CONFIGS[name]
        info = self.store.configs.get(name) or OTHER_PLATFORM_CONFIGS.get(name)
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
        if name.startswith(PREDEFINED_PREFIX) or not NAME.match(name):
            raise ApiError(
                "InvalidDeploymentConfigNameException",
                f"The deployment configuration name {name} is invalid: it may not start with "
                f"{PREDEFINED_PREFIX} and may use only [A-Za-z0-9+=,.@_-]",
            )
        if name in self.store.configs:
            raise ApiError("DeploymentConfigAlreadyExistsException", f"{name} already exists")
        platform = body.get("computePlatform", "Server")
        if platform not in ("Server", "Lambda", "ECS"):
            raise ApiError("InvalidComputePlatformException", f"invalid computePlatform {platform}")
        if len(self.store.configs) >= _MAX_CUSTOM_CONFIGS:
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
        self.store.configs[name] = {
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
        if name not in self.store.configs:
            raise ApiError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {name}",
            )
        return {"deploymentConfigInfo": self.store.configs[name]}

    def op_list_deployment_configs(self, body: dict[str, Any]) -> dict[str, Any]:
        names, token = page(
            [*OTHER_PLATFORM_CONFIGS, *PREDEFINED_CONFIGS, *sorted(self.store.configs)], body
        )
        return {"deploymentConfigsList": names, **({"nextToken": token} if token else {})}

    def op_delete_deployment_config(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "deploymentConfigName", "DeploymentConfigNameRequiredException")
        if name.startswith(PREDEFINED_PREFIX):
            raise ApiError(
                "InvalidOperationException", "predefined configurations cannot be deleted"
            )
        if any(g.get("deploymentConfigName") == name for g in self.store.groups.values()):
            raise ApiError(
                "DeploymentConfigInUseException", f"{name} is used by a deployment group"
            )
        self.store.configs.pop(name, None)
        return {}

    def check_fits_load_balancer(self, config: TrafficConfig, pair: Mapping[str, Any]) -> None:
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
