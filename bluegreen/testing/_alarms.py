"""CloudWatch metric alarms evaluated on the simulator's clock (moto stores them and
evaluates nothing).

Every simulated minute ``Alarms.evaluate`` looks at each metric alarm's last
``EvaluationPeriods`` whole periods (ending at the current minute, which the simulated ALB
has just published), computes one datapoint per period from moto's stored data (any
statistic, percentiles included, or a metric-math expression over ``Metrics``), and sets the
state as CloudWatch's "Evaluating an alarm" describes:

* a period with a value breaches when it compares with ``Threshold`` as
  ``ComparisonOperator`` says; ``DatapointsToAlarm`` (default ``EvaluationPeriods``) breaching
  periods out of the ``EvaluationPeriods`` make ``ALARM``, otherwise ``OK``;
* a period without a value follows ``TreatMissingData``: ``breaching``, ``notBreaching``;
  ``missing`` (the default) leaves it out, and if every period is missing the alarm goes to
  ``INSUFFICIENT_DATA``; ``ignore`` leaves it out too, and if every period is missing
  keeps the current state.

The state changes only when the outcome differs from the current state (``StateReason``
and ``StateReasonData`` in CloudWatch's words, ``StateUpdatedTimestamp`` on the simulator's
clock). A state set with ``SetAlarmState`` holds until the evaluated outcome changes
(CloudWatch would replace it at its next evaluation), so a test may still force one.
Composite alarms, anomaly-detection comparisons and ``ThresholdMetricId`` are not
evaluated.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable
from typing import Any

import attrs

from bluegreen.testing._metric_data import MetricIndex, as_naive_utc, datapoints, metric_key
from bluegreen.testing._metric_math import MathError, Series, evaluate

__all__ = ["Alarms", "Outcome"]

_OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


@attrs.frozen
class Outcome:
    """One evaluation: the state, and the reason CloudWatch would give."""

    state: str
    reason: str
    reason_data: str


@attrs.define(eq=False)
class Alarms:
    """Evaluates moto's metric alarms; ``errors`` holds, per alarm, why it could not be."""

    _written: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    _held: dict[str, str] = attrs.field(factory=dict)
    errors: dict[str, str] = attrs.field(factory=dict)
    _index: MetricIndex = attrs.field(factory=MetricIndex)

    def evaluate(self, backend: Any, now: float) -> list[str]:
        """Evaluate every metric alarm at ``now``; the names of those that went to ALARM."""
        fired = []
        for alarm in list(backend.alarms.values()):
            if alarm.rule is not None:
                continue
            try:
                outcome = self.outcome(alarm, backend.metric_data, now)
            except (MathError, KeyError, TypeError, ValueError) as exc:
                self.errors[alarm.name] = str(exc)
                continue
            self.errors.pop(alarm.name, None)
            changed = outcome is not None and self._apply(alarm, outcome, now)
            if changed and alarm.state_value == "ALARM":
                fired.append(alarm.name)
        return fired

    def _apply(self, alarm: Any, outcome: Outcome, now: float) -> bool:
        current = (alarm.state_value, alarm.state_reason)
        written = self._written.get(alarm.name)
        untouched = written == current or (
            written is None and alarm.state_reason.startswith("Unchecked")
        )
        if not untouched:  # set by SetAlarmState: hold it until the outcome changes
            held = self._held.setdefault(alarm.name, outcome.state)
            if held == outcome.state:
                return False
        if untouched and written is not None and outcome.state == alarm.state_value:
            return False
        alarm.update_state(outcome.reason, outcome.reason_data, outcome.state)
        alarm.state_updated_timestamp = as_naive_utc(now)
        self._written[alarm.name] = (alarm.state_value, alarm.state_reason)
        self._held.pop(alarm.name, None)
        return True

    # -- one alarm ----------------------------------------------------------------------

    def outcome(self, alarm: Any, data: Any, now: float) -> Outcome | None:
        """What the alarm's state should be at ``now``; None when it is not evaluated."""
        if alarm.comparison_operator not in _OPERATORS or alarm.threshold_metric_id:
            return None
        period = _period(alarm)
        n = int(alarm.evaluation_periods)
        m = int(alarm.datapoints_to_alarm or n)
        end = (now // period) * period
        periods = [end - (n - i) * period for i in range(n)]
        series = self._series(alarm, data, periods, period)
        values = {p: series[p] for p in periods if p in series}
        compare, words = _OPERATORS[alarm.comparison_operator]
        threshold = float(alarm.threshold)
        treat = alarm.treat_missing_data or "missing"
        breaching = [p for p, v in values.items() if compare(v, threshold)]
        missing = [p for p in periods if p not in values]
        if treat == "breaching":
            breaching += missing
        data_json = _reason_data(alarm, periods, values, threshold, end)
        if not values and treat in ("missing", "ignore"):
            if treat == "ignore":
                return None
            noun = "datapoint was" if n == 1 else "datapoints were"
            return Outcome(
                "INSUFFICIENT_DATA", f"Insufficient Data: {n} {noun} unknown.", data_json
            )
        shown = ", ".join(f"{values[p]:g} ({_stamp(p)})" for p in sorted(values, reverse=True))
        treated = ""
        if missing and treat in ("breaching", "notBreaching"):
            kind = "Breaching" if treat == "breaching" else "NonBreaching"
            treated = (
                f" no datapoints were received for {len(missing)} period(s) and "
                f"{len(missing)} missing datapoint(s) were treated as [{kind}]."
            )
        if len(breaching) >= m:
            reason = (
                f"Threshold Crossed: {len(breaching)} out of the last {n} datapoints "
                f"[{shown}] was {words} the threshold ({threshold:g}) (minimum {m} "
                f"datapoint{'s' if m != 1 else ''} for OK -> ALARM transition).{treated}"
            )
            return Outcome("ALARM", reason, data_json)
        if not values:
            return Outcome("OK", f"Threshold Crossed:{treated}", data_json)
        reason = (
            f"Threshold Crossed: {len(values)} datapoint{'s' if len(values) != 1 else ''} "
            f"[{shown}] was not {words} the threshold ({threshold:g}).{treated}"
        )
        return Outcome("OK", reason, data_json)

    def _series(self, alarm: Any, data: Any, periods: list[float], period: int) -> Series:
        start, end = periods[0], periods[-1] + period
        if not alarm.metric_data_queries:
            stat = alarm.statistic or alarm.extended_statistic
            dims = [{"Name": d.name, "Value": d.value} for d in alarm.dimensions]
            key = metric_key(alarm.namespace, alarm.metric_name, dims)
            return datapoints(
                self._index.of(data, key), key, period=period, start=start, end=end, stat=stat
            )
        series: dict[str, Series] = {}
        returned = None
        for query in alarm.metric_data_queries:
            stat = query.metric_stat
            if stat is not None:
                dims = [{"Name": d.name, "Value": d.value} for d in stat.metric.dimensions]
                key = metric_key(stat.metric.namespace, stat.metric.metric_name, dims)
                series[query.id] = datapoints(
                    self._index.of(data, key),
                    key,
                    period=int(stat.period),
                    start=start,
                    end=end,
                    stat=stat.stat,
                )
            else:
                series[query.id] = evaluate(query.expression or "", series, periods)
            if str(query.return_data).lower() in ("true", "none"):
                returned = query.id
        return series[returned or alarm.metric_data_queries[-1].id]


def _period(alarm: Any) -> int:
    if alarm.period:
        return int(alarm.period)
    for query in alarm.metric_data_queries:
        if query.metric_stat is not None and query.metric_stat.period:
            return int(query.metric_stat.period)
    return 60


def _stamp(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _reason_data(
    alarm: Any, periods: list[float], values: dict[float, float], threshold: float, end: float
) -> str:
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _iso(end),
        "startDate": _iso(periods[0]),
        "period": _period(alarm),
        "recentDatapoints": [values[p] for p in sorted(values)],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": _iso(p), "value": values[p]} for p in sorted(values, reverse=True)
        ],
    }
    if not alarm.metric_data_queries:
        data["statistic"] = alarm.statistic or alarm.extended_statistic
    return json.dumps(data)
