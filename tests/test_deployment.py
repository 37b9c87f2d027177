"""bluegreen.deployment: following and driving one deployment, against the simulator.

Every wait runs on the simulator's virtual clock, so sleeping advances simulated time and
runs the lifecycle; nothing here waits in real time.
"""

import pytest
from botocore.config import Config
from deploying import Deployer

from bluegreen import (
    Clients,
    Deployment,
    DeploymentError,
    DeploymentStateError,
    DeploymentStatus,
    LifecycleEvent,
    LifecycleEventStatus,
    Milestone,
    TargetLabel,
    ThrottledError,
    WaitTimeoutError,
)

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def attach(sim, deployment_id):
    return Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock)


def test_wait_returns_at_each_milestone_of_a_canary_deployment_in_order(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())

    installed = deployment.wait(Milestone.INSTALLED, poll=5)
    assert installed.event(LifecycleEvent.INSTALL).status is LifecycleEventStatus.SUCCEEDED
    assert installed.event(LifecycleEvent.ALLOW_TRAFFIC).status is LifecycleEventStatus.PENDING

    test_traffic = deployment.wait("test_traffic", poll=5)
    allow_test = test_traffic.event(LifecycleEvent.ALLOW_TEST_TRAFFIC)
    assert allow_test.status is LifecycleEventStatus.SUCCEEDED

    ready = deployment.wait(Milestone.READY, poll=5)
    assert ready.event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC).has_started

    shifted = deployment.wait(Milestone.TRAFFIC_SHIFTED, poll=5)
    assert shifted.event(LifecycleEvent.ALLOW_TRAFFIC).status is LifecycleEventStatus.SUCCEEDED
    assert shifted.task_set(TargetLabel.GREEN).traffic_weight == 100.0

    held = deployment.wait(Milestone.TERMINATION_WAIT, poll=5)
    assert held.status is DeploymentStatus.IN_PROGRESS
    assert held.in_termination_wait
    assert held.waiting_for == "termination wait"

    end = deployment.wait(poll=5)
    assert end.status is DeploymentStatus.SUCCEEDED
    assert end.succeeded
    assert end.waiting_for == "nothing (Succeeded)"


def test_status_before_the_start_reads_only_get_deployment(sim):
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())

    snapshot = deployment.status()

    assert snapshot.status is DeploymentStatus.CREATED
    assert snapshot.events == ()
    assert snapshot.waiting_for == "CodeDeploy to start the deployment"
    assert deployment.calls == 1


def test_status_names_what_the_deployment_waits_for_during_install(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    snapshot = attach(sim, deployment_id).status()

    assert snapshot.waiting_for == "green to reach steady state (Install)"
    assert snapshot.application == d.env.application
    assert snapshot.deployment_group == d.env.deployment_group
    assert snapshot.creator == "user"


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
        deployment.wait(Milestone.END, timeout=120, poll=15)

    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.milestone == "end"
    assert error.waiting_for in str(error)
    assert "end" in str(error)
    assert not deployment.status().status.is_terminal


def test_promote_in_ready_shifts_traffic_and_the_deployment_succeeds(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment = attach(sim, d.deploy())

    ready = deployment.wait(Milestone.READY)
    assert ready.status is DeploymentStatus.READY
    assert ready.waiting_for == "promotion (ContinueDeployment READY_WAIT)"

    deployment.promote()

    assert deployment.wait().succeeded


def test_promote_before_ready_is_refused_with_the_status_and_what_to_do(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    deployment = attach(sim, deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        deployment.promote()

    message = str(caught.value)
    assert "Created" in message
    assert "not Ready" in message
    assert "wait('ready')" in message
    assert caught.value.status == "Created"
    assert deployment.wait(Milestone.READY).status is DeploymentStatus.READY


def test_finish_during_the_termination_wait_ends_the_deployment_early(sim):
    d = Deployer.create(sim, termination_wait_minutes=120)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.TERMINATION_WAIT)

    deployment.finish()

    # Without finish() blue would be kept for 120 minutes.
    assert deployment.wait(timeout=10 * 60).succeeded


def test_finish_before_the_termination_wait_is_refused(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.INSTALLED)

    with pytest.raises(DeploymentStateError, match="wait\\('termination_wait'\\) first"):
        deployment.finish()


def test_abort_mid_shift_stops_and_follows_the_rollback_to_its_end(sim):
    d = Deployer.create(sim, deployment_config=LINEAR)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    deployment = attach(sim, deployment_id)

    rollback = deployment.abort()

    assert rollback.is_rollback
    assert rollback.rollback_of == deployment_id
    assert rollback.status is DeploymentStatus.SUCCEEDED
    assert not rollback.succeeded  # a rollback never counts as the release succeeding
    assert d.status(deployment_id) == "Stopped"
    assert rollback.deployment_id == d.rollback_of(deployment_id)
    assert d.traffic() == {"web-blue": 100, "web-green": 0} or d.traffic() == {"web-blue": 100}


def test_abort_of_a_finished_deployment_suggests_a_new_deployment(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).abort()

    assert "Succeeded" in str(caught.value)
    assert "new deployment" in str(caught.value)


def without_botocore_retries(sim):
    """Clients whose botocore makes one attempt, so every throttle reaches bluegreen."""
    return Clients(session=sim.clients().session, config=Config(retries={"total_max_attempts": 1}))


def get_deployment_calls(sim):
    return sum(1 for _, _, operation in sim.api_calls("codedeploy") if operation == "GetDeployment")


def test_throttled_get_deployment_is_retried_without_the_caller_noticing(sim):
    d = Deployer.create(sim)
    deployment = Deployment.attach(
        d.deploy(), clients=without_botocore_retries(sim), clock=sim.clock
    )
    sim.faults.throttle("GetDeployment", count=2)
    before = sim.clock.time()

    snapshot = deployment.status()

    assert snapshot.deployment_id == deployment.id
    assert get_deployment_calls(sim) == 3
    # the wait let the deployment start, so the target was read too
    assert deployment.calls == (3 if snapshot.status is DeploymentStatus.CREATED else 5)
    assert sim.clock.time() > before  # the backoff slept on the injected clock


def test_throttling_that_never_ends_raises_throttled_error_not_retry_error(sim):
    d = Deployer.create(sim)
    deployment = Deployment.attach(
        d.deploy(), clients=without_botocore_retries(sim), clock=sim.clock
    )
    sim.faults.throttle("GetDeployment")

    with pytest.raises(ThrottledError) as caught:
        deployment.status()

    assert caught.value.operation == "GetDeployment"
    assert deployment.calls == deployment.retry_attempts


def test_repr_is_a_readable_screenful(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")

    text = repr(attach(sim, deployment_id).status())

    lines = text.splitlines()
    assert lines[0].startswith(f"<DeploymentSnapshot {deployment_id} InProgress")
    assert "waiting for production traffic to shift to green (AllowTraffic" in text
    assert all(event in text for event in LifecycleEvent)
    assert "Green" in text
    assert "Blue" in text
    assert len(lines) <= 24
    assert max(len(line) for line in lines) <= 120
