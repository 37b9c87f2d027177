"""``bluegreen deploy --analysis`` and ``bluegreen wait --analysis``, in-process against the
simulator with seeded production traffic: every evaluation is a progress event, a failing
green is stopped with exit 1 and its numbers, the final report lists every evaluation, and a
bad analysis file is refused before anything changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploying import Deployer

import bluegreen.cli._clock
from bluegreen.cli import main
from bluegreen.testing import Simulator, Traffic

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
BAD = "public.ecr.aws/nginx/nginx:1.29-bad"
SERVICE = ("--cluster", "prod", "--service", "web")


@pytest.fixture
def d(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployer]:
    """The sample canary service with 2000 requests a minute; ``BAD`` fails 30% of them."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with Simulator(
        traffic=Traffic(requests_per_minute=2000, seed=3), start_time=1_796_000_017.0
    ) as sim:
        monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: sim.clock)
        sim.traffic.behave(BAD, error_rate=0.3)
        yield Deployer.create(sim, deployment_config=CANARY, alarms=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_deploy_with_the_default_analysis_stops_a_bad_canary_and_reports_json(
    d: Deployer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "deploy", *SERVICE, "--image", BAD, "--analysis", "default", "--output", "json"
    )

    assert code == 1, err
    lines = [json.loads(line) for line in out.splitlines()]
    evaluations = [line for line in lines if line["type"] == "analysis"]
    assert evaluations
    assert [e["number"] for e in evaluations] == list(range(1, len(evaluations) + 1))
    assert all(e["timestamp"] and e["deployment_id"] for e in evaluations)
    last = evaluations[-1]
    assert last["verdict"] == "failed"
    assert last["stopped"] == last["deployment_id"]
    rate = next(m for m in last["evaluation"]["metrics"] if m["name"] == "5xx rate")
    assert rate["outcome"] == "fail"
    assert rate["green"] > 0.2
    assert rate["blue"] < 0.01
    assert rate["green_total"] >= 100  # a judged sample, with its counts
    done = lines[-1]
    assert done["type"] == "done"
    assert done["exit_code"] == 1
    assert done["outcome"] in ("stopped", "rolled_back")
    assert done["analysis"]["verdict"] == "failed"
    assert len(done["analysis"]["evaluations"]) == len(evaluations)
    assert "the analysis failed at evaluation" in done["message"]
    assert d.traffic() == {"web-blue": 100, "web-green": 0}


def test_wait_with_an_analysis_file_prints_each_evaluation_and_the_final_report(
    d: Deployer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "analysis.yaml"
    file.write_text(
        "metrics:\n"
        "  - name: 5xx rate\n"
        "    metric: HTTPCode_Target_5XX_Count\n"
        "    per: RequestCount\n"
        "    tolerance: 0.02\n"
        "failure_limit: 1\n"
        "window: 120\n"
    )
    code, out, err = run(capsys, "deploy", *SERVICE, "--image", BAD, "--no-wait")
    assert code == 0, err
    deployment_id = out.strip()

    code, out, err = run(capsys, "wait", "--deployment-id", deployment_id, "--analysis", str(file))

    assert code == 1
    assert "analysis 1: " in out
    assert "5xx rate: green " in out
    assert " vs blue " in out
    assert f"analysis failed: stopping {deployment_id} with rollback" in out
    # the final report: the verdict, then every evaluation
    assert "analysis failed: failed at evaluation" in out
    assert f"deployment {deployment_id} stopped and rolled back by the analysis" in out
    assert "Traceback" not in err
    assert "the analysis failed at evaluation" in err


def test_a_bad_analysis_file_is_refused_with_every_problem_before_anything_changes(
    d: Deployer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "analysis.json"
    file.write_text(json.dumps({"window": 90, "metrics": [{"name": "x", "metric": "Bad Name"}]}))

    code, _out, err = run(
        capsys, "deploy", *SERVICE, "--image", BAD, "--analysis", str(file), "--config", "nope x"
    )

    assert code == 2
    assert f"--analysis {file}: window: 90 must be whole minutes" in err
    assert "metric: 'Bad Name' is not a CloudWatch metric name" in err
    assert "has no limit" in err
    assert "Traceback" not in err
    assert d.codedeploy.list_deployments()["deployments"] == []


def test_analysis_needs_the_deployment_to_be_followed(
    d: Deployer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(
        capsys, "deploy", *SERVICE, "--image", BAD, "--analysis", "default", "--no-wait"
    )

    assert code == 2
    assert "--analysis runs while bluegreen follows the deployment" in err
    assert d.codedeploy.list_deployments()["deployments"] == []
