"""Reading one deployment: ``DeploymentReader``, the part of ``Deployment`` that calls AWS to
see where a deployment is (``status()``), with its own ``Caller`` on the injected clock, the
server's time read from every answer, and what it learned once (the ECS target, the
deployment config, the group's service). A CodeDeploy deployment is read with GetDeployment
and GetDeploymentTarget; an ECS-native one (its id is its service deployment ARN) with
DescribeServiceDeployments (``bluegreen.native_reading``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

import attrs

from bluegreen._aws import Caller, resolve_clients
from bluegreen.clock import DEFAULT_BUDGET, Clock, MonotonicClock, RateBudget
from bluegreen.controls import RollbackOrigin
from bluegreen.discovery import locate
from bluegreen.errors import (
    AWSError,
    DeploymentStateError,
    ResourceNotFoundError,
    TrafficConfigError,
)
from bluegreen.listing import NO_ACTIVE_DEPLOYMENT, in_flight
from bluegreen.native_reading import (
    describe_service_deployment,
    find_service_deployment,
    is_native_service,
)
from bluegreen.native_snapshot import native_snapshot
from bluegreen.native_status import LifecycleStage, is_native_deployment_id, service_of
from bluegreen.polling import shift_ends
from bluegreen.server_time import ServerClock, http_date, server_clock_for
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.state import DeploymentGroup
from bluegreen.status import DeploymentStatus
from bluegreen.traffic import PREDEFINED_CONFIGS, Schedule, TrafficConfig, get_deployment_config

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.analysis_run import AnalysisRun

__all__ = ["DeploymentReader"]


@attrs.define
class DeploymentReader:
    """Reads one CodeDeploy ECS deployment; ``Deployment`` adds waiting and the controls.

    ``calls`` counts the API requests made (retries included), for reports and benchmarks;
    every one first draws from ``budget``.
    """

    id: str
    _clients: Clients = attrs.field(alias="clients", repr=False)
    _clock: Clock = attrs.field(alias="clock", repr=False)
    budget: RateBudget = attrs.field(factory=lambda: DEFAULT_BUDGET, kw_only=True, repr=False)
    """The rate budget API calls draw from (shared by the process by default)."""
    retry_attempts: int = attrs.field(default=8, kw_only=True, repr=False)
    """The most attempts one call gets when AWS throttles it or answers 5xx."""
    retry_budget: float = attrs.field(default=120.0, kw_only=True, repr=False)
    """The most seconds one call may spend being retried."""
    server_clock: ServerClock = attrs.field(
        default=attrs.Factory(lambda self: server_clock_for(self._clock), takes_self=True),
        kw_only=True,
        repr=False,
    )
    """The endpoint's time, read from every answer (shared with the rollback's
    ``Deployment``): what elapsed times, ETAs and ``observed_at`` are measured in."""
    rollback_origin: RollbackOrigin | None = attrs.field(default=None, init=False, repr=False)
    """For a deployment ``rollback()`` made: the task definition it goes back to and the
    deployment it rolls back."""
    analysis: AnalysisRun | None = attrs.field(default=None, init=False, repr=False)
    """The analysis of green against blue that ``wait`` runs (``deploy(analysis=...)`` or
    ``wait(analysis=...)``): its evaluations and verdict."""
    _caller: Caller = attrs.field(init=False, repr=False)
    _aside: Caller = attrs.field(init=False, repr=False)
    _borrowed: int = attrs.field(default=0, init=False, repr=False)
    _target_id: str | None = attrs.field(default=None, init=False, repr=False)
    _traffic: dict[str, TrafficConfig | None] = attrs.field(factory=dict, init=False, repr=False)
    _service: tuple[str, str] | None = attrs.field(default=None, init=False, repr=False)
    _service_read: tuple[str, Mapping[str, str]] | None = attrs.field(
        default=None, init=False, repr=False
    )
    """The service's ARN and tags, when ``Deployment.current`` read them."""
    _last_status: DeploymentStatus | None = attrs.field(default=None, init=False, repr=False)
    _where: str | None = attrs.field(default=None, init=False, repr=False)
    _forward_stage: str | None = attrs.field(default=None, init=False, repr=False)
    """ECS-native: the furthest stage seen while it went forward (where a rollback began)."""
    _stage_times: dict[str, dt.datetime] = attrs.field(factory=dict, init=False, repr=False)
    """ECS-native: when each stage was first seen (``updatedAt`` then)."""

    def __attrs_post_init__(self) -> None:
        self._caller = Caller(clock=self._clock, on_answer=self._observe)
        # For calls made for something else than following the deployment (discover, the
        # group's service for scaling): not counted in ``calls``.
        self._aside = Caller(clock=self._clock, on_answer=self._observe)

    @property
    def is_native(self) -> bool:
        """True for an ECS-native service deployment (its id is its ARN)."""
        return is_native_deployment_id(self.id)

    @property
    def calls(self) -> int:
        """The API requests made to follow and drive this deployment (retries included),
        with those of a rollback ``abort()`` followed."""
        return self._caller.calls + self._borrowed

    def _observe(self, answer: Any) -> None:
        date = http_date(answer)
        if date is not None:
            self.server_clock.observe(date)

    def _call(self, *, aside: bool = False) -> Caller:
        """The ``Caller`` for the next call, with the current budget and retry settings."""
        caller = self._aside if aside else self._caller
        caller.budget = self.budget
        caller.attempts = self.retry_attempts
        caller.patience = self.retry_budget
        return caller

    def _sibling(self, deployment_id: str) -> Self:
        """Another deployment followed with the same clients, clock, budget and retries."""
        return type(self)(
            deployment_id,
            clients=self._clients,
            clock=self._clock,
            budget=self.budget,
            retry_attempts=self.retry_attempts,
            retry_budget=self.retry_budget,
            server_clock=self.server_clock,
        )

    def server_now(self) -> dt.datetime:
        """The time now as the AWS endpoint sees it (see ``ServerClock``), as an aware
        UTC datetime: what elapsed times and ETAs are measured against."""
        return self.server_clock.now()

    @classmethod
    def _for_service(
        cls,
        cluster: str,
        service: str,
        *,
        application: str | None = None,
        deployment_group: str | None = None,
        clients: Clients | None = None,
        session: boto3.Session | None = None,
        clock: Clock | None = None,
        budget: RateBudget | None = None,
        or_last: bool = False,
    ) -> Self:
        """``current``; with ``or_last``, the group's last attempted deployment when none is
        in flight (from the GetDeploymentGroup already read). What was read of the service
        (its names, ARN and tags) is kept for the autoscaling block of ``bluegreen status``."""
        aws = resolve_clients(clients, session)
        finder = cls(
            "",
            clients=aws,
            clock=clock if clock is not None else MonotonicClock(),
            budget=budget if budget is not None else DEFAULT_BUDGET,
        )
        found = locate(
            finder._call(aside=True),
            aws,
            cluster,
            service,
            application=application,
            deployment_group=deployment_group,
        )
        group = found.group
        where = f"service {found.cluster}/{found.service}"
        finder._service = (found.cluster, found.service)
        finder._service_read = (found.service_arn, found.tags)
        if group is None and is_native_service(found.raw):
            finder.id = find_service_deployment(
                finder._call(), aws, found.cluster, found.service, or_last=or_last
            )
            return finder
        if group is None:
            raise ResourceNotFoundError(
                f"{where} has no CodeDeploy deployment group (deployment controller "
                f"{found.controller}), so no CodeDeploy deployment can be in flight, nor "
                "does ECS deploy it blue/green itself (deploymentConfiguration.strategy "
                "BLUE_GREEN, LINEAR or CANARY)",
                operation="GetDeploymentGroup",
                code="DeploymentGroupNotFound",
            )
        try:
            finder.id = in_flight(finder._call(), aws, group, where)
        except ResourceNotFoundError as exc:
            last = group.last_attempted_deployment_id
            if not (or_last and exc.code == NO_ACTIVE_DEPLOYMENT and last):
                raise
            finder.id = last
        # A group deploys one ECS service, and CodeDeploy names its target <cluster>:<service>.
        finder._target_id = f"{found.cluster}:{found.service}"
        return finder

    # -- what is read once ----------------------------------------------------------------

    def _find_target_id(self) -> str:
        if self._target_id is None:
            answer = self._call()(
                "ListDeploymentTargets",
                self._clients.codedeploy.list_deployment_targets,
                deploymentId=self.id,
            )
            ids = answer.get("targetIds") or []
            if not ids:
                raise DeploymentStateError(
                    f"deployment {self.id} has no deployment target; it is not an ECS "
                    "deployment or has not started",
                    deployment_id=self.id,
                )
            self._target_id = ids[0]
        return self._target_id

    def _traffic_config(self, name: str) -> TrafficConfig | None:
        """The deployment config ``name``, read once (predefined ones need no call).

        None when it cannot be read (no permission, not an ECS config): the snapshot then
        has no schedule, which only makes polling less clever.
        """
        if name not in self._traffic:
            config: TrafficConfig | None
            try:
                if name in PREDEFINED_CONFIGS:
                    config = PREDEFINED_CONFIGS[name]
                else:
                    config = get_deployment_config(name, clients=self._clients, caller=self._call())
            except (AWSError, TrafficConfigError):
                config = None
            self._traffic[name] = config
        return self._traffic[name]

    def _schedule(self, info: Mapping[str, Any]) -> Schedule | None:
        name = info.get("deploymentConfigName")
        config = self._traffic_config(name) if name else None
        if config is None:
            return None
        group = DeploymentGroup.from_api(info)  # the waits are copied into deploymentInfo
        return config.schedule(
            ready_wait_minutes=group.promotion_wait_minutes,
            termination_wait_minutes=group.termination_wait_minutes,
        )

    def _scaling_service(self, snapshot: DeploymentSnapshot) -> tuple[str, str] | None:
        """The deployment group's ``(cluster, service)``: from the target id
        ``<cluster>:<service>`` once known (no call), else GetDeploymentGroup once (not
        counted in ``calls``: part of restoring scaling, not of following the deployment).
        An ECS-native deployment names its service in its ARN."""
        if self._service is None and self.is_native:
            self._service = service_of(self.id)
        if self._service is None and self._target_id and ":" in self._target_id:
            cluster, _, service = self._target_id.partition(":")
            self._service = (cluster, service)
        if self._service is None:
            if not (snapshot.application and snapshot.deployment_group):
                return None
            answer = self._call(aside=True)(
                "GetDeploymentGroup",
                self._clients.codedeploy.get_deployment_group,
                applicationName=snapshot.application,
                deploymentGroupName=snapshot.deployment_group,
            )
            services = answer["deploymentGroupInfo"].get("ecsServices") or []
            if not services:
                return None
            self._service = (services[0]["clusterName"], services[0]["serviceName"])
        return self._service

    # -- reading ------------------------------------------------------------------------

    def status(self) -> DeploymentSnapshot:
        """The deployment now: GetDeployment, then GetDeploymentTarget once it has started.

        The first call after the start also lists the target (ListDeploymentTargets) to
        learn its id, ``<cluster>:<service>``, and a custom deployment config is read once
        (GetDeploymentConfig) for the expected schedule.

        Raises:
            ResourceNotFoundError: no such deployment.
            AWSError: an API call failed (throttling is retried first).
        """
        if self.is_native:
            return self._native_snapshot()
        return self._snapshot(self._info())

    def _native_snapshot(self) -> DeploymentSnapshot:
        """An ECS-native deployment now: one DescribeServiceDeployments."""
        raw = describe_service_deployment(self._call(), self._clients, self.id)
        stage = LifecycleStage.parse(raw.get("lifecycleStage"))
        if raw.get("status") in ("PENDING", "IN_PROGRESS", "SUCCESSFUL") and stage is not None:
            known = LifecycleStage.parse(self._forward_stage)
            if known is None or stage.position >= known.position:
                self._forward_stage = stage
            updated = raw.get("updatedAt") or self.server_clock.now()
            self._stage_times.setdefault(stage, min(updated, self.server_clock.now()))
        snapshot = native_snapshot(
            raw, forward_stage=self._forward_stage, stage_times=self._stage_times
        )
        self.server_clock.observe(at_least=snapshot.latest_timestamp)
        self._last_status = snapshot.status
        self._where = snapshot.where
        return attrs.evolve(snapshot, observed_at=self.server_clock.now())

    def _snapshot(self, info: Mapping[str, Any]) -> DeploymentSnapshot:
        target: Mapping[str, Any] | None = None
        if info["status"] not in (DeploymentStatus.CREATED, DeploymentStatus.QUEUED):
            answer = self._call()(
                "GetDeploymentTarget",
                self._clients.codedeploy.get_deployment_target,
                deploymentId=self.id,
                targetId=self._find_target_id(),
            )
            target = answer["deploymentTarget"].get("ecsTarget") or {}
        snapshot = DeploymentSnapshot.from_api(info, target, schedule=self._schedule(info))
        # What the server has reported happening, it has lived through: a floor for its time.
        self.server_clock.observe(at_least=snapshot.latest_timestamp)
        self._last_status = snapshot.status
        if snapshot.application and snapshot.deployment_group:
            self._where = f"{snapshot.application}/{snapshot.deployment_group}"
        return attrs.evolve(snapshot, observed_at=self.server_clock.now())

    def _info(self) -> Mapping[str, Any]:
        answer = self._call()(
            "GetDeployment", self._clients.codedeploy.get_deployment, deploymentId=self.id
        )
        return answer["deploymentInfo"]

    def _read(self, previous: DeploymentSnapshot | None, light: bool) -> DeploymentSnapshot:
        """The next snapshot for a wait. A wait for the end (``light``) reads GetDeployment
        alone, keeping the previous snapshot's events and task sets while the status stays
        the same, whenever the target has nothing to tell it: in the termination wait
        (before it is due and after), and while production traffic cannot all be on green
        yet (``shift_ends``). What is left to see then is the status changing; the read
        that sees it change reads the target too, so the last snapshot is whole. An
        ECS-native deployment is one call whole: it is always read whole."""
        if not light or previous is None or self.is_native:
            return self.status()
        shifting_until = shift_ends(previous)
        if not previous.in_termination_wait and (
            shifting_until is None or self.server_clock.now() >= shifting_until
        ):
            return self.status()
        info = self._info()
        if str(info["status"]) != str(previous.status):
            return self._snapshot(info)
        return attrs.evolve(previous, observed_at=self.server_clock.now())
