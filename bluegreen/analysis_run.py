"""An analysis running alongside one deployment: when it evaluates, and what it has found.

``AnalysisRun`` is what ``Deployment.wait(analysis=...)`` keeps as ``Deployment.analysis``.
It watches while green serves production traffic: from AllowTraffic's start (its time as
CodeDeploy reports it) through the termination wait, until the deployment ends. The first
evaluation comes ``metrics_delay`` seconds after the first whole minute of the shift, then
one every ``interval`` seconds, each over the last ``window`` seconds of whole minutes (what
the ALB has published). The ``Judge`` decides; a FAILED verdict is for the waiter to act on
(StopDeployment with rollback), once. This module calls no AWS API: the waiter reads the
metrics and sends the stop.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import attrs

from bluegreen.analysis import Analysis
from bluegreen.analysis_query import AnalysisTargets, MetricData
from bluegreen.analysis_verdict import Evaluation, Judge, Outcome, Verdict
from bluegreen.errors import DeploymentError
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import DeploymentStatus, LifecycleEvent

__all__ = ["AnalysisRun", "serving_production", "unstopped_error"]


def serving_production(snapshot: DeploymentSnapshot) -> dt.datetime | None:
    """When production traffic started to move to green (AllowTraffic's start), while the
    deployment still runs with green serving it; None otherwise (before the shift, in a
    rollback, or once the deployment has ended)."""
    if snapshot.status is not DeploymentStatus.IN_PROGRESS or snapshot.is_rollback:
        return None
    shift = snapshot.event(LifecycleEvent.ALLOW_TRAFFIC)
    if shift is None or not shift.has_started or shift.start is None:
        return None
    return shift.start


def _next_minute(moment: dt.datetime) -> dt.datetime:
    seconds = moment.timestamp()
    return dt.datetime.fromtimestamp(math.floor(seconds / 60 + 1) * 60, dt.UTC)


@attrs.define
class AnalysisRun:
    """One analysis of one deployment: its evaluations so far and the verdict.

    Attributes:
        analysis: what is judged, and how.
        targets: green's and blue's target groups, once known.
        shift_started: when production traffic started to move to green.
        stopped: the deployment this run stopped (StopDeployment with rollback) because the
            verdict was FAILED, or None.
    """

    analysis: Analysis
    targets: AnalysisTargets | None = None
    shift_started: dt.datetime | None = attrs.field(default=None, init=False)
    stopped: str | None = attrs.field(default=None, init=False)
    unstoppable: str | None = attrs.field(default=None, init=False)
    """Why CodeDeploy refused to stop the deployment after the analysis failed (it had
    started deleting blue), or None."""
    stop_errors: list[str] = attrs.field(factory=list, init=False, repr=False)
    """StopDeployment calls that failed and will be tried again."""
    judge: Judge = attrs.field(init=False, repr=False)
    _next_at: dt.datetime | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.judge = Judge(self.analysis)

    # -- what it found --------------------------------------------------------------------

    @property
    def verdict(self) -> Verdict:
        """RUNNING until the analysis ends (or the deployment does: see ``finish``)."""
        return self.judge.verdict

    @property
    def reason(self) -> str | None:
        """Why the verdict is what it is, with the numbers of the metric that decided."""
        return self.judge.reason

    @property
    def evaluations(self) -> list[Evaluation]:
        return self.judge.evaluations

    @property
    def last(self) -> Evaluation | None:
        """The latest evaluation."""
        return self.judge.evaluations[-1] if self.judge.evaluations else None

    @property
    def must_stop(self) -> bool:
        """The analysis failed and the deployment is neither stopped nor beyond stopping."""
        return self.verdict is Verdict.FAILED and not (self.stopped or self.unstoppable)

    @property
    def is_over(self) -> bool:
        """No more evaluations: a verdict was reached (a dry run never reaches one)."""
        return self.judge.verdict.is_over

    def finish(self) -> Verdict:
        """The final verdict, once the deployment has ended (see ``Judge.finish``)."""
        return self.judge.finish()

    def report(self) -> str:
        """The verdict, why, and every evaluation with green's and blue's numbers."""
        text = self.judge.report()
        if self.stopped:
            text += f"\ndeployment {self.stopped} stopped and rolled back by the analysis"
        if self.unstoppable:
            text += f"\nthe deployment could no longer be stopped: {self.unstoppable}"
        elif self.stop_errors and not self.stopped:
            text += f"\nStopDeployment failed: {self.stop_errors[-1]}"
        return text

    def to_dict(self) -> dict[str, Any]:
        out = self.judge.to_dict()
        out["shift_started"] = (
            None if self.shift_started is None else self.shift_started.isoformat()
        )
        out["stopped"] = self.stopped
        out["unstoppable"] = self.unstoppable
        out["stop_errors"] = list(self.stop_errors)
        return out

    def __repr__(self) -> str:
        counts = {o: sum(e.outcome is o for e in self.evaluations) for o in Outcome}
        shown = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
        told = f"{len(self.evaluations)} evaluations" + (f": {shown}" if shown else "")
        return f"<AnalysisRun {self.verdict} ({told})>"

    # -- when it evaluates ------------------------------------------------------------------

    def watching(self, snapshot: DeploymentSnapshot) -> bool:
        """Whether ``snapshot`` is a moment to judge green: it serves production traffic and
        the analysis is not over. The first such snapshot sets the schedule."""
        started = serving_production(snapshot)
        if started is None or self.is_over or self.stopped:
            return False
        if self.shift_started is None:
            self.shift_started = started
            self._next_at = _next_minute(started) + dt.timedelta(
                seconds=self.analysis.metrics_delay
            )
        return True

    def due(self, now: dt.datetime) -> bool:
        """Whether an evaluation is due at ``now`` (server time)."""
        return self._next_at is not None and now >= self._next_at

    def seconds_to_next(self, now: dt.datetime) -> float | None:
        """Seconds until the next evaluation is due (0 when it is), or None when none is
        scheduled."""
        if self._next_at is None or self.is_over or self.stopped:
            return None
        return max(0.0, (self._next_at - now).total_seconds())

    def window_now(self, now: dt.datetime) -> dt.datetime:
        """The moment whose whole minute ends the window read at ``now``: the metrics of a
        minute are read ``metrics_delay`` after it ends."""
        return now - dt.timedelta(seconds=self.analysis.metrics_delay)

    def add(self, data: MetricData, now: dt.datetime) -> Evaluation:
        """Judge ``data`` (read at ``now``) and schedule the next evaluation: ``interval``
        later, and never on a window already judged."""
        evaluation = self.judge.evaluate(data)
        following = now + dt.timedelta(seconds=self.analysis.interval)
        fresh = data.end + dt.timedelta(seconds=60 + self.analysis.metrics_delay)
        self._next_at = max(following, fresh)
        return evaluation


def unstopped_error(snapshot: DeploymentSnapshot, run: AnalysisRun) -> DeploymentError:
    """The error for a deployment that succeeded although its analysis failed: CodeDeploy
    refused the stop (blue was being deleted), so green serves production. The release
    failed its gate; rolling back is a new deployment of the previous version."""
    error = DeploymentError(
        f"Succeeded, but the analysis {run.reason}, and the deployment could no longer be "
        f"stopped ({run.unstoppable or _last(run.stop_errors, 'StopDeployment failed')}): "
        "green serves production; "
        "roll back with `bluegreen rollback` (or Deployment.rollback())",
        deployment_id=snapshot.deployment_id,
        status=str(snapshot.status),
    )
    error.analysis = run
    return error


def _last(items: list[str], otherwise: str) -> str:
    return items[-1] if items else otherwise
