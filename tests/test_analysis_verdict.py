"""Judging green against blue: per-metric outcomes with their numbers, and the analysis verdict."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bluegreen._aws import Caller
from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis, Metric
from bluegreen.analysis_query import AnalysisTargets, MetricData, MetricReading, read_metric_data
from bluegreen.analysis_verdict import Judge, Outcome, Verdict, evaluate

RATE = Metric(
    name="5xx rate", metric="HTTPCode_Target_5XX_Count", per="RequestCount", tolerance=0.01
)
P99 = Metric(
    name="p99", metric="TargetResponseTime", stat="p99", relative_tolerance=0.2, tolerance=0.025
)
END = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def data(
    green: tuple[float, float] = (1, 500),
    blue: tuple[float, float] = (1, 480),
    p99: tuple[float | None, float | None] = (0.30, 0.28),
) -> MetricData:
    """Green's and blue's (5xx, requests) and p99 response times over one window."""
    (ge, gr), (be, br) = green, blue
    return MetricData(
        start=END - dt.timedelta(minutes=3),
        end=END,
        requests={"green": gr, "blue": br},
        readings={
            "5xx rate": (
                MetricReading(ge / gr if gr else None, count=ge, total=gr),
                MetricReading(be / br if br else None, count=be, total=br),
            ),
            "p99": (MetricReading(p99[0]), MetricReading(p99[1])),
        },
    )


BAD = data(green=(21, 500))
FAILED_SENTENCE = (
    "5xx rate: green 4.2% (21/500) vs blue 0.2% (1/480), limit blue + 1.0% (1.2%): failed"
)
THROTTLED = MetricData(start=END, end=END, error="GetMetricData failed: Throttling: Rate exceeded")


MECHANICS: dict[str, Any] = {"failure_limit": 2, "minimum_sample": 100, "confidence": None}
"""What the mechanics tests rely on, pinned rather than taken from the defaults: two failed
evaluations fail it, 100 requests a side are judged, rates are judged as measured."""


def analysis(**fields: Any) -> Analysis:
    return Analysis(metrics=[RATE, P99], **{**MECHANICS, **fields})


def test_a_green_as_good_as_blue_passes_with_its_numbers() -> None:
    evaluation = evaluate(analysis(), data())

    assert evaluation.outcome is Outcome.PASS
    rate, p99 = evaluation.metrics
    assert rate.sentence == (
        "5xx rate: green 0.2% (1/500) vs blue 0.2% (1/480), limit blue + 1.0% (1.2%): passed"
    )
    assert p99.sentence == (
        "p99: green 300 ms vs blue 280 ms, limit blue * 1.2 or blue + 25 ms (336 ms): passed"
    )


def test_green_worse_than_blue_beyond_the_tolerance_fails_with_both_numbers() -> None:
    evaluation = evaluate(analysis(), BAD)

    assert evaluation.outcome is Outcome.FAIL
    rate = evaluation.metrics[0]
    assert rate.outcome is Outcome.FAIL
    assert rate.sentence == FAILED_SENTENCE
    assert rate.limit == pytest.approx(1 / 480 + 0.01)
    assert evaluate(analysis(), data(p99=(0.5, 0.3))).metrics[1].outcome is Outcome.FAIL


def test_an_absolute_ceiling_fails_green_even_when_blue_is_as_bad_or_idle() -> None:
    ceiling = Metric(
        name="5xx rate",
        metric="HTTPCode_Target_5XX_Count",
        per="RequestCount",
        tolerance=0.01,
        ceiling=0.03,
    )
    judged = Analysis(metrics=[ceiling, P99], **MECHANICS)

    as_bad = evaluate(judged, data(green=(25, 500), blue=(24, 480))).metrics[0]
    idle = evaluate(judged, data(green=(25, 500), blue=(0, 0))).metrics[0]

    assert as_bad.outcome is Outcome.FAIL
    assert "limit blue + 1.0%, at most 3.0% (3.0%): failed" in as_bad.sentence
    assert idle.outcome is Outcome.FAIL
    assert idle.sentence == (
        "5xx rate: green 5.0% (25/500) (blue served 0 requests, fewer than the 100 needed), "
        "limit at most 3.0% (3.0%): failed"
    )
    # under the ceiling, an idle blue leaves the relative limit unjudged: inconclusive
    assert (
        evaluate(judged, data(green=(1, 500), blue=(0, 0))).metrics[0].outcome
        is Outcome.INCONCLUSIVE
    )


def test_low_traffic_is_inconclusive_and_never_a_pass_or_a_failure() -> None:
    judge = Judge(analysis())
    for _ in range(10):  # every request green served failed, but only 20 of them
        evaluation = judge.evaluate(data(green=(20, 20), blue=(0, 30)))
        assert evaluation.outcome is Outcome.INCONCLUSIVE
        assert evaluation.metrics[0].sentence == (
            "5xx rate: green served 20 requests, fewer than the 100 needed: inconclusive"
        )

    assert judge.verdict is Verdict.RUNNING  # a small sample is not a provider error
    assert judge.finish() is Verdict.INCONCLUSIVE
    assert judge.reason == "inconclusive: none of 10 evaluations could judge green"


def test_provider_errors_are_inconclusive_up_to_the_limit_then_end_the_analysis() -> None:
    judge = Judge(analysis(inconclusive_limit=3))

    assert judge.evaluate(THROTTLED).outcome is Outcome.INCONCLUSIVE
    judge.evaluate(THROTTLED)
    judge.evaluate(data())  # a readable evaluation starts the count again
    judge.evaluate(THROTTLED)
    assert judge.evaluate(THROTTLED).outcome is Outcome.INCONCLUSIVE
    assert judge.verdict is Verdict.RUNNING
    assert judge.evaluate(THROTTLED).outcome is Outcome.INCONCLUSIVE

    assert judge.verdict is Verdict.INCONCLUSIVE
    assert judge.reason == (
        "ended inconclusive at evaluation 6: 3 in a row could not be read (limit 3): "
        "GetMetricData failed: Throttling: Rate exceeded"
    )
    assert judge.finish() is Verdict.INCONCLUSIVE


def test_no_data_for_a_statistic_despite_enough_requests_counts_as_unreadable() -> None:
    judge = Judge(analysis(inconclusive_limit=1))

    evaluation = judge.evaluate(data(p99=(None, 0.2)))

    assert evaluation.metrics[1].sentence == "p99: no data for green: inconclusive"
    assert judge.verdict is Verdict.INCONCLUSIVE


def test_failure_limit_counts_failed_evaluations_in_all() -> None:
    judge = Judge(analysis(failure_limit=2))

    assert judge.evaluate(BAD).outcome is Outcome.FAIL
    assert judge.verdict is Verdict.RUNNING
    judge.evaluate(data())
    judge.evaluate(BAD)

    assert judge.verdict is Verdict.FAILED
    assert judge.reason is not None
    assert judge.reason.startswith(
        "failed at evaluation 3 (2 failed in all, limit 2): 5xx rate: green 4.2%"
    )


def test_consecutive_failures_are_broken_only_by_a_pass() -> None:
    judge = Judge(analysis(failure_limit=None, consecutive_failure_limit=2))
    for d in (BAD, data(), BAD, THROTTLED):
        judge.evaluate(d)
    assert judge.verdict is Verdict.RUNNING

    judge.evaluate(BAD)  # BAD, THROTTLED, BAD: two failed in a row

    assert judge.verdict is Verdict.FAILED
    assert "(2 failed in a row, limit 2)" in (judge.reason or "")


def test_a_critical_metric_fails_the_analysis_at_once() -> None:
    critical = Metric(
        name="5xx rate",
        metric="HTTPCode_Target_5XX_Count",
        per="RequestCount",
        tolerance=0.01,
        critical=True,
    )
    judge = Judge(Analysis(metrics=[critical, P99], failure_limit=5))

    assert judge.add(evaluate(judge.analysis, BAD)) is Verdict.FAILED
    assert judge.reason is not None
    assert judge.reason.startswith("failed at evaluation 1: critical metric 5xx rate: green 4.2%")
    # a non-critical failure alone does not
    other = Judge(analysis(failure_limit=5))
    assert other.add(evaluate(other.analysis, BAD)) is Verdict.RUNNING


def test_dry_run_never_fails_and_reports_what_it_would_have_done() -> None:
    judge = Judge(analysis(failure_limit=1, dry_run=True))

    for _ in range(3):
        assert judge.evaluate(BAD).outcome is Outcome.FAIL
    assert judge.verdict is Verdict.RUNNING
    assert judge.would_have is Verdict.FAILED
    assert (judge.reason or "").startswith("dry run: would have failed at evaluation 1")
    judge.evaluate(data())

    assert judge.finish() is Verdict.PASSED
    assert judge.to_dict()["would_have"] == "failed"


def test_the_report_and_events_say_every_evaluation_with_its_numbers() -> None:
    judge = Judge(analysis())
    for d in (data(), THROTTLED, BAD, BAD):
        judge.evaluate(d)

    report = judge.report()
    event = json.loads(json.dumps(judge.to_dict()))

    assert report.splitlines()[0].startswith("analysis failed: failed at evaluation 4")
    assert "GetMetricData failed: Throttling: Rate exceeded" in report
    assert report.count("5xx rate: green 4.2% (21/500) vs blue 0.2% (1/480)") == 3  # reason + 2
    assert event["verdict"] == "failed"
    assert [e["outcome"] for e in event["evaluations"]] == ["pass", "inconclusive", "fail", "fail"]
    assert event["evaluations"][2]["metrics"][0] == {
        "name": "5xx rate",
        "outcome": "fail",
        "green": 0.042,
        "green_count": 21,
        "green_total": 500,
        "blue": pytest.approx(1 / 480),
        "blue_count": 1,
        "blue_total": 480,
        "limit": pytest.approx(1 / 480 + 0.01),
        "critical": False,
        "sentence": FAILED_SENTENCE,
    }
    assert event["evaluations"][0]["requests"] == {"green": 500, "blue": 480}


# -- the significance gate (``confidence``) -------------------------------------------------------

UNLUCKY = data(green=(2, 106), blue=(0, 2000))
"""A good green (say 0.4% 5xx) that happened to fail 2 of its first 106 requests: 1.9%."""


def test_a_small_sample_over_the_limit_by_chance_is_inconclusive_never_a_failure() -> None:
    judge = Judge(DEFAULT_ANALYSIS)

    for _ in range(10):
        evaluation = judge.evaluate(UNLUCKY)
        assert evaluation.outcome is Outcome.INCONCLUSIVE
        (rate,) = evaluation.metrics
        assert rate.sentence == (
            "5xx rate: green 1.9% (2/106) vs blue 0.0% (0/2000), limit blue + 1.0% (1.0%): "
            "over it, but it could be 0.4% (99% sure): inconclusive"
        )
        assert rate.limit == pytest.approx(0.01)
        assert not rate.unreadable  # the numbers were read: not a provider error

    assert judge.verdict is Verdict.RUNNING  # 10 in a row, inconclusive_limit 3: not counted
    assert judge.finish() is Verdict.INCONCLUSIVE
    # the same 1.9% over 1000 requests is beyond doubt: it fails
    proven = evaluate(DEFAULT_ANALYSIS, data(green=(19, 1000), blue=(0, 2000))).metrics[0]
    assert proven.outcome is Outcome.FAIL
    assert proven.sentence.endswith("limit blue + 1.0% (1.0%): failed")


def test_a_clear_failure_in_a_small_sample_fails_the_default_analysis_at_once() -> None:
    judge = Judge(DEFAULT_ANALYSIS)

    evaluation = judge.evaluate(data(green=(15, 50), blue=(0, 2000)))

    assert evaluation.outcome is Outcome.FAIL
    assert judge.verdict is Verdict.FAILED
    assert judge.reason == (
        "failed at evaluation 1 (1 failed in all, limit 1): 5xx rate: green 30.0% (15/50) "
        "vs blue 0.0% (0/2000), limit blue + 1.0% (1.0%): failed"
    )


def test_confidence_none_judges_the_rate_as_measured() -> None:
    judge = Judge(Analysis(confidence=None))

    evaluation = judge.evaluate(UNLUCKY)

    assert evaluation.outcome is Outcome.FAIL
    assert evaluation.metrics[0].sentence == (
        "5xx rate: green 1.9% (2/106) vs blue 0.0% (0/2000), limit blue + 1.0% (1.0%): failed"
    )
    assert judge.verdict is Verdict.FAILED


def test_the_gate_judges_rates_only_other_statistics_as_measured() -> None:
    slow = evaluate(Analysis(metrics=[RATE, P99]), data(p99=(0.5, 0.3)))

    assert [m.outcome for m in slow.metrics] == [Outcome.PASS, Outcome.FAIL]
    assert slow.metrics[1].sentence.endswith(": failed")


PREFIX = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
TARGETS = AnalysisTargets(
    green_target_group_arn=f"{PREFIX}:targetgroup/web-green/0123456789abcdef",
    blue_target_group_arn=f"{PREFIX}:targetgroup/web-blue/fedcba9876543210",
    load_balancer_arn=f"{PREFIX}:loadbalancer/app/web/50dc6c495c0c9188",
)


def _serve(sim: Any, role: str, requests: float, errors: float) -> None:
    """Publish one minute of a target group's traffic at the simulator's current time."""
    at = dt.datetime.fromtimestamp(sim.clock.time() - 1, dt.UTC)
    sim.clients().cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "RequestCount",
                "Dimensions": TARGETS.dimensions(role),
                "Timestamp": at,
                "Value": requests,
            },
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": TARGETS.dimensions(role),
                "Timestamp": at,
                "Value": errors,
            },
        ],
    )


def _run(sim: Any, judged: Analysis, minutes: int, green: tuple[float, float]) -> Judge:
    """Each simulated minute: both target groups serve, then the judge evaluates."""
    judge = Judge(judged)
    caller = Caller(clock=sim.clock, budget=None, attempts=1)
    for _ in range(minutes):
        _serve(sim, "green", *green)
        _serve(sim, "blue", 400, 1)
        sim.advance(60)
        judge.evaluate(
            read_metric_data(
                judged, TARGETS, sim.clock.time(), clients=sim.clients(), caller=caller
            )
        )
        if judge.verdict.is_over:
            break
    return judge


def test_on_the_simulator_a_failing_green_fails_the_analysis_with_moto_metrics(sim: Any) -> None:
    judge = _run(sim, Analysis(metrics=[RATE], **MECHANICS), minutes=5, green=(100, 10))

    assert judge.verdict is Verdict.FAILED
    assert len(judge.evaluations) == 2  # failure_limit=2
    assert "5xx rate: green 10.0% (20/200) vs blue 0.2% (2/800)" in (judge.reason or "")


def test_on_the_simulator_the_default_analysis_fails_a_failing_green_at_its_first_minute(
    sim: Any,
) -> None:
    judge = _run(sim, DEFAULT_ANALYSIS, minutes=5, green=(100, 10))

    assert judge.verdict is Verdict.FAILED
    assert len(judge.evaluations) == 1
    assert (judge.reason or "").startswith(
        "failed at evaluation 1 (1 failed in all, limit 1): "
        "5xx rate: green 10.0% (10/100) vs blue 0.2% (1/400)"
    )


def test_on_the_simulator_low_traffic_with_every_request_failing_is_never_a_pass(sim: Any) -> None:
    judge = _run(sim, Analysis(metrics=[RATE], minimum_sample=100), minutes=5, green=(5, 5))

    assert judge.verdict is Verdict.RUNNING
    assert {e.outcome for e in judge.evaluations} == {Outcome.INCONCLUSIVE}
    assert judge.finish() is Verdict.INCONCLUSIVE


def test_on_the_simulator_throttling_is_inconclusive_until_the_limit(sim: Any) -> None:
    sim.faults.throttle("GetMetricData", service="monitoring")

    judge = _run(sim, Analysis(metrics=[RATE], inconclusive_limit=3), minutes=5, green=(100, 0))

    assert [e.outcome for e in judge.evaluations] == [Outcome.INCONCLUSIVE] * 3
    assert judge.verdict is Verdict.INCONCLUSIVE
    assert "Throttl" in (judge.reason or "")
