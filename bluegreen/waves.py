"""Release many services in waves from one process: ``bluegreen.release(manifest)``.

1. The release's state is read back from AWS (``bluegreen.release_state``): a release whose
   process died is resumed (``resume=True``) by re-attaching to the deployments it created,
   never creating a second one for a service; one that started already is refused without
   ``resume``.
2. Every service still to release is planned (``bluegreen.plan``, several at once) and every
   problem of every service is raised as one ``ServiceConfigError`` before anything in AWS
   changes.
3. The waves run in order. In a wave, at most ``concurrency`` services deploy at once, each
   in its own thread (``deploy`` then ``wait``, its analysis included), every call drawing
   from its account and region's one ``RateBudget`` (``bluegreen.release_accounts``). After
   a wave, the release waits its ``bake``.
4. One failure stops the release: every deployment in flight is stopped with rollback at
   once (StopDeployment, sent by the thread that saw the failure), no more start, and with
   ``on_failure: rollback`` the services the release already released are rolled back.
   Ctrl-C does the same. Every thread then follows its deployment and rollback to the end,
   so scaling and alarm nets are restored before ``release`` returns.

A clock may offer ``worker()`` (the simulator's ``VirtualClock`` does): each thread of the
release runs inside it, so simulated time moves only when every thread waits.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.clock import MonotonicClock, plural
from bluegreen.controls import deployment_error
from bluegreen.errors import BlueGreenError, DeploymentError
from bluegreen.manifest import FailurePolicy, Manifest, ServiceRelease, Wave
from bluegreen.release_accounts import Accounts
from bluegreen.release_events import EventKind, ReleaseEvent, ServiceRun
from bluegreen.release_plan import plan_release
from bluegreen.release_result import ReleaseError, ReleaseResult
from bluegreen.release_service import (
    created_anyway,
    follow_service,
    roll_back_service,
    start_service,
    stop_service,
)
from bluegreen.release_state import Phase, ReleaseState, read_release
from bluegreen.release_threads import for_each
from bluegreen.server_time import ServerClock, server_clock_for

if TYPE_CHECKING:
    import boto3

    from bluegreen._aws import Clients
    from bluegreen.analysis_run import AnalysisRun
    from bluegreen.clock import Clock
    from bluegreen.plan import Plan
    from bluegreen.snapshot import DeploymentSnapshot

__all__ = ["ReleaseError", "ReleaseResult", "release"]

EventSink = Callable[[ReleaseEvent], None]

SINCE_MARGIN = 300.0
"""Seconds before the state read's start from which a service's deployments are looked
for again before one is created (clock differences between this machine and AWS)."""

_FAILED = (Phase.FAILED, Phase.ROLLING_BACK, Phase.ROLLED_BACK)
"""What AWS may show of a release that failed before this process took it over."""


def release(
    manifest: Manifest | str | os.PathLike[str] | Mapping[str, Any],
    *,
    resume: bool = False,
    on_event: EventSink | None = None,
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    clock: Clock | None = None,
    rate: float = 5.0,
    burst: float = 10.0,
    stop: threading.Event | None = None,
) -> ReleaseResult:
    """Release every service of ``manifest`` in its waves; returns when all have ended.

    Args:
        manifest: a ``Manifest``, a YAML/JSON file, or its mapping
            (``bluegreen.manifest_load.load_manifest``).
        resume: continue the release whose deployments AWS already shows (its process died):
            deployments in flight are followed, services that succeeded are skipped, and the
            rest released wave by wave. Without it, a release AWS shows started is refused.
        on_event: called with every ``ReleaseEvent`` (from the release's threads).
        clients: the clients for services that name no role and no region (tests pass the
            simulator's); or
        session: the ``boto3.Session`` whose credentials and region apply (roles are
            assumed from it).
        endpoint_url: send every call there (``bluegreen sim serve``).
        clock: ``time()``/``sleep()`` for every wait, retry and bake (default: the real
            monotonic clock).
        rate, burst: each account and region's ``RateBudget`` (calls per second).
        stop: set it (from another thread) to stop the release as Ctrl-C does.

    Returns:
        The ``ReleaseResult`` of a release whose every service succeeded.

    Raises:
        ValidationError: the manifest has problems (every one listed).
        ServiceConfigError: planning found problems; every service's, at once. Nothing in
            AWS was changed.
        ConflictError: the release has started already and ``resume`` is False.
        ReleaseError: a deployment failed (or the release was stopped); ``.result`` says how
            every service ended.
    """
    if not isinstance(manifest, Manifest):
        from bluegreen.manifest_load import load_manifest

        manifest = load_manifest(manifest)
    the_clock: Clock = clock if clock is not None else MonotonicClock()
    accounts = Accounts(
        clients=clients,
        session=session,
        endpoint_url=endpoint_url,
        rate=rate,
        burst=burst,
        clock=the_clock,
        session_name=f"bluegreen-{manifest.id}"[:64],
    )
    runner = _Runner(manifest, accounts, the_clock, on_event, stop or threading.Event())
    return runner.run(resume=resume)


@attrs.define(eq=False)
class _Runner:
    manifest: Manifest
    accounts: Accounts
    clock: Clock
    on_event: EventSink | None
    stopping: threading.Event
    runs: dict[str, ServiceRun] = attrs.field(factory=dict)
    reason: str | None = None
    _lock: threading.RLock = attrs.field(factory=threading.RLock)
    plans: dict[str, Plan] = attrs.field(factory=dict)
    since: dt.datetime | None = None
    resuming: bool = False
    """AWS showed the release started: a dead process may have left scaling records."""
    server: ServerClock = attrs.field(
        default=attrs.Factory(lambda self: server_clock_for(self.clock), takes_self=True)
    )

    # -- events -----------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The server's time (CodeDeploy's ``Date`` headers, extrapolated), else the local
        clock's: a release's times are those its deployments show."""
        return self.server.now()

    def emit(self, kind: EventKind, run: ServiceRun | None = None, **fields: Any) -> None:
        if self.on_event is None:
            return
        if run is not None:
            fields.setdefault("wave", run.wave)
            fields.setdefault("service", run.name)
            fields.setdefault("deployment_id", run.deployment_id)
            fields.setdefault("phase", run.phase)
            fields.setdefault("snapshot", run.snapshot)
            shown = run.to_dict()
            for key in ("service", "wave", "phase", "deployment_id"):
                shown.pop(key, None)
            fields["data"] = {**shown, **fields.get("data", {})}
            fields.setdefault("analysis", run.analysis)
        at = fields.pop("at", None) or self.now()
        event = ReleaseEvent(kind, self.manifest.id, at, **fields)
        with self._lock:
            self.on_event(event)

    # -- the release --------------------------------------------------------------------------

    def run(self, *, resume: bool) -> ReleaseResult:
        reading = self.clock.time()
        state = read_release(self.manifest, self.accounts, clock=self.clock)
        self.server.observe(state.read_at)
        # What the state read did not see was created after it began (with a margin for
        # the server's clock): a later look for one service's deployment lists only that.
        took = (self.clock.time() - reading) * max(1.0, self.server.rate)
        self.since = state.read_at - dt.timedelta(seconds=took + SINCE_MARGIN)
        started = self.now()
        done = all(p.phase is Phase.SUCCEEDED for p in state.services)
        self._take_in(state, resume=resume or done)
        self.resuming = resume or any(r.resumed for r in self)
        self.emit(
            EventKind.STARTED,
            message=f"{plural(len(self.manifest.services), 'service')} in "
            f"{plural(len(self.manifest.waves), 'wave')}"
            + (": every one succeeded already, nothing to do" if done else ""),
            data={"release_name": self.manifest.name, "state": state.to_dict()},
        )
        failed = [r.name for r in self if r.phase in _FAILED]
        if failed:
            self.stop(f"{', '.join(failed)} failed before the release was resumed")
        else:
            pending = [r.service for r in self if r.phase is Phase.PENDING]
            self.plans = plan_release(self.manifest, pending, self.accounts, clock=self.clock)
            said = f"{plural(len(pending), 'service')} planned, no problem"
            self.emit(EventKind.PLANNED, message=said)
        try:
            for index, wave in enumerate(self.manifest.waves):
                if self.stopping.is_set():
                    break
                self._wave(wave)
                last = index == len(self.manifest.waves) - 1
                if not last and not self.stopping.is_set():
                    self._bake(wave)
            # A resumed release that stopped at once still has deployments in flight that
            # no wave followed: follow them to their end (their rollbacks, scaling, nets).
            self._follow_left()
        except KeyboardInterrupt:
            self.stop("interrupted (Ctrl-C)")
        if self.stopping.is_set() and self.reason is None:
            self.stop("asked to stop")
        if self.stopping.is_set() and self.manifest.on_failure is FailurePolicy.ROLLBACK:
            self._roll_back_released()
        result = ReleaseResult(
            self.manifest, tuple(self.runs.values()), started, self.now(), self.reason
        )
        self.emit(
            EventKind.ENDED,
            message=result.headline,
            data={
                "ok": result.ok,
                "reason": result.reason,
                "services": [r.to_dict() for r in result.services],
            },
        )
        if not result.ok:
            raise ReleaseError(result)
        return result

    def _take_in(self, state: ReleaseState, *, resume: bool) -> None:
        """One ``ServiceRun`` per service, from what AWS shows of the release."""
        started = [p for p in state.services if p.phase not in (Phase.PENDING, Phase.UNKNOWN)]
        if started and not resume:
            from bluegreen.errors import ConflictError

            raise ConflictError(
                f"release {self.manifest.id} has started already "
                f"({len(started)} of {len(state.services)} services have its deployments): "
                "`bluegreen release status FILE` shows it; `bluegreen release resume FILE` "
                "continues it if the process that ran it is gone"
            )
        for progress in state.services:
            run = ServiceRun(progress.service, progress.wave)
            # Unknown (its group could not be read): planned, and its whole history looked
            # through again before anything is created for it.
            run.phase = Phase.PENDING if progress.phase is Phase.UNKNOWN else progress.phase
            run.unread = progress.phase is Phase.UNKNOWN
            run.deployment_id = progress.deployment_id
            run.status = str(progress.status) if progress.status else None
            run.rollback_id = progress.rollback_id
            run.started, run.ended = progress.created, progress.completed
            run.error = progress.error
            run.resumed = run.phase is not Phase.PENDING
            self.runs[run.name] = run

    def __iter__(self) -> Any:
        return iter(list(self.runs.values()))

    # -- waves ------------------------------------------------------------------------------

    def _wave(self, wave: Wave) -> None:
        todo = [self.runs[s.name] for s in wave.services]
        if all(r.phase is Phase.SUCCEEDED for r in todo):
            return
        self.emit(EventKind.WAVE_STARTED, wave=wave.name, data={"width": wave.width})
        self._for_each(todo, lambda run: self._service(wave, run), wave.width)
        phases = {r.phase for r in todo}
        self.emit(
            EventKind.WAVE_ENDED,
            wave=wave.name,
            phase=Phase.SUCCEEDED if phases == {Phase.SUCCEEDED} else Phase.FAILED,
        )

    def _follow_left(self) -> None:
        """Follow to its end each deployment of the release no thread of this process has
        followed: in flight when a resumed release stopped at once, or failed while no
        process watched (its wait restores the scaling and deletes the net)."""
        left = [
            r
            for r in self
            if r.deployment_id and r.resumed and r.phase in (Phase.IN_FLIGHT, Phase.FAILED)
        ]
        if not left:
            return
        self._for_each(
            left, lambda run: self._service(self.manifest.wave_of(run.service), run), len(left)
        )

    def _for_each(
        self, runs: list[ServiceRun], action: Callable[[ServiceRun], None], width: int
    ) -> None:
        """``action(run)`` for each of ``runs``, at most ``width`` at once, in order; a
        caller's stop event is noticed while they run, and Ctrl-C stops the release (a
        second one leaves at once)."""

        def watch() -> None:
            if self.stopping.is_set() and self.reason is None:
                self.stop("asked to stop")

        def interrupted() -> None:
            if self.stopping.is_set():
                raise KeyboardInterrupt  # Ctrl-C while stopping already: leave now
            self.stop("interrupted (Ctrl-C)")

        for_each(runs, action, width, clock=self.clock, watch=watch, on_interrupt=interrupted)

    def _service(self, wave: Wave, run: ServiceRun) -> None:
        """Release one service: start (or re-attach), follow to the end, note how it ended."""
        if run.phase is Phase.SUCCEEDED or run.followed:
            return
        if self.stopping.is_set() and run.deployment_id is None:
            return  # never started: the release stopped first
        run.followed = True
        account = self.accounts.for_service(run.service)
        service = self._with_group(run)
        since = None if run.resumed or run.unread else self.since
        try:
            deployment = start_service(
                self.manifest.id,
                wave.name,
                service,
                account,
                clock=self.clock,
                since=since,
                resumed=self.resuming,
            )
        except BlueGreenError as exc:
            left = created_anyway(self.manifest.id, service, account, clock=self.clock, since=since)
            if left is None:
                self._ended(run, Phase.FAILED, f"could not start: {exc}")
                return
            # Created, then a later step failed: the release stops, and this deployment is
            # stopped and followed to its end like the others (its scaling restored there).
            self.stop(f"{run.name} could not start: {exc}")
            deployment = left
        with self._lock:
            run.deployment_id = deployment.id
            run.phase = Phase.IN_FLIGHT
        said = "re-attached to its deployment" if run.resumed else "deployment created"
        self.emit(EventKind.SERVICE, run, message=said)
        if self.stopping.is_set():
            self._stop_one(run)

        def progress(snapshot: DeploymentSnapshot) -> None:
            if self.stopping.is_set() and self.reason is None:
                self.stop("asked to stop")  # the caller's stop event, seen at once
            if snapshot.deployment_id != run.deployment_id:
                # The rollback CodeDeploy started: its end is told (the event's snapshot is
                # the rollback's, for the service's "rolled back" notification), not shown.
                if snapshot.rollback_of == run.deployment_id and snapshot.status.is_terminal:
                    message = f"rollback {snapshot.deployment_id} {snapshot.status}"
                    self.emit(
                        EventKind.SERVICE,
                        run,
                        at=snapshot.observed_at,
                        snapshot=snapshot,
                        message=message,
                    )
                return
            self.server.observe(snapshot.observed_at)
            if run.see(snapshot):
                self.emit(EventKind.SERVICE, run, at=snapshot.observed_at)
            if snapshot.status.is_terminal and not snapshot.succeeded and not run.stopped:
                # Stop the others now, not once this wait has followed the rollback.
                self.stop(f"{run.name} failed: {deployment_error(snapshot)}")

        def evaluation(analysis: AnalysisRun) -> None:
            run.analysis = analysis
            run.verdict = f"{analysis.verdict}: {analysis.reason}" if analysis.reason else None
            self.emit(EventKind.EVALUATION, run, message=run.verdict or "")

        try:
            final = follow_service(
                deployment, run.service, on_progress=progress, on_evaluation=evaluation
            )
        except DeploymentError as exc:
            run.rollback_id = exc.rollback_deployment_id
            self._ended(run, Phase.FAILED, str(exc))
            return
        except BlueGreenError as exc:
            self._ended(run, Phase.FAILED, f"could not follow {deployment.id}: {exc}")
            return
        run.see(final)
        run.ended = final.complete_time
        self._ended(run, Phase.SUCCEEDED, None)

    def _with_group(self, run: ServiceRun) -> ServiceRelease:
        """The service, naming the deployment group its plan found (not looked for again)."""
        plan = self.plans.get(run.name)
        group = plan.service.deployment_group if plan is not None else None
        if group is None or run.service.deployment_group is not None:
            return run.service
        return attrs.evolve(run.service, application=group.application, deployment_group=group.name)

    def _ended(self, run: ServiceRun, phase: Phase, error: str | None) -> None:
        with self._lock:
            run.phase = phase
            run.error = error
            if run.ended is None and phase is not Phase.SUCCEEDED:
                run.ended = self.now()
        self.emit(EventKind.SERVICE, run, message=error or "succeeded")
        if phase is Phase.FAILED:
            self.stop(f"{run.name} failed" + (f": {error}" if error else ""))

    # -- stopping -----------------------------------------------------------------------------

    def stop(self, reason: str) -> None:
        """Stop the release: every deployment in flight is stopped with rollback, now."""
        with self._lock:
            if self.reason is not None:
                return
            self.stopping.set()
            self.reason = reason
            in_flight = [
                r
                for r in self
                if r.phase is Phase.IN_FLIGHT
                and r.deployment_id
                and not (r.snapshot is not None and r.snapshot.status.is_terminal)
            ]
        self.emit(EventKind.STOPPING, message=reason, data={"in_flight": len(in_flight)})
        for run in in_flight:
            self._stop_one(run)

    def _stop_one(self, run: ServiceRun) -> None:
        assert run.deployment_id is not None
        account = self.accounts.for_service(run.service)
        try:
            if stop_service(run.deployment_id, account, clock=self.clock):
                run.stopped = True
        except BlueGreenError as exc:
            run.error = f"could not stop {run.deployment_id}: {exc}"

    # -- bake and rollback ----------------------------------------------------------------------

    def _bake(self, wave: Wave) -> None:
        if wave.bake <= 0:
            return
        ended = [r.ended for r in (self.runs[s.name] for s in wave.services) if r.ended]
        since_end = (self.now() - max(ended)).total_seconds() if ended else 0.0
        left = wave.bake - max(0.0, since_end)
        if left <= 0:
            return
        self.emit(EventKind.BAKING, wave=wave.name, data={"seconds": round(left, 1)})
        waited = 0.0
        while waited < left and not self.stopping.is_set():  # `stop` set by the caller too
            pause = min(5.0, left - waited)
            try:
                self.clock.sleep(pause)
            except KeyboardInterrupt:
                self.stop("interrupted (Ctrl-C) while baking")
                return
            waited += pause

    def _roll_back_released(self) -> None:
        released = [
            r for r in self if r.deployment_id and r.phase in (Phase.SUCCEEDED, Phase.ROLLING_BACK)
        ]  # a rollback a resumed release finds running is followed again
        if not released:
            return
        self.emit(EventKind.ROLLING_BACK, data={"services": [r.name for r in released]})
        width = max(w.width for w in self.manifest.waves)
        self._for_each(released, self._roll_back, width)

    def _roll_back(self, run: ServiceRun) -> None:
        assert run.deployment_id is not None
        account = self.accounts.for_service(run.service)
        with self._lock:
            run.phase = Phase.ROLLING_BACK
        try:
            rollback = roll_back_service(
                self.manifest.id,
                run.wave,
                run.service,
                run.deployment_id,
                account,
                clock=self.clock,
            )
            run.rollback_id = rollback.id
            self.emit(EventKind.SERVICE, run, message=f"rolling back with {rollback.id}")
            rollback.wait()
        except BlueGreenError as exc:
            with self._lock:
                run.error = f"rollback of {run.deployment_id} failed: {exc}"
            self.emit(EventKind.SERVICE, run, message=run.error)
            return
        with self._lock:
            run.phase = Phase.ROLLED_BACK
        self.emit(EventKind.SERVICE, run, message="rolled back")
