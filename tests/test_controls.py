"""bluegreen.controls: what ``promote``, ``finish`` and ``abort`` refuse in each state, and
the ``DeploymentError`` a failed deployment becomes.
"""

from __future__ import annotations

import pytest
from deploying import (
    Deployer,
    attach,
)

from bluegreen import (
    DeploymentError,
    DeploymentStateError,
    DeploymentStatus,
    Milestone,
)

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


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


def test_finish_before_the_termination_wait_is_refused(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.INSTALLED)

    with pytest.raises(DeploymentStateError, match="wait\\('termination_wait'\\) first"):
        deployment.finish()


def test_abort_of_a_finished_deployment_suggests_a_new_deployment(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).abort()

    assert "Succeeded" in str(caught.value)
    assert "call rollback()" in str(caught.value)


def test_promote_during_install_names_what_the_deployment_waits_for(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).promote()

    assert "InProgress" in str(caught.value)
    assert "green to reach steady state" in str(caught.value)


def test_promote_after_promotion_says_it_is_past_the_ready_wait(sim):
    d = Deployer.create(sim, ready_wait_minutes=30, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.READY)
    deployment.promote()
    deployment.wait(Milestone.TRAFFIC_STEP)

    with pytest.raises(DeploymentStateError, match="past the ready wait"):
        deployment.promote()


def test_promote_of_a_finished_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError, match="it has ended"):
        attach(sim, deployment_id).promote()


def test_finish_of_a_finished_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError, match="it has ended"):
        attach(sim, deployment_id).finish()


def test_deployment_error_carries_error_message_and_the_hook_diagnostics(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    with pytest.raises(DeploymentError) as caught:
        attach(sim, deployment_id).wait()

    error = caught.value
    info = d.info(deployment_id)
    event = d.event(deployment_id, "AfterAllowTestTraffic")
    assert error.error_message == info["errorInformation"]["message"]
    assert error.diagnostics.startswith(event["diagnostics"]["message"])
    assert error.status == "Failed"


def test_deployment_error_keeps_its_old_constructor():
    error = DeploymentError("Failed", deployment_id="d-123456789", error_code="TIMEOUT")

    assert error.error_message is None
    assert error.diagnostics is None
    assert str(error) == "deployment d-123456789: Failed [TIMEOUT]"
