"""The lifecycle of a simulated ECS blue/green deployment (contract section 2 and Appendix A).

Each step is a callback on the simulator's clock. A step first checks that the deployment
is still in the generation it was scheduled for, so a stop or a failure cancels every step
still queued. Changes to ECS and ELBv2 go through ``MotoState``, as CodeDeploy's service role
would make them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bluegreen.errors import AppSpecError
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus
from bluegreen.testing._codedeploy import (
    DeploymentRecord,
    EventRecord,
    HookExecution,
    new_execution_id,
)
from bluegreen.testing._wire import ApiError
from bluegreen.traffic import PREDEFINED_CONFIGS

if TYPE_CHECKING:
    from bluegreen.testing._simulator import Simulator

__all__ = ["Lifecycle"]

E = LifecycleEvent
S = LifecycleEventStatus

_INVALID_APPSPEC = (
    "The deployment failed because the AppSpec file that specifies the deployment "
    "configuration is missing or has an invalid configuration. "
)
_NOT_WELL_FORMED = (
    "The input AppSpec file is a not well-formed yaml. The template cannot be parsed."
)
_HOOK_FAILED = (
    "The deployment failed because one or more of the lifecycle event hooks failed: the "
    "{event} hook ({function}) reported Failed."
)
_HOOK_TIMED_OUT = (
    "The deployment failed because the {event} hook ({function}) did not report a status "
    "within {seconds:g} seconds."
)


class Lifecycle:
    """Runs deployments through their lifecycle on the simulator's clock."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def settings(self) -> Any:
        return self.sim.settings

    @property
    def now(self) -> float:
        return self.sim.clock.time()

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
        self.sim.codedeploy.status_changed(record)

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
        from bluegreen.appspec import AppSpec

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

    def _succeed(self, record: DeploymentRecord, name: E) -> None:
        self._mark(record, name, S.SUCCEEDED)
        self._event_done(record, name)

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
        if following is None:
            self._all_events_succeeded(record)
        else:
            self._run_event(record, following)

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

    # -- Install ----------------------------------------------------------------------

    def _install(self, record: DeploymentRecord) -> None:
        if self._alarm_fired(record, E.INSTALL):
            return
        moto = self.sim.moto
        svc = moto.service(record.cluster, record.service)
        spec = record.appspec
        assert spec is not None
        if svc is None:
            self._fail(
                record,
                E.INSTALL,
                code="INVALID_ECS_SERVICE",
                message=f"The ECS service {record.cluster}/{record.service} does not exist.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        problem = self._task_definition_problem(spec)
        if problem:
            self._fail(
                record,
                E.INSTALL,
                code="ECS_UPDATE_ERROR",
                message="The ECS service cannot be updated due to an unexpected error: "
                f"{problem}. Check your ECS service status.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        blue = next((ts for ts in svc.task_sets if ts.status == "PRIMARY"), None)
        if blue is None:
            self._fail(
                record,
                E.INSTALL,
                code="ECS_UPDATE_ERROR",
                message="The ECS service has no PRIMARY task set to deploy against.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        names = [tg["name"] for tg in _pair(record)["targetGroups"]]
        groups = moto.target_groups_by_name(names)
        blue_tg = (blue.load_balancers or [{}])[0].get("targetGroupArn")
        arns = [groups[n].arn for n in names if n in groups]
        green_tg = next((a for a in arns if a != blue_tg), None)
        if blue_tg not in arns or green_tg is None:
            self._fail(
                record,
                E.INSTALL,
                code="ELASTIC_LOAD_BALANCING_INVALID",
                message="A deployment group associated with an application that uses the ECS "
                "compute platform must contain a valid pair of target groups that identify a "
                "load balancer, and the service's target group must be one of them.",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        network = (
            {
                "awsvpcConfiguration": {
                    "subnets": list(spec.network_configuration.subnets),
                    "securityGroups": list(spec.network_configuration.security_groups),
                    "assignPublicIp": spec.network_configuration.assign_public_ip,
                }
            }
            if spec.network_configuration
            else blue.network_configuration
        )
        strategy = (
            [
                {"capacityProvider": i.capacity_provider, "base": i.base, "weight": i.weight}
                for i in spec.capacity_provider_strategy
            ]
            if spec.capacity_provider_strategy
            else None
        )
        green = moto.create_task_set(
            svc,
            task_definition=self.sim.moto.task_definition(spec.task_definition)[
                "taskDefinitionArn"
            ],  # type: ignore[index]
            load_balancer={
                "targetGroupArn": green_tg,
                "containerName": spec.container_name,
                "containerPort": spec.container_port,
            },
            external_id=record.id,
            started_by="CODE_DEPLOY",
            network_configuration=network,
            platform_version=spec.platform_version or blue.platform_version,
            launch_type=blue.launch_type,
            capacity_provider_strategy=strategy,
        )
        record.blue_arn, record.green_arn = blue.task_set_arn, green.task_set_arn
        record.blue_tg, record.green_tg = blue_tg, green_tg
        self.sim.start_tasks(green)
        record.extras["install_deadline"] = self.now + self.settings.install_timeout
        self._later(record, self.settings.event_seconds, lambda: self._check_installed(record))

    def _task_definition_problem(self, spec: Any) -> str | None:
        td = self.sim.moto.task_definition(spec.task_definition)
        if td is None:
            return f"Unable to describe task definition {spec.task_definition}"
        container = next(
            (c for c in td["containerDefinitions"] if c.get("name") == spec.container_name), None
        )
        if container is None:
            return "The container does not exist in the task definition."
        ports = [m.get("containerPort") for m in container.get("portMappings") or ()]
        if spec.container_port not in ports:
            return (
                f"The container {spec.container_name} did not have a container port "
                f"{spec.container_port} defined"
            )
        return None

    def _green(self, record: DeploymentRecord) -> Any | None:
        svc = self.sim.moto.service(record.cluster, record.service)
        return None if svc is None else self.sim.moto.find_task_set(svc, record.green_arn or "")

    def _blue(self, record: DeploymentRecord) -> Any | None:
        svc = self.sim.moto.service(record.cluster, record.service)
        return None if svc is None else self.sim.moto.find_task_set(svc, record.blue_arn or "")

    def _check_installed(self, record: DeploymentRecord) -> None:
        if self._alarm_fired(record, E.INSTALL):
            return
        green = self._green(record)
        if green is not None and self.sim.moto.is_steady(green):
            self._succeed(record, E.INSTALL)
            return
        if self.now >= record.extras["install_deadline"]:
            self._fail(
                record,
                E.INSTALL,
                code=self.settings.install_timeout_error_code,
                message="The deployment timed out while waiting for the replacement task set "
                f"to reach steady state ({self.settings.install_timeout:g} s).",
                trigger="DEPLOYMENT_FAILURE",
            )
            return
        wait = min(self.settings.poll_seconds, record.extras["install_deadline"] - self.now)
        self._later(record, wait, lambda: self._check_installed(record))

    # -- test traffic and the ready wait ----------------------------------------------

    def _allow_test_traffic(self, record: DeploymentRecord) -> None:
        assert record.test_listener
        assert record.green_tg
        assert record.blue_tg
        self.sim.moto.set_listener_weights(
            record.test_listener, [(record.green_tg, 100), (record.blue_tg, 0)]
        )
        self._later(
            record, self.settings.event_seconds, lambda: self._succeed(record, E.ALLOW_TEST_TRAFFIC)
        )

    def _wait_for_promotion(self, record: DeploymentRecord) -> bool:
        ready = record.group_info["blueGreenDeploymentConfiguration"]["deploymentReadyOption"]
        if ready.get("actionOnTimeout") != "STOP_DEPLOYMENT":
            return False
        record.phase = "ready"
        self._set_status(record, DeploymentStatus.READY)
        record.target_status = "Ready"
        minutes = float(ready.get("waitTimeInMinutes") or 0)
        self._later(record, minutes * 60, lambda: self._ready_expired(record))
        return True

    def _ready_expired(self, record: DeploymentRecord) -> None:
        if record.phase != "ready":
            return
        trigger = "DEPLOYMENT_STOP_ON_REQUEST" if self.settings.ready_timeout_rolls_back else None
        self._fail(
            record,
            E.BEFORE_ALLOW_TRAFFIC,
            code="TIMEOUT",
            message="The deployment was stopped because the wait for traffic to be rerouted "
            "(waitTimeInMinutes) ran out before ContinueDeployment was called.",
            trigger=trigger,
            status=DeploymentStatus.STOPPED,
            mark_event=False,
        )

    # -- production traffic -----------------------------------------------------------

    def _allow_traffic(self, record: DeploymentRecord) -> None:
        if self.settings.primary_switch == "before_allow_traffic":
            self._make_green_primary(record)
        steps = record.config.steps()
        start = self.now
        record.extras["shift_started"] = start
        for index, step in enumerate(steps):
            last = index == len(steps) - 1

            def shift(percent: int = step.green_percent, last: bool = last) -> None:
                if self._alarm_fired(record, E.ALLOW_TRAFFIC):
                    return
                self._set_production(record, percent)
                if last:
                    self._later(
                        record, self.settings.event_seconds, lambda: self._traffic_shifted(record)
                    )

            self._later(record, step.minute * 60.0, shift)

    def _set_production(self, record: DeploymentRecord, green_percent: int) -> None:
        assert record.production_listener
        assert record.green_tg
        assert record.blue_tg
        self.sim.moto.set_listener_weights(
            record.production_listener,
            [(record.green_tg, green_percent), (record.blue_tg, 100 - green_percent)],
        )
        record.extras.setdefault("weights", []).append((self.now, green_percent))

    def _traffic_shifted(self, record: DeploymentRecord) -> None:
        if self.settings.primary_switch == "after_allow_traffic":
            self._make_green_primary(record)
        self._succeed(record, E.ALLOW_TRAFFIC)

    def _make_green_primary(self, record: DeploymentRecord) -> None:
        svc = self.sim.moto.service(record.cluster, record.service)
        green = self._green(record)
        if svc is not None and green is not None:
            self.sim.moto.set_primary(svc, green)

    # -- after all events: termination wait and clean-up -------------------------------

    def _all_events_succeeded(self, record: DeploymentRecord) -> None:
        if record.rollback_of is not None:
            self._finish_rollback(record)
            return
        record.target_status = "Succeeded"
        record.target_updated = self.now
        record.phase = "termination_wait"
        record.termination_wait_started = True
        minutes = record.group_info["blueGreenDeploymentConfiguration"][
            "terminateBlueInstancesOnDeploymentSuccess"
        ].get("terminationWaitTimeInMinutes", 0)
        record.extras["termination_at"] = self.now + minutes * 60.0
        self._watch_termination_wait(record)

    def _watch_termination_wait(self, record: DeploymentRecord) -> None:
        if record.phase != "termination_wait":
            return
        if self._alarm_fired(record, None):
            return
        remaining = record.extras["termination_at"] - self.now
        if remaining <= 0:
            self._terminate_blue(record)
            return
        self._later(
            record,
            min(remaining, self.settings.poll_seconds * 4),
            lambda: self._watch_termination_wait(record),
        )

    def _terminate_blue(self, record: DeploymentRecord) -> None:
        record.phase = "terminating"
        blue = self._blue(record)
        if blue is not None:
            self.sim.drain(blue)
        self._later(record, self.settings.drain_seconds, lambda: self._finish_success(record))

    def _finish_success(self, record: DeploymentRecord) -> None:
        blue = self._blue(record)
        if blue is not None:
            self.sim.moto.delete_task_set(blue)
        record.phase = "done"
        self._set_status(record, DeploymentStatus.SUCCEEDED)

    # -- hooks ------------------------------------------------------------------------

    def _invoke_hook(self, record: DeploymentRecord, name: E, function: str) -> None:
        execution = HookExecution(
            id=new_execution_id(), deployment_id=record.id, event=name, function=function
        )
        self.sim.codedeploy.executions[execution.id] = execution
        record.extras.setdefault("executions", []).append(execution.id)
        registered = self.sim.hook(function)
        if registered is None:
            self._fail(
                record,
                name,
                code="INVALID_LAMBDA_FUNCTION",
                message=f"The Lambda function {function} specified in the AppSpec file for "
                f"{name} does not exist or CodeDeploy cannot invoke it.",
                trigger="DEPLOYMENT_FAILURE",
                diagnostics={
                    "error_code": "UnknownError",
                    "script_name": function,
                    "message": f"ResourceNotFoundException: Function not found: {function}",
                },
            )
            return
        timeout = self.settings.hook_timeout
        self._later(record, timeout, lambda: self._hook_timed_out(record, execution))
        self.sim.invoke_hook(registered, record.id, execution)

    def hook_crashed(self, execution: HookExecution, error: BaseException) -> None:
        """A hook raised before reporting: like Lambda, nothing reports; keep its log."""
        execution.log_tail = "".join(traceback.format_exception(error))[-4096:]

    def hook_reported(self, record: DeploymentRecord, execution: HookExecution) -> None:
        event = record.event(execution.event)
        if event is None or event.status is not S.IN_PROGRESS:
            return
        if execution.reported == "Succeeded":
            self._succeed(record, execution.event)
            return
        self._fail(
            record,
            execution.event,
            code="HOOK_EXECUTION_FAILURE",
            message=_HOOK_FAILED.format(event=execution.event, function=execution.function),
            trigger="DEPLOYMENT_FAILURE",
            diagnostics={
                "error_code": "ScriptFailed",
                "script_name": execution.function,
                "message": f"The Lambda function {execution.function} reported Failed",
                "log_tail": execution.log_tail,
            },
        )

    def _hook_timed_out(self, record: DeploymentRecord, execution: HookExecution) -> None:
        if execution.reported is not None:
            return
        seconds = self.settings.hook_timeout
        self._fail(
            record,
            execution.event,
            code=self.settings.hook_timeout_error_code,
            message=_HOOK_TIMED_OUT.format(
                event=execution.event, function=execution.function, seconds=seconds
            ),
            trigger="DEPLOYMENT_FAILURE",
            diagnostics={
                "error_code": "ScriptTimedOut",
                "script_name": execution.function,
                "message": f"CodeDeploy was not notified by {execution.function} within "
                f"{seconds:g} seconds",
                "log_tail": execution.log_tail,
            },
        )

    # -- failure, stop, rollback ------------------------------------------------------

    def _current_event(self, record: DeploymentRecord) -> E | None:
        running = [e.name for e in record.events if e.status is S.IN_PROGRESS]
        return running[0] if running else None

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

    def _start_rollback(self, original: DeploymentRecord) -> None:
        from bluegreen.testing._codedeploy import DeploymentRecord as Record

        codedeploy = self.sim.codedeploy
        rollback = Record(
            id=codedeploy._unique_id(),
            application=original.application,
            group=original.group,
            config=PREDEFINED_CONFIGS["CodeDeployDefault.ECSAllAtOnce"],
            group_info=original.group_info,
            cluster=original.cluster,
            service=original.service,
            revision=original.revision,
            create_time=self.now,
            creator="codeDeployRollback",
            auto_rollback={"enabled": False},
            rollback_of=original.id,
            blue_arn=original.blue_arn,
            green_arn=original.green_arn,
            blue_tg=original.blue_tg,
            green_tg=original.green_tg,
            appspec=original.appspec,
        )
        rollback.extras["content"] = original.extras.get("content", "")
        rollback.rollback_info = {
            "rollbackTriggeringDeploymentId": original.id,
            "rollbackMessage": f"Deployment {rollback.id} is triggered to roll back deployment "
            f"{original.id}.",
        }
        original.rollback_info = {
            "rollbackDeploymentId": rollback.id,
            "rollbackMessage": f"Deployment {original.id} terminated. Automatic rollback is "
            f"triggered with a DeploymentId {rollback.id}.",
        }
        codedeploy.deployments[rollback.id] = rollback
        codedeploy._note_attempt(rollback)
        self.begin(rollback)

    def _run_rollback(self, record: DeploymentRecord) -> None:
        """Reroute traffic to the original task set, then drain and delete green.

        With ``settings.rollback_runs_hooks`` the rollback goes through the lifecycle events
        like a deployment of the original task set, invoking the AppSpec's hooks [I].
        """
        if self.settings.rollback_runs_hooks and record.appspec is not None:
            record.phase = "rolling_back"
            self._run_event(record, record.events[0].name)
            return
        self._reroute_to_blue(record, production=True, test=True)
        for event in record.events:
            ran = event.name in (E.INSTALL, E.ALLOW_TRAFFIC) or (
                event.name is E.ALLOW_TEST_TRAFFIC and record.has_test_listener
            )
            event.status = S.SUCCEEDED if ran else S.SKIPPED
            event.start = event.end = self.now
        self._finish_rollback(record)

    def _reroute_to_blue(self, record: DeploymentRecord, *, production: bool, test: bool) -> None:
        """Point the listeners back at blue (100/0); with ``production``, blue is PRIMARY."""
        if not (record.green_arn and record.blue_tg and record.green_tg):
            return
        moto = self.sim.moto
        weights = [(record.blue_tg, 100), (record.green_tg, 0)]
        if test and record.test_listener:
            moto.set_listener_weights(record.test_listener, weights)
        if production:
            if record.production_listener:
                moto.set_listener_weights(record.production_listener, weights)
            svc = moto.service(record.cluster, record.service)
            blue = self._blue(record)
            if svc is not None and blue is not None:
                moto.set_primary(svc, blue)

    def _rollback_event(self, record: DeploymentRecord, name: E) -> None:
        """A non-hook event of a rollback that runs hooks: Install has nothing to create,
        AllowTestTraffic and AllowTraffic point their listener back at blue."""
        self._reroute_to_blue(
            record, production=name is E.ALLOW_TRAFFIC, test=name is E.ALLOW_TEST_TRAFFIC
        )
        self._later(record, self.settings.event_seconds, lambda: self._succeed(record, name))

    def _finish_rollback(self, record: DeploymentRecord) -> None:
        green = self._green(record)
        if green is not None:
            self.sim.drain(green)
        record.phase = "terminating"

        def finish() -> None:
            green = self._green(record)
            if green is not None:
                self.sim.moto.delete_task_set(green)
            record.target_status = "Succeeded"
            record.phase = "done"
            self._set_status(record, DeploymentStatus.SUCCEEDED)

        self._later(record, self.settings.drain_seconds, finish)

    # -- scaling ----------------------------------------------------------------------

    def scaling_event(self, cluster: str, service: str) -> None:
        """A scaling activity changed the service: the deployment in flight has
        ``scaling_settle_limit`` seconds to see every task set steady again (contract 7.1)."""
        for record in list(self.sim.codedeploy.deployments.values()):
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

    # -- the deployment target --------------------------------------------------------

    def target(self, record: DeploymentRecord) -> dict[str, Any]:
        moto = self.sim.moto
        svc = moto.service(record.cluster, record.service)
        task_sets = []
        if svc is not None:
            weights = dict(moto.listener_weights(record.production_listener or ""))
            total = sum(weights.values()) or 1
            for label, arn in (("Blue", record.blue_arn), ("Green", record.green_arn)):
                ts = moto.find_task_set(svc, arn or "")
                if ts is None:
                    continue
                tg = (ts.load_balancers or [{}])[0].get("targetGroupArn", "")
                task_sets.append(
                    {
                        "identifer": ts.id,
                        "desiredCount": int(getattr(ts, "computed_desired_count", 0)),
                        "pendingCount": int(getattr(ts, "pending_count", 0)),
                        "runningCount": int(getattr(ts, "running_count", 0)),
                        "status": ts.status,
                        "trafficWeight": 100.0 * weights.get(tg, 0) / total,
                        "targetGroup": {"name": tg.split("/")[1] if "/" in tg else tg},
                        "taskSetLabel": label,
                    }
                )
        return {
            "deploymentTargetType": "ECSTarget",
            "ecsTarget": {
                "deploymentId": record.id,
                "targetId": f"{record.cluster}:{record.service}",
                "targetArn": svc.arn if svc is not None else "",
                "lastUpdatedAt": record.target_updated or record.create_time,
                "lifecycleEvents": [e.to_api() for e in record.events],
                "status": record.target_status,
                "taskSetsInfo": task_sets,
            },
        }


def _pair(record: DeploymentRecord) -> dict[str, Any]:
    pairs = record.group_info["loadBalancerInfo"]["targetGroupPairInfoList"]
    return dict(pairs[0])
