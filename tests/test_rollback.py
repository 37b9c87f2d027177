"""bluegreen.rollback: ``Deployment.rollback()`` deploys the last known good version again, and
refuses when there is none or it would not be a rollback.
"""

from __future__ import annotations

import pytest
from deploying import (
    Deployer,
    attach,
    task_definition_in_service,
)

from bluegreen import (
    DeploymentStateError,
)

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def test_rollback_deploys_the_previous_successful_task_definition_with_its_hooks(sim):
    d = Deployer.create(sim)
    hook_calls = []
    sim.register_hook(HOOK, d.reporting_hook("Succeeded", hook_calls))
    good = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(good)
    good_task_definition = task_definition_in_service(d)
    bad = d.deploy()
    d.done(bad)
    assert task_definition_in_service(d) != good_task_definition
    hook_calls.clear()

    new = attach(sim, bad).rollback()

    assert new.id not in (good, bad)
    info = d.info(new.id)
    family_revision = good_task_definition.rsplit("/", 1)[-1]
    assert info["description"] == f"bluegreen rollback of {bad} to {family_revision} (from {good})"
    assert info["creator"] == "user"
    assert new.wait().succeeded
    assert task_definition_in_service(d) == good_task_definition
    assert [call["DeploymentId"] for call in hook_calls] == [new.id]  # the hook ran again


def test_rollback_takes_a_description(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)

    new = attach(sim, latest).rollback(description="incident 42")

    assert d.info(new.id)["description"] == "incident 42"


def test_rollback_skips_codedeploys_own_rollbacks_and_failed_deployments(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    good = d.deploy()
    d.done(good)
    good_task_definition = task_definition_in_service(d)
    failed = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(failed)  # failed and rolled back by a Succeeded codeDeployRollback deployment
    latest = d.deploy()
    d.done(latest)

    new = attach(sim, latest).rollback()

    assert f"(from {good})" in d.info(new.id)["description"]
    new.wait()
    assert task_definition_in_service(d) == good_task_definition


def test_rollback_without_an_earlier_success_says_to_deploy_a_task_definition(sim):
    d = Deployer.create(sim)
    first = d.deploy()
    d.done(first)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, first).rollback()

    assert "no successful deployment before it" in str(caught.value)
    assert "deploy a task definition explicitly" in str(caught.value)


def test_rollback_of_a_running_deployment_points_to_abort(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    with pytest.raises(DeploymentStateError, match=r"still running .*use abort\(\)"):
        attach(sim, deployment_id).rollback()


def test_rollback_of_a_failed_deployment_says_nothing_went_live(sim):
    d = Deployer.create(sim, auto_rollback_events=())
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).rollback()

    assert "did not succeed (Failed)" in str(caught.value)
    assert "nothing from it went live" in str(caught.value)


def test_rollback_of_a_deployment_codedeploy_already_rolled_back_names_the_rollback(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(deployment_id)
    rollback_id = d.rollback_of(deployment_id)

    with pytest.raises(DeploymentStateError, match=f"already rolled back by {rollback_id}"):
        attach(sim, deployment_id).rollback()
    with pytest.raises(DeploymentStateError, match="itself CodeDeploy's rollback"):
        attach(sim, rollback_id).rollback()


def test_rollback_of_a_deployment_a_later_one_replaced_is_refused(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    older = d.deploy()
    d.done(older)
    d.done(d.deploy())

    with pytest.raises(DeploymentStateError, match="a later deployment replaced it"):
        attach(sim, older).rollback()


def test_a_rollback_knows_the_revision_it_goes_back_to_and_the_deployment_it_leaves(sim):
    d = Deployer.create(sim)
    good = d.register_revision(image="nginx:1.28")
    good_id = d.deploy(appspec=d.appspec(good))
    d.done(good_id)
    bad_revision = d.register_revision(image="nginx:1.29")
    bad = d.deploy(appspec=d.appspec(bad_revision))
    d.done(bad)

    rollback = attach(sim, bad).rollback()

    origin = rollback.rollback_origin
    assert origin.rolled_back == bad
    assert origin.task_definition == good
    assert origin.replaced_task_definition == bad_revision
    assert origin.last_good == good_id
    assert str(origin) == (f"rolling back {bad} (web:3) to web:2, the revision {good_id} deployed")
    assert f"rolling back {bad}" in repr(rollback)
