"""Contract sections 1.4, 7, 8 and 10: bad revisions, a green that never gets healthy,
injected API faults, autoscaling during a deployment, and a long deployment on the virtual
clock, through boto3 against the simulator."""

import hashlib
import json

import attrs
import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from deploying import EVENTS, Deployer, error_code

from bluegreen.testing import SimSettings, Simulator

HOOK = "CodeDeployHook_check"
INVALID_APPSPEC = (
    "The deployment failed because the AppSpec file that specifies the deployment "
    "configuration is missing or has an invalid configuration. "
)


def content_revision(content):
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": content,
            "sha256": hashlib.sha256(content.encode()).hexdigest(),
        },
    }


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


def test_1_4_unparseable_appspec_fails_the_deployment_with_invalid_revision(sim):
    d = Deployer.create(sim)
    squashed = d.appspec().to_yaml().replace("\n", " ")
    deployment_id = d.deploy(revision=content_revision(squashed + " - ["))

    assert d.done(deployment_id) == "Failed"
    info = d.info(deployment_id)
    assert info["errorInformation"] == {
        "code": "INVALID_REVISION",
        "message": INVALID_APPSPEC
        + "The input AppSpec file is a not well-formed yaml. The template cannot be parsed.",
    }
    events = d.events(deployment_id)
    assert events["BeforeInstall"] == "Failed"
    assert [events[n] for n in EVENTS[1:]] == ["Skipped"] * 7
    assert "rollbackInfo" not in info
    assert len(d.task_sets()) == 1


def test_1_4_appspec_of_the_wrong_shape_fails_with_invalid_revision(sim):
    d = Deployer.create(sim)
    document = d.appspec().to_dict()
    properties = document["Resources"][0]["TargetService"]["Properties"]
    properties["LoadBalancerInfo"] = [properties["LoadBalancerInfo"]]
    deployment_id = d.deploy(revision=content_revision(json.dumps(document)))

    assert d.done(deployment_id) == "Failed"
    error = d.info(deployment_id)["errorInformation"]
    assert error["code"] == "INVALID_REVISION"
    assert error["message"].startswith(INVALID_APPSPEC)
    assert "LoadBalancerInfo" in error["message"]


def test_8_container_port_missing_from_the_task_definition_is_ecs_update_error(sim):
    d = Deployer.create(sim)
    revision = d.register_revision(port=8080)
    deployment_id = d.deploy(appspec=d.appspec(revision))

    assert d.done(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"] == {
        "code": "ECS_UPDATE_ERROR",
        "message": "The ECS service cannot be updated due to an unexpected error: The container "
        "web did not have a container port 80 defined. Check your ECS service status.",
    }
    assert d.events(deployment_id)["Install"] == "Failed"
    assert len(d.task_sets()) == 1


def test_8_container_name_missing_from_the_task_definition_is_ecs_update_error(sim):
    d = Deployer.create(sim)
    spec = attrs.evolve(d.appspec(), container_name="staging-web")
    deployment_id = d.deploy(appspec=spec)

    assert d.done(deployment_id) == "Failed"
    error = d.info(deployment_id)["errorInformation"]
    assert error["code"] == "ECS_UPDATE_ERROR"
    assert "The container does not exist in the task definition." in error["message"]


# -- 8 green never gets healthy -----------------------------------------------------------


def test_8_unhealthy_green_stays_in_install_for_3600_s_then_fails_and_rolls_back(sim):
    d = Deployer.create(sim)
    sim.faults.unhealthy_green = True
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")
    started = d.event(deployment_id, "Install")["startTime"].timestamp()

    d.advance_to(started + 3599)
    assert d.events(deployment_id)["Install"] == "InProgress"
    green = d.task_set("ACTIVE")
    assert green["stabilityStatus"] == "STABILIZING"
    assert green["runningCount"] == 0

    d.advance_to(started + 3600)
    assert d.status(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"]["code"] == "TIMEOUT"
    assert d.done(deployment_id) == "Failed"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert len(d.task_sets()) == 1


def test_8_install_timeout_and_its_error_code_are_settings():
    settings = SimSettings(install_timeout=600, install_timeout_error_code="ECS_UPDATE_ERROR")
    with Simulator(settings=settings) as sim:
        d = Deployer.create(sim)
        sim.faults.unhealthy_green = True
        deployment_id = d.deploy()
        d.until_event(deployment_id, "Install", "InProgress")

        assert d.until_status(deployment_id, "Failed") == 600
        assert d.info(deployment_id)["errorInformation"]["code"] == "ECS_UPDATE_ERROR"


# -- 10 injected API faults and botocore's retries ---------------------------------------


@pytest.fixture
def no_retry_sleep(monkeypatch):
    """botocore sleeps (real time) before a retry; record the delays instead."""
    delays = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    return delays


def test_10_one_throttled_call_succeeds_after_botocore_retries(sim, no_retry_sleep):
    d = Deployer.create(sim)
    retrying = Deployer(
        sim, d.env, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )
    deployment_id = d.deploy()
    before = get_deployment_calls(sim)
    sim.faults.throttle("GetDeployment", count=1)

    assert retrying.status(deployment_id) == "Created"
    assert get_deployment_calls(sim) - before == 2
    assert len(no_retry_sleep) == 1


def get_deployment_calls(sim):
    return sum(1 for _, _, operation in sim.api_calls("codedeploy") if operation == "GetDeployment")


def test_10_always_throttled_call_surfaces_throttling_exception(sim, no_retry_sleep):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.faults.throttle("GetDeployment", rate=1.0)

    once = Deployer(sim, d.env, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        once.status(deployment_id)
    assert error_code(caught.value) == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert no_retry_sleep == []

    retrying = Deployer(
        sim, d.env, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )
    before = get_deployment_calls(sim)
    with pytest.raises(ClientError) as caught:
        retrying.status(deployment_id)
    assert error_code(caught.value) == "ThrottlingException"
    assert get_deployment_calls(sim) - before == 3

    sim.faults.clear()
    assert d.done(deployment_id) == "Succeeded"


def test_10_server_errors_are_retried_and_surface_when_they_persist(sim, no_retry_sleep):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    retrying = Deployer(
        sim, d.env, config=Config(retries={"mode": "standard", "total_max_attempts": 3})
    )

    sim.faults.server_error("GetDeployment", count=1)
    assert retrying.status(deployment_id) == "Created"
    assert len(no_retry_sleep) == 1

    sim.faults.server_error("GetDeployment", rate=1.0)
    once = Deployer(sim, d.env, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        once.status(deployment_id)
    assert error_code(caught.value) == "ServiceUnavailable"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_10_query_protocol_faults_reach_elbv2_callers(sim, no_retry_sleep):
    d = Deployer.create(sim)
    sim.faults.throttle("DescribeListeners", service="elasticloadbalancing", rate=1.0)

    once = Deployer(sim, d.env, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        once.traffic()
    assert error_code(caught.value) == "Throttling"


def test_10_faults_on_the_api_do_not_change_the_deployment(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    sim.faults.throttle("GetDeployment", rate=1.0)
    sim.advance(3600)
    sim.faults.clear()

    assert d.status(deployment_id) == "Succeeded"


def test_10_a_30_minute_linear_deployment_with_hooks_runs_on_the_virtual_clock(sim):
    d = Deployer.create(
        sim,
        deployment_config="CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
        termination_wait_minutes=5,
    )
    calls = []
    sim.register_hook(HOOK, d.reporting_hook(calls=calls))
    deployment_id = d.deploy(
        hooks={str(event): HOOK for event in EVENTS if event.startswith(("Before", "After"))}
    )

    assert d.done(deployment_id) == "Succeeded"
    assert len(calls) == 5
    assert d.traffic() == {"web-green": 100, "web-blue": 0}
    info = d.info(deployment_id)
    elapsed = info["completeTime"] - info["createTime"]
    assert elapsed.total_seconds() > 32 * 60


# -- 7 autoscaling during a deployment ---------------------------------------------------


def test_7_scaling_that_settles_within_5_minutes_lets_the_deployment_continue(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")

    assert sim.scaling_activity("prod", "web", 4, settle_seconds=240)
    [service] = d.ecs.describe_services(cluster="prod", services=["web"])["services"]
    assert service["desiredCount"] == 4
    assert {ts["computedDesiredCount"] for ts in service["taskSets"]} == {4}
    assert {ts["stabilityStatus"] for ts in service["taskSets"]} == {"STABILIZING"}

    sim.advance(240)
    assert {ts["stabilityStatus"] for ts in d.task_sets()} == {"STEADY_STATE"}
    assert d.done(deployment_id) == "Succeeded"
    [green] = d.task_sets()
    assert green["runningCount"] == 4


def test_7_scaling_that_does_not_settle_within_5_minutes_fails_the_deployment(sim):
    d = Deployer.create(sim, deployment_config="CodeDeployDefault.ECSCanary10Percent15Minutes")
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    sim.advance(60)

    assert sim.scaling_activity("prod", "web", 5, settle_seconds=600)
    sim.advance(299)
    assert d.status(deployment_id) == "InProgress"
    sim.advance(1)
    assert d.status(deployment_id) == "Failed"
    assert d.info(deployment_id)["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    assert d.events(deployment_id)["AllowTraffic"] == "Failed"
    assert d.done(deployment_id) == "Failed"
    assert d.traffic() == {"web-blue": 100, "web-green": 0}


def test_7_suspended_dynamic_scale_out_blocks_scaling_but_not_scale_in(sim):
    d = Deployer.create(sim)
    d.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/web",
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState={"DynamicScalingOutSuspended": True},
    )
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "Succeeded")

    assert not sim.scaling_activity("prod", "web", 6)
    [service] = d.ecs.describe_services(cluster="prod", services=["web"])["services"]
    assert service["desiredCount"] == 2
    assert sim.scaling_activity("prod", "web", 1, settle_seconds=30)
    assert d.done(deployment_id) == "Succeeded"


def test_7_suspended_dynamic_scale_in_blocks_scaling_in(sim):
    d = Deployer.create(sim)
    d.autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/prod/web",
        ScalableDimension="ecs:service:DesiredCount",
        SuspendedState={"DynamicScalingInSuspended": True},
    )
    assert not sim.scaling_activity("prod", "web", 1)
    assert sim.scaling_activity("prod", "web", 3, settle_seconds=30)
