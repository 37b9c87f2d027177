import pytest

from bluegreen import DeploymentStatus, LifecycleEvent, LifecycleEventStatus, TargetLabel


def test_deployment_status_has_all_eight_values_of_the_api():
    assert [s.value for s in DeploymentStatus] == [
        "Created",
        "Queued",
        "InProgress",
        "Baking",
        "Ready",
        "Succeeded",
        "Failed",
        "Stopped",
    ]


@pytest.mark.parametrize(
    ("status", "terminal", "failure"),
    [
        ("Created", False, False),
        ("Queued", False, False),
        ("InProgress", False, False),
        ("Baking", False, False),
        ("Ready", False, False),
        ("Succeeded", True, False),
        ("Failed", True, True),
        ("Stopped", True, True),
    ],
)
def test_terminal_and_failure_statuses(status, terminal, failure):
    s = DeploymentStatus(status)
    assert s.is_terminal is terminal
    assert s.is_active is not terminal
    assert s.is_failure is failure


def test_only_ready_awaits_promotion():
    assert [s for s in DeploymentStatus if s.awaits_promotion] == [DeploymentStatus.READY]


def test_lifecycle_events_are_in_run_order_and_compare_by_it():
    assert [e.value for e in LifecycleEvent] == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]
    # Alphabetically AfterInstall < BeforeInstall; in run order it comes after.
    assert LifecycleEvent.BEFORE_INSTALL < LifecycleEvent.AFTER_INSTALL
    assert sorted(LifecycleEvent, reverse=True)[0] is LifecycleEvent.AFTER_ALLOW_TRAFFIC
    assert max(LifecycleEvent.INSTALL, LifecycleEvent.ALLOW_TRAFFIC) is LifecycleEvent.ALLOW_TRAFFIC


def test_exactly_five_events_accept_hooks():
    assert [e.value for e in LifecycleEvent.hookable()] == [
        "BeforeInstall",
        "AfterInstall",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AfterAllowTraffic",
    ]
    assert not LifecycleEvent.INSTALL.accepts_hook


def test_before_install_cannot_roll_back():
    assert not LifecycleEvent.BEFORE_INSTALL.can_roll_back
    assert LifecycleEvent.AFTER_INSTALL.can_roll_back


def test_values_are_aws_strings():
    assert str(LifecycleEventStatus.SKIPPED) == "Skipped"
    assert TargetLabel("Green") is TargetLabel.GREEN
    assert {LifecycleEvent.INSTALL: 1}["Install"] == 1


# -- what a snapshot says it waits for, at every status --------------------------------------


def _snapshot(status, *, events=(), rollback=None, rollback_of=None):
    from bluegreen.snapshot import DeploymentSnapshot

    info = {"deploymentId": "d-ABCDEFGHI", "status": status, "creator": "user"}
    if rollback:
        info["rollbackInfo"] = {"rollbackDeploymentId": rollback}
    if rollback_of:
        info["rollbackInfo"] = {"rollbackTriggeringDeploymentId": rollback_of}
        info["creator"] = "codeDeployRollback"
    target = {
        "lifecycleEvents": [
            {"lifecycleEventName": name, "status": event_status} for name, event_status in events
        ]
    }
    return DeploymentSnapshot.from_api(info, target)


_ALL_DONE = [(e.value, "Succeeded") for e in LifecycleEvent]


@pytest.mark.parametrize(
    ("status", "events", "expected"),
    [
        ("Created", (), "waiting for CodeDeploy to start the deployment"),
        ("Queued", (), "waiting for CodeDeploy to start the deployment"),
        (
            "InProgress",
            [("BeforeInstall", "Succeeded"), ("Install", "InProgress")],
            "waiting for green to reach steady state (Install)",
        ),
        ("InProgress", [("AfterInstall", "InProgress")], "waiting for the AfterInstall hook"),
        ("Ready", _ALL_DONE[:5], "waiting for promotion (ContinueDeployment READY_WAIT)"),
        (
            "InProgress",
            _ALL_DONE,
            "waiting for the termination wait to end (blue is kept until then)",
        ),
        ("Succeeded", _ALL_DONE, "ended: succeeded"),
        ("Failed", [("Install", "Failed")], "ended: failed"),
        ("Stopped", [("Install", "Succeeded")], "ended: stopped"),
    ],
)
def test_every_status_says_what_it_waits_for_or_how_it_ended(status, events, expected):
    snapshot = _snapshot(status, events=events)

    assert snapshot.state_line == expected
    assert f"\n  {expected}" in repr(snapshot)
    assert "waiting for nothing" not in repr(snapshot)
    assert "waiting for termination wait" not in repr(snapshot)
    assert (snapshot.waiting_for is None) is DeploymentStatus(status).is_terminal


def test_a_rolled_back_deployment_has_ended_and_names_its_rollback_without_awaiting_it():
    failed = _snapshot("Failed", events=[("Install", "Failed")], rollback="d-ROLLBACK1")

    assert failed.waiting_for is None
    assert failed.state_line == "ended: failed; rolled back by d-ROLLBACK1"
    assert "waiting for" not in repr(failed)


def test_a_finished_rollback_says_what_it_rolled_back():
    rollback = _snapshot("Succeeded", events=_ALL_DONE, rollback_of="d-ORIGINAL1")

    assert rollback.state_line == "ended: succeeded (the rollback of d-ORIGINAL1)"
