"""``discover`` on an ECS-native blue/green service: the same ``ServiceState`` as a CodeDeploy
one, with the strategy, the blue and green service revisions, the listener rules and their
weights, the alternate target group and the deployment in flight."""

from __future__ import annotations

import json
from typing import Any

from bluegreen.deploying import deploy
from bluegreen.discovery import discover
from bluegreen.native_config import NativeStrategy, is_native_service
from bluegreen.traffic import TrafficConfig

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"


def _native(sim: Any, **options: Any) -> Any:
    env = sim.create_environment(native=True, **options)
    assert env.native is not None
    return env


def _discover(sim: Any, env: Any) -> Any:
    return discover(env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock)


def test_a_native_service_is_read_with_its_strategy_rules_and_blue_revision(sim):
    env = _native(sim)
    native = env.native

    state = _discover(sim, env)

    assert state.kind == "ecs"
    assert state.deployment_group is None
    assert state.deployment_id is None
    assert state.strategy is not None
    assert state.strategy.strategy == "BLUE_GREEN"
    assert state.strategy.bake_minutes == 5
    assert state.strategy.alarm_names == ("web-native-5xx",)
    routing = state.advanced_routing
    assert routing is not None
    assert routing.alternate_target_group_arn == native.target_group_arns[1]
    assert routing.production_listener_rule == native.production_rule_arn
    assert state.target_groups is not None
    assert state.target_groups.arns == tuple(native.target_group_arns)
    assert state.production is not None
    assert state.production.arn == native.production_rule_arn
    assert state.production.port == 80
    assert state.production.percent(native.target_group_arns[0]) == 100.0
    assert state.test is not None
    assert state.test.percent(native.target_group_arns[1]) == 0.0
    assert state.blue_revision is not None
    assert state.green_revision is None
    assert state.blue_revision.task_definition == native.task_definition_arn
    assert state.blue_revision.production_percent == 100.0
    assert state.blue_revision.target_group_arn == native.target_group_arns[0]


def test_to_dict_and_repr_say_the_kind_and_the_weights(sim):
    env = _native(sim)

    state = _discover(sim, env)
    document = json.loads(json.dumps(state.to_dict(), default=str))
    text = repr(state)

    assert document["kind"] == "ecs"
    assert document["strategy"]["strategy"] == "BLUE_GREEN"
    assert document["blue"]["target_group"] == "web-native-blue"
    assert document["blue"]["production_percent"] == 100.0
    assert document["green"] is None
    assert document["production_listener"]["weights"] == {
        "web-native-blue": 100.0,
        "web-native-green": 0.0,
    }
    assert document["advanced_configuration"]["alternate_target_group"].endswith(
        env.native.target_group_arns[1].split(":")[-1]
    )
    assert "ecs-native BLUE_GREEN all at once; bake 5 min" in text
    assert "blue  web-native:1" in text


def test_a_deployment_in_flight_is_the_green_revision_and_the_deployment_id(sim):
    env = _native(sim)
    deployment = deploy(
        env.cluster, env.native.service, image=NEW_IMAGE, clients=sim.clients(), clock=sim.clock
    )

    state = _discover(sim, env)

    assert state.deployment_id == deployment.id
    assert state.green_revision is not None
    assert state.blue_revision is not None
    assert state.green_revision.task_definition is not None
    assert state.green_revision.task_definition.endswith("web-native:2")
    assert state.blue_revision.task_definition == env.native.task_definition_arn
    assert state.green_revision.target_group_arn == env.native.target_group_arns[1]
    assert f"deployment {deployment.id} in flight" in repr(state)


def test_a_codedeploy_service_reads_as_before(sim, env):
    state = discover(env.cluster, env.service, clients=sim.clients(), clock=sim.clock)

    assert state.kind == "codedeploy"
    assert state.strategy is None
    assert state.blue_revision is None
    assert state.to_dict()["kind"] == "codedeploy"
    assert "strategy" not in state.to_dict()
    assert "ecs-native" not in repr(state)


def test_what_makes_a_service_native():
    blue_green = {"deploymentConfiguration": {"strategy": "BLUE_GREEN"}}
    assert is_native_service(blue_green)
    assert is_native_service({**blue_green, "deploymentController": {"type": "ECS"}})
    assert not is_native_service({**blue_green, "deploymentController": {"type": "CODE_DEPLOY"}})
    assert not is_native_service({"deploymentConfiguration": {"strategy": "ROLLING"}})
    assert not is_native_service({})


def test_a_traffic_config_maps_onto_the_native_strategy_keeping_bake_and_hooks():
    read = NativeStrategy.from_api(
        {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 7,
            "maximumPercent": 200,
            "alarms": {"alarmNames": ["a"], "enable": True, "rollback": True},
            "lifecycleHooks": [
                {
                    "targetType": "PAUSE",
                    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                }
            ],
        }
    )

    canary = read.with_traffic_config(TrafficConfig.canary(10, 5)).to_api()
    linear = read.with_traffic_config(TrafficConfig.linear(25, 2))
    once = read.with_traffic_config(TrafficConfig.all_at_once()).to_api()

    assert canary["strategy"] == "CANARY"
    assert canary["canaryConfiguration"] == {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}
    assert canary["bakeTimeInMinutes"] == 7
    assert canary["maximumPercent"] == 200
    assert canary["alarms"] == {"alarmNames": ["a"], "enable": True, "rollback": True}
    assert canary["lifecycleHooks"] == [
        {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
    ]
    assert [(s.minute, s.green_percent) for s in linear.steps()] == [
        (0, 25.0),
        (2, 50.0),
        (4, 75.0),
        (6, 100.0),
    ]
    assert once["strategy"] == "BLUE_GREEN"
    assert "canaryConfiguration" not in once


def test_strategy_settings_ecs_refuses_are_named():
    strategy = NativeStrategy(strategy="LINEAR", percent=2.5, step_minutes=2000)
    problems = strategy.problems()
    assert any("linear step percent 2.5" in p for p in problems)
    assert any("step bake 2000 min" in p for p in problems)
    assert NativeStrategy(strategy="BLUE_GREEN").problems() == [
        "a BLUE_GREEN strategy needs bakeTimeInMinutes"
    ]
