"""GetMetricData with percentiles and metric math, answered from moto's datapoints; and
ListMetrics listing each metric once.

moto 5.x's GetMetricData fails on a percentile statistic (``p99``: a ``TypeError`` inside
moto) and evaluates no expression beyond a bare query id. ``install`` replaces the method on
one moto CloudWatch backend (never moto's class): ``MetricStat`` queries take any statistic
``_metric_data`` knows (percentiles included) and ``Expression`` queries the arithmetic and
functions of ``_metric_math``. moto still checks the times and serialises the answer in
whatever protocol the client speaks; Metrics Insights (``SELECT ...``) queries stay moto's.

moto's ListMetrics compares every datapoint with every metric found so far and never
matches one with two or more dimensions, so it lists every datapoint of an ALB metric, in
time quadratic in their number; ``install`` lists each metric once, in one pass.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bluegreen.testing._metric_data import MetricIndex, MetricKey, datapoints, key_of, metric_key
from bluegreen.testing._metric_math import MathError, Series, evaluate

__all__ = ["install"]

_MARK = "_bluegreen_metric_data"


def install(backend: Any) -> None:
    """Answer ``backend``'s GetMetricData here (once per backend)."""
    if getattr(backend, _MARK, False):
        return
    original = backend.get_metric_data
    index = MetricIndex()

    def get_metric_data(
        queries: list[dict[str, Any]],
        start_time: dt.datetime,
        end_time: dt.datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if any(str(q.get("Expression", "")).startswith("SELECT") for q in queries):
            return list(original(queries, start_time, end_time, scan_by))
        original([], start_time, end_time, scan_by)  # moto's checks of the times
        return answer(backend.metric_data, index, queries, (start_time, end_time), scan_by=scan_by)

    def get_filtered_metrics(
        metric_name: str, namespace: str, dimensions: list[dict[str, str]]
    ) -> list[Any]:
        found: dict[MetricKey, Any] = {}
        for datum in backend.get_all_metrics():
            key = key_of(datum)
            if key not in found and datum.filter(namespace, metric_name, dimensions):
                found[key] = datum
        return list(found.values())

    backend.get_metric_data = get_metric_data
    backend.get_filtered_metrics = get_filtered_metrics
    setattr(backend, _MARK, True)


def _epoch(when: dt.datetime) -> float:
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return aware.replace(microsecond=0).timestamp()


def _naive(when: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(when, dt.UTC).replace(tzinfo=None)


def answer(
    data: list[Any],
    index: MetricIndex,
    queries: list[dict[str, Any]],
    window: tuple[dt.datetime, dt.datetime],
    *,
    scan_by: str,
) -> list[dict[str, Any]]:
    """moto's result dicts (``id``, ``label``, ``values``, ``timestamps``, ``status_code``)
    for the ``(StartTime, EndTime)`` window."""
    # CloudWatch rounds a recent StartTime down to the whole minute.
    start, end = _epoch(window[0]) // 60 * 60, _epoch(window[1])
    stats = [q for q in queries if "MetricStat" in q]
    default_period = int(stats[0]["MetricStat"]["Period"]) if stats else 60
    series: dict[str, Series] = {}
    labels: dict[str, str] = {}
    for query in stats:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        key = metric_key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions") or [])
        series[query["Id"]] = datapoints(
            index.of(data, key),
            key,
            period=int(stat["Period"]),
            start=start,
            end=end,
            stat=stat["Stat"],
        )
        labels[query["Id"]] = query.get("Label") or f"{metric['MetricName']} {stat['Stat']}"
    status: dict[str, str] = {}
    for query in queries:
        if "MetricStat" in query:
            continue
        period = int(query.get("Period") or default_period)
        periods = [start + i * period for i in range(int((end - start) // period))]
        try:
            series[query["Id"]] = evaluate(str(query.get("Expression", "")), series, periods)
            status[query["Id"]] = "Complete"
        except MathError:
            series[query["Id"]] = {}
            status[query["Id"]] = "InternalError"
        labels[query["Id"]] = query.get("Label") or query["Id"]
    results = []
    for query in queries:
        if str(query.get("ReturnData", True)).lower() == "false":
            continue
        points = sorted(series[query["Id"]].items(), reverse=scan_by == "TimestampDescending")
        results.append(
            {
                "id": query["Id"],
                "label": labels[query["Id"]],
                "values": [v for _, v in points],
                "timestamps": [_naive(t) for t, _ in points],
                "status_code": status.get(query["Id"], "Complete"),
            }
        )
    return results
