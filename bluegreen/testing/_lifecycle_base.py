"""The lifecycle engine's shared steps: scheduling on the clock, event and deployment
status, alarms, and failing a deployment (contract section 2 and Appendix A).

Each step is a callback on the simulator's clock. A step first checks that the deployment
is still in the generation it was scheduled for, so a stop or a failure cancels every step
still queued. The phases (``_lifecycle_install``, ``_lifecycle_traffic``,
``_lifecycle_hooks``, ``_lifecycle_rollback``) build on this class; ``_lifecycle.Lifecycle``
puts them together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus
from bluegreen.testing._context import SimContext
from bluegreen.testing._records import DeploymentRecord
from bluegreen.testing._settings import SimSettings

__all__ = ["Engine"]

E = LifecycleEvent
S = LifecycleEventStatus


class Engine:
    """Runs deployments through their lifecycle on the simulator's clock (shared steps)."""

    def __init__(self, sim: SimContext) -> None:
        self.sim = sim

    @property
    def settings(self) -> SimSettings:
        return self.sim.settings

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    # -- what the phases call each other by (defined in ``Lifecycle`` and the phases) -------

    def _run_event(self, record: DeploymentRecord, name: E) -> None:
        raise NotImplementedError

    def _event_done(self, record: DeploymentRecord, name: E) -> None:
        raise NotImplementedError

    def _start_rollback(self, original: DeploymentRecord) -> None:
        raise NotImplementedError

    def begin(self, record: DeploymentRecord) -> None:
        raise NotImplementedError

    # -- scheduling -------------------------------------------------------------------

    def _later(self, record: DeploymentRecord, delay: float, step: Callable[[], None]) -> None:
        generation = record.generation

        def run() -> None:
            with self.sim.lock:
                if record.generation == generation and not record.status.is_terminal:
                    step()

        self.sim.clock.call_later(delay, run)

    def _set_status(self, record: DeploymentRecord, status: DeploymentStatus) -> None:
        record.status = status
        record.target_updated = self.now
        if status.is_terminal:
            record.complete_time = self.now
        self.sim.store.status_changed(record)

    # -- events -----------------------------------------------------------------------

    def _mark(self, record: DeploymentRecord, name: E, status: S, **diagnostics: Any) -> None:
        event = record.event(name)
        if event is None:
            return
        if status is S.IN_PROGRESS or (status in (S.SUCCEEDED, S.FAILED) and event.start is None):
            event.start = self.now
        if status in (S.SUCCEEDED, S.FAILED, S.SKIPPED):
            event.end = self.now
        event.status = status
        if diagnostics:
            event.diagnostics = {
                "errorCode": diagnostics.get("error_code", "UnknownError"),
                "scriptName": diagnostics.get("script_name", ""),
                "message": diagnostics.get("message", ""),
                "logTail": diagnostics.get("log_tail", "")[-4096:],
            }
        record.target_updated = self.now

    def _next_event(self, record: DeploymentRecord, after: E) -> E | None:
        names = [e.name for e in record.events]
        index = names.index(after)
        return names[index + 1] if index + 1 < len(names) else None

    def _succeed(self, record: DeploymentRecord, name: E) -> None:
        self._mark(record, name, S.SUCCEEDED)
        self._event_done(record, name)

    def _current_event(self, record: DeploymentRecord) -> E | None:
        running = [e.name for e in record.events if e.status is S.IN_PROGRESS]
        return running[0] if running else None

    # -- the task sets ----------------------------------------------------------------

    def _green(self, record: DeploymentRecord) -> Any | None:
        svc = self.sim.moto.service(record.cluster, record.service)
        return None if svc is None else self.sim.moto.find_task_set(svc, record.green_arn or "")

    def _blue(self, record: DeploymentRecord) -> Any | None:
        svc = self.sim.moto.service(record.cluster, record.service)
        return None if svc is None else self.sim.moto.find_task_set(svc, record.blue_arn or "")

    # -- alarms -----------------------------------------------------------------------

    def _alarm_fired(self, record: DeploymentRecord, event: E | None) -> bool:
        """Stop the deployment when one of its alarms is in ALARM; True if it did."""
        if not record.alarm_names:
            return False
        firing = self.sim.moto.alarms_in_alarm(record.alarm_names)
        if not firing:
            return False
        message = (
            "One or more alarms have been activated according to the Amazon CloudWatch metrics "
            f"you selected, and the affected deployments have been stopped. Activated alarms: "
            f"{', '.join(firing)}"
        )
        self._fail(
            record,
            event,
            code="ALARM_ACTIVE",
            message=message,
            trigger="DEPLOYMENT_STOP_ON_ALARM",
            status=DeploymentStatus.STOPPED,
        )
        return True

    # -- failure ----------------------------------------------------------------------

    def _fail(
        self,
        record: DeploymentRecord,
        event: E | None,
        *,
        code: str,
        message: str,
        trigger: str | None,
        status: DeploymentStatus = DeploymentStatus.FAILED,
        diagnostics: dict[str, Any] | None = None,
        mark_event: bool = True,
    ) -> None:
        record.generation += 1
        was = record.phase
        record.phase = "failed"
        if mark_event and event is not None and record.event(event) is not None:
            self._mark(record, event, S.FAILED, **(diagnostics or {}))
        for other in record.events:
            if other.status in (S.PENDING, S.IN_PROGRESS):
                other.status = S.SKIPPED if other.status is S.PENDING else S.FAILED
                other.end = self.now
        if was not in ("termination_wait",):
            record.target_status = "Failed"
        record.error = {"code": code, "message": message}
        record.status_messages.append(message)
        self._set_status(record, status)
        can_undo = record.green_arn is not None or (event is not None and event.can_roll_back)
        if (
            trigger is not None
            and record.rollback_of is None
            and record.rolls_back_on(trigger)
            and can_undo
            and (event is None or event.can_roll_back)
        ):
            self._start_rollback(record)
