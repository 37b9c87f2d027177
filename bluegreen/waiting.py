"""Waiting for one deployment: ``DeploymentWaiter.wait`` polls until a milestone, and at the
end does what the end requires: it follows the rollback a failed deployment started, and
restores the autoscaling ``deploy`` suspended (``release_scaling`` does it early, for a
release process that is interrupted). ``Deployment`` adds the controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bluegreen.controls import deployment_error, recover_hint
from bluegreen.errors import AWSError, DeploymentError, WaitTimeoutError
from bluegreen.polling import Milestone, done_when, poll
from bluegreen.reading import DeploymentReader
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import DeploymentStatus

if TYPE_CHECKING:
    from bluegreen.scaling import RestoreResult

__all__ = ["DeploymentWaiter"]


class DeploymentWaiter(DeploymentReader):
    """Reads and waits for one deployment; see ``Deployment``."""

    def wait(
        self,
        until: Milestone | str = Milestone.END,
        *,
        timeout: float | None = None,
        min_interval: float = 5.0,
        max_interval: float = 60.0,
        on_progress: Callable[[DeploymentSnapshot], None] | None = None,
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
            until: a ``Milestone`` or its name (``"installed"``, ``"ready"``, ...).
            timeout: give up after this many seconds (of the injected clock); no cap when
                None.
            min_interval: the shortest pause between two reads, in seconds.
            max_interval: the longest pause between two reads, in seconds.
            on_progress: called with every snapshot read, the last one included (before
                an error is raised for it).

        Raises:
            DeploymentError: the deployment failed, was stopped or was rolled back; carries
                the error code and message, the failed lifecycle event and its
                diagnostics, and the rollback deployment id.
            WaitTimeoutError: ``timeout`` passed first.
            ValueError: the intervals are not ``0 < min_interval <= max_interval``.
        """
        milestone = Milestone(until)
        started = self._clock.time()
        snapshot = poll(
            self._read,
            done_when(milestone),
            clock=self._clock,
            rate=lambda: self.server_clock.rate,
            deployment_id=self.id,
            milestone=milestone,
            timeout=timeout,
            min_interval=min_interval,
            max_interval=max_interval,
            on_progress=on_progress,
        )
        failure: DeploymentError | None = None
        if snapshot.status.is_terminal and not (snapshot.succeeded or snapshot.is_rollback):
            failure = deployment_error(snapshot)
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
            try:
                self._restore_scaling(snapshot)
            except AWSError as exc:
                if failure is None:
                    raise
                failure.add_note(str(exc))
                for note in getattr(exc, "__notes__", ()):
                    failure.add_note(note)
        if failure is not None:
            raise failure
        return snapshot

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
        )
