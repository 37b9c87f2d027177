"""bluegreen.registration: the new task-definition revision is registered once, even when a
connection is reset after ECS registered it, and a failed release deregisters it again. On the
simulator, with faults injected on the wire (``sim.faults``) and real boto3 clients.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploying import (
    NEW_IMAGE,
    Deployer,
    botocore_handlers,
    deployments,
    described,
    revisions,
    run_deploy,
    sent_appspec,
)

from bluegreen import ResourceNotFoundError, ServiceUnavailableError
from bluegreen.registration import RELEASE_TAG, deregister_command


@pytest.fixture
def on_call(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """Register botocore handlers on the simulator's session for this test."""
    yield from botocore_handlers(sim)


def ecs_calls(sim: Any, operation: str) -> int:
    return sum(1 for _, _, op in sim.api_calls("ecs") if op == operation)


def release_tag(d: Deployer, arn: str) -> str | None:
    return {t["key"]: t["value"] for t in described(d, arn)[1]}.get(RELEASE_TAG)


def delete_the_group_on_create(d: Deployer, on_call: Any) -> None:
    """CreateDeployment is refused for good: its deployment group is gone."""

    def delete_group(**kwargs: Any) -> None:
        d.codedeploy.delete_deployment_group(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )

    on_call("before-call.codedeploy.CreateDeployment", delete_group)


# -- a lost answer ------------------------------------------------------------------------------


def test_a_reset_after_ecs_registered_the_revision_leaves_exactly_one_new_revision(sim):
    d = Deployer.create(sim)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="after", count=1)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert sim.faults.injected["reset_after"] == 1
    assert revisions(d) == [d.env.task_definition_arn, revisions(d)[1]]  # one new, not two
    new = revisions(d)[1]
    assert ecs_calls(sim, "RegisterTaskDefinition") == 2  # the environment's and the lost one
    assert sent_appspec(d, deployment.id).task_definition == new
    assert deployments(d) == [deployment.id]
    assert deployment.wait().status == "Succeeded"


def test_a_revision_found_after_a_lost_answer_is_deregistered_when_create_deployment_fails(
    sim, on_call
):
    d = Deployer.create(sim)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="after", count=1)
    delete_the_group_on_create(d, on_call)

    with pytest.raises(ResourceNotFoundError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert revisions(d) == [d.env.task_definition_arn]
    found = d.ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert found["status"] == "INACTIVE"
    assert f"task-definition revision {found['taskDefinitionArn']} was deregistered again" in (
        caught.value.__notes__
    )


def test_a_reset_before_the_request_reached_ecs_registers_once(sim):
    d = Deployer.create(sim)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="before", count=1)
    listed = ecs_calls(sim, "ListTaskDefinitions")

    run_deploy(sim, image=NEW_IMAGE)

    assert sim.faults.injected["reset_before"] == 1
    # bluegreen cannot tell the two resets apart: it looked, found nothing, sent it again.
    assert ecs_calls(sim, "ListTaskDefinitions") == listed + 1
    assert len(revisions(d)) == 2
    assert ecs_calls(sim, "RegisterTaskDefinition") == 1 + 2


def test_a_5xx_whose_search_finds_nothing_registers_again_exactly_once(sim):
    d = Deployer.create(sim)
    sim.faults.server_error("RegisterTaskDefinition", service="ecs", count=1)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    assert revisions(d)[0] == d.env.task_definition_arn
    assert len(revisions(d)) == 2
    assert ecs_calls(sim, "RegisterTaskDefinition") == 1 + 2
    assert sent_appspec(d, deployment.id).task_definition == revisions(d)[1]


def test_throttling_is_retried_without_looking(sim):
    d = Deployer.create(sim)
    sim.faults.throttle("RegisterTaskDefinition", service="ecs", count=2)
    listed = ecs_calls(sim, "ListTaskDefinitions")

    run_deploy(sim, image=NEW_IMAGE)

    assert ecs_calls(sim, "ListTaskDefinitions") == listed
    assert len(revisions(d)) == 2
    assert ecs_calls(sim, "RegisterTaskDefinition") == 1 + 3


def test_a_registration_that_keeps_failing_leaves_nothing_behind(sim):
    d = Deployer.create(sim)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="before", count=100)

    with pytest.raises(ServiceUnavailableError):
        run_deploy(sim, image=NEW_IMAGE)

    assert revisions(d) == [d.env.task_definition_arn]
    assert deployments(d) == []


# -- the release token ---------------------------------------------------------------------------


def test_each_release_tags_its_revision_with_its_own_token_beside_the_tags_it_carries(sim):
    d = Deployer.create(sim)
    d.ecs.tag_resource(
        resourceArn=d.env.task_definition_arn, tags=[{"key": "team", "value": "payments"}]
    )
    first = run_deploy(sim, image=NEW_IMAGE)
    first.wait()

    second = run_deploy(sim, image="public.ecr.aws/nginx/nginx:1.29")

    one, two = (sent_appspec(d, i).task_definition for i in (first.id, second.id))
    assert {"key": "team", "value": "payments"} in described(d, two)[1]
    keys = [t["key"] for t in described(d, two)[1]]
    assert keys.count(RELEASE_TAG) == 1  # the first release's token was replaced, not kept
    assert release_tag(d, one)
    assert release_tag(d, two)
    assert release_tag(d, one) != release_tag(d, two)


def test_a_revision_with_50_tags_is_registered_untagged_and_not_retried_after_a_lost_answer(
    sim,
):
    d = Deployer.create(sim)
    full = [{"key": f"k{i}", "value": "v"} for i in range(50)]
    d.ecs.tag_resource(resourceArn=d.env.task_definition_arn, tags=full)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="after", count=1)

    with pytest.raises(ServiceUnavailableError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert ecs_calls(sim, "RegisterTaskDefinition") == 2  # never a second attempt
    notes = " ".join(caught.value.__notes__)
    assert "may have been registered" in notes
    assert "aws ecs list-task-definitions --family-prefix web --sort DESC" in notes
    assert len(described(d, "web:2")[1]) == 50


def test_when_looking_for_a_lost_revision_fails_nothing_is_registered_again(sim):
    d = Deployer.create(sim)
    sim.faults.reset("RegisterTaskDefinition", service="ecs", when="after", count=1)
    sim.faults.server_error("ListTaskDefinitions", service="ecs", rate=1.0)

    with pytest.raises(ServiceUnavailableError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert "not trying again, to avoid a second revision" in str(caught.value)
    sim.faults.clear()
    token = release_tag(d, "web:2")
    assert f"{RELEASE_TAG}={token}" in " ".join(caught.value.__notes__)
    assert ecs_calls(sim, "RegisterTaskDefinition") == 2
    assert len(revisions(d)) == 2  # the one that may exist, named by its tag; never a third


# -- deregistering ---------------------------------------------------------------------------------


def test_when_deregistering_fails_the_error_gives_the_command_that_does_it(sim, on_call):
    d = Deployer.create(sim)
    delete_the_group_on_create(d, on_call)
    sim.faults.throttle("DeregisterTaskDefinition", service="ecs", rate=1.0)

    with pytest.raises(ResourceNotFoundError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    arn = revisions(d)[1]
    command = f"aws ecs deregister-task-definition --region us-east-1 --task-definition {arn}"
    assert any(
        f"revision {arn} could not be deregistered" in note and command in note
        for note in caught.value.__notes__
    )
    assert deregister_command(arn) == command
    assert d.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == (
        "ACTIVE"
    )


def test_a_deregistration_whose_answer_was_lost_counts_when_the_retry_is_refused(sim, on_call):
    d = Deployer.create(sim)
    delete_the_group_on_create(d, on_call)
    sim.faults.reset("DeregisterTaskDefinition", service="ecs", when="after", count=1)
    refused: list[bool] = []

    def refuse_once_inactive(**kwargs: Any) -> Any:
        # ECS may refuse to deregister a revision that is INACTIVE already.
        if sim.faults.injected["reset_after"] and not refused:
            refused.append(True)
            error = {"Error": {"Code": "ClientException", "Message": "already inactive"}}
            return types.SimpleNamespace(status_code=400, headers={}), error
        return None

    on_call("before-call.ecs.DeregisterTaskDefinition", refuse_once_inactive)

    with pytest.raises(ResourceNotFoundError) as caught:
        run_deploy(sim, image=NEW_IMAGE)

    assert refused
    assert revisions(d) == [d.env.task_definition_arn]
    arn = d.ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert arn["status"] == "INACTIVE"
    assert f"task-definition revision {arn['taskDefinitionArn']} was deregistered again" in (
        caught.value.__notes__
    )
