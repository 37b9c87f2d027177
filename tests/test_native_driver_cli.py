"""``bluegreen status|wait|promote|finish|abort|rollback`` on an ECS-native service, run
in-process against the simulator: the same verbs, the same JSON lines, the service's kind
never named by the user."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_native_driver import PAUSE_AFTER_TEST, attach, start

import bluegreen.cli._clock
from bluegreen.cli import main
from bluegreen.polling import Milestone

SERVICE = ("--cluster", "prod", "--service", "web-native")


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simulator; every wait of the CLI reads (and advances) its virtual clock."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return bluegreen_sim


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_status_json_of_the_service_shows_its_native_deployment_in_flight(sim, capsys):
    env = sim.create_environment(native=True, native_bake_minutes=5)
    arn = start(sim, env)

    code, out, err = run(capsys, "status", *SERVICE, "--output", "json")

    assert code == 0, err
    document = json.loads(out)
    assert document["deployment_id"] == arn
    assert document["kind"] == "ecs"
    assert document["native"]["status"] in ("PENDING", "IN_PROGRESS")
    assert document["deployment_config"] == "ECS BLUE_GREEN, bake 5 min"
    code, out, _ = run(capsys, "status", "--deployment-id", arn)
    assert code == 0
    assert "web-native" in out


def test_wait_json_follows_the_native_deployment_to_success(sim, capsys):
    env = sim.create_environment(native=True, native_bake_minutes=5)
    arn = start(sim, env)

    code, out, err = run(capsys, "wait", "--deployment-id", arn, "--output", "json")

    assert code == 0, err
    lines = json_lines(out)
    assert lines[-1]["type"] == "done"
    assert lines[-1]["outcome"] == "succeeded"
    assert any(line.get("event") == "AllowTraffic" for line in lines)


def test_promote_json_continues_the_pause_hook_then_wait_ends_succeeded(sim, capsys):
    env = sim.create_environment(
        native=True, native_bake_minutes=5, native_hooks=[PAUSE_AFTER_TEST]
    )
    arn = start(sim, env)
    code, _, err = run(capsys, "promote", *SERVICE)
    assert code == 2
    assert "no pause hook awaits action" in err
    assert "run `bluegreen wait --until ready` first" in err
    attach(sim, arn).wait(Milestone.READY)

    code, out, err = run(capsys, "promote", *SERVICE, "--output", "json")

    assert code == 0, err
    done = json.loads(out)
    assert done["outcome"] == "promoted"
    assert (done["status_before"], done["request"]) == (
        "Ready",
        "ContinueServiceDeployment(CONTINUE)",
    )
    code, out, _ = run(capsys, "wait", *SERVICE, "--output", "json")
    assert code == 0
    assert json_lines(out)[-1]["outcome"] == "succeeded"


def test_finish_on_a_native_deployment_exits_2_saying_the_bake_time_cannot_be_cut(sim, capsys):
    env = sim.create_environment(native=True, native_bake_minutes=5)
    arn = start(sim, env)
    attach(sim, arn).wait("ecs:BAKE_TIME")

    code, out, err = run(capsys, "finish", "--deployment-id", arn)

    assert code == 2
    assert out == ""
    assert "ECS has no request that ends the bake time" in err
    assert "`bluegreen wait`" in err


def test_abort_json_rolls_the_native_deployment_back_and_follows_it(sim, capsys):
    env = sim.create_environment(native=True, native_bake_minutes=5)
    arn = start(sim, env)
    attach(sim, arn).wait(Milestone.INSTALLED)

    code, out, err = run(capsys, "abort", *SERVICE, "--output", "json")

    assert code == 0, err
    lines = json_lines(out)
    assert lines[-1]["type"] == "done"
    assert lines[-1]["outcome"] == "rolled_back"
    assert attach(sim, arn).status().native.status == "ROLLBACK_SUCCESSFUL"


def test_rollback_json_after_success_starts_a_new_native_deployment(sim, capsys):
    env = sim.create_environment(native=True, native_bake_minutes=5)
    arn = start(sim, env)
    attach(sim, arn).wait()

    code, out, err = run(capsys, "rollback", "--deployment-id", arn, "--output", "json")

    assert code == 0, err
    lines = json_lines(out)
    assert lines[-1]["outcome"] == "succeeded"
    assert lines[-1]["deployment_id"] != arn


def test_abort_no_wait_on_a_paused_native_deployment_says_the_rollback_is_the_same(sim, capsys):
    env = sim.create_environment(
        native=True, native_bake_minutes=5, native_hooks=[PAUSE_AFTER_TEST]
    )
    arn = start(sim, env)
    attach(sim, arn).wait(Milestone.READY)

    code, out, err = run(capsys, "abort", "--deployment-id", arn, "--no-wait", "--output", "json")

    assert code == 0, err
    done = json.loads(out)
    assert done["request"] == "ContinueServiceDeployment(ROLLBACK)"
    assert "the same ECS service deployment" in err
    sim.run_until_done(arn)
    assert attach(sim, arn).status().ending == "rolled_back"


def test_wait_until_an_ecs_stage_returns_there_and_a_wrong_stage_exits_2(sim, capsys):
    env = sim.create_environment(native=True, native_bake_minutes=5)
    arn = start(sim, env)

    code, out, err = run(
        capsys, "wait", "--deployment-id", arn, "--until", "ecs:BAKE_TIME", "--output", "json"
    )

    assert code == 0, err
    final = json_lines(out)[-1]
    assert final["outcome"] == "reached"
    assert final["native"]["stage"] in ("BAKE_TIME", "CLEAN_UP")
    with pytest.raises(SystemExit) as caught:
        main(["wait", "--deployment-id", arn, "--until", "ecs:BAKING"])
    assert caught.value.code == 2
    assert "ecs:BAKE_TIME" in capsys.readouterr().err
