"""bluegreen: Amazon ECS blue/green deployments through AWS CodeDeploy.

Read a service's live blue/green state with ``discover``, build and check the AppSpec for a
new task definition with ``AppSpec.for_service``, and plan traffic shifts with
``TrafficConfig``. Nothing here builds a boto3 client at import time: every entry point
takes ``session=`` (a ``boto3.Session``) or ``clients=``.
"""

from bluegreen._aws import Clients
from bluegreen.appspec import (
    AppSpec,
    AwsVpcConfiguration,
    CapacityProviderStrategyItem,
    Hook,
    mutable_image_tags,
)
from bluegreen.deployment import (
    Deployment,
    DeploymentSnapshot,
    LifecycleEventProgress,
    Milestone,
    RateBudget,
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
    ConflictError,
    DeploymentError,
    DeploymentStateError,
    ResourceNotFoundError,
    ServiceConfigError,
    ServiceUnavailableError,
    ThrottledError,
    TrafficConfigError,
    ValidationError,
    WaitTimeoutError,
)
from bluegreen.release import Plan, deploy, plan
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

__all__ = [
    "AWSError",
    "AccessDeniedError",
    "AppSpec",
    "AppSpecError",
    "AwsVpcConfiguration",
    "BlueGreenError",
    "CapacityProviderStrategyItem",
    "Clients",
    "ConflictError",
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
    "PREDEFINED_CONFIGS",
    "Plan",
    "RateBudget",
    "ResourceNotFoundError",
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
]
