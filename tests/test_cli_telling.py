"""``--notify``, ``--slack``, ``--summary`` and GitHub Actions on ``bluegreen deploy`` and
``bluegreen wait``, in-process against the simulator with a webhook on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploying import Deployer
from test_notify import Endpoint

import bluegreen.cli._clock
from bluegreen.cli import main

SERVICE = ("--cluster", "prod", "--service", "web")
IMAGE = "public.ecr.aws/nginx/nginx:1.29"
FAILING_HOOK = "CodeDeployHook_fails"


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "BLUEGREEN_NOTIFY"):
        monkeypatch.delenv(name, raising=False)
    return bluegreen_sim


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def deploy_failing(
    sim: Any, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    """``bluegreen deploy ARGV`` of a release whose AfterAllowTestTraffic hook fails."""
    d = Deployer.create(sim)
    sim.register_hook(FAILING_HOOK, d.reporting_hook("Failed"))
    hook = f"AfterAllowTestTraffic={FAILING_HOOK}"
    return run(capsys, "deploy", *SERVICE, "--image", IMAGE, "--hook", hook, *argv)


def test_deploy_notify_posts_each_milestone_once_in_order(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Deployer.create(sim)
    with Endpoint() as hook:
        code, out, err = run(capsys, "deploy", *SERVICE, "--image", IMAGE, "--notify", hook.url)

    assert code == 0, err
    assert [b["milestone"] for b in hook.bodies] == ["created", "traffic_shifted", "succeeded"]
    assert {b["service"] for b in hook.bodies} == {"prod/web"}
    assert "secret-token" not in out + err


def test_the_urls_can_come_from_the_environment_in_slack_format(
    sim: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Deployer.create(sim)
    with Endpoint() as hook:
        monkeypatch.setenv("BLUEGREEN_NOTIFY", hook.url)
        code, _, err = run(capsys, "deploy", *SERVICE, "--image", IMAGE, "--slack")

    assert code == 0, err
    assert len(hook.bodies) == 3
    assert all(set(b) == {"text", "blocks"} for b in hook.bodies)
    assert "succeeded" in hook.bodies[-1]["text"]


def test_a_bad_url_is_refused_before_anything_changes_and_its_path_is_never_shown(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    d = Deployer.create(sim)

    code, out, err = run(
        capsys, "deploy", *SERVICE, "--image", IMAGE, "--notify", "ftp://hooks/T0/secret-path"
    )

    assert code == 2
    assert "notification URL 1: the URL must be http:// or https://" in err
    assert "secret-path" not in out + err
    assert d.codedeploy.list_deployments()["deployments"] == []
    code, _, err = run(capsys, "deploy", *SERVICE, "--image", IMAGE, "--slack")
    assert code == 2
    assert "--slack formats --notify's messages" in err


def test_a_failing_webhook_never_changes_the_outcome(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Deployer.create(sim)
    with Endpoint(failures=None) as hook:  # every request answered 500
        code, _, err = run(capsys, "deploy", *SERVICE, "--image", IMAGE, "--notify", hook.url)

    assert code == 0, err
    assert hook.requests > 0
    assert hook.bodies == []


def test_wait_notify_reports_a_failure_with_its_reason_and_the_rollback(
    sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = deploy_failing(sim, capsys, "--no-wait")
    assert code == 0, err
    deployment_id = out.strip()

    with Endpoint() as hook:
        code, _, err = run(capsys, "wait", "--deployment-id", deployment_id, "--notify", hook.url)

    assert code == 1
    milestones = [b["milestone"] for b in hook.bodies]
    assert milestones[-2:] == ["failed", "rolled_back"]
    failed = hook.bodies[-2]
    assert failed["deployment_id"] == deployment_id
    assert "AfterAllowTestTraffic" in failed["text"]


def test_summary_and_github_actions_get_the_table_the_timeline_and_an_error_annotation(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    summary = tmp_path / "summary.md"

    code, out, err = deploy_failing(sim, capsys, "--summary", str(summary), "--output", "json")

    assert code == 1
    written = summary.read_text()
    assert written.startswith("## Deployment d-")
    assert "| prod/web | d-" in written
    assert "```mermaid\ngantt" in written
    assert "AfterAllowTestTraffic :crit" in written
    assert "rollback" in written
    appended = step_summary.read_text()
    assert appended.startswith("earlier step\n")
    assert written in appended
    errors = [line for line in err.splitlines() if line.startswith("::error title=")]
    assert errors
    assert all(line.startswith("{") for line in out.splitlines())  # stdout stays JSON lines


def test_summary_of_a_success_without_github_actions_writes_only_the_file(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    Deployer.create(sim)
    summary = tmp_path / "summary.md"

    code, _, err = run(capsys, "deploy", *SERVICE, "--image", IMAGE, "--summary", str(summary))

    assert code == 0, err
    assert ": succeeded" in summary.read_text().splitlines()[0]
    assert "::" not in err


def test_telling_needs_the_deployment_to_be_followed(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = Deployer.create(sim)

    code, _, err = run(
        capsys,
        "deploy",
        *SERVICE,
        "--image",
        IMAGE,
        "--summary",
        str(tmp_path / "s.md"),
        "--no-wait",
    )

    assert code == 2
    assert "leave out --no-wait, or give them to `bluegreen wait` later" in err
    assert d.codedeploy.list_deployments()["deployments"] == []
