"""``bluegreen demo`` end to end: the simulator in real time, local apps, proxies and load; and
the production listener's metrics, read back as an analysis reads an ALB's."""

import json
import threading

from bluegreen._aws import Caller
from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis, Metric
from bluegreen.analysis_query import AnalysisTargets, read_metric_data
from bluegreen.cli import main
from bluegreen.demo.judging import sized_analysis
from bluegreen.demo.metrics import LoadBalancerMetrics
from bluegreen.traffic import TrafficConfig


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("bluegreen-")}


def test_fast_demo_releases_v2_rolls_back_v3_stops_v4_by_analysis_and_exits_0(capsys):
    before = _threads()

    code = main(["demo", "--fast"])

    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "production traffic  blue 90%  green 10%" in out
    assert "production traffic  blue 0%  green 100%" in out
    assert "== release 1 (v2) succeeded" in out
    assert "== release 2 (v3) failed, as it should" in out
    assert "lifecycle event  AfterAllowTestTraffic" in out
    assert "error code       HOOK_EXECUTION_FAILURE" in out
    assert "Autoscaling before release 1 (v2):" in out
    assert "Autoscaling after release 2 (v3):" in out
    assert "production served no v3 response: 0 v3 responses" in out
    assert "  FAIL  " not in out
    assert "the hook reported Failed: http failed" in out
    v4 = out[out.index("== release 3 (v4): ") :]
    assert "analysis: every 1 min, 5xx rate of green vs blue" in v4  # the default's metrics
    assert "AfterAllowTestTraffic Succeeded" in v4  # v4's /health passes the hook
    assert "production traffic  blue 90%  green 10%" in v4
    assert "production traffic  blue 0%  green 100%" not in v4
    assert ": fail: 5xx rate green " in v4  # one line per evaluation, with the numbers
    assert "analysis failed: stopping d-" in v4
    assert "== release 3 (v4) failed, as it should: Stopped: the analysis failed" in v4
    assert "error code       MANUAL_STOP" in v4
    assert "stopped by       the analysis: StopDeployment d-" in v4
    assert "release 3 (v4): production serves v2 again" in out
    assert "demo OK" in out
    assert _threads() <= before, "every demo thread and server is stopped"


def test_v4s_canary_leaves_its_analysis_many_evaluations_before_production_shifts():
    sizing = sized_analysis(47)  # the rate CI measured when the 5-minute canary ran out
    a = sizing.analysis
    config = TrafficConfig.named(sizing.traffic_config)
    [canary, rest] = config.steps()
    assert (canary.green_percent, rest.green_percent) == (10, 100)

    # Evaluations whose window holds only canary traffic, before the shift to 100%.
    judged = (60 * rest.minute - a.window - a.metrics_delay) // a.interval + 1
    assert judged >= 10  # the group's 5-minute canary left 2


def test_v4s_analysis_keeps_the_defaults_verdict_and_sizes_its_sample_from_the_traffic():
    busy = sized_analysis(1000).analysis  # green ~100 a minute
    thin = sized_analysis(80).analysis  # green ~8 a minute (300x)

    for sized in (busy, thin):
        assert sized.metrics == DEFAULT_ANALYSIS.metrics
        assert (sized.failure_limit, sized.confidence) == (1, 0.99)  # the default's verdict
        assert not sized.server_alarm
    assert (busy.window, busy.minimum_sample) == (120, 50)  # 40% of 200, at most the default
    assert (thin.window, thin.minimum_sample) == (180, 9)  # 40% of 24
    assert sized_analysis(10).analysis.minimum_sample == 4  # never fewer: v4 fails 1 in any 4
    assert "the first failed evaluation stops the deployment" in sized_analysis(80).describe()


def test_fast_demo_json_output_is_one_object_per_line_ending_with_done(capsys):
    code = main(["demo", "--fast", "--output", "json"])

    out, _ = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    kinds = {r["type"] for r in records}
    assert {"demo_started", "autoscaling", "release_started", "responses", "traffic"} <= kinds
    ended = [r for r in records if r["type"] == "release_ended"]
    assert [r["outcome"] for r in ended] == ["succeeded", "rolled_back", "rolled_back"]
    assert ended[1]["lifecycle_event"] == "AfterAllowTestTraffic"
    assert ended[2]["error_code"] == "MANUAL_STOP"
    assert ended[2]["analysis"]["verdict"] == "failed"
    assert ended[2]["analysis"]["stopped"] == ended[2]["deployment_id"]
    evaluations = [r for r in records if r["type"] == "analysis"]
    assert evaluations
    assert evaluations[-1]["verdict"] == "failed"
    assert len(evaluations) == len(ended[2]["analysis"]["evaluations"])
    rate = evaluations[-1]["evaluation"]["metrics"][0]
    assert rate["name"] == "5xx rate"
    assert rate["outcome"] == "fail"
    assert rate["green"] > rate["blue"] == 0.0
    done = records[-1]
    assert done["type"] == "done"
    assert done["exit_code"] == 0
    assert done["ok"] is True
    assert done["served"].get("v3", 0) == 0
    assert set(done["failed"]) == {"v4"}
    assert all(check["ok"] for check in done["checks"])


def test_the_listeners_minutes_reach_cloudwatch_as_an_alb_publishes_them(sim, env):
    green, blue = env.target_group_arns[1], env.target_group_arns[0]
    metrics = LoadBalancerMetrics(env.load_balancer_arn, sim.clock, sim.clients())
    sim.advance(60 - sim.clock.time() % 60)  # the start of a minute
    for n in range(200):
        metrics.record(blue, 200, 0.001 * (1 + n % 100))  # 1 to 100 ms, evenly
    for n in range(20):
        metrics.record(green, 500 if n % 4 == 0 else 200, 0.2)
    sim.advance(61)
    metrics.flush()
    targets = AnalysisTargets(
        green_target_group_arn=green,
        blue_target_group_arn=blue,
        load_balancer_arn=env.load_balancer_arn,
    )

    p99 = Metric(name="p99 response time", metric="TargetResponseTime", stat="p99", tolerance=0.1)
    rate_and_p99 = Analysis(metrics=[DEFAULT_ANALYSIS.metric("5xx rate"), p99])

    data = read_metric_data(
        rate_and_p99, targets, sim.clock.time(), clients=sim.clients(), caller=Caller()
    )

    assert metrics.published == 1
    assert metrics.failures == []
    assert data.requests == {"green": 20.0, "blue": 200.0}
    green_rate, blue_rate = data.readings["5xx rate"]
    assert (green_rate.count, green_rate.total, blue_rate.count) == (5.0, 20.0, 0.0)
    green_p99, blue_p99 = data.readings["p99 response time"]
    assert green_p99.value == 0.2
    assert blue_p99.value is not None
    assert 0.098 <= blue_p99.value <= 0.1
