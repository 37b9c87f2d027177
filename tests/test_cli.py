"""The ``bluegreen`` command, run in-process (the simulator answers its AWS calls)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import bluegreen
from bluegreen import AppSpec
from bluegreen.cli import main

APPSPECS = Path(__file__).parent.parent / "appspecs"
MINIMAL = str(APPSPECS / "minimal.yaml")
ALL_HOOKS = str(APPSPECS / "fargate-canary-all-hooks.yaml")


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``bluegreen ARGV``."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def argparse_exit(capsys, *argv):
    """(exit code, stderr) of a command line argparse refuses."""
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    return caught.value.code, capsys.readouterr().err


# -- schedule ----------------------------------------------------------------------------


def test_schedule_prints_each_shift_and_the_longest_total(capsys):
    code, out, _ = run(
        capsys,
        "schedule",
        "CodeDeployDefault.ECSCanary10Percent5Minutes",
        "--termination-wait",
        "60",
    )

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "CodeDeployDefault.ECSCanary10Percent5Minutes (canary 10% then the rest after 5 min)"
    )
    assert "+   0 min  green  10%  blue  90%" in lines[1]
    assert "+   5 min  green 100%  blue   0%" in lines[2]
    assert lines[-1].split() == ["total", "up", "to", "65", "min"]


def test_schedule_json_for_a_custom_canary(capsys):
    code, out, _ = run(
        capsys, "schedule", "--canary", "20/10", "--ready-wait", "30", "--output", "json"
    )

    assert code == 0
    assert json.loads(out) == {
        "config": "Canary20Percent10Minutes",
        "steps": [{"minute": 0, "green_percent": 20}, {"minute": 10, "green_percent": 100}],
        "ready_wait_minutes": 30,
        "shift_minutes": 10,
        "termination_wait_minutes": 0,
        "total_minutes": 40,
    }


def test_schedule_json_for_a_custom_linear_ends_at_100_percent(capsys):
    code, out, _ = run(capsys, "schedule", "--linear", "30/2", "--output", "json")

    assert code == 0
    steps = [(s["minute"], s["green_percent"]) for s in json.loads(out)["steps"]]
    assert steps == [(0, 30), (2, 60), (4, 90), (6, 100)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--canary", "20"], "--canary '20' must look like PERCENT/MINUTES"),
        (["--linear", "ten/5"], "--linear 'ten/5' must look like PERCENT/MINUTES"),
        (["--canary", "100/5"], "canary percentage must be a whole number from 1 to 99"),
        (["--linear", "10/0"], "linear interval must be a whole number of minutes"),
        (["CodeDeployDefault.ECSCanary50Percent"], "is not a predefined ECS config"),
    ],
)
def test_schedule_rejects_bad_input_with_exit_2_and_says_why(capsys, argv, message):
    code, out, err = run(capsys, "schedule", *argv)

    assert code == 2
    assert out == ""
    assert err.startswith("bluegreen: ")
    assert message in err


# -- argument errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["undeploy"], "invalid choice: 'undeploy'"),
        (["schedule"], "one of the arguments config --canary --linear is required"),
        (["schedule", "--canary", "10/5", "--linear", "10/1"], "not allowed with argument"),
        (["schedule", "--canary", "10/5", "--termination-wait", "-5"], "whole number of minutes"),
        (["inspect", "--cluster", "prod"], "the following arguments are required: --service"),
        (["appspec", "--from", MINIMAL, "--format", "toml"], "invalid choice: 'toml'"),
    ],
)
def test_argument_errors_exit_2_with_usage(capsys, argv, message):
    code, err = argparse_exit(capsys, *argv)

    assert code == 2
    assert "usage: bluegreen" in err
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give either --from FILE or --cluster and --service"),
        (["--from", MINIMAL, "--cluster", "prod"], "give either --from FILE or --cluster"),
        (["--from", "no-such-appspec.yaml"], "--from no-such-appspec.yaml: cannot read it"),
        (["--from", MINIMAL, "--hook", "AfterInstall"], "must look like EVENT=FUNCTION"),
        (["--cluster", "prod", "--service", "web"], "--task-definition are all needed"),
        (
            ["--cluster", "prod", "--service", "web", "--application", "AppECS-prod-web"],
            "give --application and --deployment-group together",
        ),
    ],
)
def test_appspec_argument_mistakes_exit_2_before_any_aws_call(capsys, argv, message):
    code, out, err = run(capsys, "appspec", *argv)

    assert code == 2
    assert out == ""
    assert message in err


# -- appspec from a file ------------------------------------------------------------------


def test_appspec_from_a_file_prints_it_as_yaml(capsys):
    code, out, _ = run(capsys, "appspec", "--from", MINIMAL)

    assert code == 0
    assert AppSpec.parse(out) == AppSpec.parse(Path(MINIMAL).read_text())
    assert out.startswith("version: 0.0\nResources:\n")


def test_appspec_json_with_sha256_prints_the_hash_of_exactly_what_it_printed(capsys):
    code, out, err = run(capsys, "appspec", "--from", ALL_HOOKS, "--format", "json", "--sha256")

    assert code == 0
    assert AppSpec.parse(out) == AppSpec.parse(Path(ALL_HOOKS).read_text())
    assert json.loads(out)["version"] == 0.0
    assert err == f"# sha256: {hashlib.sha256(out.encode()).hexdigest()}\n"


def test_appspec_from_a_file_takes_a_new_task_definition_and_extra_hooks(capsys):
    new = "arn:aws:ecs:us-east-1:123456789012:task-definition/minimal:2"

    code, out, _ = run(
        capsys,
        "appspec",
        "--from",
        MINIMAL,
        "--task-definition",
        new,
        "--hook",
        "AfterAllowTestTraffic=CodeDeployHook_verify",
    )

    assert code == 0
    spec = AppSpec.parse(out)
    assert spec.task_definition == new
    assert spec.hook_for("AfterAllowTestTraffic") == "CodeDeployHook_verify"


def test_appspec_with_an_invalid_task_definition_exits_2_listing_the_problem(capsys):
    code, out, err = run(
        capsys, "appspec", "--from", MINIMAL, "--task-definition", "minimal:latest"
    )

    assert code == 2
    assert out == ""
    assert "Invalid revision number. Number: latest" in err


@pytest.fixture
def mutable_task_definition(tmp_path):
    """describe-task-definition output for minimal.yaml's task, with movable image tags."""
    path = tmp_path / "task-definition.json"
    path.write_text(
        json.dumps(
            {
                "taskDefinition": {
                    "family": "minimal",
                    "revision": 1,
                    "networkMode": "awsvpc",
                    "containerDefinitions": [
                        {
                            "name": "app",
                            "image": "public.ecr.aws/nginx/nginx:latest",
                            "portMappings": [{"containerPort": 80}],
                        },
                        {"name": "log-router", "image": "fluent/fluent-bit"},
                    ],
                }
            }
        )
    )
    return str(path)


def test_appspec_check_against_a_latest_image_exits_2_listing_each_container(
    capsys, mutable_task_definition
):
    code, out, err = run(
        capsys, "appspec", "--from", MINIMAL, "--check-against", mutable_task_definition
    )

    assert code == 2
    assert out == ""
    assert "AppSpec is invalid (2 problems)" in err
    assert "container 'app' uses image 'public.ecr.aws/nginx/nginx:latest'" in err
    assert "container 'log-router' uses image 'fluent/fluent-bit'" in err


def test_appspec_check_against_passes_when_mutable_tags_are_allowed(
    capsys, mutable_task_definition
):
    code, out, _ = run(
        capsys,
        "appspec",
        "--from",
        MINIMAL,
        "--check-against",
        mutable_task_definition,
        "--allow-mutable-image-tags",
    )

    assert code == 0
    assert AppSpec.parse(out).container_name == "app"


def test_appspec_check_against_a_file_that_is_not_json_exits_2(capsys, tmp_path):
    path = tmp_path / "task-definition.json"
    path.write_text("family: minimal\n")

    code, _, err = run(capsys, "appspec", "--from", MINIMAL, "--check-against", str(path))

    assert code == 2
    assert "not JSON" in err


# -- against the simulator ----------------------------------------------------------------


def test_appspec_for_the_live_service_carries_its_network_and_container(capsys, env):
    import boto3

    ecs = boto3.client("ecs")
    current = ecs.describe_task_definition(taskDefinition=env.task_definition_arn)
    definition = current["taskDefinition"]
    registered = ecs.register_task_definition(
        family=definition["family"],
        containerDefinitions=definition["containerDefinitions"],
        networkMode=definition["networkMode"],
        requiresCompatibilities=definition.get("requiresCompatibilities", []),
        cpu=definition.get("cpu", "256"),
        memory=definition.get("memory", "512"),
    )
    new = registered["taskDefinition"]["taskDefinitionArn"]

    code, out, _ = run(
        capsys,
        "appspec",
        "--cluster",
        "prod",
        "--service",
        "web",
        "--task-definition",
        new,
        "--hook",
        "AfterAllowTestTraffic=CodeDeployHook_verify",
    )

    assert code == 0
    spec = AppSpec.parse(out)
    assert spec.task_definition == new
    assert (spec.container_name, spec.container_port) == ("web", 80)
    assert spec.platform_version == "1.4.0"
    assert spec.network_configuration.subnets == env.subnets
    assert spec.network_configuration.security_groups == (env.security_group,)
    assert spec.hook_for("AfterAllowTestTraffic") == "CodeDeployHook_verify"


def test_inspect_json_shows_blue_weights_and_the_deployment_group(capsys, env):
    code, out, _ = run(
        capsys, "inspect", "--cluster", "prod", "--service", "web", "--output", "json"
    )

    assert code == 0
    state = json.loads(out)
    assert state["deployment_controller"] == "CODE_DEPLOY"
    assert state["blue"]["task_definition"] == env.task_definition_arn
    assert state["blue"]["target_group"] == "web-blue"
    assert (state["blue"]["production_percent"], state["blue"]["test_percent"]) == (100.0, 100.0)
    assert state["green"] is None
    assert state["production_listener"]["weights"] == {"web-blue": 100.0}
    assert state["test_listener"]["port"] == 8080
    assert state["deployment_group"] == {
        "application": "AppECS-prod-web",
        "name": "DgpECS-prod-web",
        "deployment_config": "CodeDeployDefault.ECSAllAtOnce",
    }
    assert state["deployment_id"] is None


def test_inspect_text_is_the_service_state_summary(capsys, env):
    code, out, _ = run(capsys, "inspect", "--cluster", "prod", "--service", "web")

    assert code == 0
    assert out.startswith("<ServiceState web in prod: CODE_DEPLOY, desired 2, running 2\n")
    assert "codedeploy AppECS-prod-web/DgpECS-prod-web" in out


def test_inspect_of_a_missing_service_exits_4_naming_it(capsys, env):
    code, out, err = run(capsys, "inspect", "--cluster", "prod", "--service", "webb")

    assert code == 4
    assert out == ""
    assert "service 'webb' in cluster 'prod' (us-east-1) not found" in err


def test_inspect_with_a_region_flag_looks_in_that_region(capsys, env):
    code, _, err = run(
        capsys, "inspect", "--cluster", "prod", "--service", "web", "--region", "eu-west-1"
    )

    assert code == 4
    assert "(eu-west-1) not found" in err


def test_inspect_reports_a_deployment_in_flight(capsys, sim, env):
    # Redeploying the running revision is enough to put a deployment in flight.
    spec = AppSpec.parse(
        run(
            capsys,
            "appspec",
            "--cluster",
            "prod",
            "--service",
            "web",
            "--task-definition",
            env.task_definition_arn,
        )[1]
    )
    deployment_id = boto3.client("codedeploy").create_deployment(
        applicationName=env.application,
        deploymentGroupName=env.deployment_group,
        revision=spec.revision(),
    )["deploymentId"]
    sim.run_until(lambda: sim.deployment(deployment_id).green_arn is not None)

    _, out, _ = run(capsys, "inspect", "--cluster", "prod", "--service", "web", "--output", "json")

    state = json.loads(out)
    assert state["deployment_id"] == deployment_id
    assert state["green"]["external_id"] == deployment_id
    assert state["green"]["target_group"] == "web-green"


# -- the installed command -----------------------------------------------------------------


def test_importing_bluegreen_and_building_the_parser_loads_no_rich():
    code = (
        "import sys, bluegreen, bluegreen.cli; bluegreen.cli.build_parser(); "
        "print('rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_python_m_bluegreen_version():
    result = subprocess.run(
        [sys.executable, "-m", "bluegreen", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.strip() == f"bluegreen {bluegreen.__version__}"


def test_output_to_a_reader_that_went_away_exits_141_saying_nothing():
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` that has already exited
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bluegreen", "schedule", "--linear", "10/1"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)

    assert (result.returncode, result.stderr) == (141, "")
