"""``bluegreen plan`` and ``bluegreen deploy`` on an ECS-native service, run in-process (the
simulator answers): the user does not say which kind the service is."""

from __future__ import annotations

import json
from typing import Any

import pytest

import bluegreen.cli._clock
from bluegreen.cli import main

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
SERVICE = ("--cluster", "prod", "--service", "web-native")


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simulator; every wait of the CLI reads (and advances) its virtual clock."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return bluegreen_sim


@pytest.fixture
def env(sim: Any) -> Any:
    return sim.create_environment(native=True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_json_says_the_kind_and_the_strategy(env, capsys):
    code, out, err = run(
        capsys, "plan", *SERVICE, "--image", NEW_IMAGE, "--canary", "10/5", "--output", "json"
    )

    assert code == 0, err
    document = json.loads(out)
    assert document["kind"] == "ecs"
    assert document["ok"] is True
    assert document["service"]["kind"] == "ecs"
    assert document["strategy"]["strategy"] == "CANARY"
    assert document["strategy"]["sent_by_deploy"] is True
    assert document["appspec"] is None
    assert document["autoscaling"]["suspends"] == []


def test_plan_text_with_a_problem_exits_2(env, capsys):
    code, out, _ = run(capsys, "plan", *SERVICE, "--image", NEW_IMAGE, "--config", "MyConfig")

    assert code == 2
    assert "ECS-native blue/green" in out
    assert "'MyConfig' is a CodeDeploy deployment config name" in out


def test_deploy_json_follows_the_native_deployment_to_its_end(sim, env, capsys):
    code, out, err = run(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--output", "json")

    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0, (out, err)
    assert "service-deployment/prod/web-native/" in lines[0]["deployment_id"]
    assert lines[-1]["type"] == "done"
    assert lines[-1]["outcome"] == "succeeded"


def test_inspect_shows_a_native_service(env, capsys):
    code, out, _ = run(capsys, "inspect", *SERVICE, "--output", "json")

    assert code == 0
    assert json.loads(out)["kind"] == "ecs"
