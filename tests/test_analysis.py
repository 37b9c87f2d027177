"""The analysis as data: loading from Python, a mapping, YAML and JSON; validation; defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis, Metric, MetricKind
from bluegreen.errors import ValidationError

SPEC: dict[str, Any] = {
    "interval": 30,
    "window": 120,
    "minimum_sample": 50,
    "failure_limit": 3,
    "consecutive_failure_limit": 2,
    "inconclusive_limit": 4,
    "dry_run": True,
    "confidence": 0.95,
    "metrics": [
        {
            "name": "5xx rate",
            "metric": "HTTPCode_Target_5XX_Count",
            "per": "RequestCount",
            "tolerance": 0.01,
            "ceiling": 0.05,
            "critical": True,
        },
        {
            "name": "p90 latency",
            "metric": "TargetResponseTime",
            "stat": "p90",
            "relative_tolerance": 0.2,
        },
        {
            "name": "unhealthy hosts",
            "metric": "UnHealthyHostCount",
            "stat": "Maximum",
            "ceiling": 0,
        },
    ],
}


def test_from_dict_builds_every_field_and_metric_kind() -> None:
    analysis = Analysis.from_dict(SPEC)

    assert (analysis.interval, analysis.window, analysis.minimum_sample) == (30, 120, 50)
    assert (analysis.failure_limit, analysis.consecutive_failure_limit) == (3, 2)
    assert analysis.inconclusive_limit == 4
    assert analysis.dry_run
    assert analysis.confidence == 0.95
    rate, latency, hosts = analysis.metrics
    assert (rate.kind, latency.kind, hosts.kind) == (
        MetricKind.RATE,
        MetricKind.STATISTIC,
        MetricKind.STATISTIC,
    )
    assert rate.critical
    assert not latency.critical
    assert analysis.metric("p90 latency") is latency
    assert Metric(name="c", metric="TargetConnectionErrorCount", ceiling=5).kind is MetricKind.COUNT
    # a mapping may mix Metric objects with metric mappings
    mixed = Analysis.from_dict({"metrics": [rate, SPEC["metrics"][1]]})
    assert mixed.metrics == (rate, latency)


def test_yaml_and_json_files_load_the_same_analysis(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(SPEC))
    (tmp_path / "a.json").write_text(json.dumps(SPEC))
    (tmp_path / "a.txt").write_text(json.dumps(SPEC))  # JSON by its first character

    expected = Analysis.from_dict(SPEC)
    for name in ("a.yaml", "a.json", "a.txt"):
        assert Analysis.from_file(tmp_path / name) == expected


def test_a_file_with_only_some_fields_takes_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "analysis.yaml"
    path.write_text("dry_run: true\n")

    analysis = Analysis.from_file(str(path))

    assert analysis.dry_run
    assert analysis.metrics == DEFAULT_ANALYSIS.metrics
    assert analysis.window == DEFAULT_ANALYSIS.window


def test_every_problem_is_listed_at_once_with_its_field_path() -> None:
    bad = {
        "window": 90,
        "interval": 0,
        "minimum_sample": 0,
        "inconclusive_limit": 1.5,
        "colour": "blue",
        "metrics": [
            {"name": "a", "metric": "HTTPCode_Target_5XX_Count", "per": "RequestCount"},
            {"name": "a", "metric": "bad metric!", "stat": "p999x", "tolerance": -1},
            {"name": "r", "metric": "X", "per": "RequestCount", "stat": "Average", "ceiling": 5},
            "not a mapping",
        ],
    }

    with pytest.raises(ValidationError) as caught:
        Analysis.from_dict(bad)

    problems = caught.value.problems
    for start in (
        "window:",
        "interval:",
        "minimum_sample:",
        "inconclusive_limit:",
        "colour: unknown field",
        "metrics[0]: 'a' has no limit",
        "metrics[1].name: 'a' is used twice",
        "metrics[1].metric:",
        "metrics[1].stat:",
        "metrics[1].tolerance:",
        "metrics[2].stat: a rate",
        "metrics[2].ceiling: a rate is a share from 0 to 1",
        "metrics[3]: give a mapping",
    ):
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == 13
    assert "(13 problems)" in str(caught.value)


def test_an_analysis_that_could_never_fail_is_rejected() -> None:
    with pytest.raises(ValidationError, match="can never fail; set failure_limit"):
        Analysis(failure_limit=None)
    # a critical metric alone can fail it
    critical = Metric(
        name="5xx",
        metric="HTTPCode_Target_5XX_Count",
        per="RequestCount",
        ceiling=0.1,
        critical=True,
    )
    assert Analysis(metrics=[critical], failure_limit=None).metrics == (critical,)


def test_building_in_python_validates_too() -> None:
    with pytest.raises(ValidationError) as caught:
        Metric(name="", metric="TargetResponseTime", stat="median")
    assert len(caught.value.problems) == 3  # name, stat, no limit
    with pytest.raises(ValidationError, match="metrics: give at least one metric"):
        Analysis(metrics=())
    with pytest.raises(ValidationError, match=r"metrics\[0\]: dict is not a Metric"):
        Analysis(metrics=[{"name": "5xx", "metric": "HTTPCode_Target_5XX_Count", "ceiling": 3}])


def test_unreadable_files_name_the_file_and_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("metrics: [\n")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")

    with pytest.raises(
        ValidationError, match=r"analysis file .*broken.yaml is invalid: not well-formed YAML"
    ):
        Analysis.from_file(broken)
    with pytest.raises(ValidationError, match="expected a mapping of analysis fields, got list"):
        Analysis.from_file(listed)
    with pytest.raises(ValidationError, match=r"missing.yaml is invalid: cannot read it"):
        Analysis.from_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "analysis",
    [DEFAULT_ANALYSIS, Analysis.from_dict(SPEC), Analysis(confidence=None)],
    ids=["default", "custom", "as-measured"],
)
def test_to_dict_round_trips_through_json_and_yaml(analysis: Analysis, tmp_path: Path) -> None:
    assert analysis.to_dict()["confidence"] == analysis.confidence
    assert Analysis.from_dict(analysis.to_dict()) == analysis
    (tmp_path / "a.json").write_text(json.dumps(analysis.to_dict()))
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(analysis.to_dict()))
    assert Analysis.from_file(tmp_path / "a.json") == analysis
    assert Analysis.from_file(tmp_path / "a.yaml") == analysis


def test_default_analysis_judges_the_5xx_rate_alone_and_fails_once_99_percent_sure() -> None:
    """1% 5xx over blue's in 3-minute windows, judged from 50 requests; one evaluation that
    is 99% sure green is over it fails the analysis. Latency is left out: what is slow depends
    on the service (docs/analysis.example.yaml adds a p99 limit)."""
    (rate,) = DEFAULT_ANALYSIS.metrics

    assert (rate.name, rate.metric, rate.per, rate.tolerance) == (
        "5xx rate",
        "HTTPCode_Target_5XX_Count",
        "RequestCount",
        0.01,
    )
    assert (rate.relative_tolerance, rate.ceiling, rate.critical) == (None, None, False)
    with pytest.raises(KeyError):
        DEFAULT_ANALYSIS.metric("p99 response time")
    assert (DEFAULT_ANALYSIS.interval, DEFAULT_ANALYSIS.window) == (60, 180)
    assert DEFAULT_ANALYSIS.minimum_sample == 50
    assert (DEFAULT_ANALYSIS.failure_limit, DEFAULT_ANALYSIS.consecutive_failure_limit) == (1, None)
    assert DEFAULT_ANALYSIS.confidence == 0.99
    assert not DEFAULT_ANALYSIS.dry_run
    assert Analysis() == DEFAULT_ANALYSIS
    assert Analysis.from_dict({}) == DEFAULT_ANALYSIS


@pytest.mark.parametrize("confidence", [0.4, 1.0, "x"])
def test_a_confidence_outside_one_half_to_under_one_is_refused_naming_the_field(
    confidence: Any,
) -> None:
    with pytest.raises(ValidationError) as from_mapping:
        Analysis.from_dict({"confidence": confidence})
    with pytest.raises(ValidationError) as in_python:
        Analysis(confidence=confidence)

    for caught in (from_mapping, in_python):
        (problem,) = caught.value.problems
        assert problem.startswith(f"confidence: {confidence!r} must be a share from 0.5")
        assert "or null to judge rates as measured" in problem


def test_a_confidence_of_none_or_from_one_half_to_under_one_is_accepted() -> None:
    assert Analysis(confidence=None).confidence is None
    assert Analysis.from_dict({"confidence": None}).confidence is None
    assert Analysis.from_dict({"confidence": 0.5}).confidence == 0.5
    assert Analysis(confidence=0.999).confidence == 0.999


def test_limit_is_the_looser_tolerance_under_the_ceiling() -> None:
    metric = Metric(
        name="p99",
        metric="TargetResponseTime",
        stat="p99",
        tolerance=0.025,
        relative_tolerance=0.2,
        ceiling=2.0,
    )

    assert metric.limit(0.05) == pytest.approx(0.075)  # + 25 ms beats x 1.2 at 50 ms
    assert metric.limit(1.0) == pytest.approx(1.2)  # x 1.2 beats + 25 ms at 1 s
    assert metric.limit(1.9) == 2.0  # the ceiling caps both
    assert metric.limit(None) == 2.0  # blue unknown: only the ceiling
    assert Metric(name="r", metric="X", tolerance=1).limit(None) is None
