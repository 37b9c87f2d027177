"""PRE_PRODUCTION_TRAFFIC_SHIFT (ECS-native LINEAR or CANARY): before each traffic step, judge
green against blue over the step that just ran, with an analysis (``bluegreen.analysis``:
the ALB target-group metrics of both target groups from CloudWatch), so a bad step stops
before traffic moves further.

ECS invokes a PRE_PRODUCTION_TRAFFIC_SHIFT hook before every step of a linear or canary
deployment. The gate answers:

- ``SUCCEEDED`` at once before the first step (green serves no production traffic yet:
  nothing to judge; the log says so), and on a rollback's re-run;
- ``IN_PROGRESS`` with ``callBackDelay`` while the data accrues: the step's first whole
  minute is not published yet, green served fewer requests than the analysis's
  ``minimum_sample``, a rate is over its limit but not surely so, or a failed evaluation is
  below the analysis's ``failure_limit``. Green keeps serving its share meanwhile, so each
  new minute is read (one GetMetricData, the window growing up to the analysis's
  ``window``, never reaching back before the step);
- ``FAILED`` when the analysis fails (ECS then rolls back: traffic goes back to blue before it
  moves further), when the step is not judged within ``deadline_minutes``, or when the
  gate cannot work (its settings, the service: the reason says what to fix);
- ``SUCCEEDED`` at the first evaluation that passes.

Configure it in the hook's ``hookDetails`` (all optional; unknown keys are refused, so a
misspelt one cannot be ignored silently)::

    {"analysis": "default" | {<the mapping Analysis.from_dict reads>},
     "deadline_minutes": 30,
     "on_inconclusive": "pass" | "fail"}

- ``analysis``: ``"default"`` (or absent) is ``bluegreen.DEFAULT_ANALYSIS`` (green's 5xx rate
  within one point of blue's); a mapping is an analysis as ``docs/analysis.md`` describes
  (``metrics``, ``minimum_sample``, ``failure_limit``, ``confidence``, ``metrics_delay``,
  ``dry_run``...). ``interval`` is the least time between two evaluations of a step;
  ``server_alarm`` is not used (ECS's own ``deploymentConfiguration.alarms`` is the net).
- ``deadline_minutes`` (30): how long after its first invocation a step may wait for a
  verdict; then FAILED, with what it was waiting for. At most 1440 (ECS's hook timeout).
- ``on_inconclusive`` (``pass``): what to answer when the analysis ends inconclusive
  (``inconclusive_limit`` evaluations in a row CloudWatch could not answer): as for
  ``bluegreen deploy --analysis``, a CloudWatch outage does not roll back by default.

A ``dry_run`` analysis evaluates and logs, and always ends ``SUCCEEDED`` (saying what it would
have done). Each evaluation is one JSON log line (``"event": "analysis_evaluation"``, every
metric's numbers and sentence), the verdict a ``check`` line and the ``answered`` line.

Lambda handler ``analysis_gate.handler`` in the zip ``bluegreen hooks package`` builds. The
hook (``deploymentConfiguration.lifecycleHooks``)::

    {"hookTargetArn": "arn:aws:lambda:REGION:ACCOUNT:function:analysis_gate",
     "roleArn": "arn:aws:iam::ACCOUNT:role/ecsLambdaInvokeRole",
     "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
     "hookDetails": {"analysis": "default", "deadline_minutes": 20}}

Settings (environment variables): ``BLUEGREEN_MARGIN_SECONDS`` (``10``),
``BLUEGREEN_LOG_LEVEL`` (``INFO``), ``BLUEGREEN_ENDPOINT_URL``. A 60-second function timeout
is plenty: an invocation makes at most five calls.

IAM permissions of the function's role: ``cloudwatch:GetMetricData``,
``ecs:DescribeServiceDeployments``, ``ecs:DescribeServices``,
``ecs:DescribeServiceRevisions``; ``ecs:ListServiceDeployments`` and
``elasticloadbalancing:DescribeRules`` only for events or deployments that do not say what the
gate needs (see ``_gate_window``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from bluegreen.hooks import CheckResult, HookEvent, LambdaHandler, RetryLater, lifecycle_hook
from bluegreen.hooks._clients import RETRY_DELAYS, caller
from bluegreen.hooks._results import log
from bluegreen.hooks.handlers._gate_window import GateStep, judged_window, read_step
from bluegreen.hooks.handlers._verify import margin_seconds

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.analysis import Analysis
    from bluegreen.analysis_verdict import Evaluation, Judge

__all__ = ["GATE_STAGE", "GateSettings", "handler", "make_handler"]

GATE_STAGE = "PRE_PRODUCTION_TRAFFIC_SHIFT"
DEFAULT_DEADLINE_MINUTES = 30.0
MAX_DEADLINE_MINUTES = 1440.0
RUNNER_DEADLINE_SECONDS = 60.0 * MAX_DEADLINE_MINUTES
"""The kit's own deadline for the hook execution: the gate's ``deadline_minutes`` decides
first."""
WAIT_AFTER_ERROR_SECONDS = 30.0
_KEYS = ("analysis", "deadline_minutes", "on_inconclusive")
_NAME = "analysis gate"


class GateSettings(NamedTuple):
    """The gate's settings, from the hook's ``hookDetails``."""

    analysis: Analysis
    deadline_seconds: float
    fail_inconclusive: bool

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> GateSettings:
        """The settings in ``details``.

        Raises:
            ValueError: every problem, each naming its key and what would be right.
        """
        from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis
        from bluegreen.errors import ValidationError

        problems = [
            f"hookDetails.{key}: unknown setting; the gate reads {', '.join(_KEYS)}"
            for key in details
            if key not in _KEYS
        ]
        given = details.get("analysis", "default")
        analysis = DEFAULT_ANALYSIS
        if isinstance(given, Mapping):
            try:
                analysis = Analysis.from_dict(given, source="hookDetails.analysis")
            except ValidationError as exc:
                problems.append(str(exc))
        elif given != "default":
            problems.append(
                f'hookDetails.analysis: {given!r:.60} is neither "default" nor a mapping of '
                "analysis fields (docs/analysis.md)"
            )
        minutes = details.get("deadline_minutes", DEFAULT_DEADLINE_MINUTES)
        if (
            not isinstance(minutes, int | float)
            or isinstance(minutes, bool)
            or not math.isfinite(minutes)
            or not 0 < minutes <= MAX_DEADLINE_MINUTES
        ):
            problems.append(
                f"hookDetails.deadline_minutes: {minutes!r:.60} must be minutes, more than 0 "
                f"and at most {MAX_DEADLINE_MINUTES:g}"
            )
            minutes = DEFAULT_DEADLINE_MINUTES
        inconclusive = details.get("on_inconclusive", "pass")
        if inconclusive not in ("pass", "fail"):
            problems.append(
                f'hookDetails.on_inconclusive: {inconclusive!r:.60} must be "pass" or "fail"'
            )
        if problems:
            raise ValueError("; ".join(problems))
        return cls(analysis, 60.0 * float(minutes), inconclusive == "fail")


def make_handler(
    *,
    now: Callable[[], float] = time.time,
    client: Clients | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
) -> LambdaHandler:
    """The gate as a Lambda handler; ``now`` (epoch seconds), ``client`` and the pauses
    between attempts of a throttled call for tests (the simulator's clock and clients)."""

    def analysis_gate(event: HookEvent) -> Any:
        return _Gate(event, now(), caller(delays=retry_delays)).run()

    return lifecycle_hook(
        margin_seconds=margin_seconds(),
        deadline_seconds=RUNNER_DEADLINE_SECONDS,
        client=client,
        now=now,
    )(analysis_gate)


class _Gate:
    """One invocation of the gate: what it read, and its answer (a ``CheckResult`` to pass or
    fail, a ``RetryLater`` to be invoked again)."""

    def __init__(self, event: HookEvent, now: float, call: Caller) -> None:
        self.event = event
        self.now = now
        self.call = call
        self.state = event.state
        self.tried = f"judge green against blue before the traffic step at {event.stage}"
        self.settings: GateSettings
        self.deadline_at = math.inf

    def result(self, ok: bool, got: str, **details: Any) -> CheckResult:
        return CheckResult(_NAME, ok, self.tried, got, 0.0, details)

    def run(self) -> CheckResult | RetryLater:
        event = self.event
        if event.native is None:
            return self.result(
                False,
                "a CodeDeploy deployment invoked the gate; it gates the traffic steps of "
                "ECS-native LINEAR and CANARY deployments: attach it at "
                f"{GATE_STAGE} of such a service (for CodeDeploy use `bluegreen deploy "
                "--analysis`)",
            )
        if event.rolling_back:
            return self.result(True, "a rollback's re-run: traffic moves back to blue; passed")
        production = event.native.production_weights
        if event.stage != GATE_STAGE and not (event.stage is None and production):
            return self.result(
                False,
                f"invoked at {event.stage}; the gate judges the step that just ran before the "
                f"next one: attach it at {GATE_STAGE}",
            )
        try:
            settings = GateSettings.from_details(event.hook_details)
        except ValueError as exc:
            return self.result(False, f"bad settings: {exc}")
        self.settings = settings
        if self.state.get("execution") != event.execution_id:
            # Another step's state (were ECS to pass it on to the next step's execution):
            # this step is judged afresh.
            self.state.clear()
            self.state["execution"] = event.execution_id
        first = self.state.setdefault("first_seen", self.now)
        self.deadline_at = float(first) + settings.deadline_seconds
        step = GateStep.from_state(self.state.get("step"))
        if step is None:
            found = self._read_step()
            if not isinstance(found, GateStep):
                return found
            step = found
            self.state["step"] = step.to_state()
        next_percent = production.get(event.native.target_revision_arn)
        self.tried = (
            f"green ({step.green_target_group.rsplit(':', 1)[-1]}) against blue "
            f"({step.blue_target_group.rsplit(':', 1)[-1]}) at {step.green_percent:g}% of "
            "production"
            + (f", before moving it to {next_percent:g}%" if next_percent is not None else "")
        )
        if step.green_percent <= 0:
            return self.result(
                True,
                "green serves no production traffic before the first step: nothing to judge "
                "yet, passed without reading metrics",
            )
        return self._judge(step, float(first))

    def _read_step(self) -> GateStep | CheckResult | RetryLater:
        from bluegreen.errors import (
            AWSError,
            ConfigurationError,
            ServiceUnavailableError,
            ThrottledError,
            ValidationError,
        )

        native = self.event.native
        assert native is not None
        try:
            return read_step(native, clients=self.event.clients, call=self.call)
        except (ThrottledError, ServiceUnavailableError) as exc:
            return self._wait(f"reading the deployment failed ({exc})", WAIT_AFTER_ERROR_SECONDS)
        except (AWSError, ValidationError, ConfigurationError) as exc:
            return self.result(False, f"cannot find what to judge: {exc}")

    def _judge(self, step: GateStep, first: float) -> CheckResult | RetryLater:
        import attrs

        from bluegreen.analysis_query import AnalysisTargets, read_metric_data

        analysis = self.settings.analysis
        last_end = self.state.get("last_end")
        window = judged_window(
            first - step.bake_seconds,
            self.now,
            window=analysis.window,
            delay=analysis.metrics_delay,
            after=float(last_end) if isinstance(last_end, int | float) else None,
        )
        if not isinstance(window, tuple):
            waiting = (
                "the next whole minute of the step"
                if last_end is not None
                else "the step's first whole minute"
            )
            return self._wait(f"waiting for CloudWatch to publish {waiting}", window - self.now)
        end, seconds = window
        try:
            targets = AnalysisTargets(
                green_target_group_arn=step.green_target_group,
                blue_target_group_arn=step.blue_target_group,
                load_balancer_arn=step.load_balancer,
            )
        except ValueError as exc:
            return self.result(False, f"cannot judge these target groups: {exc}")
        data = read_metric_data(
            attrs.evolve(analysis, window=seconds),
            targets,
            end,
            clients=self.event.clients,
            caller=self.call,
        )
        judge = _replayed(analysis, self.state.get("evaluations"))
        evaluation = judge.evaluate(data)
        self.state["last_end"] = end
        self.state["evaluations"] = [*(self.state.get("evaluations") or ()), _kept(evaluation)]
        self._log(step, evaluation)
        return self._decide(judge, evaluation, end)

    def _decide(self, judge: Judge, evaluation: Evaluation, end: float) -> CheckResult | RetryLater:
        from bluegreen.analysis_verdict import Outcome, Verdict

        shown = evaluation.to_dict()
        analysis = self.settings.analysis
        if judge.verdict is Verdict.FAILED:
            return self.result(False, f"the analysis {judge.reason}", evaluation=shown)
        if judge.verdict is Verdict.INCONCLUSIVE:
            ok = not self.settings.fail_inconclusive or analysis.dry_run
            policy = "on_inconclusive is fail" if not ok else "on_inconclusive is pass"
            return self.result(ok, f"the analysis {judge.reason} ({policy})", evaluation=shown)
        if evaluation.outcome is Outcome.PASS:
            passed = "; ".join(m.sentence for m in evaluation.metrics)
            return self.result(True, f"the analysis passed: {passed}", evaluation=shown)
        if judge.would_have is not None:
            return self.result(True, judge.reason or "dry run", evaluation=shown)
        why = next(
            (m.sentence for m in evaluation.metrics if m.outcome is not Outcome.PASS),
            evaluation.error or "not judged yet",
        )
        self.state["undecided"] = why
        following = max(self.now + analysis.interval, end + 60.0 + analysis.metrics_delay)
        return self._wait(why, following - self.now)

    def _wait(self, reason: str, seconds: float) -> CheckResult | RetryLater:
        """Be invoked again in ``seconds`` (no later than the deadline), or, past the
        deadline, fail (a dry run passes)."""
        left = self.deadline_at - self.now
        if left <= 0:
            minutes = self.settings.deadline_seconds / 60.0
            got = f"the step was not judged within {minutes:g} min (deadline_minutes); {reason}"
            undecided = self.state.get("undecided")
            if undecided and undecided != reason:
                got += f"; the last evaluation: {undecided}"
            if self.settings.analysis.dry_run:
                return self.result(True, f"dry run: would have failed: {got}")
            return self.result(False, got)
        return RetryLater(reason, seconds=max(1.0, min(seconds, left)), state=self.state)

    def _log(self, step: GateStep, evaluation: Evaluation) -> None:
        log(
            logging.INFO,
            {
                "event": "analysis_evaluation",
                "deployment_id": self.event.deployment_id,
                "execution_id": self.event.execution_id,
                "green_percent": step.green_percent,
                "number": len(self.state["evaluations"]),
                **evaluation.to_dict(),
            },
        )


def _kept(evaluation: Evaluation) -> dict[str, Any]:
    """What the next invocation needs of an evaluation to replay the verdict: its error and
    each metric's outcome and flags (the numbers are in the log)."""
    return {
        "end": evaluation.end.isoformat(),
        "error": evaluation.error,
        "metrics": [[m.name, str(m.outcome), m.critical, m.unreadable] for m in evaluation.metrics],
    }


def _replayed(analysis: Analysis, kept: Any) -> Judge:
    """A ``Judge`` that has seen the evaluations earlier invocations kept, so failure and
    inconclusive counts carry over from one invocation to the next."""
    import datetime as dt

    from bluegreen.analysis_verdict import Evaluation, Judge, MetricResult, Outcome

    judge = Judge(analysis)
    for record in kept if isinstance(kept, list) else ():
        try:
            end = dt.datetime.fromisoformat(str(record["end"]))
            metrics = tuple(
                MetricResult(
                    name=str(name),
                    outcome=Outcome(outcome),
                    green=None,
                    blue=None,
                    limit=None,
                    sentence=f"{name}: {outcome} (evaluation to {end:%H:%M} UTC)",
                    critical=bool(critical),
                    unreadable=bool(unreadable),
                )
                for name, outcome, critical, unreadable in record["metrics"]
            )
            error = record.get("error")
        except (KeyError, TypeError, ValueError):
            continue  # not one the gate wrote: the verdict goes on without it
        judge.add(
            Evaluation(
                start=end,
                end=end,
                requests={},
                metrics=metrics,
                error=str(error) if error is not None else None,
            )
        )
    return judge


handler = make_handler()
