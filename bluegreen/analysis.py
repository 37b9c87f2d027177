"""An analysis as data: the metrics that judge green against blue, their limits, and the rules.

Each ``Metric`` is one ALB target-group metric (``AWS/ApplicationELB``) read for green's
target group and for blue's over the same window: a rate (``metric`` summed over ``per``
summed, e.g. 5xx over requests), a statistic (``TargetResponseTime`` at ``p99``) or a count
(``UnHealthyHostCount`` at ``Maximum``). Green passes a metric while it stays within blue's
value plus a ``tolerance`` or times ``1 + relative_tolerance`` (whichever is looser), and
under an absolute ``ceiling``. An ``Analysis`` adds how often to evaluate, the window, the
minimum sample (fewer requests is inconclusive, never a pass) and when failures end it.

Load one from Python (``Analysis(...)``), a mapping (``Analysis.from_dict``) or a YAML/JSON
file (``Analysis.from_file``); every problem is listed at once in a ``ValidationError``.
``DEFAULT_ANALYSIS`` works for any ALB service.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from bluegreen.errors import ValidationError

__all__ = ["DEFAULT_ANALYSIS", "Analysis", "Metric", "MetricKind"]

_METRIC_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,255}$")
_STATS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^(p|tm|wm|tc|ts)(\d{1,2}(\.\d{1,10})?|100)$")
_MAX_QUERIES = 500  # GetMetricData's limit per call
_MAX_WINDOW = 86_400


class MetricKind(enum.StrEnum):
    """What a metric's value is, which decides how it reads and what no data means."""

    RATE = "rate"
    """``metric`` summed divided by ``per`` summed; no errors published means 0."""
    COUNT = "count"
    """A ``Sum``: ALB publishes counts only when they are not 0, so no data means 0."""
    STATISTIC = "statistic"
    """Any other statistic (``p99``, ``Average``, ``Maximum``); no data is inconclusive."""


@attrs.frozen(kw_only=True)
class Metric:
    """One comparison of green's target group with blue's.

    Args:
        name: how reports name it (``5xx rate``); unique within an analysis.
        metric: the ALB target-group metric (``HTTPCode_Target_5XX_Count``).
        stat: the CloudWatch statistic: ``Sum``, ``Average``, ``Minimum``, ``Maximum``,
            ``SampleCount`` or a percentile such as ``p99``.
        per: the denominator of a rate (``RequestCount``); needs ``stat="Sum"``.
        tolerance: green may exceed blue by this much, in the metric's unit (0.01 is one
            percentage point of a rate; seconds for response times).
        relative_tolerance: green may exceed blue by this share of blue (0.2: 20% more).
        ceiling: green may never exceed this, whatever blue does.
        critical: a failure ends the analysis at once.
    """

    name: str
    metric: str
    stat: str = "Sum"
    per: str | None = None
    tolerance: float | None = None
    relative_tolerance: float | None = None
    ceiling: float | None = None
    critical: bool = False

    def __attrs_post_init__(self) -> None:
        problems = _metric_problems(attrs.asdict(self), "")
        if problems:
            raise ValidationError(problems, subject=f"metric {self.name!r}")

    @property
    def kind(self) -> MetricKind:
        if self.per is not None:
            return MetricKind.RATE
        return MetricKind.COUNT if self.stat == "Sum" else MetricKind.STATISTIC

    @property
    def is_relative(self) -> bool:
        """Whether the limit depends on blue's value."""
        return self.tolerance is not None or self.relative_tolerance is not None

    def limit(self, blue: float | None) -> float | None:
        """The highest value green may have given blue's (None: blue unknown), or None when
        no limit applies (only relative ones, and blue unknown)."""
        relative = []
        if blue is not None and self.tolerance is not None:
            relative.append(blue + self.tolerance)
        if blue is not None and self.relative_tolerance is not None:
            relative.append(blue * (1 + self.relative_tolerance))
        limits = [max(relative)] if relative else []
        if self.ceiling is not None:
            limits.append(self.ceiling)
        return min(limits) if limits else None

    def to_dict(self) -> dict[str, Any]:
        """The mapping ``Metric.from_dict`` reads back; unset limits are left out."""
        out: dict[str, Any] = {"name": self.name, "metric": self.metric, "stat": self.stat}
        for key in ("per", "tolerance", "relative_tolerance", "ceiling"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.critical:
            out["critical"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metric:
        """A metric from a mapping with ``Metric``'s field names.

        Raises:
            ValidationError: every problem, each naming the field and the fix.
        """
        problems = _metric_problems(data, "")
        if problems:
            raise ValidationError(problems, subject="metric")
        return cls(**data)


def _default_metrics() -> tuple[Metric, ...]:
    return (
        Metric(
            name="5xx rate",
            metric="HTTPCode_Target_5XX_Count",
            per="RequestCount",
            tolerance=0.01,
        ),
    )


def _to_metrics(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value


@attrs.frozen(kw_only=True)
class Analysis:
    """How green is judged against blue while it serves production traffic.

    Every ``interval`` seconds an evaluation reads each metric for both target groups over
    the last ``window`` seconds in one GetMetricData call. A metric whose target group served
    fewer than ``minimum_sample`` requests in the window is inconclusive, never a pass.

    Args:
        metrics: what is compared.
        interval: seconds between evaluations.
        window: seconds each evaluation looks back, a multiple of 60 (ALB publishes each
            minute).
        minimum_sample: requests a target group must serve in the window to be judged.
        failure_limit: failed evaluations in all that fail the analysis (None: no limit).
        consecutive_failure_limit: failed evaluations in a row that fail it (None: no
            limit); only a passed evaluation breaks a row.
        inconclusive_limit: evaluations in a row that could not be read (throttling, an
            error, no data) after which the analysis ends inconclusive (None: never).
        dry_run: evaluate and report, but never fail.
        confidence: how sure an evaluation must be that green's rate is over its limit to
            fail it: the lower bound of the Wilson score interval for green's rate at this
            one-sided confidence must be over the limit; a rate over the limit that could
            still be within it (a few errors in a small sample) is inconclusive. None: the
            rate as measured. Rates only: other statistics are judged as measured.
        metrics_delay: seconds after a whole minute before its metrics are read: the ALB
            publishes each minute's numbers shortly after it ends (how long is not
            documented, so it is a setting). Evaluations come this long after a minute.
        server_alarm: also attach a CloudWatch alarm on green's first rate metric to the
            deployment, so CodeDeploy stops it even when the release process dies
            (``bluegreen.analysis_alarm``).
    """

    metrics: tuple[Metric, ...] = attrs.field(factory=_default_metrics, converter=_to_metrics)
    interval: float = 60.0
    window: int = 180
    minimum_sample: int = 50
    failure_limit: int | None = 1
    consecutive_failure_limit: int | None = None
    inconclusive_limit: int | None = 3
    dry_run: bool = False
    confidence: float | None = 0.99
    metrics_delay: float = 10.0
    server_alarm: bool = True

    def __attrs_post_init__(self) -> None:
        problems = _analysis_problems(self._fields(), "")
        problems += [
            f"metrics[{i}]: {type(m).__name__} is not a Metric; build Metric(...) or load "
            "mappings with Analysis.from_dict"
            for i, m in enumerate(self.metrics)
            if not isinstance(m, Metric)
        ]
        if problems:
            raise ValidationError(problems, subject="analysis")

    def _fields(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in attrs.fields(type(self))}
        fields["metrics"] = [m.to_dict() if isinstance(m, Metric) else m for m in self.metrics]
        return fields

    def metric(self, name: str) -> Metric:
        """The metric called ``name``."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The mapping ``Analysis.from_dict`` reads back (and a file may hold)."""
        out = self._fields()
        out["interval"] = float(self.interval)
        out["metrics_delay"] = float(self.metrics_delay)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Analysis:
        """An analysis from a mapping with the field names of ``Analysis`` and ``Metric``.

        Missing fields take their defaults (``metrics`` too: the default metrics).

        Raises:
            ValidationError: every problem at once, each naming its field path
                (``metrics[1].tolerance``) and what would be right.
        """
        subject = f"analysis {source}" if source else "analysis"
        if not isinstance(data, Mapping):
            raise ValidationError(
                [f"expected a mapping of analysis fields, got {type(data).__name__}"],
                subject=subject,
            )
        problems = _analysis_problems(data, "")
        if problems:
            raise ValidationError(problems, subject=subject)
        fields = dict(data)
        if "metrics" in fields:
            fields["metrics"] = tuple(
                m if isinstance(m, Metric) else Metric(**m) for m in fields["metrics"]
            )
        return cls(**fields)

    @classmethod
    def from_file(cls, path: str | Path) -> Analysis:
        """An analysis from a YAML or JSON file (JSON when it ends in ``.json`` or starts
        with ``{``).

        Raises:
            ValidationError: the file cannot be read or parsed, or holds invalid fields.
        """
        path = Path(path)
        subject = f"analysis file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ValidationError(
                [f"cannot read it ({reason}): give the path of a YAML or JSON file"],
                subject=subject,
            ) from None
        if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError([f"not well-formed JSON: {exc}"], subject=subject) from None
        else:
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ValidationError([f"not well-formed YAML: {exc}"], subject=subject) from None
        return cls.from_dict(data if data is not None else {}, source=f"file {path}")


# -- checks, shared by the constructors and from_dict ------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    return f"{value!r:.60}"


_METRIC_FIELDS = tuple(f.name for f in attrs.fields(Metric))
_ANALYSIS_FIELDS = tuple(f.name for f in attrs.fields(Analysis))


def _unknown(data: Mapping[str, Any], known: Sequence[str], path: str) -> list[str]:
    return [
        f"{path}{key}: unknown field; the fields are {', '.join(known)}"
        for key in data
        if key not in known
    ]


def _is_stat(value: Any) -> bool:
    return isinstance(value, str) and (value in _STATS or bool(_PERCENTILE.match(value)))


def _metric_problems(data: Mapping[str, Any], path: str) -> list[str]:
    problems = _unknown(data, _METRIC_FIELDS, path)
    name, metric = data.get("name"), data.get("metric")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{path}name: give the metric a name, e.g. '5xx rate'")
    for key in ("metric", "per"):
        value = data.get(key)
        if (key == "metric" or value is not None) and (
            not isinstance(value, str) or not _METRIC_NAME.match(value)
        ):
            problems.append(
                f"{path}{key}: {_shown(value)} is not a CloudWatch metric name; give an ALB "
                "target-group metric such as "
                + ("'HTTPCode_Target_5XX_Count'" if key == "metric" else "'RequestCount'")
            )
    stat = data.get("stat", "Sum")
    if not _is_stat(stat):
        problems.append(
            f"{path}stat: {_shown(stat)} is not a CloudWatch statistic; use one of "
            f"{', '.join(_STATS)} or a percentile such as p99"
        )
    rate = data.get("per") is not None
    if rate and stat != "Sum":
        problems.append(f"{path}stat: a rate (per={data.get('per')!r}) sums both metrics: use Sum")
    limits = ("tolerance", "relative_tolerance", "ceiling")
    for key in limits:
        value = data.get(key)
        if value is not None and (not _number(value) or value < 0):
            problems.append(f"{path}{key}: {_shown(value)} must be a number, 0 or more")
        elif rate and key != "relative_tolerance" and value is not None and value >= 1:
            problems.append(
                f"{path}{key}: a rate is a share from 0 to 1, so {value} allows everything; "
                f"write 0.01 for 1%"
            )
    if all(data.get(key) is None for key in limits):
        problems.append(
            f"{path.rstrip('.') or 'limits'}: {name if isinstance(name, str) else metric!r} has "
            "no limit; give "
            "tolerance (green <= blue + x), relative_tolerance (green <= blue * (1 + y)) "
            "and/or ceiling (green <= z)"
        )
    if not isinstance(data.get("critical", False), bool):
        problems.append(f"{path}critical: must be true or false")
    return problems


def _analysis_problems(data: Mapping[str, Any], path: str) -> list[str]:
    problems = _unknown(data, _ANALYSIS_FIELDS, path)
    metrics = data.get("metrics", _default_metrics())
    if isinstance(metrics, Mapping | str) or not isinstance(metrics, Sequence):
        problems.append(f"{path}metrics: give a list of metrics, got {type(metrics).__name__}")
        metrics = ()
    elif not metrics:
        problems.append(f"{path}metrics: give at least one metric, e.g. the default '5xx rate'")
    names: set[str] = set()
    pairs: set[tuple[str, str]] = {("RequestCount", "Sum")}
    for i, given in enumerate(metrics):
        where = f"{path}metrics[{i}]."
        metric = given.to_dict() if isinstance(given, Metric) else given
        if not isinstance(metric, Mapping):
            problems.append(f"{where[:-1]}: give a mapping of metric fields")
            continue
        problems += _metric_problems(metric, where)
        name = metric.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append(f"{where}name: {name!r} is used twice; give each metric its name")
            names.add(name)
        pairs.add((str(metric.get("metric")), str(metric.get("stat", "Sum"))))
        if metric.get("per") is not None:
            pairs.add((str(metric.get("per")), "Sum"))
    if 2 * len(pairs) > _MAX_QUERIES:
        problems.append(
            f"{path}metrics: {len(pairs)} metric/statistic pairs need {2 * len(pairs)} queries, "
            f"more than GetMetricData's {_MAX_QUERIES}; keep at most {_MAX_QUERIES // 2}"
        )
    interval = data.get("interval", _DEFAULTS["interval"])
    if not _number(interval) or interval <= 0:
        problems.append(f"{path}interval: {_shown(interval)} must be seconds, more than 0")
    window = data.get("window", _DEFAULTS["window"])
    if not _whole(window) or window < 60 or window % 60 or window > _MAX_WINDOW:
        problems.append(
            f"{path}window: {_shown(window)} must be whole minutes in seconds (60, 120, 180, "
            f"... up to {_MAX_WINDOW}): ALB publishes its metrics each minute"
        )
    sample = data.get("minimum_sample", _DEFAULTS["minimum_sample"])
    if not _whole(sample) or sample < 1:
        problems.append(
            f"{path}minimum_sample: {_shown(sample)} must be a whole number of requests, at least 1"
        )
    for key in ("failure_limit", "consecutive_failure_limit", "inconclusive_limit"):
        value = data.get(key, _DEFAULTS[key])
        if value is not None and (not _whole(value) or value < 1):
            problems.append(
                f"{path}{key}: {_shown(value)} must be a whole number, at least 1, or null "
                "for no limit"
            )
    if (
        data.get("failure_limit", _DEFAULTS["failure_limit"]) is None
        and data.get("consecutive_failure_limit") is None
        and not any(isinstance(m, Metric | Mapping) and _critical(m) for m in metrics)
    ):
        problems.append(
            f"{path}failure_limit: with no failure_limit, no consecutive_failure_limit and no "
            "critical metric the analysis can never fail; set failure_limit (e.g. 2)"
        )
    confidence = data.get("confidence", _DEFAULTS["confidence"])
    if confidence is not None and (not _number(confidence) or not 0.5 <= confidence < 1):
        problems.append(
            f"{path}confidence: {_shown(confidence)} must be a share from 0.5 to less than 1 "
            "(0.99: fail only when 99% sure), or null to judge rates as measured"
        )
    delay = data.get("metrics_delay", _DEFAULTS["metrics_delay"])
    if not _number(delay) or not 0 <= delay < 3600:
        problems.append(
            f"{path}metrics_delay: {_shown(delay)} must be seconds, from 0 to less than an hour"
        )
    if not isinstance(data.get("dry_run", False), bool):
        problems.append(f"{path}dry_run: must be true or false")
    if not isinstance(data.get("server_alarm", True), bool):
        problems.append(f"{path}server_alarm: must be true or false")
    return problems


def _critical(metric: Metric | Mapping[str, Any]) -> bool:
    if isinstance(metric, Metric):
        return metric.critical
    return metric.get("critical") is True


_DEFAULTS: dict[str, Any] = {f.name: f.default for f in attrs.fields(Analysis)}

DEFAULT_ANALYSIS = Analysis()
"""Modelled on ECS Express Mode's rollback alarm (about 1% 5xx over 2 of 3 minutes): every
minute, over the last 3 minutes, green's 5xx rate may exceed blue's by 1 percentage point.
One evaluation that shows it over that limit beyond doubt (99% sure, by the Wilson score
interval) fails it, so a bad green is stopped at the first minute its requests prove it, and
a few errors in a small sample never stop a good one. Each target group needs 50 requests in
the window to be judged. Latency is left out: what is slow depends on the service (see
``docs/analysis.example.yaml`` for a p99 limit)."""
