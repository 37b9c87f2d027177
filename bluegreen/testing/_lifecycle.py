"""The lifecycle of a simulated ECS blue/green deployment (contract section 2 and Appendix A):
the order of the events, the start, StopDeployment and ContinueDeployment, and scaling
events during a deployment.

The shared steps are in ``_lifecycle_base``; each phase has its module: ``_lifecycle_install``,
``_lifecycle_hooks``, ``_lifecycle_traffic`` (through the termination wait and blue's
clean-up) and ``_lifecycle_rollback``. Changes to ECS and ELBv2 go through ``MotoState``, as
CodeDeploy's service role would make them.
"""

from __future__ import annotations

from bluegreen.errors import AppSpecError
from bluegreen.status import DeploymentStatus, LifecycleEvent
from bluegreen.testing._lifecycle_base import E, S
from bluegreen.testing._lifecycle_hooks import HookSteps
from bluegreen.testing._lifecycle_install import InstallSteps
from bluegreen.testing._lifecycle_rollback import RollbackSteps
from bluegreen.testing._lifecycle_traffic import TrafficSteps
from bluegreen.testing._records import DeploymentRecord, EventRecord
from bluegreen.testing._wire import ApiError

__all__ = ["Lifecycle"]

_INVALID_APPSPEC = (
    "The deployment failed because the AppSpec file that specifies the deployment "
    "configuration is missing or has an invalid configuration. "
)
_NOT_WELL_FORMED = (
    "The input AppSpec file is a not well-formed yaml. The template cannot be parsed."
)


class Lifecycle(InstallSteps, HookSteps, TrafficSteps, RollbackSteps):
    """Runs deployments through their lifecycle on the simulator's clock."""

    # -- start ------------------------------------------------------------------------

    def begin(self, record: DeploymentRecord) -> None:
        record.events = self._event_list(record)
        record.target_updated = self.now
        self._later(record, self.settings.start_delay, lambda: self._start(record))

    def _event_list(self, record: DeploymentRecord) -> list[EventRecord]:
        events = list(LifecycleEvent)
        if (
            not record.has_test_listener
            and self.settings.test_events_without_test_listener == "omit"
        ):
            events = [e for e in events if not e.uses_test_listener]
        return [EventRecord(e) for e in events]

    def _start(self, record: DeploymentRecord) -> None:
        record.start_time = self.now
        record.target_status = "InProgress"
        self._set_status(record, DeploymentStatus.IN_PROGRESS)
        if record.rollback_of is not None:
            self._run_rollback(record)
            return
        if self._not_code_deploy(record):
            return
        from bluegreen.appspec import AppSpec  # the AppSpec parser only once one is deployed

        try:
            record.appspec = AppSpec.parse(record.extras["content"])
        except AppSpecError as exc:
            unparseable = any(p.startswith("not well-formed") for p in exc.problems)
            self._fail(
                record,
                E.BEFORE_INSTALL,
                code="INVALID_REVISION",
                message=_INVALID_APPSPEC
                + (_NOT_WELL_FORMED if unparseable else "; ".join(exc.problems)),
                trigger=None,
            )
            return
        self._run_event(record, E.BEFORE_INSTALL)

    def _not_code_deploy(self, record: DeploymentRecord) -> bool:
        """[I] Fail at once when the service no longer uses the CODE_DEPLOY controller (its
        controller was updated to ECS); True if so (docs/simulator.md)."""
        svc = self.sim.moto.service(record.cluster, record.service)
        controller = (svc.deployment_controller or {}).get("type") if svc is not None else None
        if svc is None or controller == "CODE_DEPLOY":
            return False
        self._fail(
            record,
            None,
            code=self.settings.not_code_deploy_error_code,
            message=f"The ECS service {record.cluster}/{record.service} uses the "
            f"{controller or 'ECS'} deployment controller, not CODE_DEPLOY, so CodeDeploy cannot "
            "deploy it. Deploy it with UpdateService, or update its deployment controller to "
            "CODE_DEPLOY first.",
            trigger=None,
        )
        return True

    # -- the order of events ----------------------------------------------------------

    def _run_event(self, record: DeploymentRecord, name: E) -> None:
        if name.uses_test_listener and not record.has_test_listener:
            self._mark(record, name, S.SKIPPED)
            self._event_done(record, name)
            return
        # Alarms are checked at every step from Install on (Install checks its own), so one
        # that fired during a hook or the ready wait stops the deployment before any shift.
        if record.rollback_of is None and name > E.INSTALL and self._alarm_fired(record, name):
            return
        self._mark(record, name, S.IN_PROGRESS)
        if record.rollback_of is not None and not name.accepts_hook:
            self._rollback_event(record, name)
        elif name is E.INSTALL:
            self._install(record)
        elif name is E.ALLOW_TEST_TRAFFIC:
            self._allow_test_traffic(record)
        elif name is E.ALLOW_TRAFFIC:
            self._allow_traffic(record)
        else:
            function = record.appspec.hook_for(name) if record.appspec else None
            if function is None:
                self._later(
                    record, self.settings.event_seconds, lambda: self._succeed(record, name)
                )
            else:
                self._invoke_hook(record, name, function)

    def _event_done(self, record: DeploymentRecord, name: E) -> None:
        if (
            record.rollback_of is None
            and (
                name is E.AFTER_ALLOW_TEST_TRAFFIC
                or (name is E.AFTER_INSTALL and record.event(E.ALLOW_TEST_TRAFFIC) is None)
            )
            and self._wait_for_promotion(record)
        ):
            return
        following = self._next_event(record, name)
        if following is None and record.rollback_of is not None:
            self._finish_rollback(record)
        elif following is None:
            self._all_events_succeeded(record)
        else:
            self._run_event(record, following)

    # -- StopDeployment and ContinueDeployment ---------------------------------------

    def stop(self, record: DeploymentRecord, *, rollback: bool) -> None:
        if record.status.is_terminal:
            raise ApiError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {record.id} has already completed",
            )
        if record.phase == "terminating":
            raise ApiError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {record.id} can no longer be stopped: the original task set "
                "is being terminated",
            )
        event = self._current_event(record)
        self._fail(
            record,
            event,
            code="MANUAL_STOP",
            message="The deployment was stopped by a StopDeployment request.",
            trigger=None,
            status=DeploymentStatus.STOPPED,
        )
        if rollback and record.rollback_of is None and record.green_arn is not None:
            self._start_rollback(record)

    def continue_(self, record: DeploymentRecord, wait_type: str) -> None:
        if record.status.is_terminal:
            raise ApiError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {record.id} has already completed",
            )
        if wait_type == "READY_WAIT":
            if record.status is not DeploymentStatus.READY:
                raise ApiError(
                    "DeploymentIsNotInReadyStateException",
                    f"The deployment {record.id} does not have a status of Ready and can't "
                    "continue yet",
                )
            record.generation += 1
            record.phase = "shifting"
            record.target_status = "InProgress"
            self._set_status(record, DeploymentStatus.IN_PROGRESS)
            self._run_event(record, E.BEFORE_ALLOW_TRAFFIC)
            return
        if record.phase != "termination_wait":
            raise ApiError(
                "InvalidDeploymentStatusException",
                f"The deployment {record.id} is not waiting to terminate the original task set",
            )
        record.generation += 1
        self._terminate_blue(record)

    # -- alarms -----------------------------------------------------------------------

    def watch_alarms(self) -> None:
        """CodeDeploy's alarm check between steps: run after the simulated CloudWatch has
        evaluated its alarms (every minute), it stops each deployment whose alarms fired
        while it runs (in an event from Install on, the ready wait or the termination wait)."""
        for record in list(self.sim.store.deployments.values()):
            if record.status.is_terminal or record.rollback_of is not None:
                continue
            event = self._current_event(record)
            if event is None and record.phase not in ("ready", "termination_wait"):
                continue
            if event is not None and event < E.INSTALL:
                continue
            self._alarm_fired(record, event)

    # -- scaling ----------------------------------------------------------------------

    def scaling_event(self, cluster: str, service: str) -> None:
        """A scaling activity changed the service: the deployment in flight has
        ``scaling_settle_limit`` seconds to see every task set steady again (contract 7.1)."""
        for record in list(self.sim.store.deployments.values()):
            if (record.cluster, record.service) != (cluster, service):
                continue
            if record.status.is_terminal or record.green_arn is None:
                continue

            def check(record: DeploymentRecord = record) -> None:
                svc = self.sim.moto.service(record.cluster, record.service)
                if svc is None:
                    return
                if all(
                    self.sim.moto.is_steady(ts) for ts in svc.task_sets if ts.status != "DRAINING"
                ):
                    return
                self._fail(
                    record,
                    self._current_event(record),
                    code="ECS_UPDATE_ERROR",
                    message="The ECS service did not reach steady state within "
                    f"{self.settings.scaling_settle_limit:g} seconds of a scaling event.",
                    trigger="DEPLOYMENT_FAILURE",
                )

            self._later(record, self.settings.scaling_settle_limit, check)
