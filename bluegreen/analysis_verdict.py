"""Judging green against blue: each evaluation's outcome, and when the analysis is over.

``evaluate`` turns one ``MetricData`` into an ``Evaluation``: per metric PASS, FAIL or
INCONCLUSIVE with green's and blue's numbers and a sentence that says them. A target group
below the minimum sample, no data, or a provider error is INCONCLUSIVE, never a pass. The
``Judge`` accumulates evaluations and says when the analysis has FAILED (a critical metric,
``failure_limit`` failed evaluations, or ``consecutive_failure_limit`` in a row) or ended
INCONCLUSIVE (``inconclusive_limit`` unreadable evaluations in a row). In a dry run it never
ends, and notes what it would have decided.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from statistics import NormalDist
from typing import Any

import attrs

from bluegreen.analysis import Analysis, Metric, MetricKind
from bluegreen.analysis_query import MetricData, MetricReading

__all__ = ["Evaluation", "Judge", "MetricResult", "Outcome", "Verdict", "evaluate"]


class Outcome(enum.StrEnum):
    """One metric's, or one evaluation's, result."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Verdict(enum.StrEnum):
    """The analysis's state."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"

    @property
    def is_over(self) -> bool:
        return self is not Verdict.RUNNING


@attrs.frozen(kw_only=True)
class MetricResult:
    """One metric in one evaluation.

    Attributes:
        unreadable: inconclusive because the data could not be read (a provider error, or no
            data although the target group served enough requests); these count towards the
            analysis's ``inconclusive_limit``, a small sample does not.
    """

    name: str
    outcome: Outcome
    green: MetricReading | None
    blue: MetricReading | None
    limit: float | None
    sentence: str
    critical: bool = False
    unreadable: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "outcome": str(self.outcome)}
        for role, reading in (("green", self.green), ("blue", self.blue)):
            out[role] = None if reading is None else reading.value
            if reading is not None and reading.total is not None:  # a rate: its counts too
                out[f"{role}_count"], out[f"{role}_total"] = reading.count, reading.total
        out.update(limit=self.limit, critical=self.critical, sentence=self.sentence)
        return out


@attrs.frozen(kw_only=True)
class Evaluation:
    """Every metric of an analysis over one window: FAIL if any metric failed, else
    INCONCLUSIVE if any could not be judged, else PASS."""

    start: dt.datetime
    end: dt.datetime
    requests: dict[str, float]
    metrics: tuple[MetricResult, ...]
    error: str | None = None

    @property
    def outcome(self) -> Outcome:
        outcomes = {m.outcome for m in self.metrics}
        if Outcome.FAIL in outcomes:
            return Outcome.FAIL
        if Outcome.INCONCLUSIVE in outcomes or not outcomes:
            return Outcome.INCONCLUSIVE
        return Outcome.PASS

    @property
    def unreadable(self) -> bool:
        return self.error is not None or any(m.unreadable for m in self.metrics)

    @property
    def failed_critical(self) -> tuple[MetricResult, ...]:
        return tuple(m for m in self.metrics if m.critical and m.outcome is Outcome.FAIL)

    def summary(self) -> str:
        """One line per metric (or the provider error), the evaluation's outcome first."""
        head = f"{self.end:%H:%M} UTC, {self.outcome}"
        lines = [f"  {self.error}"] if self.error else [f"  {m.sentence}" for m in self.metrics]
        return "\n".join([head, *lines])

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "outcome": str(self.outcome),
            "requests": dict(self.requests),
            "error": self.error,
            "metrics": [m.to_dict() for m in self.metrics],
        }


Baseline = dict[str, tuple[MetricReading, dt.datetime]]
"""Per metric name, blue's last reading that could be judged and the end of its window."""


def evaluate(analysis: Analysis, data: MetricData, baseline: Baseline | None = None) -> Evaluation:
    """Judge each metric of ``analysis`` on ``data``.

    ``baseline``: blue's last judged readings. A relative limit needs blue's value; when blue
    served too few requests in this window (all production traffic is on green, in the
    termination wait) green is compared with blue's last reading instead, and the sentence
    says so.
    """
    if data.error is not None:
        results = tuple(
            MetricResult(
                name=m.name,
                outcome=Outcome.INCONCLUSIVE,
                green=None,
                blue=None,
                limit=None,
                sentence=f"{m.name}: not read ({data.error}): inconclusive",
                critical=m.critical,
                unreadable=True,
            )
            for m in analysis.metrics
        )
        return Evaluation(
            start=data.start, end=data.end, requests={}, metrics=results, error=data.error
        )
    results = tuple(
        _judge(analysis, m, data, (baseline or {}).get(m.name)) for m in analysis.metrics
    )
    return Evaluation(start=data.start, end=data.end, requests=dict(data.requests), metrics=results)


def _judge(
    analysis: Analysis,
    metric: Metric,
    data: MetricData,
    baseline: tuple[MetricReading, dt.datetime] | None,
) -> MetricResult:
    green, blue = data.readings[metric.name]
    needed = analysis.minimum_sample
    green_requests = data.requests.get("green", 0.0)
    blue_requests = data.requests.get("blue", 0.0)

    def result(outcome: Outcome, words: str, limit: float | None = None, **kw: Any) -> MetricResult:
        return MetricResult(
            name=metric.name,
            outcome=outcome,
            green=green,
            blue=blue,
            limit=limit,
            sentence=f"{metric.name}: {words}",
            critical=metric.critical,
            **kw,
        )

    if green_requests < needed:
        return result(
            Outcome.INCONCLUSIVE,
            f"green served {green_requests:g} requests, fewer than the {needed} needed: "
            "inconclusive",
        )
    if green.value is None:
        return result(Outcome.INCONCLUSIVE, "no data for green: inconclusive", unreadable=True)
    shown = f"green {_value(metric, green)}"
    blue_known = blue_requests >= needed and blue.value is not None
    if not blue_known and metric.is_relative and baseline is not None:
        blue, blue_known = baseline[0], True
        shown += f" vs blue {_value(metric, blue)} (its last reading, to {baseline[1]:%H:%M} UTC)"
    elif blue_known:
        shown += f" vs blue {_value(metric, blue)}"
    elif metric.is_relative:
        why = (
            f"blue served {blue_requests:g} requests, fewer than the {needed} needed"
            if blue_requests < needed
            else "no data for blue"
        )
        shown += f" ({why})"
    limit = metric.limit(blue.value if blue_known else None)
    if limit is None or (metric.is_relative and not blue_known and green.value <= limit):
        return result(Outcome.INCONCLUSIVE, f"{shown}, nothing to compare with: inconclusive")
    words = f"{shown}, limit {_limit_words(metric, blue_known)} ({_number(metric, limit)})"
    if green.value > limit:
        low = _lowest_plausible(metric, green, analysis.confidence)
        if low is not None and low <= limit:
            return result(
                Outcome.INCONCLUSIVE,
                f"{words}: over it, but it could be {_number(metric, low)} "
                f"({analysis.confidence:.0%} sure): inconclusive",
                limit,
            )
        return result(Outcome.FAIL, f"{words}: failed", limit)
    return result(Outcome.PASS, f"{words}: passed", limit)


def _lowest_plausible(
    metric: Metric, green: MetricReading, confidence: float | None
) -> float | None:
    """For a rate, the lower bound of the Wilson score interval of green's rate at the
    one-sided ``confidence``: the lowest rate its counts make plausible. None when not a
    rate, or no confidence is asked for."""
    if confidence is None or metric.kind is not MetricKind.RATE or not green.total:
        return None
    n, p = green.total, (green.count or 0.0) / green.total
    z = NormalDist().inv_cdf(confidence)
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n))


def _number(metric: Metric, value: float) -> str:
    if metric.kind is MetricKind.RATE:
        return f"{value * 100:.1f}%"
    if metric.metric.endswith("ResponseTime"):
        return f"{value * 1000:.0f} ms"
    return f"{value:g}"


def _value(metric: Metric, reading: MetricReading) -> str:
    assert reading.value is not None
    shown = _number(metric, reading.value)
    if metric.kind is MetricKind.RATE:
        shown += f" ({reading.count:g}/{reading.total:g})"
    return shown


def _limit_words(metric: Metric, blue_known: bool) -> str:
    relative = []
    if blue_known and metric.relative_tolerance is not None:
        relative.append(f"blue * {1 + metric.relative_tolerance:g}")
    if blue_known and metric.tolerance is not None:
        relative.append(f"blue + {_number(metric, metric.tolerance)}")
    parts = [" or ".join(relative)] if relative else []
    if metric.ceiling is not None:
        parts.append(f"at most {_number(metric, metric.ceiling)}")
    return ", ".join(parts)


@attrs.define
class Judge:
    """Accumulates evaluations and decides when the analysis is over.

    ``add`` returns the verdict after each evaluation: RUNNING until a critical metric
    fails, ``failure_limit`` evaluations have failed, ``consecutive_failure_limit`` have
    failed in a row (FAILED), or ``inconclusive_limit`` in a row could not be read
    (INCONCLUSIVE). The first verdict that ends it stays. A dry run stays RUNNING and keeps
    the verdict it would have reached in ``would_have``.
    """

    analysis: Analysis
    evaluations: list[Evaluation] = attrs.field(factory=list, init=False)
    verdict: Verdict = attrs.field(default=Verdict.RUNNING, init=False)
    reason: str | None = attrs.field(default=None, init=False)
    would_have: Verdict | None = attrs.field(default=None, init=False)
    _failed: int = attrs.field(default=0, init=False)
    _failed_in_a_row: int = attrs.field(default=0, init=False)
    _unreadable_in_a_row: int = attrs.field(default=0, init=False)
    baseline: Baseline = attrs.field(factory=dict, init=False)
    """Blue's last readings that could be judged, which green is compared with once blue
    serves too little (``evaluate``)."""

    def evaluate(self, data: MetricData) -> Evaluation:
        """``evaluate`` the data against blue (or blue's last readings) and ``add`` the
        evaluation."""
        evaluation = evaluate(self.analysis, data, self.baseline)
        needed = self.analysis.minimum_sample
        if data.error is None and data.requests.get("blue", 0.0) >= needed:
            for name, (_, blue) in data.readings.items():
                if blue.value is not None:
                    self.baseline[name] = (blue, data.end)
        self.add(evaluation)
        return evaluation

    def add(self, evaluation: Evaluation) -> Verdict:
        self.evaluations.append(evaluation)
        outcome = evaluation.outcome
        if outcome is Outcome.FAIL:
            self._failed += 1
            self._failed_in_a_row += 1
        elif outcome is Outcome.PASS:
            self._failed_in_a_row = 0
        self._unreadable_in_a_row = self._unreadable_in_a_row + 1 if evaluation.unreadable else 0
        if not self.verdict.is_over and self.would_have is None:
            decided = self._decide(evaluation)
            if decided is not None:
                verdict, reason = decided
                if self.analysis.dry_run:
                    self.would_have, self.reason = verdict, f"dry run: would have {reason}"
                else:
                    self.verdict, self.reason = verdict, reason
        return self.verdict

    def _decide(self, evaluation: Evaluation) -> tuple[Verdict, str] | None:
        a = self.analysis
        number = len(self.evaluations)
        critical = evaluation.failed_critical
        if critical:
            return Verdict.FAILED, (
                f"failed at evaluation {number}: critical metric {critical[0].sentence}"
            )
        failing = next((m for m in evaluation.metrics if m.outcome is Outcome.FAIL), None)
        if failing is not None and a.failure_limit is not None and self._failed >= a.failure_limit:
            return Verdict.FAILED, (
                f"failed at evaluation {number} ({self._failed} failed in all, limit "
                f"{a.failure_limit}): {failing.sentence}"
            )
        limit = a.consecutive_failure_limit
        if failing is not None and limit is not None and self._failed_in_a_row >= limit:
            return Verdict.FAILED, (
                f"failed at evaluation {number} ({self._failed_in_a_row} failed in a row, "
                f"limit {limit}): {failing.sentence}"
            )
        limit = a.inconclusive_limit
        if limit is not None and self._unreadable_in_a_row >= limit:
            why = evaluation.error or next(m.sentence for m in evaluation.metrics if m.unreadable)
            return Verdict.INCONCLUSIVE, (
                f"ended inconclusive at evaluation {number}: {self._unreadable_in_a_row} in a "
                f"row could not be read (limit {limit}): {why}"
            )
        return None

    def give_up(self, reason: str) -> None:
        """End the analysis INCONCLUSIVE: nothing can be judged (``reason`` says why)."""
        if not self.verdict.is_over:
            self.verdict, self.reason = Verdict.INCONCLUSIVE, f"ended inconclusive: {reason}"

    def finish(self) -> Verdict:
        """The final verdict once the deployment is over: the verdict reached, else PASSED if
        some evaluation passed, else INCONCLUSIVE (no evaluation could judge green)."""
        if self.verdict.is_over:
            return self.verdict
        if any(e.outcome is Outcome.PASS for e in self.evaluations):
            self.verdict = Verdict.PASSED
            self.reason = self.reason or (
                f"passed: {sum(e.outcome is Outcome.PASS for e in self.evaluations)} of "
                f"{len(self.evaluations)} evaluations passed, {self._failed} failed"
            )
        else:
            self.verdict = Verdict.INCONCLUSIVE
            self.reason = self.reason or (
                f"inconclusive: none of {len(self.evaluations)} evaluations could judge green"
            )
        return self.verdict

    def report(self) -> str:
        """The verdict, its reason and every evaluation, for a person."""
        head = f"analysis {self.verdict}" + (f": {self.reason}" if self.reason else "")
        return "\n".join([head, *(e.summary() for e in self.evaluations)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "reason": self.reason,
            "dry_run": self.analysis.dry_run,
            "would_have": None if self.would_have is None else str(self.would_have),
            "evaluations": [e.to_dict() for e in self.evaluations],
        }
