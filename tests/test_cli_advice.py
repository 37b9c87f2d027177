"""Advice in the reader's words: the same bad input says which flag to give on the command
line and which keyword argument to pass in Python.

The command runs in-process (``bluegreen.cli.main``) with the audience ``bluegreen`` sets;
Python calls run with the default audience. Against the simulator, through real clients.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from deploying import Deployer

import bluegreen.cli
import bluegreen.cli._clock
from bluegreen import ResourceNotFoundError, TrafficConfig, TrafficConfigError
from bluegreen._advice import audience
from bluegreen.deploying import plan
from bluegreen.discovery import discover

SERVICE = ("--cluster", "prod", "--service", "web")
NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
CURRENT_IMAGE = "public.ecr.aws/nginx/nginx:1.27"  # what the sample service runs
KEYWORDS = (
    "allow_mutable_image_tags",
    "task_definition",
    "traffic_config",
    "TrafficConfig",
    "application=",
    "deployment_group",
    "suspend_scaling",
    "check_hooks",
    "hooks=",
    "Deployment.attach",
    "get_deployment_config",
    "bluegreen.recover",
)
# Python call syntax in a message: `name=True`, `name=`, `f(...)`.
PYTHON_FORMS = re.compile(r"\b[a-z_]+=(True|False|\(|'|\"|\s|$)|\(\.\.\.")


@pytest.fixture
def cli(sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``bluegreen ARGV`` in-process, speaking to a command-line user as ``bluegreen`` does."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: sim.clock)

    def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
        code = bluegreen.cli.main(list(argv))  # main speaks CLI, and hands Python back
        out, err = capsys.readouterr()
        return code, out + err

    return run


def python_plan(sim: Any, **kwargs: Any) -> str:
    assert audience() == "python"
    return "\n".join(plan("prod", "web", clients=sim.clients(), **kwargs).problems)


def assert_cli_words(text: str) -> None:
    """No keyword argument, no ``=True``, no Python call in what the command printed."""
    for word in KEYWORDS:
        assert word not in text, word
    assert PYTHON_FORMS.search(text) is None, PYTHON_FORMS.search(text)


# -- plan / deploy -------------------------------------------------------------------------


def test_a_mutable_image_tag(sim, cli, capsys):
    Deployer.create(sim)

    code, text = cli(capsys, "plan", *SERVICE, "--image", "nginx:latest")

    assert code == 2
    assert "(or add --allow-mutable-image-tags)" in text
    assert_cli_words(text)
    assert "(or pass allow_mutable_image_tags=True)" in python_plan(sim, image="nginx:latest")


def test_the_image_the_service_runs_already(sim, cli, capsys):
    d = Deployer.create(sim)

    code, text = cli(capsys, "deploy", *SERVICE, "--image", CURRENT_IMAGE)

    assert code == 2
    assert f"give --task-definition {d.env.task_definition_arn} instead" in text
    assert_cli_words(text)
    expected = f"pass task_definition='{d.env.task_definition_arn}' instead"
    assert expected in python_plan(sim, image=CURRENT_IMAGE)


def test_a_deployment_config_that_does_not_exist(sim, cli, capsys):
    Deployer.create(sim)

    code, text = cli(capsys, "plan", *SERVICE, "--image", NEW_IMAGE, "--config", "Mine")

    assert code == 2
    assert "give --canary PERCENT/MINUTES or --linear PERCENT/MINUTES" in text
    assert_cli_words(text)
    assert "pass a TrafficConfig" in python_plan(sim, image=NEW_IMAGE, traffic_config="Mine")


def test_another_deployment_in_flight(sim, cli, capsys):
    d = Deployer.create(sim)
    active = d.deploy()

    code, text = cli(capsys, "plan", *SERVICE, "--image", NEW_IMAGE)

    assert code == 2
    assert f"`bluegreen wait --deployment-id {active}`" in text
    assert f"`bluegreen abort --deployment-id {active}`" in text
    assert_cli_words(text)
    problems = python_plan(sim, image=NEW_IMAGE)
    assert f'bluegreen.Deployment.attach("{active}").wait()' in problems
    assert "bluegreen wait" not in problems


def test_scaling_left_alone(sim, cli, capsys):
    Deployer.create(sim)

    code, text = cli(capsys, "plan", *SERVICE, "--image", NEW_IMAGE, "--no-suspend-scaling")

    assert code == 0, text
    assert "scaling is not suspended (--no-suspend-scaling)" in text
    assert_cli_words(text)
    the_plan = plan("prod", "web", image=NEW_IMAGE, suspend_scaling=False, clients=sim.clients())
    assert "(suspend_scaling=False)" in str(the_plan)


# -- a custom traffic config on the deploy command -----------------------------------------


def test_deploy_takes_a_custom_canary_and_creates_it(sim, cli, capsys):
    d = Deployer.create(sim)

    code, text = cli(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--canary", "20/10")

    assert code == 0, text
    config = d.codedeploy.get_deployment_config(deploymentConfigName="Canary20Percent10Minutes")
    routing = config["deploymentConfigInfo"]["trafficRoutingConfig"]["timeBasedCanary"]
    assert (routing["canaryPercentage"], routing["canaryInterval"]) == (20, 10)
    (deployment_id,) = d.codedeploy.list_deployments(
        applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
    )["deployments"]
    info = d.info(deployment_id)
    assert info["deploymentConfigName"] == "Canary20Percent10Minutes"


def test_plan_with_a_custom_linear_shows_it_will_be_created(sim, cli, capsys):
    Deployer.create(sim)

    code, text = cli(capsys, "plan", *SERVICE, "--image", NEW_IMAGE, "--linear", "25/2")

    assert code == 0, text
    assert "Traffic: Linear25PercentEvery2Minutes" in text
    assert "(created by deploy)" in text


def test_a_bad_custom_config_is_refused_before_any_call(sim, cli, capsys):
    Deployer.create(sim)
    sim.calls.clear()

    code, text = cli(capsys, "deploy", *SERVICE, "--image", NEW_IMAGE, "--canary", "0/10")

    assert code == 2
    assert "--canary 0/10: canary percentage must be a whole number from 1 to 99" in text
    assert list(sim.api_calls()) == []


# -- discovery and schedule ----------------------------------------------------------------


def test_no_deployment_group_for_the_service(sim, cli, capsys):
    d = Deployer.create(sim)
    d.ecs.create_service(
        cluster="prod",
        serviceName="api",
        taskDefinition=d.env.task_definition_arn,
        desiredCount=0,
        deploymentController={"type": "CODE_DEPLOY"},
    )

    code, text = cli(capsys, "inspect", "--cluster", "prod", "--service", "api")

    assert code == 4
    assert "give --application and --deployment-group" in text
    assert_cli_words(text)
    with pytest.raises(ResourceNotFoundError, match="pass application= and deployment_group="):
        discover("prod", "api", clients=sim.clients())


def test_schedule_of_a_custom_name(cli, capsys):
    code, text = cli(capsys, "schedule", "Canary20Percent10Minutes")

    assert code == 2
    assert "give --canary PERCENT/MINUTES or --linear PERCENT/MINUTES" in text
    assert_cli_words(text)
    with pytest.raises(TrafficConfigError, match=r"get_deployment_config\(name\)"):
        TrafficConfig.named("Canary20Percent10Minutes")
