"""``ReleaseWorkflow``: a whole release of a manifest, wave after wave, on Temporal.

Each wave starts a child ``ServiceWorkflow`` per service, at most the wave's concurrency at
once, and bakes (a durable timer) before the next wave. The first service that fails, or an
``abort`` Update, stops the release: no more services start, every child in flight is told
to stop its deployment (with rollback) and followed to its end, and with ``on_failure:
rollback`` the services this release already released are rolled back. ``status`` (a Query)
answers at any time, even after the end; ``promote`` (an Update) promotes a service's
deployment waiting in Ready.

The workflow id is the release id, so a release runs once (``bluegreen.temporal.client``).
A release that did not succeed fails the workflow with a ``ReleaseFailed`` error whose
details hold the ``ReleaseResult``.

Workflow code: deterministic, no AWS call, no clock, no file; everything through activities
and children.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from bluegreen.temporal.data import (
        DeploymentInput,
        FollowInput,
        FollowResult,
        PlanInput,
        ReleaseInput,
        ReleaseResult,
        ServiceJob,
        ServiceOutcome,
        ServiceRef,
        ServiceState,
        ServiceStepInput,
        WaveInput,
    )
    from bluegreen.temporal.policies import follow_options, step_options
    from bluegreen.temporal.queues import activity_queue
    from bluegreen.temporal.service_workflow import CANCELLED, ServiceWorkflow, failure_reason

__all__ = ["FAILED_TYPE", "ReleaseWorkflow", "ServiceWorkflow"]

FAILED_TYPE = "ReleaseFailed"
"""The ``ApplicationError`` type of a release that did not succeed."""

_ENDED = frozenset(
    {"succeeded", "failed", "stopped", "rolling_back", "rolled_back", "rollback_failed"}
)


@workflow.defn(name="bluegreen.ReleaseWorkflow")
class ReleaseWorkflow:
    """The release of a manifest: waves in order, services as child workflows."""

    def __init__(self) -> None:
        self._release: ReleaseInput | None = None
        self._states: dict[str, ServiceState] = {}
        self._refs: dict[str, ServiceRef] = {}
        self._phase = "starting"
        self._abort: str | None = None
        self._failure: str | None = None
        self._ended = False

    # -- queries, signals, updates -------------------------------------------------------

    @workflow.query
    def status(self) -> dict[str, Any]:
        """The release's phase and every service's state (wave, phase, deployment id)."""
        release = self._release
        return {
            "release": release.release_id if release else None,
            "phase": self._phase,
            "reason": self._abort or self._failure,
            "services": [dataclasses.asdict(state) for state in self._states.values()],
        }

    @workflow.signal
    def service_update(self, state: ServiceState) -> None:
        """A child's report of its service's new phase."""
        known = self._states.get(state.name)
        if known is not None and known.phase in _ENDED and state.phase not in _ENDED:
            return  # a late report of an earlier phase
        self._states[state.name] = state
        if state.phase == "failing" and self._failure is None and self._abort is None:
            # Its deployment failed (its rollback runs): stop the others now, not at its end.
            self._failure = f"{state.name}: {state.reason or 'failed'}"

    @workflow.update
    async def abort(self, reason: str) -> list[str]:
        """Stop the release: every deployment in flight is stopped and rolled back, no other
        service starts, and with ``on_failure: rollback`` the released ones are rolled back.
        Returns the services whose deployments are being stopped."""
        if self._abort is None and self._failure is None:
            self._abort = reason or "aborted"
        return [s.name for s in self._states.values() if s.phase in ("starting", "deploying")]

    @abort.validator
    def _check_abort(self, reason: str) -> None:
        if self._ended:
            raise ValueError(f"the release has ended ({self._phase}): nothing to abort")

    @workflow.update
    async def promote(self, service: str) -> str:
        """Promote ``service``'s deployment waiting in Ready (start shifting production
        traffic); returns what was done. Fails when it is not Ready."""
        state = self._states[service]
        ref = self._refs[service]
        assert self._release is not None
        assert state.deployment_id is not None
        try:
            result: str = await workflow.execute_activity(
                "bluegreen.promote",
                DeploymentInput(state.deployment_id, ref.region, ref.role),
                result_type=str,
                **step_options(self._release.options, self._queue(ref)),
            )
        except ActivityError as error:
            raise ApplicationError(failure_reason(error), type="PromoteRefused") from None
        return result

    @promote.validator
    def _check_promote(self, service: str) -> None:
        state = self._states.get(service)
        if state is None:
            known = ", ".join(self._states) or "none"
            raise ValueError(f"the release has no service {service!r} (its services: {known})")
        if state.deployment_id is None or state.phase != "deploying":
            raise ValueError(
                f"{service} has no deployment in flight to promote (it is {state.phase})"
            )

    # -- the release -----------------------------------------------------------------------

    @workflow.run
    async def run(self, release: ReleaseInput) -> ReleaseResult:
        self._release = release
        for wave in release.waves:
            for ref in wave.services:
                self._refs[ref.name] = ref
                self._states[ref.name] = ServiceState(ref.name, wave.name)
        self._phase = "planning"
        await self._plan(release)
        for index, wave in enumerate(release.waves):
            if self._stopping:
                break
            self._phase = f"wave {wave.name}"
            await self._run_wave(release, wave)
            if index + 1 < len(release.waves) and wave.bake > 0 and not self._stopping:
                self._phase = f"baking after wave {wave.name}"
                await self._bake(wave.bake)
        if self._stopping and release.on_failure == "rollback":
            self._phase = "rolling back"
            await self._roll_back(release)
        return self._finish(release)

    async def _plan(self, release: ReleaseInput) -> None:
        """Plan every service not deployed yet, on its own queue, before any change; every
        problem of every queue fails the release at once."""
        by_queue: dict[str, list[str]] = {}
        for ref in self._refs.values():
            by_queue.setdefault(self._queue(ref), []).append(ref.name)
        plans = [
            workflow.execute_activity(
                "bluegreen.plan",
                PlanInput(release.release_id, names, release.manifest_text, release.manifest_path),
                result_type=int,
                **step_options(release.options, queue),
            )
            for queue, names in by_queue.items()
        ]
        try:
            outcomes = await asyncio.gather(*plans, return_exceptions=True)
        except asyncio.CancelledError:
            self._abort = self._abort or CANCELLED
            return
        problems = [failure_reason(o) for o in outcomes if isinstance(o, BaseException)]
        if problems:
            self._failure = "planning found problems; nothing was changed: " + "; ".join(problems)

    @property
    def _stopping(self) -> bool:
        return self._abort is not None or self._failure is not None

    async def _bake(self, seconds: float) -> None:
        try:
            await workflow.wait_condition(lambda: self._stopping, timeout=seconds)
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            self._abort = self._abort or CANCELLED

    async def _run_wave(self, release: ReleaseInput, wave: WaveInput) -> None:
        waiting = list(wave.services)
        running: dict[str, Any] = {}
        told = False
        width = wave.concurrency or len(wave.services)
        while waiting or running:
            # Every free slot's child is started at once (one round trip for all of them, not
            # one each): a wave's deployments start together, as in-process.
            starting: list[ServiceRef] = []
            while waiting and len(running) + len(starting) < width and not self._stopping:
                starting.append(waiting.pop(0))
            handles = await asyncio.gather(
                *(self._start_child(release, wave, ref) for ref in starting)
            )
            running.update(
                (ref.name, handle) for ref, handle in zip(starting, handles, strict=True)
            )
            if not running:
                break
            try:
                await workflow.wait_condition(functools.partial(self._moved, running, told))
            except asyncio.CancelledError:
                self._abort = self._abort or CANCELLED
            if self._stopping and not told:
                told = True
                for handle in running.values():
                    await self._tell_abort(handle)
            for name in [n for n, h in running.items() if h.done()]:
                self._ended_child(name, running.pop(name))

    def _moved(self, running: dict[str, Any], told: bool) -> bool:
        """A child ended, or the release must stop and the children were not told yet."""
        return any(h.done() for h in running.values()) or (self._stopping and not told)

    async def _tell_abort(self, handle: Any) -> None:
        if handle.done():
            return
        try:
            await handle.signal(ServiceWorkflow.abort, self._abort or self._failure)
        except Exception as error:  # it ended meanwhile: its outcome says how
            workflow.logger.info("could not tell %s to stop: %s", handle.id, error)

    async def _start_child(self, release: ReleaseInput, wave: WaveInput, ref: ServiceRef) -> Any:
        job = ServiceJob(
            release.release_id,
            wave.name,
            ref,
            release.manifest_text,
            release.manifest_path,
            self._queue(ref),
            release.options,
        )
        self._states[ref.name].phase = "starting"
        return await workflow.start_child_workflow(
            ServiceWorkflow.run,
            job,
            id=f"{release.release_id}/{ref.name}",
            parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        )

    def _ended_child(self, name: str, handle: Any) -> None:
        state = self._states[name]
        try:
            outcome: ServiceOutcome = handle.result()
        except Exception as error:  # the child workflow itself failed: a bug, or terminated
            outcome = ServiceOutcome(name, "failed", state.deployment_id, failure_reason(error))
        state.phase = outcome.phase
        state.reason = outcome.reason
        state.deployment_id = outcome.deployment_id or state.deployment_id
        if outcome.phase != "succeeded" and self._failure is None and self._abort is None:
            self._failure = f"{name}: {outcome.reason or outcome.phase}"

    async def _roll_back(self, release: ReleaseInput) -> None:
        released = [s for s in self._states.values() if s.phase == "succeeded" and s.deployment_id]
        if released:
            await asyncio.gather(*(self._roll_back_one(release, s) for s in released))

    async def _roll_back_one(self, release: ReleaseInput, state: ServiceState) -> None:
        ref = self._refs[state.name]
        queue = self._queue(ref)
        step = ServiceStepInput(
            release.release_id,
            state.wave,
            state.name,
            release.manifest_text,
            release.manifest_path,
            deployment_id=state.deployment_id,
        )
        state.phase = "rolling_back"
        try:
            rollback_id: str = await workflow.execute_activity(
                "bluegreen.roll_back",
                step,
                result_type=str,
                **step_options(release.options, queue),
            )
            state.rollback_deployment_id = rollback_id
            await workflow.execute_activity(
                "bluegreen.follow",
                FollowInput(step, rollback_id, rollback=True),
                result_type=FollowResult,
                **follow_options(release.options, queue, ref.timeout),
            )
        except ActivityError as error:
            state.phase = "rollback_failed"
            state.reason = failure_reason(error)
            return
        state.phase = "rolled_back"

    def _finish(self, release: ReleaseInput) -> ReleaseResult:
        self._ended = True
        outcome = "aborted" if self._abort else "failed" if self._failure else "succeeded"
        self._phase = outcome
        result = ReleaseResult(
            release.release_id, outcome, list(self._states.values()), self._abort or self._failure
        )
        if outcome == "succeeded":
            return result
        raise ApplicationError(
            f"release {release.release_id} {outcome}: {result.reason}",
            result,
            type=FAILED_TYPE,
            non_retryable=True,
        )

    def _queue(self, ref: ServiceRef) -> str:
        assert self._release is not None
        return activity_queue(ref.region, ref.role, prefix=self._release.options.queue_prefix)
