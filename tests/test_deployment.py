"""bluegreen.deployment: following and driving one deployment, against the simulator.

Every wait runs on the simulator's virtual clock, so sleeping advances simulated time and
runs the lifecycle; nothing here waits in real time.
"""

import datetime as dt
import itertools
import json

import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from deploying import Deployer

from bluegreen import (
    Clients,
    Deployment,
    DeploymentError,
    DeploymentSnapshot,
    DeploymentStateError,
    DeploymentStatus,
    LifecycleEvent,
    LifecycleEventProgress,
    LifecycleEventStatus,
    Milestone,
    RateBudget,
    ResourceNotFoundError,
    ServiceUnavailableError,
    TargetLabel,
    TaskSetProgress,
    ThrottledError,
    TrafficConfig,
    ValidationError,
    WaitTimeoutError,
)
from bluegreen.deployment import DEFAULT_BUDGET, poll_interval
from bluegreen.testing import VirtualClock

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def attach(sim, deployment_id):
    return Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock)


def test_wait_returns_at_each_milestone_of_a_canary_deployment_in_order(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())

    installed = deployment.wait(Milestone.INSTALLED, min_interval=5)
    assert installed.event(LifecycleEvent.INSTALL).status is LifecycleEventStatus.SUCCEEDED
    assert installed.event(LifecycleEvent.ALLOW_TRAFFIC).status is LifecycleEventStatus.PENDING

    test_traffic = deployment.wait("test_traffic", min_interval=5)
    allow_test = test_traffic.event(LifecycleEvent.ALLOW_TEST_TRAFFIC)
    assert allow_test.status is LifecycleEventStatus.SUCCEEDED

    ready = deployment.wait(Milestone.READY, min_interval=5)
    assert ready.event(LifecycleEvent.BEFORE_ALLOW_TRAFFIC).has_started

    shifted = deployment.wait(Milestone.TRAFFIC_SHIFTED, min_interval=5)
    assert shifted.event(LifecycleEvent.ALLOW_TRAFFIC).status is LifecycleEventStatus.SUCCEEDED
    assert shifted.task_set(TargetLabel.GREEN).traffic_weight == 100.0

    held = deployment.wait(Milestone.TERMINATION_WAIT, min_interval=5)
    assert held.status is DeploymentStatus.IN_PROGRESS
    assert held.in_termination_wait
    assert held.waiting_for == "the termination wait to end (blue is kept until then)"

    end = deployment.wait(min_interval=5)
    assert end.status is DeploymentStatus.SUCCEEDED
    assert end.succeeded
    assert end.waiting_for is None
    assert end.state_line == "ended: succeeded"


def test_status_before_the_start_reads_only_get_deployment(sim):
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())

    snapshot = deployment.status()

    assert snapshot.status is DeploymentStatus.CREATED
    assert snapshot.events == ()
    assert snapshot.waiting_for == "CodeDeploy to start the deployment"
    assert deployment.calls == 1


def test_status_names_what_the_deployment_waits_for_during_install(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    snapshot = attach(sim, deployment_id).status()

    assert snapshot.waiting_for == "green to reach steady state (Install)"
    assert snapshot.application == d.env.application
    assert snapshot.deployment_group == d.env.deployment_group
    assert snapshot.creator == "user"


def test_failed_after_allow_test_traffic_hook_raises_deployment_error_with_rollback_id(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    deployment = attach(sim, deployment_id)

    with pytest.raises(DeploymentError) as caught:
        deployment.wait()

    error = caught.value
    assert error.deployment_id == deployment_id
    assert error.error_code == "HOOK_EXECUTION_FAILURE"
    assert error.lifecycle_event == "AfterAllowTestTraffic"
    assert error.rollback_deployment_id == d.rollback_of(deployment_id)
    assert "reported Failed" in str(error)  # errorInformation.message and diagnostics


def test_waiting_for_an_earlier_milestone_of_a_failed_deployment_still_raises(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(deployment_id)

    with pytest.raises(DeploymentError):
        attach(sim, deployment_id).wait(Milestone.INSTALLED)


def test_wait_with_a_timeout_raises_wait_timeout_error_naming_milestone_and_wait(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())

    with pytest.raises(WaitTimeoutError) as caught:
        deployment.wait(Milestone.END, timeout=120, min_interval=15, max_interval=15)

    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.milestone == "end"
    assert error.waiting_for in str(error)
    assert "end" in str(error)
    assert not deployment.status().status.is_terminal


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


def test_promote_before_ready_is_refused_with_the_status_and_what_to_do(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    deployment = attach(sim, deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        deployment.promote()

    message = str(caught.value)
    assert "Created" in message
    assert "not Ready" in message
    assert "wait('ready')" in message
    assert caught.value.status == "Created"
    assert deployment.wait(Milestone.READY).status is DeploymentStatus.READY


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


def test_finish_before_the_termination_wait_is_refused(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.INSTALLED)

    with pytest.raises(DeploymentStateError, match="wait\\('termination_wait'\\) first"):
        deployment.finish()


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


def test_abort_of_a_finished_deployment_suggests_a_new_deployment(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).abort()

    assert "Succeeded" in str(caught.value)
    assert "call rollback()" in str(caught.value)


def without_botocore_retries(sim):
    """Clients whose botocore makes one attempt, so every throttle reaches bluegreen."""
    return Clients(session=sim.clients().session, config=Config(retries={"total_max_attempts": 1}))


def get_deployment_calls(sim):
    return sum(1 for _, _, operation in sim.api_calls("codedeploy") if operation == "GetDeployment")


def test_throttled_get_deployment_is_retried_without_the_caller_noticing(sim):
    d = Deployer.create(sim)
    deployment = Deployment.attach(
        d.deploy(), clients=without_botocore_retries(sim), clock=sim.clock
    )
    sim.faults.throttle("GetDeployment", count=2)
    before = sim.clock.time()

    snapshot = deployment.status()

    assert snapshot.deployment_id == deployment.id
    assert get_deployment_calls(sim) == 3
    # the wait let the deployment start, so the target was read too
    assert deployment.calls == (3 if snapshot.status is DeploymentStatus.CREATED else 5)
    assert sim.clock.time() > before  # the backoff slept on the injected clock


def test_throttling_that_never_ends_raises_throttled_error_not_retry_error(sim):
    d = Deployer.create(sim)
    deployment = Deployment.attach(
        d.deploy(), clients=without_botocore_retries(sim), clock=sim.clock
    )
    sim.faults.throttle("GetDeployment")

    with pytest.raises(ThrottledError) as caught:
        deployment.status()

    assert caught.value.operation == "GetDeployment"
    assert deployment.calls == deployment.retry_attempts


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


# -- milestones ----------------------------------------------------------------------------


def test_wait_for_traffic_step_returns_at_each_linear_step_in_turn(sim):
    d = Deployer.create(sim, deployment_config=LINEAR)
    deployment = attach(sim, d.deploy())

    weights = []
    while not weights or weights[-1] < 100:
        snapshot = deployment.wait(Milestone.TRAFFIC_STEP)
        weights.append(snapshot.task_set(TargetLabel.GREEN).traffic_weight)

    assert weights == [10.0 * n for n in range(1, 11)]
    assert deployment.wait().succeeded


def test_on_progress_sees_every_snapshot_read_including_the_last(sim):
    d = Deployer.create(sim)
    deployment = attach(sim, d.deploy())
    seen = []

    end = deployment.wait(on_progress=seen.append)

    assert seen[-1] is end
    assert seen[0].status is DeploymentStatus.CREATED
    # every read but the first (Created: GetDeployment only) costs two calls, plus one
    # ListDeploymentTargets to learn the target id
    assert deployment.calls == 1 + 2 * (len(seen) - 1) + 1


def test_snapshot_to_dict_is_json_with_iso_times_events_task_sets_and_schedule(sim):
    d = Deployer.create(sim, deployment_config=CANARY)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "AllowTraffic", "InProgress")

    data = attach(sim, deployment_id).status().to_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["status"] == "InProgress"
    assert data["waiting_for"].startswith("production traffic to shift to green")
    events = {e["name"]: e for e in data["events"]}
    assert events["AllowTraffic"]["status"] == "InProgress"
    start = dt.datetime.fromisoformat(events["AllowTraffic"]["start"])
    assert start.tzinfo is not None
    assert {ts["label"] for ts in data["task_sets"]} == {"Blue", "Green"}
    schedule = data["schedule"]
    assert schedule["steps"] == [
        {"minute": 0, "green_percent": 10},
        {"minute": 5, "green_percent": 100},
    ]
    assert schedule["termination_wait_minutes"] == 5
    assert [(t["what"], t["state"]) for t in schedule["transitions"]] == [
        ("green 10%", "happened"),
        ("green 100%", "expected"),
        ("termination wait ends (blue removed)", "expected"),
    ]
    due = dt.datetime.fromisoformat(schedule["next_transition"]["due"])
    assert due == start + dt.timedelta(minutes=5)
    assert data["error"] is None
    assert data["rollback_deployment_id"] is None


def test_snapshot_schedule_counts_the_ready_wait_of_a_group_that_waits_for_promotion(sim):
    d = Deployer.create(sim, ready_wait_minutes=30, termination_wait_minutes=10)
    deployment = attach(sim, d.deploy())

    ready = deployment.wait(Milestone.READY)

    assert ready.schedule.ready_wait_minutes == 30
    assert ready.schedule.termination_wait_minutes == 10
    upcoming = ready.next_transition
    assert upcoming.what == "ready wait ends"
    before = ready.event(LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC)
    assert upcoming.due == before.end + dt.timedelta(minutes=30)


def test_a_custom_deployment_config_is_read_once_per_deployment(sim):
    config = TrafficConfig.canary(20, 2, name="Canary20Percent2Minutes")
    Clients(session=sim.clients().session).codedeploy.create_deployment_config(
        deploymentConfigName=config.name,
        computePlatform="ECS",
        trafficRoutingConfig=config.to_api(),
    )
    d = Deployer.create(sim, deployment_config=config.name)
    deployment = attach(sim, d.deploy())

    end = deployment.wait()

    assert end.schedule.steps == config.steps()
    reads = [op for _, _, op in sim.api_calls("codedeploy") if op == "GetDeploymentConfig"]
    assert len(reads) == 1


# -- polling follows the schedule --------------------------------------------------------


SLOW_CANARY = "CodeDeployDefault.ECSCanary10Percent15Minutes"


def watch(sim, deployment_id, **intervals):
    """Wait for the end, noting (simulated time, snapshot) for every read."""
    deployment = attach(sim, deployment_id)
    seen = []
    deployment.wait(on_progress=lambda s: seen.append((sim.clock.time(), s)), **intervals)
    return deployment, seen


def noticed(seen, condition):
    return next(when for when, snapshot in seen if condition(snapshot))


def green_at_least(percent):
    def reached(snapshot):
        green = snapshot.task_set(TargetLabel.GREEN)
        return green is not None and green.traffic_weight >= percent

    return reached


def test_polling_a_slow_canary_costs_far_fewer_calls_than_a_fixed_interval(sim):
    d = Deployer.create(sim, deployment_config=SLOW_CANARY)
    adaptive, _ = watch(sim, d.deploy(), min_interval=5, max_interval=60)
    fixed, _ = watch(sim, d.deploy(), min_interval=5, max_interval=5)

    assert adaptive.calls * 3 < fixed.calls


def test_polling_notices_each_traffic_step_within_min_interval(sim):
    d = Deployer.create(sim, deployment_config=SLOW_CANARY)
    _, seen = watch(sim, d.deploy(), min_interval=5, max_interval=60)

    last = seen[-1][1]
    shift_start = last.event(LifecycleEvent.ALLOW_TRAFFIC).start.timestamp()
    steps = {10: shift_start, 100: shift_start + 15 * 60}  # the contract's canary timeline

    for percent, happened in steps.items():
        assert happened <= noticed(seen, green_at_least(percent)) <= happened + 5, percent
    # during the 15-minute bake the reads thin out to the ceiling
    bake = [when for when, _ in seen if shift_start < when < shift_start + 15 * 60]
    gaps = [b - a for a, b in itertools.pairwise(bake)]
    assert max(gaps) == 60
    assert len(bake) < 15 * 60 / 5 / 4


def test_polling_never_sleeps_past_an_expected_transition_even_with_a_high_ceiling(sim):
    d = Deployer.create(sim, deployment_config=SLOW_CANARY)
    _, seen = watch(sim, d.deploy(), min_interval=5, max_interval=3600)

    last = seen[-1][1]
    step = last.event(LifecycleEvent.ALLOW_TRAFFIC).start.timestamp() + 15 * 60
    shifted = noticed(seen, green_at_least(100))
    assert step <= shifted <= step + 5
    # the termination wait's end (AfterAllowTraffic end + 5 min) is not slept through either
    held_until = last.event(LifecycleEvent.AFTER_ALLOW_TRAFFIC).end.timestamp() + 5 * 60
    assert any(held_until <= when <= held_until + 5 for when, _ in seen)


def shifting_snapshot(now, step_minute):
    """Read ``now`` seconds after AllowTraffic started and green got its 10 %; with
    ``step_minute`` the rest is due that many minutes after the start (a canary)."""
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return DeploymentSnapshot(
        deployment_id="d-TABLE0001",
        status=DeploymentStatus.IN_PROGRESS,
        events=(
            LifecycleEventProgress(
                name=LifecycleEvent.ALLOW_TRAFFIC,
                status=LifecycleEventStatus.IN_PROGRESS,
                start=start,
            ),
        ),
        task_sets=(
            TaskSetProgress(
                id="green",
                label=TargetLabel.GREEN,
                status=None,
                desired_count=2,
                pending_count=0,
                running_count=2,
                traffic_weight=10.0,
            ),
        ),
        schedule=None if step_minute is None else TrafficConfig.canary(10, step_minute).schedule(),
        observed_at=start + dt.timedelta(seconds=now),
    )


@pytest.mark.parametrize(
    ("now", "step_minute", "expected"),
    [
        (0, None, 5),  # just changed: the floor
        (40, None, 10),  # quiet for 40 s: a quarter of that
        (1000, None, 60),  # a long quiet spell: the ceiling
        (0, 15, 5),
        (60, 2, 15),  # a quarter of the quiet spell, the step is further away
        (600, 15, 60),  # a long bake: the ceiling
        (880, 15, 20),  # the ceiling would sleep past the step due in 20 s
        (897, 15, 5),  # the step is due within the floor: the floor
        (905, 15, 5),  # the step is 5 s late: the floor again
        (1100, 15, 50),  # 200 s late: a quarter of that
    ],
)
def test_poll_interval_follows_changes_and_the_schedule(now, step_minute, expected):
    snapshot = shifting_snapshot(now, step_minute)

    assert poll_interval(snapshot, min_interval=5, max_interval=60) == pytest.approx(expected)


def test_wait_rejects_a_floor_above_the_ceiling(sim):
    d = Deployer.create(sim)
    with pytest.raises(ValueError, match="min_interval"):
        attach(sim, d.deploy()).wait(min_interval=60, max_interval=5)


# -- the rate budget ------------------------------------------------------------------------


def test_rate_budget_allows_a_burst_then_spaces_calls_on_the_clock():
    clock = VirtualClock(start=1_000)
    budget = RateBudget(rate=2, burst=3)

    pauses = [budget.acquire(clock) for _ in range(7)]

    assert pauses[:3] == [0, 0, 0]
    assert clock.time() - 1_000 == pytest.approx(2.0)  # four more calls at 2 per second
    assert budget.waited == pytest.approx(sum(pauses))


def test_deployments_share_the_process_budget_unless_given_their_own(sim):
    first = attach(sim, "d-AAAAAAAAA")
    second = attach(sim, "d-BBBBBBBBB")
    own = RateBudget(rate=1)
    third = Deployment.attach("d-CCCCCCCCC", clients=sim.clients(), clock=sim.clock, budget=own)

    assert first.budget is second.budget is DEFAULT_BUDGET
    assert third.budget is own


def test_three_deployments_sharing_a_budget_of_one_call_a_second_stay_within_it(sim):
    d = Deployer.create(sim, deployment_config=LINEAR)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")
    budget = RateBudget(rate=1, burst=1)
    watchers = [
        Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock, budget=budget)
        for _ in range(3)
    ]
    start = sim.clock.time()
    before = len(list(sim.api_calls("codedeploy")))

    for _ in range(10):
        for watcher in watchers:
            watcher.status()

    calls = len(list(sim.api_calls("codedeploy"))) - before
    elapsed = sim.clock.time() - start
    assert calls == sum(w.calls for w in watchers) == 3 * 10 * 2 + 3  # + one target lookup each
    assert calls <= 1 + 1 * elapsed  # burst + rate x simulated seconds
    assert elapsed == pytest.approx(calls - 1)


# -- errors carry the details ------------------------------------------------------------------


def test_deployment_error_carries_error_message_and_the_hook_diagnostics(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})

    with pytest.raises(DeploymentError) as caught:
        attach(sim, deployment_id).wait()

    error = caught.value
    info = d.info(deployment_id)
    event = d.event(deployment_id, "AfterAllowTestTraffic")
    assert error.error_message == info["errorInformation"]["message"]
    assert error.diagnostics.startswith(event["diagnostics"]["message"])
    assert error.status == "Failed"


def test_deployment_error_keeps_its_old_constructor():
    error = DeploymentError("Failed", deployment_id="d-123456789", error_code="TIMEOUT")

    assert error.error_message is None
    assert error.diagnostics is None
    assert str(error) == "deployment d-123456789: Failed [TIMEOUT]"


# -- controls in every state ------------------------------------------------------------------


def test_promote_during_install_names_what_the_deployment_waits_for(sim):
    d = Deployer.create(sim, ready_wait_minutes=30)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).promote()

    assert "InProgress" in str(caught.value)
    assert "green to reach steady state" in str(caught.value)


def test_promote_after_promotion_says_it_is_past_the_ready_wait(sim):
    d = Deployer.create(sim, ready_wait_minutes=30, deployment_config=CANARY)
    deployment = attach(sim, d.deploy())
    deployment.wait(Milestone.READY)
    deployment.promote()
    deployment.wait(Milestone.TRAFFIC_STEP)

    with pytest.raises(DeploymentStateError, match="past the ready wait"):
        deployment.promote()


def test_promote_of_a_finished_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError, match="it has ended"):
        attach(sim, deployment_id).promote()


def test_finish_of_a_finished_deployment_is_refused(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError, match="it has ended"):
        attach(sim, deployment_id).finish()


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


# -- rollback after success ----------------------------------------------------------------


def task_definition_in_service(d):
    return next(ts["taskDefinition"] for ts in d.task_sets() if ts["status"] == "PRIMARY")


def test_rollback_deploys_the_previous_successful_task_definition_with_its_hooks(sim):
    d = Deployer.create(sim)
    hook_calls = []
    sim.register_hook(HOOK, d.reporting_hook("Succeeded", hook_calls))
    good = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(good)
    good_task_definition = task_definition_in_service(d)
    bad = d.deploy()
    d.done(bad)
    assert task_definition_in_service(d) != good_task_definition
    hook_calls.clear()

    new = attach(sim, bad).rollback()

    assert new.id not in (good, bad)
    info = d.info(new.id)
    family_revision = good_task_definition.rsplit("/", 1)[-1]
    assert info["description"] == f"bluegreen rollback of {bad} to {family_revision} (from {good})"
    assert info["creator"] == "user"
    assert new.wait().succeeded
    assert task_definition_in_service(d) == good_task_definition
    assert [call["DeploymentId"] for call in hook_calls] == [new.id]  # the hook ran again


def test_rollback_takes_a_description(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)

    new = attach(sim, latest).rollback(description="incident 42")

    assert d.info(new.id)["description"] == "incident 42"


def test_rollback_skips_codedeploys_own_rollbacks_and_failed_deployments(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    good = d.deploy()
    d.done(good)
    good_task_definition = task_definition_in_service(d)
    failed = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(failed)  # failed and rolled back by a Succeeded codeDeployRollback deployment
    latest = d.deploy()
    d.done(latest)

    new = attach(sim, latest).rollback()

    assert f"(from {good})" in d.info(new.id)["description"]
    new.wait()
    assert task_definition_in_service(d) == good_task_definition


def test_rollback_without_an_earlier_success_says_to_deploy_a_task_definition(sim):
    d = Deployer.create(sim)
    first = d.deploy()
    d.done(first)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, first).rollback()

    assert "no successful deployment before it" in str(caught.value)
    assert "deploy a task definition explicitly" in str(caught.value)


def test_rollback_of_a_running_deployment_points_to_abort(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    with pytest.raises(DeploymentStateError, match=r"still running .*use abort\(\)"):
        attach(sim, deployment_id).rollback()


def test_rollback_of_a_failed_deployment_says_nothing_went_live(sim):
    d = Deployer.create(sim, auto_rollback_events=())
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(deployment_id)

    with pytest.raises(DeploymentStateError) as caught:
        attach(sim, deployment_id).rollback()

    assert "did not succeed (Failed)" in str(caught.value)
    assert "nothing from it went live" in str(caught.value)


def test_rollback_of_a_deployment_codedeploy_already_rolled_back_names_the_rollback(sim):
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": HOOK})
    d.done(deployment_id)
    rollback_id = d.rollback_of(deployment_id)

    with pytest.raises(DeploymentStateError, match=f"already rolled back by {rollback_id}"):
        attach(sim, deployment_id).rollback()
    with pytest.raises(DeploymentStateError, match="itself CodeDeploy's rollback"):
        attach(sim, rollback_id).rollback()


def test_rollback_of_a_deployment_a_later_one_replaced_is_refused(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    older = d.deploy()
    d.done(older)
    d.done(d.deploy())

    with pytest.raises(DeploymentStateError, match="a later deployment replaced it"):
        attach(sim, older).rollback()


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


def test_rollback_whose_create_answer_is_lost_finds_the_deployment_instead_of_making_two(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)
    clients = without_botocore_retries(sim)

    def lose_the_answer(**kwargs):
        raise ReadTimeoutError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com")

    clients.codedeploy.meta.events.register(
        "after-call.codedeploy.CreateDeployment", lose_the_answer
    )
    deployment = Deployment.attach(latest, clients=clients, clock=sim.clock)

    new = deployment.rollback()

    operations = [op for _, _, op in sim.api_calls("codedeploy")]
    assert operations.count("CreateDeployment") == 3  # two deploys, one rollback: no retry
    after = operations[len(operations) - operations[::-1].index("CreateDeployment") :]
    assert after == ["ListDeployments", "BatchGetDeployments"]  # the search that found it
    assert d.info(new.id)["description"].startswith(f"bluegreen rollback of {latest}")


def test_rollback_whose_create_fails_with_5xx_raises_and_creates_nothing(sim):
    d = Deployer.create(sim)
    d.done(d.deploy())
    latest = d.deploy()
    d.done(latest)
    deployment = Deployment.attach(latest, clients=without_botocore_retries(sim), clock=sim.clock)
    sim.faults.server_error("CreateDeployment", count=1)

    with pytest.raises(ServiceUnavailableError):
        deployment.rollback()

    assert d.group()["lastAttemptedDeployment"]["deploymentId"] == latest


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


def test_a_rollback_knows_the_revision_it_goes_back_to_and_the_deployment_it_leaves(sim):
    d = Deployer.create(sim)
    good = d.register_revision(image="nginx:1.28")
    good_id = d.deploy(appspec=d.appspec(good))
    d.done(good_id)
    bad_revision = d.register_revision(image="nginx:1.29")
    bad = d.deploy(appspec=d.appspec(bad_revision))
    d.done(bad)

    rollback = attach(sim, bad).rollback()

    origin = rollback.rollback_origin
    assert origin.rolled_back == bad
    assert origin.task_definition == good
    assert origin.replaced_task_definition == bad_revision
    assert origin.last_good == good_id
    assert str(origin) == (f"rolling back {bad} (web:3) to web:2, the revision {good_id} deployed")
    assert f"rolling back {bad}" in repr(rollback)
