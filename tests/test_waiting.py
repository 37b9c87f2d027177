"""bluegreen.waiting: ``Deployment.wait`` until each milestone, and what a failed deployment
raises, against the simulator on its virtual clock.
"""

from __future__ import annotations

import pytest
from deploying import (
    Deployer,
    attach,
)

from bluegreen import (
    DeploymentError,
    DeploymentStatus,
    LifecycleEvent,
    LifecycleEventStatus,
    Milestone,
    TargetLabel,
    WaitTimeoutError,
)

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def test_wait_returns_at_each_milestone_of_a_canary_deployment_in_order(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())

    installed = deployment.wait(Milestone.INSTALLED, min_interval=5)
    assert installed.event(LifecycleEvent.INSTALL).status is LifecycleEventStatus.SUCCEEDED
    assert installed.event(LifecycleEvent.ALLOW_TRAFFIC).status is LifecycleEventStatus.PENDING

    test_traffic = deployment.wait("test_traffic", min_interval=5)
    allow_test = test_traffic.event(LifecycleEvent.ALLOW_TEST_TRAFFIC)
    assert allow_test.status is LifecycleEventStatus.SUCCEEDED

    ready = deployment.wait(Milestone.READY, min_interval=5)
    assert ready.event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC).has_started

    shifted = deployment.wait(Milestone.TRAFFIC_SHIFTED, min_interval=5)
    assert shifted.event(LifecycleEvent.ALLOW_TRAFFIC).status is LifecycleEventStatus.SUCCEEDED
    assert shifted.task_set(TargetLabel.GREEN).traffic_weight == 100.0

    held = deployment.wait(Milestone.TERMINATION_WAIT, min_interval=5)
    assert held.status is DeploymentStatus.IN_PROGRESS
    assert held.in_termination_wait
    assert held.waiting_for == "the termination wait to end (blue is kept until then)"

    end = deployment.wait(min_interval=5)
    assert end.status is DeploymentStatus.SUCCEEDED
    assert end.succeeded
    assert end.waiting_for is None
    assert end.state_line == "ended: succeeded"


def test_failed_after_allow_test_traffic_hook_raises_deployment_error_with_rollback_id(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    deployment = attach(sim, deployment_id)

    with pytest.raises(DeploymentError) as caught:
        deployment.wait()

    error = caught.value
    assert error.deployment_id == deployment_id
    assert error.error_code == "HOOK_EXECUTION_FAILURE"
    assert error.lifecycle_event == "AfterAllowTestTraffic"
    assert error.rollback_deployment_id == d.rollback_of(deployment_id)
    assert "reported Failed" in str(error)  # errorInformation.message and diagnostics


def test_waiting_for_an_earlier_milestone_of_a_failed_deployment_still_raises(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(deployment_id)

    with pytest.raises(DeploymentError):
        attach(sim, deployment_id).wait(Milestone.INSTALLED)


def test_wait_with_a_timeout_raises_wait_timeout_error_naming_milestone_and_wait(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())

    with pytest.raises(WaitTimeoutError) as caught:
        deployment.wait(Milestone.END, timeout=120, min_interval=15, max_interval=15)

    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.milestone == "end"
    assert error.waiting_for in str(error)
    assert "end" in str(error)
    assert not deployment.status().status.is_terminal


def test_wait_for_traffic_step_returns_at_each_linear_step_in_turn(sim):
    d = Deployer.create(sim, deployment_config=LINEAR)
    deployment = attach(sim, d.deploy())

    weights = []
    while not weights or weights[-1] < 100:
        snapshot = deployment.wait(Milestone.TRAFFIC_STEP)
        weights.append(snapshot.task_set(TargetLabel.GREEN).traffic_weight)

    assert weights == [10.0 * n for n in range(1, 11)]
    assert deployment.wait().succeeded


def test_on_progress_sees_every_snapshot_read_including_the_last(sim):
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())
    seen = []

    end = deployment.wait(on_progress=seen.append)

    assert seen[-1] is end
    assert seen[0].status is DeploymentStatus.CREATED
    # every read but the first (Created: GetDeployment only) costs two calls, plus one
    # ListDeploymentTargets to learn the target id
    assert deployment.calls == 1 + 2 * (len(seen) - 1) + 1


def test_a_wait_for_the_end_reads_getdeployment_alone_while_traffic_is_still_shifting(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment = attach(sim, d.deploy())
    started = len(list(sim.api_calls()))

    end = deployment.wait()

    calls = [(t, op) for t, svc, op in list(sim.api_calls())[started:] if svc == "codedeploy"]
    shift_start = end.event(LifecycleEvent.ALLOW_TRAFFIC).start.timestamp()
    shifting = [op for t, op in calls if shift_start + 60 < t < shift_start + 15 * 60]
    # the first read after AllowTraffic started (within the minute) learnt when the last
    # step is due; until then only the status can change what the wait does
    assert shifting
    assert set(shifting) == {"GetDeployment"}
    assert len(shifting) <= 15  # a read a minute: the ceiling
    assert end.succeeded
    assert end.event(LifecycleEvent.AFTER_ALLOW_TRAFFIC).status is LifecycleEventStatus.SUCCEEDED


def test_a_wait_for_the_end_still_reads_every_event_when_someone_watches(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment = attach(sim, d.deploy())
    seen = []

    deployment.wait(on_progress=seen.append)

    targets = sum(1 for _, _, op in sim.api_calls("codedeploy") if op == "GetDeploymentTarget")
    assert targets == len(seen) - 1  # every read but the first (Created) reads the target
