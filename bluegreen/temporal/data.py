"""What the release workflow, its children and its activities pass to each other.

Plain dataclasses of strings and numbers (Temporal's data converter serialises them as JSON),
so the workflow's history is readable in the Temporal UI and a worker of another version of
bluegreen still reads it. The manifest travels as its source text: each activity loads it
again (``bluegreen.manifest_load``) to get a service's full ``ServiceRelease``, analysis
included, while the workflow code only sees the waves' shape (``WaveInput``).
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "DeploymentInput",
    "FollowInput",
    "FollowResult",
    "PlanInput",
    "ReleaseInput",
    "ReleaseOptions",
    "ReleaseResult",
    "ServiceJob",
    "ServiceOutcome",
    "ServiceRef",
    "ServiceState",
    "ServiceStepInput",
    "WaveInput",
]


@dataclasses.dataclass(frozen=True)
class ReleaseOptions:
    """How the workflow drives its activities.

    Attributes:
        heartbeat_timeout: seconds without a heartbeat after which an activity's worker
            counts as dead and the activity is retried on another worker; activities
            heartbeat every third of it.
        step_timeout: seconds one attempt of a short step (start, stop, promote, roll back)
            may take.
        retry_initial: seconds before the first retry of a failed activity (doubling).
        retry_maximum: the longest pause between two retries, in seconds.
        queue_prefix: the activities' task queues are ``<prefix>-<region>`` (see
            ``bluegreen.temporal.queues``).
    """

    heartbeat_timeout: float = 30.0
    step_timeout: float = 600.0
    retry_initial: float = 1.0
    retry_maximum: float = 30.0
    queue_prefix: str = "bluegreen"


@dataclasses.dataclass(frozen=True)
class ServiceRef:
    """A service of the manifest as the workflow sees it: its name and where it runs."""

    name: str
    region: str | None = None
    role: str | None = None
    timeout: float | None = None


@dataclasses.dataclass(frozen=True)
class WaveInput:
    """A wave's shape: its services, how many at once (None: all), the bake after it."""

    name: str
    services: list[ServiceRef]
    concurrency: int | None = None
    bake: float = 0.0


@dataclasses.dataclass(frozen=True)
class ReleaseInput:
    """The release workflow's input: the release id (the workflow id too), its waves, the
    failure policy (``stop`` or ``rollback``) and the manifest's text for the activities."""

    release_id: str
    name: str
    on_failure: str
    waves: list[WaveInput]
    manifest_text: str
    manifest_path: str | None = None
    options: ReleaseOptions = dataclasses.field(default_factory=ReleaseOptions)


@dataclasses.dataclass(frozen=True)
class ServiceJob:
    """A ``ServiceWorkflow``'s input: one service of one wave of the release."""

    release_id: str
    wave: str
    service: ServiceRef
    manifest_text: str
    manifest_path: str | None
    task_queue: str
    options: ReleaseOptions


@dataclasses.dataclass(frozen=True)
class PlanInput:
    """The plan activity's input: the services (by name) of one task queue."""

    release_id: str
    services: list[str]
    manifest_text: str
    manifest_path: str | None = None


@dataclasses.dataclass(frozen=True)
class ServiceStepInput:
    """An activity's input about one service of the manifest (start, follow, roll back)."""

    release_id: str
    wave: str
    service: str
    manifest_text: str
    manifest_path: str | None = None
    deployment_id: str | None = None


@dataclasses.dataclass(frozen=True)
class FollowInput:
    """The follow activity's input: the deployment, and whether it is the release's
    rollback (followed without the service's analysis)."""

    step: ServiceStepInput
    deployment_id: str
    rollback: bool = False
    until_failure: bool = False
    """Return at the first read that shows the deployment failed (``FollowResult.failed``),
    before CodeDeploy's rollback of it has ended, so the release stops the others at once;
    a second follow then waits for the end (where scaling and the net are restored)."""


@dataclasses.dataclass(frozen=True)
class FollowResult:
    """How a followed deployment ended (it succeeded: the others raise), or, with
    ``until_failure``, that it failed (``failed``, ``reason``)."""

    deployment_id: str
    status: str
    failed: bool = False
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class DeploymentInput:
    """A control of a deployment (stop, promote): its id and the account it lives in."""

    deployment_id: str
    region: str | None = None
    role: str | None = None
    reason: str | None = None


@dataclasses.dataclass
class ServiceState:
    """Where a service of the release stands (the ``status`` Query shows one per service).

    ``phase`` is one of ``pending``, ``starting``, ``deploying``, ``failing`` (its
    deployment failed; its rollback runs), ``stopping``,
    ``succeeded``, ``failed``, ``stopped``, ``rolling_back``, ``rolled_back``,
    ``rollback_failed``.
    """

    name: str
    wave: str
    phase: str = "pending"
    deployment_id: str | None = None
    rollback_deployment_id: str | None = None
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class ServiceOutcome:
    """How a ``ServiceWorkflow`` ended: ``succeeded``, ``failed`` or ``stopped``."""

    name: str
    phase: str
    deployment_id: str | None = None
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class ReleaseResult:
    """The release workflow's result: ``succeeded``, ``failed`` or ``aborted``, with every
    service's state."""

    release_id: str
    outcome: str
    services: list[ServiceState]
    reason: str | None = None
