"""The CodeDeploy API's deployments (``_api_deployments``): CreateDeployment and the
revisions it refuses, deployment status and ``deploymentOverview``, one deployment per
group, ListDeployments, BatchGetDeployments and GetApplicationRevision (contract 1.4, 5.1,
5.6), through boto3 against the simulator. The controls are in
``test_simulator_api_deployments_controls.py``."""

from __future__ import annotations

import re
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from deploying import TERMINAL, Deployer, error_code

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"


def status_history(d, deployment_id):
    """Run to the end, recording every distinct deployment status on the way."""
    seen = [d.status(deployment_id)]

    def record():
        status = d.status(deployment_id)
        if status != seen[-1]:
            seen.append(status)
        return status in TERMINAL

    d.sim.run_until(record)
    return seen


def _overview_of_target(d: Deployer, deployment_id: str) -> dict[str, int]:
    """The deploymentOverview that agrees with the deployment's one (ECS) target."""
    status = d.target(deployment_id)["status"]
    return {
        k: int(k == status)
        for k in ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Ready")
    }


def _assert_overview_agrees(d: Deployer, deployment_id: str, target_status: str) -> None:
    assert d.target(deployment_id)["status"] == target_status
    assert d.info(deployment_id)["deploymentOverview"] == _overview_of_target(d, deployment_id)


# -- 1. deploymentOverview agrees with the target in every state ----------------------


@pytest.fixture
def counting_sim(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A simulator that shows ``deploymentOverview`` while the deployment runs too."""

    with Simulator(settings=SimSettings(overview_while_running=True)) as running:
        yield running


# -- 5.1 status, one deployment per group ---------------------------------------------


def test_5_1_status_goes_created_in_progress_succeeded(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()

    assert status_history(d, deployment_id) == ["Created", "InProgress", "Succeeded"]


def test_5_1_status_passes_through_ready_with_a_ready_wait(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")
    d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")

    assert status_history(d, deployment_id) == ["InProgress", "Succeeded"]


def test_5_1_deployment_ids_look_like_aws_ids(sim):
    d = Deployer.create(sim, termination_wait_minutes=0)
    ids = []
    for _ in range(3):
        ids.append(d.deploy())
        d.done(ids[-1])

    assert all(re.fullmatch(r"d-[A-Z0-9]{9}", i) for i in ids)
    assert len(set(ids)) == 3


def test_5_1_a_second_deployment_in_the_group_is_refused_while_one_is_active(sim):
    d = Deployer.create(sim, termination_wait_minutes=60)
    first = d.deploy()

    for until in ("Created", "InProgress", "termination wait"):
        if until == "InProgress":
            d.until_status(first, "InProgress")
        elif until == "termination wait":
            d.until_event(first, "AfterAllowTraffic", "Succeeded")
        with pytest.raises(ClientError) as caught:
            d.deploy()
        assert error_code(caught.value) == "DeploymentLimitExceededException"
        assert caught.value.response["Error"]["Message"] == (
            f"The Deployment Group '{d.env.deployment_group}' already has an active "
            f"Deployment '{first}'"
        )

    assert d.done(first) == "Succeeded"
    assert d.done(d.deploy()) == "Succeeded"


def test_5_1_a_deployment_waiting_in_ready_holds_the_group(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    first = d.deploy()
    d.until_status(first, "Ready")

    with pytest.raises(ClientError) as caught:
        d.deploy()
    assert error_code(caught.value) == "DeploymentLimitExceededException"


def test_5_1_deployment_overview_is_absent_while_running_and_counts_the_target_after(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "Succeeded")
    running = d.info(deployment_id)
    assert running["status"] == "InProgress"
    assert "deploymentOverview" not in running
    assert "completeTime" not in running

    d.done(deployment_id)
    info = d.info(deployment_id)
    assert info["deploymentOverview"]["Succeeded"] == 1
    assert info["deploymentOverview"]["Failed"] == 0
    assert info["createTime"] <= info["startTime"] <= info["completeTime"]


def test_5_1_deployment_info_copies_the_group_settings(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy(description="release 42")
    info, group = d.info(deployment_id), d.group()

    assert info["computePlatform"] == "ECS"
    assert info["creator"] == "user"
    assert info["description"] == "release 42"
    assert info["deploymentConfigName"] == group["deploymentConfigName"]
    for key in ("deploymentStyle", "blueGreenDeploymentConfiguration", "loadBalancerInfo"):
        assert info[key] == group[key], key


def test_5_1_description_longer_than_256_characters_is_refused(sim):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.deploy(description="x" * 257)
    assert error_code(caught.value) == "DescriptionTooLongException"


def test_5_1_group_records_last_attempted_and_last_successful_deployments(sim):
    d = Deployer.create(sim)
    first = d.deploy()
    d.until_status(first, "InProgress")
    assert d.group()["lastAttemptedDeployment"]["status"] == "InProgress"
    assert d.done(first) == "Succeeded"

    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    second = d.deploy(hooks={"BeforeInstall": HOOK})
    assert d.done(second) == "Failed"

    group = d.group()
    attempted, succeeded = group["lastAttemptedDeployment"], group["lastSuccessfulDeployment"]
    assert (attempted["deploymentId"], attempted["status"]) == (second, "Failed")
    assert (succeeded["deploymentId"], succeeded["status"]) == (first, "Succeeded")
    assert succeeded["endTime"] == d.info(first)["completeTime"]
    assert attempted["createTime"] == d.info(second)["createTime"]
    assert group["targetRevision"] == d.info(first)["revision"]


# -- 5.6 other calls -----------------------------------------------------------------


def test_5_6_batch_get_deployments_takes_at_most_25_ids(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()

    answer = d.codedeploy.batch_get_deployments(deploymentIds=[deployment_id] * 25)
    assert {i["deploymentId"] for i in answer["deploymentsInfo"]} == {deployment_id}
    with pytest.raises(ClientError) as caught:
        d.codedeploy.batch_get_deployments(deploymentIds=[deployment_id] * 26)
    assert error_code(caught.value) == "BatchLimitExceededException"


def test_5_6_list_deployments_filters_by_group_status_and_create_time(sim):
    d = Deployer.create(sim, termination_wait_minutes=0)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    ok = d.deploy()
    d.done(ok)
    sim.advance(60)
    middle = d.info(ok)["completeTime"]
    failed = d.deploy(hooks={"BeforeInstall": HOOK})
    d.done(failed)
    group = {"applicationName": d.env.application, "deploymentGroupName": d.env.deployment_group}

    assert d.codedeploy.list_deployments(**group)["deployments"] == [failed, ok]
    assert d.codedeploy.list_deployments()["deployments"] == [failed, ok]
    assert d.codedeploy.list_deployments(**group, includeOnlyStatuses=["Failed"])[
        "deployments"
    ] == [failed]
    assert d.codedeploy.list_deployments(**group, createTimeRange={"end": middle})[
        "deployments"
    ] == [ok]
    assert d.codedeploy.list_deployments(**group, createTimeRange={"start": middle})[
        "deployments"
    ] == [failed]


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"applicationName": "AppECS-prod-web"}, "DeploymentGroupNameRequiredException"),
        ({"deploymentGroupName": "DgpECS-prod-web"}, "ApplicationNameRequiredException"),
    ],
)
def test_5_6_list_deployments_takes_application_and_group_together(sim, arguments, code):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.list_deployments(**arguments)
    assert error_code(caught.value) == code


def test_5_6_get_application_revision_returns_the_content_get_deployment_never_does(sim):
    d = Deployer.create(sim)
    revision = d.appspec().revision()
    deployment_id = d.deploy(revision=revision)
    content, sha = revision["appSpecContent"]["content"], revision["appSpecContent"]["sha256"]

    for info in (
        d.info(deployment_id),
        d.codedeploy.batch_get_deployments(deploymentIds=[deployment_id])["deploymentsInfo"][0],
    ):
        assert info["revision"]["revisionType"] == "AppSpecContent"
        assert info["revision"]["appSpecContent"].get("content") is None
        assert info["revision"]["appSpecContent"]["sha256"] == sha

    answer = d.codedeploy.get_application_revision(
        applicationName=d.env.application,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"sha256": sha}},
    )
    assert answer["revision"]["appSpecContent"] == {"content": content, "sha256": sha}
    assert answer["revisionInfo"]["deploymentGroups"] == [d.env.deployment_group]
    with pytest.raises(ClientError) as caught:
        d.codedeploy.get_application_revision(
            applicationName=d.env.application,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"sha256": "0" * 64}},
        )
    assert error_code(caught.value) == "RevisionDoesNotExistException"


# -- 1.4 / 8 revisions CodeDeploy refuses, and ones that fail the deployment ---------------


def test_1_4_create_deployment_without_a_revision_is_refused(sim):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.create_deployment(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )
    assert error_code(caught.value) == "RevisionRequiredException"
    assert caught.value.response["Error"]["Message"] == "RevisionLocation must be specified"


def test_1_4_sha256_that_does_not_match_the_content_is_refused(sim):
    d = Deployer.create(sim)
    revision = d.appspec().revision()
    revision["appSpecContent"]["sha256"] = "0" * 64
    with pytest.raises(ClientError) as caught:
        d.deploy(revision=revision)
    assert error_code(caught.value) == "InvalidRevisionException"


def test_1_4_empty_content_is_refused(sim):
    d = Deployer.create(sim)
    with pytest.raises(ClientError) as caught:
        d.deploy(revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": ""}})
    assert error_code(caught.value) == "InvalidRevisionException"


def test_1_4_content_without_sha256_is_accepted(sim):
    d = Deployer.create(sim)
    revision = d.appspec().revision()
    del revision["appSpecContent"]["sha256"]

    assert d.done(d.deploy(revision=revision)) == "Succeeded"


def test_1_4_json_appspec_deploys_like_yaml(sim):
    d = Deployer.create(sim)
    assert d.done(d.deploy(revision=d.appspec().revision("json"))) == "Succeeded"


def test_overview_agrees_with_the_target_in_progress_ready_wait_and_success(counting_sim):
    d = Deployer.create(counting_sim, ready_wait_minutes=60, termination_wait_minutes=30)
    deployment_id = d.deploy()
    assert d.info(deployment_id)["deploymentOverview"]["Pending"] == 1  # Created

    d.until_event(deployment_id, "Install")
    _assert_overview_agrees(d, deployment_id, "InProgress")

    d.until_status(deployment_id, "Ready")
    _assert_overview_agrees(d, deployment_id, "Ready")

    d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    assert d.status(deployment_id) == "InProgress"  # the termination wait
    _assert_overview_agrees(d, deployment_id, "Succeeded")

    assert d.done(deployment_id) == "Succeeded"
    _assert_overview_agrees(d, deployment_id, "Succeeded")


def test_overview_of_a_stopped_deployment_counts_its_failed_target(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)

    assert d.status(deployment_id) == "Stopped"
    _assert_overview_agrees(d, deployment_id, "Failed")
    assert d.info(deployment_id)["deploymentOverview"]["Failed"] == 1


def test_overview_of_a_failed_deployment_and_its_rollback_agree_with_their_targets(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    assert d.done(deployment_id) == "Failed"
    _assert_overview_agrees(d, deployment_id, "Failed")
    rollback = d.rollback_of(deployment_id)
    assert d.status(rollback) == "Succeeded"
    _assert_overview_agrees(d, rollback, "Succeeded")


def test_overview_of_a_deployment_stopped_by_an_alarm_in_the_termination_wait(sim):
    d = Deployer.create(sim, termination_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    d.set_alarm()

    assert d.done(deployment_id) == "Stopped"
    overview = d.info(deployment_id)["deploymentOverview"]
    assert overview == _overview_of_target(d, deployment_id)
    assert sum(overview.values()) == 1


# -- 4. ListDeployments with an unknown status -----------------------------------------


def test_list_deployments_refuses_an_unknown_status(sim):
    d = Deployer.create(sim)
    d.deploy()

    with pytest.raises(ClientError) as caught:
        d.codedeploy.list_deployments(includeOnlyStatuses=["InProgress", "Running"])

    assert error_code(caught.value) == "InvalidDeploymentStatusException"
    assert "Running" in caught.value.response["Error"]["Message"]


def test_list_deployments_accepts_every_status_of_the_model(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    model = botocore.session.get_session().get_service_model("codedeploy")
    statuses = list(model.shape_for("DeploymentStatus").enum)

    found = d.codedeploy.list_deployments(includeOnlyStatuses=statuses)["deployments"]

    assert found == [deployment_id]
