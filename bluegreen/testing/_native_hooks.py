"""The native lifecycle's shared steps and its hooks: scheduling on the clock, the service's
task counts, and running a stage's lifecycle hooks (AWS_LAMBDA and PAUSE).

A Lambda hook is the callable registered with ``sim.register_hook``; it gets the documented
payload (``docs/simulator.md``, "ECS-native deployments") and returns ``hookStatus``:
SUCCEEDED, FAILED, or IN_PROGRESS with ``callBackDelay`` (30 s by default) and ``hookDetails``
for the next call. A missing or invalid status, an exception or an unknown function fails the
hook. A PAUSE hook waits ``AWAITING_ACTION`` for ContinueServiceDeployment. Either runs out at
its ``timeoutConfiguration`` (1440 minutes by default), then takes its timeout action.
All hooks of a stage run side by side; the stage ends when each has succeeded.
"""

from __future__ import annotations

import functools
import json
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from bluegreen.testing._clock import VirtualClock
from bluegreen.testing._context import SimContext
from bluegreen.testing._hooks import LambdaContext
from bluegreen.testing._native_records import (
    HookRun,
    NativeStore,
    ServiceDeploymentRecord,
    ServiceRevisionRecord,
)
from bluegreen.testing._settings import ACCOUNT_ID

__all__ = ["NativeEngine"]

_DEFAULT_CALLBACK_SECONDS = 30.0
_DEFAULT_TIMEOUT_MINUTES = 1440
_STATUSES = ("SUCCEEDED", "FAILED", "IN_PROGRESS")


class NativeEngine:
    """Shared steps of the native lifecycle, and the hooks."""

    def __init__(self, sim: SimContext, store: NativeStore) -> None:
        self.sim = sim
        self.store = store
        self._continuations: dict[str, Callable[[], None]] = {}

    # -- what the phases call each other by -------------------------------------------

    def _rollback(self, record: ServiceDeploymentRecord, reason: str, *, requested: bool) -> None:
        raise NotImplementedError

    def _hooks_failed_in_rollback(self, record: ServiceDeploymentRecord, reason: str) -> None:
        raise NotImplementedError

    # -- time and scheduling ----------------------------------------------------------

    @property
    def now(self) -> float:
        return self.sim.clock.time()

    def _later(
        self, record: ServiceDeploymentRecord, delay: float, step: Callable[[], None]
    ) -> None:
        """Run ``step`` after ``delay`` unless the deployment moved on (a rollback or a stop
        raises its generation) or ended."""
        generation = record.generation

        def run() -> None:
            with self.sim.lock:
                if record.generation == generation and not record.is_terminal:
                    step()

        self.sim.clock.call_later(max(0.0, delay), run)

    def _set_status(
        self, record: ServiceDeploymentRecord, status: str, reason: str | None = None
    ) -> None:
        record.status = status
        if reason is not None:
            record.status_reason = reason
        record.updated_at = self.now
        if record.is_terminal:
            record.finished_at = self.now
            record.alarms_done = True
            self._continuations.pop(record.arn, None)

    def _enter(self, record: ServiceDeploymentRecord, stage: str) -> None:
        record.stage = stage
        record.updated_at = self.now
        record.stage_log.append((self.now, stage))

    # -- revisions and the service ------------------------------------------------------

    def _revision(self, arn: str | None) -> ServiceRevisionRecord | None:
        return None if arn is None else self.store.revisions.get(arn)

    def _green(self, record: ServiceDeploymentRecord) -> ServiceRevisionRecord:
        return self.store.revisions[record.target]

    def _blue(self, record: ServiceDeploymentRecord) -> ServiceRevisionRecord | None:
        return self._revision(record.source[0] if record.source else None)

    def _sync_service(self, record: ServiceDeploymentRecord) -> None:
        """moto's service: counts, task definition and the ``deployments`` list as ECS shows
        them (PRIMARY the target revision while it runs, ACTIVE the source)."""
        svc = self.sim.moto.service(record.cluster, record.service)
        if svc is None:
            return
        green, blue = self._green(record), self._blue(record)
        when = self.sim.moto.now()
        rolled_back = record.status == "ROLLBACK_SUCCESSFUL" or (
            record.rolling_back and record.is_terminal
        )
        done = record.is_terminal
        primary = blue if rolled_back and blue is not None else green
        entries = [(primary, "PRIMARY", "COMPLETED" if done else "IN_PROGRESS")]
        if not done and blue is not None:
            entries.append((blue, "ACTIVE", "COMPLETED"))
        svc.deployments = [
            {
                "id": f"ecs-svc/{rev.arn.rsplit('/', 1)[-1]}",
                "status": status,
                "taskDefinition": rev.task_definition,
                "desiredCount": rev.requested,
                "pendingCount": rev.pending,
                "runningCount": rev.running,
                "failedTasks": 0,
                "createdAt": when,
                "updatedAt": when,
                "launchType": rev.launch_type,
                "rolloutState": rollout,
                "rolloutStateReason": f"ECS deployment {record.arn.rsplit('/', 1)[-1]} "
                + ("completed." if rollout == "COMPLETED" else "in progress."),
            }
            for rev, status, rollout in entries
        ]
        if done:
            svc.task_definition = primary.task_definition
        revisions = [r for r in (green, blue) if r is not None]
        svc.running_count = sum(r.running for r in revisions)
        svc.pending_count = sum(r.pending for r in revisions)

    def _desired(self, record: ServiceDeploymentRecord) -> int:
        svc = self.sim.moto.service(record.cluster, record.service)
        return int(svc.desired_count) if svc is not None else 0

    # -- hooks --------------------------------------------------------------------------

    def _run_hooks(
        self, record: ServiceDeploymentRecord, stage: str, then: Callable[[], None]
    ) -> None:
        """Run the stage's hooks side by side; ``then`` once each has succeeded."""
        hooks = [
            h
            for h in record.config.get("lifecycleHooks") or ()
            if stage in (h.get("lifecycleStages") or ())
            and not (record.rolling_back and (h.get("targetType") or "AWS_LAMBDA") == "PAUSE")
        ]
        record.batch += 1
        if not hooks:
            self._later(record, self.sim.settings.event_seconds, then)
            return
        self._continuations[record.arn] = then
        for hook in hooks:
            minutes = (hook.get("timeoutConfiguration") or {}).get("timeoutInMinutes")
            seconds = 60.0 * float(minutes or _DEFAULT_TIMEOUT_MINUTES)
            run = HookRun(
                hook=hook,
                stage=stage,
                started_at=self.now,
                expires_at=self.now + seconds,
                batch=record.batch,
                details=hook.get("hookDetails"),
            )
            record.hook_runs.append(run)
            self._later(record, seconds, functools.partial(self._timed_out, record, run))
            if run.target_type == "PAUSE":
                run.status = "AWAITING_ACTION"
            else:
                self._invoke(record, run)
        record.updated_at = self.now

    def _hook_done(self, record: ServiceDeploymentRecord) -> None:
        """Move on once every hook of the current stage run has succeeded."""
        runs = record.current_hooks()
        if all(
            r.status == "SUCCEEDED" or (r.status == "TIMED_OUT" and r.timeout_action == "CONTINUE")
            for r in runs
        ):
            then = self._continuations.pop(record.arn, None)
            if then is not None:
                self._later(record, self.sim.settings.event_seconds, then)

    def _hook_failed(self, record: ServiceDeploymentRecord, run: HookRun, reason: str) -> None:
        run.status = "FAILED" if run.status != "TIMED_OUT" else run.status
        self._continuations.pop(record.arn, None)
        if record.rolling_back:
            self._hooks_failed_in_rollback(record, reason)
        else:
            self._rollback(record, reason, requested=False)

    def _timed_out(self, record: ServiceDeploymentRecord, run: HookRun) -> None:
        if run.status not in ("IN_PROGRESS", "AWAITING_ACTION"):
            return
        run.status = "TIMED_OUT"
        record.updated_at = self.now
        if run.timeout_action == "CONTINUE":
            self._hook_done(record)
            return
        self._hook_failed(
            record,
            run,
            f"The {run.target_type} lifecycle hook {run.hook_id} at {run.stage} timed out.",
        )

    def continue_hook(self, record: ServiceDeploymentRecord, run: HookRun, action: str) -> None:
        """ContinueServiceDeployment on an AWAITING_ACTION pause hook."""
        record.updated_at = self.now
        if action == "ROLLBACK":
            run.status = "FAILED"
            self._continuations.pop(record.arn, None)
            self._rollback(
                record,
                f"ContinueServiceDeployment rolled back the deployment at the {run.stage} "
                f"lifecycle hook {run.hook_id}.",
                requested=True,
            )
            return
        run.status = "SUCCEEDED"
        self._hook_done(record)

    # -- Lambda hooks -------------------------------------------------------------------

    def payload(self, record: ServiceDeploymentRecord, run: HookRun) -> dict[str, Any]:
        """The event a Lambda hook receives (``docs/simulator.md``)."""
        green, blue = record.target, (record.source[0] if record.source else None)
        test: dict[str, float] = {}
        production: dict[str, float] = {}
        if run.stage == "TEST_TRAFFIC_SHIFT":
            test = _pair(green, blue, 0.0 if record.rolling_back else 100.0)
        elif run.stage in ("PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"):
            percent = 0.0 if record.rolling_back else record.steps[record.step]
            production = _pair(green, blue, percent)
        event: dict[str, Any] = {
            "executionId": run.execution_id,
            "lifecycleStage": run.stage,
            "resourceArn": record.arn,
            "executionDetails": {
                "serviceArn": record.service_arn,
                "targetServiceRevisionArn": record.target,
                "testTrafficWeights": test,
                "productionTrafficWeights": production,
            },
        }
        if run.details is not None:
            event["hookDetails"] = run.details
        return event

    def _invoke(self, record: ServiceDeploymentRecord, run: HookRun) -> None:
        """Call the hook's function (inline on the virtual clock, on a thread in real time)
        and act on what it returns."""
        arn = str(run.hook.get("hookTargetArn") or "")
        registered = self.sim.hooks.get(arn)
        if registered is None:
            self._hook_failed(
                record,
                run,
                f"The Lambda function {arn} for the {run.stage} lifecycle hook could not be "
                "invoked: Function not found.",
            )
            return
        run.invocations += 1
        event = self.payload(record, run)
        generation, region = record.generation, self.sim.moto.region
        context = LambdaContext(
            function_name=registered.name,
            invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{registered.name}",
            aws_request_id=str(uuid.uuid4()),
            deadline=self.now + registered.timeout_seconds,
            clock=self.sim.clock,
            log_group_name=f"/aws/lambda/{registered.name}",
        )

        def call() -> None:
            try:
                answer: Any = registered.function(event, context)
                error = None
            except Exception as exc:
                answer, error = None, "".join(traceback.format_exception_only(exc)).strip()
            with self.sim.lock:
                if record.generation != generation or run.status != "IN_PROGRESS":
                    return
                self._answered(record, run, answer, error)

        if isinstance(self.sim.clock, VirtualClock):
            self.sim.clock.call_later(0, call)
        else:
            threading.Thread(
                target=call, name=f"native-hook-{registered.name}", daemon=True
            ).start()

    def _answered(
        self, record: ServiceDeploymentRecord, run: HookRun, answer: Any, error: str | None
    ) -> None:
        arn = run.hook.get("hookTargetArn")
        if error is not None:
            self._hook_failed(
                record, run, f"The Lambda function {arn} failed at {run.stage}: {error}"
            )
            return
        if isinstance(answer, (str, bytes)):
            try:
                answer = json.loads(answer)
            except ValueError:
                answer = None
        status = answer.get("hookStatus") if isinstance(answer, dict) else None
        if status not in _STATUSES:
            self._hook_failed(
                record,
                run,
                f"The Lambda function {arn} returned no valid hookStatus at {run.stage}.",
            )
            return
        assert isinstance(answer, dict)
        record.updated_at = self.now
        if status == "SUCCEEDED":
            run.status = "SUCCEEDED"
            self._hook_done(record)
        elif status == "FAILED":
            self._hook_failed(
                record, run, f"The Lambda function {arn} returned hookStatus FAILED at {run.stage}."
            )
        else:
            if "hookDetails" in answer:
                run.details = answer["hookDetails"]
            delay = answer.get("callBackDelay")
            seconds = float(delay) if isinstance(delay, (int, float)) else _DEFAULT_CALLBACK_SECONDS

            def again() -> None:
                if run.status == "IN_PROGRESS":
                    self._invoke(record, run)

            self._later(record, seconds, again)


def _pair(green: str, blue: str | None, percent: float) -> dict[str, float]:
    """``{green: percent, blue: 100 - percent}``, whole numbers as ints."""

    def number(value: float) -> float:
        return int(value) if float(value).is_integer() else round(value, 1)

    out = {green: number(percent)}
    if blue is not None:
        out[blue] = number(100.0 - percent)
    return out
