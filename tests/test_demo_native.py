"""``bluegreen demo --native``: the demo's story on the sample's ECS-native service. Its
listener proxies follow the service's listener rules and revisions (``NativeRevisions``),
and the three releases behave as on the CodeDeploy service, told in ECS's words."""

from __future__ import annotations

from typing import Any

from bluegreen.demo.listeners import Router
from bluegreen.demo.target import HOOK_FUNCTION, IMAGE_REPOSITORY, create_target
from bluegreen.testing import Simulator


def _new_version(sim: Simulator, target: Any, version: str) -> str:
    """UpdateService to a new revision of the service's family running ``version``; returns
    the service deployment's ARN."""
    ecs = sim.clients().ecs
    definition = ecs.register_task_definition(
        family=target.service,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": target.service, "image": f"{IMAGE_REPOSITORY}:{version}", "essential": True}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=target.cluster, service=target.service, taskDefinition=definition)
    briefs = ecs.list_service_deployments(cluster=target.cluster, service=target.service)
    return str(
        next(
            b["serviceDeploymentArn"]
            for b in briefs["serviceDeployments"]
            if b["status"] not in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL")
        )
    )


def test_the_native_target_is_the_native_service_with_its_rules_and_its_hook() -> None:
    with Simulator() as sim:
        env, target = create_target(sim, native=True)
        assert env.native is not None
        assert (target.service, target.deployer) == ("web-native", "ECS")
        assert target.production_arn == env.native.production_rule_arn
        assert target.test_arn == env.native.test_rule_arn
        assert target.hooks is None  # the hook is the service's, not each release's
        [hook] = env.native.deployment_configuration["lifecycleHooks"]
        assert hook["hookTargetArn"].endswith(f":function:{HOOK_FUNCTION}")
        assert hook["lifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
        assert env.native.deployment_configuration["canaryConfiguration"] == {
            "canaryPercent": 10.0,
            "canaryBakeTimeInMinutes": 5,
        }
        assert "POST_TEST_TRAFFIC_SHIFT" in target.describe()
    with Simulator() as sim:
        env, target = create_target(sim, native=False)
        assert (target.service, target.deployer, target.hooks) == (
            "web",
            "CodeDeploy",
            {"AfterAllowTestTraffic": HOOK_FUNCTION},
        )
        assert env.native is None


def test_the_demo_router_maps_each_rules_target_groups_to_the_revision_behind_them() -> None:
    with Simulator() as sim:
        env, target = create_target(sim, native=True)
        assert env.native is not None
        blue, green = env.native.target_group_arns
        sim.register_hook(HOOK_FUNCTION, lambda event, context: {"hookStatus": "SUCCEEDED"})
        router = Router(sim, target.cluster, target.service, native=True)
        assert router.targets(target.production_arn) == [(blue, "v1", 100), (green, "none", 0)]

        arn = _new_version(sim, target, "v2")
        record = sim.service_deployment(arn)
        sim.run_until(lambda: any(kind == "test" for _, kind, _ in record.weight_log))
        # The test rule sends green's revision everything first: the hook checks v2 there.
        assert router.targets(target.test_arn) == [(blue, "v1", 0), (green, "v2", 100)]
        assert router.targets(target.production_arn) == [(blue, "v1", 100), (green, "v2", 0)]
        assert sim.run_until_done(arn) == "SUCCESSFUL"
        assert router.targets(target.production_arn) == [(blue, "v1", 0), (green, "v2", 100)]

        # The next release's green goes on the target group blue left.
        arn = _new_version(sim, target, "v3")
        record = sim.service_deployment(arn)
        sim.run_until(lambda: any(kind == "test" for _, kind, _ in record.weight_log))
        assert router.targets(target.test_arn) == [(blue, "v3", 100), (green, "v2", 0)]


def test_fast_native_demo_tells_the_same_three_releases_in_ecs_words(capsys: Any) -> None:
    from bluegreen.cli import main

    code = main(["demo", "--fast", "--native"])

    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "releasing the ECS-native service web-native" in out
    assert "service-deployment/prod/web-native/" in out  # its ids are service deployments
    assert "production traffic  blue 90%  green 10%" in out
    assert "production traffic  blue 0%  green 100%" in out
    assert "== release 1 (v2) succeeded" in out
    assert "ok    release 1 (v2): autoscaling left to ECS during the deployment" in out
    v3 = out[out.index("== release 2 (v3): ") : out.index("== release 3 (v4): ")]
    assert "== release 2 (v3) failed, as it should" in v3
    assert "hookStatus FAILED at POST_TEST_TRAFFIC_SHIFT" in v3
    assert "the hook reported FAILED: http failed" in v3
    assert "ok    release 2 (v3): ECS rolled back" in out
    assert "production served no v3 response: 0 v3 responses" in out
    v4 = out[out.index("== release 3 (v4): ") :]
    assert "production traffic  blue 90%  green 10%" in v4
    assert "production traffic  blue 0%  green 100%" not in v4
    assert "== release 3 (v4) failed, as it should" in v4
    assert "analysis failed: stopping arn:aws:ecs:" in v4
    assert "stopped by       the analysis: StopServiceDeployment arn:aws:ecs:" in v4
    assert "rolled back by   ECS, in the same service deployment" in v4
    assert "ok    release 3 (v4): ECS rolled back" in out
    assert "release 3 (v4): production serves v2 again" in out
    assert "the production listener rule published its metrics to CloudWatch" in out
    assert "  FAIL  " not in out
    assert "demo OK" in out
