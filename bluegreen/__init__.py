"""bluegreen: Amazon ECS blue/green deployments through AWS CodeDeploy.

Read a service's live blue/green state with ``discover``, build and check the AppSpec for a
new task definition with ``AppSpec.for_service``, and plan traffic shifts with
``TrafficConfig``. Nothing here builds a boto3 client at import time: every entry point
takes ``session=`` (a ``boto3.Session``) or ``clients=``.

The names below load on first use (PEP 562), so ``import bluegreen.hooks`` in a Lambda does not
pay for the deployment driver, the AppSpec or the traffic planner it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bluegreen._aws import Clients
    from bluegreen.appspec import (
        AppSpec,
        AwsVpcConfiguration,
        CapacityProviderStrategyItem,
        Hook,
        mutable_image_tags,
    )
    from bluegreen.deployment import (
        ControlResult,
        Deployment,
        DeploymentSnapshot,
        LifecycleEventProgress,
        Milestone,
        RateBudget,
        RollbackOrigin,
        TaskSetProgress,
        Transition,
        TransitionState,
    )
    from bluegreen.discovery import discover, find_deployment_group
    from bluegreen.errors import (
        AccessDeniedError,
        AppSpecError,
        AWSError,
        BlueGreenError,
        ConfigurationError,
        ConflictError,
        DeploymentError,
        DeploymentStateError,
        MissingExtraError,
        ResourceNotFoundError,
        ServiceConfigError,
        ServiceUnavailableError,
        ThrottledError,
        TrafficConfigError,
        ValidationError,
        WaitTimeoutError,
    )
    from bluegreen.release import Plan, deploy, plan
    from bluegreen.scaling import (
        RECORD_TAG,
        RestoreResult,
        ScalableTargetState,
        ScalingLease,
        ScalingRecord,
        ScalingStatus,
        recover,
        restore_scaling,
        scaling_state,
        suspend_scaling,
    )
    from bluegreen.state import (
        DeploymentGroup,
        ListenerRoute,
        LoadBalancerBinding,
        ServiceState,
        TargetGroup,
        TargetGroupPair,
        TaskSet,
        WeightedTargetGroup,
    )
    from bluegreen.status import (
        DeploymentStatus,
        LifecycleEvent,
        LifecycleEventStatus,
        StabilityStatus,
        TargetLabel,
        TaskSetStatus,
    )
    from bluegreen.traffic import (
        PREDEFINED_CONFIGS,
        Schedule,
        TrafficConfig,
        TrafficStep,
        TrafficType,
        ensure_deployment_config,
        get_deployment_config,
    )

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Clients": "bluegreen._aws",
    "AppSpec": "bluegreen.appspec",
    "AwsVpcConfiguration": "bluegreen.appspec",
    "CapacityProviderStrategyItem": "bluegreen.appspec",
    "Hook": "bluegreen.appspec",
    "mutable_image_tags": "bluegreen.appspec",
    "ControlResult": "bluegreen.deployment",
    "Deployment": "bluegreen.deployment",
    "DeploymentSnapshot": "bluegreen.deployment",
    "LifecycleEventProgress": "bluegreen.deployment",
    "Milestone": "bluegreen.deployment",
    "RateBudget": "bluegreen.clock",
    "RollbackOrigin": "bluegreen.deployment",
    "TaskSetProgress": "bluegreen.deployment",
    "Transition": "bluegreen.deployment",
    "TransitionState": "bluegreen.deployment",
    "discover": "bluegreen.discovery",
    "find_deployment_group": "bluegreen.discovery",
    "AWSError": "bluegreen.errors",
    "AccessDeniedError": "bluegreen.errors",
    "AppSpecError": "bluegreen.errors",
    "BlueGreenError": "bluegreen.errors",
    "ConfigurationError": "bluegreen.errors",
    "ConflictError": "bluegreen.errors",
    "DeploymentError": "bluegreen.errors",
    "DeploymentStateError": "bluegreen.errors",
    "MissingExtraError": "bluegreen.errors",
    "ResourceNotFoundError": "bluegreen.errors",
    "ServiceConfigError": "bluegreen.errors",
    "ServiceUnavailableError": "bluegreen.errors",
    "ThrottledError": "bluegreen.errors",
    "TrafficConfigError": "bluegreen.errors",
    "ValidationError": "bluegreen.errors",
    "WaitTimeoutError": "bluegreen.errors",
    "Plan": "bluegreen.release",
    "deploy": "bluegreen.release",
    "plan": "bluegreen.release",
    "RECORD_TAG": "bluegreen.scaling",
    "RestoreResult": "bluegreen.scaling",
    "ScalableTargetState": "bluegreen.scaling",
    "ScalingLease": "bluegreen.scaling",
    "ScalingRecord": "bluegreen.scaling",
    "ScalingStatus": "bluegreen.scaling",
    "recover": "bluegreen.scaling",
    "restore_scaling": "bluegreen.scaling",
    "scaling_state": "bluegreen.scaling",
    "suspend_scaling": "bluegreen.scaling",
    "DeploymentGroup": "bluegreen.state",
    "ListenerRoute": "bluegreen.state",
    "LoadBalancerBinding": "bluegreen.state",
    "ServiceState": "bluegreen.state",
    "TargetGroup": "bluegreen.state",
    "TargetGroupPair": "bluegreen.state",
    "TaskSet": "bluegreen.state",
    "WeightedTargetGroup": "bluegreen.state",
    "DeploymentStatus": "bluegreen.status",
    "LifecycleEvent": "bluegreen.status",
    "LifecycleEventStatus": "bluegreen.status",
    "StabilityStatus": "bluegreen.status",
    "TargetLabel": "bluegreen.status",
    "TaskSetStatus": "bluegreen.status",
    "PREDEFINED_CONFIGS": "bluegreen.traffic",
    "Schedule": "bluegreen.traffic",
    "TrafficConfig": "bluegreen.traffic",
    "TrafficStep": "bluegreen.traffic",
    "TrafficType": "bluegreen.traffic",
    "ensure_deployment_config": "bluegreen.traffic",
    "get_deployment_config": "bluegreen.traffic",
}
"""Each public name and the module that defines it."""


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The public names only (``dir(bluegreen)`` at a REPL), loaded or not."""
    return sorted({*__all__, "__version__"})


__all__ = [
    "AWSError",
    "AccessDeniedError",
    "AppSpec",
    "AppSpecError",
    "AwsVpcConfiguration",
    "BlueGreenError",
    "CapacityProviderStrategyItem",
    "Clients",
    "ConfigurationError",
    "ConflictError",
    "ControlResult",
    "Deployment",
    "DeploymentError",
    "DeploymentGroup",
    "DeploymentSnapshot",
    "DeploymentStateError",
    "DeploymentStatus",
    "Hook",
    "LifecycleEvent",
    "LifecycleEventProgress",
    "LifecycleEventStatus",
    "ListenerRoute",
    "LoadBalancerBinding",
    "Milestone",
    "MissingExtraError",
    "PREDEFINED_CONFIGS",
    "Plan",
    "RECORD_TAG",
    "RateBudget",
    "ResourceNotFoundError",
    "RestoreResult",
    "RollbackOrigin",
    "ScalableTargetState",
    "ScalingLease",
    "ScalingRecord",
    "ScalingStatus",
    "Schedule",
    "ServiceConfigError",
    "ServiceState",
    "ServiceUnavailableError",
    "StabilityStatus",
    "TargetGroup",
    "TargetGroupPair",
    "TargetLabel",
    "TaskSet",
    "TaskSetProgress",
    "TaskSetStatus",
    "ThrottledError",
    "TrafficConfig",
    "TrafficConfigError",
    "TrafficStep",
    "TrafficType",
    "Transition",
    "TransitionState",
    "ValidationError",
    "WaitTimeoutError",
    "WeightedTargetGroup",
    "deploy",
    "discover",
    "ensure_deployment_config",
    "find_deployment_group",
    "get_deployment_config",
    "mutable_image_tags",
    "plan",
    "recover",
    "restore_scaling",
    "scaling_state",
    "suspend_scaling",
]
