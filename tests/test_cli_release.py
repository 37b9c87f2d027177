"""``bluegreen release FILE`` (and ``status``, ``resume``, ``plan``), in-process against the
simulator on its virtual clock, shared by the release's threads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deploying import reporting_hook
from test_notify import Endpoint

import bluegreen.cli._clock
from bluegreen.cli import main
from bluegreen.manifest_load import load_manifest
from bluegreen.release_accounts import Accounts
from bluegreen.release_service import start_service
from bluegreen.testing import build_environment

OLD = "registry.example.com/app:1"
NEW = "registry.example.com/app:2"
FAILING_HOOK = "CodeDeployHook_refuse"


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simulator, its clock the CLI's, with three services svc0..svc2 in cluster prod
    and a hook that fails every deployment it is given to."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "BLUEGREEN_NOTIFY"):
        monkeypatch.delenv(name, raising=False)
    clients = bluegreen_sim.clients()
    for number in range(3):
        build_environment(
            clients=clients,
            name=f"svc{number}",
            cluster="prod",
            termination_wait_minutes=1,
            image=OLD,
        )
    codedeploy = clients.session.client("codedeploy")

    bluegreen_sim.register_hook(FAILING_HOOK, reporting_hook(codedeploy, "Failed"))
    return bluegreen_sim


def manifest_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "release.yaml"
    path.write_text(text)
    return str(path)


TWO_WAVES = f"""
release: rollout
waves:
  - name: canary
    bake: 2m
    services:
      - {{cluster: prod, service: svc0, image: "{NEW}"}}
  - name: rest
    services:
      - {{cluster: prod, service: svc1, image: "{NEW}"}}
      - {{cluster: prod, service: svc2, image: "{NEW}"}}
"""

FAILING = f"""
release: rollout
waves:
  - name: first
    services:
      - {{cluster: prod, service: svc0, image: "{NEW}"}}
      - cluster: prod
        service: svc1
        image: "{NEW}"
        hooks: {{AfterAllowTestTraffic: {FAILING_HOOK}}}
  - name: second
    services:
      - {{cluster: prod, service: svc2, image: "{NEW}"}}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def deployments(sim: Any, name: str) -> list[dict[str, Any]]:
    codedeploy = sim.clients().codedeploy
    ids = codedeploy.list_deployments(
        applicationName=f"AppECS-prod-{name}", deploymentGroupName=f"DgpECS-prod-{name}"
    )["deployments"]
    if not ids:
        return []
    return list(codedeploy.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"])


def test_release_runs_every_wave_and_prints_a_line_per_change_then_the_end(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, TWO_WAVES)

    code, out, err = run(capsys, "release", path)

    assert code == 0, err
    release_id = load_manifest(path).id
    assert f"release {release_id} release_started: 3 services in 2 waves" in out
    assert "wave canary, 1 at once" in out
    assert "baking " in out
    assert " after wave canary, until " in out
    assert "wave rest, 2 at once" in out
    assert f"release {release_id} succeeded" in out
    for name in ("svc0", "svc1", "svc2"):
        assert f"prod/{name}  succeeded  d-" in out
        assert [d["status"] for d in deployments(sim, name)] == ["Succeeded"]
    assert err == ""


def test_json_is_one_event_per_line_with_the_service_and_ends_with_every_service(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, TWO_WAVES)

    code, out, err = run(capsys, "release", path, "--output", "json")

    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["event"] == "release_started"
    assert all(line["release"] == load_manifest(path).id for line in lines)
    service_lines = [line for line in lines if line["event"] in ("service", "evaluation")]
    assert service_lines
    assert all(line["service"].startswith("prod/svc") for line in service_lines)
    assert {line["service"] for line in service_lines} == {"prod/svc0", "prod/svc1", "prod/svc2"}
    assert [line["event"] for line in lines].count("release_ended") == 1
    last = lines[-1]
    assert last["event"] == "release_ended"
    assert last["ok"] is True
    assert last["exit_code"] == 0
    assert [s["phase"] for s in last["services"]] == ["succeeded"] * 3


def test_a_failing_service_exits_1_stops_the_others_and_writes_the_summary(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    summary = tmp_path / "summary.md"
    path = manifest_file(tmp_path, FAILING)

    code, out, err = run(capsys, "release", path, "--summary", str(summary))

    assert code == 1
    assert "bluegreen: release rollout-" in err
    assert "prod/svc1 failed" in err
    assert "::error title=Release rollout-" in err
    assert "prod/svc1 failed" in err
    assert "prod/svc0  stopped" in out
    assert deployments(sim, "svc2") == []  # the second wave never started
    written = summary.read_text()
    assert written.startswith("## Release rollout-")
    assert "| Wave | Service | Outcome | Deployment | Took | Traffic config | Analysis |" in written
    assert "| first | prod/svc1 | failed" in written
    assert "| second | prod/svc2 | pending | - |" in written
    assert "```mermaid\ngantt" in written
    assert "section first" in written
    assert "prod/svc1 failed :crit, " in written
    assert written in step_summary.read_text()


def test_problems_of_every_service_and_option_exit_2_before_any_change(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    in_the_file = manifest_file(
        tmp_path,
        """
release: rollout
waves:
  - name: first
    concurrency: 0
    services:
      - {cluster: prod, service: svc0}
      - {cluster: prod, service: svc1, image: "registry.example.com/app:2", bake: forever}
""",
    )
    code, out, err = run(capsys, "release", in_the_file, "--slack", "--output", "json")

    assert code == 2
    assert "(4 problems)" in err
    assert "--slack formats --notify's messages" in err
    assert "waves[0] (first): concurrency" in err
    assert "(first).services[0] (prod/svc0): give image" in err
    assert "(first).services[1] (prod/svc1): 'bake'" in err
    assert out == ""

    in_aws = manifest_file(
        tmp_path,
        f"""
release: rollout
waves:
  - name: first
    services:
      - {{cluster: prod, service: svc0, image: "{NEW}"}}
      - cluster: prod
        service: svc1
        image: "{NEW}"
        hooks: {{AfterAllowTestTraffic: CodeDeployHook_nosuch}}
  - name: second
    services:
      - {{cluster: prod, service: svc2, image: "{NEW}", hooks: {{BeforeInstall: nosuch2}}}}
""",
    )
    code, out, err = run(capsys, "release", in_aws, "--output", "json")

    assert code == 2, err
    assert "wave first, prod/svc1:" in err
    assert "CodeDeployHook_nosuch" in err
    assert "wave second, prod/svc2:" in err
    assert "nosuch2" in err
    assert "prod/svc0" not in err
    last = json.loads(out.splitlines()[-1])
    assert last["event"] == "release_ended"
    assert last["exit_code"] == 2
    assert len(last["problems"]) == 2
    for name in ("svc0", "svc1", "svc2"):
        assert deployments(sim, name) == []


def test_plan_prints_a_block_per_service_and_json(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, TWO_WAVES)

    code, out, err = run(capsys, "release", "plan", path)
    assert code == 0, err
    assert "== canary · prod/svc0" in out
    assert "== rest · prod/svc2" in out
    assert "wave canary (1 at once, then bake 2m 00s)" in out

    code, out, err = run(capsys, "release", "plan", path, "--output", "json")
    assert code == 0, err
    planned = json.loads(out)
    assert [s["service"] for s in planned["services"]] == ["prod/svc0", "prod/svc1", "prod/svc2"]
    for name in ("svc0", "svc1", "svc2"):
        assert deployments(sim, name) == []


def test_status_from_another_invocation_then_resume_without_a_second_deployment(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, TWO_WAVES)
    manifest = load_manifest(path)
    # A process created svc0's deployment, then died.
    accounts = Accounts(clients=sim.clients(), clock=sim.clock)
    service = manifest.services[0]
    created = start_service(
        manifest.id, "canary", service, accounts.for_service(service), clock=sim.clock
    )

    code, out, err = run(capsys, "release", "status", path)
    assert code == 0, err
    assert f"release {manifest.id}" in out
    assert "prod/svc0" in out
    assert "in flight" in out
    assert created.id in out
    assert out.count("pending") >= 2

    code, out, err = run(capsys, "release", path)
    assert code == 2
    assert "release resume" in err

    code, out, err = run(capsys, "release", "resume", path, "--output", "json")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["ok"] is True
    assert [d["deploymentId"] for d in deployments(sim, "svc0")] == [created.id]

    code, out, err = run(capsys, "release", "status", path, "--output", "json")
    assert code == 0, err
    state = json.loads(out)
    assert state["done"] is True
    assert [s["phase"] for s in state["services"]] == ["succeeded"] * 3


def test_the_webhook_gets_the_release_and_every_service_milestone(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, FAILING)

    with Endpoint() as hook:
        code, _, err = run(capsys, "release", path, "--notify", hook.url, "--output", "json")

    assert code == 1
    milestones = [(b["milestone"], b["service"]) for b in hook.bodies]
    assert milestones[0] == ("release_started", None)
    assert ("wave_started", None) in milestones
    assert milestones[-1] == ("release_failed", None)
    ended = hook.bodies[-1]
    assert "prod/svc1 failed" in ended["fields"]["reason"]
    assert ended["fields"]["counts"]["pending"] == 1
    svc1 = [m for m, service in milestones if service == "prod/svc1"]
    assert svc1 == ["created", "failed", "rolled_back"]
    svc0 = [m for m, service in milestones if service == "prod/svc0"]
    assert svc0[0] == "created"
    assert svc0[-2:] == ["failed", "rolled_back"]  # stopped by the release, rolled back
    failed = [b for b in hook.bodies if (b["milestone"], b["service"]) == ("failed", "prod/svc1")]
    assert len(failed) == 1
    assert "AfterAllowTestTraffic" in failed[0]["text"]
    assert failed[0]["fields"]["release"] == ended["release"]
    assert failed[0]["fields"]["wave"] == "first"
    assert "secret-token" not in err


def test_the_command_line_is_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "release", "status")
    assert code == 2
    assert "give the release manifest" in err

    path = manifest_file(tmp_path, TWO_WAVES)
    code, _, err = run(capsys, "release", "status", path, "--summary", "x.md")
    assert code == 2
    assert "--summary apply to `bluegreen release FILE`" in err

    code, _, err = run(capsys, "release", path, "--temporal", "localhost", "--summary", "x.md")
    assert code == 2
    assert "give the Temporal server as HOST:PORT" in err
    assert "--summary tell what this process sees" in err

    code, _, err = run(capsys, "release", str(tmp_path / "nosuch.yaml"))
    assert code == 2
    assert "nosuch.yaml" in err


def test_the_live_view_shows_a_line_per_service_with_its_traffic_and_the_counts() -> None:
    import datetime as dt
    import io

    from rich.console import Console

    from bluegreen.cli._progress.release_view import ReleaseLive
    from bluegreen.release_events import EventKind, ReleaseEvent
    from bluegreen.release_state import Phase

    manifest = load_manifest(
        {
            "release": "checkout",
            "waves": [
                {"name": "canary", "services": [{"cluster": "prod", "service": "web"}]},
                {"name": "rest", "services": [{"cluster": "prod", "service": s} for s in "ab"]},
            ],
            "defaults": {"image": NEW},
        }
    )
    at = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    view = ReleaseLive(io.StringIO(), manifest, lambda: at)
    for kind, fields in [
        (EventKind.STARTED, {"message": "3 services in 2 waves"}),
        (EventKind.WAVE_STARTED, {"wave": "rest", "data": {"width": 2}}),
        (
            EventKind.SERVICE,
            {
                "wave": "rest",
                "service": "prod/a",
                "deployment_id": "d-AAAAAAAAA",
                "phase": Phase.IN_FLIGHT,
                "data": {"status": "InProgress", "traffic": 10.0, "step": "the canary"},
            },
        ),
        (
            EventKind.SERVICE,
            {
                "wave": "rest",
                "service": "prod/b",
                "deployment_id": "d-BBBBBBBBB",
                "phase": Phase.FAILED,
                "data": {"status": "Failed", "error": "AfterAllowTestTraffic failed"},
            },
        ),
    ]:
        view.update(ReleaseEvent(kind, manifest.id, at, **fields))
    console = Console(file=io.StringIO(), width=140, no_color=True)
    console.print(view)
    screen = console.file.getvalue()  # type: ignore[attr-defined]

    assert f"Release {manifest.id}  3 services in 2 waves  1 pending · 1 in flight · 1 failed" in (
        screen
    )
    assert "wave rest, 2 at once" in screen
    [line] = [line for line in screen.splitlines() if "prod/a" in line]
    assert line.split()[:5] == ["rest", "prod/a", "in", "flight", "InProgress"]
    assert "10%" in line
    assert "d-AAAAAAAAA" in line
    assert "the canary" in line
    assert "prod/b: AfterAllowTestTraffic failed" in screen


def test_status_shows_every_service_and_exits_4_when_one_cannot_be_read(
    sim: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "missing.yaml"
    path.write_text(
        "release: missing\n"
        "defaults: {cluster: prod, image: 'registry.example.com/app:2'}\n"
        "waves:\n"
        "  - name: only\n"
        "    services: [{service: svc0}, {service: nosuch}]\n"
    )

    code, out, _ = run(capsys, "release", "status", str(path))

    assert code == 4
    assert "prod/svc0" in out
    assert "pending" in out
    assert "prod/nosuch" in out
    assert "unknown" in out
