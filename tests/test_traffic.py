import pytest

from bluegreen import PREDEFINED_CONFIGS, TrafficConfig, TrafficConfigError, TrafficType

# (config, [(minute, green %), ...]) from contract section 3.1.
PREDEFINED_SCHEDULES = {
    "CodeDeployDefault.ECSAllAtOnce": [(0, 100)],
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": [(m, 10 * (m + 1)) for m in range(10)],
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": [(3 * i, 10 * (i + 1)) for i in range(10)],
    "CodeDeployDefault.ECSCanary10Percent5Minutes": [(0, 10), (5, 100)],
    "CodeDeployDefault.ECSCanary10Percent15Minutes": [(0, 10), (15, 100)],
}


def test_the_five_predefined_ecs_configs_and_no_others():
    assert list(PREDEFINED_CONFIGS) == list(PREDEFINED_SCHEDULES)


@pytest.mark.parametrize(("name", "expected"), PREDEFINED_SCHEDULES.items())
def test_predefined_schedule(name, expected):
    schedule = TrafficConfig.named(name).schedule()
    assert [(s.minute, s.green_percent) for s in schedule.steps] == expected


def test_linear_10_every_minute_is_ten_shifts_over_nine_minutes():
    schedule = TrafficConfig.named("CodeDeployDefault.ECSLinear10PercentEvery1Minutes").schedule()
    assert len(schedule.steps) == 10
    assert schedule.shift_minutes == 9


@pytest.mark.parametrize(
    ("percent", "interval", "expected"),
    [
        (30, 2, [(0, 30), (2, 60), (4, 90), (6, 100)]),
        (33, 1, [(0, 33), (1, 66), (2, 99), (3, 100)]),
        (50, 5, [(0, 50), (5, 100)]),
        (60, 10, [(0, 60), (10, 100)]),
        (100, 4, [(0, 100)]),
        (1, 1, [(m, m + 1) for m in range(100)]),
    ],
)
def test_uneven_linear_steps_end_with_the_remainder(percent, interval, expected):
    steps = TrafficConfig.linear(percent, interval).steps()
    assert [(s.minute, s.green_percent) for s in steps] == expected


def test_total_duration_adds_ready_and_termination_waits():
    config = TrafficConfig.named("CodeDeployDefault.ECSCanary10Percent15Minutes")
    schedule = config.schedule(ready_wait_minutes=30, termination_wait_minutes=60)
    assert (schedule.shift_minutes, schedule.total_minutes) == (15, 105)


def test_green_percent_at_a_minute():
    schedule = TrafficConfig.linear(25, 2).schedule()
    assert [schedule.green_percent_at(m) for m in (0, 1.9, 2, 5, 6, 100)] == [
        25,
        25,
        50,
        75,
        100,
        100,
    ]


def test_custom_config_round_trips_through_the_api_shape():
    config = TrafficConfig.canary(25, 45, name="Canary25Percent45Minutes")
    assert config.to_api() == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 45},
    }
    assert TrafficConfig.from_api(config.name, config.to_api()) == config


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (
            lambda: TrafficConfig.canary(0, 5),
            "canary percentage must be a whole number from 1 to 99",
        ),
        (lambda: TrafficConfig.canary(100, 5), "from 1 to 99"),
        (
            lambda: TrafficConfig.linear(101, 5),
            "linear percentage must be a whole number from 1 to 100",
        ),
        (
            lambda: TrafficConfig.linear(10, 0),
            "interval must be a whole number of minutes, at least 1",
        ),
        (lambda: TrafficConfig.canary(10, 5, name="CodeDeployDefault.Mine"), "reserved"),
        (lambda: TrafficConfig.canary(10, 5, name="has space"), "must be 1-100 characters"),
        (lambda: TrafficConfig.canary(10, 5, name="x" * 101), "must be 1-100 characters"),
        (
            lambda: TrafficConfig.canary(
                20, 5, name="CodeDeployDefault.ECSCanary10Percent5Minutes"
            ),
            "is predefined as canary 10% then the rest after 5 min",
        ),
        (
            lambda: TrafficConfig(name="a", type=TrafficType.ALL_AT_ONCE, percentage=5),
            "takes no percentage",
        ),
    ],
)
def test_invalid_configs_are_refused_with_a_reason(build, fragment):
    with pytest.raises(TrafficConfigError) as info:
        build()
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once():
    with pytest.raises(TrafficConfigError) as info:
        TrafficConfig.linear(0, 0, name="CodeDeployDefault.Bad")
    assert len(info.value.problems) == 3
    assert "3 problems" in str(info.value)


def test_network_load_balancer_allows_only_all_at_once():
    canary = TrafficConfig.named("CodeDeployDefault.ECSCanary10Percent5Minutes")
    assert canary.problems(load_balancer="application") == []
    [problem] = canary.problems(load_balancer="network")
    assert "Network Load Balancer supports only all-at-once" in problem
    TrafficConfig.all_at_once().validate(load_balancer="network")
    with pytest.raises(TrafficConfigError):
        canary.validate(load_balancer="network")


def test_unknown_predefined_name_points_to_custom_lookup():
    with pytest.raises(TrafficConfigError, match="get_deployment_config"):
        TrafficConfig.named("CodeDeployDefault.OneAtATime")


def test_config_is_a_value_error_for_callers_that_catch_builtins():
    with pytest.raises(ValueError, match="canary percentage"):
        TrafficConfig.canary(0, 1)
