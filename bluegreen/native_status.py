"""The states an ECS-native (BLUE_GREEN, LINEAR, CANARY) service deployment reports, as enums
that know what they mean, and how they map onto CodeDeploy's vocabulary.

A native deployment's id in bluegreen is its ``serviceDeploymentArn``
(``arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>``);
``is_native_deployment_id`` tells it from a CodeDeploy ``d-XXXXXXXXX``. Each lifecycle stage
that has a CodeDeploy counterpart maps onto a ``LifecycleEvent`` (``STAGE_EVENTS``), so the
snapshot, the milestones and the live view speak one language for both kinds. Values are
exactly AWS's strings (botocore's ECS model, 2014-11-13).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from typing import Any

import attrs

from bluegreen.status import LifecycleEvent

__all__ = [
    "IN_FLIGHT",
    "STAGE_EVENTS",
    "STAGE_PREFIX",
    "HookStatus",
    "HookTargetType",
    "LifecycleStage",
    "NativeHook",
    "ServiceDeploymentStatus",
    "StageMilestone",
    "Strategy",
    "NativeState",
    "is_native_deployment_id",
    "service_of",
]

_ARN = re.compile(
    r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service-deployment/"
    r"(?P<cluster>[A-Za-z0-9_-]{1,255})/(?P<service>[A-Za-z0-9_-]{1,255})/(?P<id>[A-Za-z0-9_-]+)"
)


def is_native_deployment_id(value: object) -> bool:
    """True for an ECS service deployment ARN: the id of an ECS-native deployment."""
    return isinstance(value, str) and _ARN.fullmatch(value) is not None


def service_of(arn: str) -> tuple[str, str]:
    """``(cluster, service)`` named in a service deployment ARN (no call).

    Raises:
        ValueError: ``arn`` is not a service deployment ARN.
    """
    match = _ARN.fullmatch(arn)
    if match is None:
        raise ValueError(f"{arn!r} is not an ECS service deployment ARN")
    return match["cluster"], match["service"]


class ServiceDeploymentStatus(enum.StrEnum):
    """``ServiceDeployment.status``: all nine values of the API's enum."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESSFUL = "SUCCESSFUL"
    STOPPED = "STOPPED"
    STOP_REQUESTED = "STOP_REQUESTED"
    ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"

    @property
    def is_terminal(self) -> bool:
        """True once the deployment can no longer change."""
        return self in (
            ServiceDeploymentStatus.SUCCESSFUL,
            ServiceDeploymentStatus.STOPPED,
            ServiceDeploymentStatus.ROLLBACK_SUCCESSFUL,
            ServiceDeploymentStatus.ROLLBACK_FAILED,
        )

    @property
    def is_rolling_back(self) -> bool:
        """A rollback was asked for or runs: blue gets production traffic back."""
        return self in (
            ServiceDeploymentStatus.ROLLBACK_REQUESTED,
            ServiceDeploymentStatus.ROLLBACK_IN_PROGRESS,
        )


IN_FLIGHT: tuple[ServiceDeploymentStatus, ...] = (
    ServiceDeploymentStatus.PENDING,
    ServiceDeploymentStatus.IN_PROGRESS,
    ServiceDeploymentStatus.STOP_REQUESTED,
    ServiceDeploymentStatus.ROLLBACK_REQUESTED,
    ServiceDeploymentStatus.ROLLBACK_IN_PROGRESS,
)
"""The statuses of a deployment that still changes the service (ListServiceDeployments'
filter for the one in flight)."""


class LifecycleStage(enum.StrEnum):
    """The lifecycle stages of a native deployment, in the order they run.

    PRE_PRODUCTION_TRAFFIC_SHIFT is a hook stage that the model's ``lifecycleStage`` enum
    leaves out; it is kept here, in its place, for hooks and ``wait(until="ecs:...")``.
    Linear and canary deployments run it and PRODUCTION_TRAFFIC_SHIFT at every step.
    """

    RECONCILE_SERVICE = "RECONCILE_SERVICE"
    PRE_SCALE_UP = "PRE_SCALE_UP"
    SCALE_UP = "SCALE_UP"
    POST_SCALE_UP = "POST_SCALE_UP"
    TEST_TRAFFIC_SHIFT = "TEST_TRAFFIC_SHIFT"
    POST_TEST_TRAFFIC_SHIFT = "POST_TEST_TRAFFIC_SHIFT"
    PRE_PRODUCTION_TRAFFIC_SHIFT = "PRE_PRODUCTION_TRAFFIC_SHIFT"
    PRODUCTION_TRAFFIC_SHIFT = "PRODUCTION_TRAFFIC_SHIFT"
    POST_PRODUCTION_TRAFFIC_SHIFT = "POST_PRODUCTION_TRAFFIC_SHIFT"
    BAKE_TIME = "BAKE_TIME"
    CLEAN_UP = "CLEAN_UP"

    @property
    def position(self) -> int:
        """0 for RECONCILE_SERVICE up to 10 for CLEAN_UP."""
        return list(LifecycleStage).index(self)

    @property
    def event(self) -> LifecycleEvent | None:
        """The CodeDeploy lifecycle event this stage plays the part of, if any."""
        return STAGE_EVENTS.get(self)

    @classmethod
    def parse(cls, value: object) -> LifecycleStage | None:
        """The stage named ``value`` (AWS's string), or None for anything else."""
        return next((s for s in cls if s.value == value), None)


STAGE_EVENTS: Mapping[LifecycleStage, LifecycleEvent] = {
    LifecycleStage.PRE_SCALE_UP: LifecycleEvent.BEFORE_INSTALL,
    LifecycleStage.SCALE_UP: LifecycleEvent.INSTALL,
    LifecycleStage.POST_SCALE_UP: LifecycleEvent.AFTER_INSTALL,
    LifecycleStage.TEST_TRAFFIC_SHIFT: LifecycleEvent.ALLOW_TEST_TRAFFIC,
    LifecycleStage.POST_TEST_TRAFFIC_SHIFT: LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC,
    LifecycleStage.PRE_PRODUCTION_TRAFFIC_SHIFT: LifecycleEvent.BEFORE_ALLOW_TRAFFIC,
    LifecycleStage.PRODUCTION_TRAFFIC_SHIFT: LifecycleEvent.ALLOW_TRAFFIC,
    LifecycleStage.POST_PRODUCTION_TRAFFIC_SHIFT: LifecycleEvent.AFTER_ALLOW_TRAFFIC,
}
"""Stage -> CodeDeploy event. RECONCILE_SERVICE comes before any event; BAKE_TIME is the
termination wait and CLEAN_UP blue's removal, both after every event."""


class HookStatus(enum.StrEnum):
    """``DeploymentLifecycleHookDetail.status``."""

    AWAITING_ACTION = "AWAITING_ACTION"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"


class HookTargetType(enum.StrEnum):
    """``DeploymentLifecycleHook.targetType``: a Lambda function, or a pause for a person."""

    AWS_LAMBDA = "AWS_LAMBDA"
    PAUSE = "PAUSE"


class Strategy(enum.StrEnum):
    """``deploymentConfiguration.strategy``; all but ROLLING are blue/green."""

    ROLLING = "ROLLING"
    BLUE_GREEN = "BLUE_GREEN"
    LINEAR = "LINEAR"
    CANARY = "CANARY"

    @property
    def is_blue_green(self) -> bool:
        return self is not Strategy.ROLLING


@attrs.frozen(kw_only=True)
class NativeHook:
    """One lifecycle hook of a native deployment (``lifecycleHookDetails[]``).

    ``stage`` is the deployment's lifecycle stage when it was read (the API does not say a
    hook's stage): for a hook at work or awaiting action, the stage it runs at.
    """

    hook_id: str
    target_type: str
    status: str
    target_arn: str | None = None
    expires_at: dt.datetime | None = None
    timeout_action: str | None = None
    stage: str | None = None

    @classmethod
    def from_api(cls, detail: Mapping[str, Any], *, stage: str | None = None) -> NativeHook:
        return cls(
            hook_id=detail.get("hookId", ""),
            target_type=detail.get("targetType", HookTargetType.AWS_LAMBDA),
            status=detail.get("status", ""),
            target_arn=detail.get("targetArn") or None,
            expires_at=detail.get("expiresAt"),
            timeout_action=detail.get("timeoutAction") or None,
            stage=stage,
        )

    @property
    def is_paused(self) -> bool:
        """A PAUSE hook waiting for ContinueServiceDeployment."""
        return (
            self.target_type == HookTargetType.PAUSE and self.status == HookStatus.AWAITING_ACTION
        )

    @property
    def name(self) -> str:
        """``pause`` or the Lambda function's name, for messages."""
        if self.target_type == HookTargetType.PAUSE or not self.target_arn:
            return "pause"
        return self.target_arn.rsplit(":", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        expires = self.expires_at
        return {
            "hook_id": self.hook_id,
            "target_type": self.target_type,
            "target_arn": self.target_arn,
            "status": self.status,
            "expires_at": None if expires is None else expires.astimezone(dt.UTC).isoformat(),
            "timeout_action": self.timeout_action,
            "stage": self.stage,
        }


STAGE_PREFIX = "ecs:"
"""How ``wait(until=...)`` names a native lifecycle stage: ``ecs:BAKE_TIME``."""


@attrs.frozen
class StageMilestone:
    """A native lifecycle stage as a point to wait for: ``ecs:POST_TEST_TRAFFIC_SHIFT``.

    Reached once the deployment is at that stage or a later one (or at the CodeDeploy event
    it maps to, for a CodeDeploy deployment).
    """

    stage: LifecycleStage

    @classmethod
    def parse(cls, value: object) -> StageMilestone | None:
        """``ecs:<STAGE>`` (any case) as a milestone, or None when it names no stage."""
        if not isinstance(value, str) or not value.lower().startswith(STAGE_PREFIX):
            return None
        stage = LifecycleStage.parse(value[len(STAGE_PREFIX) :].strip().upper())
        return None if stage is None else cls(stage)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every valid ``ecs:<STAGE>``."""
        return tuple(f"{STAGE_PREFIX}{s.value}" for s in LifecycleStage)

    def __str__(self) -> str:
        return f"{STAGE_PREFIX}{self.stage.value}"


def _expires(when: dt.datetime | None) -> str:
    return "" if when is None else f"; expires {when.astimezone(dt.UTC):%H:%M:%S} UTC"


_ENDINGS = {
    ServiceDeploymentStatus.SUCCESSFUL: ("succeeded", "succeeded"),
    ServiceDeploymentStatus.ROLLBACK_SUCCESSFUL: (
        "rolled_back",
        "rolled back (blue serves production)",
    ),
    ServiceDeploymentStatus.ROLLBACK_FAILED: ("failed", "failed, and its rollback failed too"),
    ServiceDeploymentStatus.STOPPED: ("stopped", "stopped"),
}

_STAGE_WAITS = {
    LifecycleStage.BAKE_TIME: "the bake time to end (blue is kept until then)",
    LifecycleStage.CLEAN_UP: "ECS to remove blue (CLEAN_UP)",
    LifecycleStage.SCALE_UP: "green to scale up (SCALE_UP)",
    LifecycleStage.TEST_TRAFFIC_SHIFT: "test traffic to move to green (TEST_TRAFFIC_SHIFT)",
}


@attrs.frozen(kw_only=True)
class NativeState:
    """What an ECS-native service deployment says of itself, beside the CodeDeploy words it
    is mapped onto (``DeploymentSnapshot.native``).

    Attributes:
        status: ``ServiceDeploymentStatus`` as AWS sent it.
        stage: ``lifecycleStage`` (None before the first stage).
        status_reason: ``statusReason`` (or the rollback's reason).
        hooks: ``lifecycleHookDetails``.
        strategy: ``deploymentConfiguration.strategy``.
        green_weight: the target revision's production weight, in percent.
        cluster, service: named in the deployment's ARN.
    """

    status: str
    stage: str | None = None
    status_reason: str | None = None
    hooks: tuple[NativeHook, ...] = ()
    strategy: str | None = None
    green_weight: float = 0.0
    cluster: str = ""
    service: str = ""

    @property
    def state(self) -> ServiceDeploymentStatus | None:
        return next((s for s in ServiceDeploymentStatus if s.value == self.status), None)

    @property
    def where(self) -> str:
        return f"{self.cluster}/{self.service}"

    @property
    def paused_hooks(self) -> tuple[NativeHook, ...]:
        """The PAUSE hooks awaiting ContinueServiceDeployment (``promote``)."""
        return tuple(h for h in self.hooks if h.is_paused)

    @property
    def rolling_back(self) -> bool:
        """A rollback of this very deployment was asked for or runs."""
        state = self.state
        return state is not None and state.is_rolling_back

    @property
    def waiting_for(self) -> str | None:
        """What it waits for now, as the end of "waiting for ...", or None once it ended."""
        state = self.state
        if state is None:
            return f"ECS ({self.status})"
        if state.is_terminal:
            return None
        at = f" at {self.stage}" if self.stage else ""
        if state is ServiceDeploymentStatus.PENDING:
            return "ECS to start the service deployment"
        if state is ServiceDeploymentStatus.STOP_REQUESTED:
            return f"ECS to stop the deployment{at}"
        if state.is_rolling_back:
            return f"ECS to roll back to blue ({state}{at})"
        paused = self.paused_hooks
        if paused:
            then = f", then {paused[0].timeout_action}" if paused[0].timeout_action else ""
            return f"the pause hook{at} (promote to continue{_expires(paused[0].expires_at)}{then})"
        running = [h for h in self.hooks if h.status == HookStatus.IN_PROGRESS]
        if running:
            return f"the {running[0].name} hook{at}"
        stage = LifecycleStage.parse(self.stage)
        if stage is LifecycleStage.PRODUCTION_TRAFFIC_SHIFT:
            return (
                "production traffic to shift to green (PRODUCTION_TRAFFIC_SHIFT, green at "
                f"{self.green_weight:g}%)"
            )
        if stage in _STAGE_WAITS:
            return _STAGE_WAITS[stage]
        return f"ECS ({self.stage or state})"

    @property
    def ending(self) -> str | None:
        """``succeeded``, ``rolled_back``, ``failed`` or ``stopped``; None while it runs."""
        state = self.state
        return _ENDINGS[state][0] if state in _ENDINGS else None

    @property
    def outcome(self) -> str | None:
        """How it ended, as a sentence (with the reason), or None while it runs."""
        state = self.state
        if state not in _ENDINGS:
            return None
        text = _ENDINGS[state][1]
        reason = self.status_reason
        return (
            f"{text}: {reason}"
            if reason and state is not ServiceDeploymentStatus.SUCCESSFUL
            else text
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stage": self.stage,
            "status_reason": self.status_reason,
            "strategy": self.strategy,
            "hooks": [h.to_dict() for h in self.hooks],
        }

    def __str__(self) -> str:
        return f"{self.status} at {self.stage}" if self.stage else self.status
