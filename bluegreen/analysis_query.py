"""Reading an analysis's metrics for green and blue from CloudWatch in one GetMetricData call.

``metric_data_request`` builds the request: one ``MetricStat`` query per metric, statistic and
target group (plus ``RequestCount``, the sample size), over the last ``window`` seconds as one
period. Rates are read as two sums and divided here rather than with metric math, so a report
can show the counts (``21/500``). ``read_metric_data`` makes the call through the ``Caller``,
follows ``NextToken`` and gives ``MetricData``: per metric, green's and blue's ``MetricReading``.
An AWS error (throttling that outlasted the retries, access denied) becomes
``MetricData.error``: the evaluation is inconclusive, never failed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.analysis import Analysis, Metric, MetricKind
from bluegreen.errors import AWSError, ValidationError

if TYPE_CHECKING:
    from bluegreen._aws import Caller, Clients
    from bluegreen.state import ServiceState

__all__ = [
    "NAMESPACE",
    "AnalysisTargets",
    "MetricData",
    "MetricReading",
    "metric_data_request",
    "next_targets",
    "read_metric_data",
    "targets_for",
    "window_end",
]

NAMESPACE = "AWS/ApplicationELB"
REQUESTS = "RequestCount"
_TARGET_GROUP_ARN = re.compile(
    r"^arn:[\w-]+:elasticloadbalancing:[^:]*:\d*:(targetgroup/[^/]+/\w+)$"
)
_LOAD_BALANCER_ARN = re.compile(r"^arn:[\w-]+:elasticloadbalancing:[^:]*:\d*:loadbalancer/(.+)$")
_ROLES = ("green", "blue")


@attrs.frozen(kw_only=True)
class AnalysisTargets:
    """Green's and blue's target groups and their Application Load Balancer, by ARN.

    Raises:
        ValidationError: an ARN that is not a target group's or an ALB's, each named.
    """

    green_target_group_arn: str
    blue_target_group_arn: str
    load_balancer_arn: str

    def __attrs_post_init__(self) -> None:
        problems = []
        for role in _ROLES:
            arn = getattr(self, f"{role}_target_group_arn")
            if not isinstance(arn, str) or not _TARGET_GROUP_ARN.match(arn):
                problems.append(
                    f"{role}_target_group_arn: {arn!r:.80} is not a target group ARN "
                    "(arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)"
                )
        if self.green_target_group_arn == self.blue_target_group_arn:
            problems.append("green and blue must be two target groups, not the same one twice")
        lb = self.load_balancer_arn
        match = _LOAD_BALANCER_ARN.match(lb) if isinstance(lb, str) else None
        if match is None:
            problems.append(
                f"load_balancer_arn: {lb!r:.80} is not a load balancer ARN "
                "(arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID)"
            )
        elif not match.group(1).startswith("app/"):
            problems.append(
                f"load_balancer_arn: {lb} is not an Application Load Balancer; analysis reads "
                f"{NAMESPACE} target-group metrics, which only an ALB publishes"
            )
        if problems:
            raise ValidationError(problems, subject="analysis targets")

    def dimensions(self, role: str) -> list[dict[str, str]]:
        """The ``TargetGroup`` and ``LoadBalancer`` dimensions of ``role``'s target group."""
        arn = getattr(self, f"{role}_target_group_arn")
        target_group = _TARGET_GROUP_ARN.match(arn).group(1)  # type: ignore[union-attr]
        load_balancer = _LOAD_BALANCER_ARN.match(self.load_balancer_arn).group(1)  # type: ignore[union-attr]
        return [
            {"Name": "TargetGroup", "Value": target_group},
            {"Name": "LoadBalancer", "Value": load_balancer},
        ]


@attrs.frozen
class MetricReading:
    """One metric of one target group over the window.

    Attributes:
        value: the metric's value (a rate as a share from 0 to 1), or None: no data.
        count: a rate's numerator (the errors), else None.
        total: a rate's denominator (the requests), else None.
    """

    value: float | None
    count: float | None = None
    total: float | None = None


@attrs.frozen(kw_only=True)
class MetricData:
    """What one GetMetricData call said about both target groups.

    Attributes:
        start, end: the window read (start included, end excluded).
        requests: requests each target group served in the window, by role.
        readings: per metric name, the ``(green, blue)`` readings.
        error: why nothing could be read (a provider error), or None.
    """

    start: dt.datetime
    end: dt.datetime
    requests: Mapping[str, float] = attrs.field(factory=dict)
    readings: Mapping[str, tuple[MetricReading, MetricReading]] = attrs.field(factory=dict)
    error: str | None = None


def window_end(now: float | dt.datetime) -> dt.datetime:
    """``now`` rounded down to the whole minute (the current minute is not complete yet)."""
    seconds = now.timestamp() if isinstance(now, dt.datetime) else float(now)
    return dt.datetime.fromtimestamp(int(seconds // 60) * 60, dt.UTC)


def _pairs(analysis: Analysis) -> list[tuple[str, str]]:
    """Every (metric, statistic) the analysis reads, ``RequestCount``/``Sum`` first."""
    pairs = [(REQUESTS, "Sum")]
    for metric in analysis.metrics:
        wanted = [(metric.metric, metric.stat)]
        if metric.per is not None:
            wanted.append((metric.per, "Sum"))
        pairs += [p for p in wanted if p not in pairs]
    return pairs


def _query_id(role: str, index: int) -> str:
    """A GetMetricData Id: a lowercase letter first, then letters, digits and ``_``."""
    return f"{role}_{index}"


def metric_data_request(
    analysis: Analysis, targets: AnalysisTargets, now: float | dt.datetime
) -> dict[str, Any]:
    """The keyword arguments of ``get_metric_data`` for the window that ends at ``now``
    (rounded down to the minute), all metrics of both target groups in one request."""
    end = window_end(now)
    start = end - dt.timedelta(seconds=analysis.window)
    queries = []
    for role in _ROLES:
        dimensions = targets.dimensions(role)
        for index, (name, stat) in enumerate(_pairs(analysis)):
            queries.append(
                {
                    "Id": _query_id(role, index),
                    "MetricStat": {
                        "Metric": {
                            "Namespace": NAMESPACE,
                            "MetricName": name,
                            "Dimensions": dimensions,
                        },
                        "Period": analysis.window,
                        "Stat": stat,
                    },
                    "Label": f"{role} {name} {stat}",
                    "ReturnData": True,
                }
            )
    return {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }


def read_metric_data(
    analysis: Analysis,
    targets: AnalysisTargets,
    now: float | dt.datetime,
    *,
    clients: Clients,
    caller: Caller,
) -> MetricData:
    """Read every metric of ``analysis`` for both target groups over the window ending at
    ``now``, in one GetMetricData call (and its further pages).

    An AWS error, or a result CloudWatch could not complete, gives ``MetricData.error``
    instead of raising: the evaluation is inconclusive.
    """
    request = metric_data_request(analysis, targets, now)
    start, end = request["StartTime"], request["EndTime"]
    values: dict[str, list[float]] = {q["Id"]: [] for q in request["MetricDataQueries"]}
    token: str | None = None
    try:
        while True:
            kwargs = dict(request, NextToken=token) if token else request
            answer = caller("GetMetricData", clients.cloudwatch.get_metric_data, **kwargs)
            for result in answer.get("MetricDataResults", []):
                status = result.get("StatusCode", "Complete")
                if status not in ("Complete", "PartialData"):
                    messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
                    return MetricData(
                        start=start,
                        end=end,
                        error=f"CloudWatch answered {status} for {result.get('Label')}"
                        + (f": {messages}" if messages else ""),
                    )
                values.setdefault(result["Id"], []).extend(result.get("Values", []))
            token = answer.get("NextToken")
            if not token:
                break
    except AWSError as exc:
        return MetricData(start=start, end=end, error=f"GetMetricData failed: {exc}")
    return _read(analysis, start, end, values)


def _combine(stat: str, values: list[float]) -> float | None:
    """One value for the window from its datapoints (one, unless the window straddles
    periods): sums add up, maxima and percentiles take the highest (the cautious reading),
    minima the lowest, averages their mean."""
    if not values:
        return None
    if stat in ("Sum", "SampleCount"):
        return float(sum(values))
    if stat == "Minimum":
        return float(min(values))
    if stat == "Average":
        return float(sum(values) / len(values))
    return float(max(values))


def _read(
    analysis: Analysis, start: dt.datetime, end: dt.datetime, values: Mapping[str, list[float]]
) -> MetricData:
    pairs = _pairs(analysis)

    def value(role: str, name: str, stat: str) -> float | None:
        return _combine(stat, values.get(_query_id(role, pairs.index((name, stat))), []))

    requests = {role: value(role, REQUESTS, "Sum") or 0.0 for role in _ROLES}
    readings = {}
    for metric in analysis.metrics:
        readings[metric.name] = (
            _reading(metric, lambda n, s: value("green", n, s)),
            _reading(metric, lambda n, s: value("blue", n, s)),
        )
    return MetricData(start=start, end=end, requests=requests, readings=readings)


def _reading(metric: Metric, value: Any) -> MetricReading:
    raw = value(metric.metric, metric.stat)
    if metric.kind is MetricKind.RATE:
        count = raw or 0.0  # ALB publishes error counts only when there are errors
        total = value(metric.per, "Sum") or 0.0
        return MetricReading(count / total if total > 0 else None, count=count, total=total)
    if metric.kind is MetricKind.COUNT:
        return MetricReading(raw or 0.0)
    return MetricReading(raw)


def targets_for(
    green_target_group: str, blue_target_group: str, *, clients: Clients, caller: Caller
) -> AnalysisTargets:
    """Green's and blue's target groups, by name (as a deployment's task sets name them), and
    their Application Load Balancer: one DescribeTargetGroups.

    Raises:
        ValidationError: a target group is missing, neither is attached to a load balancer,
            or it is not an Application Load Balancer.
        AWSError: the call failed.
    """
    found = caller(
        "DescribeTargetGroups",
        clients.elbv2.describe_target_groups,
        Names=[green_target_group, blue_target_group],
    )["TargetGroups"]
    by_name = {tg["TargetGroupName"]: tg for tg in found}
    green, blue = by_name.get(green_target_group), by_name.get(blue_target_group)
    if green is None or blue is None:
        missing = [n for n in (green_target_group, blue_target_group) if n not in by_name]
        raise ValidationError(
            [f"target group {', '.join(missing)} not found"], subject="analysis targets"
        )
    # A target group serves one load balancer at most; one with no listener forwarding to it
    # yet (green's, at weight 0) may list none.
    found_lbs = [*blue.get("LoadBalancerArns", []), *green.get("LoadBalancerArns", [])]
    if not found_lbs:
        raise ValidationError(
            [
                f"neither {green_target_group} nor {blue_target_group} is attached to a load "
                "balancer, so their metrics cannot be read"
            ],
            subject="analysis targets",
        )
    return AnalysisTargets(
        green_target_group_arn=green["TargetGroupArn"],
        blue_target_group_arn=blue["TargetGroupArn"],
        load_balancer_arn=found_lbs[0],
    )


def next_targets(state: ServiceState) -> AnalysisTargets:
    """Green's and blue's target groups for the next deployment of ``state``'s service, from
    what ``discover`` read (no call): blue's is the one its primary task set serves, green's
    the other of the deployment group's pair; the load balancer is the production
    listener's.

    Raises:
        ValidationError: the service's target groups or production listener are unknown,
            or its load balancer is not an Application Load Balancer.
    """
    blue = state.primary.target_group_arn if state.primary is not None else None
    if blue is None and state.load_balancers:
        blue = state.load_balancers[0].target_group_arn
    green = state.target_groups.other(blue) if state.target_groups is not None else None
    listener = state.production
    if green is None or blue is None or listener is None or not listener.load_balancer_arn:
        raise ValidationError(
            [
                f"service {state.cluster}/{state.service}: its deployment group's target "
                "groups and production listener could not be read, so green cannot be "
                "compared with blue; deploy without analysis, or fix the group's load "
                "balancer info"
            ],
            subject="analysis",
        )
    if listener.protocol not in (None, "HTTP", "HTTPS"):
        raise ValidationError(
            [
                f"service {state.cluster}/{state.service}: its production listener speaks "
                f"{listener.protocol}, so its load balancer is not an Application Load "
                f"Balancer; analysis reads {NAMESPACE} target-group metrics, which only an ALB "
                "publishes: deploy without analysis"
            ],
            subject="analysis",
        )
    return AnalysisTargets(
        green_target_group_arn=green.arn,
        blue_target_group_arn=blue,
        load_balancer_arn=listener.load_balancer_arn,
    )
