"""One GetMetricData request for all metrics of both target groups, and its answer read back."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator

from bluegreen._aws import Caller
from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis, Metric
from bluegreen.analysis_query import (
    AnalysisTargets,
    MetricData,
    metric_data_request,
    read_metric_data,
)
from bluegreen.errors import ValidationError

PREFIX = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
TARGETS = AnalysisTargets(
    green_target_group_arn=f"{PREFIX}:targetgroup/web-green/0123456789abcdef",
    blue_target_group_arn=f"{PREFIX}:targetgroup/web-blue/fedcba9876543210",
    load_balancer_arn=f"{PREFIX}:loadbalancer/app/web/50dc6c495c0c9188",
)
# moto's GetMetricData computes no percentiles (a p99 query fails inside moto), so the
# analyses read against moto use Maximum for response times.
MOTO_ANALYSIS = Analysis(
    metrics=[
        Metric(
            name="5xx rate", metric="HTTPCode_Target_5XX_Count", per="RequestCount", tolerance=0.01
        ),
        Metric(name="slowest", metric="TargetResponseTime", stat="Maximum", relative_tolerance=0.2),
        Metric(name="unhealthy", metric="UnHealthyHostCount", stat="Maximum", ceiling=0),
        Metric(name="connection errors", metric="TargetConnectionErrorCount", ceiling=5),
    ]
)
P99 = Metric(
    name="p99 response time",
    metric="TargetResponseTime",
    stat="p99",
    relative_tolerance=0.2,
    tolerance=0.025,
)
"""The p99 limit of docs/analysis.example.yaml (the default judges the 5xx rate alone)."""
NOW = dt.datetime(2026, 12, 2, 12, 0, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    """One session for the module's clients: each new session parses the models again."""
    return boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")


def test_request_is_valid_for_botocores_model_with_one_query_per_metric_and_target_group(
    session: boto3.Session,
) -> None:
    rate_and_p99 = Analysis(metrics=[DEFAULT_ANALYSIS.metric("5xx rate"), P99])
    request = metric_data_request(rate_and_p99, TARGETS, NOW)

    model = session.client("cloudwatch").meta.service_model
    shape = model.operation_model("GetMetricData").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    queries = request["MetricDataQueries"]
    ids = [q["Id"] for q in queries]
    assert len(set(ids)) == len(ids) == 6  # RequestCount, 5XX Sum, TargetResponseTime p99, x2
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]{0,254}", i) for i in ids)
    stats = {(q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]) for q in queries}
    assert stats == {
        ("RequestCount", "Sum"),
        ("HTTPCode_Target_5XX_Count", "Sum"),
        ("TargetResponseTime", "p99"),
    }
    dimensions = {
        tuple((d["Name"], d["Value"]) for d in q["MetricStat"]["Metric"]["Dimensions"])
        for q in queries
    }
    assert dimensions == {
        (
            ("TargetGroup", "targetgroup/web-green/0123456789abcdef"),
            ("LoadBalancer", "app/web/50dc6c495c0c9188"),
        ),
        (
            ("TargetGroup", "targetgroup/web-blue/fedcba9876543210"),
            ("LoadBalancer", "app/web/50dc6c495c0c9188"),
        ),
    }
    assert all(q["MetricStat"]["Metric"]["Namespace"] == "AWS/ApplicationELB" for q in queries)
    assert all(q["MetricStat"]["Period"] == 180 for q in queries)
    # the window ends at the last whole minute and spans the analysis's window
    assert request["EndTime"] == dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    assert request["StartTime"] == dt.datetime(2026, 12, 2, 11, 57, tzinfo=dt.UTC)
    # the default analysis (the 5xx rate alone) needs RequestCount and 5XX Sum, x2
    default = metric_data_request(DEFAULT_ANALYSIS, TARGETS, NOW)
    assert not ParamValidator().validate(default, shape).has_errors()
    assert {
        (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"])
        for q in default["MetricDataQueries"]
    } == {("RequestCount", "Sum"), ("HTTPCode_Target_5XX_Count", "Sum")}
    assert len(default["MetricDataQueries"]) == 4


def test_target_arns_are_checked_and_every_problem_named() -> None:
    with pytest.raises(ValidationError) as caught:
        AnalysisTargets(
            green_target_group_arn="web-green",
            blue_target_group_arn="web-green",
            load_balancer_arn=f"{PREFIX}:loadbalancer/net/web/50dc6c495c0c9188",
        )
    problems = caught.value.problems
    assert len(problems) == 4
    assert problems[0].startswith("green_target_group_arn: 'web-green' is not a target group ARN")
    assert "not the same one twice" in problems[2]
    assert "is not an Application Load Balancer" in problems[3]


def _put(cw: Any, role: str, at: dt.datetime, **metrics: float | list[float]) -> None:
    dims = TARGETS.dimensions(role)
    data = []
    for name, value in metrics.items():
        datum: dict[str, Any] = {"MetricName": name, "Dimensions": dims, "Timestamp": at}
        if isinstance(value, list):
            datum["Values"] = value
        else:
            datum["Value"] = value
        data.append(datum)
    cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def test_reads_both_target_groups_in_the_window_with_one_call(sim: Any) -> None:
    clients = sim.clients()
    now = sim.clock.time()
    minute = dt.datetime.fromtimestamp(now // 60 * 60, dt.UTC)
    cw = clients.cloudwatch
    for back in (1, 2):  # two whole minutes inside the 3-minute window
        at = minute - dt.timedelta(seconds=60 * back - 5)
        _put(
            cw,
            "green",
            at,
            RequestCount=250,
            HTTPCode_Target_5XX_Count=10.5,
            TargetResponseTime=[0.1, 0.4 * back],
        )
        _put(
            cw,
            "blue",
            at,
            RequestCount=240,
            HTTPCode_Target_5XX_Count=0.5,
            TargetResponseTime=[0.1, 0.2],
            UnHealthyHostCount=0,
        )
    _put(cw, "green", minute - dt.timedelta(seconds=200), RequestCount=9999)  # before the window
    _put(cw, "green", minute + dt.timedelta(seconds=10), RequestCount=9999)  # the unfinished minute
    _put(cw, "green", minute - dt.timedelta(seconds=30), TargetConnectionErrorCount=3)
    caller = Caller(clock=sim.clock, budget=None)

    data = read_metric_data(MOTO_ANALYSIS, TARGETS, now, clients=clients, caller=caller)

    assert caller.counts == {"GetMetricData": 1}
    assert data.error is None
    assert data.requests == {"green": 500.0, "blue": 480.0}
    green, blue = data.readings["5xx rate"]
    assert (green.count, green.total, blue.count, blue.total) == (21.0, 500.0, 1.0, 480.0)
    assert green.value == pytest.approx(0.042)
    assert data.readings["slowest"][0].value == pytest.approx(0.8)
    assert data.readings["slowest"][1].value == pytest.approx(0.2)
    assert data.readings["unhealthy"][1].value == 0.0
    assert data.readings["unhealthy"][0].value is None  # a Maximum with no data: unknown
    assert data.readings["connection errors"][0].value == 3.0
    assert data.readings["connection errors"][1].value == 0.0  # a count with no data: zero


def test_a_target_group_without_traffic_reads_zero_requests_and_no_rate(sim: Any) -> None:
    caller = Caller(clock=sim.clock, budget=None)

    data = read_metric_data(
        MOTO_ANALYSIS, TARGETS, sim.clock.time(), clients=sim.clients(), caller=caller
    )

    assert data.error is None
    assert data.requests == {"green": 0.0, "blue": 0.0}
    assert data.readings["5xx rate"][0].value is None


def test_throttling_that_outlasts_the_retries_is_an_error_in_the_data_not_a_raise(sim: Any) -> None:
    sim.faults.throttle("GetMetricData", service="monitoring")
    caller = Caller(clock=sim.clock, budget=None, attempts=3)

    data = read_metric_data(
        MOTO_ANALYSIS, TARGETS, sim.clock.time(), clients=sim.clients(), caller=caller
    )

    assert isinstance(data, MetricData)
    assert data.error is not None
    assert "GetMetricData failed" in data.error
    assert "Throttl" in data.error
    assert caller.counts == {"GetMetricData": 3}
    assert data.readings == {}


def test_pages_are_followed_with_next_token_and_their_values_combined(sim: Any) -> None:
    # CloudWatch may page an answer before MaxDatapoints (100,800): the fault pages after
    # every datapoint, so the three of this answer come in three pages.
    sim.faults.metric_data(page_size=1)
    now = sim.clock.time()
    at = dt.datetime.fromtimestamp(now // 60 * 60 - 55, dt.UTC)
    _put(sim.clients().cloudwatch, "green", at, RequestCount=500, HTTPCode_Target_5XX_Count=7)
    _put(sim.clients().cloudwatch, "blue", at, RequestCount=480)
    analysis = Analysis(metrics=[DEFAULT_ANALYSIS.metric("5xx rate")])
    caller = Caller(clock=sim.clock, budget=None)

    data = read_metric_data(analysis, TARGETS, now, clients=sim.clients(), caller=caller)

    assert caller.counts == {"GetMetricData": 3}
    assert data.error is None
    assert data.requests == {"green": 500.0, "blue": 480.0}
    green, blue = data.readings["5xx rate"]
    assert (green.count, green.total, blue.count) == (7.0, 500.0, 0.0)


@pytest.mark.parametrize("status", ["InternalError", "Forbidden"])
def test_a_result_cloudwatch_could_not_complete_is_an_error_in_the_data(
    sim: Any, status: str
) -> None:
    sim.faults.metric_data(status=status)
    analysis = Analysis(metrics=[DEFAULT_ANALYSIS.metric("5xx rate")])
    caller = Caller(clock=sim.clock, budget=None)

    data = read_metric_data(
        analysis, TARGETS, sim.clock.time(), clients=sim.clients(), caller=caller
    )

    assert data.error == (
        f"CloudWatch answered {status} for green RequestCount Sum: {status} (simulated)"
    )
    assert data.readings == {}
