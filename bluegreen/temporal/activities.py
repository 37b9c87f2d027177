"""The release's activities: thin wrappers over one service's steps
(``bluegreen.release_service``), run by ``bluegreen worker``.

Every step is safe to run again after the worker that ran it died: ``start`` re-attaches to
the deployment the release already created for the service, ``follow`` simply reads again,
``stop`` of a deployment that has ended does nothing, ``roll_back`` re-attaches to the
release's rollback. The library's calls block (boto3), so each runs in a thread of the
worker's pool while the activity heartbeats every third of its heartbeat timeout: a killed
worker stops heartbeating, Temporal retries the activity elsewhere after that timeout, and
a deployment followed for hours never looks dead. Following a deployment to its end is what
restores its scaling and removes its alarm net (the library's wait does it), so the
workflow follows every deployment it started to its end, whatever happens.

bluegreen's errors become ``ApplicationError``s of the same type name; the ones retrying
cannot fix (a failed deployment, invalid input, a refused control, no access) are
non-retryable, the others (throttling, AWS unavailable) are retried by Temporal.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from bluegreen._aws import Caller
from bluegreen.clock import MonotonicClock
from bluegreen.controls import deployment_error
from bluegreen.errors import (
    AccessDeniedError,
    ConfigurationError,
    ConflictError,
    DeploymentError,
    DeploymentStateError,
    MissingExtraError,
    ResourceNotFoundError,
    ServiceConfigError,
    ValidationError,
    WaitTimeoutError,
)
from bluegreen.manifest_load import load_manifest_text
from bluegreen.release_plan import plan_release
from bluegreen.release_service import (
    follow_service,
    roll_back_service,
    start_service,
    stop_service,
)
from bluegreen.release_state import find_release_deployments
from bluegreen.temporal.data import (
    DeploymentInput,
    FollowInput,
    FollowResult,
    PlanInput,
    ServiceStepInput,
)

if TYPE_CHECKING:
    from bluegreen.clock import Clock
    from bluegreen.deployment import Deployment
    from bluegreen.manifest import Manifest, ServiceRelease
    from bluegreen.release_accounts import Account, Accounts
    from bluegreen.snapshot import DeploymentSnapshot

__all__ = [
    "NON_RETRYABLE",
    "WARM_SERVICES",
    "ReleaseActivities",
    "StepAbandoned",
]

T = TypeVar("T")

NON_RETRYABLE: tuple[type[Exception], ...] = (
    DeploymentError,
    WaitTimeoutError,
    ValidationError,
    ConflictError,
    DeploymentStateError,
    ConfigurationError,
    MissingExtraError,
    AccessDeniedError,
    ResourceNotFoundError,
)
"""Errors a retry cannot fix: the activity fails at once and the workflow decides."""

WARM_SERVICES = (
    "ecs",
    "elbv2",
    "codedeploy",
    "application-autoscaling",
    "cloudwatch",
    "lambda",
)
"""The AWS services a release's steps call (``warm_up``)."""

OUTCOMES: tuple[type[Exception], ...] = (
    DeploymentError,
    WaitTimeoutError,
    ValidationError,
    ConflictError,
    DeploymentStateError,
)
"""Errors that are the release's news rather than the worker's trouble."""

DEFAULT_HEARTBEAT_EVERY = 10.0
"""Seconds between heartbeats when the activity was given no heartbeat timeout."""


class StepAbandoned(Exception):
    """Raised inside a step's thread when its activity was cancelled (or the worker is
    shutting down): the step stops at its next progress report instead of running on."""


@attrs.define(eq=False)
class _StepClock:
    """The worker's clock for one step, whose sleeps end early, with ``StepAbandoned``,
    once the activity is cancelled: a worker told to stop is not held up by a step that
    waits for the next read of a deployment (which another worker now follows)."""

    base: Clock
    stop: threading.Event

    def time(self) -> float:
        return self.base.time()

    def wall_time(self) -> float:
        wall = getattr(self.base, "wall_time", None)
        return float(wall()) if callable(wall) else self.base.time()

    def sleep(self, seconds: float) -> None:
        if isinstance(self.base, MonotonicClock):
            self.stop.wait(max(0.0, seconds))
        else:  # a test's clock: its sleep is its own
            self.base.sleep(seconds)
        if self.stop.is_set():
            raise StepAbandoned("the activity was cancelled")


@attrs.define(eq=False)
class _Progress:
    """What the step's thread last saw, for the heartbeat's details; the stop flag, and the
    clock the step's waits read."""

    base: Clock
    stop: threading.Event = attrs.field(factory=threading.Event)
    details: dict[str, Any] = attrs.field(factory=dict)

    @property
    def clock(self) -> _StepClock:
        return _StepClock(self.base, self.stop)

    def seen(self, snapshot: DeploymentSnapshot) -> None:
        if self.stop.is_set():
            raise StepAbandoned("the activity was cancelled")
        self.details = {
            "deployment_id": snapshot.deployment_id,
            "status": str(snapshot.status),
            "waiting_for": snapshot.waiting_for,
        }


@attrs.define(eq=False)
class ReleaseActivities:
    """The activities of one worker process, sharing its ``Accounts`` (one set of clients and
    one rate budget per account and region) and a pool of threads for the blocking calls.

    Args:
        accounts: where every service's AWS calls go.
        clock: the clock the library's waits and retries read (None: the real one).
        threads: how many steps may run at once (the worker takes no more activities).
    """

    accounts: Accounts
    clock: Clock | None = None
    threads: int = 100
    _pool: concurrent.futures.ThreadPoolExecutor = attrs.field(init=False)
    _manifests: dict[tuple[str, str | None, str], Manifest] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.threads, thread_name_prefix="bluegreen-activity"
        )

    @property
    def all(self) -> list[Callable[..., Any]]:
        """Every activity, for ``temporalio.worker.Worker(activities=...)``."""
        return [self.plan, self.start, self.follow, self.stop, self.promote, self.roll_back]

    def warm_up(self) -> None:
        """Make the default account's clients now, before taking any work: botocore parses
        each service's model (megabytes of JSON) on first use, which the first steps of a
        release would otherwise wait for, and which holds up the workflow code this process
        runs meanwhile. Skipped where the default account cannot work (no region: this
        worker serves services that name theirs)."""
        try:
            clients = self.accounts.get(None, None).clients
            for name in WARM_SERVICES:
                clients.client(name)
        except ConfigurationError:
            return

    def close(self) -> None:
        """Let the threads go (those still running end with their step)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the activities ------------------------------------------------------------------

    @activity.defn(name="bluegreen.plan")
    async def plan(self, job: PlanInput) -> int:
        """Plan the services (``bluegreen.release_plan``) the release has not deployed yet;
        how many were planned. Raises ``ServiceConfigError`` with every problem of every
        service: nothing in AWS was changed."""

        def run(progress: _Progress) -> int:
            manifest = self._manifest(job.release_id, job.manifest_text, job.manifest_path)
            clock = progress.clock
            pending = []
            for service in manifest.services:
                if service.name not in job.services:
                    continue
                account = self.accounts.for_service(service)
                try:
                    found, _ = find_release_deployments(
                        service,
                        manifest.id,
                        clients=account.clients,
                        call=Caller(clock=clock, budget=account.budget),
                    )
                except (ResourceNotFoundError, ServiceConfigError):
                    found = None  # the plan names the problem, with every other one
                if found is None:  # one it deployed already is followed, not planned
                    pending.append(service)
            plan_release(manifest, pending, self.accounts, clock=clock)
            return len(pending)

        return await self._heartbeating(run)

    @activity.defn(name="bluegreen.start")
    async def start(self, step: ServiceStepInput) -> str:
        """The release's deployment of the service (an existing one, or a new one): its id.

        A retry (the worker of an earlier attempt died, or its call failed) also adopts the
        scaling record an earlier attempt may have left without a deployment id
        (``start_service(resumed=True)``), so the end of the deployment restores it too.
        """
        retry = activity.info().attempt > 1

        def run(progress: _Progress) -> str:
            service = self._service(step)
            account = self.accounts.for_service(service)
            return _deployment_id(
                start_service(
                    step.release_id,
                    step.wave,
                    service,
                    account,
                    clock=progress.clock,
                    resumed=retry,
                )
            )

        return await self._heartbeating(run)

    @activity.defn(name="bluegreen.follow")
    async def follow(self, job: FollowInput) -> FollowResult:
        """Follow the deployment to its end (the release's own rollback without analysis);
        raises ``DeploymentError`` (non-retryable) when it failed or was stopped. With
        ``until_failure`` it returns ``failed`` at the first read that shows the deployment
        failed, without waiting for CodeDeploy's rollback (the release stops the others)."""

        def run(progress: _Progress) -> FollowResult:
            service = self._service(job.step)
            account = self.accounts.for_service(service)
            deployment = self._attach(job.deployment_id, account, progress.clock)

            def seen(snapshot: DeploymentSnapshot) -> None:
                progress.seen(snapshot)
                if (
                    job.until_failure
                    and snapshot.deployment_id == job.deployment_id
                    and snapshot.status.is_terminal
                    and not snapshot.succeeded
                ):
                    raise _FailureSeen(snapshot)

            try:
                if job.rollback:
                    snapshot = deployment.wait(on_progress=seen, analysis=False)
                else:
                    snapshot = follow_service(deployment, service, on_progress=seen)
            except _FailureSeen as failure:
                failed = failure.snapshot
                reason = str(deployment_error(failed))
                return FollowResult(failed.deployment_id, str(failed.status), True, reason)
            return FollowResult(snapshot.deployment_id, str(snapshot.status))

        return await self._heartbeating(run)

    @activity.defn(name="bluegreen.stop")
    async def stop(self, target: DeploymentInput) -> bool:
        """Stop the deployment with rollback; False when it had ended already."""

        def run(progress: _Progress) -> bool:
            account = self.accounts.get(target.role, target.region)
            return stop_service(target.deployment_id, account, clock=progress.clock)

        return await self._heartbeating(run)

    @activity.defn(name="bluegreen.promote")
    async def promote(self, target: DeploymentInput) -> str:
        """Promote the deployment waiting in Ready: what was done, as a sentence."""

        def run(progress: _Progress) -> str:
            account = self.accounts.get(target.role, target.region)
            return str(self._attach(target.deployment_id, account, progress.clock).promote())

        return await self._heartbeating(run)

    @activity.defn(name="bluegreen.roll_back")
    async def roll_back(self, step: ServiceStepInput) -> str:
        """The release's rollback of a service it released: the rollback deployment's id."""

        def run(progress: _Progress) -> str:
            if step.deployment_id is None:
                raise ValidationError(["roll_back needs the deployment to roll back"])
            service = self._service(step)
            deployment = roll_back_service(
                step.release_id,
                step.wave,
                service,
                step.deployment_id,
                self.accounts.for_service(service),
                clock=progress.clock,
            )
            return _deployment_id(deployment)

        return await self._heartbeating(run)

    # -- how they run ----------------------------------------------------------------------

    async def _heartbeating(self, step: Callable[[_Progress], T]) -> T:
        """Run ``step`` in a thread, heartbeating until it ends; its bluegreen error becomes
        an ``ApplicationError``. A cancelled activity tells the thread to stop."""
        progress = _Progress(self.clock if self.clock is not None else MonotonicClock())
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self._pool, step, progress)
        every = _heartbeat_every(activity.info().heartbeat_timeout)
        try:
            while True:
                activity.heartbeat(progress.details)
                done, _ = await asyncio.wait({running}, timeout=every)
                if done:
                    break
        except asyncio.CancelledError:
            progress.stop.set()
            raise
        try:
            return running.result()
        except NON_RETRYABLE as exc:
            raise _application_error(exc, non_retryable=True) from exc
        except Exception as exc:  # AWS throttling or unavailable, a bug: Temporal retries
            raise _application_error(exc, non_retryable=False) from exc

    def _service(self, step: ServiceStepInput) -> ServiceRelease:
        manifest = self._manifest(step.release_id, step.manifest_text, step.manifest_path)
        for service in manifest.services:
            if service.name == step.service:
                return service
        raise ValidationError(
            [f"the manifest of release {step.release_id} has no service {step.service!r}"]
        )

    def _manifest(self, release_id: str, text: str, path: str | None) -> Manifest:
        """The release's manifest, loaded once per worker from the text the workflow carries
        (relative analysis paths are read next to ``path`` on this machine)."""
        key = (release_id, path, text)
        with self._lock:
            manifest = self._manifests.get(key)
        if manifest is None:
            manifest = load_manifest_text(text, path)
            if manifest.id != release_id:
                raise ValidationError(
                    [
                        f"the manifest the workflow carries is release {manifest.id}, not "
                        f"{release_id}: start the release again from its file"
                    ]
                )
            with self._lock:
                self._manifests[key] = manifest
        return manifest

    def _attach(self, deployment_id: str, account: Account, clock: Clock) -> Deployment:
        from bluegreen.deployment import Deployment

        return Deployment.attach(
            deployment_id, clients=account.clients, clock=clock, budget=account.budget
        )


class _FailureSeen(Exception):
    """Raised from a follow's ``on_progress`` to end it at the first failed read."""

    def __init__(self, snapshot: DeploymentSnapshot) -> None:
        super().__init__(snapshot.deployment_id)
        self.snapshot = snapshot


def _deployment_id(deployment: Deployment | str) -> str:
    return deployment if isinstance(deployment, str) else deployment.id


def _heartbeat_every(timeout: dt.timedelta | None) -> float:
    if timeout is None or timeout.total_seconds() <= 0:
        return DEFAULT_HEARTBEAT_EVERY
    return max(0.1, timeout.total_seconds() / 3)


def _application_error(exc: Exception, *, non_retryable: bool) -> ApplicationError:
    """``exc`` as Temporal carries it: its message, its type's name, and for a failed
    deployment the ids the workflow reports."""
    details: dict[str, Any] = {}
    if isinstance(exc, DeploymentError):
        details = {
            "deployment_id": exc.deployment_id,
            "rollback_deployment_id": exc.rollback_deployment_id,
            "status": exc.status,
        }
    # A deployment that failed or was stopped, or input found invalid, is an outcome the
    # workflow reports, not a worker's trouble: logged at DEBUG, not as a warning.
    category = (
        ApplicationErrorCategory.BENIGN
        if isinstance(exc, OUTCOMES)
        else ApplicationErrorCategory.UNSPECIFIED
    )
    return ApplicationError(
        str(exc),
        details,
        type=type(exc).__name__,
        non_retryable=non_retryable,
        category=category,
    )
