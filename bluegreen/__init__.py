"""bluegreen: Amazon ECS blue/green deployments, through AWS CodeDeploy or ECS's own
blue/green, linear and canary strategies, behind one API (the kind is read from the service).

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
    from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis, Metric
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.analysis_verdict import Evaluation, Verdict
    from bluegreen.appspec import AppSpec
    from bluegreen.appspec_checks import mutable_image_tags
    from bluegreen.appspec_hook import Hook
    from bluegreen.clock import RateBudget
    from bluegreen.controls import (
        ControlResult,
        RollbackOrigin,
    )
    from bluegreen.deploying import (
        deploy,
        plan,
    )
    from bluegreen.deployment import Deployment
    from bluegreen.deployment_group import DeploymentGroup
    from bluegreen.discovery import (
        discover,
        find_deployment_group,
    )
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
    from bluegreen.iam import IamPolicy, iam_policy
    from bluegreen.manifest import Manifest
    from bluegreen.manifest_load import load_manifest
    from bluegreen.migration_apply import apply_migration
    from bluegreen.migration_model import MigrationPlan, MigrationResult
    from bluegreen.migration_plan import plan_migration
    from bluegreen.migration_revert import revert_migration
    from bluegreen.native_config import NativeStrategy
    from bluegreen.native_status import (
        LifecycleStage,
        NativeState,
        ServiceDeploymentStatus,
        is_native_deployment_id,
    )
    from bluegreen.notify import DeploymentMilestone, Notification, Notifier
    from bluegreen.notify_webhook import Webhook
    from bluegreen.placement import (
        AwsVpcConfiguration,
        CapacityProviderStrategyItem,
    )
    from bluegreen.plan import Plan
    from bluegreen.polling import Milestone
    from bluegreen.release_events import ReleaseEvent
    from bluegreen.release_result import ReleaseError, ReleaseResult
    from bluegreen.routing import (
        ListenerRoute,
        TargetGroup,
        TargetGroupPair,
        WeightedTargetGroup,
    )
    from bluegreen.scaling import (
        RECORD_TAG,
        ScalingLease,
        ScalingStatus,
        recover,
        restore_scaling,
        scaling_state,
        suspend_scaling,
    )
    from bluegreen.scaling_record import (
        ScalableTargetState,
        ScalingRecord,
    )
    from bluegreen.scaling_targets import RestoreResult
    from bluegreen.snapshot import (
        DeploymentSnapshot,
        LifecycleEventProgress,
        TaskSetProgress,
        Transition,
        TransitionState,
    )
    from bluegreen.state import ServiceState
    from bluegreen.status import (
        DeploymentStatus,
        LifecycleEvent,
        LifecycleEventStatus,
        StabilityStatus,
        TargetLabel,
        TaskSetStatus,
    )
    from bluegreen.summary import deployment_summary
    from bluegreen.task_set import (
        LoadBalancerBinding,
        TaskSet,
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
    from bluegreen.waves import release

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "MigrationPlan": "bluegreen.migration_model",
    "MigrationResult": "bluegreen.migration_model",
    "plan_migration": "bluegreen.migration_plan",
    "apply_migration": "bluegreen.migration_apply",
    "revert_migration": "bluegreen.migration_revert",
    "NativeStrategy": "bluegreen.native_config",
    "LifecycleStage": "bluegreen.native_status",
    "NativeState": "bluegreen.native_status",
    "ServiceDeploymentStatus": "bluegreen.native_status",
    "is_native_deployment_id": "bluegreen.native_status",
    "Clients": "bluegreen._aws",
    "DeploymentMilestone": "bluegreen.notify",
    "Notification": "bluegreen.notify",
    "Notifier": "bluegreen.notify",
    "Webhook": "bluegreen.notify_webhook",
    "deployment_summary": "bluegreen.summary",
    "Analysis": "bluegreen.analysis",
    "DEFAULT_ANALYSIS": "bluegreen.analysis",
    "Metric": "bluegreen.analysis",
    "AnalysisRun": "bluegreen.analysis_run",
    "Evaluation": "bluegreen.analysis_verdict",
    "Verdict": "bluegreen.analysis_verdict",
    "AppSpec": "bluegreen.appspec",
    "mutable_image_tags": "bluegreen.appspec_checks",
    "Hook": "bluegreen.appspec_hook",
    "RateBudget": "bluegreen.clock",
    "ControlResult": "bluegreen.controls",
    "RollbackOrigin": "bluegreen.controls",
    "Deployment": "bluegreen.deployment",
    "DeploymentGroup": "bluegreen.deployment_group",
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
    "IamPolicy": "bluegreen.iam",
    "iam_policy": "bluegreen.iam",
    "AwsVpcConfiguration": "bluegreen.placement",
    "CapacityProviderStrategyItem": "bluegreen.placement",
    "Plan": "bluegreen.plan",
    "Milestone": "bluegreen.polling",
    "deploy": "bluegreen.deploying",
    "release": "bluegreen.waves",
    "ReleaseResult": "bluegreen.release_result",
    "ReleaseError": "bluegreen.release_result",
    "ReleaseEvent": "bluegreen.release_events",
    "Manifest": "bluegreen.manifest",
    "load_manifest": "bluegreen.manifest_load",
    "plan": "bluegreen.deploying",
    "ListenerRoute": "bluegreen.routing",
    "TargetGroup": "bluegreen.routing",
    "TargetGroupPair": "bluegreen.routing",
    "WeightedTargetGroup": "bluegreen.routing",
    "RECORD_TAG": "bluegreen.scaling",
    "ScalingLease": "bluegreen.scaling",
    "ScalingStatus": "bluegreen.scaling",
    "recover": "bluegreen.scaling",
    "restore_scaling": "bluegreen.scaling",
    "scaling_state": "bluegreen.scaling",
    "suspend_scaling": "bluegreen.scaling",
    "ScalableTargetState": "bluegreen.scaling_record",
    "ScalingRecord": "bluegreen.scaling_record",
    "RestoreResult": "bluegreen.scaling_targets",
    "DeploymentSnapshot": "bluegreen.snapshot",
    "LifecycleEventProgress": "bluegreen.snapshot",
    "TaskSetProgress": "bluegreen.snapshot",
    "Transition": "bluegreen.snapshot",
    "TransitionState": "bluegreen.snapshot",
    "ServiceState": "bluegreen.state",
    "DeploymentStatus": "bluegreen.status",
    "LifecycleEvent": "bluegreen.status",
    "LifecycleEventStatus": "bluegreen.status",
    "StabilityStatus": "bluegreen.status",
    "TargetLabel": "bluegreen.status",
    "TaskSetStatus": "bluegreen.status",
    "LoadBalancerBinding": "bluegreen.task_set",
    "TaskSet": "bluegreen.task_set",
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
    "Analysis",
    "AnalysisRun",
    "AppSpec",
    "AppSpecError",
    "AwsVpcConfiguration",
    "BlueGreenError",
    "CapacityProviderStrategyItem",
    "Clients",
    "ConfigurationError",
    "ConflictError",
    "ControlResult",
    "DEFAULT_ANALYSIS",
    "Deployment",
    "DeploymentError",
    "DeploymentGroup",
    "DeploymentMilestone",
    "DeploymentSnapshot",
    "DeploymentStateError",
    "DeploymentStatus",
    "Evaluation",
    "Hook",
    "IamPolicy",
    "LifecycleEvent",
    "LifecycleEventProgress",
    "LifecycleEventStatus",
    "LifecycleStage",
    "ListenerRoute",
    "LoadBalancerBinding",
    "Manifest",
    "Metric",
    "MigrationPlan",
    "MigrationResult",
    "Milestone",
    "MissingExtraError",
    "NativeState",
    "NativeStrategy",
    "Notification",
    "Notifier",
    "PREDEFINED_CONFIGS",
    "Plan",
    "RECORD_TAG",
    "RateBudget",
    "ReleaseError",
    "ReleaseEvent",
    "ReleaseResult",
    "ResourceNotFoundError",
    "RestoreResult",
    "RollbackOrigin",
    "ScalableTargetState",
    "ScalingLease",
    "ScalingRecord",
    "ScalingStatus",
    "Schedule",
    "ServiceConfigError",
    "ServiceDeploymentStatus",
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
    "Verdict",
    "WaitTimeoutError",
    "Webhook",
    "WeightedTargetGroup",
    "apply_migration",
    "deploy",
    "deployment_summary",
    "discover",
    "ensure_deployment_config",
    "find_deployment_group",
    "get_deployment_config",
    "iam_policy",
    "is_native_deployment_id",
    "load_manifest",
    "mutable_image_tags",
    "plan",
    "plan_migration",
    "recover",
    "release",
    "restore_scaling",
    "revert_migration",
    "scaling_state",
    "suspend_scaling",
]
