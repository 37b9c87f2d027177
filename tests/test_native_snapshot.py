"""An ECS-native service deployment, as DescribeServiceDeployments answers it (each answer
checked against botocore's ECS model), reads as a ``DeploymentSnapshot`` in CodeDeploy's
words: status, lifecycle events, task sets, schedule, what it waits for and how it ended."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import botocore.loaders
import botocore.model
import pytest

from bluegreen.driver_arguments import check_attach, check_wait
from bluegreen.errors import ValidationError
from bluegreen.native_reading import is_native_service
from bluegreen.native_snapshot import native_schedule, native_snapshot, strategy_summary
from bluegreen.native_status import (
    LifecycleStage,
    StageMilestone,
    is_native_deployment_id,
    service_of,
)
from bluegreen.polling import Milestone, reached
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import DeploymentStatus, LifecycleEvent, LifecycleEventStatus, TargetLabel

MODEL = botocore.model.ServiceModel(
    botocore.loaders.Loader().load_service_model("ecs", "service-2"), "ecs"
)
ARN = "arn:aws:ecs:eu-west-1:123456789012:service-deployment/prod/web/EZe5RNVLH6PPzHXINuP28"
SERVICE = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"
BLUE = "arn:aws:ecs:eu-west-1:123456789012:service-revision/prod/web/1111"
GREEN = "arn:aws:ecs:eu-west-1:123456789012:service-revision/prod/web/2222"
T0 = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def conforms(value: Any, shape: botocore.model.Shape, path: str = "$") -> None:
    """``value`` has ``shape``: known members, enum values, the right JSON types."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        members = shape.members  # type: ignore[attr-defined]
        for key, item in value.items():
            assert key in members, f"{path}.{key} is not in {shape.name}"
            conforms(item, members[key], f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            conforms(item, shape.member, f"{path}[{i}]")  # type: ignore[attr-defined]
    elif kind == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
    elif kind == "timestamp":
        assert isinstance(value, dt.datetime), path
    elif kind in ("integer", "long"):
        assert isinstance(value, int), path
        assert not isinstance(value, bool), path
    elif kind == "double":
        assert isinstance(value, int | float), path
    elif kind == "boolean":
        assert isinstance(value, bool), path


def answer(*, checked: bool = True, **fields: Any) -> dict[str, Any]:
    """One ``serviceDeployment``, checked against DescribeServiceDeployments' output."""
    deployment: dict[str, Any] = {
        "serviceDeploymentArn": ARN,
        "serviceArn": SERVICE,
        "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
        "createdAt": T0,
        "startedAt": T0 + dt.timedelta(seconds=5),
        "updatedAt": T0 + dt.timedelta(minutes=3),
        "sourceServiceRevisions": [
            {
                "arn": BLUE,
                "requestedTaskCount": 2,
                "runningTaskCount": 2,
                "pendingTaskCount": 0,
                "requestedProductionTrafficWeight": 100.0,
                "requestedTestTrafficWeight": 0.0,
            }
        ],
        "targetServiceRevision": {
            "arn": GREEN,
            "requestedTaskCount": 2,
            "runningTaskCount": 2,
            "pendingTaskCount": 0,
            "requestedProductionTrafficWeight": 0.0,
            "requestedTestTrafficWeight": 100.0,
        },
        "status": "IN_PROGRESS",
        "lifecycleStage": "SCALE_UP",
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 5,
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "rollback": {},
        "alarms": {"status": "DISABLED"},
        **fields,
    }
    if not deployment["rollback"]:
        del deployment["rollback"]
    output = MODEL.operation_model("DescribeServiceDeployments").output_shape
    assert output is not None
    if checked:
        conforms({"serviceDeployments": [deployment], "failures": []}, output)
    return deployment


def weights(blue: float, green: float) -> dict[str, Any]:
    source = answer()["sourceServiceRevisions"]
    target = answer()["targetServiceRevision"]
    source[0]["requestedProductionTrafficWeight"] = blue
    target["requestedProductionTrafficWeight"] = green
    return {"sourceServiceRevisions": source, "targetServiceRevision": target}


PAUSE = {
    "hookId": "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw",
    "targetType": "PAUSE",
    "status": "AWAITING_ACTION",
    "expiresAt": T0 + dt.timedelta(minutes=40),
    "timeoutAction": "ROLLBACK",
}


def statuses(snapshot: DeploymentSnapshot) -> dict[str, str]:
    return {str(e.name): str(e.status) for e in snapshot.events}


def test_a_service_deployment_arn_is_a_native_id_naming_its_cluster_and_service() -> None:
    assert is_native_deployment_id(ARN)
    assert not is_native_deployment_id("d-A1B2C3D4E")
    assert not is_native_deployment_id(SERVICE)
    assert service_of(ARN) == ("prod", "web")
    assert check_attach(ARN) == ARN


def test_scale_up_reads_as_install_at_work_with_blue_and_green_task_sets() -> None:
    snapshot = native_snapshot(answer())
    assert snapshot.kind == "ecs"
    assert snapshot.status is DeploymentStatus.IN_PROGRESS
    assert snapshot.where == "prod/web"
    assert statuses(snapshot)["BeforeInstall"] == "Succeeded"
    assert statuses(snapshot)["Install"] == "InProgress"
    assert statuses(snapshot)["AfterInstall"] == "Pending"
    blue, green = snapshot.task_set(TargetLabel.BLUE), snapshot.task_set(TargetLabel.GREEN)
    assert blue is not None
    assert green is not None
    assert (blue.id, blue.traffic_weight) == (BLUE, 100.0)
    assert (green.id, green.running_count) == (GREEN, 2)
    assert snapshot.waiting_for == "green to scale up (SCALE_UP)"
    assert not reached(snapshot, Milestone.INSTALLED)


def test_pending_reads_as_created_with_every_event_pending() -> None:
    snapshot = native_snapshot(answer(status="PENDING", lifecycleStage="RECONCILE_SERVICE"))
    assert snapshot.status is DeploymentStatus.CREATED
    assert set(statuses(snapshot).values()) == {"Pending"}
    assert snapshot.waiting_for == "ECS to start the service deployment"


def test_a_pause_hook_awaiting_action_reads_as_ready_and_says_promote_and_when_it_expires() -> None:
    snapshot = native_snapshot(
        answer(lifecycleStage="POST_TEST_TRAFFIC_SHIFT", lifecycleHookDetails=[PAUSE])
    )
    assert snapshot.status is DeploymentStatus.READY
    assert snapshot.native is not None
    assert [h.hook_id for h in snapshot.native.paused_hooks] == [PAUSE["hookId"]]
    assert snapshot.waiting_for == (
        "the pause hook at POST_TEST_TRAFFIC_SHIFT (promote to continue; expires "
        "12:40:00 UTC, then ROLLBACK)"
    )
    assert reached(snapshot, Milestone.READY)
    assert reached(snapshot, Milestone.TEST_TRAFFIC)
    assert statuses(snapshot)["AfterAllowTestTraffic"] == "InProgress"


def test_a_lambda_hook_at_work_is_what_it_waits_for() -> None:
    hook = {
        "hookId": "h-1",
        "targetType": "AWS_LAMBDA",
        "targetArn": "arn:aws:lambda:eu-west-1:123456789012:function:smoke",
        "status": "IN_PROGRESS",
    }
    snapshot = native_snapshot(answer(lifecycleStage="POST_SCALE_UP", lifecycleHookDetails=[hook]))
    assert snapshot.status is DeploymentStatus.IN_PROGRESS
    assert snapshot.waiting_for == "the smoke hook at POST_SCALE_UP"


def test_bake_time_is_the_termination_wait_and_traffic_has_shifted() -> None:
    snapshot = native_snapshot(answer(lifecycleStage="BAKE_TIME", **weights(0.0, 100.0)))
    assert snapshot.in_termination_wait
    assert reached(snapshot, Milestone.TRAFFIC_SHIFTED)
    assert reached(snapshot, Milestone.TERMINATION_WAIT)
    assert reached(snapshot, StageMilestone(LifecycleStage.BAKE_TIME))
    assert not reached(snapshot, StageMilestone(LifecycleStage.CLEAN_UP))
    assert snapshot.waiting_for == "the bake time to end (blue is kept until then)"


def test_production_traffic_shift_says_greens_weight() -> None:
    snapshot = native_snapshot(
        answer(lifecycleStage="PRODUCTION_TRAFFIC_SHIFT", **weights(90.0, 10.0))
    )
    assert snapshot.waiting_for == (
        "production traffic to shift to green (PRODUCTION_TRAFFIC_SHIFT, green at 10%)"
    )
    assert statuses(snapshot)["AllowTraffic"] == "InProgress"
    assert reached(snapshot, Milestone.READY)


def test_a_later_step_of_a_linear_shift_keeps_allow_traffic_at_work() -> None:
    # The docs name PRE_PRODUCTION_TRAFFIC_SHIFT among the stages; the model's enum does not
    # (it is a hook stage): read it, should ECS report it.
    snapshot = native_snapshot(
        answer(checked=False, lifecycleStage="PRE_PRODUCTION_TRAFFIC_SHIFT", **weights(80.0, 20.0))
    )
    assert statuses(snapshot)["BeforeAllowTraffic"] == "Succeeded"
    assert statuses(snapshot)["AllowTraffic"] == "InProgress"


def test_successful_reads_as_succeeded_with_every_event_done() -> None:
    snapshot = native_snapshot(
        answer(
            status="SUCCESSFUL",
            lifecycleStage="CLEAN_UP",
            finishedAt=T0 + dt.timedelta(minutes=20),
            **weights(0.0, 100.0),
        )
    )
    assert snapshot.status is DeploymentStatus.SUCCEEDED
    assert snapshot.succeeded
    assert snapshot.ending == "succeeded"
    assert snapshot.complete_time == T0 + dt.timedelta(minutes=20)
    assert set(statuses(snapshot).values()) == {"Succeeded"}
    assert snapshot.state_line == "ended: succeeded"


def test_rolling_back_reaches_no_milestone_but_its_end() -> None:
    snapshot = native_snapshot(
        answer(
            status="ROLLBACK_IN_PROGRESS",
            lifecycleStage="PRODUCTION_TRAFFIC_SHIFT",
            statusReason="rolled back by StopServiceDeployment",
        ),
        forward_stage="POST_TEST_TRAFFIC_SHIFT",
    )
    assert snapshot.status is DeploymentStatus.IN_PROGRESS
    assert snapshot.native is not None
    assert snapshot.native.rolling_back
    assert not reached(snapshot, Milestone.INSTALLED)
    assert not reached(snapshot, StageMilestone(LifecycleStage.PRE_SCALE_UP))
    assert snapshot.waiting_for == (
        "ECS to roll back to blue (ROLLBACK_IN_PROGRESS at PRODUCTION_TRAFFIC_SHIFT)"
    )
    failed = snapshot.failed_event
    assert failed is not None
    assert failed.name is LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC


def test_rollback_successful_reads_as_failed_and_rolled_back_with_the_reason() -> None:
    snapshot = native_snapshot(
        answer(
            status="ROLLBACK_SUCCESSFUL",
            lifecycleStage="CLEAN_UP",
            finishedAt=T0 + dt.timedelta(minutes=9),
            statusReason="Service deployment rolled back",
            rollback={
                "reason": "lifecycle hook smoke failed",
                "startedAt": T0 + dt.timedelta(minutes=6),
                "serviceRevisionArn": BLUE,
            },
        ),
        forward_stage="POST_SCALE_UP",
    )
    assert snapshot.status is DeploymentStatus.FAILED
    assert not snapshot.succeeded
    assert snapshot.ending == "rolled_back"
    assert snapshot.outcome == "rolled back (blue serves production): lifecycle hook smoke failed"
    assert snapshot.error_message == "lifecycle hook smoke failed"
    assert statuses(snapshot)["AfterInstall"] == "Failed"
    assert statuses(snapshot)["AllowTestTraffic"] == "Skipped"
    assert reached(snapshot, Milestone.READY)  # ended: no milestone can be waited for


def test_the_stage_a_failure_names_beats_the_furthest_stage_a_reader_saw() -> None:
    # A short stage fell between two reads: the reader last saw SCALE_UP.
    reason = "The AWS_LAMBDA lifecycle hook h-1 at POST_TEST_TRAFFIC_SHIFT timed out."
    snapshot = native_snapshot(
        answer(
            status="ROLLBACK_SUCCESSFUL",
            lifecycleStage="CLEAN_UP",
            rollback={"reason": reason, "startedAt": T0, "serviceRevisionArn": BLUE},
        ),
        forward_stage="SCALE_UP",
    )
    assert statuses(snapshot)["Install"] == "Succeeded"
    assert statuses(snapshot)["AfterAllowTestTraffic"] == "Failed"
    assert statuses(snapshot)["BeforeAllowTraffic"] == "Skipped"


def test_rollback_failed_and_stopped_end_as_failed_and_stopped() -> None:
    failed = native_snapshot(answer(status="ROLLBACK_FAILED", lifecycleStage="CLEAN_UP"))
    assert (failed.status, failed.ending) == (DeploymentStatus.FAILED, "failed")
    assert failed.events == ()  # where it failed is not known
    stopped = native_snapshot(answer(status="STOPPED"), forward_stage="SCALE_UP")
    assert (stopped.status, stopped.ending) == (DeploymentStatus.STOPPED, "stopped")


def test_linear_and_canary_schedules_come_from_the_strategy() -> None:
    linear = native_schedule(
        {
            "strategy": "LINEAR",
            "bakeTimeInMinutes": 3,
            "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
        }
    )
    assert linear is not None
    assert [(s.minute, s.green_percent) for s in linear.steps] == [
        (0, 25),
        (2, 50),
        (4, 75),
        (6, 100),
    ]
    assert linear.termination_wait_minutes == 3
    canary = native_schedule(
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 10,
            "canaryConfiguration": {"canaryPercent": 2.5, "canaryBakeTimeInMinutes": 7},
        }
    )
    assert canary is not None
    assert [(s.minute, s.green_percent) for s in canary.steps] == [(0, 2), (7, 100)]
    assert native_schedule({"strategy": "ROLLING"}) is None
    summary = strategy_summary(
        {
            "strategy": "CANARY",
            "bakeTimeInMinutes": 10,
            "canaryConfiguration": {"canaryPercent": 2.5, "canaryBakeTimeInMinutes": 7},
        }
    )
    assert summary == "ECS CANARY 2.5% then 100% after 7 min, bake 10 min"


def test_the_snapshot_is_json_ready_and_names_its_kind_and_ecs_words() -> None:
    snapshot = native_snapshot(
        answer(lifecycleStage="POST_TEST_TRAFFIC_SHIFT", lifecycleHookDetails=[PAUSE])
    )
    document = json.loads(json.dumps(snapshot.to_dict()))
    assert document["kind"] == "ecs"
    assert document["status"] == "Ready"
    assert document["native"]["stage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert document["native"]["hooks"][0]["hook_id"] == PAUSE["hookId"]
    assert document["deployment_config"] == "ECS BLUE_GREEN, bake 5 min"
    assert "(IN_PROGRESS at POST_TEST_TRAFFIC_SHIFT)" in repr(snapshot)
    assert "prod/web" in repr(snapshot)


def test_a_stage_milestone_on_a_codedeploy_deployment_waits_for_the_event_it_maps_to() -> None:
    info = {"deploymentId": "d-A1B2C3D4E", "status": "InProgress"}
    events = [
        {
            "lifecycleEventName": e.value,
            "status": "Succeeded" if e < LifecycleEvent.ALLOW_TEST_TRAFFIC else "Pending",
        }
        for e in LifecycleEvent
    ]
    snapshot = DeploymentSnapshot.from_api(info, {"lifecycleEvents": events})
    assert snapshot.kind == "codedeploy"
    assert reached(snapshot, StageMilestone(LifecycleStage.POST_SCALE_UP))
    assert not reached(snapshot, StageMilestone(LifecycleStage.TEST_TRAFFIC_SHIFT))
    assert not reached(snapshot, StageMilestone(LifecycleStage.BAKE_TIME))
    assert snapshot.to_dict()["native"] is None
    assert LifecycleEventStatus.PENDING in {e.status for e in snapshot.events}


def test_wait_takes_ecs_stage_names_and_lists_the_valid_ones_for_a_wrong_one() -> None:
    intervals = {"timeout": None, "min_interval": 5.0, "max_interval": 60.0, "on_progress": None}
    assert check_wait("ecs:BAKE_TIME", **intervals) == StageMilestone(LifecycleStage.BAKE_TIME)
    assert str(check_wait("ecs:post_test_traffic_shift", **intervals)) == (
        "ecs:POST_TEST_TRAFFIC_SHIFT"
    )
    assert check_wait("ready", **intervals) is Milestone.READY
    with pytest.raises(ValidationError) as caught:
        check_wait("ecs:BAKING", **intervals)
    message = str(caught.value)
    assert "no such ECS lifecycle stage" in message
    assert "ecs:BAKE_TIME" in message
    assert "ecs:PRE_PRODUCTION_TRAFFIC_SHIFT" in message
    assert "termination_wait" in message


def test_a_service_is_native_on_the_ecs_controller_with_a_blue_green_strategy() -> None:
    assert is_native_service({"deploymentConfiguration": {"strategy": "CANARY"}})
    assert is_native_service(
        {"deploymentController": {"type": "ECS"}, "deploymentConfiguration": {"strategy": "LINEAR"}}
    )
    assert not is_native_service({"deploymentConfiguration": {"strategy": "ROLLING"}})
    assert not is_native_service({"deploymentController": {"type": "CODE_DEPLOY"}})
