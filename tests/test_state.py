"""bluegreen.state: which task set is blue and which green, and the state as text and JSON."""

import datetime as dt
import json

from bluegreen import (
    ListenerRoute,
    ServiceState,
    StabilityStatus,
    TargetGroup,
    TargetGroupPair,
    TargetLabel,
    TaskSet,
    TaskSetStatus,
    WeightedTargetGroup,
)

BLUE_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/1"
GREEN_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/2"
DEF = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:"


def task_set(id: str, status: TaskSetStatus, revision: int, tg: str, **more) -> TaskSet:
    return TaskSet(
        id=id,
        arn=f"arn:taskset/{id}",
        status=status,
        task_definition=f"{DEF}{revision}",
        desired_count=2,
        running_count=2,
        pending_count=0,
        scale_percent=100.0,
        stability=StabilityStatus.STEADY_STATE,
        target_group_arn=tg,
        **more,
    )


def state(*task_sets: TaskSet, deployment_id: str | None = None) -> ServiceState:
    return ServiceState(
        cluster="arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        service="web",
        service_arn="arn:service/web",
        status="ACTIVE",
        deployment_controller="CODE_DEPLOY",
        desired_count=2,
        running_count=2 * len(task_sets),
        task_definition=f"{DEF}1",
        task_sets=task_sets,
        target_groups=TargetGroupPair(
            first=TargetGroup(arn=BLUE_TG, name="web-blue"),
            second=TargetGroup(arn=GREEN_TG, name="web-green"),
        ),
        production=ListenerRoute(
            arn="arn:prod",
            port=80,
            protocol="HTTP",
            load_balancer_arn=None,
            targets=(WeightedTargetGroup(BLUE_TG, 90), WeightedTargetGroup(GREEN_TG, 10)),
        ),
        deployment_id=deployment_id,
    )


def test_green_is_the_task_set_of_the_deployment_and_blue_the_primary():
    blue = task_set("blue", TaskSetStatus.PRIMARY, 1, BLUE_TG)
    green = task_set(
        "green",
        TaskSetStatus.ACTIVE,
        2,
        GREEN_TG,
        external_id="d-1",
        created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),  # older, still green: by id
    )
    s = state(blue, green, deployment_id="d-1")

    assert (s.blue, s.green, s.primary) == (blue, green, blue)
    assert s.label(green) is TargetLabel.GREEN
    assert s.traffic(green) == (10.0, None)
    assert s.is_code_deploy


def test_one_task_set_is_blue_and_there_is_no_green():
    blue = task_set("blue", TaskSetStatus.PRIMARY, 1, BLUE_TG)
    s = state(blue)

    assert (s.blue, s.green) == (blue, None)
    assert s.traffic(s.green) == (None, None)


def test_the_state_as_text_and_json():
    s = state(
        task_set("blue", TaskSetStatus.PRIMARY, 1, BLUE_TG),
        task_set("green", TaskSetStatus.ACTIVE, 2, GREEN_TG, external_id="d-1"),
        deployment_id="d-1",
    )

    text = repr(s)
    data = json.loads(json.dumps(s.to_dict()))

    assert text.startswith("<ServiceState web in prod: CODE_DEPLOY, desired 2, running 4, ")
    assert "  green ACTIVE   web:2" in text
    assert "  prod  :80 HTTP  web-blue 90% | web-green 10%" in text
    assert data["green"]["target_group"] == "web-green"
    assert data["production_listener"]["weights"] == {"web-blue": 90.0, "web-green": 10.0}
