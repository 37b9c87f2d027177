"""``ServiceWorkflow``: one service of a release, as a child of the ``ReleaseWorkflow``.

Start (or re-attach to) the service's deployment, then follow it to its end; an ``abort``
signal, or a cancellation of the workflow, stops it (with rollback) and still follows it to
its end, because the end is where the library restores the scaling it suspended and removes
its alarm net. Every change of phase is signalled to the parent, which answers ``status``.

Workflow code: deterministic, no AWS call, no clock, no file; everything through activities
(named by string, so this module never imports the activities' dependencies).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from bluegreen.temporal.data import (
        DeploymentInput,
        FollowInput,
        FollowResult,
        ServiceJob,
        ServiceOutcome,
        ServiceState,
        ServiceStepInput,
    )
    from bluegreen.temporal.policies import follow_options, step_options

__all__ = ["ServiceWorkflow", "failure_reason"]

CANCELLED = "the release workflow was cancelled"


def failure_reason(error: BaseException) -> str:
    """The message of what failed inside an ``ActivityError`` or ``ChildWorkflowError``
    (bluegreen's own message), rather than Temporal's wrapping of it."""
    cause: BaseException | None = error
    while cause is not None and getattr(cause, "cause", None) is not None:
        cause = cause.cause  # type: ignore[attr-defined]
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause if cause is not None else error)


@workflow.defn(name="bluegreen.ServiceWorkflow")
class ServiceWorkflow:
    """Release one service: start, follow to the end, stop when told."""

    def __init__(self) -> None:
        self._abort: str | None = None
        self._state: ServiceState | None = None

    @workflow.signal
    def abort(self, reason: str) -> None:
        """Stop the service's deployment (with rollback), then end as ``stopped``."""
        if self._abort is None:
            self._abort = reason or "aborted"

    @workflow.query
    def status(self) -> ServiceState | None:
        """The service's state now."""
        return self._state

    @workflow.run
    async def run(self, job: ServiceJob) -> ServiceOutcome:
        self._state = ServiceState(job.service.name, job.wave)
        step = ServiceStepInput(
            job.release_id, job.wave, job.service.name, job.manifest_text, job.manifest_path
        )
        await self._report("starting")
        started = workflow.start_activity(
            "bluegreen.start",
            step,
            result_type=str,
            **step_options(job.options, job.task_queue),
        )
        try:
            deployment_id = await self._until_done(started)
        except ActivityError as error:
            return await self._end("failed", failure_reason(error))
        self._state.deployment_id = deployment_id
        await self._report("deploying")
        return await self._follow(job, step, deployment_id)

    async def _follow(
        self, job: ServiceJob, step: ServiceStepInput, deployment_id: str
    ) -> ServiceOutcome:
        following = self._following(job, step, deployment_id, until_failure=True)
        stop_sent = False
        while not following.done():
            # Until the stop is sent, an abort wakes this up too; afterwards only the end.
            await self._wait(functools.partial(self._follow_moved, following, stop_sent))
            if self._abort is not None and not stop_sent and not following.done():
                stop_sent = True
                await self._report("stopping", self._abort)
                await self._stop(job, deployment_id)
        try:
            result: FollowResult = await following
        except ActivityError as error:
            if stop_sent:
                return await self._end("stopped", self._abort)
            return await self._end("failed", failure_reason(error))
        if result.failed:
            return await self._fail(job, step, deployment_id, result, stopped=stop_sent)
        if stop_sent:  # it ended before the stop reached it
            return await self._end("succeeded", f"ended before it could be stopped ({self._abort})")
        return await self._end("succeeded")

    def _following(
        self, job: ServiceJob, step: ServiceStepInput, deployment_id: str, *, until_failure: bool
    ) -> Any:
        return workflow.start_activity(
            "bluegreen.follow",
            FollowInput(step, deployment_id, until_failure=until_failure),
            result_type=FollowResult,
            **follow_options(job.options, job.task_queue, job.service.timeout),
        )

    async def _fail(
        self,
        job: ServiceJob,
        step: ServiceStepInput,
        deployment_id: str,
        result: FollowResult,
        *,
        stopped: bool,
    ) -> ServiceOutcome:
        """The deployment failed (or was stopped): tell the release at once (``failing``: it
        stops the others), then follow it to its end, after CodeDeploy's rollback, where the
        library restores scaling and removes the net."""
        if not stopped:
            await self._report("failing", result.reason)
        ending = self._following(job, step, deployment_id, until_failure=False)
        try:
            await self._until_done(ending)
        except ActivityError as error:
            if stopped:
                return await self._end("stopped", self._abort)
            return await self._end("failed", failure_reason(error))
        # The end said no more than the failure did (a rollback that ended without error).
        return await self._end("stopped" if stopped else "failed", self._abort or result.reason)

    def _follow_moved(self, following: Any, stop_sent: bool) -> bool:
        return bool(following.done()) or (self._abort is not None and not stop_sent)

    async def _stop(self, job: ServiceJob, deployment_id: str) -> None:
        stopping = workflow.start_activity(
            "bluegreen.stop",
            DeploymentInput(
                deployment_id, job.service.region, job.service.role, reason=self._abort
            ),
            result_type=bool,
            **step_options(job.options, job.task_queue),
        )
        try:
            await self._until_done(stopping)
        except ActivityError as error:
            # Following goes on: the deployment ends by itself (or by its own rollback), and
            # the release reports what stopping it said.
            workflow.logger.warning("could not stop %s: %s", deployment_id, failure_reason(error))

    async def _wait(self, condition: Any) -> None:
        """``wait_condition`` that turns a cancellation into an abort: the deployment must
        still be stopped and followed to its end."""
        try:
            await workflow.wait_condition(condition)
        except asyncio.CancelledError:
            if self._abort is None:
                self._abort = CANCELLED

    async def _until_done(self, handle: Any) -> Any:
        """The activity's result, waited for without letting a cancellation of this
        workflow cancel it (an abandoned ``start`` would leave its deployment unfollowed)."""
        while not handle.done():
            await self._wait(handle.done)
        return await handle

    async def _end(self, phase: str, reason: str | None = None) -> ServiceOutcome:
        await self._report(phase, reason)
        assert self._state is not None
        return ServiceOutcome(self._state.name, phase, self._state.deployment_id, reason)

    async def _report(self, phase: str, reason: str | None = None) -> None:
        """Record the phase and tell the parent release (if any)."""
        assert self._state is not None
        self._state.phase = phase
        self._state.reason = reason
        parent = workflow.info().parent
        if parent is None:
            return
        handle = workflow.get_external_workflow_handle(parent.workflow_id, run_id=parent.run_id)
        try:
            await handle.signal("service_update", self._state)
        except asyncio.CancelledError:
            if self._abort is None:
                self._abort = CANCELLED
        except Exception as error:  # the parent has ended: nobody to tell
            workflow.logger.info("could not tell the release: %s", error)
