"""bluegreen.snapshot: what a ``DeploymentSnapshot`` says about a deployment, read from the
simulator.
"""

from __future__ import annotations

import datetime as dt
import json

from deploying import (
    Deployer,
    attach,
)

from bluegreen import (
    LifecycleEvent,
    Milestone,
)

HOOK = "CodeDeployHook_check"
CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
LINEAR = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"


def test_status_names_what_the_deployment_waits_for_during_install(sim):
    d = Deployer.create(sim)
    deployment_id = d.deploy()
    d.until_event(deployment_id, "Install", "InProgress")

    snapshot = attach(sim, deployment_id).status()

    assert snapshot.waiting_for == "green to reach steady state (Install)"
    assert snapshot.application == d.env.application
    assert snapshot.deployment_group == d.env.deployment_group
    assert snapshot.creator == "user"


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
