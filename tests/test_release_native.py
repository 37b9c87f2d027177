"""Releases whose services are ECS-native as well as CodeDeploy ones (the manifest never says
which): waves, status read back from AWS, resume, stop and rollback, and the command line,
on the simulator's virtual clock through real boto3 clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deploying import reporting_hook

import bluegreen
import bluegreen.cli._clock
from bluegreen.cli import main
from bluegreen.errors import ConflictError
from bluegreen.manifest import FailurePolicy, Manifest, ServiceRelease, Wave, parse_marker
from bluegreen.native_description import description_for
from bluegreen.release_accounts import Accounts
from bluegreen.release_result import ReleaseError
from bluegreen.release_service import previous_task_definition, start_service
from bluegreen.release_state import Phase, read_release
from bluegreen.status import DeploymentStatus
from bluegreen.testing import Simulator

NEW = "registry.example.com/web:2"
REFUSING = "arn:aws:lambda:us-east-1:123456789012:function:native-refuse"
CODEDEPLOY_REFUSING = "CodeDeployHook_refuse"


def environment(sim: Simulator, **options: Any) -> Any:
    """The sample environment: CodeDeploy service ``prod/web`` and ECS-native
    ``prod/web-native``, each deployment ending without a wait after success."""
    return sim.create_environment(native=True, termination_wait_minutes=0, **options)


def native(env: Any, **changes: Any) -> ServiceRelease:
    return ServiceRelease(
        **{"cluster": env.cluster, "service": env.native.service, "image": NEW, **changes}
    )


def codedeploy(env: Any, **changes: Any) -> ServiceRelease:
    return ServiceRelease(
        **{"cluster": env.cluster, "service": env.service, "image": NEW, **changes}
    )


def release_of(*waves: Wave, on_failure: FailurePolicy = FailurePolicy.STOP) -> Manifest:
    return Manifest(name="mixed", waves=waves, on_failure=on_failure)


def service_deployments(sim: Simulator, env: Any) -> list[dict[str, Any]]:
    """The native service's deployments, oldest first (the first is its creation's)."""
    listed = sim.clients().ecs.list_service_deployments(
        cluster=env.cluster, service=env.native.service, maxResults=100
    )["serviceDeployments"]
    return sorted(listed, key=lambda d: d["createdAt"])


def native_service(sim: Simulator, env: Any) -> dict[str, Any]:
    return dict(
        sim.clients().ecs.describe_services(
            cluster=env.cluster, services=[env.native.service], include=["TAGS"]
        )["services"][0]
    )


def read(sim: Simulator, manifest: Manifest) -> Any:
    accounts = Accounts(clients=sim.clients(), clock=sim.clock, rate=1000.0, burst=1000.0)
    return read_release(manifest, accounts)


def refusing_native_hook(sim: Simulator) -> dict[str, Any]:
    """A native Lambda hook after test traffic that fails every deployment."""
    sim.register_hook(REFUSING, lambda event, context: {"hookStatus": "FAILED"})
    return {
        "hookTargetArn": REFUSING,
        "roleArn": "arn:aws:iam::123456789012:role/ecsLambdaInvokeRole",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    }


def test_a_codedeploy_then_a_native_service_release_in_waves_and_read_back(sim):
    env = environment(sim)
    manifest = release_of(Wave("first", (codedeploy(env),)), Wave("second", (native(env),)))
    original = native_service(sim, env)["taskDefinition"]

    result = bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)

    assert result.ok, str(result)
    runs = {r.name: r for r in result.services}
    native_run = runs[f"{env.cluster}/{env.native.service}"]
    assert native_run.phase is Phase.SUCCEEDED
    [_, deployed] = service_deployments(sim, env)
    assert native_run.deployment_id == deployed["serviceDeploymentArn"]
    assert deployed["status"] == "SUCCESSFUL"
    # The description is a tag on the service, keyed by the revision deployed.
    service = native_service(sim, env)
    description = description_for(service["tags"], service["taskDefinition"])
    marker = parse_marker(description)
    assert marker is not None
    assert (marker.release, marker.wave, marker.rollback) == (manifest.id, "second", False)
    assert previous_task_definition(description) == original

    state = read(sim, manifest)
    assert state.done
    classic, ecs = state.services
    assert classic.deployment_id == runs[f"{env.cluster}/{env.service}"].deployment_id
    assert (ecs.phase, ecs.deployment_id) == (Phase.SUCCEEDED, deployed["serviceDeploymentArn"])
    assert ecs.status is DeploymentStatus.SUCCEEDED

    # Done: running it again deploys nothing.
    again = bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)
    assert again.ok
    assert len(service_deployments(sim, env)) == 2


def test_resume_reattaches_to_the_native_deployment_and_never_deploys_it_twice(sim):
    env = environment(sim)
    manifest = release_of(Wave("only", (native(env), codedeploy(env))))
    # A process created the native deployment, then died before following it.
    accounts = Accounts(clients=sim.clients(), clock=sim.clock)
    service = manifest.services[0]
    created = start_service(
        manifest.id, "only", service, accounts.for_service(service), clock=sim.clock
    )

    state = read(sim, manifest)
    assert state.service(service.name).phase is Phase.IN_FLIGHT
    with pytest.raises(ConflictError, match="release resume"):
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)
    result = bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock, resume=True)

    assert result.ok, str(result)
    run = next(r for r in result.services if r.name == service.name)
    assert run.resumed
    assert run.deployment_id == created.id
    [_, only] = service_deployments(sim, env)
    assert only["serviceDeploymentArn"] == created.id


def test_a_failing_native_service_stops_the_others_and_the_waves_after(sim):
    env = sim.create_environment(
        native=True, termination_wait_minutes=5, native_hooks=[refusing_native_hook(sim)]
    )
    later = ServiceRelease(cluster=env.cluster, service=env.service, image=NEW + "-later")
    manifest = release_of(Wave("first", (native(env), codedeploy(env))), Wave("second", (later,)))

    with pytest.raises(ReleaseError) as raised:
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)

    runs = {r.name: r for r in raised.value.result.services}
    failed = runs[f"{env.cluster}/{env.native.service}"]
    assert failed.phase is Phase.FAILED
    stopped = runs[f"{env.cluster}/{env.service}"]
    assert stopped.phase is Phase.FAILED
    assert stopped.stopped
    [_, deployed] = service_deployments(sim, env)
    assert deployed["status"] == "ROLLBACK_SUCCESSFUL"
    assert native_service(sim, env)["taskDefinition"] == env.native.task_definition_arn

    state = read(sim, manifest)
    assert state.service(failed.name).phase is Phase.FAILED
    assert state.service(failed.name).status is DeploymentStatus.FAILED
    assert state.failed


def test_on_failure_rollback_redeploys_what_a_released_native_service_ran_before(sim):
    env = environment(sim)
    sim.register_hook(
        CODEDEPLOY_REFUSING, reporting_hook(sim.clients().session.client("codedeploy"), "Failed")
    )
    original = env.native.task_definition_arn
    failing = codedeploy(env, hooks={"AfterAllowTestTraffic": CODEDEPLOY_REFUSING})
    manifest = release_of(
        Wave("first", (native(env),)),
        Wave("second", (failing,)),
        on_failure=FailurePolicy.ROLLBACK,
    )

    with pytest.raises(ReleaseError) as raised:
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)

    runs = {r.name: r for r in raised.value.result.services}
    rolled = runs[f"{env.cluster}/{env.native.service}"]
    assert rolled.phase is Phase.ROLLED_BACK, rolled.error
    [_, deployed, rollback] = service_deployments(sim, env)
    assert rolled.deployment_id == deployed["serviceDeploymentArn"]
    assert rolled.rollback_id == rollback["serviceDeploymentArn"]
    assert rollback["status"] == "SUCCESSFUL"
    service = native_service(sim, env)
    assert service["taskDefinition"] == original
    marker = parse_marker(description_for(service["tags"], original))
    assert marker is not None
    assert (marker.release, marker.wave, marker.rollback) == (manifest.id, "first", True)

    state = read(sim, manifest)
    progress = state.service(rolled.name)
    assert (progress.phase, progress.rollback_id) == (Phase.ROLLED_BACK, rolled.rollback_id)
    assert progress.rollback_status is DeploymentStatus.SUCCEEDED


def test_release_status_output_json_shows_the_native_service(
    sim, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: sim.clock)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "BLUEGREEN_NOTIFY"):
        monkeypatch.delenv(name, raising=False)
    env = environment(sim)
    path = tmp_path / "release.yaml"
    path.write_text(
        f"""
release: mixed
waves:
  - name: first
    services:
      - {{cluster: {env.cluster}, service: {env.service}, image: "{NEW}"}}
      - {{cluster: {env.cluster}, service: {env.native.service}, image: "{NEW}"}}
"""
    )
    assert main(["release", str(path), "--output", "json"]) == 0, capsys.readouterr().err
    capsys.readouterr()

    assert main(["release", "status", str(path), "--output", "json"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["done"] is True
    shown = {s["service_name"]: s for s in state["services"]}
    [_, deployed] = service_deployments(sim, env)
    assert shown[env.native.service]["deployment_id"] == deployed["serviceDeploymentArn"]
    assert shown[env.native.service]["phase"] == "succeeded"
    assert shown[env.native.service]["status"] == "Succeeded"
    assert shown[env.service]["deployment_id"].startswith("d-")
