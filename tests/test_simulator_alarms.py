"""CloudWatch alarms evaluated on the simulator's clock (``_alarms``, ``_metric_math``):
states set by the evaluation itself, never by the test, and CodeDeploy's alarm rollback
(contract 4 and 5.4) following from them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from deploying import Deployer

from bluegreen.testing import Simulator, Traffic

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
# Every simulator starts at the same moment (a few seconds past a minute): with the seeded
# traffic, every run publishes the same numbers.
START = 1_796_000_017.0


def green_dims(d: Deployer) -> list[dict[str, str]]:
    arn = next(a for a in d.env.target_group_arns if "/web-green/" in a)
    return [
        {"Name": "TargetGroup", "Value": arn.split(":")[-1]},
        {"Name": "LoadBalancer", "Value": d.env.load_balancer_arn.split(":loadbalancer/")[-1]},
    ]


def stat(d: Deployer, metric: str, statistic: str = "Sum") -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": "AWS/ApplicationELB",
            "MetricName": metric,
            "Dimensions": green_dims(d),
        },
        "Period": 60,
        "Stat": statistic,
    }


def alarm(d: Deployer, name: str) -> dict[str, Any]:
    found = d.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert found, name
    return dict(found[0])


def green_slow_alarm(d: Deployer, *, periods: int) -> None:
    """``green-slow``: green's p99 response time over 0.5 s in ``periods`` of as many minutes."""
    d.cloudwatch.put_metric_alarm(
        AlarmName="green-slow",
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        Dimensions=green_dims(d),
        ExtendedStatistic="p99",
        Period=60,
        EvaluationPeriods=periods,
        DatapointsToAlarm=periods,
        Threshold=0.5,
        ComparisonOperator="GreaterThanThreshold",
    )


def watch(d: Deployer, name: str) -> None:
    """Make the sample group stop (and roll back) on ``name`` alone."""
    d.codedeploy.update_deployment_group(
        applicationName=d.env.application,
        currentDeploymentGroupName=d.env.deployment_group,
        alarmConfiguration={"enabled": True, "alarms": [{"name": name}]},
    )


def assert_stopped_by_alarm_and_rolled_back(
    d: Deployer, deployment_id: str, name: str, threshold: float
) -> dict[str, Any]:
    """The deployment was stopped by alarm ``name`` and rolled back; the alarm as it was
    when the deployment stopped."""
    d.until_status(deployment_id, "Stopped", "Succeeded", "Failed")
    state = alarm(d, name)  # read at once: without green's traffic it goes back to OK
    assert d.done(deployment_id) == "Stopped"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "ALARM_ACTIVE"
    assert info["errorInformation"]["message"].endswith(f"Activated alarms: {name}")
    events = d.events(deployment_id)
    assert events["AllowTraffic"] == "Failed"
    assert events["AfterAllowTraffic"] == "Skipped"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    assert state["StateValue"] == "ALARM"
    assert state["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints")
    reason_data = json.loads(state["StateReasonData"])
    assert reason_data["threshold"] == threshold
    valid = d.cloudwatch.meta.service_model.shape_for("StateValue").enum
    assert state["StateValue"] in valid
    return state


def bad_canary(sim: Simulator, put_alarm: Any) -> tuple[Deployer, str]:
    d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
    put_alarm(d)
    watch(d, "green-errors")
    sim.traffic.behave("registry/web:bad", error_rate=0.3)
    deployment_id = d.deploy(appspec=d.appspec(d.register_revision(image="registry/web:bad")))
    return d, deployment_id


def test_an_alarm_on_green_5xx_stops_and_rolls_back_a_bad_canary_by_itself() -> None:
    with Simulator(traffic=Traffic(requests_per_minute=1000, seed=1), start_time=START) as sim:
        d, deployment_id = bad_canary(
            sim,
            lambda d: d.cloudwatch.put_metric_alarm(
                AlarmName="green-errors",
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count",
                Dimensions=green_dims(d),
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
            ),
        )
        d.until_event(deployment_id, "AllowTraffic", "InProgress")
        shift = sim.clock.time()
        assert_stopped_by_alarm_and_rolled_back(d, deployment_id, "green-errors", 5.0)
        stopped = d.info(deployment_id)["completeTime"].timestamp()
        assert stopped - shift <= 120  # the first whole minute of canary traffic


def test_a_metric_math_alarm_on_green_error_rate_stops_a_bad_canary() -> None:
    with Simulator(traffic=Traffic(requests_per_minute=1000, seed=2), start_time=START) as sim:
        d, deployment_id = bad_canary(
            sim,
            lambda d: d.cloudwatch.put_metric_alarm(
                AlarmName="green-errors",
                Metrics=[
                    {
                        "Id": "errors",
                        "MetricStat": stat(d, "HTTPCode_Target_5XX_Count"),
                        "ReturnData": False,
                    },
                    {"Id": "requests", "MetricStat": stat(d, "RequestCount"), "ReturnData": False},
                    {
                        "Id": "rate",
                        "Expression": "FILL(errors, 0) / requests * 100",
                        "ReturnData": True,
                    },
                ],
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="notBreaching",
            ),
        )
        state = assert_stopped_by_alarm_and_rolled_back(d, deployment_id, "green-errors", 1.0)
        assert json.loads(state["StateReasonData"])["recentDatapoints"][0] > 5  # percent


def test_a_healthy_canary_leaves_the_alarm_ok_and_succeeds() -> None:
    with Simulator(traffic=Traffic(requests_per_minute=1000), start_time=START) as sim:
        d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
        green_slow_alarm(d, periods=2)
        watch(d, "green-slow")
        deployment_id = d.deploy()
        assert d.done(deployment_id) == "Succeeded"
        state = alarm(d, "green-slow")
        assert state["StateValue"] == "OK"
        points = json.loads(state["StateReasonData"])["recentDatapoints"]
        assert all(0.15 < p < 0.25 for p in points)  # p99 of the default 50 ms / 200 ms


def test_a_p99_alarm_goes_to_alarm_when_green_is_slow() -> None:
    with Simulator(traffic=Traffic(requests_per_minute=5000), start_time=START) as sim:
        d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
        green_slow_alarm(d, periods=1)
        sim.traffic.behave("web:2", p50_ms=100, p99_ms=800)
        deployment_id = d.deploy()
        d.until_event(deployment_id, "AllowTraffic", "InProgress")
        sim.advance(120)
        state = alarm(d, "green-slow")
        assert state["StateValue"] == "ALARM"
        # 800 ms, within what ~500 requests a minute allow (between their p98 and p99.5)
        assert 0.6 < json.loads(state["StateReasonData"])["recentDatapoints"][-1] < 1.05


# -- missing data, M out of N, SetAlarmState -----------------------------------------


def put(d: Deployer, value: float, minutes_ago: int) -> None:
    """One datapoint of the test's own metric, in the minute ``minutes_ago`` whole minutes
    before the current one."""
    minute = (d.sim.clock.time() // 60 - minutes_ago) * 60
    d.cloudwatch.put_metric_data(
        Namespace="Test",
        MetricData=[
            {
                "MetricName": "M",
                "Value": value,
                "Timestamp": dt.datetime.fromtimestamp(minute + 1, dt.UTC),
            }
        ],
    )


def test_missing_data_follows_treat_missing_data() -> None:
    with Simulator(traffic=Traffic(while_idle=True), start_time=START) as sim:
        d = Deployer.create(sim, alarms=False)
        for treat in ("missing", "notBreaching", "breaching", "ignore"):
            d.cloudwatch.put_metric_alarm(
                AlarmName=treat,
                Namespace="Test",
                MetricName="M",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=3,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData=treat,
            )
        sim.advance(180)
        states = {t: alarm(d, t)["StateValue"] for t in ("missing", "notBreaching", "breaching")}
        assert states == {
            "missing": "INSUFFICIENT_DATA",
            "notBreaching": "OK",
            "breaching": "ALARM",
        }
        assert alarm(d, "missing")["StateReason"] == "Insufficient Data: 3 datapoints were unknown."
        assert alarm(d, "ignore")["StateReason"] == "Unchecked: Initial alarm creation"


def test_datapoints_to_alarm_counts_breaching_periods_m_out_of_n() -> None:
    with Simulator(traffic=Traffic(while_idle=True), start_time=START) as sim:
        d = Deployer.create(sim, alarms=False)
        d.cloudwatch.put_metric_alarm(
            AlarmName="two-of-three",
            Namespace="Test",
            MetricName="M",
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=5,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        put(d, 9, minutes_ago=0)
        put(d, 1, minutes_ago=-1)
        sim.advance(120)  # [missing, 9, 1]: one breaching period of three
        assert alarm(d, "two-of-three")["StateValue"] == "OK"
        put(d, 5, minutes_ago=0)
        sim.advance(60)  # [9, 1, 5]
        found = alarm(d, "two-of-three")
        assert found["StateValue"] == "ALARM"
        assert "2 out of the last 3 datapoints" in found["StateReason"]


def test_a_state_set_with_set_alarm_state_holds_until_the_outcome_changes() -> None:
    with Simulator(traffic=Traffic(while_idle=True), start_time=START) as sim:
        d = Deployer.create(sim)  # web-5xx: load balancer 5xx > 10, missing not breaching
        sim.advance(120)
        assert alarm(d, "web-5xx")["StateValue"] == "OK"
        d.set_alarm("ALARM")
        sim.advance(300)
        assert alarm(d, "web-5xx")["StateValue"] == "ALARM"
        sim.traffic.behave(d.env.image, error_rate=0.5)
        sim.advance(120)
        assert alarm(d, "web-5xx")["StateValue"] == "ALARM"
        sim.traffic.behave(d.env.image, error_rate=0.0)
        sim.advance(120)
        found = alarm(d, "web-5xx")
        assert found["StateValue"] == "OK"
        assert found["StateUpdatedTimestamp"].timestamp() == sim.clock.time() // 60 * 60 - 60


def test_an_expression_the_simulator_cannot_evaluate_leaves_the_alarm_and_says_why() -> None:
    with Simulator(traffic=Traffic(while_idle=True), start_time=START) as sim:
        d = Deployer.create(sim, alarms=False)
        d.cloudwatch.put_metric_alarm(
            AlarmName="odd",
            Metrics=[
                {"Id": "m", "MetricStat": stat(d, "RequestCount"), "ReturnData": False},
                {"Id": "e", "Expression": "ANOMALY_DETECTION_BAND(m)", "ReturnData": True},
            ],
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        sim.advance(60)
        assert alarm(d, "odd")["StateReason"] == "Unchecked: Initial alarm creation"
        assert "ANOMALY_DETECTION_BAND" in sim.alarms.errors["odd"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("m1 / m2 * 100", {0.0: 10.0}),
        ("-m1 + 2 * (m2 - 1)", {0.0: 17.0}),
        ("FILL(m3, 0) + m1", {0.0: 1.0}),
        ("FILL(m1, 5) * 2", {0.0: 2.0, 60.0: 10.0}),
        ("IF(m1 > 0, m2, 0)", {0.0: 10.0}),
        ("ABS(m1 - m2) / 0", {}),
    ],
)
def test_metric_math_evaluates_what_alarms_use(
    expression: str, expected: dict[float, float]
) -> None:
    from bluegreen.testing._metric_math import evaluate

    series = {"m1": {0.0: 1.0}, "m2": {0.0: 10.0}, "m3": {}}
    assert evaluate(expression, series, [0.0, 60.0]) == expected
