"""A CodeDeploy service's production listener sends its requests as an ALB does: by the
highest-precedence rule that matches every request (path ``*``), else by its default action,
at each moment of the minute (``_weights.WeightLog.routed``). So the minute of a migration's
revert, whose catch-all rule carried the traffic until the listener was re-pointed, has no
ELB 5xx."""

from __future__ import annotations

import datetime as dt
from typing import Any

import bluegreen
from bluegreen.testing import Simulator, Traffic

START = 1_796_000_016.0
RPM = 12_000
ROLE = "ecsInfrastructure-web"


def _sum(sim: Simulator, metric: str, dims: list[dict[str, str]], minute: float) -> float:
    """The metric's ``Sum`` for the minute starting at ``minute`` (0 when none published)."""
    points = sim.clients().cloudwatch.get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=dims,
        StartTime=dt.datetime.fromtimestamp(minute, dt.UTC),
        EndTime=dt.datetime.fromtimestamp(minute + 60, dt.UTC),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points if p["Timestamp"].timestamp() == minute))


def _requests(sim: Simulator, env: Any, minute: float) -> float:
    """The minute's requests: those served by either target group, and the ELB 5xx (moto
    answers the load balancer's own ``RequestCount`` with its target groups' added in)."""
    served = sum(_sum(sim, "RequestCount", _group(env, tg), minute) for tg in env.target_group_arns)
    return served + _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute)


def _lb(env: Any) -> list[dict[str, str]]:
    return [{"Name": "LoadBalancer", "Value": env.load_balancer_arn.split(":loadbalancer/")[-1]}]


def _group(env: Any, arn: str) -> list[dict[str, str]]:
    return [{"Name": "TargetGroup", "Value": arn.rsplit(":", maxsplit=1)[-1]}, *_lb(env)]


def _forward(weights: list[tuple[str, int]]) -> list[dict[str, Any]]:
    groups = [{"TargetGroupArn": tg, "Weight": w} for tg, w in weights]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def _to_minute(sim: Simulator, seconds: float) -> float:
    """Run the clock to the next whole minute plus ``seconds``; that minute's start."""
    minute = (sim.clock.time() // 60 + 1) * 60
    sim.advance(minute + seconds - sim.clock.time())
    return minute


def _past(sim: Simulator, minute: float) -> None:
    """Run the clock past the minute, so its traffic is published."""
    sim.advance(minute + 61 - sim.clock.time())


def test_the_minute_of_a_revert_goes_to_the_live_target_group_with_no_elb_5xx() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=3, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment()
        kw = {"clients": sim.clients(), "clock": sim.clock}
        plan = bluegreen.plan_migration(env.cluster, env.service, create_role=ROLE, **kw)
        assert bluegreen.apply_migration(plan, verify="describe", **kw).verified
        image = env.image.rsplit(":", 1)[0] + ":1.28"
        bluegreen.deploy(env.cluster, env.service, image=image, **kw).wait()
        minute = _to_minute(sim, 30)
        assert bluegreen.revert_migration(env.cluster, env.service, **kw).verified
        _past(sim, minute)
        blue, green = env.target_group_arns
        assert _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute) == 0
        requests = _requests(sim, env, minute)
        assert 0.9 * RPM < requests < 1.1 * RPM
        assert _sum(sim, "RequestCount", _group(env, green), minute) == requests
        assert _sum(sim, "RequestCount", _group(env, blue), minute) == 0


def test_a_users_higher_priority_host_header_rule_does_not_capture_the_traffic() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=4, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment()
        blue, green = env.target_group_arns
        elb = sim.clients().elbv2
        elb.create_rule(
            ListenerArn=env.production_listener_arn,
            Priority=5,
            Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example"]}}],
            Actions=_forward([(green, 1)]),
        )
        minute = _to_minute(sim, 0)
        _past(sim, minute)
        requests = _requests(sim, env, minute)
        assert 0.9 * RPM < requests < 1.1 * RPM
        assert _sum(sim, "RequestCount", _group(env, blue), minute) == requests
        assert _sum(sim, "RequestCount", _group(env, green), minute) == 0


def test_a_catch_all_rule_created_mid_minute_splits_the_minute_by_time() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=5, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment()
        blue, green = env.target_group_arns
        minute = _to_minute(sim, 45)
        sim.clients().elbv2.create_rule(
            ListenerArn=env.production_listener_arn,
            Priority=50000,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["*"]}}],
            Actions=_forward([(blue, 0), (green, 100)]),
        )
        _past(sim, minute)
        requests = _requests(sim, env, minute)
        to_green = _sum(sim, "RequestCount", _group(env, green), minute)
        # Blue until 45 s (its default action), then green (the rule): a quarter to green,
        # whose task set has no task: those are ELB 5xx, not served requests.
        assert to_green == 0
        elb_5xx = _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute)
        assert 0.2 < elb_5xx / requests < 0.3
        # The next minute is all the rule's.
        _past(sim, minute + 60)
        elb_5xx = _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute + 60)
        assert elb_5xx == _requests(sim, env, minute + 60) > 0


def test_the_rule_deleted_mid_minute_hands_the_rest_back_to_the_default_action() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=6, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment()
        _, green = env.target_group_arns
        elb = sim.clients().elbv2
        rule = elb.create_rule(
            ListenerArn=env.production_listener_arn,
            Priority=100,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=_forward([(green, 1)]),
        )["Rules"][0]["RuleArn"]
        minute = _to_minute(sim, 15)
        elb.delete_rule(RuleArn=rule)
        _past(sim, minute)
        requests = _requests(sim, env, minute)
        elb_5xx = _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute)
        assert 0.2 < elb_5xx / requests < 0.3  # the first 15 s went to green, no task there


def test_the_lower_priority_number_of_two_catch_all_rules_wins_and_follows_a_swap() -> None:
    traffic = Traffic(requests_per_minute=RPM, seed=7, while_idle=True)
    with Simulator(traffic=traffic, start_time=START) as sim:
        env = sim.create_environment()
        blue, green = env.target_group_arns
        elb = sim.clients().elbv2
        listener = env.production_listener_arn
        elb.modify_listener(ListenerArn=listener, DefaultActions=_forward([(green, 1)]))
        every_path = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["*"]}}]
        rules = {
            target: elb.create_rule(
                ListenerArn=listener,
                Priority=priority,
                Conditions=every_path,
                Actions=_forward([(target, 1)]),
            )["Rules"][0]["RuleArn"]
            for priority, target in ((200, green), (100, blue))
        }
        minute = _to_minute(sim, 0)
        _past(sim, minute)
        # The rule at 100 (blue) wins over the one at 200 and the default action (green).
        assert _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute) == 0
        assert _sum(sim, "RequestCount", _group(env, blue), minute) == _requests(sim, env, minute)
        elb.set_rule_priorities(
            RulePriorities=[
                {"RuleArn": rules[blue], "Priority": 300},
                {"RuleArn": rules[green], "Priority": 50},
            ]
        )
        _past(sim, minute + 120)
        # Now green's rule comes first; green has no task: every request is an ELB 5xx.
        elb_5xx = _sum(sim, "HTTPCode_ELB_5XX_Count", _lb(env), minute + 120)
        assert elb_5xx == _requests(sim, env, minute + 120) > 0
