"""bluegreen.create: CreateDeployment, never twice, for ``deploy`` and for
``Deployment.rollback``: lost answers, refusals, throttling and 5xx, on the simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from deploying import (
    NEW_IMAGE,
    Deployer,
    botocore_handlers,
    deployments,
    revisions,
    run_deploy,
    sent_appspec,
    without_botocore_retries,
)

from bluegreen import Deployment, ResourceNotFoundError, ServiceUnavailableError

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


@pytest.fixture
def on_call(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """Register botocore handlers on the simulator's session for this test."""
    yield from botocore_handlers(sim)


def test_create_deployment_refused_for_good_deregisters_the_new_revision(sim, on_call):
    d = Deployer.create(sim)

    def delete_group(**kwargs: Any) -> None:
        d.codedeploy.delete_deployment_group(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )

    on_call("before-call.codedeploy.CreateDeployment", delete_group)

    with pytest.raises(ResourceNotFoundError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert caught.value.code == "DeploymentGroupDoesNotExistException"
    assert any("was deregistered again" in note for note in caught.value.__notes__)
    assert revisions(d) == [d.env.task_definition_arn]
    new = d.ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert new["status"] == "INACTIVE"
    assert sim.codedeploy.deployments == {}


def test_create_deployment_failing_every_time_deregisters_once_none_was_created(sim):
    d = Deployer.create(sim)
    sim.faults.server_error("CreateDeployment", rate=1.0)

    with pytest.raises(ServiceUnavailableError):
        run_deploy(sim, image=NEW_IMAGE)

    attempts = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(attempts) > 1  # retried by bluegreen, one request per attempt
    assert revisions(d) == [d.env.task_definition_arn]
    assert sim.codedeploy.deployments == {}


def test_throttled_create_deployment_is_retried_into_one_deployment(sim):
    d = Deployer.create(sim)
    sim.faults.throttle("CreateDeployment", count=2)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert deployments(d) == [deployment.id]


def test_a_lost_create_deployment_answer_is_recovered_without_a_second_deployment(sim, on_call):
    d = Deployer.create(sim)
    lost: list[str] = []

    def lose_the_answer(parsed: dict[str, Any], **kwargs: Any) -> None:
        # The call went through: the simulator created the deployment. Then the answer is
        # lost on the way back, as with a read timeout.
        if not lost:
            lost.append(parsed["deploymentId"])
            raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")

    on_call("after-call.codedeploy.CreateDeployment", lose_the_answer)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert lost  # the answer really was lost once
    assert deployments(d) == [deployment.id] == lost
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 1
    assert revisions(d)[-1].endswith(":2")  # the revision is kept: the deployment uses it


def test_a_lost_answer_not_yet_listed_is_recognised_when_the_retry_is_refused(sim, on_call):
    d = Deployer.create(sim)
    lost: list[str] = []
    stale: list[bool] = []

    def lose_the_answer(parsed: dict[str, Any], **kwargs: Any) -> None:
        if not lost:
            lost.append(parsed["deploymentId"])
            raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")

    def stale_listing(parsed: dict[str, Any], **kwargs: Any) -> None:
        # ListDeployments does not show the new deployment yet, once.
        if lost and not stale:
            stale.append(True)
            parsed["deployments"] = []

    on_call("after-call.codedeploy.CreateDeployment", lose_the_answer)
    on_call("after-call.codedeploy.ListDeployments", stale_listing)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert stale
    assert deployments(d) == [deployment.id] == lost
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 2  # the second was refused: the group already had ours


def test_each_request_sends_its_own_appspec_sha256(sim):
    d = Deployer.create(sim)
    arn = d.register_revision(image=NEW_IMAGE)

    first = run_deploy(sim, task_definition=arn)
    d.done(first.id)
    second = run_deploy(sim, task_definition=arn)

    shas = {d.info(i)["revision"]["appSpecContent"]["sha256"] for i in (first.id, second.id)}
    assert len(shas) == 2
    assert sent_appspec(d, first.id) == sent_appspec(d, second.id)


def test_when_looking_for_a_lost_deployment_fails_the_revision_is_kept(sim, on_call):
    d = Deployer.create(sim)
    lost: list[str] = []

    def lose_the_answer_and_the_listing(parsed: dict[str, Any], **kwargs: Any) -> None:
        if not lost:
            lost.append(parsed["deploymentId"])
            sim.faults.server_error("ListDeployments", rate=1.0)
            raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com/")

    on_call("after-call.codedeploy.CreateDeployment", lose_the_answer_and_the_listing)

    with pytest.raises(ServiceUnavailableError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert "not trying again, to avoid a second deployment" in str(caught.value)
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 1
    assert any("was kept" in note for note in caught.value.__notes__)
    assert list(sim.codedeploy.deployments) == lost  # one deployment, never a second
    assert revisions(d)[-1].endswith(":2")


def test_rollback_whose_create_answer_is_lost_finds_the_deployment_instead_of_making_two(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)
    clients = without_botocore_retries(sim)

    def lose_the_answer(**kwargs):
        raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com")

    clients.codedeploy.meta.events.register(
        "after-call.codedeploy.CreateDeployment", lose_the_answer
    )
    deployment = Deployment.attach(latest, clients=clients, clock=sim.clock)

    new = deployment.rollback()

    operations = [op for _, _, op in sim.api_calls("codedeploy")]
    assert operations.count("CreateDeployment") == 3  # two deploys, one rollback: no retry
    after = operations[len(operations) - operations[::-1].index("CreateDeployment") :]
    assert after == ["ListDeployments", "BatchGetDeployments"]  # the search that found it
    assert d.info(new.id)["description"].startswith(f"bluegreen rollback of {latest}")


def test_rollback_whose_create_fails_with_5xx_looks_first_then_creates_exactly_one(sim):
    # The path deploy takes: after a 5xx the group is searched for the deployment the call
    # may have created; none is there, so the call is made again, once.
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)
    deployment = Deployment.attach(latest, clients=without_botocore_retries(sim), clock=sim.clock)
    sim.faults.server_error("CreateDeployment", count=1)

    new = deployment.rollback()

    operations = [op for _, _, op in sim.api_calls("codedeploy")]
    assert operations.count("CreateDeployment") == 4  # two deploys, the 5xx, the rollback
    assert d.group()["lastAttemptedDeployment"]["deploymentId"] == new.id
    assert new.rollback_origin is not None
    assert new.rollback_origin.rolled_back == latest


def test_rollback_whose_create_keeps_failing_with_5xx_raises_and_creates_nothing(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)
    deployment = Deployment.attach(latest, clients=without_botocore_retries(sim), clock=sim.clock)
    sim.faults.server_error("CreateDeployment", count=100)

    with pytest.raises(ServiceUnavailableError):
        deployment.rollback()

    assert d.group()["lastAttemptedDeployment"]["deploymentId"] == latest


# -- connections reset on the wire (sim.faults.reset) ------------------------------------------


def test_a_reset_after_create_deployment_reached_codedeploy_makes_one_deployment(sim):
    d = Deployer.create(sim)
    sim.faults.reset("CreateDeployment", when="after", count=1)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert sim.faults.injected == {"reset_after": 1}
    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 1  # found by its sha256, never sent again
    assert deployments(d) == [deployment.id]
    assert deployment.wait().status == "Succeeded"


def test_a_reset_before_create_deployment_reached_codedeploy_creates_exactly_one(sim):
    d = Deployer.create(sim)
    sim.faults.reset("CreateDeployment", when="before", count=1)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    creates = [op for _, _, op in sim.api_calls("codedeploy") if op == "CreateDeployment"]
    assert len(creates) == 2  # looked, found nothing, sent again once
    assert deployments(d) == [deployment.id]
    assert len(revisions(d)) == 2
