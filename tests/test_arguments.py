"""bluegreen.arguments and bluegreen.driver_arguments: what ``deploy``, ``plan``, the
``Deployment`` driver, ``TrafficConfig`` and the command line refuse before any call (each
wrong argument named, with what would be right), and what ``auto_rollback=`` turns on.
"""

from __future__ import annotations

import pytest
from deploying import (
    NEW_IMAGE,
    Deployer,
    run_cli,
    run_deploy,
    run_plan,
)

from bluegreen import (
    Deployment,
    TrafficConfig,
    TrafficConfigError,
    ValidationError,
    ensure_deployment_config,
    get_deployment_config,
)

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


def test_contradictory_arguments_are_refused_before_any_call(sim):
    Deployer.create(sim)
    calls = len(list(sim.api_calls()))

    with pytest.raises(ValidationError, match="exactly one of image"):
        run_deploy(sim, image=NEW_IMAGE, task_definition="web:1")
    with pytest.raises(ValidationError, match="exactly one of image"):
        run_plan(sim)
    with pytest.raises(ValidationError, match="together"):
        run_plan(sim, image=NEW_IMAGE, application="AppECS-prod-web")

    assert len(list(sim.api_calls())) == calls


def test_auto_rollback_true_turns_on_every_event_and_a_string_lists_them(sim):
    Deployer.create(sim)

    every = run_plan(sim, image=NEW_IMAGE, auto_rollback=True)
    listed = run_plan(
        sim, image=NEW_IMAGE, auto_rollback="DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM"
    )

    assert every.auto_rollback_events == (
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
        "DEPLOYMENT_STOP_ON_REQUEST",
    )
    assert listed.auto_rollback_events == ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
    assert every.auto_rollback_overridden
    assert listed.ok


# -- every public entry point refuses wrong arguments with a bluegreen error, before any call --


def test_deploy_lists_every_wrong_argument_in_one_error_before_any_call(sim):
    with pytest.raises(ValidationError) as caught:
        run_deploy(
            sim,
            image=123,
            hooks=["AfterInstall"],
            check_hooks="yes",
            suspend_scaling=3,
            description=b"release",
        )

    problems = caught.value.problems
    assert len(problems) == 5
    assert problems[0].startswith("image= must be an image reference (a string) or a mapping")
    assert "got int 123" in problems[0]
    assert "hooks= must be a mapping {lifecycle event: Lambda function name or ARN}" in problems[1]
    assert "e.g. {'AfterAllowTestTraffic': 'CodeDeployHook_verify'}, got list" in problems[1]
    assert "suspend_scaling= takes True, False, or some of in, out, scheduled" in problems[2]
    assert problems[3] == "description= must be a string, got bytes b'release'"
    assert problems[4] == "check_hooks= must be True or False, got str 'yes'"
    assert list(sim.api_calls()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": NEW_IMAGE, "cluster": ""}, "cluster= is empty: give a cluster name or ARN"),
        ({"image": {"web": None}}, "image of container 'web': an image is a string"),
        ({"image": NEW_IMAGE, "hooks": {"AfterInstall": ""}}, "give a Lambda function name"),
        ({"image": NEW_IMAGE, "traffic_config": 5}, "traffic_config= must be a deployment config"),
        ({"image": NEW_IMAGE, "clock": object()}, "clock= must have time() and sleep(seconds)"),
        ({"image": NEW_IMAGE, "session": object()}, "give clients= or session=, not both"),
    ],
)
def test_a_wrong_deploy_argument_names_the_argument_and_the_fix(sim, kwargs, message):
    cluster = kwargs.pop("cluster", "prod")
    from bluegreen.deploying import plan

    with pytest.raises(ValidationError) as caught:
        plan(cluster, "web", **{"clients": sim.clients(), **kwargs})

    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert list(sim.api_calls()) == []


@pytest.fixture
def followed(sim):
    """A ``Deployment`` attached to an id; attaching makes no call."""
    return Deployment.attach("d-ABCDEFGHI", clients=sim.clients(), clock=sim.clock)


def test_wait_lists_every_wrong_argument_before_reading_anything(sim, followed):
    with pytest.raises(ValidationError) as caught:
        followed.wait("nowhere", timeout=-5, min_interval=-1, on_progress="print")

    assert caught.value.problems == (
        "until= str 'nowhere' is not a milestone: use one of installed, test_traffic, ready, "
        "traffic_step, traffic_shifted, termination_wait, end, or an ECS-native lifecycle "
        "stage: ecs:RECONCILE_SERVICE, ecs:PRE_SCALE_UP, ecs:SCALE_UP, ecs:POST_SCALE_UP, "
        "ecs:TEST_TRAFFIC_SHIFT, ecs:POST_TEST_TRAFFIC_SHIFT, ecs:PRE_PRODUCTION_TRAFFIC_SHIFT, "
        "ecs:PRODUCTION_TRAFFIC_SHIFT, ecs:POST_PRODUCTION_TRAFFIC_SHIFT, ecs:BAKE_TIME, "
        "ecs:CLEAN_UP",
        "timeout= must be a number of seconds, 0 or more (or None for no limit), got int -5",
        "min_interval= must be a positive number of seconds, got -1",
        "on_progress= must be a function taking a DeploymentSnapshot (or None), got str 'print'",
    )
    assert list(sim.api_calls()) == []


def test_wait_refuses_a_shortest_pause_longer_than_the_longest(sim, followed):
    with pytest.raises(ValidationError, match="min_interval=10 is more than max_interval=1"):
        followed.wait(min_interval=10, max_interval=1)
    with pytest.raises(ValidationError, match=r"did you mean 'traffic_shifted'\?"):
        followed.wait("Traffic-Shifted")
    assert list(sim.api_calls()) == []


def test_the_controls_and_attach_refuse_wrong_arguments_before_any_call(sim, followed):
    with pytest.raises(ValidationError, match="wait= must be True or False, got str 'no'"):
        followed.abort(wait="no")  # type: ignore[call-overload]
    with pytest.raises(ValidationError, match="description= is 300 characters; CodeDeploy takes"):
        followed.rollback(description="x" * 300)
    with pytest.raises(ValidationError) as attached:
        Deployment.attach(123, clients=sim.clients(), session=object(), budget=5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as current:
        Deployment.current("", "web", application="AppECS-prod-web", clients=sim.clients())

    assert [p.split(" ", 2)[:2] for p in attached.value.problems] == [
        ["deployment", "id"],
        ["give", "clients="],
        ["budget=", "must"],
    ]
    assert current.value.problems == (
        "cluster= is empty: give a cluster name or ARN",
        "give application= and deployment_group= together, or neither",
    )
    assert list(sim.api_calls()) == []


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: TrafficConfig.canary(True, 5),
            "canary percentage must be a whole number from 1 to 99, got True (a bool)",
        ),
        (
            lambda: TrafficConfig.linear(10, False),
            "linear interval must be a whole number of minutes, at least 1, got False (a bool)",
        ),
        (lambda: TrafficConfig.canary(10.0, 5), "got 10.0 (a float)"),
        (lambda: TrafficConfig.canary(10, 5, name=""), "name '' must be 1-100 characters"),
        (lambda: TrafficConfig.named(["a"]), "name must be a string, got ['a'] (a list)"),
        (lambda: get_deployment_config(5), "name must be a deployment config name, got 5"),
        (lambda: ensure_deployment_config("x"), "config must be a TrafficConfig, got 'x' (a str)"),
        (
            lambda: TrafficConfig(name="x", type="Sometimes"),
            "type must be a TrafficType "
            "(AllAtOnce, TimeBasedCanary, TimeBasedLinear), got 'Sometimes' (a str)",
        ),
    ],
)
def test_traffic_configs_refuse_booleans_and_wrong_types_naming_the_allowed_range(build, message):
    with pytest.raises(TrafficConfigError) as caught:
        build()

    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_a_schedule_refuses_waits_that_are_not_whole_minutes_within_two_days():
    config = TrafficConfig.all_at_once()

    with pytest.raises(ValidationError) as caught:
        config.schedule(ready_wait_minutes=-1, termination_wait_minutes=3000)

    assert caught.value.problems == (
        "ready_wait_minutes must be a whole number of minutes from 0 to 2880, got -1",
        "termination_wait_minutes must be a whole number of minutes from 0 to 2880, got 3000",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [
                "wait",
                "--deployment-id",
                "d-ABCDEFGHI",
                "--min-interval",
                "10",
                "--max-interval",
                "1",
            ],
            "--min-interval 10 is more than --max-interval 1: the shortest pause cannot be longer "
            "than the longest; give --min-interval at most 1, or a larger --max-interval",
        ),
        (
            [
                "deploy",
                "--cluster",
                "prod",
                "--service",
                "web",
                "--image",
                NEW_IMAGE,
                "--min-interval",
                "10",
                "--max-interval",
                "1",
            ],
            "--min-interval 10 is more than --max-interval 1: the shortest pause cannot be longer "
            "than the longest; give --min-interval at most 1, or a larger --max-interval",
        ),
        (
            ["abort", "--deployment-id", "d-ABCDEFGHI", "--no-wait", "--timeout", "5"],
            "--no-wait returns at once: leave out --timeout",
        ),
    ],
)
def test_the_command_line_refuses_impossible_wait_options_in_one_line(sim, capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)

    assert code == 2
    assert err == f"bluegreen: command line is invalid: {message}\n"
    assert list(sim.api_calls()) == []
