"""The pure mapping of CodeDeploy settings onto ECS-native ones (``bluegreen.migration_mapping``)
and the checks of what blocks a migration (``bluegreen.migration_checks``), on values alone:
tables for each setting, hypothesis for the strategy's limits and for traffic-neutral rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bluegreen.deployment_group import DeploymentGroup
from bluegreen.migration_checks import listener_problems, role_problems
from bluegreen.migration_facts import (
    HookFacts,
    ListenerFacts,
    MigrationFacts,
    RoleFacts,
    ServiceFacts,
)
from bluegreen.migration_mapping import (
    alarms_for,
    answers_native,
    hook_plan,
    native_strategy,
    pause_hook,
    rollback_differences,
    rule_plan,
    strategy_problems,
)
from bluegreen.migration_reading import forward_weights, function_arn, highest_free_priority
from bluegreen.native_config import EVENT_STAGES
from bluegreen.traffic import PREDEFINED_CONFIGS, TrafficConfig

BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1111"
GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2222"
OTHER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/3333"
LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web-lb/aa/bb"
NLB_LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web-lb/aa/bb"
ROLE = "arn:aws:iam::123456789012:role/infra"
SERVICE_ARN = "arn:aws:ecs:eu-west-1:210987654321:service/prod/web"


def group(**fields: Any) -> DeploymentGroup:
    return DeploymentGroup(application="app", name="dg", **fields)


# -- the strategy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CodeDeployDefault.ECSAllAtOnce", {"strategy": "BLUE_GREEN"}),
        (
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
            },
        ),
        (
            "CodeDeployDefault.ECSCanary10Percent15Minutes",
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 15},
            },
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
            {
                "strategy": "LINEAR",
                "linearConfiguration": {"stepPercent": 10.0, "stepBakeTimeInMinutes": 1},
            },
        ),
        (
            "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
            {
                "strategy": "LINEAR",
                "linearConfiguration": {"stepPercent": 10.0, "stepBakeTimeInMinutes": 3},
            },
        ),
    ],
)
def test_each_predefined_config_maps_onto_the_strategy_ecs_names(name, expected):
    mapped = native_strategy(PREDEFINED_CONFIGS[name], bake_minutes=7, keep={"maximumPercent": 200})
    api = mapped.value.to_api()
    assert api == {"maximumPercent": 200, "bakeTimeInMinutes": 7, **expected}
    assert mapped.value.problems() == []
    assert [item.subject for item in mapped.items] == ["strategy", "bake time"]


@given(
    kind=st.sampled_from(["canary", "linear"]),
    percent=st.integers(min_value=1, max_value=99),
    interval=st.integers(min_value=1, max_value=2880),
    bake=st.integers(min_value=0, max_value=2880),
)
def test_custom_configs_keep_percent_and_interval_and_ecs_limits_become_problems(
    kind, percent, interval, bake
):
    traffic = getattr(TrafficConfig, kind)(percent, interval, name="Custom")
    strategy = native_strategy(traffic, bake_minutes=bake).value
    assert strategy.strategy == kind.upper()
    assert strategy.percent == float(percent)
    assert strategy.step_minutes == interval
    assert strategy.bake_minutes == bake
    problems = strategy_problems(strategy, traffic)
    expected = (kind == "linear" and percent < 3) + (interval > 1440) + (bake > 1440)
    assert len(problems) == expected
    if bake > 1440:
        assert any(p.startswith("the group's terminationWaitTimeInMinutes") for p in problems)


def test_all_at_once_custom_config_is_blue_green_with_the_bake_time():
    api = native_strategy(TrafficConfig.all_at_once(name="Now"), bake_minutes=0).value.to_api()
    assert api == {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}


# -- the ready wait -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "minutes", "hook"),
    [
        ("CONTINUE_DEPLOYMENT", 0, None),
        ("CONTINUE_DEPLOYMENT", 30, None),
        ("STOP_DEPLOYMENT", 0, None),
        (
            "STOP_DEPLOYMENT",
            60,
            {
                "targetType": "PAUSE",
                "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
            },
        ),
    ],
)
def test_ready_wait_is_a_pause_hook_only_when_codedeploy_waits(action, minutes, hook):
    mapped = pause_hook(group(ready_action=action, ready_wait_minutes=minutes))
    assert mapped.value == hook
    assert mapped.items[0].subject == "ready wait"


# -- alarms, rollback, triggers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "rollback"),
    [(("DEPLOYMENT_STOP_ON_ALARM",), True), (("DEPLOYMENT_FAILURE",), False)],
)
def test_alarms_roll_back_when_stop_on_alarm_is_an_auto_rollback_event(events, rollback):
    mapped = alarms_for(group(alarm_names=("a", "b"), auto_rollback_events=events))
    assert mapped.value == {"alarmNames": ["a", "b"], "enable": True, "rollback": rollback}
    assert bool(mapped.differences) is not rollback


def test_no_alarms_map_to_none_and_ignore_poll_alarm_failure_is_a_difference():
    assert alarms_for(group()).value is None
    mapped = alarms_for(
        group(
            alarm_names=("a",),
            auto_rollback_events=("DEPLOYMENT_STOP_ON_ALARM",),
            ignore_poll_alarm_failure=True,
        )
    )
    assert [d.split(" ")[0] for d in mapped.differences] == ["ignorePollAlarmFailure"]


def test_rollback_events_off_and_triggers_are_differences():
    every = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
    assert rollback_differences(group(auto_rollback_events=every), ()).differences == ()
    mapped = rollback_differences(group(), ("t1", "t2"))
    text = "\n".join(mapped.differences)
    assert "DEPLOYMENT_FAILURE is off" in text
    assert "DEPLOYMENT_STOP_ON_REQUEST is off" in text
    assert "triggers (t1, t2)" in text
    assert [i.subject for i in mapped.items] == ["auto-rollback", "triggers"]


# -- hooks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "ready"),
    [
        ("verify_test_listener.handler", True),
        ("bluegreen.hooks.handlers.verify_production.handler", True),
        ("restore_scaling.hook_handler", True),
        ("analysis_gate.handler", True),
        ("verify_test_listener.other", None),
        ("mine.handler", None),
        ("elsewhere.verify_test_listener.handler", None),
        ("index.handler", None),
        (None, None),
        ("nodot", None),
    ],
)
def test_only_a_ready_made_handler_is_known_to_answer_ecs(handler, ready):
    assert answers_native(handler) is ready


@pytest.mark.parametrize("event", sorted(EVENT_STAGES))
@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "LINEAR", "CANARY"])
def test_each_appspec_event_becomes_a_lambda_hook_on_its_stage(event, strategy):
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    facts = HookFacts(event=event, function="fn", function_arn=arn, handler="index.handler")
    plan, entry = hook_plan(facts, role_arn=ROLE, strategy=strategy).value
    assert entry == {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": arn,
        "lifecycleStages": [EVENT_STAGES[event]],
        "roleArn": ROLE,
    }
    assert (plan.event, plan.stage, plan.answers_native) == (event, EVENT_STAGES[event], None)
    differences = hook_plan(facts, role_arn=ROLE, strategy=strategy).differences
    every_step = event == "BeforeAllowTraffic" and strategy != "BLUE_GREEN"
    assert len(differences) == 1 + every_step


def test_a_hook_function_name_or_alias_becomes_an_arn_in_the_services_account_and_region():
    svc = ServiceFacts(cluster="prod", service="web", raw={"serviceArn": SERVICE_ARN})
    assert function_arn("fn", svc) == "arn:aws:lambda:eu-west-1:210987654321:function:fn"
    assert function_arn("fn:live", svc).endswith(":function:fn:live")
    given = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert function_arn(given, svc) == given


# -- rules --------------------------------------------------------------------------------------

weights = st.integers(min_value=0, max_value=999)


@given(
    forward=st.one_of(
        st.tuples(st.tuples(st.just(BLUE), weights)),
        st.tuples(st.tuples(st.just(BLUE), weights), st.tuples(st.just(GREEN), weights)),
        st.tuples(st.tuples(st.just(GREEN), weights), st.tuples(st.just(BLUE), weights)),
    ),
    network=st.booleans(),
)
def test_a_rule_forwards_as_the_default_action_and_adds_the_missing_group_at_weight_0(
    forward, network
):
    listener = ListenerFacts(
        role="production",
        arn=NLB_LISTENER if network else LISTENER,
        network=network,
        forward=forward,
        free_priority=None if network else 50000,
    )
    plan = rule_plan(listener, production=BLUE, alternate=GREEN).value
    assert plan.forward[: len(forward)] == forward  # as the listener forwards now
    assert {tg for tg, _ in plan.forward} == {BLUE, GREEN}
    assert all(weight == 0 for _, weight in plan.forward[len(forward) :])
    if network:
        assert (plan.rule_arn, plan.priority) == (listener.arn, None)
        assert plan.modify_listener is (len(forward) == 1)
    else:
        assert (plan.rule_arn, plan.priority, plan.modify_listener) == (None, 50000, False)


@given(st.sets(st.integers(min_value=1, max_value=50000), max_size=30))
def test_the_created_rule_takes_the_highest_priority_no_rule_takes(taken):
    free = highest_free_priority([*map(str, taken), "default"])
    assert free not in taken
    assert all(p in taken for p in range((free or 0) + 1, 50001))


def test_a_plain_forward_counts_as_weight_100():
    assert forward_weights([{"Type": "forward", "TargetGroupArn": BLUE}]) == ((BLUE, 100),)
    weighted = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": BLUE, "Weight": 0},
                {"TargetGroupArn": GREEN, "Weight": 100},
            ]
        },
    }
    assert forward_weights([{"Type": "redirect"}, weighted]) == ((BLUE, 0), (GREEN, 100))
    assert forward_weights([{"Type": "fixed-response"}]) == ()


@pytest.mark.parametrize(
    ("forward", "found"),
    [
        (((BLUE, 100),), []),
        (((BLUE, 100), (GREEN, 0)), []),
        (((BLUE, 90), (GREEN, 10)), ["may be half done"]),
        (((GREEN, 100),), ["may be half done"]),
        (((BLUE, 100), (OTHER, 0)), ["outside the pair"]),
        ((), ["does not forward"]),
    ],
)
def test_the_production_listener_must_send_everything_to_the_live_group_of_the_pair(forward, found):
    listener = ListenerFacts(role="production", arn=LISTENER, forward=forward, free_priority=1)
    problems = listener_problems((listener,), production=BLUE, alternate=GREEN)
    assert len(problems) == len(found)
    assert all(text in problem for text, problem in zip(found, problems, strict=True))


def test_a_listener_without_a_free_priority_is_a_problem():
    listener = ListenerFacts(role="test", arn=LISTENER, forward=((BLUE, 100),))
    problems = listener_problems((listener,), production=BLUE, alternate=GREEN)
    assert ["no free rule priority" in p for p in problems] == [True]


# -- roles --------------------------------------------------------------------------------------


def facts_with(**roles: Any) -> MigrationFacts:
    svc = ServiceFacts(cluster="prod", service="web", raw={"serviceArn": SERVICE_ARN})
    return MigrationFacts(service=svc, **roles)


@pytest.mark.parametrize(
    ("roles", "found"),
    [
        ({}, "no infrastructure role"),
        ({"role": RoleFacts(name="r", arn=ROLE, exists=False)}, "does not exist"),
        ({"role": RoleFacts(name="r", arn=ROLE, exists=True)}, "does not trust"),
        ({"role": RoleFacts(name="r", arn=ROLE, exists=True, error="denied")}, "cannot be checked"),
        ({"create_role": RoleFacts(name="r", arn=ROLE, exists=True)}, "exists already"),
        (
            {
                "create_role": RoleFacts(name="r", arn=ROLE, exists=False),
                "hook_role": RoleFacts(name="h", arn=ROLE, exists=True),
            },
            "the hook role",
        ),
    ],
)
def test_each_role_problem_is_found(roles, found):
    problems = role_problems(facts_with(**roles))
    assert len(problems) == 1
    assert found in problems[0]


def test_a_trusted_role_or_a_new_one_is_no_problem():
    trusted = RoleFacts(name="r", arn=ROLE, exists=True, trusts_ecs=True)
    assert role_problems(facts_with(role=trusted)) == []
    assert role_problems(facts_with(create_role=RoleFacts(name="r", arn=ROLE, exists=False))) == []
