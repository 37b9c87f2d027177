"""Contract section 5: deployment status, the control APIs (ContinueDeployment,
StopDeployment) and what GetDeployment, the deployment-target calls, ListDeployments and
GetApplicationRevision answer, through boto3 against the simulator."""

import re

import pytest
from botocore.exceptions import ClientError
from deploying import TERMINAL, Deployer, error_code

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


# -- 5.2 ContinueDeployment ----------------------------------------------------------


def test_5_1_continue_ready_wait_only_in_ready_state(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "InProgress")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="READY_WAIT"
        )
    assert error_code(caught.value) == "DeploymentIsNotInReadyStateException"
    assert "does not have a status of Ready and can't continue yet" in str(caught.value)


def test_5_2_continue_on_a_completed_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    for wait_type in ("READY_WAIT", "TERMINATION_WAIT"):
        with pytest.raises(ClientError) as caught:
            d.codedeploy.continue_deployment(
                deploymentId=deployment_id, deploymentWaitType=wait_type
            )
        assert error_code(caught.value) == "DeploymentAlreadyCompletedException"


def test_5_2_continue_with_an_unknown_wait_type_is_refused(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="SOON")
    assert error_code(caught.value) == "InvalidDeploymentWaitTypeException"
    assert d.status(deployment_id) == "Ready"


def test_5_2_termination_wait_continue_before_the_termination_wait_is_refused(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(
            deploymentId=deployment_id, deploymentWaitType="TERMINATION_WAIT"
        )
    assert error_code(caught.value) == "InvalidDeploymentStatusException"


def test_5_2_continue_without_a_wait_type_means_ready_wait(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    d.codedeploy.continue_deployment(deploymentId=deployment_id)
    assert d.done(deployment_id) == "Succeeded"


@pytest.mark.parametrize(
    ("deployment_id", "code"),
    [("d-AAAAAAAAA", "DeploymentDoesNotExistException"), ("nope", "InvalidDeploymentIdException")],
)
def test_5_2_continue_names_a_deployment_that_exists(sim, deployment_id, code):
    d = Deployer(sim, env=None)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.continue_deployment(deploymentId=deployment_id)
    assert error_code(caught.value) == code


# -- 5.3 StopDeployment --------------------------------------------------------------


def test_5_3_stop_with_rollback_stops_and_rolls_back(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterInstall", "Succeeded")

    answer = d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert answer["status"] == "Succeeded"
    assert d.status(deployment_id) == "Stopped"
    info = d.info(deployment_id)
    assert info["errorInformation"]["code"] == "MANUAL_STOP"
    assert d.done(deployment_id) == "Stopped"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert len(d.task_sets()) == 1
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}


def test_5_3_stop_without_rollback_leaves_green_in_place(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterInstall", "Succeeded")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=False)
    assert d.done(deployment_id) == "Stopped"
    assert "rollbackInfo" not in d.info(deployment_id)
    assert sorted(ts["status"] for ts in d.task_sets()) == ["ACTIVE", "PRIMARY"]
    events = d.events(deployment_id)
    assert "Pending" not in events.values()
    assert "InProgress" not in events.values()


@pytest.mark.parametrize(
    ("group_events", "rolls_back"),
    [
        (["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"], True),
        (["DEPLOYMENT_FAILURE"], False),
    ],
)
def test_5_3_stop_without_the_parameter_follows_the_group_stop_on_request(
    sim, group_events, rolls_back
):
    d = Deployer.create(sim, auto_rollback_events=group_events)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterInstall", "Succeeded")

    d.codedeploy.stop_deployment(deploymentId=deployment_id)
    assert d.done(deployment_id) == "Stopped"
    assert ("rollbackInfo" in d.info(deployment_id)) is rolls_back
    assert len(d.task_sets()) == (1 if rolls_back else 2)


def test_5_3_stop_before_install_has_nothing_to_roll_back(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.silent_hook())
    deployment_id = d.deploy(hooks={"BeforeInstall": HOOK})
    d.until_event(deployment_id, "BeforeInstall", "InProgress")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert d.done(deployment_id) == "Stopped"
    assert "rollbackInfo" not in d.info(deployment_id)
    assert len(d.task_sets()) == 1


def test_5_3_stop_on_a_completed_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(ClientError) as caught:
        d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert error_code(caught.value) == "DeploymentAlreadyCompletedException"


def test_5_3_stop_with_rollback_during_the_termination_wait_brings_blue_back(sim):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    sim.advance(5 * 60)

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert d.done(deployment_id) == "Stopped"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}
    [blue] = d.task_sets()
    assert blue["taskDefinition"] == d.env.task_definition_arn


def test_5_3_once_blue_is_being_terminated_the_deployment_cannot_be_stopped(sim):
    d = Deployer.create(sim, termination_wait_minutes=0)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AfterAllowTraffic", "Succeeded")
    assert "DRAINING" in {ts["status"] for ts in d.task_sets()}

    with pytest.raises(ClientError) as caught:
        d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert error_code(caught.value) == "DeploymentAlreadyCompletedException"
    assert d.done(deployment_id) == "Succeeded"


def test_5_3_stop_a_deployment_waiting_in_ready(sim):
    d = Deployer.create(sim, ready_wait_minutes=60)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "Ready")

    d.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
    assert d.done(deployment_id) == "Stopped"
    assert d.traffic(d.env.test_listener_arn) == {"web-blue": 100, "web-green": 0}
    assert len(d.task_sets()) == 1


# -- 5.5 deployment targets ----------------------------------------------------------


def test_5_5_targets_are_unavailable_before_the_deployment_starts(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    assert d.status(deployment_id) == "Created"

    for call in (
        lambda: d.codedeploy.list_deployment_targets(deploymentId=deployment_id),
        lambda: d.target(deployment_id),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_code(caught.value) == "DeploymentNotStartedException"


def test_5_5_the_one_target_is_cluster_colon_service(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "InProgress")

    listed = d.codedeploy.list_deployment_targets(deploymentId=deployment_id)
    assert listed["targetIds"] == ["prod:web"]
    filtered = d.codedeploy.list_deployment_targets(
        deploymentId=deployment_id, targetFilters={"TargetStatus": ["Failed"]}
    )
    assert filtered["targetIds"] == []
    answer = d.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId="prod:web")
    assert answer["deploymentTarget"]["deploymentTargetType"] == "ECSTarget"
    target = answer["deploymentTarget"]["ecsTarget"]
    assert target["deploymentId"] == deployment_id
    assert target["targetId"] == "prod:web"
    assert target["targetArn"] == d.env.service_arn
    assert target["status"] == "InProgress"
    assert "lastUpdatedAt" in target


def test_5_5_task_sets_info_uses_aws_field_names_labels_and_weights(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)

    infos = {ts["taskSetLabel"]: ts for ts in d.target(deployment_id)["taskSetsInfo"]}
    assert set(infos) == {"Blue", "Green"}
    ids = {ts["status"]: ts["id"] for ts in d.task_sets()}
    blue, green = infos["Blue"], infos["Green"]
    assert "identifier" not in blue
    assert blue["identifer"] == ids["PRIMARY"]
    assert green["identifer"] == ids["ACTIVE"]
    assert green["identifer"].startswith("ecs-svc/")
    assert (blue["trafficWeight"], green["trafficWeight"]) == (90.0, 10.0)
    assert isinstance(green["trafficWeight"], float)
    assert (blue["targetGroup"], green["targetGroup"]) == (
        {"name": "web-blue"},
        {"name": "web-green"},
    )
    assert (green["desiredCount"], green["runningCount"], green["pendingCount"]) == (2, 2, 0)
    assert (blue["status"], green["status"]) == ("PRIMARY", "ACTIVE")


def test_5_5_batch_get_deployment_targets_takes_exactly_one_target(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_status(deployment_id, "InProgress")

    one = d.codedeploy.batch_get_deployment_targets(
        deploymentId=deployment_id, targetIds=["prod:web"]
    )
    assert one["deploymentTargets"][0]["ecsTarget"]["targetId"] == "prod:web"
    with pytest.raises(ClientError) as caught:
        d.codedeploy.batch_get_deployment_targets(
            deploymentId=deployment_id, targetIds=["prod:web", "prod:api"]
        )
    assert error_code(caught.value) == "DeploymentTargetListSizeExceededException"
    assert "must have exactly one item" in str(caught.value)
    with pytest.raises(ClientError) as caught:
        d.codedeploy.get_deployment_target(deploymentId=deployment_id, targetId="prod:api")
    assert error_code(caught.value) == "DeploymentTargetDoesNotExistException"


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
