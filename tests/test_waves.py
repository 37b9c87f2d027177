"""bluegreen.release: many services in waves, on the simulator's virtual clock shared by the
release's threads (``VirtualClock.worker``), through real boto3 clients."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from deploying import reporting_hook

import bluegreen
from bluegreen.errors import ConflictError, ServiceConfigError
from bluegreen.manifest import FailurePolicy, Manifest, ServiceRelease, Wave, parse_marker
from bluegreen.release_accounts import Accounts
from bluegreen.release_events import EventKind, ReleaseEvent
from bluegreen.release_result import ReleaseError
from bluegreen.release_service import start_service
from bluegreen.release_state import Phase
from bluegreen.testing import Simulator, build_environment

OLD = "registry.example.com/app:1"
NEW = "registry.example.com/app:2"
FAILING_HOOK = "CodeDeployHook_refuse"


@pytest.fixture
def fleet(sim: Simulator) -> list[str]:
    """Five sample services svc0..svc4 in cluster prod (all at once, 1-minute termination
    wait, autoscaling)."""
    clients = sim.clients()
    names = [f"svc{i}" for i in range(5)]
    for name in names:
        build_environment(
            clients=clients, name=name, cluster="prod", termination_wait_minutes=1, image=OLD
        )
    codedeploy = clients.session.client("codedeploy")

    sim.register_hook(FAILING_HOOK, reporting_hook(codedeploy, "Failed"))
    return names


def _service(name: str, **changes: Any) -> ServiceRelease:
    return ServiceRelease(**{"cluster": "prod", "service": name, "image": NEW, **changes})


def _manifest(*waves: Wave, on_failure: FailurePolicy = FailurePolicy.STOP) -> Manifest:
    return Manifest(name="rollout", waves=waves, on_failure=on_failure)


def _deployments(sim: Simulator, name: str) -> list[dict[str, Any]]:
    """Every deployment of the service's group, oldest first."""
    codedeploy = sim.clients().codedeploy
    ids = codedeploy.list_deployments(
        applicationName=f"AppECS-prod-{name}", deploymentGroupName=f"DgpECS-prod-{name}"
    )["deployments"]
    if not ids:
        return []
    infos = codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"]
    return sorted(infos, key=lambda info: info["createTime"])


def _released(sim: Simulator, name: str) -> list[dict[str, Any]]:
    """The deployments of the service's group that a release created (not CodeDeploy's
    rollbacks)."""
    return [d for d in _deployments(sim, name) if parse_marker(d.get("description"))]


def _suspended(sim: Simulator, name: str) -> dict[str, bool]:
    target = sim.clients().autoscaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/prod/{name}"]
    )["ScalableTargets"][0]
    return dict(target["SuspendedState"])


NOT_SUSPENDED = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}


def test_waves_run_in_order_with_their_concurrency_and_bake(
    sim: Simulator, fleet: list[str]
) -> None:
    manifest = _manifest(
        Wave("canary", (_service("svc0"),), bake=600),
        Wave("rest", tuple(_service(n) for n in fleet[1:4]), concurrency=2),
    )
    events: list[ReleaseEvent] = []
    result = bluegreen.release(
        manifest, clients=sim.clients(), clock=sim.clock, on_event=events.append
    )

    assert result.ok, str(result)
    assert [r.phase for r in result.services] == [Phase.SUCCEEDED] * 4
    for name in fleet[:4]:
        [deployment] = _deployments(sim, name)
        marker = parse_marker(deployment["description"])
        assert marker is not None
        assert (marker.release, marker.rollback) == (manifest.id, False)
        assert deployment["status"] == "Succeeded"
        assert _suspended(sim, name) == NOT_SUSPENDED
    assert _deployments(sim, "svc4") == []  # not in the release

    canary = _deployments(sim, "svc0")[0]
    rest = [_deployments(sim, n)[0] for n in fleet[1:4]]
    # The second wave starts after the canary ended and its 10-minute bake.
    assert min(d["createTime"] for d in rest) >= canary["completeTime"] + dt.timedelta(minutes=10)
    # At most two of the second wave at once: the third starts after one of the first two ends.
    first_two, third = (
        sorted(rest, key=lambda d: d["createTime"])[:2],
        sorted(rest, key=lambda d: d["createTime"])[2],
    )
    assert third["createTime"] >= min(d["completeTime"] for d in first_two)
    # Concurrency for real: the first two overlap.
    assert first_two[1]["createTime"] < first_two[0]["completeTime"]

    kinds = [e.kind for e in events]
    assert kinds[0] is EventKind.STARTED
    assert kinds[-1] is EventKind.ENDED
    assert EventKind.BAKING in kinds
    assert kinds.index(EventKind.PLANNED) < kinds.index(EventKind.WAVE_STARTED)
    lines = [e.to_dict() for e in events]
    assert {line["service"] for line in lines if line["event"] == "service"} == {
        "prod/svc0",
        "prod/svc1",
        "prod/svc2",
        "prod/svc3",
    }


def test_every_problem_of_every_service_before_any_change(sim: Simulator, fleet: list[str]) -> None:
    manifest = _manifest(
        Wave("one", (_service("svc0"), _service("nosuch"))),
        Wave("two", (_service("svc1", image="registry.example.com/app:latest"),)),
    )
    with pytest.raises(ServiceConfigError) as raised:
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)

    problems = raised.value.problems
    assert any(p.startswith("wave one, prod/nosuch:") for p in problems), problems
    assert any(p.startswith("wave two, prod/svc1:") and "latest" in p for p in problems), problems
    assert not any("prod/svc0" in p for p in problems)
    for name in fleet:
        assert _deployments(sim, name) == []
        assert _suspended(sim, name) == NOT_SUSPENDED


def test_one_failure_stops_the_deployments_in_flight_and_the_waves_after(
    sim: Simulator, fleet: list[str]
) -> None:
    failing = _service("svc1", hooks={"AfterAllowTestTraffic": FAILING_HOOK})
    manifest = _manifest(
        Wave("first", (_service("svc0"), failing, _service("svc2"))),
        Wave("second", (_service("svc3"),)),
    )
    with pytest.raises(ReleaseError) as raised:
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)

    result = raised.value.result
    runs = {r.name: r for r in result.services}
    assert runs["prod/svc1"].phase is Phase.FAILED
    assert not runs["prod/svc1"].stopped
    assert "prod/svc1 failed" in (result.reason or "")
    for name in ("prod/svc0", "prod/svc2"):
        assert runs[name].phase is Phase.FAILED, runs[name]
        assert runs[name].stopped
        [deployment] = _released(sim, name.split("/")[1])
        assert deployment["status"] == "Stopped"
    assert runs["prod/svc3"].phase is Phase.PENDING
    assert _deployments(sim, "svc3") == []
    for name in fleet[:4]:
        assert _suspended(sim, name) == NOT_SUSPENDED
    assert "prod/svc1" in str(raised.value)


def test_on_failure_rollback_rolls_back_what_the_release_released(
    sim: Simulator, fleet: list[str]
) -> None:
    failing = _service("svc1", hooks={"AfterAllowTestTraffic": FAILING_HOOK})
    manifest = _manifest(
        Wave("first", (_service("svc0"),)),
        Wave("second", (failing,)),
        on_failure=FailurePolicy.ROLLBACK,
    )
    with pytest.raises(ReleaseError) as raised:
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)

    runs = {r.name: r for r in raised.value.result.services}
    assert runs["prod/svc0"].phase is Phase.ROLLED_BACK
    deployments = _deployments(sim, "svc0")
    assert [d["status"] for d in deployments] == ["Succeeded", "Succeeded"]
    marker = parse_marker(deployments[1]["description"])
    assert marker is not None
    assert marker.rollback
    assert marker.release == manifest.id
    assert runs["prod/svc0"].rollback_id == deployments[1]["deploymentId"]
    service = sim.clients().ecs.describe_services(cluster="prod", services=["svc0"])["services"][0]
    task_definition = sim.clients().ecs.describe_task_definition(
        taskDefinition=service["taskSets"][0]["taskDefinition"]
        if service.get("taskSets")
        else service["taskDefinition"]
    )["taskDefinition"]
    assert task_definition["containerDefinitions"][0]["image"] == OLD


def test_a_release_started_already_is_refused_then_resumed_without_a_second_deployment(
    sim: Simulator, fleet: list[str]
) -> None:
    manifest = _manifest(Wave("first", (_service("svc0"), _service("svc1"))))
    # A process created svc0's deployment, then died before following it.
    accounts = Accounts(clients=sim.clients(), clock=sim.clock)
    created = start_service(
        manifest.id,
        "first",
        manifest.services[0],
        accounts.for_service(manifest.services[0]),
        clock=sim.clock,
    )

    with pytest.raises(ConflictError, match="release resume"):
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)
    result = bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock, resume=True)

    assert result.ok, str(result)
    runs = {r.name: r for r in result.services}
    assert runs["prod/svc0"].resumed
    assert runs["prod/svc0"].deployment_id == created.id
    assert [d["deploymentId"] for d in _deployments(sim, "svc0")] == [created.id]
    assert len(_deployments(sim, "svc1")) == 1
    for name in ("svc0", "svc1"):
        assert _suspended(sim, name) == NOT_SUSPENDED
    # Running a release that succeeded again deploys nothing more, and is not refused.
    again = bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)
    assert again.ok
    assert len(_deployments(sim, "svc0")) == 1
    assert len(_deployments(sim, "svc1")) == 1


def test_the_callers_stop_stops_every_deployment_in_flight(
    sim: Simulator, fleet: list[str]
) -> None:
    manifest = _manifest(
        Wave("first", (_service("svc0"), _service("svc1"))), Wave("second", (_service("svc2"),))
    )
    stop = threading.Event()

    def on_event(event: ReleaseEvent) -> None:
        if event.kind is EventKind.SERVICE and event.data.get("status") == "InProgress":
            stop.set()  # as a signal handler or another thread would

    with pytest.raises(ReleaseError) as raised:
        bluegreen.release(
            manifest, clients=sim.clients(), clock=sim.clock, on_event=on_event, stop=stop
        )

    result = raised.value.result
    assert result.reason == "asked to stop"
    runs = {r.name: r for r in result.services}
    for name in ("svc0", "svc1"):
        assert runs[f"prod/{name}"].stopped
        [deployment] = _released(sim, name)
        assert deployment["status"] == "Stopped"
        assert _suspended(sim, name) == NOT_SUSPENDED
    assert runs["prod/svc2"].phase is Phase.PENDING
    assert _deployments(sim, "svc2") == []


def test_a_resumed_release_that_had_failed_stops_what_still_runs(
    sim: Simulator, fleet: list[str]
) -> None:
    failing = _service("svc1", hooks={"AfterAllowTestTraffic": FAILING_HOOK})
    manifest = _manifest(Wave("first", (_service("svc0"), failing)))
    accounts = Accounts(clients=sim.clients(), clock=sim.clock)
    # A process started both, then died; svc1's deployment failed meanwhile.
    running = start_service(
        manifest.id,
        "first",
        manifest.services[0],
        accounts.for_service(manifest.services[0]),
        clock=sim.clock,
    )
    broken = start_service(
        manifest.id, "first", failing, accounts.for_service(failing), clock=sim.clock
    )
    sim.clock.run_until(lambda: broken.status().status.is_terminal)

    with pytest.raises(ReleaseError) as raised:
        bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock, resume=True)

    result = raised.value.result
    assert "prod/svc1 failed before the release was resumed" in (result.reason or "")
    runs = {r.name: r for r in result.services}
    assert runs["prod/svc0"].stopped
    assert [d["deploymentId"] for d in _released(sim, "svc0")] == [running.id]
    assert _released(sim, "svc0")[0]["status"] == "Stopped"
    for name in ("svc0", "svc1"):
        assert _suspended(sim, name) == NOT_SUSPENDED


def test_a_deployment_created_before_its_start_failed_is_stopped_and_scaling_restored(
    sim: Simulator, fleet: list[str]
) -> None:
    from deploying import botocore_handlers

    from bluegreen.scaling_targets import RETRY_ATTEMPTS

    manifest = _manifest(Wave("only", (_service("svc0"),)))
    handlers = botocore_handlers(sim)
    register = next(handlers)

    def after_create(**_: Any) -> None:
        # Writing the deployment id into the scaling record fails, after CreateDeployment.
        sim.faults.server_error("TagResource", service="ecs", count=RETRY_ATTEMPTS)

    register("after-call.codedeploy.CreateDeployment", after_create)
    try:
        with pytest.raises(ReleaseError) as raised:
            bluegreen.release(manifest, clients=sim.clients(), clock=sim.clock)
    finally:
        handlers.close()

    result = raised.value.result
    assert "prod/svc0 could not start" in (result.reason or "")
    [deployment] = _released(sim, "svc0")
    assert deployment["status"] == "Stopped"
    assert result.services[0].deployment_id == deployment["deploymentId"]
    assert _suspended(sim, "svc0") == NOT_SUSPENDED
