"""The simulator splits production traffic as an ALB does: each request by the listener's
weights of its moment, so each minute by the weights averaged over it (``_weights``), read
back through boto3's CloudWatch client as an analysis would."""

from __future__ import annotations

import datetime as dt

from deploying import Deployer
from test_simulator_metrics import CANARY, sums

from bluegreen.testing import Simulator, Traffic

# The canary's 10 % step then starts 45 s into a minute (the simulator's lifecycle takes
# the same simulated time every run).
START = 1_796_000_016.0
RPM = 12_000  # many requests a minute, so a share of a few percent is measured closely


def lb_sums(d: Deployer, metric: str, start: float, end: float) -> dict[float, float]:
    """``{minute: Sum}`` of a load-balancer metric, with GetMetricStatistics."""
    points = d.cloudwatch.get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=[
            {"Name": "LoadBalancer", "Value": d.env.load_balancer_arn.split(":loadbalancer/")[-1]}
        ],
        StartTime=dt.datetime.fromtimestamp(start, dt.UTC),
        EndTime=dt.datetime.fromtimestamp(end, dt.UTC),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return {p["Timestamp"].timestamp(): p["Sum"] for p in points}


def start_canary(sim: Simulator) -> tuple[Deployer, str, float]:
    """A canary of ``web:2``; returns the deployer, the id and when its 10 % step began."""
    d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
    new = d.register_revision(image="registry/web:2")
    deployment_id = d.deploy(appspec=d.appspec(new))
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    return d, deployment_id, sim.clock.time()


def green_share(d: Deployer, minute: float) -> float:
    green = sums(d, "RequestCount", "green", minute, minute + 60).get(minute, 0.0)
    blue = sums(d, "RequestCount", "blue", minute, minute + 60)[minute]
    return green / (green + blue)


def test_a_canary_starting_45_s_into_a_minute_gives_green_a_quarter_of_its_10_percent() -> None:
    with Simulator(traffic=Traffic(requests_per_minute=RPM, seed=3), start_time=START) as sim:
        d, _, step = start_canary(sim)
        assert step % 60 == 45
        d.advance_to((step // 60 + 3) * 60)
        first = step // 60 * 60
        assert 0.02 < green_share(d, first) < 0.03  # 15 s of 60 at 10 %: 2.5 %
        assert 0.09 < green_share(d, first + 60) < 0.11  # a whole minute at 10 %


def test_a_rollback_mid_minute_splits_the_minute_between_green_and_blue() -> None:
    with Simulator(traffic=Traffic(requests_per_minute=RPM, seed=4), start_time=START) as sim:
        d, deployment_id, step = start_canary(sim)
        d.advance_to((step // 60 + 2) * 60 + 30)
        d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        d.advance_to((step // 60 + 6) * 60)
        back = d.event(d.rollback_of(deployment_id), "AllowTraffic")["startTime"].timestamp()
        minute = back // 60 * 60
        assert 30 <= back - minute < 60
        blue = sums(d, "RequestCount", "blue", minute, minute + 120)
        # Green served 10 % until the reroute; it has drained by the minute's end, so its
        # share is the load balancer's 5xx, as an ALB answers a target group with no task.
        green = lb_sums(d, "HTTPCode_ELB_5XX_Count", minute, minute + 120)
        expected = 0.10 * (back - minute) / 60
        assert 0.8 * expected < green[minute] / (green[minute] + blue[minute]) < 1.2 * expected
        assert minute + 60 not in green  # the next minute is blue's alone
        assert not sums(d, "RequestCount", "green", minute, minute + 120)


def test_a_users_own_modify_listener_splits_the_minute_by_the_time_of_the_change() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=5, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        d = Deployer.create(sim, deployment_config=CANARY, alarms=False)
        blue, green = (
            next(a for a in d.env.target_group_arns if f"/web-{color}/" in a)
            for color in ("blue", "green")
        )
        minute = (sim.clock.time() // 60 + 1) * 60
        d.advance_to(minute + 20)
        d.elbv2.modify_listener(
            ListenerArn=d.env.production_listener_arn,
            DefaultActions=[
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": blue, "Weight": 1},
                            {"TargetGroupArn": green, "Weight": 1},
                        ]
                    },
                }
            ],
        )
        d.advance_to(minute + 150)
        to_blue = sums(d, "RequestCount", "blue", minute, minute + 120)
        # Green has no task: its share is the load balancer's 503s. 40 s of 60 at half.
        to_green = lb_sums(d, "HTTPCode_ELB_5XX_Count", minute, minute + 120)
        share = {m: to_green[m] / (to_green[m] + to_blue[m]) for m in (minute, minute + 60)}
        assert 0.30 < share[minute] < 0.37
        assert 0.47 < share[minute + 60] < 0.53
