"""A release's ECS-native services read back from AWS (``bluegreen.release_state`` through
``bluegreen.native_release_state``): the description tags on the service and its service
deployments, on the simulator through real boto3 clients. Deployments are started here as
``deploy`` starts them (the description tag, then UpdateService)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bluegreen._aws import Caller, recording_calls
from bluegreen.manifest import Manifest, ServiceRelease, Wave, release_marker
from bluegreen.native_description import description_for, record_description
from bluegreen.release_accounts import Accounts
from bluegreen.release_service import deployment_description, stop_service
from bluegreen.release_state import Phase, ReleaseState, find_release_deployments, read_release
from bluegreen.status import DeploymentStatus
from bluegreen.testing import Simulator

RELEASE = "native-2026-12"
NEW = "registry.example.com/web:2"


def native_env(sim: Simulator) -> Any:
    """The sample environment with its native service ``prod/web-native`` (bake 0)."""
    return sim.create_environment(native=True, termination_wait_minutes=0)


def service_release(env: Any, **changes: Any) -> ServiceRelease:
    return ServiceRelease(
        **{"cluster": env.cluster, "service": env.native.service, "image": NEW, **changes}
    )


def manifest(*services: tuple[str, ServiceRelease]) -> Manifest:
    waves: dict[str, list[ServiceRelease]] = {}
    for wave, service in services:
        waves.setdefault(wave, []).append(service)
    return Manifest(
        name="native",
        id=RELEASE,
        waves=tuple(Wave(name, tuple(members)) for name, members in waves.items()),
    )


def register(sim: Simulator, env: Any, image: str) -> str:
    """A new revision of the native service's task definition, running ``image``."""
    ecs = sim.clients().ecs
    current = ecs.describe_task_definition(taskDefinition=env.native.task_definition_arn)
    definition = current["taskDefinition"]
    containers = [dict(c, image=image) for c in definition["containerDefinitions"]]
    keep = ("cpu", "memory", "networkMode", "requiresCompatibilities")
    return str(
        ecs.register_task_definition(
            family=definition["family"],
            containerDefinitions=containers,
            **{k: definition[k] for k in keep if k in definition},
        )["taskDefinition"]["taskDefinitionArn"]
    )


def native_deploy(sim: Simulator, env: Any, task_definition: str, description: str | None) -> str:
    """What ``deploy`` does on a native service: the description tag, then UpdateService;
    the new service deployment's ARN."""
    ecs = sim.clients().ecs
    name = env.native.service
    if description is not None:
        record_description(
            Caller(clock=sim.clock),
            sim.clients(),
            cluster=env.cluster,
            service=name,
            service_arn=env.native.service_arn,
            task_definition_arn=task_definition,
            description=description,
        )
    before = {d["serviceDeploymentArn"] for d in _listed(sim, env)}
    ecs.update_service(cluster=env.cluster, service=name, taskDefinition=task_definition)
    [new] = [d for d in _listed(sim, env) if d["serviceDeploymentArn"] not in before]
    return str(new["serviceDeploymentArn"])


def _listed(sim: Simulator, env: Any) -> list[dict[str, Any]]:
    return list(
        sim.clients()
        .ecs.list_service_deployments(cluster=env.cluster, service=env.native.service)
        .get("serviceDeployments", [])
    )


def marked(env: Any, wave: str = "canary", *, rollback: bool = False, was: str = "") -> str:
    if rollback:
        return f"{release_marker(RELEASE, wave, rollback=True)}: rollback"
    return deployment_description(RELEASE, wave, service_release(env), was or None)


def read(sim: Simulator, release: Manifest) -> ReleaseState:
    accounts = Accounts(clients=sim.clients(), clock=sim.clock, rate=1000.0, burst=1000.0)
    return read_release(release, accounts)


def find(sim: Simulator, env: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    return find_release_deployments(
        service_release(env), RELEASE, clients=sim.clients(), call=Caller(clock=sim.clock)
    )


@pytest.fixture
def operations() -> Iterator[list[str]]:
    """The AWS operations every ``Caller`` makes while the test runs, in order."""
    made: list[str] = []
    with recording_calls(lambda operation, function, kwargs: made.append(operation)):
        yield made


def test_a_native_deployment_is_found_by_its_tag_in_flight_then_succeeded(sim):
    env = native_env(sim)
    other = native_deploy(sim, env, register(sim, env, "web:by-hand"), "by hand")
    sim.run_until_done(other)
    arn = native_deploy(sim, env, register(sim, env, NEW), marked(env))
    release = manifest(("canary", service_release(env)))

    running = read(sim, release).service(f"{env.cluster}/{env.native.service}")
    assert (running.phase, running.deployment_id) == (Phase.IN_FLIGHT, arn)
    assert running.status in (DeploymentStatus.CREATED, DeploymentStatus.IN_PROGRESS)
    assert running.completed is None

    assert sim.run_until_done(arn) == "SUCCESSFUL"
    done = read(sim, release)
    [progress] = done.services
    assert (progress.phase, progress.status) == (Phase.SUCCEEDED, DeploymentStatus.SUCCEEDED)
    assert progress.created is not None
    assert progress.completed is not None
    assert progress.created <= progress.completed
    assert done.done
    shown = done.to_dict()["services"][0]
    assert shown["deployment_id"] == arn
    assert shown["status"] == "Succeeded"


def test_a_native_service_without_the_releases_tag_costs_one_describe_services(sim, operations):
    env = native_env(sim)
    sim.run_until_done(native_deploy(sim, env, register(sim, env, "web:3"), "by hand"))
    operations.clear()

    state = read(sim, manifest(("canary", service_release(env))))

    assert [p.phase for p in state.services] == [Phase.PENDING]
    assert operations == ["DescribeServices"]


def test_a_codedeploy_and_a_native_service_read_in_one_release(sim):
    env = native_env(sim)
    arn = native_deploy(sim, env, register(sim, env, NEW), marked(env, "first"))
    codedeploy = ServiceRelease(cluster=env.cluster, service=env.service, image=NEW)
    state = read(sim, manifest(("first", service_release(env)), ("second", codedeploy)))
    native, classic = state.services
    assert (native.phase, native.deployment_id) == (Phase.IN_FLIGHT, arn)
    assert (classic.phase, classic.problem) == (Phase.PENDING, None)
    assert state.next_wave == "first"


def test_a_rollback_to_a_revision_deployed_before_maps_to_the_new_deployment_only(sim):
    env = native_env(sim)
    first = env.native.task_definition_arn
    deployed = native_deploy(sim, env, register(sim, env, NEW), marked(env, was=first))
    sim.run_until_done(deployed)

    # Before the release's rollback starts, the tag of the revision that ran first does not
    # make the service's first deployment (of that same revision) the rollback.
    record_description(
        Caller(clock=sim.clock),
        sim.clients(),
        cluster=env.cluster,
        service=env.native.service,
        service_arn=env.native.service_arn,
        task_definition_arn=first,
        description=marked(env, rollback=True),
    )
    deployment, rollback = find(sim, env)
    assert deployment is not None
    assert deployment["deploymentId"] == deployed
    assert rollback is None

    rolled = native_deploy(sim, env, first, marked(env, rollback=True))
    deployment, rollback = find(sim, env)
    assert rollback is not None
    assert rollback["deploymentId"] == rolled
    sim.run_until_done(rolled)
    state = read(sim, manifest(("canary", service_release(env))))
    [progress] = state.services
    assert (progress.phase, progress.rollback_id) == (Phase.ROLLED_BACK, rolled)
    assert progress.rollback_status is DeploymentStatus.SUCCEEDED


def test_stopping_a_native_deployment_rolls_it_back_and_reads_failed(sim):
    env = native_env(sim)
    arn = native_deploy(sim, env, register(sim, env, NEW), marked(env))
    accounts = Accounts(clients=sim.clients(), clock=sim.clock)
    account = accounts.for_service(service_release(env))

    assert stop_service(arn, account, clock=sim.clock) is True
    assert sim.run_until_done(arn) == "ROLLBACK_SUCCESSFUL"
    assert stop_service(arn, account, clock=sim.clock) is False  # ended: nothing to stop

    [progress] = read(sim, manifest(("canary", service_release(env)))).services
    assert (progress.phase, progress.status) == (Phase.FAILED, DeploymentStatus.FAILED)
    assert (progress.error or "").startswith("ROLLBACK_SUCCESSFUL")
    assert progress.completed is not None


def test_the_tag_a_deploy_wrote_reads_back_as_the_description(sim):
    env = native_env(sim)
    task_definition = register(sim, env, NEW)
    text = marked(env, was=env.native.task_definition_arn)
    native_deploy(sim, env, task_definition, text)
    service = sim.clients().ecs.describe_services(
        cluster=env.cluster, services=[env.native.service], include=["TAGS"]
    )["services"][0]
    assert description_for(service["tags"], task_definition) == text


def test_a_tag_written_without_its_update_service_never_names_an_older_deployment(sim):
    env = native_env(sim)
    sim.advance(120)
    # The process died between the tag and UpdateService, the tag naming the revision the
    # service's first deployment deployed: that earlier deployment is not the release's.
    record_description(
        Caller(clock=sim.clock),
        sim.clients(),
        cluster=env.cluster,
        service=env.native.service,
        service_arn=env.native.service_arn,
        task_definition_arn=env.native.task_definition_arn,
        description=marked(env),
    )
    assert find(sim, env) == (None, None)
    [progress] = read(sim, manifest(("canary", service_release(env)))).services
    assert progress.phase is Phase.PENDING
