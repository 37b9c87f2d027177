"""Hook events: invoke the AppSpec's Lambda stand-in, then wait for its report or its
timeout (contract 2.2)."""

from __future__ import annotations

from bluegreen.testing._lifecycle_base import E, Engine, S
from bluegreen.testing._records import DeploymentRecord, HookExecution, new_execution_id

__all__ = ["HookSteps"]

_HOOK_FAILED = (
    "The deployment failed because one or more of the lifecycle event hooks failed: the "
    "{event} hook ({function}) reported Failed."
)
_HOOK_TIMED_OUT = (
    "The deployment failed because the {event} hook ({function}) did not report a status "
    "within {seconds:g} seconds."
)


class HookSteps(Engine):
    """Invoking hooks and hearing from them."""

    def _invoke_hook(self, record: DeploymentRecord, name: E, function: str) -> None:
        execution = HookExecution(
            id=new_execution_id(), deployment_id=record.id, event=name, function=function
        )
        self.sim.store.executions[execution.id] = execution
        record.extras.setdefault("executions", []).append(execution.id)
        registered = self.sim.hooks.get(function)
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
        self.sim.hooks.invoke(registered, record.id, execution)

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
