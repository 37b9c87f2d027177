"""ECS-native service deployments in the simulator (``_native_*``), through real boto3 clients:
the stages in AWS's order, the production and test rules' weights at each step, the service
deployment and revision operations with botocore's shapes and AWS's errors.

Hooks, pauses, stops and alarms are in ``test_sim_native_hooks.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from native_sim import FORWARD_STAGES, NativeService, conforms, lambda_hook, pause_hook, stages


def _config(strategy: str = "BLUE_GREEN", **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"strategy": strategy, "bakeTimeInMinutes": 5}
    config.update(extra)
    return config


def _when(sim: Any, arn: str, stage: str, step: int | None = None) -> None:
    """Advance until the deployment is in ``stage`` (at traffic step ``step``)."""
    record = sim.service_deployment(arn)
    sim.run_until(
        lambda: (
            (record.stage == stage and (step is None or record.step == step)) or record.is_terminal
        )
    )
    assert record.stage == stage


# -- full runs ---------------------------------------------------------------------------


def test_blue_green_shifts_test_then_all_production_traffic_and_cleans_up_blue(sim, env):
    native = NativeService(sim, env, _config())
    arn = native.deploy()

    _when(sim, arn, "POST_TEST_TRAFFIC_SHIFT")
    assert native.green_percent(native.test_rule) == 100.0
    assert native.green_percent() == 0.0
    _when(sim, arn, "BAKE_TIME")
    assert native.green_percent() == 100.0
    during = native.describe(arn)
    assert during["status"] == "IN_PROGRESS"
    assert during["lifecycleStage"] == "BAKE_TIME"
    assert during["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert during["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 0.0
    assert during["sourceServiceRevisions"][0]["runningTaskCount"] == 2
    assert [d["status"] for d in native.service()["deployments"]] == ["PRIMARY", "ACTIVE"]

    assert sim.run_until_done(arn) == "SUCCESSFUL"

    assert stages(sim, arn) == [
        *FORWARD_STAGES,
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ]
    done = native.describe(arn)
    assert done["status"] == "SUCCESSFUL"
    assert done["sourceServiceRevisions"][0]["runningTaskCount"] == 0
    assert done["targetServiceRevision"]["runningTaskCount"] == 2
    assert done["finishedAt"] >= done["startedAt"] >= done["createdAt"]
    service = native.service()
    assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
    assert service["taskDefinition"] == native.last_task_definition
    revisions = native.ecs.describe_service_revisions(
        serviceRevisionArns=[done["targetServiceRevision"]["arn"]]
    )
    conforms(revisions, "DescribeServiceRevisions")
    assert revisions["serviceRevisions"][0]["taskDefinition"] == service["taskDefinition"]


def test_the_bake_time_is_the_configured_minutes_between_the_last_shift_and_clean_up(sim, env):
    native = NativeService(sim, env, _config(bakeTimeInMinutes=7))
    arn = native.deploy()
    sim.run_until_done(arn)
    log = {stage: when for when, stage in sim.service_deployment(arn).stage_log}
    assert log["CLEAN_UP"] - log["BAKE_TIME"] == 7 * 60


def test_canary_shifts_the_canary_percent_bakes_then_shifts_the_rest(sim, env):
    native = NativeService(
        sim,
        env,
        _config(
            "CANARY",
            canaryConfiguration={"canaryPercent": 12.5, "canaryBakeTimeInMinutes": 3},
        ),
    )
    arn = native.deploy()

    _when(sim, arn, "PRODUCTION_TRAFFIC_SHIFT", step=0)
    assert native.green_percent() == 12.5
    assert native.describe(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 12.5
    _when(sim, arn, "PRODUCTION_TRAFFIC_SHIFT", step=1)
    assert native.green_percent() == 100.0
    assert sim.run_until_done(arn) == "SUCCESSFUL"

    record = sim.service_deployment(arn)
    shifts = [
        (when, percent) for when, which, percent in record.weight_log if which == "production"
    ]
    assert [p for _, p in shifts] == [12.5, 100.0]
    assert shifts[1][0] - shifts[0][0] >= 3 * 60
    assert [s for _, s in record.stage_log].count("PRE_PRODUCTION_TRAFFIC_SHIFT") == 2


def test_linear_shifts_in_equal_steps_with_a_bake_between_them_and_none_after_100(sim, env):
    native = NativeService(
        sim,
        env,
        _config("LINEAR", linearConfiguration={"stepPercent": 30.0, "stepBakeTimeInMinutes": 2}),
    )
    arn = native.deploy()

    seen = []
    for step in range(4):
        _when(sim, arn, "PRODUCTION_TRAFFIC_SHIFT", step=step)
        seen.append(native.green_percent())
    assert seen == [30.0, 60.0, 90.0, 100.0]
    assert sim.run_until_done(arn) == "SUCCESSFUL"

    record = sim.service_deployment(arn)
    times = [when for when, which, _ in record.weight_log if which == "production"]
    assert all(later - earlier >= 120 for earlier, later in itertools.pairwise(times))
    log = [s for _, s in record.stage_log]
    assert log.count("PRODUCTION_TRAFFIC_SHIFT") == 4
    assert log.index("POST_PRODUCTION_TRAFFIC_SHIFT") == len(log) - 3  # then bake, clean-up


def test_the_next_deployment_goes_from_the_alternate_target_group_back(sim, env):
    native = NativeService(sim, env, _config(bakeTimeInMinutes=0))
    sim.run_until_done(native.deploy("nginx:1.28"))
    assert native.green_percent() == 100.0

    arn = native.deploy("nginx:1.29")
    assert sim.run_until_done(arn) == "SUCCESSFUL"
    assert native.green_percent() == 0.0  # all on the first target group again


# -- DescribeServices, CreateService and UpdateService -------------------------------------


def test_describe_services_shows_the_deployment_configuration_as_given_with_defaults(sim, env):
    hooks = [lambda_hook("check", "POST_TEST_TRAFFIC_SHIFT"), pause_hook("POST_SCALE_UP")]
    native = NativeService(
        sim,
        env,
        _config(
            "LINEAR",
            linearConfiguration={"stepPercent": 20.0},
            lifecycleHooks=hooks,
            alarms={"alarmNames": ["web-5xx"], "enable": True, "rollback": True},
        ),
    )
    config = native.service()["deploymentConfiguration"]
    assert config["strategy"] == "LINEAR"
    assert config["bakeTimeInMinutes"] == 5
    assert config["linearConfiguration"] == {"stepPercent": 20.0, "stepBakeTimeInMinutes": 6}
    assert config["alarms"] == {"alarmNames": ["web-5xx"], "enable": True, "rollback": True}
    assert [h.get("targetType") for h in config["lifecycleHooks"]] == ["AWS_LAMBDA", "PAUSE"]
    assert native.service()["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]

    answer = native.ecs.update_service(
        cluster=env.cluster, service=native.name, deploymentConfiguration={"bakeTimeInMinutes": 9}
    )
    assert answer["service"]["deploymentConfiguration"]["strategy"] == "LINEAR"  # merged
    updated = native.service()["deploymentConfiguration"]
    assert (updated["strategy"], updated["bakeTimeInMinutes"]) == ("LINEAR", 9)
    assert (
        len(
            native.ecs.list_service_deployments(cluster=env.cluster, service=native.name)[
                "serviceDeployments"
            ]
        )
        == 1
    )  # a configuration change alone deploys nothing


def test_create_service_makes_a_first_successful_service_deployment(sim, env):
    native = NativeService(sim, env, _config())
    listed = native.ecs.list_service_deployments(cluster=env.cluster, service=native.name)
    conforms(listed, "ListServiceDeployments")
    (first,) = listed["serviceDeployments"]
    assert first["status"] == "SUCCESSFUL"
    assert first["serviceArn"] == native.service_arn


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bakeTimeInMinutes": None}, "bakeTimeInMinutes is required"),
        ({"strategy": "SIDEWAYS"}, "Invalid deployment strategy"),
        ({"linearConfiguration": {"stepPercent": 2.0}, "strategy": "LINEAR"}, "stepPercent"),
        ({"linearConfiguration": {"stepPercent": 10.05}, "strategy": "LINEAR"}, "multiple of 0.1"),
        ({"canaryConfiguration": {"canaryPercent": 0.0}, "strategy": "CANARY"}, "canaryPercent"),
        ({"bakeTimeInMinutes": 1441}, "between 0 and 1440"),
        ({"lifecycleHooks": [pause_hook("PRODUCTION_TRAFFIC_SHIFT")]}, "PAUSE hooks cannot"),
        ({"lifecycleHooks": [pause_hook("TEST_TRAFFIC_SHIFT")]}, "PAUSE hooks cannot"),
        ({"lifecycleHooks": [{"lifecycleStages": ["POST_SCALE_UP"]}]}, "hookTargetArn"),
        ({"lifecycleHooks": [lambda_hook("x", "SCALE_UP")]}, "Invalid lifecycle stage"),
    ],
)
def test_update_service_refuses_a_bad_native_configuration(sim, env, change, message):
    native = NativeService(sim, env, _config())
    config = {k: v for k, v in {**_config(), **change}.items() if v is not None}
    with pytest.raises(ClientError) as caught:
        native.ecs.create_service(**native.create_args(config, {}) | {"serviceName": "other"})
    # CreateService checks advancedConfiguration too; the configuration's error comes first
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert message in caught.value.response["Error"]["Message"]
    if None in change.values():
        return  # UpdateService keeps the fields it is not given
    with pytest.raises(ClientError) as updated:
        native.ecs.update_service(
            cluster=env.cluster, service=native.name, deploymentConfiguration=config
        )
    assert updated.value.response["Error"]["Code"] == "InvalidParameterException"


def test_a_listener_arn_in_place_of_the_production_rule_is_refused(sim, env):
    native = NativeService(sim, env, _config())
    advanced = {
        "alternateTargetGroupArn": native.green_tg,
        "productionListenerRule": env.production_listener_arn,
        "roleArn": "arn:aws:iam::123456789012:role/r",
    }
    with pytest.raises(ClientError) as caught:
        native.ecs.create_service(**native.create_args(_config(), advanced) | {"serviceName": "x"})
    assert caught.value.response["Error"]["Message"].startswith(
        "productionListenerRule has an invalid ARN format. Must be RuleArn for ALB"
    )


def test_a_rule_without_both_target_groups_rolls_the_deployment_back(sim, env):
    native = NativeService(sim, env, _config())
    native.elbv2.modify_rule(
        RuleArn=native.rule, Actions=[{"Type": "forward", "TargetGroupArn": native.blue_tg}]
    )
    arn = native.deploy()
    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    assert "Both targetGroup and alternateTargetGroup" in native.describe(arn)["rollback"]["reason"]


def test_a_second_update_service_stops_the_deployment_in_flight(sim, env):
    native = NativeService(sim, env, _config())
    first = native.deploy("nginx:1.28")
    _when(sim, first, "BAKE_TIME")

    second = native.deploy("nginx:1.29")

    assert second != first
    old = native.describe(first)
    assert old["status"] == "STOPPED"
    assert second.rsplit("/", 1)[-1] in old["statusReason"]
    assert "stoppedAt" in old
    assert native.green_percent() == 0.0  # back on the source revision at once
    assert sim.run_until_done(second) == "SUCCESSFUL"
    assert native.service()["taskDefinition"] == native.last_task_definition


def test_force_new_deployment_starts_a_service_deployment(sim, env):
    native = NativeService(sim, env, _config())
    native.ecs.update_service(cluster=env.cluster, service=native.name, forceNewDeployment=True)
    arn = native.latest()
    assert native.describe(arn)["status"] in ("PENDING", "IN_PROGRESS")
    assert sim.run_until_done(arn) == "SUCCESSFUL"


# -- List, Describe and their errors -----------------------------------------------------


def test_list_service_deployments_filters_by_status_and_time_and_pages(sim, env):
    native = NativeService(sim, env, _config(bakeTimeInMinutes=0))
    for image in ("nginx:1.28", "nginx:1.29", "nginx:1.30"):
        sim.run_until_done(native.deploy(image))
    running = native.deploy("nginx:1.31")
    ecs, cluster = native.ecs, env.cluster

    everything = ecs.list_service_deployments(cluster=cluster, service=native.name)
    assert len(everything["serviceDeployments"]) == 5
    assert everything["serviceDeployments"][0]["serviceDeploymentArn"] == running
    active = ecs.list_service_deployments(
        cluster=cluster, service=native.name, status=["PENDING", "IN_PROGRESS"]
    )
    assert [d["serviceDeploymentArn"] for d in active["serviceDeployments"]] == [running]
    created = sim.service_deployment(running).created_at
    recent = ecs.list_service_deployments(
        cluster=cluster, service=native.name, createdAt={"after": created}
    )
    assert [d["serviceDeploymentArn"] for d in recent["serviceDeployments"]] == [running]

    pages, token = [], None
    while True:
        page = ecs.list_service_deployments(
            cluster=cluster,
            service=native.name,
            maxResults=2,
            **({"nextToken": token} if token else {}),
        )
        conforms(page, "ListServiceDeployments")
        pages.append(len(page["serviceDeployments"]))
        token = page.get("nextToken")
        if not token:
            break
    assert pages == [2, 2, 1]


def test_list_service_deployments_errors(sim, env):
    native = NativeService(sim, env, _config())
    with pytest.raises(ClientError) as no_service:
        native.ecs.list_service_deployments(cluster=env.cluster, service="nope")
    assert no_service.value.response["Error"]["Code"] == "ServiceNotFoundException"
    with pytest.raises(ClientError) as no_cluster:
        native.ecs.list_service_deployments(cluster="nope", service=native.name)
    assert no_cluster.value.response["Error"]["Code"] == "ClusterNotFoundException"
    with pytest.raises(ClientError) as too_many:
        native.ecs.list_service_deployments(
            cluster=env.cluster, service=native.name, maxResults=101
        )
    assert too_many.value.response["Error"]["Code"] == "InvalidParameterException"


def test_describe_answers_failures_for_unknown_arns(sim, env):
    native = NativeService(sim, env, _config())
    arn = native.deploy()
    missing = arn[:-4] + "XXXX"
    answer = native.ecs.describe_service_deployments(serviceDeploymentArns=[arn, missing])
    conforms(answer, "DescribeServiceDeployments")
    assert [d["serviceDeploymentArn"] for d in answer["serviceDeployments"]] == [arn]
    assert answer["failures"] == [{"arn": missing, "reason": "MISSING"}]
    revisions = native.ecs.describe_service_revisions(serviceRevisionArns=["arn:nope"])
    conforms(revisions, "DescribeServiceRevisions")
    assert revisions["failures"] == [{"arn": "arn:nope", "reason": "MISSING"}]
    with pytest.raises(ClientError) as caught:
        native.ecs.describe_service_deployments(serviceDeploymentArns=[arn] * 21)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_every_answer_during_a_deployment_fits_botocores_model(sim, env):
    hooks = [pause_hook("POST_TEST_TRAFFIC_SHIFT")]
    native = NativeService(
        sim,
        env,
        _config(
            "CANARY",
            lifecycleHooks=hooks,
            alarms={"alarmNames": ["web-5xx"], "enable": True, "rollback": True},
        ),
    )
    arn = native.deploy()
    record = sim.service_deployment(arn)
    while not record.is_terminal:
        native.describe(arn)  # conforms() inside
        conforms(
            native.ecs.list_service_deployments(cluster=env.cluster, service=native.name),
            "ListServiceDeployments",
        )
        paused = [h for h in record.current_hooks() if h.status == "AWAITING_ACTION"]
        if paused:
            answer = native.ecs.continue_service_deployment(
                serviceDeploymentArn=arn, hookId=paused[0].hook_id
            )
            conforms(answer, "ContinueServiceDeployment")
        sim.advance(30)
    conforms(
        native.ecs.describe_service_revisions(serviceRevisionArns=[record.target]),
        "DescribeServiceRevisions",
    )


def test_injected_throttling_applies_to_the_native_operations(sim, env):
    native = NativeService(sim, env, _config())
    arn = native.deploy()
    sim.faults.throttle("DescribeServiceDeployments", service="ecs", count=1)
    client = sim.clients().session.client("ecs", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        client.describe_service_deployments(serviceDeploymentArns=[arn])
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert native.describe(arn)["serviceDeploymentArn"] == arn
