"""bluegreen.deployment: the ``Deployment`` driver (attach, current, promote, finish, abort),
against the simulator. Its parts have their own files: test_reading, test_waiting,
test_polling, test_snapshot, test_controls, test_rollback, test_create.

Every wait runs on the simulator's virtual clock, so sleeping advances simulated time and
runs the lifecycle; nothing here waits in real time.
"""

import pytest
from deploying import Deployer, attach

from bluegreen import (
    Deployment,
    DeploymentStatus,
    LifecycleEvent,
    Milestone,
    RateBudget,
    ResourceNotFoundError,
    ValidationError,
)
from bluegreen.testing import VirtualClock

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def test_promote_in_ready_shifts_traffic_and_the_deployment_succeeds(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment = attach(sim, d.deploy())

    ready = deployment.wait(Milestone.READY)
    assert ready.status is DeploymentStatus.READY
    assert ready.waiting_for == "promotion (ContinueDeployment READY_WAIT)"

    result = deployment.promote()

    assert (result.deployment_id, result.action) == (deployment.id, "promoted")
    assert result.request == "ContinueDeployment(READY_WAIT)"
    assert result.status_before is DeploymentStatus.READY
    assert result.status_after is DeploymentStatus.IN_PROGRESS
    assert repr(result) == (
        f"<Promoted {deployment.id}: ContinueDeployment(READY_WAIT), Ready -> InProgress; "
        "production traffic shifts to green (CodeDeployDefault.ECSAllAtOnce)>"
    )
    assert deployment.wait().succeeded


def test_finish_during_the_termination_wait_ends_the_deployment_early(sim):
    d = Deployer.create(sim, termination_wait_minutes=120)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.TERMINATION_WAIT)

    result = deployment.finish()

    assert (result.action, result.request) == ("finished", "ContinueDeployment(TERMINATION_WAIT)")
    assert result.status_before is DeploymentStatus.IN_PROGRESS
    assert repr(result).startswith(f"<Finished {deployment.id}: ")
    assert "blue is being removed" in repr(result)
    # Without finish() blue would be kept for 120 minutes.
    assert deployment.wait(timeout=10 * 60).succeeded


def test_abort_mid_shift_stops_and_follows_the_rollback_to_its_end(sim):
    d = Deployer.create(sim, deployment_config=LINEAR)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")
    deployment = attach(sim, deployment_id)

    rollback = deployment.abort()

    assert rollback.is_rollback
    assert rollback.rollback_of == deployment_id
    assert rollback.status is DeploymentStatus.SUCCEEDED
    assert not rollback.succeeded  # a rollback never counts as the release succeeding
    assert d.status(deployment_id) == "Stopped"
    assert rollback.deployment_id == d.rollback_of(deployment_id)
    assert d.traffic() == {"web-blue": 100, "web-green": 0} or d.traffic() == {"web-blue": 100}


def test_repr_is_a_readable_screenful(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")

    text = repr(attach(sim, deployment_id).status())

    lines = text.splitlines()
    assert lines[0].startswith(f"<DeploymentSnapshot {deployment_id} InProgress")
    assert "waiting for production traffic to shift to green (AllowTraffic" in text
    assert all(event in text for event in LifecycleEvent)
    assert "Green" in text
    assert "Blue" in text
    assert len(lines) <= 24
    assert max(len(line) for line in lines) <= 120


# -- the rate budget ------------------------------------------------------------------------


def test_rate_budget_allows_a_burst_then_spaces_calls_on_the_clock():
    clock = VirtualClock(start=1_000)
    budget = RateBudget(rate=2, burst=3)

    pauses = [budget.acquire(clock) for _ in range(7)]

    assert pauses[:3] == [0, 0, 0]
    assert clock.time() - 1_000 == pytest.approx(2.0)  # four more calls at 2 per second
    assert budget.waited == pytest.approx(sum(pauses))


# -- controls in every state ------------------------------------------------------------------


def test_abort_mid_install_stops_and_rolls_back(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")
    seen = []

    rollback = attach(sim, deployment_id).abort(on_progress=seen.append)

    assert rollback.is_rollback
    assert rollback.status is DeploymentStatus.SUCCEEDED
    assert d.status(deployment_id) == "Stopped"
    # the callback saw the stopped deployment, then its rollback
    assert {s.deployment_id for s in seen} == {deployment_id, rollback.deployment_id}


def test_abort_during_the_termination_wait_moves_traffic_back_to_blue(sim):
    d = Deployer.create(sim, termination_wait_minutes=60)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.TERMINATION_WAIT)
    assert d.traffic()["web-green"] == 100

    rollback = deployment.abort()

    assert rollback.is_rollback
    assert d.traffic()["web-blue"] == 100


def test_abort_without_wait_returns_at_once(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    result = attach(sim, deployment_id).abort(wait=False)

    assert (result.deployment_id, result.action) == (deployment_id, "stopping")
    assert result.status_before is DeploymentStatus.IN_PROGRESS
    assert "rollback" in result.next
    assert d.done(deployment_id) == "Stopped"


# -- the current deployment of a service --------------------------------------------------------


def current(sim, service, **kwargs):
    return Deployment.current("prod", service, clients=sim.clients(), clock=sim.clock, **kwargs)


def test_current_finds_each_services_own_deployment(sim):
    web = Deployer.create(sim)
    api = Deployer.create(sim, name="api")
    web_id = web.deploy()
    api_id = api.deploy()

    assert current(sim, "web").id == web_id
    assert current(sim, "api").id == api_id
    named = current(
        sim,
        "api",
        application=api.env.application,
        deployment_group=api.env.deployment_group,
    )
    assert named.id == api_id


def test_current_costs_the_service_its_group_and_one_listing(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    before = len(list(sim.api_calls()))

    found = current(sim, "web")

    operations = sorted(op for _, _, op in list(sim.api_calls())[before:])
    assert found.id == deployment_id
    # Not the listeners and target groups: following a deployment does not need them.
    assert operations == sorted(["DescribeServices", "GetDeploymentGroup", "ListDeployments"])
    assert found.calls == 1  # finding the group is not the deployment's


def test_current_knows_its_target_so_status_lists_no_targets(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")
    found = current(sim, "web")
    before = len(list(sim.api_calls()))

    snapshot = found.status()

    operations = sorted(op for _, _, op in list(sim.api_calls())[before:])
    assert snapshot.status is DeploymentStatus.IN_PROGRESS
    assert operations == ["GetDeployment", "GetDeploymentTarget"]
    assert repr(found).startswith(f"<Deployment {deployment_id} prod/web InProgress")


def test_current_follows_a_rollback_in_flight(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    sim.run_until(lambda: d.info(deployment_id).get("rollbackInfo") is not None)
    rollback_id = d.rollback_of(deployment_id)
    assert d.status(rollback_id) not in ("Succeeded", "Failed", "Stopped")

    found = current(sim, "web")

    assert found.id == rollback_id
    assert found.status().is_rollback


def test_current_without_a_deployment_in_flight_names_the_last_one(sim):
    d = Deployer.create(sim)
    with pytest.raises(ResourceNotFoundError, match="it has never deployed"):
        current(sim, "web")

    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(ResourceNotFoundError) as caught:
        current(sim, "web")
    message = str(caught.value)
    assert "prod/web" in message
    assert f"{deployment_id} (Succeeded)" in message


# -- how a Deployment reads, and what it accepts ---------------------------------------------


def test_a_deployment_reads_as_its_id_service_and_last_known_status(sim):
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())
    assert repr(deployment) == f"<Deployment {deployment.id} (not read yet)>"

    deployment.wait(Milestone.INSTALLED)
    assert repr(deployment) == f"<Deployment {deployment.id} prod/web InProgress>"

    deployment.wait()
    assert repr(deployment) == f"<Deployment {deployment.id} prod/web Succeeded>"


@pytest.mark.parametrize(
    "bad",
    [
        "d-123",
        "abc",
        "d-abcdefghi",
        "d-ABCDEFGHI ",
        " d-ABCDEFGHI",
        "d-ABCD EFGH",
        "",
        "D-ABCDEFGHI",
    ],
)
def test_a_malformed_deployment_id_is_rejected_before_any_aws_call(sim, bad):
    before = len(list(sim.api_calls()))

    with pytest.raises(ValidationError) as caught:
        Deployment.attach(bad, clients=sim.clients(), clock=sim.clock)

    message = str(caught.value)
    assert repr(bad) in message
    assert "'d-' followed by 9 upper-case letters or digits" in message
    assert len(list(sim.api_calls())) == before


def test_a_well_formed_deployment_id_is_accepted_as_it_is(sim):
    assert Deployment.attach("d-A1B2C3123", clients=sim.clients(), clock=sim.clock).id == (
        "d-A1B2C3123"
    )


def test_a_light_wait_reports_every_read_for_fewer_calls_and_ends_the_same(sim):
    d = Deployer.create(
        sim,
        deployment_config="CodeDeployDefault.ECSCanary10Percent5Minutes",
        termination_wait_minutes=5,
    )
    first = attach(sim, d.deploy())
    seen: list[DeploymentStatus] = []
    closely = first.wait(on_progress=lambda s: seen.append(s.status))
    second = attach(sim, d.deploy())
    lightly: list[DeploymentStatus] = []
    lightly_end = second.wait(on_progress=lambda s: lightly.append(s.status), light=True)

    assert closely.succeeded
    assert lightly_end.succeeded
    assert lightly_end.task_sets  # the last snapshot is whole
    assert lightly[-1] is DeploymentStatus.SUCCEEDED  # on_progress saw the end too
    assert second.calls < first.calls / 2, (first.calls, second.calls)
