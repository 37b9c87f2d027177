"""The simulated CodeDeploy API for ECS, answered in CodeDeploy's awsJson1.1 shapes.

Each area of the API has its module, checking what AWS checks and raising AWS's error codes:
``_api_groups`` (applications and deployment groups), ``_api_configs`` (deployment configs),
``_api_deployments`` (deployments, revisions and the controls) and ``_api_targets``
(deployment targets). They keep their records in ``_records.Store``; the lifecycle of a
deployment lives in ``_lifecycle``. This module dispatches an operation to its area.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bluegreen.testing._api_configs import OTHER_PLATFORM_CONFIGS, Configs
from bluegreen.testing._api_deployments import Deployments
from bluegreen.testing._api_groups import Groups
from bluegreen.testing._api_targets import Targets
from bluegreen.testing._context import SimContext
from bluegreen.testing._lifecycle import Lifecycle
from bluegreen.testing._records import (
    DeploymentRecord,
    HookExecution,
    deployment_overview,
)
from bluegreen.testing._wire import ApiError
from bluegreen.traffic import TrafficConfig

__all__ = [
    "OTHER_PLATFORM_CONFIGS",
    "CodeDeploy",
    "DeploymentRecord",
    "HookExecution",
    "deployment_overview",
]

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class CodeDeploy:
    """The CodeDeploy API of one simulated account and region."""

    def __init__(self, sim: SimContext, lifecycle: Lifecycle) -> None:
        self.store = sim.store
        self.configs_api = Configs(sim)
        self.groups_api = Groups(sim, self.configs_api)
        self.deployments_api = Deployments(sim, self.configs_api, lifecycle)
        self.targets_api = Targets(sim)
        self._areas = (self.groups_api, self.configs_api, self.deployments_api, self.targets_api)

    def handle(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        name = "op_" + re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        for area in self._areas:
            handler: Handler | None = getattr(area, name, None)
            if handler is not None:
                return handler(body)
        raise ApiError(
            "InvalidOperationException",
            f"{operation} is not implemented by the bluegreen simulator",
        )

    # -- the account's records ----------------------------------------------------------

    @property
    def applications(self) -> dict[str, dict[str, Any]]:
        return self.store.applications

    @property
    def groups(self) -> dict[tuple[str, str], dict[str, Any]]:
        return self.store.groups

    @property
    def configs(self) -> dict[str, dict[str, Any]]:
        return self.store.configs

    @property
    def deployments(self) -> dict[str, DeploymentRecord]:
        return self.store.deployments

    @property
    def revisions(self) -> dict[tuple[str, str], dict[str, Any]]:
        return self.store.revisions

    @property
    def executions(self) -> dict[str, HookExecution]:
        return self.store.executions

    def traffic_config(self, name: str) -> TrafficConfig:
        """The ECS traffic config named ``name`` (predefined or custom)."""
        return self.configs_api.traffic_config(name)

    def deployment_info(self, record: DeploymentRecord) -> dict[str, Any]:
        """GetDeployment's ``deploymentInfo`` for ``record``."""
        return self.deployments_api.deployment_info(record)
