"""The ``Deployment`` driver on ECS-native service deployments, through real boto3 clients
against the simulator: attach and current, wait to the end or to a native stage, promote a
pause hook, abort paused and unpaused (the rollback is the same deployment), finish refused,
rollback after a success (a new service deployment)."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.deployment import Deployment
from bluegreen.errors import DeploymentError, DeploymentStateError, ResourceNotFoundError
from bluegreen.snapshot import DeploymentSnapshot
from bluegreen.status import DeploymentStatus, TargetLabel

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
PAUSE_AFTER_TEST = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
}


def native_env(sim: Any, **options: Any) -> Any:
    options.setdefault("native_bake_minutes", 5)
    env = sim.create_environment(native=True, **options)
    assert env.native is not None
    return env


def start(sim: Any, env: Any, image: str = NEW_IMAGE) -> str:
    """UpdateService to a new revision of the native service; the new deployment's ARN."""
    ecs = sim.clients().ecs
    task = ecs.describe_task_definition(taskDefinition=env.native.task_definition_arn)
    definition = task["taskDefinition"]
    containers = [dict(c, image=image) for c in definition["containerDefinitions"]]
    keep = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory")
    new = ecs.register_task_definition(
        containerDefinitions=containers,
        executionRoleArn=definition.get("executionRoleArn", ""),
        **{k: definition[k] for k in keep if k in definition},
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=env.cluster, service=env.native.service, taskDefinition=new)
    listed = ecs.list_service_deployments(
        cluster=env.cluster, service=env.native.service, status=["PENDING", "IN_PROGRESS"]
    )["serviceDeployments"]
    return str(listed[0]["serviceDeploymentArn"])


def attach(sim: Any, arn: str) -> Deployment:
    return Deployment.attach(arn, clients=sim.clients(), clock=sim.clock)


def test_attach_and_wait_follow_a_native_deployment_to_success(sim):
    env = native_env(sim)
    arn = start(sim, env)
    deployment = attach(sim, arn)
    seen: list[DeploymentSnapshot] = []

    final = deployment.wait(on_progress=seen.append)

    assert final.kind == "ecs"
    assert final.status is DeploymentStatus.SUCCEEDED
    assert final.succeeded
    assert final.ending == "succeeded"
    green = final.task_set(TargetLabel.GREEN)
    assert green is not None
    assert green.traffic_weight == 100.0
    stages = [s.native.stage for s in seen if s.native is not None]
    assert "BAKE_TIME" in stages
    assert any(s.in_termination_wait for s in seen)
    assert f"{env.cluster}/{env.native.service}" in repr(deployment)
    assert "Succeeded" in repr(deployment)
    assert deployment.calls == len(seen)  # one DescribeServiceDeployments a read


def test_current_finds_the_native_deployment_in_flight_and_none_after(sim):
    env = native_env(sim)
    arn = start(sim, env)
    found = Deployment.current(
        env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock
    )
    assert found.id == arn
    assert found.status().kind == "ecs"
    sim.run_until_done(arn)
    with pytest.raises(ResourceNotFoundError) as caught:
        Deployment.current(env.cluster, env.native.service, clients=sim.clients(), clock=sim.clock)
    assert caught.value.code == "NoActiveDeployment"
    assert arn in str(caught.value)


def test_wait_until_an_ecs_stage_returns_at_that_stage(sim):
    env = native_env(sim)
    deployment = attach(sim, start(sim, env))

    snapshot = deployment.wait("ecs:BAKE_TIME")

    assert snapshot.native is not None
    assert snapshot.native.stage in ("BAKE_TIME", "CLEAN_UP")
    assert not snapshot.status.is_terminal
    assert snapshot.in_termination_wait
    assert snapshot.waiting_for == "the bake time to end (blue is kept until then)"


def test_finish_is_refused_clearly_on_a_native_deployment(sim):
    env = native_env(sim)
    deployment = attach(sim, start(sim, env))
    deployment.wait("ecs:BAKE_TIME")
    with pytest.raises(DeploymentStateError, match="ECS has no request that ends the bake time"):
        deployment.finish()


def test_promote_continues_the_pause_hook_and_the_deployment_succeeds(sim):
    env = native_env(sim, native_hooks=[PAUSE_AFTER_TEST])
    deployment = attach(sim, start(sim, env))
    with pytest.raises(DeploymentStateError, match="no pause hook awaits action"):
        deployment.promote()  # still scaling up: nothing paused yet

    ready = deployment.wait("ready")
    assert ready.status is DeploymentStatus.READY
    assert ready.waiting_for is not None
    assert ready.waiting_for.startswith("the pause hook at POST_TEST_TRAFFIC_SHIFT")

    result = deployment.promote()
    assert result.request == "ContinueServiceDeployment(CONTINUE)"
    assert result.status_before is DeploymentStatus.READY
    assert result.status_after is not DeploymentStatus.READY
    assert deployment.wait().succeeded


def test_abort_of_a_paused_deployment_rolls_it_back_with_continue_rollback(sim):
    env = native_env(sim, native_hooks=[PAUSE_AFTER_TEST])
    deployment = attach(sim, start(sim, env))
    deployment.wait("ready")

    ended = deployment.abort()

    assert ended.deployment_id == deployment.id  # the rollback is the same deployment
    assert ended.ending == "rolled_back"
    assert ended.native is not None
    assert ended.native.status == "ROLLBACK_SUCCESSFUL"
    requests = [op for *_, op in sim.api_calls("ecs")]
    assert "ContinueServiceDeployment" in requests
    assert "StopServiceDeployment" not in requests


def test_abort_while_shifting_stops_with_rollback_and_wait_raises_for_it(sim):
    env = native_env(sim)
    deployment = attach(sim, start(sim, env))
    deployment.wait("installed")

    asked = deployment.abort(wait=False)
    assert asked.request == "StopServiceDeployment(ROLLBACK)"
    with pytest.raises(DeploymentError) as caught:
        deployment.wait()
    assert caught.value.deployment_id == deployment.id
    assert deployment.status().ending == "rolled_back"
    with pytest.raises(DeploymentStateError, match="already ended"):
        deployment.abort()


def test_rollback_after_success_deploys_the_source_revision_again(sim):
    env = native_env(sim)
    ecs = sim.clients().ecs
    first = ecs.describe_services(cluster=env.cluster, services=[env.native.service])
    original = first["services"][0]["taskDefinition"]
    deployment = attach(sim, start(sim, env))
    deployment.wait()

    back = deployment.rollback()

    assert back.id != deployment.id
    assert back.is_native
    assert back.rollback_origin is not None
    assert back.rollback_origin.task_definition == original
    assert back.wait().succeeded
    now = ecs.describe_services(cluster=env.cluster, services=[env.native.service])
    assert now["services"][0]["taskDefinition"] == original
    with pytest.raises(DeploymentStateError, match="now runs"):
        deployment.rollback()  # the service no longer runs what it put live


def test_an_analysis_stops_a_bad_native_canary_and_the_wait_raises_for_it():
    from bluegreen.analysis import Analysis, Metric
    from bluegreen.testing import Simulator, Traffic

    bad = "public.ecr.aws/nginx/nginx:1.29-bad"
    sim = Simulator(traffic=Traffic(requests_per_minute=2000, seed=7), start_time=1_796_000_017.0)
    sim.start()
    try:
        env = native_env(
            sim, native_strategy="CANARY", native_percent=10, native_step_minutes=5, alarms=False
        )
        sim.traffic.behave(bad, error_rate=0.3)
        deployment = attach(sim, start(sim, env, image=bad))
        critical = Analysis(
            metrics=[
                Metric(
                    name="5xx rate",
                    metric="HTTPCode_Target_5XX_Count",
                    per="RequestCount",
                    tolerance=0.01,
                    critical=True,
                )
            ],
            window=60,
            minimum_sample=50,
        )

        with pytest.raises(DeploymentError, match="critical metric 5xx rate"):
            deployment.wait(analysis=critical)

        run = deployment.analysis
        assert run is not None
        assert run.stopped == deployment.id
        final = deployment.status()
        assert final.ending == "rolled_back"
        assert final.native is not None
        assert final.native.status == "ROLLBACK_SUCCESSFUL"
    finally:
        sim.stop()


def test_the_constructor_h4_uses_follows_a_native_id_and_names_its_service(sim):
    env = native_env(sim)
    arn = start(sim, env)
    deployment = Deployment(arn, clients=sim.clients(), clock=sim.clock)
    assert deployment.is_native
    snapshot = deployment.status()
    assert deployment._scaling_service(snapshot) == (env.cluster, env.native.service)
    assert "(not read yet)" not in repr(deployment)


def test_attach_refuses_a_malformed_id_naming_both_kinds():
    from bluegreen.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        Deployment.attach("arn:aws:ecs:us-east-1:123456789012:service/prod/web")
    assert "ECS service deployment ARN" in str(caught.value)
    assert "d-A1B2C3D4E" in str(caught.value)


def test_notifications_of_a_native_deployment_paused_then_aborted(sim):
    from bluegreen.notify import DeploymentMilestone, Notifier

    env = native_env(sim, native_hooks=[PAUSE_AFTER_TEST])
    deployment = attach(sim, start(sim, env))
    notifier = Notifier(service=f"{env.cluster}/{env.native.service}")
    deployment.wait("ready", on_progress=notifier.update)
    deployment.abort(wait=False)
    with pytest.raises(DeploymentError):
        deployment.wait(on_progress=notifier.update)

    assert [n.milestone for n in notifier.sent] == [
        DeploymentMilestone.CREATED,
        DeploymentMilestone.READY_FOR_PROMOTION,
        DeploymentMilestone.FAILED,
        DeploymentMilestone.ROLLED_BACK,
    ]
    ready, rolled = notifier.sent[1], notifier.sent[3]
    assert "pause hook at POST_TEST_TRAFFIC_SHIFT" in ready.text
    assert "ContinueDeployment" not in ready.text
    assert rolled.text.endswith("was rolled back by ECS: blue serves production traffic again")
    assert {n.deployment_id for n in notifier.sent} == {deployment.id}
