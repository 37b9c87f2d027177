"""Reading moto's CloudWatch datapoints back as CloudWatch does: one value per period for a
metric and a statistic, percentiles included (moto answers none: ``p99`` crashes its
GetMetricData and GetMetricStatistics returns empty datapoints for ExtendedStatistics).

Datapoints are moto's own objects: single values (``Value`` or ``Values``/``Counts``) and
statistic sets (``StatisticValues``). A statistic set counts as ``SampleCount`` samples
spread evenly between its ``Minimum`` and ``Maximum``, which is how the simulated ALB
publishes ``TargetResponseTime`` (one set per slice of the distribution, see
``_traffic``), so percentiles come out as the traffic's behaviour set them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "MetricIndex",
    "MetricKey",
    "as_naive_utc",
    "datapoints",
    "key_of",
    "metric_key",
    "statistic",
]

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")

# (namespace, metric name, frozenset of (dimension name, value))
MetricKey = tuple[str, str, frozenset[tuple[str, str]]]


def as_naive_utc(when: float) -> dt.datetime:
    """moto keeps timestamps as naive UTC datetimes."""
    return dt.datetime.fromtimestamp(when, dt.UTC).replace(tzinfo=None)


def key_of(datum: Any) -> MetricKey:
    """The metric a moto datapoint belongs to."""
    dims = frozenset((d.name, d.value) for d in datum.dimensions)
    return (datum.namespace, datum.name, dims)


def metric_key(namespace: str, name: str, dimensions: Iterable[Mapping[str, str]]) -> MetricKey:
    return (namespace, name, frozenset((d["Name"], d["Value"]) for d in dimensions))


class MetricIndex:
    """moto's datapoints grouped by metric, kept up to date as moto's list grows (it only
    grows; a shorter list means a new backend, and the index starts again)."""

    def __init__(self) -> None:
        self._data: list[Any] | None = None
        self._seen = 0
        self._by_key: dict[MetricKey, list[Any]] = {}

    def of(self, data: list[Any], key: MetricKey) -> list[Any]:
        if data is not self._data or len(data) < self._seen:
            self._data, self._seen, self._by_key = data, 0, {}
        for datum in data[self._seen :]:
            self._by_key.setdefault(key_of(datum), []).append(datum)
        self._seen = len(data)
        return self._by_key.get(key, [])


def datapoints(
    data: Sequence[Any], key: MetricKey, *, period: int, start: float, end: float, stat: str
) -> dict[float, float]:
    """``{period start (epoch seconds): value}`` for every period in ``[start, end)`` that
    has data; ``start`` is a multiple of ``period``."""
    lo, hi = as_naive_utc(start), as_naive_utc(end)
    buckets: dict[float, list[Any]] = {}
    for datum in data:
        if not lo <= datum.timestamp < hi or key_of(datum) != key:
            continue
        offset = (datum.timestamp - lo).total_seconds()
        bucket = start + (offset // period) * period
        buckets.setdefault(bucket, []).append(datum)
    out: dict[float, float] = {}
    for when, items in sorted(buckets.items()):
        value = statistic(items, stat)
        if value is not None:
            out[when] = value
    return out


def statistic(items: Sequence[Any], stat: str) -> float | None:
    """One statistic (``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount``,
    ``pNN``) of moto datapoints; None if it has no value (no samples)."""
    # (minimum, maximum, count, sum) per datapoint
    parts = [
        (d.min, d.max, float(d.sample_count), float(d.sum))
        if hasattr(d, "sample_count")
        else (d.value, d.value, 1.0, float(d.value))
        for d in items
    ]
    count = sum(p[2] for p in parts)
    if stat == "SampleCount":
        return count
    if stat == "Sum":
        return sum(p[3] for p in parts)
    if not parts or count <= 0:
        return None
    if stat == "Average":
        return sum(p[3] for p in parts) / count
    if stat == "Minimum":
        return float(min(p[0] for p in parts))
    if stat == "Maximum":
        return float(max(p[1] for p in parts))
    match = _PERCENTILE.match(stat)
    if match is None:
        return None
    return _percentile(parts, count, float(match.group(1)))


def _percentile(
    parts: Sequence[tuple[float, float, float, float]], count: float, percent: float
) -> float:
    rank = count * percent / 100.0
    seen = 0.0
    for low, high, n, _ in sorted(parts):
        if n <= 0:
            continue
        if seen + n >= rank:
            return float(low + (high - low) * (rank - seen) / n)
        seen += n
    return float(max(p[1] for p in parts))
