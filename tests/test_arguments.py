"""bluegreen.arguments: what ``deploy`` and ``plan`` refuse before any call, and what
``auto_rollback=`` turns on.
"""

from __future__ import annotations

import pytest
from deploying import (
    NEW_IMAGE,
    Deployer,
    run_deploy,
    run_plan,
)

from bluegreen import (
    ValidationError,
)

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


def test_contradictory_arguments_are_refused_before_any_call(sim):
    Deployer.create(sim)
    calls = len(list(sim.api_calls()))

    with pytest.raises(ValidationError, match="exactly one of image"):
        run_deploy(sim, image=NEW_IMAGE, task_definition="web:1")
    with pytest.raises(ValidationError, match="exactly one of image"):
        run_plan(sim)
    with pytest.raises(ValidationError, match="together"):
        run_plan(sim, image=NEW_IMAGE, application="AppECS-prod-web")

    assert len(list(sim.api_calls())) == calls


def test_auto_rollback_true_turns_on_every_event_and_a_string_lists_them(sim):
    Deployer.create(sim)

    every = run_plan(sim, image=NEW_IMAGE, auto_rollback=True)
    listed = run_plan(
        sim, image=NEW_IMAGE, auto_rollback="DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM"
    )

    assert every.auto_rollback_events == (
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
        "DEPLOYMENT_STOP_ON_REQUEST",
    )
    assert listed.auto_rollback_events == ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
    assert every.auto_rollback_overridden
    assert listed.ok
