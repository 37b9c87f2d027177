"""An ECS-native service's production traffic comes through its production listener rule:
the simulator splits it by the rule's weights of each moment (a user's own ModifyRule
included, ``_weights``), and leaves the ALB metrics per target group, beside the CodeDeploy
service's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bluegreen.testing import Simulator, Traffic

START = 1_796_000_016.0
RPM = 12_000


def _sums(sim: Simulator, metric: str, dimensions: list[dict[str, str]], start: float) -> Any:
    """``{minute: Sum}`` of a metric over the two minutes from ``start``."""
    points = (
        sim.clients()
        .cloudwatch.get_metric_statistics(
            Namespace="AWS/ApplicationELB",
            MetricName=metric,
            Dimensions=dimensions,
            StartTime=dt.datetime.fromtimestamp(start, dt.UTC),
            EndTime=dt.datetime.fromtimestamp(start + 120, dt.UTC),
            Period=60,
            Statistics=["Sum"],
        )
        .get("Datapoints", [])
    )
    return {p["Timestamp"].timestamp(): p["Sum"] for p in points}


def _group(env: Any, arn: str) -> list[dict[str, str]]:
    lb = env.load_balancer_arn.split(":loadbalancer/")[-1]
    return [
        {"Name": "TargetGroup", "Value": arn.rsplit(":", maxsplit=1)[-1]},
        {"Name": "LoadBalancer", "Value": lb},
    ]


def _weighted(blue: str, green: str, weights: tuple[int, int]) -> list[Any]:
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": blue, "Weight": weights[0]},
                    {"TargetGroupArn": green, "Weight": weights[1]},
                ]
            },
        }
    ]


def test_the_native_production_rule_gets_its_own_traffic_on_its_blue_target_group() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=7, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment(native=True, alarms=False)
        assert env.native is not None
        minute = (sim.clock.time() // 60 + 1) * 60
        sim.advance(minute + 150 - sim.clock.time())
        blue, green = env.native.target_group_arns
        native_blue = _sums(sim, "RequestCount", _group(env, blue), minute)
        codedeploy_blue = _sums(sim, "RequestCount", _group(env, env.target_group_arns[0]), minute)
        # Each production route (the CodeDeploy listener, the native rule) gets its own load.
        for counts in (native_blue, codedeploy_blue):
            assert 0.9 * RPM < counts[minute] < 1.1 * RPM
        assert not _sums(sim, "RequestCount", _group(env, green), minute)
        healthy = _sums(sim, "HealthyHostCount", _group(env, blue), minute)
        assert healthy[minute] == 2


def test_a_users_own_modify_rule_splits_the_minute_by_the_time_of_the_change() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=5, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment(native=True, alarms=False)
        assert env.native is not None
        blue, green = env.native.target_group_arns
        minute = (sim.clock.time() // 60 + 1) * 60
        sim.advance(minute + 20 - sim.clock.time())
        sim.clients().elbv2.modify_rule(
            RuleArn=env.native.production_rule_arn, Actions=_weighted(blue, green, (50, 50))
        )
        assert sim.moto.weight_log.averaged(
            env.native.production_rule_arn, minute, minute + 60, []
        ) == [(blue, 100 * 20 / 60 + 50 * 40 / 60), (green, 50 * 40 / 60)]
        sim.advance(minute + 150 - sim.clock.time())
        to_blue = _sums(sim, "RequestCount", _group(env, blue), minute)
        # Green has no task before a deployment: its share is the load balancer's 503s
        # (the CodeDeploy listener sends nothing to its own green, so they are all the rule's).
        lb = [{"Name": "LoadBalancer", "Value": _group(env, blue)[1]["Value"]}]
        to_green = _sums(sim, "HTTPCode_ELB_5XX_Count", lb, minute)
        share = {m: to_green[m] / (to_green[m] + to_blue[m]) for m in (minute, minute + 60)}
        assert 0.30 < share[minute] < 0.37  # 40 s of 60 at half
        assert 0.47 < share[minute + 60] < 0.53


def test_a_native_canary_sends_green_the_rules_10_percent_then_everything() -> None:
    """ECS's engine rewrites the production rule (10 %, then 100 % after the canary's
    bake); each target group's RequestCount follows, minute by minute."""
    with Simulator(traffic=Traffic(requests_per_minute=RPM, seed=1), start_time=START) as sim:
        env = sim.create_environment(
            native=True,
            alarms=False,
            native_strategy="CANARY",
            native_percent=10,
            native_step_minutes=5,
            native_bake_minutes=1,
        )
        native = env.native
        assert native is not None
        ecs = sim.clients().ecs
        definition = ecs.register_task_definition(
            family=native.family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {"name": native.container_name, "image": "registry/web:2", "essential": True}
            ],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=env.cluster, service=native.service, taskDefinition=definition)
        [arn] = [
            d["serviceDeploymentArn"]
            for d in ecs.list_service_deployments(cluster=env.cluster, service=native.service)[
                "serviceDeployments"
            ]
            if d["status"] != "SUCCESSFUL"
        ]
        assert sim.run_until_done(arn) == "SUCCESSFUL"
        shifts = [
            (when, percent)
            for when, kind, percent in sim.service_deployment(arn).weight_log
            if kind == "production"
        ]
        assert [percent for _, percent in shifts] == [10.0, 100.0]
        canary = (shifts[0][0] // 60 + 1) * 60  # the first whole minute at 10 %
        after = (shifts[1][0] // 60 + 1) * 60  # the first whole minute at 100 %
        blue, green = native.target_group_arns
        to_blue = _sums(sim, "RequestCount", _group(env, blue), canary)
        to_green = _sums(sim, "RequestCount", _group(env, green), canary)
        assert 0.09 < to_green[canary] / (to_green[canary] + to_blue[canary]) < 0.11
        later = _sums(sim, "RequestCount", _group(env, green), after)
        assert 0.9 * RPM < later[after] < 1.1 * RPM
        assert after not in _sums(sim, "RequestCount", _group(env, blue), after)
