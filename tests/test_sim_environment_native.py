"""The sample environment's ECS-native service: made beside the CodeDeploy one, on the same
cluster and load balancer, as ECS-native blue/green needs it (contract §9), and shown by
``describe()``."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.testing import Simulator


def _native_service(sim: Simulator, env: Any) -> dict[str, Any]:
    ecs = sim.clients().ecs
    return dict(
        ecs.describe_services(cluster=env.cluster, services=[env.native.service])["services"][0]
    )


def test_native_true_adds_an_ecs_controller_service_beside_the_codedeploy_one() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        native = env.native
        assert native is not None
        assert native.service == "web-native"
        service = _native_service(sim, env)
        assert service["deploymentController"] == {"type": "ECS"}
        assert service["clusterArn"].endswith(f":cluster/{env.cluster}")
        [lb] = service["loadBalancers"]
        assert lb["targetGroupArn"] == native.target_group_arns[0]
        assert lb["advancedConfiguration"] == {
            "alternateTargetGroupArn": native.target_group_arns[1],
            "productionListenerRule": native.production_rule_arn,
            "testListenerRule": native.test_rule_arn,
            "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers",
        }
        assert native.deployment_configuration["strategy"] == "BLUE_GREEN"
        # The bake time follows the CodeDeploy group's termination wait (5 by default).
        assert native.deployment_configuration["bakeTimeInMinutes"] == 5
        assert native.deployment_configuration["alarms"] == {
            "alarmNames": ["web-native-5xx"],
            "enable": True,
            "rollback": True,
        }
        codedeploy_service = sim.clients().ecs.describe_services(
            cluster=env.cluster, services=[env.service]
        )["services"][0]
        assert codedeploy_service["deploymentController"] == {"type": "CODE_DEPLOY"}


def test_the_production_rule_is_on_the_production_listener_weighted_blue_100_green_0() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native="api")
        native = env.native
        assert native is not None
        assert native.service == "api"
        elbv2 = sim.clients().elbv2
        for listener, rule_arn in (
            (env.production_listener_arn, native.production_rule_arn),
            (env.test_listener_arn, native.test_rule_arn),
        ):
            rules = elbv2.describe_rules(ListenerArn=listener)["Rules"]
            [rule] = [r for r in rules if r["RuleArn"] == rule_arn]
            assert rule["Conditions"][0]["HostHeaderConfig"]["Values"] == ["api.example.com"]
            [action] = rule["Actions"]
            weights = [
                (g["TargetGroupArn"], g["Weight"]) for g in action["ForwardConfig"]["TargetGroups"]
            ]
            assert weights == [(native.target_group_arns[0], 100), (native.target_group_arns[1], 0)]
        # The CodeDeploy service's listener still forwards to its own blue by default.
        assert sim.listener_weights(env.production_listener_arn) == [(env.target_group_arns[0], 1)]


def test_canary_and_linear_options_write_their_configuration() -> None:
    with Simulator() as sim:
        env = sim.create_environment(
            native=True, native_strategy="CANARY", native_percent=10, native_step_minutes=5
        )
        assert env.native is not None
        config = env.native.deployment_configuration
        assert config["strategy"] == "CANARY"
        assert config["canaryConfiguration"] == {
            "canaryPercent": 10.0,
            "canaryBakeTimeInMinutes": 5,
        }
        assert "CANARY 10% for 5 min" in env.describe()
    with Simulator() as sim:
        env = sim.create_environment(
            native=True,
            native_strategy="LINEAR",
            native_bake_minutes=2,
            termination_wait_minutes=9,
        )
        assert env.native is not None
        config = env.native.deployment_configuration
        # AWS's defaults written out: steps of 10 % every 6 minutes.
        assert config["linearConfiguration"] == {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}
        assert config["bakeTimeInMinutes"] == 2


def test_the_native_service_has_its_scalable_target_and_its_alarm() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        assert env.native is not None
        clients = sim.clients()
        targets = clients.autoscaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=["service/prod/web-native"]
        )["ScalableTargets"]
        assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 10)]
        [alarm] = clients.cloudwatch.describe_alarms(AlarmNames=["web-native-5xx"])["MetricAlarms"]
        groups = {
            d["Value"]
            for q in alarm["Metrics"]
            if "MetricStat" in q
            for d in q["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "TargetGroup"
        }
        assert groups == {arn.split(":")[-1] for arn in env.native.target_group_arns}


def test_hooks_are_passed_to_the_service_as_lifecycle_hooks() -> None:
    hook = {
        "targetType": "PAUSE",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"},
    }
    with Simulator() as sim:
        env = sim.create_environment(native=True, native_hooks=[hook])
        assert env.native is not None
        assert env.native.deployment_configuration["lifecycleHooks"] == [hook]
        assert "native hook        PAUSE at POST_TEST_TRAFFIC_SHIFT" in env.describe()


def test_describe_shows_the_native_service_and_without_native_nothing_changes() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        text = env.describe()
        assert "native service     web-native (Fargate, ECS controller, BLUE_GREEN" in text
        assert env.native is not None
        assert env.native.production_rule_arn in text
        assert env.native.to_dict()["target_group_names"] == ["web-native-blue", "web-native-green"]
    with Simulator() as sim:
        env = sim.create_environment()
        assert env.native is None
        assert "native" not in env.describe()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"native_strategy": "ROLLING"}, "native_strategy must be one of"),
        ({"native_percent": 10}, "are for native_strategy CANARY or LINEAR"),
        ({"native_strategy": "LINEAR", "native_percent": 2}, "between 3 and 100"),
        ({"load_balancer": "network"}, "needs load_balancer='application'"),
        ({"native": "web"}, "must differ from name='web'"),
    ],
)
def test_wrong_native_options_are_refused_before_anything_is_created(
    options: dict[str, Any], message: str
) -> None:
    with Simulator() as sim:
        with pytest.raises(ValueError, match=message):
            sim.create_environment(**{"native": True, **options})
        assert sim.clients().ecs.list_clusters()["clusterArns"] == []
