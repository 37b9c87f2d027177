"""The states AWS reports, as enums that know what they mean.

Values are exactly AWS's strings, so ``DeploymentStatus("InProgress")`` parses an API
response and ``str(status)`` goes back into one.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "DeploymentStatus",
    "LifecycleEvent",
    "LifecycleEventStatus",
    "StabilityStatus",
    "TargetLabel",
    "TaskSetStatus",
]


class DeploymentStatus(enum.StrEnum):
    """CodeDeploy ``deploymentInfo.status``: all eight values of the API's enum."""

    CREATED = "Created"
    QUEUED = "Queued"
    IN_PROGRESS = "InProgress"
    BAKING = "Baking"
    READY = "Ready"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def is_terminal(self) -> bool:
        """True once the deployment can no longer change: Succeeded, Failed or Stopped."""
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """True while the deployment holds its group: no second deployment may start."""
        return not self.is_terminal

    @property
    def is_success(self) -> bool:
        return self is DeploymentStatus.SUCCEEDED

    @property
    def is_failure(self) -> bool:
        """Failed or Stopped: the new version did not go live."""
        return self in (DeploymentStatus.FAILED, DeploymentStatus.STOPPED)

    @property
    def awaits_promotion(self) -> bool:
        """Ready: green is installed and waits for ``ContinueDeployment(READY_WAIT)``."""
        return self is DeploymentStatus.READY


_TERMINAL = frozenset(
    {DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.STOPPED}
)


class LifecycleEvent(enum.StrEnum):
    """The eight lifecycle events of an ECS blue/green deployment, in the order they run.

    Members compare by that order (``BEFORE_INSTALL < INSTALL``), not alphabetically.
    """

    BEFORE_INSTALL = "BeforeInstall"
    INSTALL = "Install"
    AFTER_INSTALL = "AfterInstall"
    ALLOW_TEST_TRAFFIC = "AllowTestTraffic"
    AFTER_ALLOW_TEST_TRAFFIC = "AfterAllowTestTraffic"
    BEFORE_ALLOW_TRAFFIC = "BeforeAllowTraffic"
    ALLOW_TRAFFIC = "AllowTraffic"
    AFTER_ALLOW_TRAFFIC = "AfterAllowTraffic"

    @property
    def position(self) -> int:
        """0 for BeforeInstall up to 7 for AfterAllowTraffic."""
        return _ORDER[self]

    @property
    def accepts_hook(self) -> bool:
        """True for the five events an AppSpec ``Hooks`` entry may name."""
        return self in _HOOKABLE

    @property
    def uses_test_listener(self) -> bool:
        """True for the two events that only happen when the group has a test listener."""
        return self in (LifecycleEvent.ALLOW_TEST_TRAFFIC, LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC)

    @property
    def can_roll_back(self) -> bool:
        """False for BeforeInstall: nothing has changed yet, so there is nothing to undo."""
        return self is not LifecycleEvent.BEFORE_INSTALL

    @classmethod
    def hookable(cls) -> tuple[LifecycleEvent, ...]:
        """The five events that accept a hook, in run order."""
        return tuple(e for e in cls if e.accepts_hook)

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, LifecycleEvent):
            return NotImplemented
        return self.position < other.position

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, LifecycleEvent):
            return NotImplemented
        return self.position <= other.position

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, LifecycleEvent):
            return NotImplemented
        return self.position > other.position

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, LifecycleEvent):
            return NotImplemented
        return self.position >= other.position

    __hash__ = enum.StrEnum.__hash__


_ORDER = {event: i for i, event in enumerate(LifecycleEvent)}
_HOOKABLE = frozenset(
    {
        LifecycleEvent.BEFORE_INSTALL,
        LifecycleEvent.AFTER_INSTALL,
        LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC,
        LifecycleEvent.BEFORE_ALLOW_TRAFFIC,
        LifecycleEvent.AFTER_ALLOW_TRAFFIC,
    }
)


class LifecycleEventStatus(enum.StrEnum):
    """Status of one lifecycle event of a deployment target."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"
    UNKNOWN = "Unknown"

    @property
    def is_done(self) -> bool:
        return self in (
            LifecycleEventStatus.SUCCEEDED,
            LifecycleEventStatus.FAILED,
            LifecycleEventStatus.SKIPPED,
        )


class TaskSetStatus(enum.StrEnum):
    """ECS task-set status: PRIMARY serves the service, ACTIVE runs beside it, DRAINING stops."""

    PRIMARY = "PRIMARY"
    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"


class StabilityStatus(enum.StrEnum):
    """ECS task-set stability: STEADY_STATE once every task runs and is healthy."""

    STEADY_STATE = "STEADY_STATE"
    STABILIZING = "STABILIZING"


class TargetLabel(enum.StrEnum):
    """CodeDeploy's task-set label, in its mixed case: ``Blue`` (original) or ``Green``."""

    BLUE = "Blue"
    GREEN = "Green"
