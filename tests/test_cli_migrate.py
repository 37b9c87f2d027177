"""``bluegreen migrate plan|apply|revert`` run in-process against the simulator: what each
prints (text, and one JSON object per line), the exit codes (2 refused before any change,
4 an AWS failure undone, 1 only a failed verify deployment) and that a refusal changes
nothing."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from test_cli_deployments import json_lines, run

import bluegreen.cli._clock
from bluegreen.cli import main


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The simulator; every wait of the CLI reads (and advances) its virtual clock."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return bluegreen_sim


@pytest.fixture
def env(sim: Any) -> Any:
    return sim.create_environment()


SERVICE = ("--cluster", "prod", "--service", "web")
ROLE = ("--create-role", "ecsInfrastructure-web")


def service(sim: Any, name: str = "web") -> dict[str, Any]:
    answer = sim.clients().ecs.describe_services(cluster="prod", services=[name], include=["TAGS"])
    return dict(answer["services"][0])


def migration_tags(sim: Any) -> dict[str, str]:
    return {
        t["key"]: t["value"]
        for t in service(sim).get("tags", ())
        if t["key"].startswith("bluegreen:migration")
    }


def unchanged(sim: Any) -> bool:
    """The service is still CodeDeploy's, with no migration record, no role created."""
    roles = sim.clients().client("iam").list_roles()["Roles"]
    return (
        service(sim)["deploymentController"] == {"type": "CODE_DEPLOY"}
        and not migration_tags(sim)
        and not [r for r in roles if r["RoleName"] == ROLE[1]]
    )


# -- plan -------------------------------------------------------------------------------------


def test_plan_prints_the_mapping_and_the_apply_command_and_changes_nothing(sim, env, capsys):
    code, out, err = run(capsys, "migrate", "plan", *SERVICE, *ROLE)

    assert code == 0, err
    assert "Migrate prod/web from CodeDeploy to ECS-native blue/green" in out
    assert "Mapping (CodeDeploy -> ECS-native):" in out
    assert f"role {ROLE[1]}" in out
    assert (
        f"Apply with: bluegreen migrate apply --cluster prod --service web {' '.join(ROLE)}" in out
    )
    assert unchanged(sim)


def test_plan_json_is_one_plan_object(env, capsys):
    code, out, err = run(capsys, "migrate", "plan", *SERVICE, *ROLE, "--output", "json")

    assert code == 0, err
    [plan] = json_lines(out)
    assert plan["type"] == "plan"
    assert plan["ok"] is True
    assert plan["service"] == "web"
    assert plan["deployment_group"] == env.deployment_group
    assert plan["create_role"] == ROLE[1]
    assert [rule["role"] for rule in plan["rules"]] == ["production", "test"]
    assert plan["deployment_configuration"]["strategy"] == "BLUE_GREEN"


def test_plan_of_a_service_already_native_lists_the_problem_and_exits_2(sim, capsys):
    sim.create_environment(native=True)

    code, out, err = run(capsys, "migrate", "plan", "--cluster", "prod", "--service", "web-native")

    assert code == 2
    assert "already" in out
    assert "apply would refuse it" in err


# -- apply and revert -------------------------------------------------------------------------


def test_apply_shows_each_step_as_done_then_revert_puts_codedeploy_back(sim, env, capsys):
    code, out, err = run(capsys, "migrate", "apply", *SERVICE, *ROLE, "--accept-differences")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Migrating prod/web from CodeDeploy to ECS-native blue/green"
    steps = [line for line in lines if line.startswith("  - ")]
    assert len(steps) >= 4  # record, role, rules, UpdateService, check...
    assert any("Migrated: prod/web deploys ECS-native now" in line for line in lines)
    assert "bluegreen migrate revert --cluster prod --service web" in out
    assert service(sim)["deploymentController"] == {"type": "ECS"}
    assert migration_tags(sim)["bluegreen:migration"].startswith("applied")

    code, out, err = run(capsys, "migrate", "revert", *SERVICE)

    assert code == 0, err
    assert out.splitlines()[0] == "Reverting prod/web to CodeDeploy blue/green"
    assert "Reverted: prod/web deploys through CodeDeploy again" in out
    assert unchanged(sim)


def test_apply_and_revert_json_are_one_object_per_line_plan_steps_done(sim, env, capsys):
    code, out, err = run(
        capsys, "migrate", "apply", *SERVICE, *ROLE, "--accept-differences", "--output", "json"
    )

    assert code == 0, err
    lines = json_lines(out)
    assert [line["type"] for line in lines[:1]] == ["plan"]
    assert {line["type"] for line in lines[1:-1]} == {"step"}
    assert all(line["action"] == "apply" for line in lines[1:-1])
    done = lines[-1]
    assert done["type"] == "done"
    assert done["action"] == "apply"
    assert done["verified"] is True
    assert done["exit_code"] == 0
    assert done["steps"] == [line["step"] for line in lines[1:-1]]

    code, out, err = run(capsys, "migrate", "revert", *SERVICE, "--output", "json")

    assert code == 0, err
    lines = json_lines(out)
    assert lines[-1]["type"] == "done"
    assert lines[-1]["action"] == "revert"
    assert {line["type"] for line in lines[:-1]} == {"step"}


def test_apply_verified_by_a_native_deployment_names_it(sim, env, capsys):
    code, out, err = run(
        capsys,
        "migrate",
        "apply",
        *SERVICE,
        *ROLE,
        "--accept-differences",
        "--verify",
        "deploy",
        "--output",
        "json",
    )

    assert code == 0, err
    done = json_lines(out)[-1]
    assert "service-deployment/prod/web/" in done["verify_deployment"]


def test_apply_without_a_role_is_refused_before_any_change(sim, env, capsys):
    code, _, err = run(capsys, "migrate", "apply", *SERVICE, "--accept-differences")

    assert code == 2
    assert "--create-role" in err
    assert unchanged(sim)


def test_apply_with_differences_not_accepted_lists_them_and_changes_nothing(sim, capsys):
    sim.create_environment(auto_rollback_events=())  # native always rolls a failure back

    code, _, err = run(capsys, "migrate", "apply", *SERVICE, *ROLE)

    assert code == 2
    assert "--accept-differences" in err
    assert "Traceback" not in err
    assert unchanged(sim)


def test_apply_while_a_codedeploy_deployment_is_in_flight_is_refused(sim, env, capsys):
    code, _, err = run(
        capsys, "deploy", *SERVICE, "--image", "public.ecr.aws/nginx/nginx:1.28", "--no-wait"
    )
    assert code == 0, err

    code, _, err = run(capsys, "migrate", "apply", *SERVICE, *ROLE, "--accept-differences")

    assert code == 2
    assert "in flight" in err or "in progress" in err
    assert unchanged(sim)


def test_an_aws_failure_is_undone_and_exits_4_with_what_was_undone(sim, env, capsys):
    sim.faults.server_error("CreateRule", service="elasticloadbalancing", count=1000)

    code, out, err = run(
        capsys, "migrate", "apply", *SERVICE, *ROLE, "--accept-differences", "--output", "json"
    )

    assert code == 4
    failed = json_lines(out)[-1]
    assert failed["type"] == "failed"
    assert failed["action"] == "apply"
    assert failed["undone"]
    assert err.startswith("bluegreen: ")
    assert "undone:" in err
    assert "Traceback" not in err
    sim.faults.clear()
    assert unchanged(sim)


def test_revert_without_a_migration_is_refused_with_exit_2(sim, env, capsys):
    code, _, err = run(capsys, "migrate", "revert", *SERVICE)

    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert unchanged(sim)


def test_role_and_create_role_together_are_a_usage_error(env, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["migrate", "plan", *SERVICE, "--role", "arn:aws:iam::123456789012:role/x", *ROLE])

    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_an_unreadable_appspec_exits_2_in_one_line_without_a_traceback(tmp_path):
    """The one subprocess test: the installed command, no AWS needed (refused first)."""
    missing = tmp_path / "appspec.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "bluegreen", "migrate", "plan", *SERVICE, "--appspec", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert f"--appspec {missing}: cannot be read" in done.stderr


APPSPEC = """\
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/web:1
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 80
Hooks:
  - AfterAllowTestTraffic: CheckGreen
"""


def test_a_failed_verify_deployment_is_undone_and_exits_1(sim, env, capsys, tmp_path):
    """The AppSpec's hook, carried over, fails the no-op native deployment: the migration is
    undone (CodeDeploy again, the role gone) and the exit code is 1, not 4."""
    sim.register_hook("CheckGreen", lambda event, context: {"hookStatus": "FAILED"})
    appspec = tmp_path / "appspec.yaml"
    appspec.write_text(APPSPEC)

    code, out, err = run(
        capsys,
        "migrate",
        "apply",
        *SERVICE,
        *ROLE,
        "--appspec",
        str(appspec),
        "--accept-differences",
        "--verify",
        "deploy",
    )

    assert code == 1, (out, err)
    assert "undone:" in err
    assert "Traceback" not in err
    assert unchanged(sim)


def test_plan_carries_the_appspecs_hooks_to_their_stages(sim, env, capsys, tmp_path):
    sim.register_hook("CheckGreen", lambda event, context: {"hookStatus": "SUCCEEDED"})
    appspec = tmp_path / "appspec.yaml"
    appspec.write_text(APPSPEC)

    code, out, err = run(
        capsys, "migrate", "plan", *SERVICE, *ROLE, "--appspec", str(appspec), "--output", "json"
    )

    assert code == 0, err
    [plan] = json_lines(out)
    [hook] = plan["hooks"]
    assert hook["event"] == "AfterAllowTestTraffic"
    assert hook["stage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert hook["function_arn"].endswith(":function:CheckGreen")
    assert plan["differences"]  # CheckGreen is not a ready-made hook: it must answer ECS
    # ECS invokes it with the infrastructure role (no --hook-role): the role may invoke it
    statements = plan["role_policy"]["document"]["Statement"]
    invoke = next(s for s in statements if s["Sid"] == "InvokeHookFunctions")
    assert invoke["Resource"] == [hook["function_arn"]]


def test_a_refusal_with_json_output_is_a_failed_object_too(sim, capsys):
    sim.create_environment(auto_rollback_events=())

    code, out, err = run(capsys, "migrate", "apply", *SERVICE, *ROLE, "--output", "json")

    assert code == 2
    lines = json_lines(out)
    assert [line["type"] for line in lines] == ["plan", "failed"]
    assert lines[-1]["error"] == "ValidationError"
    assert lines[-1]["undone"] == []
    assert "--accept-differences" in err
    assert unchanged(sim)
