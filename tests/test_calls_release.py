"""What ``deploy`` costs before CreateDeployment, counted per operation in the simulator's
request log (issue 12, "Calls before CreateDeployment"), and the deployment group a scan found,
recorded on the service so the next release does not scan again.

Every count is exact, so a read made twice again fails here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from deploying import NEW_IMAGE, Deployer, run_deploy, run_plan

from bluegreen import discover
from bluegreen.discovery import APPLICATION_TAG, DEPLOYMENT_GROUP_TAG

# The preflight reads each thing once; scaling uses what it read (the service's ARN and tags,
# the scalable targets) and only writes its record, reads it back, then suspends.
NAMED = Counter(
    {
        "DescribeServices": 1,  # the service, its task sets and tags (the scaling record)
        "GetDeploymentGroup": 1,
        "DescribeTargetGroups": 1,
        "DescribeListeners": 1,
        "DescribeTaskDefinition": 1,
        "DescribeAlarms": 1,
        "ListDeployments": 1,  # a deployment already in flight
        "DescribeScalableTargets": 1,
        "TagResource": 1,  # the scaling record...
        "ListTagsForResource": 1,  # ...read back: only one of two releases suspends
        "RegisterScalableTarget": 1,
        "RegisterTaskDefinition": 1,
    }
)
SCAN = Counter(
    {
        "ListApplications": 1,
        "BatchGetApplications": 1,
        "ListDeploymentGroups": 1,
        "BatchGetDeploymentGroups": 1,
    }
)


def before_create(sim: Any, action: Any) -> tuple[Any, list[str]]:
    """Run ``action``; the operations it sent before CreateDeployment, in order."""
    start = len(list(sim.api_calls()))
    result = action()
    sent = [op for _, _, op in list(sim.api_calls())[start:]]
    return result, sent[: sent.index("CreateDeployment")]


def tags(d: Deployer) -> dict[str, str]:
    answer = d.ecs.list_tags_for_resource(resourceArn=d.env.service_arn)
    return {t["key"]: t["value"] for t in answer["tags"]}


@pytest.fixture
def scanned(sim: Any) -> Deployer:
    """The sample service, deployed by application ``releases``, group ``web``: names the
    console's convention does not predict, so finding the group takes a scan."""
    d = Deployer.create(sim)
    info = d.group()
    d.codedeploy.delete_application(applicationName=d.env.application)
    d.codedeploy.create_application(applicationName="releases", computePlatform="ECS")
    d.codedeploy.create_deployment_group(
        applicationName="releases",
        deploymentGroupName="web",
        serviceRoleArn=info["serviceRoleArn"],
        deploymentStyle=info["deploymentStyle"],
        blueGreenDeploymentConfiguration=info["blueGreenDeploymentConfiguration"],
        ecsServices=info["ecsServices"],
        loadBalancerInfo=info["loadBalancerInfo"],
        alarmConfiguration=info["alarmConfiguration"],
        autoRollbackConfiguration=info["autoRollbackConfiguration"],
        deploymentConfigName=info["deploymentConfigName"],
    )
    return d


# -- a named group ------------------------------------------------------------------------------


def test_deploy_makes_twelve_calls_before_create_deployment_each_read_once(sim):
    Deployer.create(sim)

    _, sent = before_create(sim, lambda: run_deploy(sim, image=NEW_IMAGE))

    assert Counter(sent) == NAMED, sent
    assert len(sent) == 12
    # The safety of the scaling record: written, read back, and only then suspended.
    assert sent.index("TagResource") < sent.index("ListTagsForResource")
    assert sent.index("ListTagsForResource") < sent.index("RegisterScalableTarget")


def test_deploy_naming_the_group_costs_the_same(sim):
    d = Deployer.create(sim)

    _, sent = before_create(
        sim,
        lambda: run_deploy(
            sim,
            image=NEW_IMAGE,
            application=d.env.application,
            deployment_group=d.env.deployment_group,
        ),
    )

    assert Counter(sent) == NAMED, sent


def test_deploy_without_autoscaling_makes_no_scaling_call(sim):
    Deployer.create(sim, autoscaling=False)

    _, sent = before_create(sim, lambda: run_deploy(sim, image=NEW_IMAGE))

    expected = NAMED - Counter({"TagResource": 1, "ListTagsForResource": 1})
    assert Counter(sent) == expected - Counter({"RegisterScalableTarget": 1}), sent


def test_a_record_left_by_an_ended_deployment_costs_nothing_and_is_cleared_at_the_end(sim):
    d = Deployer.create(sim)
    first = run_deploy(sim, image=NEW_IMAGE)
    assert d.done(first.id) == "Succeeded"  # nobody waited: its record is still there
    assert any(key.startswith("bluegreen:scaling") for key in tags(d))

    second, sent = before_create(
        sim, lambda: run_deploy(sim, image="public.ecr.aws/nginx/nginx:1.29")
    )

    # The old record is read with the preflight's tags and gives the original state; the new
    # release records its own and suspends as if it were alone: no restore first.
    assert Counter(sent) == NAMED, sent
    second.wait()  # ends and reconciles: both records go, the flags are the original
    assert not [key for key in tags(d) if key.startswith("bluegreen:scaling")]


# -- a group found by scanning ----------------------------------------------------------------


def test_a_scanned_group_is_recorded_so_the_next_release_costs_what_a_named_one_does(sim, scanned):
    first, sent = before_create(sim, lambda: run_deploy(sim, image=NEW_IMAGE))

    # NAMED's one GetDeploymentGroup is here the console's names, guessed and refused; the
    # scan's BatchGetDeploymentGroups reads the group; one TagResource records it.
    assert Counter(sent) == NAMED + SCAN + Counter({"TagResource": 1}), sent
    assert tags(scanned)[DEPLOYMENT_GROUP_TAG] == "releases/web"
    assert APPLICATION_TAG not in tags(scanned)
    first.wait()  # ends and restores scaling

    second, sent = before_create(
        sim, lambda: run_deploy(sim, image="public.ecr.aws/nginx/nginx:1.29")
    )

    assert Counter(sent) == NAMED, sent
    info = scanned.info(second.id)
    assert (info["applicationName"], info["deploymentGroupName"]) == ("releases", "web")


def test_discover_trusts_the_record_once_the_group_deploys_the_service(sim, scanned):
    scanned.ecs.tag_resource(
        resourceArn=scanned.env.service_arn,
        tags=[{"key": DEPLOYMENT_GROUP_TAG, "value": "releases/web"}],
    )
    start = len(list(sim.api_calls()))

    state = discover("prod", "web", clients=sim.clients())

    sent = Counter(op for _, _, op in list(sim.api_calls())[start:])
    assert state.deployment_group is not None
    assert state.deployment_group.application == "releases"
    assert sent == Counter(
        {
            "DescribeServices": 1,
            "GetDeploymentGroup": 1,
            "DescribeListeners": 1,
            "DescribeTargetGroups": 1,
        }
    )


@pytest.mark.parametrize(
    "stale",
    ["gone/web", "releases/nothing"],
    ids=["application-deleted", "group-missing"],
)
def test_a_stale_record_falls_back_to_the_scan_and_is_corrected(sim, scanned, stale):
    scanned.ecs.tag_resource(
        resourceArn=scanned.env.service_arn,
        tags=[{"key": DEPLOYMENT_GROUP_TAG, "value": stale}],
    )

    deployment, sent = before_create(sim, lambda: run_deploy(sim, image=NEW_IMAGE))

    # The record tried (refused), the console's names tried (refused), then the scan.
    assert Counter(sent) == NAMED + SCAN + Counter({"GetDeploymentGroup": 1, "TagResource": 1}), (
        sent
    )
    assert tags(scanned)[DEPLOYMENT_GROUP_TAG] == "releases/web"
    assert scanned.info(deployment.id)["applicationName"] == "releases"


def test_a_record_naming_a_group_that_deploys_another_service_is_not_trusted(sim, scanned):
    api = sim.create_environment(name="api", autoscaling=False)  # AppECS-prod-api
    scanned.ecs.tag_resource(
        resourceArn=scanned.env.service_arn,
        tags=[{"key": DEPLOYMENT_GROUP_TAG, "value": f"{api.application}/{api.deployment_group}"}],
    )

    deployment, _ = before_create(sim, lambda: run_deploy(sim, image=NEW_IMAGE))

    assert scanned.info(deployment.id)["applicationName"] == "releases"
    assert tags(scanned)[DEPLOYMENT_GROUP_TAG] == "releases/web"


def test_plan_changes_nothing_not_even_the_record(sim, scanned):
    planned = run_plan(sim, image=NEW_IMAGE)

    assert planned.ok, planned.problems
    assert DEPLOYMENT_GROUP_TAG not in tags(scanned)


def test_a_group_the_console_names_is_not_recorded(sim):
    d = Deployer.create(sim)

    run_deploy(sim, image=NEW_IMAGE)

    assert DEPLOYMENT_GROUP_TAG not in tags(d)


def test_tags_the_user_set_are_left_alone(sim, scanned):
    scanned.ecs.tag_resource(
        resourceArn=scanned.env.service_arn,
        tags=[
            {"key": APPLICATION_TAG, "value": "releases"},
            {"key": DEPLOYMENT_GROUP_TAG, "value": "web"},
        ],
    )

    _, sent = before_create(sim, lambda: run_deploy(sim, image=NEW_IMAGE))

    assert Counter(sent) == NAMED, sent
    assert tags(scanned)[DEPLOYMENT_GROUP_TAG] == "web"
