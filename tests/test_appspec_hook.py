"""bluegreen.appspec_hook: a hook, and the checks of a list of them."""

import pytest

from bluegreen import AppSpecError, Hook, LifecycleEvent
from bluegreen.appspec_hook import hooks_problems, to_hooks

ARN = "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_check:live"


def test_hooks_come_from_a_mapping_or_a_list():
    hooks = to_hooks({"AfterAllowTestTraffic": "CodeDeployHook_check", "BeforeInstall": ARN})

    assert hooks == (
        Hook(LifecycleEvent.AFTER_ALLOW_TEST_TRAFFIC, "CodeDeployHook_check"),
        Hook("BeforeInstall", ARN),
    )
    assert to_hooks(list(hooks)) == hooks
    assert to_hooks(None) == ()
    assert hooks_problems(hooks) == []


def test_an_unknown_event_is_refused_when_the_hook_is_made():
    with pytest.raises(AppSpecError, match="hooks may name BeforeInstall"):
        Hook("Deploy", "fn")


def test_every_problem_of_the_hooks_is_listed():
    problems = hooks_problems(
        [Hook("Install", "fn"), Hook("AfterInstall", " "), Hook("AfterInstall", "a b")]
    )

    assert problems == [
        "Install cannot carry a hook: hooks may name BeforeInstall, AfterInstall, "
        "AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic",
        "hook AfterInstall has no Lambda function: give a function name or ARN",
        "hook AfterInstall is given more than once: each event runs one hook",
        "hook AfterInstall: 'a b' is not a Lambda function name (1-64 of A-Z a-z 0-9 - _) or "
        "function ARN",
    ]
