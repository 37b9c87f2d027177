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
