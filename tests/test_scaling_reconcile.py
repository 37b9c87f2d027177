"""bluegreen.scaling_reconcile: the desired state of the scalable targets as a pure function of
the records (which original, which kinds suspended), and learning the original for a new
record. ``reconcile`` itself, on the simulator, is in tests/test_scaling.py and
tests/test_scaling_races.py."""

from __future__ import annotations

import datetime as dt

from bluegreen.scaling_reconcile import desired_changes, learn_original, original_states
from bluegreen.scaling_record import ScalableTargetState, ScalingRecord

WEB = "service/prod/web"
API = "service/prod/api"


def target(resource: str = WEB, **flags: bool) -> ScalableTargetState:
    return ScalableTargetState(resource_id=resource, min_capacity=1, max_capacity=10, **flags)


def record(release: str, minute: int, *targets: ScalableTargetState) -> ScalingRecord:
    return ScalingRecord(
        request_id=release,
        owner="ci",
        created_at=dt.datetime(2026, 1, 1, 12, minute, tzinfo=dt.UTC),
        targets=targets,
        suspended=("in", "out", "scheduled"),
    )


def test_the_oldest_record_holding_a_target_gives_its_original():
    older = record("a", 1, target(scheduled_suspended=True))
    newer = record("b", 2, target(scheduled_suspended=True, dynamic_in_suspended=True))

    assert original_states([newer, older]) == {
        (WEB, "ecs:service:DesiredCount"): target(scheduled_suspended=True)
    }


def test_a_new_record_takes_the_original_from_records_and_the_rest_as_read():
    suspended_by_a_release = target(
        dynamic_in_suspended=True, dynamic_out_suspended=True, scheduled_suspended=True
    )
    other = target(API, dynamic_out_suspended=True)
    records = [record("a", 1, target(scheduled_suspended=True))]

    assert learn_original(records, [suspended_by_a_release, other]) == (
        target(scheduled_suspended=True),
        other,
    )
    assert learn_original([], [suspended_by_a_release]) == (suspended_by_a_release,)


def test_the_flags_are_the_original_plus_what_the_records_in_force_suspend_only_those_that_differ():
    original = original_states([record("a", 1, target(scheduled_suspended=True), target(API))])
    now = [target(dynamic_in_suspended=True, dynamic_out_suspended=True)]

    kept, missing = desired_changes(now, original, {"in"})
    back, _ = desired_changes(now, original, ())

    assert kept == [
        (now[0], {"DynamicScalingOutSuspended": False, "ScheduledScalingSuspended": True})
    ]
    assert back == [
        (
            now[0],
            {
                "DynamicScalingInSuspended": False,
                "DynamicScalingOutSuspended": False,
                "ScheduledScalingSuspended": True,
            },
        )
    ]
    assert missing == [API]  # recorded, deregistered since: reported, not registered again
    assert desired_changes([target(scheduled_suspended=True)], original, ()) == ([], [API])
