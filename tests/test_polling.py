"""bluegreen.polling: the polling schedule (``poll_interval``) and the poll loop, on the
simulator's virtual clock.
"""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest
from deploying import (
    Deployer,
    attach,
)

from bluegreen import (
    DeploymentError,
    DeploymentSnapshot,
    DeploymentStatus,
    LifecycleEvent,
    LifecycleEventProgress,
    LifecycleEventStatus,
    TargetLabel,
    TaskSetProgress,
    TrafficConfig,
)
from bluegreen.polling import (
    AFTER_END,
    BEFORE_END_CEILING,
    CLEANUP_SECONDS,
    earliest_end,
    expected_end,
    poll_interval,
)
from bluegreen.testing import SimSettings, Simulator
from bluegreen.traffic import PREDEFINED_CONFIGS

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"
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


def test_a_change_a_whole_second_date_puts_just_past_the_reading_counts_as_just_now():
    # The shift started 0.8 s before the answer, whose Date header says a second earlier;
    # the change before it was five minutes ago.
    snapshot = shifting_snapshot(0, None)
    observed = snapshot.observed_at
    assert observed is not None
    earlier = LifecycleEventProgress(
        name=LifecycleEvent.BEFORE_ALLOW_TRAFFIC,
        status=LifecycleEventStatus.SUCCEEDED,
        start=observed - dt.timedelta(minutes=6),
        end=observed - dt.timedelta(minutes=5),
    )
    shifted = attrs.evolve(
        snapshot,
        events=(earlier, *snapshot.events),
        observed_at=observed - dt.timedelta(seconds=0.8),
    )

    assert shifted.last_change == shifted.observed_at
    assert poll_interval(shifted, min_interval=5, max_interval=60) == pytest.approx(5)


def test_wait_rejects_a_floor_above_the_ceiling(sim):
    d = Deployer.create(sim)
    with pytest.raises(ValueError, match="min_interval"):
        attach(sim, d.deploy()).wait(min_interval=60, max_interval=5)


# -- a wait for the end only: read rarely until the end is due, then steadily -------------

ALL_AT_ONCE = "CodeDeployDefault.ECSAllAtOnce"
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def held_snapshot(seconds_after_due, *, config=ALL_AT_ONCE, termination_wait=5):
    """In the termination wait (every event done at START), read ``seconds_after_due``
    seconds after the wait is due (negative: before)."""
    events = tuple(
        LifecycleEventProgress(
            name=name, status=LifecycleEventStatus.SUCCEEDED, start=START, end=START
        )
        for name in LifecycleEvent
    )
    due = START + dt.timedelta(minutes=termination_wait)
    return DeploymentSnapshot(
        deployment_id="d-HELD00001",
        status=DeploymentStatus.IN_PROGRESS,
        events=events,
        schedule=PREDEFINED_CONFIGS[config].schedule(termination_wait_minutes=termination_wait),
        observed_at=due + dt.timedelta(seconds=seconds_after_due),
    )


def installing_snapshot(config, *, termination_wait=5, seconds=30):
    """Install running, ``seconds`` after the deployment started at START."""
    return DeploymentSnapshot(
        deployment_id="d-INST00001",
        status=DeploymentStatus.IN_PROGRESS,
        start_time=START,
        events=(
            LifecycleEventProgress(
                name=LifecycleEvent.INSTALL, status=LifecycleEventStatus.IN_PROGRESS, start=START
            ),
        ),
        schedule=PREDEFINED_CONFIGS[config].schedule(termination_wait_minutes=termination_wait),
        observed_at=START + dt.timedelta(seconds=seconds),
    )


def end_pause(snapshot, **intervals):
    return poll_interval(snapshot, only_end=True, **intervals)


def test_after_the_expected_end_a_wait_for_the_end_reads_at_a_steady_short_interval():
    steady = 5 * AFTER_END
    after = [end_pause(held_snapshot(s), min_interval=5) for s in (0, 1, 30, 90, 179)]

    assert after == [pytest.approx(steady)] * len(after)
    assert steady < 5  # shorter than the floor of the rest of the schedule
    # it scales with the floor a caller chose
    assert end_pause(held_snapshot(10), min_interval=30, max_interval=60) == 30 * AFTER_END


def test_before_the_expected_end_the_first_read_after_it_is_one_steady_pause_past_it():
    steady = 5 * AFTER_END

    assert end_pause(held_snapshot(-20)) == pytest.approx(20 + steady)
    assert end_pause(held_snapshot(-299)) == 60  # the ceiling still bounds every pause
    assert end_pause(held_snapshot(-3600), max_interval=7200) == pytest.approx(3600 + steady)


def test_a_clean_up_far_longer_than_expected_is_read_less_and_less_often():
    steady = 5 * AFTER_END
    late = [end_pause(held_snapshot(CLEANUP_SECONDS + s)) for s in (0, 40, 120, 600)]

    assert late == [steady, 10, 30, 60]


def at_work_snapshot(config, running, *, seconds, termination_wait=5):
    """Every event before ``running`` done, ``running`` in progress since START, read
    ``seconds`` after START (the deployment started then too)."""
    done = tuple(
        LifecycleEventProgress(
            name=name, status=LifecycleEventStatus.SUCCEEDED, start=START, end=START
        )
        for name in LifecycleEvent
        if name < running
    )
    now = LifecycleEventProgress(name=running, status=LifecycleEventStatus.IN_PROGRESS, start=START)
    return attrs.evolve(
        installing_snapshot(config, termination_wait=termination_wait, seconds=seconds),
        events=(*done, now),
    )


@pytest.mark.parametrize("config", list(PREDEFINED_CONFIGS))
@pytest.mark.parametrize(
    "running",
    [e for e in LifecycleEvent if e is not LifecycleEvent.ALLOW_TRAFFIC],
)
def test_before_the_termination_wait_a_failure_is_noticed_within_the_before_end_ceiling(
    config, running
):
    # install or a hook at work: a failure can end the deployment at any moment, so even
    # with the termination wait (5 minutes) still ahead no pause is longer than the ceiling
    pauses = [end_pause(at_work_snapshot(config, running, seconds=s)) for s in (0, 30, 600)]

    assert BEFORE_END_CEILING < 60
    assert all(5 <= p <= BEFORE_END_CEILING for p in pauses)
    assert pauses[-1] == BEFORE_END_CEILING
    # the caller's bounds still hold: a lower max_interval, a higher min_interval
    snapshot = at_work_snapshot(config, running, seconds=600)
    assert end_pause(snapshot, max_interval=10) == 10
    assert end_pause(snapshot, min_interval=45, max_interval=120) == 45


@pytest.mark.parametrize("config", list(PREDEFINED_CONFIGS))
def test_traffic_shifted_but_before_the_termination_wait_reads_within_the_ceiling(config):
    # AllowTraffic's last step is past (it still runs): the termination wait is next
    steps = PREDEFINED_CONFIGS[config].schedule().steps
    last_step = steps[-1].minute * 60 if steps else 0
    snapshot = at_work_snapshot(config, LifecycleEvent.ALLOW_TRAFFIC, seconds=last_step + 30)

    assert end_pause(snapshot) == BEFORE_END_CEILING


@pytest.mark.parametrize("config", [CANARY, LINEAR, SLOW_CANARY])
def test_during_a_bake_or_the_ready_wait_a_wait_for_the_end_reads_at_max_interval(config):
    # traffic steps still ahead: the end cannot come before they and the termination wait
    # have run, and the reads stay at the ceiling (GetDeployment alone, waiting.py)
    bake = at_work_snapshot(config, LifecycleEvent.ALLOW_TRAFFIC, seconds=30)
    promoting = at_work_snapshot(config, LifecycleEvent.BEFORE_ALLOW_TRAFFIC, seconds=600)
    ready = attrs.evolve(promoting, status=DeploymentStatus.READY, events=promoting.events[:-1])

    assert end_pause(bake) == 60
    assert end_pause(bake, max_interval=120) == 120
    assert end_pause(ready) == 60


def test_a_wait_for_the_end_notices_a_hook_failing_before_the_termination_wait_soon(sim):
    d = Deployer.create(sim, deployment_config=ALL_AT_ONCE, termination_wait_minutes=5)
    sim.register_hook("CodeDeployHook_check", d.reporting_hook("Failed"))
    deployment_id = d.deploy(
        hooks={"AfterInstall": "CodeDeployHook_check"},
        autoRollbackConfiguration={"enabled": False},
    )

    with pytest.raises(DeploymentError):
        attach(sim, deployment_id).wait()

    failed_at = sim.deployment(deployment_id).complete_time
    assert failed_at <= sim.clock.time() <= failed_at + BEFORE_END_CEILING


def test_without_a_termination_wait_or_a_schedule_a_wait_for_the_end_slows_down_as_before():
    no_wait = installing_snapshot(ALL_AT_ONCE, termination_wait=0, seconds=40)
    no_schedule = attrs.evolve(no_wait, schedule=None)

    assert end_pause(no_wait) == 10  # a quarter of the 40 quiet seconds
    assert end_pause(no_schedule) == 10
    assert earliest_end(no_schedule) is None


def test_earliest_end_counts_the_traffic_steps_left_and_the_termination_wait():
    canary = installing_snapshot("CodeDeployDefault.ECSCanary10Percent15Minutes", seconds=30)
    observed = canary.observed_at

    assert earliest_end(canary) == observed + dt.timedelta(minutes=15 + 5)
    assert earliest_end(installing_snapshot(ALL_AT_ONCE)) == observed + dt.timedelta(minutes=5)
    assert expected_end(canary) is None
    held = held_snapshot(-60)
    assert expected_end(held) == earliest_end(held) == START + dt.timedelta(minutes=5)


def test_a_wait_for_the_end_reads_getdeployment_alone_from_the_termination_wait_on():
    with Simulator(settings=SimSettings(blue_cleanup_seconds=100)) as sim:
        d = Deployer.create(sim, deployment_config=ALL_AT_ONCE, termination_wait_minutes=5)
        deployment_id = d.deploy()
        deployment = attach(sim, deployment_id)
        started = len(list(sim.api_calls()))

        end = deployment.wait()

        calls = [(t, op) for t, svc, op in list(sim.api_calls())[started:] if svc == "codedeploy"]
    held_from = end.event(LifecycleEvent.AFTER_ALLOW_TRAFFIC).end.timestamp()
    due = held_from + 5 * 60
    complete = end.complete_time.timestamp()
    before = [t for t, _ in calls if t <= held_from]
    held = [(t, op) for t, op in calls if held_from < t <= due]
    after = [(t, op) for t, op in calls if due < t < complete]
    # before the termination wait (install, hooks): a read (GetDeployment +
    # GetDeploymentTarget) every BEFORE_END_CEILING, so a failure there is noticed within it
    assert len(set(before)) > 1
    assert all(b - a == BEFORE_END_CEILING for a, b in itertools.pairwise(sorted(set(before))))
    # the first read in it sees the termination wait (and when it is due); from then on,
    # and after it is due, GetDeployment alone, a minute apart, then every 2.5 s
    assert [op for _, op in held[:2]] == ["GetDeployment", "GetDeploymentTarget"]
    assert {op for _, op in held[2:] + after} == {"GetDeployment"}
    assert all(b - a <= 60 for a, b in itertools.pairwise([t for t, _ in held]))
    gaps = [b - a for a, b in itertools.pairwise([due, *(t for t, _ in after)])]
    assert gaps == [pytest.approx(5 * AFTER_END)] * len(gaps)
    assert len(after) + 1 == 100 / (5 * AFTER_END)  # and the next read sees the end
    # the read that sees the end reads the target too, so the last snapshot is whole
    assert [op for t, op in calls if t == complete][:2] == ["GetDeployment", "GetDeploymentTarget"]
    assert end.succeeded
    assert [ts.label for ts in end.task_sets] == [TargetLabel.GREEN]
