"""``bluegreen appspec --task-definition``: the task definition must exist and be ACTIVE
(ecs:DescribeTaskDefinition), unless ``--no-check``. In-process against the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploying import Deployer
from deploying import run_cli as run

from bluegreen import AppSpec

MINIMAL = str(Path(__file__).parent.parent / "appspecs" / "minimal.yaml")
SERVICE = ("--cluster", "prod", "--service", "web")


def arn(d: Deployer, revision: int) -> str:
    return d.env.task_definition_arn.rsplit(":", 1)[0] + f":{revision}"


def describes(sim: Any) -> list[str]:
    return [op for _, _, op in sim.api_calls("ecs") if op == "DescribeTaskDefinition"]


def test_a_task_definition_that_does_not_exist_exits_2_and_prints_nothing(sim, capsys):
    d = Deployer.create(sim)
    missing = arn(d, 99)

    code, out, err = run(capsys, "appspec", *SERVICE, "--task-definition", missing)

    assert code == 2
    assert out == ""
    assert f"task definition '{missing}' does not exist in us-east-1" in err
    assert "--no-check" in err


def test_a_deregistered_task_definition_exits_2_saying_it_was_deregistered(sim, capsys):
    d = Deployer.create(sim)
    old = d.register_revision()
    d.ecs.deregister_task_definition(taskDefinition=old)

    code, out, err = run(capsys, "appspec", *SERVICE, "--task-definition", old)

    assert code == 2
    assert out == ""
    assert f"task definition {old} was deregistered (INACTIVE)" in err


def test_a_registered_revision_renders_and_is_checked_against_its_containers(sim, capsys):
    d = Deployer.create(sim)
    good = d.register_revision()
    other = d.register_revision(container_name="api")

    code, out, err = run(capsys, "appspec", *SERVICE, "--task-definition", good)

    assert code == 0, err
    assert AppSpec.parse(out).task_definition == good

    code, out, err = run(capsys, "appspec", *SERVICE, "--task-definition", other)

    assert code == 2
    assert out == ""
    assert "'web'" in err  # the service's container is not in that revision


def test_no_check_renders_without_looking_the_task_definition_up(sim, capsys):
    d = Deployer.create(sim)
    missing = arn(d, 99)
    sim.calls.clear()

    code, out, err = run(capsys, "appspec", *SERVICE, "--task-definition", missing, "--no-check")

    assert code == 0, err
    assert AppSpec.parse(out).task_definition == missing
    assert describes(sim) == []


def test_a_file_is_checked_on_request(sim, capsys):
    d = Deployer.create(sim)
    missing = arn(d, 99)

    code, out, err = run(
        capsys, "appspec", "--from", MINIMAL, "--task-definition", missing, "--check"
    )

    assert code == 2
    assert out == ""
    assert f"task definition '{missing}' does not exist" in err
