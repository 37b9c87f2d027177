"""Follow and drive one ECS blue/green deployment, CodeDeploy's or ECS-native (BLUE_GREEN,
LINEAR, CANARY): the ``Deployment`` driver. The kind is the id's: ``d-XXXXXXXXX`` for
CodeDeploy, the service deployment ARN for ECS-native (``bluegreen.native_controls``).

``Deployment.attach(deployment_id)`` (or ``Deployment.current(cluster, service)``) gives a
lifecycle object: ``status()`` reads a ``DeploymentSnapshot``, ``wait(until=...)`` polls
until a ``Milestone`` and raises ``DeploymentError`` if the deployment fails or is rolled
back, ``promote``, ``finish`` and ``abort`` are the console's three buttons
(ContinueDeployment READY_WAIT, ContinueDeployment TERMINATION_WAIT, StopDeployment with
rollback), and ``rollback`` deploys the last known good task definition again after a
deployment succeeded.

Where the parts live: reading in ``bluegreen.reading``, the snapshot values in
``bluegreen.snapshot``, the polling schedule and milestones in ``bluegreen.polling``, what
each control may do and did in ``bluegreen.controls``, the last known good version in
``bluegreen.rollback``, CreateDeployment in ``bluegreen.create``. Every AWS call goes
through a ``bluegreen._aws.Caller`` on the injected clock, so a test passing the
simulator's virtual clock runs a 30-minute deployment in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, overload

import attrs

from bluegreen._aws import resolve_clients
from bluegreen.clock import DEFAULT_BUDGET, Clock, MonotonicClock, RateBudget
from bluegreen.controls import (
    DONE_ALREADY,
    ControlResult,
    RollbackOrigin,
    check_can_abort,
    check_can_finish,
    check_can_promote,
    send_control,
)
from bluegreen.driver_arguments import (
    check_abort,
    check_attach,
    check_current,
    check_deployment_id,
    check_rollback,
    check_wait,
)
from bluegreen.listing import NO_ACTIVE_DEPLOYMENT
from bluegreen.native_controls import (
    check_can_promote_native,
    continue_hooks,
    refuse_finish,
    roll_back_native,
)
from bluegreen.native_status import StageMilestone
from bluegreen.polling import Milestone, poll, poll_interval
from bluegreen.rollback import rollback_request
from bluegreen.snapshot import (
    ROLLBACK_CREATOR,
    DeploymentSnapshot,
    LifecycleEventProgress,
    TaskSetProgress,
    Transition,
    TransitionState,
)
from bluegreen.status import DeploymentStatus
from bluegreen.waiting import DeploymentWaiter

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.analysis import Analysis
    from bluegreen.analysis_run import AnalysisRun

__all__ = [
    "DEFAULT_BUDGET",
    "NO_ACTIVE_DEPLOYMENT",
    "ROLLBACK_CREATOR",
    "Clock",
    "ControlResult",
    "Deployment",
    "DeploymentSnapshot",
    "LifecycleEventProgress",
    "Milestone",
    "RateBudget",
    "RollbackOrigin",
    "TaskSetProgress",
    "Transition",
    "TransitionState",
    "check_deployment_id",
    "poll_interval",
]  # all but Deployment and check_deployment_id: re-exported from where they live


@attrs.define
class Deployment(DeploymentWaiter):
    """One CodeDeploy ECS deployment, followed and driven through the API.

    Make it with ``Deployment.attach`` or ``Deployment.current``. ``calls`` counts the API
    requests made (retries included), for reports and benchmarks; every one first draws
    from ``budget``.
    """

    @classmethod
    def attach(
        cls,
        deployment_id: str,
        *,
        clients: Clients | None = None,
        session: boto3.Session | None = None,
        clock: Clock | None = None,
        budget: RateBudget | None = None,
    ) -> Deployment:
        """Follow the deployment ``deployment_id``; no API call is made yet.

        Args:
            deployment_id: ``d-XXXXXXXXX``, or an ECS-native deployment's ARN
                (``arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>``).
            clients: ready ``bluegreen.Clients``; or
            session: the ``boto3.Session`` to use (region and profile).
            clock: an object with ``time()`` and ``sleep(seconds)`` used by every wait and
                retry (default: the real monotonic clock). Pass the simulator's clock in
                tests.
            budget: the ``RateBudget`` API calls draw from (default: ``DEFAULT_BUDGET``,
                shared by the whole process).

        Raises:
            ValidationError: ``deployment_id`` is not ``d-`` followed by nine upper-case
                letters or digits nor a service deployment ARN, or another argument has the
                wrong type (nothing is sent to AWS).
        """
        return cls(
            check_attach(
                deployment_id, clients=clients, session=session, clock=clock, budget=budget
            ),
            clients=resolve_clients(clients, session),
            clock=clock if clock is not None else MonotonicClock(),
            budget=budget if budget is not None else DEFAULT_BUDGET,
        )

    @classmethod
    def current(
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
    ) -> Deployment:
        """Follow the deployment in flight for ``cluster``/``service``.

        Finds the service's deployment group as ``bluegreen.discover`` does, then lists the
        group's deployments that have not ended; with several (a rollback and the
        deployment it rolls back are both listed for a moment) the newest one wins. A
        rollback CodeDeploy started counts: it is what changes the service now.

        Costs DescribeServices and GetDeploymentGroup (the group found as ``discover``
        finds it, without reading its listeners and target groups; not counted in
        ``calls``), one ListDeployments, and one BatchGetDeployments when several are
        listed. The deployment's target, ``<cluster>:<service>``, is then known, so
        ``status()`` makes no ListDeploymentTargets. A service ECS deploys itself
        (deployment controller ECS, strategy BLUE_GREEN, LINEAR or CANARY) costs
        DescribeServices and one ListServiceDeployments instead.

        Args:
            cluster: cluster name or ARN.
            service: service name or ARN.
            application: the CodeDeploy application; with ``deployment_group``, skips the
                lookup of the group.
            deployment_group: the CodeDeploy deployment group.
            clients, session, clock, budget: as for ``attach``.

        Raises:
            ResourceNotFoundError: the service, or its deployment group, does not exist, or
                no deployment is in flight (the message names the last one).
            ValidationError: an argument has the wrong type or is empty (nothing is sent).
        """
        check_current(
            cluster,
            service,
            application,
            deployment_group,
            clients=clients,
            session=session,
            clock=clock,
            budget=budget,
        )
        return cls._for_service(
            cluster,
            service,
            application=application,
            deployment_group=deployment_group,
            clients=clients,
            session=session,
            clock=clock,
            budget=budget,
        )

    def wait(
        self,
        until: Milestone | StageMilestone | str = Milestone.END,
        *,
        timeout: float | None = None,
        min_interval: float = 5.0,
        max_interval: float = 60.0,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
        analysis: Analysis | bool | None = None,
        on_evaluation: Callable[[AnalysisRun], None] | None = None,
        light: bool = False,
    ) -> DeploymentSnapshot:
        """Poll until the deployment reaches ``until``; returns the snapshot that showed it.

        Every argument is checked before the first read. How often it reads (often around
        expected transitions, rarely during long bakes) is ``DeploymentWaiter.wait``'s
        schedule; ``calls`` counts what it cost.

        Args:
            until: a ``Milestone`` or its name (``"installed"``, ``"ready"``, ...), or an
                ECS lifecycle stage ``"ecs:<STAGE>"`` (``"ecs:BAKE_TIME"``): at it or later.
            timeout: give up after this many seconds (of the injected clock); no cap when
                None.
            min_interval: the shortest pause between two reads, in seconds.
            max_interval: the longest pause between two reads, in seconds.
            on_progress: called with every snapshot read, the last one included (before
                an error is raised for it).
            analysis: judge green against blue from CloudWatch while green serves
                production traffic (AllowTraffic through the termination wait): an
                ``Analysis``; None runs ``deploy(analysis=...)``'s, if any; False none. A
                FAILED verdict stops the deployment with rollback (StopDeployment) and the
                wait raises ``DeploymentError`` naming the metric, with green's and blue's
                numbers; INCONCLUSIVE stops nothing. ``self.analysis`` keeps the run.
            on_evaluation: called with ``self.analysis`` after every evaluation.
            light: read as a wait for the end that nobody watches does (fewer calls;
                ``on_progress`` still gets each snapshot, some of whose task sets and events
                are an earlier read's); see ``DeploymentWaiter.wait``.

        Raises:
            ValidationError: ``until`` names no milestone, ``timeout`` is negative, the
                intervals are not ``0 < min_interval <= max_interval``, or ``analysis`` is
                not an ``Analysis``: every problem at once, before any read.
            DeploymentError: the deployment failed, was stopped or was rolled back.
            WaitTimeoutError: ``timeout`` passed first.
        """
        milestone = check_wait(
            until,
            timeout=timeout,
            min_interval=min_interval,
            max_interval=max_interval,
            on_progress=on_progress,
            analysis=analysis,
            on_evaluation=on_evaluation,
            light=light,
        )
        return super().wait(
            milestone,
            timeout=timeout,
            min_interval=min_interval,
            max_interval=max_interval,
            on_progress=on_progress,
            analysis=analysis,
            on_evaluation=on_evaluation,
            light=light,
        )

    # -- controls -----------------------------------------------------------------------

    def promote(self) -> ControlResult:
        """Start shifting production traffic: ContinueDeployment READY_WAIT. An ECS-native
        deployment paused by a PAUSE hook goes on: ContinueServiceDeployment CONTINUE.

        Returns:
            What was done: the status before and after, and what happens next.

        Raises:
            DeploymentStateError: the deployment is not Ready (the status says why).
        """
        snapshot = self.status()
        if self.is_native:
            hooks = check_can_promote_native(snapshot)
            continue_hooks(self._call(), self._clients, self.id, hooks, "CONTINUE")
            return self._result(
                "promoted",
                "ContinueServiceDeployment(CONTINUE)",
                snapshot.status,
                f"the deployment goes on past {hooks[0].stage or 'the pause'}",
            )
        check_can_promote(snapshot)
        self._continue("READY_WAIT")
        shift = f" ({snapshot.deployment_config})" if snapshot.deployment_config else ""
        return self._result(
            "promoted",
            "ContinueDeployment(READY_WAIT)",
            snapshot.status,
            f"production traffic shifts to green{shift}",
        )

    def finish(self) -> ControlResult:
        """End the termination wait now and remove blue: ContinueDeployment TERMINATION_WAIT.

        Returns:
            What was done: the status before and after, and what happens next.

        Raises:
            DeploymentStateError: the deployment is not in its termination wait, or is
                ECS-native: ECS cannot end its bake time early.
        """
        snapshot = self.status()
        if self.is_native:
            raise refuse_finish(snapshot)
        check_can_finish(snapshot)
        self._continue("TERMINATION_WAIT")
        return self._result(
            "finished",
            "ContinueDeployment(TERMINATION_WAIT)",
            snapshot.status,
            "blue is being removed and the deployment succeeds",
        )

    def _continue(self, wait_type: Literal["READY_WAIT", "TERMINATION_WAIT"]) -> None:
        send_control(
            self._call(),
            "ContinueDeployment",
            self._clients.codedeploy.continue_deployment,
            done_if=DONE_ALREADY[wait_type],
            deploymentId=self.id,
            deploymentWaitType=wait_type,
        )

    def _result(
        self, action: str, request: str, before: DeploymentStatus, next_: str
    ) -> ControlResult:
        """A ``ControlResult``, with the status read back once."""
        after = self.status().status if self.is_native else DeploymentStatus(self._info()["status"])
        self._last_status = after
        return ControlResult(
            deployment_id=self.id,
            action=action,
            request=request,
            status_before=before,
            status_after=after,
            next=next_,
        )

    @overload
    def abort(
        self,
        *,
        wait: Literal[True] = True,
        timeout: float | None = None,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> DeploymentSnapshot: ...

    @overload
    def abort(
        self,
        *,
        wait: Literal[False],
        timeout: float | None = None,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> ControlResult: ...

    def abort(
        self,
        *,
        wait: bool = True,
        timeout: float | None = None,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
    ) -> DeploymentSnapshot | ControlResult:
        """Stop the deployment and roll it back: StopDeployment(autoRollbackEnabled=True).
        ECS-native: ContinueServiceDeployment ROLLBACK when paused, else
        StopServiceDeployment ROLLBACK; ``wait`` follows it to ROLLBACK_SUCCESSFUL.

        Args:
            wait: follow the rollback deployment to its end and return its snapshot.
            timeout: with ``wait``, give up after this many seconds (injected clock).
            on_progress: with ``wait``, called with every snapshot read (of this
                deployment while it stops, then of the rollback deployment).

        Returns:
            The rollback deployment's final snapshot (or the stopped deployment's, when
            CodeDeploy started no rollback); without ``wait``, a ``ControlResult`` saying
            what was asked.

        Raises:
            DeploymentStateError: the deployment has already ended; StopDeployment cannot
                roll back a finished deployment.
            DeploymentError: the rollback itself failed.
            WaitTimeoutError: ``timeout`` passed first.
            ValidationError: an argument has the wrong type (nothing is sent).
        """
        check_abort(wait, timeout, on_progress)
        snapshot = self.status()
        check_can_abort(snapshot)
        if self.is_native:
            request = self._send_native_rollback(snapshot)
            if wait:
                return self._follow_native_rollback(timeout, on_progress)
            next_ = "ECS moves production traffic back to blue in this same service deployment"
            return self._result("stopping", request, snapshot.status, next_)
        self._send_stop()
        if not wait:
            return self._result(
                "stopping",
                "StopDeployment(autoRollbackEnabled)",
                snapshot.status,
                "CodeDeploy stops it and moves production traffic back to blue in a "
                "rollback deployment",
            )
        started = self._clock.time()
        stopped = poll(
            self._read,
            lambda s: s.status.is_terminal,
            clock=self._clock,
            rate=lambda: self.server_clock.rate,
            deployment_id=self.id,
            milestone="end (stopping)",
            timeout=timeout,
            min_interval=5.0,
            max_interval=60.0,
            on_progress=on_progress,
        )
        if stopped.rollback_deployment_id is None:
            self._remove_alarm_net(stopped)
            return stopped
        rollback = self._sibling(stopped.rollback_deployment_id)
        left = None if timeout is None else max(0.0, timeout - (self._clock.time() - started))
        try:
            ended = rollback.wait(Milestone.END, timeout=left, on_progress=on_progress)
        finally:
            self._borrowed += rollback.calls
        self._remove_alarm_net(stopped)  # the analysis's net, now that both have ended
        return ended

    def rollback(self, *, description: str | None = None) -> Deployment:
        """Deploy the last known good task definition again, after this deployment succeeded.

        The last known good version is the one the group's previous successful deployment
        (not counting CodeDeploy's own rollbacks) deployed. Its AppSpec is re-used, hooks
        included, rebuilt for the live service so that network and platform settings are
        today's. A running deployment is rolled back with ``abort()`` instead.

        Costs about ten calls: GetDeployment, ListDeploymentTargets, discover's (not
        counted in ``calls``), GetApplicationRevision twice, ListDeployments,
        BatchGetDeployments and CreateDeployment. CreateDeployment is made as ``deploy``
        makes it (``bluegreen.create``): when its answer is lost the group is searched for
        the deployment it may have created before it is tried again, so one call never
        makes two deployments.

        ECS-native: UpdateService back to the source revision's task definition.

        Args:
            description: the new deployment's description (default: ``bluegreen rollback
                of d-... to family:revision``); ECS-native deployments have none.

        Returns:
            The new deployment, created and not waited for.

        Raises:
            DeploymentStateError: this deployment is still running, did not succeed (or was
                already rolled back), is no longer what the service runs, or no earlier
                successful deployment exists; the message says what to do instead.
            AWSError: an API call failed.
            ValidationError: ``description`` is not a string of at most 256 characters.
        """
        check_rollback(description)
        if self.is_native:
            arn, origin = roll_back_native(self._call(), self._clients, self.status())
            created = self._sibling(arn)
            created.rollback_origin = origin
            return created
        request, origin = rollback_request(
            self._call(),
            self._clients,
            self._info(),
            self._find_target_id,
            description=description,
            now=self.server_clock.now,
            discover_with=self._call(aside=True),
        )
        created = self._sibling(request.create())
        created.rollback_origin = origin
        return created

    def __repr__(self) -> str:
        """``<Deployment d-X prod/web InProgress>``, from what was last read (no API call)."""
        where = self._target_id.replace(":", "/", 1) if self._target_id else self._where
        words = [self.id or "(none)"]
        if where:
            words.append(where)
        words.append(str(self._last_status) if self._last_status else "(not read yet)")
        if self.rollback_origin is not None:
            words.append(f"rolling back {self.rollback_origin.rolled_back}")
        return f"<Deployment {' '.join(words)}>"
