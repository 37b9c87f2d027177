"""The plain lines (``bluegreen.cli._progress.plain_lines``) a followed deployment prints where
stdout is no terminal, and the wording they share with the live view."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from deploying import Deployer, as_text, attach

from bluegreen import DeploymentError
from bluegreen.cli._progress.live_view import render
from bluegreen.cli._progress.plain_lines import PlainLines

HOOK = "CodeDeployHook_check"


def test_a_rolled_back_deployment_does_not_await_its_finished_rollback(sim: Any) -> None:
    d = Deployer.create(sim)
    sim.register_hook(HOOK, d.reporting_hook("Failed"))
    deployment = attach(sim, d.deploy(hooks={"AfterInstall": HOOK}))
    seen: list[Any] = []
    with pytest.raises(DeploymentError) as caught:
        deployment.wait(on_progress=seen.append)
    rollback_id = caught.value.rollback_deployment_id
    assert rollback_id is not None
    failed = deployment.status()
    assert attach(sim, rollback_id).status().status.is_terminal

    view = as_text(render(failed, failed.observed_at))
    lines = io.StringIO()
    reporter = PlainLines(lines, lambda: failed.observed_at or dt.datetime.now(dt.UTC))
    for snapshot in seen:
        reporter.update(snapshot)
    reporter.failed(caught.value)

    for text in (view, repr(failed)):
        assert f"rollback {rollback_id}" not in text.replace(f"rolled back by {rollback_id}", "")
        assert "waiting for" not in text
        assert f"rolled back by {rollback_id}" in text
    last = lines.getvalue().splitlines()[-1]
    assert "follow the rollback" not in last
    assert f"rollback of {deployment.id}) Succeeded" in last
