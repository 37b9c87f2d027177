"""Waiting for one deployment: ``DeploymentWaiter.wait`` polls until a milestone, and at the
end does what the end requires: it follows the rollback a failed deployment started, and
restores the autoscaling ``deploy`` suspended (``release_scaling`` does it early, for a
release process that is interrupted). ``Deployment`` adds the controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from bluegreen.analysis import Analysis
from bluegreen.analysis_query import read_metric_data, targets_for
from bluegreen.analysis_run import AnalysisRun, unstopped_error
from bluegreen.analysis_verdict import Verdict
from bluegreen.controls import DONE_ALREADY, deployment_error, recover_hint, send_control
from bluegreen.errors import AWSError, BlueGreenError, DeploymentError, WaitTimeoutError
from bluegreen.native_controls import continue_hooks, stop_native
from bluegreen.native_reading import revision_target_groups
from bluegreen.native_status import StageMilestone
from bluegreen.polling import Milestone, done_when, poll
from bluegreen.reading import DeploymentReader
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import DeploymentStatus, TargetLabel

if TYPE_CHECKING:
    from bluegreen.analysis_query import AnalysisTargets
    from bluegreen.scaling import RestoreResult

__all__ = ["DeploymentWaiter"]


class DeploymentWaiter(DeploymentReader):
    """Reads and waits for one deployment; see ``Deployment``."""

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

        Polling follows the expected schedule (see ``poll_interval``): every
        ``min_interval`` seconds around an expected transition or right after a change,
        less often the longer nothing changes, up to ``max_interval``. ``calls`` counts
        what it cost. A wait for the end with no ``on_progress`` watches only the end: a
        read at most every ``BEFORE_END_CEILING`` (30 s) while the deployment installs or
        runs a hook (so a failure there is noticed within it), every ``max_interval``
        during a bake, the ready wait and the termination wait (GetDeployment alone while
        traffic is still shifting and during the termination wait), then GetDeployment
        every ``min_interval / 2`` seconds once the end is due, while CodeDeploy deletes
        blue.

        Args:
            until: a ``Milestone`` or its name (``"installed"``, ``"ready"``, ...), or an
                ECS lifecycle stage (``StageMilestone``, ``"ecs:BAKE_TIME"``).
            timeout: give up after this many seconds (of the injected clock); no cap when
                None.
            min_interval: the shortest pause between two reads, in seconds.
            max_interval: the longest pause between two reads, in seconds.
            on_progress: called with every snapshot read, the last one included (before
                an error is raised for it).
            analysis: judge green against blue while it serves production traffic (see
                ``AnalysisRun``); None runs the one ``deploy`` was given, if any; False none.
                A FAILED verdict stops the deployment with rollback (StopDeployment).
            on_evaluation: called with ``self.analysis`` after every evaluation.
            light: with ``until`` the end, read as a wait that watches only the end does
                even when ``on_progress`` is given (what a release of many services does to
                spare its rate budget): ``on_progress`` then gets every snapshot read, the
                task sets and events of one read kept while only the status can change.

        Raises:
            DeploymentError: the deployment failed, was stopped or was rolled back; carries
                the error code and message, the failed lifecycle event and its
                diagnostics, and the rollback deployment id.
            WaitTimeoutError: ``timeout`` passed first.
            ValueError: the intervals are not ``0 < min_interval <= max_interval``.
        """
        milestone: Milestone | StageMilestone
        if isinstance(until, StageMilestone):
            milestone = until
        else:
            milestone = StageMilestone.parse(until) or Milestone(until)
        started = self._clock.time()
        run = self._analysis_run(analysis)
        read: Callable[[DeploymentSnapshot | None, bool], DeploymentSnapshot] = self._read
        if run is not None:
            read = self._reading_with(run, on_evaluation)
        snapshot = poll(
            read,
            done_when(milestone),
            clock=self._clock,
            rate=lambda: self.server_clock.rate,
            deployment_id=self.id,
            milestone=milestone,
            timeout=timeout,
            min_interval=min_interval,
            max_interval=max_interval,
            on_progress=on_progress,
            wake=None if run is None else lambda: run.seconds_to_next(self.server_now()),
            light=light,
        )
        if run is not None and snapshot.status.is_terminal:
            run.finish()
        failure: DeploymentError | None = None
        if snapshot.status.is_terminal and not (snapshot.succeeded or snapshot.is_rollback):
            stopped = run is not None and run.stopped == self.id
            failure = deployment_error(
                snapshot,
                stopped_because=f"the analysis {run.reason}" if run and stopped else None,
            )
            failure.analysis = run
        elif snapshot.succeeded and run is not None and run.verdict is Verdict.FAILED:
            failure = unstopped_error(snapshot, run)
        if snapshot.is_rollback and snapshot.status.is_failure:
            failure = deployment_error(snapshot)
        if failure is not None and snapshot.rollback_deployment_id and not snapshot.is_rollback:
            remaining = None if timeout is None else timeout - (self._clock.time() - started)
            self._follow_rollback(
                snapshot.rollback_deployment_id,
                failure,
                timeout=remaining,
                min_interval=min_interval,
                max_interval=max_interval,
                on_progress=on_progress,
            )
        if snapshot.status.is_terminal:
            for end in (self._restore_scaling, self._remove_alarm_net):
                try:
                    end(snapshot)
                except AWSError as exc:
                    if failure is None:
                        raise
                    failure.add_note(str(exc))
                    for note in getattr(exc, "__notes__", ()):
                        failure.add_note(note)
        if failure is not None:
            raise failure
        return snapshot

    # -- analysis ---------------------------------------------------------------------------

    def _analysis_run(self, analysis: Analysis | bool | None) -> AnalysisRun | None:
        """The run a wait continues (the one ``deploy`` started, or the last wait's with the
        same ``Analysis``), a new one, or None (``analysis=False``, or none was ever given)."""
        if analysis is False:
            return None
        if (
            analysis is None
            or analysis is True
            or (self.analysis is not None and self.analysis.analysis is analysis)
        ):
            return self.analysis
        assert isinstance(analysis, Analysis)  # checked by the public wait
        self.analysis = AnalysisRun(analysis)
        return self.analysis

    def _reading_with(
        self, run: AnalysisRun, on_evaluation: Callable[[AnalysisRun], None] | None
    ) -> Callable[[DeploymentSnapshot | None, bool], DeploymentSnapshot]:
        """``_read``, then an evaluation whenever one is due while green serves production
        traffic; a FAILED verdict stops the deployment, with rollback, once."""

        def read(previous: DeploymentSnapshot | None, light: bool) -> DeploymentSnapshot:
            snapshot = self._read(previous, light)
            if run.must_stop and not snapshot.status.is_terminal:
                return self._stop_for(run, snapshot)  # a stop that failed last time
            now = self.server_now()
            if not (run.watching(snapshot) and run.due(now)):
                return snapshot
            if run.targets is None:
                try:
                    run.targets = self._analysis_targets(snapshot)
                except BlueGreenError as exc:
                    run.judge.give_up(f"cannot read green's and blue's metrics: {exc}")
                    if on_evaluation is not None:
                        on_evaluation(run)
                    return snapshot
            data = read_metric_data(
                run.analysis,
                run.targets,
                run.window_now(now),
                clients=self._clients,
                caller=self._call(),
            )
            run.add(data, now)
            if run.must_stop:
                snapshot = self._stop_for(run, snapshot)
            if on_evaluation is not None:
                on_evaluation(run)
            return snapshot

        return read

    def _send_stop(self) -> None:
        """StopDeployment with rollback, counted once (``send_control``); an ECS-native
        deployment is rolled back as ``abort()`` does it."""
        if self.is_native:
            self._send_native_rollback(self.status())
            return
        send_control(
            self._call(),
            "StopDeployment",
            self._clients.codedeploy.stop_deployment,
            done_if=DONE_ALREADY["StopDeployment"],
            deploymentId=self.id,
            autoRollbackEnabled=True,
        )

    def _stop_for(self, run: AnalysisRun, snapshot: DeploymentSnapshot) -> DeploymentSnapshot:
        """StopDeployment with rollback for a failed analysis; the snapshot that shows it.

        CodeDeploy refuses once it has started deleting blue (``DeploymentAlreadyCompleted``):
        that is noted on the run (``unstoppable``) and the wait ends with an error. Any other
        refusal that outlasted the retries is noted too, and the stop is tried again at the
        next read."""
        try:
            self._send_stop()
        except AWSError as exc:
            if exc.code in DONE_ALREADY["StopDeployment"]:
                run.unstoppable = str(exc)
            else:
                run.stop_errors.append(str(exc))
            return snapshot
        run.stopped = self.id
        return self.status()  # read again: the snapshot that shows it stopping

    def _analysis_targets(self, snapshot: DeploymentSnapshot) -> AnalysisTargets:
        """Green's and blue's target groups, from the task sets the deployment reports."""
        green, blue = snapshot.task_set(TargetLabel.GREEN), snapshot.task_set(TargetLabel.BLUE)
        if self.is_native and green is not None and blue is not None:
            names = revision_target_groups(self._call(), self._clients, [green.id, blue.id])
            green = attrs.evolve(green, target_group=names.get(green.id))
            blue = attrs.evolve(blue, target_group=names.get(blue.id))
        if green is None or blue is None or not green.target_group or not blue.target_group:
            raise BlueGreenError(
                f"deployment {self.id} reports no green and blue target groups to compare"
            )
        return targets_for(
            green.target_group, blue.target_group, clients=self._clients, caller=self._call()
        )

    def _follow_rollback(
        self,
        rollback_id: str,
        failure: DeploymentError,
        *,
        timeout: float | None,
        min_interval: float,
        max_interval: float,
        on_progress: Callable[[DeploymentSnapshot], None] | None,
    ) -> None:
        """Wait for the rollback a failed deployment started, so the autoscaling ``deploy``
        suspended is restored before the caller hears of the failure (the rollback's own
        wait restores it). What goes wrong with the rollback is noted on ``failure``."""
        if timeout is not None and timeout <= 0:
            failure.add_note(
                f"rollback {rollback_id} still runs; autoscaling stays suspended until it "
                "ends: " + recover_hint() + " restores it then"
            )
            return
        try:
            self._sibling(rollback_id).wait(
                timeout=timeout,
                min_interval=min_interval,
                max_interval=max_interval,
                on_progress=on_progress,
            )
        except (DeploymentError, WaitTimeoutError, AWSError) as exc:
            failure.add_note(f"rollback {rollback_id}: {exc}")
            if not isinstance(exc, DeploymentError):
                failure.add_note(
                    "autoscaling stays suspended until the rollback ends: "
                    + recover_hint()
                    + " restores it then"
                )

    def _send_native_rollback(self, snapshot: DeploymentSnapshot) -> str:
        """Roll an ECS-native deployment back: ContinueServiceDeployment ROLLBACK of the
        paused hooks, else StopServiceDeployment ROLLBACK; the request, for the result."""
        paused = snapshot.native.paused_hooks if snapshot.native else ()
        if paused:
            continue_hooks(self._call(), self._clients, self.id, paused, "ROLLBACK")
            return "ContinueServiceDeployment(ROLLBACK)"
        stop_native(self._call(), self._clients, self.id)
        return "StopServiceDeployment(ROLLBACK)"

    def _follow_native_rollback(
        self, timeout: float | None, on_progress: Callable[[DeploymentSnapshot], None] | None
    ) -> DeploymentSnapshot:
        """Follow an ECS-native deployment asked to roll back (the same service deployment)
        to its end, then restore the scaling ``deploy`` suspended; its last snapshot.

        Raises:
            DeploymentError: the rollback failed (ROLLBACK_FAILED).
        """
        ended = poll(
            self._read,
            lambda s: s.status.is_terminal,
            clock=self._clock,
            rate=lambda: self.server_clock.rate,
            deployment_id=self.id,
            milestone="end (rolling back)",
            timeout=timeout,
            min_interval=5.0,
            max_interval=60.0,
            on_progress=on_progress,
        )
        failure = deployment_error(ended) if ended.ending == "failed" else None
        try:
            self._restore_scaling(ended)
        except AWSError as exc:
            if failure is None:
                raise
            failure.add_note(str(exc))
        if failure is not None:
            raise failure
        return ended

    def release_scaling(self) -> RestoreResult | None:
        """Restore now the autoscaling that ``deploy`` suspended for this deployment, even
        while it still runs: what a release process does when it is interrupted (Ctrl-C,
        SIGTERM), since nobody may be left to restore it at the end. Its records are given
        back and the service's scaling reconciled (another release's record in force keeps
        its kinds suspended).

        Returns:
            What was restored, or None when the deployment group names no ECS service.
        """
        snapshot = self.status()
        where = self._scaling_service(snapshot)
        if where is None:
            return None
        from bluegreen.scaling import restore_scaling

        return restore_scaling(
            *where,
            deployment_id=snapshot.rollback_of or self.id,
            clients=self._clients,
            clock=self._clock,
            budget=self.budget,
        )

    def _restore_scaling(self, snapshot: DeploymentSnapshot) -> None:
        """Put back the scaling ``deploy`` suspended for this deployment, once it (and the
        rollback it started) has ended: its records are given back and the service's scaling
        reconciled, so another release's record still in force keeps its kinds suspended."""
        if snapshot.rollback_deployment_id and not snapshot.is_rollback:
            rollback = self._sibling(snapshot.rollback_deployment_id)._info()
            if not DeploymentStatus(rollback["status"]).is_terminal:
                return  # restored when the rollback is waited for, or by `bluegreen recover`
        where = self._scaling_service(snapshot)
        if where is None:
            return
        from bluegreen.scaling import restore_scaling

        restore_scaling(
            *where,
            deployment_id=snapshot.rollback_of or self.id,
            clients=self._clients,
            clock=self._clock,
            budget=self.budget,
        )

    def _remove_alarm_net(self, snapshot: DeploymentSnapshot) -> None:
        """Delete the analysis's alarm net ``deploy`` attached to this deployment, once it
        (and the rollback it started) has ended; kept while either runs, since CodeDeploy
        stops a deployment whose alarm is gone (``bluegreen recover`` deletes it later)."""
        from bluegreen.analysis_alarm import NET_PREFIX

        if not any(name.startswith(NET_PREFIX) for name in snapshot.override_alarms):
            return  # the deployment names no net: nothing to look for, no DescribeAlarms
        where = self._scaling_service(snapshot)
        if where is None:
            return
        from bluegreen.analysis_alarm_cleanup import remove_ended_nets

        remove_ended_nets(
            self._call(aside=True),
            self._clients,
            *where,
            deployment_id=snapshot.rollback_of or self.id,
        )
