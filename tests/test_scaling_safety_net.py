"""The ready-made restore_scaling handler on the in-process simulator: the EventBridge handler
restores a scaling record a dead release left behind once its deployment has ended, waits for a
running rollback's own event, and the AfterAllowTraffic entry point restores its deployment's record
and reports Succeeded once.

The events are built in the shape the contract gives for EventBridge (section 4):
detail-type "CodeDeploy Deployment State-change Notification" with ``detail.state``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from deploying import Deployer

import bluegreen
from bluegreen.errors import ServiceUnavailableError
from bluegreen.scaling import RECORD_TAG

RESTORE_HOOK = "CodeDeployHook_restore_scaling"
FAILING_HOOK = "CodeDeployHook_fails"


@pytest.fixture
def restore_scaling(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The ready-made restore_scaling handler module, imported afresh, forgotten afterwards."""
    name = "bluegreen.hooks.handlers.restore_scaling"  # hooks/restore_scaling.py imports it
    sys.modules.pop(name, None)
    yield importlib.import_module(name)
    sys.modules.pop(name, None)


@pytest.fixture
def d(sim: Any) -> Deployer:
    """The sample environment with the scheduled-scaling flag already suspended by an
    operator, which every restore must keep."""
    deployer = Deployer.create(sim, termination_wait_minutes=1)
    deployer.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=deployer.env.scalable_resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState={"ScheduledScalingSuspended": True},
    )
    return deployer


def scalable_targets(d: Deployer) -> list[dict[str, Any]]:
    return list(
        d.autoscaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[d.env.scalable_resource_id]
        )["ScalableTargets"]
    )


def has_record(d: Deployer) -> bool:
    arn = d.ecs.describe_services(cluster=d.env.cluster, services=[d.env.service])["services"][0][
        "serviceArn"
    ]
    tags = d.ecs.list_tags_for_resource(resourceArn=arn).get("tags", [])
    return any(tag["key"].startswith(RECORD_TAG + ":") for tag in tags)


def state_change(d: Deployer, deployment_id: str, state: str) -> dict[str, Any]:
    """The EventBridge event CodeDeploy sends when ``deployment_id`` changes state."""
    return {
        "version": "0",
        "id": "c0ffee00-0000-4000-8000-000000000000",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [
            f"arn:aws:codedeploy:us-east-1:123456789012:application:{d.env.application}",
            "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:"
            f"{d.env.application}/{d.env.deployment_group}",
        ],
        "detail": {
            "region": "us-east-1",
            "deploymentId": deployment_id,
            "instanceGroupId": "00000000-0000-4000-8000-000000000000",
            "deploymentGroup": d.env.deployment_group,
            "state": state,
            "application": d.env.application,
        },
    }


def release(sim: Any, d: Deployer, image: str, **options: Any) -> str:
    """Start a deployment with scaling suspended, as a release process that then dies."""
    started = bluegreen.deploy(
        d.env.cluster,
        d.env.service,
        image=image,
        suspend_scaling=True,
        clients=sim.clients(),
        clock=sim.clock,
        **options,
    )
    return started.id


def test_a_record_left_by_a_dead_release_is_restored_once_its_deployment_ends(
    sim, d, restore_scaling
):
    before = scalable_targets(d)
    deployment_id = release(sim, d, "nginx:1.28")
    assert has_record(d)
    assert scalable_targets(d) != before

    running = restore_scaling.restore_after(
        state_change(d, deployment_id, "START"), clients=sim.clients()
    )
    assert running["action"] == "ignored"
    assert d.done(deployment_id) == "Succeeded"

    done = restore_scaling.restore_after(
        state_change(d, deployment_id, "SUCCESS"), clients=sim.clients()
    )

    assert done["action"] == "restored"
    assert scalable_targets(d) == before
    assert not has_record(d)
    again = restore_scaling.restore_after(
        state_change(d, deployment_id, "SUCCESS"), clients=sim.clients()
    )
    assert again["action"] == "nothing_to_restore"
    assert scalable_targets(d) == before


def test_the_event_of_an_original_whose_rollback_still_runs_changes_nothing(
    sim, d, restore_scaling
):
    before = scalable_targets(d)
    sim.register_hook(FAILING_HOOK, d.reporting_hook("Failed"))
    deployment_id = release(sim, d, "nginx:1.29", hooks={"AfterAllowTraffic": FAILING_HOOK})
    d.until_status(deployment_id, "Failed")
    rollback_id = d.rollback_of(deployment_id)
    assert d.status(rollback_id) not in ("Succeeded", "Failed", "Stopped")
    suspended = scalable_targets(d)

    early = restore_scaling.restore_after(
        state_change(d, deployment_id, "FAILURE"), clients=sim.clients()
    )

    assert early["action"] == "rollback_running"
    assert early["rollback_deployment_id"] == rollback_id
    assert scalable_targets(d) == suspended
    assert has_record(d)
    assert d.done(rollback_id) == "Succeeded"
    done = restore_scaling.restore_after(
        state_change(d, rollback_id, "SUCCESS"), clients=sim.clients()
    )
    assert done["action"] == "restored"
    assert scalable_targets(d) == before
    assert not has_record(d)


def test_the_handler_logs_and_returns_when_a_deployment_still_owns_the_record(
    sim, d, restore_scaling, caplog
):
    earlier = d.deploy()
    assert d.done(earlier) == "Succeeded"
    deployment_id = release(sim, d, "nginx:1.30")

    answer = restore_scaling.restore_after(
        state_change(d, earlier, "SUCCESS"), clients=sim.clients()
    )

    assert answer["action"] == "deployment_running"
    assert answer["record_deployment_id"] == deployment_id
    assert has_record(d)
    assert '"action": "deployment_running"' in caplog.text
    d.done(deployment_id)


def test_an_event_that_is_not_a_codedeploy_state_change_is_ignored(sim, d, restore_scaling):
    assert restore_scaling.restore_after({"detail": "nope"}, clients=sim.clients()) == {
        "event": "restore_scaling",
        "action": "ignored",
        "reason": "not a CodeDeploy state-change event",
    }


def test_as_the_after_allow_traffic_hook_it_restores_and_reports_succeeded_once(
    sim, d, restore_scaling
):
    before = scalable_targets(d)
    answers: list[dict[str, Any]] = []

    def hook(event: dict[str, Any], context: Any) -> None:
        answers.append(restore_scaling.hook_handler(event, context))

    sim.register_hook(RESTORE_HOOK, hook)
    deployment_id = release(sim, d, "nginx:1.31", hooks={"AfterAllowTraffic": RESTORE_HOOK})
    assert scalable_targets(d) != before

    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")

    assert d.status(deployment_id) == "InProgress"  # the termination wait
    assert scalable_targets(d) == before
    assert not has_record(d)
    assert [a["status"] for a in answers] == ["Succeeded"]
    assert answers[0]["checks"][0]["name"] == "restore_scaling"
    assert d.done(deployment_id) == "Succeeded"
    assert len(answers) == 1


def test_the_handler_restores_through_throttling_and_server_errors(sim, d, restore_scaling):
    before = scalable_targets(d)
    deployment_id = release(sim, d, "nginx:1.32")
    assert d.done(deployment_id) == "Succeeded"
    sim.faults.throttle("GetDeployment", count=2)
    sim.faults.throttle("ListTagsForResource", service="ecs", count=1)
    sim.faults.server_error("RegisterScalableTarget", service="application-autoscaling", count=2)

    answer = restore_scaling.restore_after(
        state_change(d, deployment_id, "SUCCESS"), clients=sim.clients(), clock=sim.clock
    )

    assert answer["action"] == "restored"
    assert scalable_targets(d) == before
    assert not has_record(d)


def test_a_restore_that_cannot_happen_raises_and_keeps_the_record_for_a_retry(
    sim, d, restore_scaling
):
    before = scalable_targets(d)
    deployment_id = release(sim, d, "nginx:1.33")
    assert d.done(deployment_id) == "Succeeded"
    sim.faults.server_error("RegisterScalableTarget", service="application-autoscaling")
    event = state_change(d, deployment_id, "SUCCESS")

    with pytest.raises(ServiceUnavailableError, match="NOT restored"):
        restore_scaling.restore_after(event, clients=sim.clients(), clock=sim.clock)

    assert has_record(d)
    sim.faults.clear()
    assert restore_scaling.restore_after(event, clients=sim.clients())["action"] == "restored"
    assert scalable_targets(d) == before
